"""What the demo's events do (:class:`Handlers`, docs/design.md §7): model calls (segment,
another variant, another neighbour, every variant side by side, the influence of the words and
of each candidate neighbour), each returning what the page shows; the redrawing of the last
result and the stale marking are :mod:`apps.demo.redraw`'s.

Gradio-free (updates are the plain dicts gradio reads, :func:`update`), so that they run in
the model worker process as well as in the page's (:mod:`apps.demo.worker`);
:class:`apps.demo.events.Demo` gives them gradio's signatures and :mod:`apps.demo.layout`
wires them to the page."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import html
import inspect
import logging
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from apps.demo import maps
from apps.demo.images import ImageFiles, read_upload, working
from apps.demo.maps import share
from apps.demo.models import Models, Result, ResultCache
from apps.demo.notes import (
    EMPTY_TABLE,
    VARIANT_LABEL,
    candidate_choices,
    candidates_table,
    escape_md,
    latency_md,
    model_note,
    neighbour_md,
    result_summary,
    status_error,
    status_md,
    training_summary,
    verdict_cell,
)
from apps.demo.outputs import GATES_HINT, OUTPUTS, REPLACED, SKIP, input_of, update
from apps.demo.redraw import Redraws, attention_level
from apps.demo.words import HINT as WORDS_HINT
from apps.demo.words import words_html
from tvnet import InputError, overlay

log = logging.getLogger("tvnet.demo")


def one_at_a_time(method):
    """One visitor's model calls one after another (with ``--concurrency`` ≥ 2, Gradio may run
    two of one page at once: a neighbour chosen, then the mirror box ticked at once), each
    starting from the answer the one before left on show. Other visitors are not held up."""
    sig = inspect.signature(method)

    @functools.wraps(method)
    def serial(self, *args, **kw):
        session = sig.bind(self, *args, **kw).arguments.get("session")
        if session is None:
            return method(self, *args, **kw)
        with self.session_lock(session):
            return method(self, *args, **kw)

    return serial


class SessionLocks:
    """One lock per visitor, kept while calls of that visitor hold or wait for it and dropped
    with the last of them: the locks held at any time are those of the calls in flight."""

    def __init__(self):
        self._locks: dict[str, list] = {}  # session: [lock, calls holding or waiting for it]
        self._guard = threading.Lock()

    @contextlib.contextmanager
    def __call__(self, session: str):
        with self._guard:
            entry = self._locks.setdefault(session, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._locks[session]

    def __len__(self) -> int:
        return len(self._locks)


class Handlers(Redraws):
    """The event handlers, sharing the models, the recent results and the picture files
    (``pictures``: their folder; default a temporary one); the redrawing of the last result
    and the stale marking come from :class:`~apps.demo.redraw.Redraws`."""

    def __init__(self, models: Models, pictures: str | Path | None = None):
        self.models = models
        self.cache = ResultCache()
        self.files = ImageFiles(pictures)
        # held by :func:`one_at_a_time` around each of a visitor's model calls
        self.session_lock = SessionLocks()

    def kept_note(self, r: Result) -> str | None:
        """A chosen neighbour that this variant cannot use, kept for the next RES variant."""
        if r.chosen is None or r.pred.neighbour is not None:
            return None
        return (
            f"your chosen neighbour (pool entry {r.chosen}) is kept: this variant reads no "
            "neighbour, and switching to a RES variant uses it again (a new Segment retrieves "
            "anew)"
        )

    def outputs(self, r: Result, key: str, level: int, show_gates: bool) -> list:
        t = time.perf_counter()
        pred, nb = r.pred, r.pred.neighbour
        forced = nb is not None and nb.index != r.retrieval_pick
        att, att_caption = self.attention(r, level)
        a2, a2_caption = maps.a2(r, self.files)
        prob, prob_caption = maps.probability(r, self.files)
        infl, infl_caption = maps.influence(r, self.files)
        tiles, gates_caption = maps.gates(r, self.files) if show_gates else ([], GATES_HINT)
        r.gates_shown = bool(show_gates)
        r.status = status_md(pred, forced, self.kept_note(r))
        drawn = [
            self.files(overlay(r.image, pred.mask, point=r.point)),
            r.status,
            None if nb is None else self.files(nb.image),
            neighbour_md(pred, forced, r.candidates),
            att,
            att_caption,
            a2,
            a2_caption,
            tiles,
            candidates_table(r),
            update(
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
            result_summary(r),
            prob,
            prob_caption,
            infl,
            infl_caption,
            gates_caption,
            WORDS_HINT,
            key,
        ]

    @staticmethod
    def failed(message: str, key: str | None = None) -> list:
        """A message in the page, every other output cleared."""
        cleared = {
            "status": status_error(message),
            "gates": [],
            "candidates": EMPTY_TABLE,
            "candidate": update(choices=[], value=None),
            "words": WORDS_HINT,
        }
        return [cleared.get(name, "" if name.endswith("caption") else None) for name in OUTPUTS] + [
            key
        ]

    def failed_keeping(
        self, message: str, session: str | None, inputs: Any = None, ticket: int | None = None
    ) -> list:
        """A failed call of ``session``: the message above the answer on show, which stays as
        it is (bad input loses nothing); with none on show, :meth:`failed`. ``inputs``
        (:func:`input_of` of the input the call was on): the message stays while the page
        holds them, not replaced by the check that follows every call (:meth:`mark_stale`).
        ``ticket`` (the call's, :meth:`ResultCache.begin`): a failure that a later call has
        overtaken changes nothing on the page."""
        if not self.cache.finish(session, ticket):
            return self.overtaken(session)
        key = self.cache.latest(session) if session else None
        try:
            r = self.cache.get(key)
        except InputError:  # none on show, or gone from the cache
            self.remember(session, None)  # the page shows no result now: nothing to mark stale
            return self.failed(message)
        # the answer below keeps its stale mark when the input that failed is not its own
        shown = r.status if inputs is None else self.status_on(r, inputs)
        kept = (
            f"{status_error(message)}\n\n*The answer below is still the last one, for "
            f"“{escape_md(r.expression)}”:*\n\n{shown}"
        )
        if inputs is not None:
            self.cache.failed(session, key, inputs, kept)
        return [kept if name == "status" else SKIP for name in OUTPUTS] + [key]

    def chosen_on_other(self, key: str | None, session: str | None) -> bool:
        """Was a neighbour picked in the table of an answer that a newer one has replaced
        since (its row, or its pool entry, means nothing for the new candidates)?"""
        return key is not None and not self.current(key, session)

    def latest_key(self, key: str | None, session: str | None) -> str | None:
        """The answer a switch applies to: the session's on show now (a call of the page that
        ran before this one may have replaced the one its state named when sent)."""
        return (self.cache.latest(session) or key) if session is not None else key

    @staticmethod
    def unchanged(key: str | None) -> list:
        return [SKIP] * len(OUTPUTS) + [key]

    def overtaken(self, session: str | None) -> list:
        """The page as a later call of ``session`` left it: that call finished first (its
        answer, or its error above the answer before), and an older call's answer arriving
        after it would hide it."""
        return self.unchanged(self.cache.latest(session))

    # -- model calls ------------------------------------------------------------------------
    def run(
        self,
        image,
        expression,
        level,
        show_gates,
        variant,
        neighbour=None,
        prev=None,
        *,
        session=None,
        mirror=False,
    ):
        """One model call, shared by Segment (``image``, ``expression``) and by the variant
        switch, the mirror switch and the neighbour choice (``prev``: the result whose input
        they reuse; ``neighbour``: the user's choice, kept even by a variant that cannot read
        it; ``mirror``: the answer averaged with the mirror image's)."""
        # the input the call is on (a Segment's, or the answer's that a switch reuses)
        asked_on = input_of(image, expression) if prev is None else (prev.source, prev.expression)
        ticket = self.cache.begin(session)  # calls of a session may overtake each other
        try:
            level = attention_level(level)
            read_ms, source = {}, None
            if prev is None:
                t = time.perf_counter()
                raw = read_upload(image)
                read_ms = {"read": (time.perf_counter() - t) * 1000}
                source, expression = input_of(image, expression)
            asked = neighbour
            if prev is not None:
                raw, expression, source = prev.image, prev.expression, prev.source
                if neighbour is not None and neighbour == prev.retrieved:
                    neighbour = None  # the retrieved one chosen again: the retrieval's answer
            retrieves = self.models.retrieves(variant)

            def answer(chosen):
                # a RES answer decodes its closed-gate twin in the same pass (the influence
                # below; mirror-averaged like the answer)
                return self.models.predict(
                    variant,
                    raw,
                    expression,
                    neighbour=chosen if retrieves else None,
                    gate_closed=retrieves,
                    mirror=bool(mirror),
                )

            pred = answer(neighbour)
            redone, own_pick = {}, None
            if asked is not None and neighbour is None and pred.neighbour is not None:
                if pred.neighbour.index != asked:  # this variant retrieves another: as chosen
                    neighbour, own_pick = asked, pred.neighbour.index
                    redone = {"retrieved neighbour's answer (set aside)": pred.timings["total"]}
                    pred = answer(asked)
            if prev is None:
                upload_notes = tuple(pred.image_notes)
            else:  # the working copy was read already: its notes come from the first answer
                upload_notes = prev.upload_notes
                pred.notes[:0] = [n for n in upload_notes if n not in pred.notes]
            nb = pred.neighbour
            if nb is not None and nb.candidates is not None:  # this call ran the retrieval
                candidates, retrieved = nb.candidates, nb.index  # (a variant may retrieve
            elif prev is not None and prev.candidates is not None:  # another neighbour)
                candidates, retrieved = prev.candidates, prev.retrieved  # a chosen one: the
            else:  # candidates it was chosen among; or no retrieval at all
                candidates = retrieved = None
            shown, drawn = working(raw, pred)  # prev.image stays as it is
            if prev is None:
                size, scale = (int(raw.shape[1]), int(raw.shape[0])), shown.shape[1] / raw.shape[1]
            else:  # the model read prev.image: its mask goes back up to the upload's size
                size, scale = prev.size, prev.scale
            # only the file keeps the upload size (the closed-gate map is not needed there)
            full = dataclasses.replace(pred, gate_closed_prob=None).resized((size[1], size[0]))
            full = full.mask
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
                source=source,
                chosen=neighbour,
                upload_notes=upload_notes,
                own_pick=own_pick,  # what this variant retrieved: the one shown is the user's
            )
            r.extra_ms.update(read_ms)
            r.extra_ms.update(redone)  # the total counts the answer set aside too
            if nb is not None:  # what the neighbour changed: from the answer's own pass
                t = time.perf_counter()
                r.influence = self.models.call(
                    variant,
                    "neighbour_influence",
                    shown,
                    expression,
                    pred=drawn,
                    neighbour=nb.index,
                )
                r.extra_ms["influence"] = (time.perf_counter() - t) * 1000
            r.pred.gate_closed_prob = None  # read into r.influence: not kept in the cache
            # drawn first: a drawing that fails leaves the answer before it on show, and its
            # key the page's (a result kept but never shown would be inspected in its stead)
            shown = self.outputs(r, None, level, show_gates)
            key = self.cache.put(r, session, ticket)  # on show in the session from now on
            if key is None:
                return self.overtaken(session)
            return [*shown[:-1], key]
        except InputError as e:
            return self.failed_keeping(str(e), session, asked_on, ticket)
        except Exception as e:  # never a stack trace in the page
            log.exception("segmentation failed")
            message = f"internal error ({type(e).__name__}: {e})"
            return self.failed_keeping(message, session, asked_on, ticket)

    @one_at_a_time
    def segment(
        self,
        image,
        expression,
        level=5,
        show_gates=False,
        variant=None,
        mirror=False,
        session=None,
    ):
        """Segment the object that ``expression`` refers to in ``image``.

        Returns the mask overlay, the verdict (a ✔ only for a confident answer, else its
        warnings first), the retrieved neighbour and its caption, the A_l heatmap over the
        neighbour and its caption, the A_2 heatmap over the input and its caption, the gates,
        the top-20 candidates, the candidate choice, the latency per stage, the binary mask, a
        JSON summary, the probability map and its caption, what the enrichment changed (image
        and caption), the gates' colour bars and the words view. ``mirror``: the answer averaged
        with the mirror image's (left and right swapped in the expression)."""
        variant = variant or self.models.main
        return self.run(
            image, expression, level, show_gates, variant, session=session, mirror=mirror
        )

    @one_at_a_time
    def rerun_variant(
        self,
        key,
        variant,
        level,
        show_gates,
        image=None,
        expression=None,
        mirror=False,
        session=None,
    ):
        """The input through another variant or with mirror averaging switched, keeping a
        neighbour the user chose; when the input has changed since the last result (stale),
        the new input."""
        key = self.latest_key(key, session)
        try:
            prev = self.cache.get(key)
        except InputError:
            if key and image is not None and expression:  # its answer expired: the page's
                return self.run(  # input answered anew, not a switch that does nothing
                    image, expression, level, show_gates, variant, session=session, mirror=mirror
                )
            return self.unchanged(key)  # nothing segmented yet: the switch applies next time
        if self.is_stale(prev, image, expression) and image is not None:
            return self.run(
                image, expression, level, show_gates, variant, session=session, mirror=mirror
            )
        chosen = prev.chosen
        return self.run(
            None, None, level, show_gates, variant, chosen, prev, session=session, mirror=mirror
        )

    @one_at_a_time
    def choose_neighbour(
        self,
        key,
        index,
        level=5,
        show_gates=False,
        variant=None,
        mirror=False,
        session=None,
    ):
        """Re-run the last segmentation with pool entry ``index`` as the neighbour."""
        if self.chosen_on_other(key, session):
            return self.overtaken(session)
        try:
            prev = self.cache.get(key)
        except InputError as e:
            return self.failed(str(e), key)
        if index is None or index == "":
            return self.unchanged(key)
        try:
            index = int(index)
        except (TypeError, ValueError):  # the answer on show stays, under the message
            return self.failed_keeping(
                f"neighbour {index!r} is not a pool index (a whole number)",
                session,
                (prev.source, prev.expression),
            )
        variant = variant or self.models.main
        return self.run(
            None, None, level, show_gates, variant, index, prev, session=session, mirror=mirror
        )

    @one_at_a_time
    def choose_row(self, key, level, show_gates, variant, row, mirror=False, session=None):
        """Re-run the last segmentation with the candidate table's row ``row`` as the
        neighbour."""
        if self.chosen_on_other(key, session):
            return self.overtaken(session)
        try:
            prev = self.cache.get(key)
        except InputError as e:
            return self.failed(str(e), key)
        row = -1 if row is None else int(row)
        if prev.candidates is None or not 0 <= row < len(prev.candidates):
            return self.unchanged(key)
        index = int(prev.candidates["index"].iloc[row])
        return self.run(
            None, None, level, show_gates, variant, index, prev, session=session, mirror=mirror
        )

    def compare(self, image, expression, mirror=False):
        """Every available variant on the same input, side by side (mask overlays; each
        mirror-averaged with ``mirror``)."""
        try:
            img = read_upload(image)
            tiles, rows, averaged, notes, failed = [], [], [], {}, {}
            for v in self.models.variants:
                expr = "" if expression is None else expression
                name = self.models.dirs[v].name  # its budget too ("res-240k")
                try:
                    pred = self.models.predict(v, img, expr, mirror=bool(mirror))
                except Exception as e:  # this variant's failure: the others' answers stay
                    if not isinstance(e, InputError):
                        log.exception("variant %s failed in the comparison", v)
                    failed[v] = (
                        str(e) if isinstance(e, InputError)
                        else f"internal error ({type(e).__name__}: {e})"
                    )  # fmt: skip
                    rows.append(
                        f"| {VARIANT_LABEL[v]} (`{name}`) | — | — | ⚠ {escape_md(failed[v])} | — "
                        "| — |"
                    )
                    continue
                area, ms, nb = 100 * pred.mask.mean(), pred.timings["total"], pred.neighbour
                shown, drawn = working(img, pred)
                tiles.append(
                    (self.files(overlay(shown, drawn.mask)), f"{name}: {area:.1f} %, {ms:.0f} ms")
                )
                said = f"“{escape_md(nb.sentence)}”" if nb is not None else "— (no retrieval)"
                trained = training_summary(self.models.get(v).info, v)
                verdict = verdict_cell(pred)
                averaged.append(pred.mirror)
                for n in pred.notes:  # the lexicon's readings among them: what each answer read
                    notes.setdefault(n, []).append(name)
                conf = "—" if pred.confidence is None else f"{100 * pred.confidence:.0f} %"
                if pred.confidence is not None and pred.warnings:
                    conf = f"({conf})"  # calibrated for input like SynthRef's; see the warnings
                rows.append(
                    f"| {VARIANT_LABEL[v]} (`{name}`) | {area:.1f} % | {conf} {verdict} | {said} | "
                    f"{ms:.0f} ms | {trained} |"
                )
        except InputError as e:
            return [], status_error(str(e))
        except Exception as e:
            log.exception("variant comparison failed")
            return [], status_error(f"internal error ({type(e).__name__}: {e})")
        if failed and len(failed) == len(rows) and len(set(failed.values())) == 1:
            return [], status_error(next(iter(failed.values())))  # the input's fault, not theirs
        head = (
            "| variant | mask area | confidence | neighbour | latency | training |\n"
            "|---|---|---|---|---|---|\n"
        )
        # said of the answers themselves, not of the request
        note = ""
        for n, names in notes.items():  # said once, with the answers it is of unless all
            of = "" if len(names) == len(rows) else f" ({', '.join(f'`{m}`' for m in names)})"
            note += f"\n\n*Note{of}:* {escape_md(n)}"
        if averaged and all(averaged):
            note += "\n\n*Each answer averaged with the mirror image's.*"
        return tiles, head + "\n".join(rows) + note

    # -- influence of the inputs (model calls on the last result) -----------------------------
    def replaced(self, key, session) -> bool:
        """Whether the session's answer on show is no longer ``key``'s (a Segment finished
        while an influence view of the previous answer ran: its numbers are of that one)."""
        latest = self.cache.latest(session) if session else None
        return latest is not None and latest != key

    def word_influence(self, key, session=None):
        """The expression with each word shaded by how much of the mask moves without it (the
        neighbour on show held)."""
        if self.replaced(key, session):
            return f"<p><i>{REPLACED}</i></p>"
        try:
            r = self.cache.get(key)
            nb = r.pred.neighbour
            words = self.models.call(
                r.pred.variant,
                "word_influence",
                r.image,
                r.expression,
                neighbour=None if nb is None else nb.index,
                mirror=r.pred.mirror,  # each variant averaged as the answer was
                threshold=r.pred.threshold,  # and cut where the answer was
            )
        except InputError as e:
            return f"<p><i>{html.escape(str(e))}</i></p>"
        except Exception as e:
            log.exception("word influence failed")
            return f"<p><i>internal error ({type(e).__name__}: {html.escape(str(e))})</i></p>"
        if self.replaced(key, session):  # a new answer came while this ran
            return f"<p><i>{REPLACED}</i></p>"
        # the spans are in what the model read (unseen words rewritten: Prediction.expression)
        return words_html(r.pred.expression or r.expression, words)

    def candidate_influence(self, key, session=None):
        """The candidate table with a column of what each neighbour would change."""
        if self.replaced(key, session):
            return SKIP, f"*{REPLACED}*"
        try:
            r = self.cache.get(key)
        except InputError as e:
            return SKIP, f"*{e}*"
        if r.candidates is None or r.pred.neighbour is None:
            return SKIP, "*This variant reads no neighbour: there is nothing to compare.*"
        indices = [int(i) for i in r.candidates["index"]]
        t = time.perf_counter()
        try:
            found = self.models.call(
                r.pred.variant, "candidate_influence", r.image, r.expression, indices, pred=r.pred
            )
        except Exception as e:
            log.exception("candidate influence failed")
            return SKIP, f"*internal error ({type(e).__name__}: {escape_md(str(e))})*"
        if self.replaced(key, session):  # the table on show is of a newer answer now
            return SKIP, f"*{REPLACED}*"
        r.candidate_changed = {i: float(f.changed) for i, f in zip(indices, found)}
        ms = (time.perf_counter() - t) * 1000
        values = sorted(r.candidate_changed.values())
        return candidates_table(r), (
            f"**Mask change** per candidate: the share of the mask that would change (1 − IoU "
            f"with this answer's mask) with that candidate as the neighbour; from "
            f"{share(values[0])} to {share(values[-1])} over the {len(values)} "
            f"({ms / 1000:.1f} s)."
        )

    def model_note(self) -> str:
        """The model note, once the main model is in (or why it failed to load)."""
        try:
            return model_note(self.models)
        except InputError as e:
            return f"⚠ **{e}**"
