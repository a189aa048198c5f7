"""TV-Net demo: segment what an expression refers to, and see why the model answered.

    python apps/demo.py [--checkpoint assets/checkpoints/full-grown] [--pool assets/pool]
                        [--host 127.0.0.1] [--port 7860]

One screen: the input and the predicted mask; the neighbour that retrieval (RES stage 1)
fetched, with its expression and scores; the cross-image attention A_l of the predicted
referent (or of a clicked point) over that neighbour; the AMF intensity gate A_2 over the
input; the enrichment gates on request; the top-20 text candidates of the retrieval, any of
which can replace the chosen neighbour; every variant whose checkpoint is present, side by
side; latency per stage.

The model and its pool load once (the other variants lazily, once each); a queue serialises
model calls so concurrent users wait instead of competing for the cores. Imports only the
public API (``tvnet.Predictor``, ``tvnet.InputError``, ``tvnet.MAX_PIXELS``).
"""

from __future__ import annotations

import argparse
import atexit
import base64
import hashlib
import io
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from tvnet import InputError, Predictor, default_checkpoint, lineage, read_image

log = logging.getLogger("tvnet.demo")

REPO = Path(__file__).resolve().parents[1]
ASSETS = Path(os.environ.get("TVNET_ASSETS", REPO / "assets"))
EXAMPLES = ASSETS / "examples"
VARIANTS = ("baseline", "res", "res_cct", "full")  # the paper's Table 1 rows, in order
VARIANT_LABEL = {
    "baseline": "baseline (no RES, no high-res path)",
    "res": "+RES",
    "res_cct": "+RES +concat",
    "full": "TV-Net (+RES +AMF)",
}
CACHE_SIZE = 8  # results kept for re-rendering (attention as float16: ≈ 6 MB each, cpu preset)
MASK_RGB = np.array([34, 211, 238], np.float32)  # cyan fill of the predicted mask
TITLE = "TV-Net · referring image segmentation"


# ---------------------------------------------------------------------------------------------
# pictures


def _lut(name: str = "inferno") -> np.ndarray:
    from matplotlib import colormaps

    return (colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)


_LUTS: dict[str, np.ndarray] = {}


def heatmap(image: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` (H×W, any range) normalised to [0, 1], coloured (inferno) over a greyed
    ``image``; the colour's weight grows with the value, so cold areas still show the image."""
    if "inferno" not in _LUTS:
        _LUTS["inferno"] = _lut("inferno")
    v = np.nan_to_num(np.asarray(values, np.float32))
    lo, hi = float(v.min()), float(v.max())
    v = (v - lo) / (hi - lo) if hi > lo else np.zeros_like(v)
    heat = _LUTS["inferno"][(v * 255).astype(np.uint8)].astype(np.float32)
    grey = image.astype(np.float32).mean(2, keepdims=True) * 0.7 + 40
    a = (0.3 + 0.6 * v)[..., None]
    return (grey * (1 - a) + heat * a).clip(0, 255).astype(np.uint8)


def _edge(mask: np.ndarray, width: int = 2) -> np.ndarray:
    """Boundary pixels of a boolean mask (mask minus its erosion by ``width``)."""
    inner = mask.copy()
    for _ in range(width):
        shrunk = inner.copy()
        shrunk[1:] &= inner[:-1]
        shrunk[:-1] &= inner[1:]
        shrunk[:, 1:] &= inner[:, :-1]
        shrunk[:, :-1] &= inner[:, 1:]
        inner = shrunk
    return mask & ~inner


def overlay(image: np.ndarray, mask: np.ndarray, point: tuple[float, float] | None = None):
    """The mask as a translucent cyan fill with a white outline; an optional clicked point."""
    out = image.astype(np.float32)
    m = mask.astype(bool)
    out[m] = out[m] * 0.45 + MASK_RGB * 0.55
    width = max(1, round(max(mask.shape) / 300))
    out[_edge(m, width)] = 255
    out = out.clip(0, 255).astype(np.uint8)
    if point is not None:
        out = mark_point(out, point)
    return out


def mark_point(image: np.ndarray, point: tuple[float, float]) -> np.ndarray:
    im = Image.fromarray(image)
    draw = ImageDraw.Draw(im)
    x, y = point
    r = max(5, round(max(image.shape[:2]) / 60))
    draw.ellipse((x - r, y - r, x + r, y + r), outline=(255, 60, 60), width=max(2, r // 3))
    draw.line((x - 2 * r, y, x - r, y), fill=(255, 60, 60), width=2)
    draw.line((x + r, y, x + 2 * r, y), fill=(255, 60, 60), width=2)
    draw.line((x, y - 2 * r, x, y - r), fill=(255, 60, 60), width=2)
    draw.line((x, y + r, x, y + 2 * r), fill=(255, 60, 60), width=2)
    return np.asarray(im)


def working(image: np.ndarray, pred) -> tuple[np.ndarray, Any]:
    """The upload and its prediction at the size the model read (a huge upload is
    downscaled): what the page draws."""
    shown = fit(image, pred.work_shape)
    return shown, pred.resized(shown.shape[:2])


def fit(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``image`` resized to ``shape`` (H, W) when it differs (the predictor downscaled it)."""
    if image.shape[:2] == tuple(shape):
        return image
    return np.asarray(Image.fromarray(image).resize((shape[1], shape[0]), Image.BILINEAR))


class ImageFiles:
    """Pictures handed to Gradio as files, each written once under its content hash.

    Gradio saves an array output by re-writing, in place, a file named by its hash; when two
    users get the same picture (the same neighbour, say) one can download it half-written. A
    path output is copied into Gradio's cache once, atomically, so outputs go out as paths."""

    def __init__(self, root: str | Path | None = None, max_age_s: float = 3600):
        if root is None:
            root = tempfile.mkdtemp(prefix="tvnet-demo-")
            atexit.register(shutil.rmtree, root, True)
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_age_s, self._written = max_age_s, 0

    def __call__(self, image: np.ndarray, fmt: str = "jpeg") -> str:
        buf = io.BytesIO()
        Image.fromarray(image).save(
            buf, format=fmt.upper(), **({"quality": 90} if fmt == "jpeg" else {})
        )
        data = buf.getvalue()
        path = self.root / f"{hashlib.sha256(data).hexdigest()[:40]}.{fmt}"
        if not path.exists():
            tmp = path.with_name(f".{uuid.uuid4().hex}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
            self._written += 1
            if self._written % 500 == 0:
                self.prune()
        return str(path)

    def prune(self) -> None:
        """Forget pictures older than ``max_age_s`` (Gradio holds its own copies)."""
        old = time.time() - self.max_age_s
        for f in self.root.iterdir():
            try:
                if f.stat().st_mtime < old:
                    f.unlink()
            except OSError:
                pass


# ---------------------------------------------------------------------------------------------
# input


def read_upload(payload: Any) -> np.ndarray:
    """The uploaded image (a Gradio file payload, a path or an array) → H×W×3 uint8, through
    :func:`tvnet.read_image`, the reader the CLI and the Predictor use too.

    Reading it here rather than in Gradio's preprocessing is what lets a non-image file
    become a message in the page instead of an error."""
    if payload is None:
        raise InputError("no image: upload one (or click an example below)")
    if isinstance(payload, np.ndarray):
        return read_image(payload)
    name, source = "the upload", payload
    if isinstance(payload, dict):
        url, path = payload.get("url") or "", payload.get("path")
        name = payload.get("orig_name") or (Path(path).name if path else name)
        if path:
            source = path
        elif url.startswith("data:") and "," in url:
            source = io.BytesIO(base64.b64decode(url.split(",", 1)[1]))
        else:
            raise InputError("no image: upload one (or click an example below)")
    return read_image(source, name)


# ---------------------------------------------------------------------------------------------
# models and results


class Models:
    """The loaded predictors: the main one at start, the other variants on first use."""

    def __init__(
        self,
        checkpoint: str | Path | None = None,
        pool: str | Path | None = None,
        variants_dir: str | Path | None = None,
        device: str | None = None,
        pool_images: str | Path | None = None,
    ):
        self.pool, self.pool_images, self.device = pool, pool_images, device
        main_dir = Path(checkpoint) if checkpoint else default_checkpoint()
        t = time.perf_counter()
        main = Predictor.from_checkpoint(main_dir, pool, device=device, pool_images=pool_images)
        log.info("loaded %s from %s in %.1f s", main.variant, main_dir, time.perf_counter() - t)
        self.main = main.variant
        self.dirs: dict[str, Path] = {self.main: main_dir}
        vdir = Path(variants_dir) if variants_dir else main_dir.parent
        for v in VARIANTS:
            if v != self.main and (vdir / v / "config.json").is_file():
                self.dirs[v] = vdir / v
        self.dirs = {v: self.dirs[v] for v in VARIANTS if v in self.dirs}
        self._loaded: dict[str, Predictor] = {self.main: main}
        # one call per model at a time (the variants' shared retriever locks its own encoders)
        self._locks = {v: threading.Lock() for v in self.dirs}
        self._load_lock = threading.Lock()

    @property
    def variants(self) -> list[str]:
        return list(self.dirs)

    def get(self, variant: str | None) -> Predictor:
        variant = variant or self.main
        if variant not in self.dirs:
            raise InputError(
                f"no checkpoint for variant {variant!r}; available: {', '.join(self.dirs)}"
            )
        if variant in self._loaded:  # loaded once, then read without the lock
            return self._loaded[variant]
        with self._load_lock:  # another variant's first load waits here, the rest does not
            if variant not in self._loaded:
                t = time.perf_counter()
                shared = next(
                    (p.retriever for p in self._loaded.values() if p.retriever is not None), None
                )
                self._loaded[variant] = Predictor.from_checkpoint(
                    self.dirs[variant],
                    self.pool,
                    device=self.device,
                    pool_images=self.pool_images,
                    retriever=shared,  # one pool and one pair of encoders for all variants
                )
                log.info("loaded %s in %.1f s", variant, time.perf_counter() - t)
        return self._loaded[variant]

    def predict(self, variant: str | None, image: np.ndarray, expression: str, **kw):
        p = self.get(variant)
        with self._locks[p.variant]:
            return p(image, expression, **kw)


@dataclass
class Result:
    """What re-rendering needs without running the model again."""

    image: np.ndarray  # H×W×3 at the size the model saw (after any downscale)
    scale: float  # working size / uploaded size
    expression: str
    pred: Any  # tvnet Prediction, attention held as float16
    candidates: pd.DataFrame | None  # the retrieval's top-k (kept when a neighbour is forced)
    retrieved: int | None  # pool index that retrieval chose
    mask_png: Any  # the mask at the upload's own size, as a file (pred is at working size)
    size: tuple[int, int]  # the upload's W×H
    mask_pixels: int  # foreground pixels of the mask file
    point: tuple[float, float] | None = None  # clicked point, working pixels
    extra_ms: dict[str, float] = field(default_factory=dict)


class ResultCache:
    """The last few results, by key (a session's gr.State holds only the key)."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size, self._d, self._lock = size, OrderedDict(), threading.Lock()

    def put(self, result: Result) -> str:
        result.pred.attention = [a.astype(np.float16) for a in result.pred.attention]
        key = uuid.uuid4().hex
        with self._lock:
            self._d[key] = result
            while len(self._d) > self.size:
                self._d.popitem(last=False)
        return key

    def get(self, key: str | None) -> Result:
        with self._lock:
            if key and key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        raise InputError("no result to inspect: press Segment first (older results expire)")


# ---------------------------------------------------------------------------------------------
# text


def model_note(models: Models) -> str:
    p = models.get(None)
    info, cfg = p.info, p.model.cfg
    data, train = info.get("data") or {}, info.get("train") or {}
    ckpt = _rel(info.get("checkpoint"))
    parts = [
        f"**Model:** {VARIANT_LABEL.get(p.variant, p.variant)} — `{cfg.preset}` preset, "
        f"`{cfg.backbone}` backbone, {cfg.input_size}×{cfg.input_size} input, "
        f"checkpoint `{ckpt}`" + (f" (step {info['step']})" if info.get("step") else "") + "."
    ]
    if data:
        n = data.get("train_samples")
        parts.append(
            f"**Trained on** {data.get('name', '?')} train split"
            + (f" ({n:,} expressions)" if n else "")
            + (f", {train['steps']:,} steps of batch {train.get('batch_size')}" if train else "")
            + "."
        )
        if info.get("init"):
            parts.append(lineage_note(info["init"], p.variant))
    else:
        parts.append(
            "⚠️ **This checkpoint records no training data** (untrained or hand-made): "
            "its masks mean nothing."
        )
    if p.retriever is not None:
        parts.append(
            f"**Retrieval pool:** `{_rel(info.get('pool'))}` ({len(p.retriever.pool):,} expressions)."
        )
    parts.append(f"Variants available: {', '.join(f'`{v}`' for v in models.variants)}.")
    parts.append(f"Vocabulary: {len(p.vocab.words):,} words.")
    return " ".join(parts)


def training_summary(info: dict[str, Any], variant: str) -> str:
    """A checkpoint's training in a few words, for the variant comparison: the variants of one
    folder may have had very different budgets (a grown model has its source's steps too)."""
    train, step = info.get("train") or {}, info.get("step")
    if not (info.get("data") and step):
        return "untrained"
    batch = train.get("batch_size")
    text = f"{step:,} steps" + (f" × {batch}" if batch else "")
    _, earlier, grown_from = lineage(info.get("init"), variant)
    if earlier:
        text += f" after {earlier:,} earlier" + (
            f" (grown from {grown_from})" if grown_from else ""
        )
    return text


def lineage_note(init: dict[str, Any], variant: str) -> str:
    """One sentence on a warm-started checkpoint's earlier training (``tvnet train --init``
    records each source in the next run, nested): how many steps in how many runs, and the
    variant it was grown from, if another."""
    runs, steps, grown_from = lineage(init, variant)
    grown = f", grown from a `{grown_from}` network" if grown_from else ""
    plural = "s" if runs > 1 else ""
    return (
        f"**Warm-started** from {runs} earlier run{plural} ({steps:,} steps before this one"
        f"{grown})."
    )


def _rel(path: Any) -> str:
    if not path:
        return "?"
    try:
        return str(Path(path).resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def _md(text: str) -> str:
    """Text shown verbatim in Markdown (``<unk>`` would otherwise vanish as an HTML tag)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def status_ok(pred: Any, forced: bool) -> str:
    area = 100 * float(pred.mask.mean())
    lines = [
        f"✔ **Mask: {area:.1f} % of the image** · variant `{pred.variant}`"
        + (" · neighbour chosen by you" if forced else "")
    ]
    if not pred.mask.any():
        lines.append("- nothing reached the 0.5 threshold: the mask is empty")
    lines += [f"- {_md(n)}" for n in pred.notes]
    return "\n".join(lines)


def status_error(message: str) -> str:
    return f"⚠ **Could not segment:** {_md(message)}"


def latency_md(timings: dict[str, float], extra: dict[str, float]) -> str:
    """The predictor's stages, then the demo's own (reading the upload, drawing the maps)."""
    names = {"neighbour_load": "neighbour load", "read": "read upload", "render": "draw maps"}
    stages = {**{k: v for k, v in timings.items() if k != "total"}, **extra}
    total = timings.get("total", 0.0) + sum(extra.values())
    parts = [f"{names.get(k, k)} {v:.0f} ms" for k, v in stages.items()]
    return f"**Latency:** {' · '.join(parts)} · **total {total:.0f} ms**"


def neighbour_md(pred: Any, forced: bool, candidates: pd.DataFrame | None) -> str:
    nb = pred.neighbour
    if nb is None:
        return "*This variant reads no retrieved image (RES off).*"
    ts, is_ = nb.text_score, nb.image_score
    if forced and candidates is not None:  # scores of a forced neighbour come from the table
        row = candidates[candidates["index"] == nb.index]
        if len(row):
            ts, is_ = float(row["text_score"].iloc[0]), float(row["image_score"].iloc[0])
    how = "chosen by you" if forced else "retrieved"
    return (
        f"**Neighbour ({how}):** “{_md(nb.sentence)}”  \n"
        f"text similarity **{ts:.3f}** · image similarity **{is_:.3f}** · "
        f"pool entry {nb.index} (image {nb.image_id})"
    )


TABLE_COLUMNS = ["pick", "rank", "text rank", "expression", "text sim.", "image sim.", "pool #"]
EMPTY_TABLE = pd.DataFrame(columns=TABLE_COLUMNS)


def candidates_table(r: Result) -> pd.DataFrame:
    """The retrieval's candidates, best first, the retrieved (★) and the shown (▶) marked."""
    c = r.candidates
    if c is None or c.empty or r.pred.neighbour is None:
        return EMPTY_TABLE
    shown = r.pred.neighbour.index

    def pick(i: int) -> str:
        tags = (["★ retrieved"] if i == r.retrieved else []) + (
            ["▶ shown"] if i == shown and i != r.retrieved else []
        )
        return " ".join(tags)

    return pd.DataFrame(
        {
            "pick": [pick(int(i)) for i in c["index"]],
            "rank": c["rank"].astype(int),
            "text rank": c["text_rank"].astype(int),
            "expression": c["sentence"].astype(str),
            "text sim.": c["text_score"].astype(float).round(3),
            "image sim.": c["image_score"].astype(float).round(3),
            "pool #": c["index"].astype(int),
        }
    )


def candidate_choices(r: Result) -> list[tuple[str, int]]:
    c = r.candidates
    if c is None:
        return []
    return [
        (
            f"#{int(row['rank'])} “{row['sentence']}” — text {row['text_score']:.2f}, "
            f"image {row['image_score']:.2f}"
            + (" ★ retrieved" if int(row["index"]) == r.retrieved else ""),
            int(row["index"]),
        )
        for _, row in c.iterrows()
    ]


# ---------------------------------------------------------------------------------------------
# the app

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
    """The event handlers; :meth:`blocks` lays out the page and wires them."""

    def __init__(self, models: Models, examples: Path | None = None, concurrency: int = 1):
        self.models, self.examples, self.concurrency = models, examples, concurrency
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
            f"**A{_sub(level)}** (Eq. 1): where {who} in the neighbour; softmax over its "
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
            self.files(overlay(r.image, pred.mask, r.point)),
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
                said = f"“{_md(nb.sentence)}”" if nb is not None else "— (no retrieval)"
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
        return (self.files(overlay(r.image, r.pred.mask, r.point)), *self.attention(r, level))

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

    # -- the page ---------------------------------------------------------------------------
    def blocks(self) -> gr.Blocks:
        models, main = self.models, self.models.main
        # delete_cache: uploads and outputs older than an hour go, checked every 30 minutes
        with gr.Blocks(
            title="TV-Net demo", analytics_enabled=False, delete_cache=(1800, 3600)
        ) as demo:
            gr.Markdown(
                f"# {TITLE}\nType what to find: TV-Net (ACM MM 2021) segments it, and this page "
                "shows why — the similar sample its **retrieval** fetched from the training "
                "pool, where the input **attends** in that sample, and where **AMF** brings "
                "back detail.",
                elem_id="intro",
            )
            gr.Markdown(model_note(models), elem_id="model-note")
            state = gr.State(None)
            with gr.Row(equal_height=False):
                with gr.Column(scale=1):
                    image_in = gr.Image(
                        label="Input image",
                        type="filepath",
                        sources=["upload", "clipboard"],
                        height=340,
                        elem_id="input-image",
                    )
                    expr_in = gr.Textbox(
                        label="Expression",
                        placeholder="e.g. the small green star left of the blue square",
                        max_lines=3,
                        elem_id="expression",
                    )
                    with gr.Row(equal_height=True):
                        variant_in = gr.Radio(
                            choices=[(VARIANT_LABEL[v], v) for v in models.variants],
                            value=main,
                            label="Variant",
                            scale=3,
                            elem_id="variant",
                        )
                        go = gr.Button("Segment", variant="primary", scale=1, elem_id="segment")
                    ex = self.example_list(image_in, expr_in)
                with gr.Column(scale=1):
                    result = gr.Image(
                        label="Predicted mask",
                        interactive=False,
                        height=340,
                        format="jpeg",
                        elem_id="result",
                    )
                    status = gr.Markdown(
                        "Upload an image (or click an example), type an expression, press "
                        "**Segment**.",
                        label="status",
                        elem_id="status",
                    )
                    latency = gr.Markdown(label="latency", elem_id="latency")
            gr.Markdown("## Why this answer", elem_id="why")
            with gr.Row(equal_height=False):
                with gr.Column():
                    nb_img = gr.Image(
                        label="Retrieved neighbour (RES stage 1)",
                        interactive=False,
                        height=300,
                        format="jpeg",
                        elem_id="neighbour",
                    )
                    nb_md = gr.Markdown(label="neighbour caption", elem_id="neighbour-caption")
                with gr.Column():
                    att_img = gr.Image(
                        label="Attention Aₗ over the neighbour",
                        interactive=False,
                        height=300,
                        format="jpeg",
                        elem_id="attention",
                    )
                    with gr.Row(equal_height=True):
                        level_in = gr.Radio(
                            choices=[("A₃", 3), ("A₄", 4), ("A₅", 5)],
                            value=5,
                            label="Level",
                            scale=2,
                        )
                        reset = gr.Button("Back to the referent", size="sm", scale=1)
                    att_md = gr.Markdown(label="attention caption", elem_id="attention-caption")
                with gr.Column():
                    a2_img = gr.Image(
                        label="AMF gate A₂ over the input",
                        interactive=False,
                        height=300,
                        format="jpeg",
                        elem_id="a2",
                    )
                    a2_md = gr.Markdown(label="a2 caption", elem_id="a2-caption")
            with gr.Accordion(
                "Retrieval candidates: top 20 by text, re-ranked by image", open=True
            ):
                gr.Markdown(
                    "Retrieval keeps the 20 pool expressions closest to yours, re-ranks them by "
                    "image similarity and uses the best (★). Choose another here, or click a "
                    "row, to segment again with that neighbour."
                )
                cand_in = gr.Dropdown(
                    choices=[],
                    label="Neighbour",
                    interactive=models.get(None).retriever is not None,
                    elem_id="candidate",
                )
                cand_df = gr.Dataframe(
                    value=EMPTY_TABLE,
                    label="Candidates",
                    interactive=False,
                    wrap=True,
                    max_height=400,
                    elem_id="candidates",
                )
            with gr.Accordion("Enrichment gates σ(Conv(Vₗ)) of Eq. 2", open=False):
                gates_in = gr.Checkbox(label="Show the gates (channel mean, per level)")
                gates_out = gr.Gallery(
                    label="Enrichment gates over the input", columns=3, height=260, format="jpeg"
                )
            with gr.Accordion("Variants side by side", open=False):
                gr.Markdown(
                    "Runs every variant whose checkpoint is present (the rows of the paper's "
                    "Table 1) on the current image and expression."
                )
                compare_go = gr.Button("Compare variants", elem_id="compare")
                compare_out = gr.Gallery(
                    label="Mask per variant",
                    object_fit="contain",
                    columns=max(1, len(models.variants)),
                    height=300,
                    format="jpeg",
                )
                compare_md = gr.Markdown(label="variant table")
            with gr.Accordion("Raw outputs: binary mask and JSON summary", open=False):
                with gr.Row():
                    mask_out = gr.Image(
                        label="Binary mask", interactive=False, format="png", height=240
                    )
                    json_out = gr.JSON(label="Summary")

            outputs = [result, status, nb_img, nb_md, att_img, att_md, a2_img, a2_md]
            outputs += [gates_out, cand_df, cand_in, latency, mask_out, json_out, state]
            seg_inputs = [image_in, expr_in, level_in, gates_in, variant_in]
            # raw payloads (preprocess=False): the handlers read the upload themselves, so a
            # file that is not an image becomes a message rather than a Gradio error
            model = dict(outputs=outputs, concurrency_id="model", preprocess=False)
            hidden = dict(api_visibility="private")
            go.click(
                self.segment,
                seg_inputs,
                api_name="segment",
                api_description="Segment what the expression refers to; returns "
                + ", ".join(OUTPUTS),
                **model,
            )
            expr_in.submit(self.segment, seg_inputs, **model, **hidden)
            if ex is not None:
                ex.load_input_event.then(self.segment, seg_inputs, **model, **hidden)
            variant_in.input(
                self.rerun_variant, [state, variant_in, level_in, gates_in], **model, **hidden
            )
            cand_in.input(
                self.choose_neighbour,
                [state, cand_in, level_in, gates_in, variant_in],
                api_name="choose_neighbour",
                **model,
            )
            cand_df.select(
                self.choose_row, [state, level_in, gates_in, variant_in], **model, **hidden
            )
            compare_go.click(
                self.compare,
                [image_in, expr_in],
                [compare_out, compare_md],
                api_name="compare",
                concurrency_id="model",
                preprocess=False,
            )
            light = dict(concurrency_id="draw", concurrency_limit=4, **hidden)
            point_out = [result, att_img, att_md]
            image_in.select(self.point_on_input, [state, level_in], point_out, **light)
            result.select(self.point_on_mask, [state, level_in], point_out, **light)
            reset.click(self.clear_point, [state, level_in], point_out, **light)
            level_in.change(self.change_level, [state, level_in], [att_img, att_md], **light)
            gates_in.change(self.toggle_gates, [state, gates_in], gates_out, **light)
        demo.queue(default_concurrency_limit=self.concurrency, max_size=256)
        demo.models = models  # for tests and benchmarks
        return demo

    def example_list(self, image_in, expr_in) -> gr.Examples | None:
        """gr.Examples from ``examples.json`` (image file + expression per entry)."""
        path = self.examples or EXAMPLES / "examples.json"
        if not path.is_file():
            return None
        import json

        rows = json.loads(path.read_text())
        return gr.Examples(
            examples=[[str(path.parent / e["image"]), e["expression"]] for e in rows],
            inputs=[image_in, expr_in],
            label="Examples (click to run): SynthRef test scenes, the default model's home "
            "ground, then scikit-image photos, out of its domain",
            examples_per_page=len(rows),
            elem_id="examples",
        )


def build_demo(
    checkpoint: str | Path | None = None,
    pool: str | Path | None = None,
    variants_dir: str | Path | None = None,
    device: str | None = None,
    pool_images: str | Path | None = None,
    examples: str | Path | None = None,
    concurrency: int = 1,
) -> gr.Blocks:
    """The demo's Blocks, its model loaded and its queue set.

    checkpoint: the main checkpoint folder (default: ``tvnet.default_checkpoint()``, i.e.
    ``assets/checkpoints/full-grown``); pool: the retrieval pool (default ``assets/pool``);
    variants_dir: where the other variants'
    checkpoint folders are looked for (default: the main checkpoint's parent folder);
    pool_images: the pool's images (default ``POOL/images``); examples: an examples.json
    (default ``assets/examples/examples.json``); concurrency: model calls at once (the rest
    wait in the queue)."""
    models = Models(checkpoint, pool, variants_dir, device, pool_images)
    return Demo(models, Path(examples) if examples else None, concurrency).blocks()


def _sub(level: int) -> str:
    return str(level).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "Segoe UI", "Helvetica", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
# local fonts only: the page must not fetch from a font CDN (offline machines, privacy)
THEME = dict(
    primary_hue="cyan",
    secondary_hue="slate",
    neutral_hue="slate",
    font=SYSTEM_FONTS,
    font_mono=MONO_FONTS,
)
CSS = """
#intro h1 { margin-bottom: 0.2em; }
#model-note { font-size: 0.88em; padding: 0.6em 0.9em; border-radius: 8px;
              background: var(--background-fill-secondary); }
#status, #latency { font-size: 0.92em; }
#latency { color: var(--body-text-color-subdued); }
#examples td { padding: 3px 10px !important; }
#examples .container.table { width: 52px !important; height: 52px !important; }
#candidates { font-size: 0.9em; }
"""


def launch(
    demo: gr.Blocks, host: str = "127.0.0.1", port: int | None = None, block: bool = True
) -> str:
    """Serve ``demo`` (never through a share link); returns its local URL."""
    _, url, _ = demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        prevent_thread_lock=not block,
        max_file_size="30mb",
        theme=gr.themes.Soft(**THEME),
        css=CSS,
        footer_links=["api"],
        quiet=not block,
    )
    return url


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python apps/demo.py",
        description="TV-Net demo: segment what an expression refers to in an image and see "
        "why (retrieved neighbour, cross-image attention, AMF gate, variants side by side).",
        epilog="example:\n  python apps/demo.py --host 0.0.0.0 --port 8080",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--checkpoint",
        type=Path,
        help="checkpoint folder (default: assets/checkpoints/full-grown, the bundled model; assets/checkpoints/full is Table 1's)",
    )
    ap.add_argument("--pool", type=Path, help="retrieval pool folder (default: assets/pool)")
    ap.add_argument(
        "--pool-images", type=Path, help="folder of the pool's images (default: POOL/images)"
    )
    ap.add_argument(
        "--variants-dir",
        type=Path,
        help="folder holding one checkpoint folder per variant (default: the checkpoint's parent)",
    )
    ap.add_argument("--device", help="cpu, cuda … (default: cuda when present)")
    ap.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    ap.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT") or 7860),
        help="port (default: $PORT, else 7860)",
    )
    ap.add_argument(
        "--concurrency", type=int, default=1, help="model calls at once; others queue (default 1)"
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        demo = build_demo(
            args.checkpoint,
            args.pool,
            args.variants_dir,
            args.device,
            args.pool_images,
            concurrency=args.concurrency,
        )
    except (OSError, ValueError) as e:  # missing checkpoint/pool: say which and how to get it
        print(f"error: {e}", file=sys.stderr)
        return 2
    # A process manager stops the server with SIGTERM: exit through SystemExit, so that the
    # atexit clean-up (the pictures' temporary folder) runs as it does on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    launch(demo, args.host, args.port, block=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
