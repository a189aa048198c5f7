"""The demo's event handlers (:class:`Demo`): model calls (segment, another variant, another
neighbour, every variant side by side) and the redrawing of the last result (a clicked
point, another attention level, the gates), each returning what the page shows.
:mod:`apps.demo.layout` wires them to the page."""

from __future__ import annotations

import logging
import time
from typing import Any

import gradio as gr
import numpy as np

from apps.demo.images import ImageFiles, read_upload, working
from apps.demo.models import Models, Result, ResultCache
from apps.demo.notes import (
    EMPTY_TABLE,
    VARIANT_LABEL,
    candidate_choices,
    candidates_table,
    escape_md,
    latency_md,
    neighbour_md,
    status_error,
    status_ok,
    subscript,
    training_summary,
)
from tvnet import InputError, heatmap, overlay

log = logging.getLogger("tvnet.demo")

OUTPUTS = (  # what a model call returns, in order (the session's state key comes last)
    "overlay",
    "status",
    "neighbour",
    "neighbour_caption",
    "attention",
    "attention_caption",
    "a2",
    "a2_caption",
    "gates",
    "candidates",
    "candidate",
    "latency",
    "mask",
    "summary",
)


class Demo:
    """The event handlers, sharing the models, the recent results and the picture files."""

    def __init__(self, models: Models):
        self.models = models
        self.cache = ResultCache()
        self.files = ImageFiles()

    # -- drawing (no model call) --------------------------------------------------------------
    def attention(self, r: Result, level: int) -> tuple[Any, str]:
        pred = r.pred
        if pred.neighbour is None or not pred.attention:
            return None, "*No cross-image attention: this variant has no RES stage.*"
        amap = pred.attention_map(int(level), r.point)
        img = self.files(
            heatmap(pred.neighbour.image, pred.grid_to_image(amap, pred.neighbour_letterbox))
        )
        if r.point is None:
            n = len(pred.query_cells(None, pred.attention_grid(int(level))))
            who = (
                f"the predicted referent's {n} grid cell{'s' * (n != 1)} (mean of their rows) look"
            )
        else:
            who = f"the clicked point ({r.point[0]:.0f}, {r.point[1]:.0f}) looks"
        return img, (
            f"**A{subscript(level)}** (Eq. 1): where {who} in the neighbour; softmax over its "
            f"positions, peak {float(amap.max()):.2g}, colours normalised. "
            "Click the input or the mask to pick a point."
        )

    def a2(self, r: Result) -> tuple[Any, str]:
        pred = r.pred
        if pred.a2 is None:
            return None, f"*No A₂: variant `{pred.variant}` has no AMF (only `full` has).*"
        return self.files(heatmap(r.image, pred.grid_to_image(pred.a2, pred.letterbox))), (
            f"**A₂** (Eq. 5): how much high-resolution detail AMF lets through at each position "
            f"(σ, {float(pred.a2.min()):.2f}–{float(pred.a2.max()):.2f}; colours normalised)."
        )

    def gates(self, r: Result, show: bool) -> list:
        pred = r.pred
        if not show or not pred.gates:
            return []
        return [
            (
                self.files(heatmap(r.image, pred.grid_to_image(g, pred.letterbox))),
                f"level {lvl}: mean {float(g.mean()):.2f}, {float(g.min()):.2f}–{float(g.max()):.2f}",
            )
            for lvl, g in zip((3, 4, 5), pred.gates)
        ]

    def summary(self, r: Result) -> dict[str, Any]:
        pred, nb = r.pred, r.pred.neighbour
        return {
            "variant": pred.variant,
            "expression": r.expression,
            "mask_fraction": round(r.mask_pixels / (r.size[0] * r.size[1]), 5),
            "mask_pixels": r.mask_pixels,
            "size": list(r.size),
            "neighbour": None
            if nb is None
            else {
                "pool_index": nb.index,
                "image_id": nb.image_id,
                "sample_id": nb.sample_id,
                "sentence": nb.sentence,
                "retrieved": nb.index == r.retrieved,
            },
            "unknown_words": pred.unknown_words,
            "notes": pred.notes,
            "timings_ms": {k: round(v, 1) for k, v in {**pred.timings, **r.extra_ms}.items()},
        }

    def outputs(self, r: Result, key: str, level: int, show_gates: bool) -> list:
        t = time.perf_counter()
        pred, nb = r.pred, r.pred.neighbour
        forced = nb is not None and nb.index != r.retrieved
        att, att_caption = self.attention(r, level)
        a2, a2_caption = self.a2(r)
        drawn = [
            self.files(overlay(r.image, pred.mask, point=r.point)),
            status_ok(pred, forced),
            None if nb is None else self.files(nb.image),
            neighbour_md(pred, forced, r.candidates),
            att,
            att_caption,
            a2,
            a2_caption,
            self.gates(r, show_gates),
            candidates_table(r),
            gr.Dropdown(
                choices=candidate_choices(r) if nb is not None else [],
                value=None if nb is None else nb.index,
                interactive=nb is not None,
            ),
        ]
        r.extra_ms["render"] = (time.perf_counter() - t) * 1000
        return [
            *drawn,
            latency_md(pred.timings, r.extra_ms),
            r.mask_png,
            self.summary(r),
            key,
        ]

    @staticmethod
    def failed(message: str, key: str | None = None) -> list:
        """A message in the page, every other output cleared."""
        cleared = {
            "status": status_error(message),
            "gates": [],
            "candidates": EMPTY_TABLE,
            "candidate": gr.Dropdown(choices=[], value=None),
        }
        return [cleared.get(name, "" if name.endswith("caption") else None) for name in OUTPUTS] + [
            key
        ]

    @staticmethod
    def unchanged(key: str | None) -> list:
        return [gr.skip()] * len(OUTPUTS) + [key]

    # -- model calls ------------------------------------------------------------------------
    def run(self, image, expression, level, show_gates, variant, neighbour=None, prev=None):
        """One model call, shared by Segment (``image``, ``expression``) and by the variant
        switch and the neighbour choice (``prev``: the result whose input they reuse)."""
        try:
            read_ms = {}
            if prev is None:
                t = time.perf_counter()
                raw = read_upload(image)
                read_ms = {"read": (time.perf_counter() - t) * 1000}
                expression = "" if expression is None else str(expression)
            else:
                raw, expression = prev.image, prev.expression
            if self.models.get(variant).retriever is None:
                neighbour = None
            pred = self.models.predict(variant, raw, expression, neighbour=neighbour)
            nb = pred.neighbour
            if prev is not None and prev.candidates is not None:
                candidates, retrieved = prev.candidates, prev.retrieved
            else:  # this call ran the retrieval (or there is none)
                candidates = None if nb is None else nb.candidates
                retrieved = None if nb is None else nb.index
            shown, drawn = working(raw, pred)  # prev.image stays as it is
            if prev is None:
                size, scale = (int(raw.shape[1]), int(raw.shape[0])), shown.shape[1] / raw.shape[1]
            else:  # the model read prev.image: its mask goes back up to the upload's size
                size, scale = prev.size, prev.scale
            full = pred.resized((size[1], size[0])).mask  # only the file keeps the upload size
            r = Result(
                shown,
                scale,
                expression,
                drawn,
                candidates,
                retrieved,
                mask_png=self.files(full.astype(np.uint8) * 255, "png"),
                size=size,
                mask_pixels=int(full.sum()),
            )
            r.extra_ms.update(read_ms)
            return self.outputs(r, self.cache.put(r), level, show_gates)
        except InputError as e:
            return self.failed(str(e))
        except Exception as e:  # never a stack trace in the page
            log.exception("segmentation failed")
            return self.failed(f"internal error ({type(e).__name__}: {e})")

    def segment(self, image, expression, level=5, show_gates=False, variant=None):
        """Segment the object that ``expression`` refers to in ``image``.

        Returns the mask overlay, a status message, the retrieved neighbour and its caption,
        the A_l heatmap over the neighbour and its caption, the A_2 heatmap over the input and
        its caption, the gates, the top-20 candidates, the candidate choice, the latency per
        stage, the binary mask and a JSON summary."""
        return self.run(image, expression, level, show_gates, variant or self.models.main)

    def rerun_variant(self, key, variant, level, show_gates):
        """The last input through another variant (keeping a neighbour the user chose)."""
        try:
            prev = self.cache.get(key)
        except InputError:
            return self.unchanged(key)  # nothing segmented yet: the switch applies next time
        nb = prev.pred.neighbour
        keep = None if nb is None or nb.index == prev.retrieved else nb.index
        return self.run(None, None, level, show_gates, variant, neighbour=keep, prev=prev)

    def choose_neighbour(self, key, index, level=5, show_gates=False, variant=None):
        """Re-run the last segmentation with pool entry ``index`` as the neighbour."""
        try:
            prev = self.cache.get(key)
        except InputError as e:
            return self.failed(str(e), key)
        if index is None or index == "":
            return self.unchanged(key)
        variant = variant or self.models.main
        return self.run(None, None, level, show_gates, variant, neighbour=int(index), prev=prev)

    def choose_row(self, key, level, show_gates, variant, evt: gr.SelectData):
        try:
            prev = self.cache.get(key)
        except InputError as e:
            return self.failed(str(e), key)
        row = int(evt.index[0]) if evt.index is not None else -1
        if prev.candidates is None or not 0 <= row < len(prev.candidates):
            return self.unchanged(key)
        index = int(prev.candidates["index"].iloc[row])
        return self.run(None, None, level, show_gates, variant, neighbour=index, prev=prev)

    def compare(self, image, expression):
        """Every available variant on the same input, side by side (mask overlays)."""
        try:
            img = read_upload(image)
            tiles, rows = [], []
            for v in self.models.variants:
                pred = self.models.predict(v, img, "" if expression is None else expression)
                area, ms, nb = 100 * pred.mask.mean(), pred.timings["total"], pred.neighbour
                shown, drawn = working(img, pred)
                tiles.append(
                    (self.files(overlay(shown, drawn.mask)), f"{v}: {area:.1f} %, {ms:.0f} ms")
                )
                said = f"“{escape_md(nb.sentence)}”" if nb is not None else "— (no retrieval)"
                trained = training_summary(self.models.get(v).info, v)
                rows.append(
                    f"| {VARIANT_LABEL[v]} | {area:.1f} % | {said} | {ms:.0f} ms | {trained} |"
                )
        except InputError as e:
            return [], status_error(str(e))
        except Exception as e:
            log.exception("variant comparison failed")
            return [], status_error(f"internal error ({type(e).__name__}: {e})")
        head = "| variant | mask area | neighbour | latency | training |\n|---|---|---|---|---|\n"
        return tiles, head + "\n".join(rows)

    # -- inspection of the last result (no model call) --------------------------------------
    def pick_point(self, key, level, evt: gr.SelectData, on_input: bool):
        """A clicked point: its own attention row instead of the referent's."""
        try:
            r = self.cache.get(key)
        except InputError as e:
            return gr.skip(), gr.skip(), f"*{e}*"
        x, y = (float(v) for v in evt.index[:2])
        if on_input:  # the upload is shown at its own size; the model saw r.image
            x, y = x * r.scale, y * r.scale
        r.point = (x, y)
        return (self.files(overlay(r.image, r.pred.mask, point=r.point)), *self.attention(r, level))

    def point_on_input(self, key, level, evt: gr.SelectData):
        return self.pick_point(key, level, evt, on_input=True)

    def point_on_mask(self, key, level, evt: gr.SelectData):
        return self.pick_point(key, level, evt, on_input=False)

    def clear_point(self, key, level):
        try:
            r = self.cache.get(key)
        except InputError as e:
            return gr.skip(), gr.skip(), f"*{e}*"
        r.point = None
        return (self.files(overlay(r.image, r.pred.mask)), *self.attention(r, level))

    def change_level(self, key, level):
        try:
            return self.attention(self.cache.get(key), level)
        except InputError as e:
            return gr.skip(), (f"*{e}*" if key else gr.skip())

    def toggle_gates(self, key, show):
        try:
            return self.gates(self.cache.get(key), show)
        except InputError:
            return []
