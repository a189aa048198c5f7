"""The page's event handlers with gradio's signatures (:class:`Demo`, docs/design.md §7): the
API's parameter names, the session of the request and the point or row a select event names,
passed on as plain values to the handlers' core (:class:`apps.demo.handlers.Handlers`), which
runs in this process or in the model worker (:mod:`apps.demo.worker`)."""

from __future__ import annotations

from typing import Any

import gradio as gr

from apps.demo.models import Models
from apps.demo.outputs import SKIP, input_of
from apps.demo.remote import WorkerError


def session(request: gr.Request | None) -> str | None:
    return getattr(request, "session_hash", None) if request is not None else None


class _Reported:
    """``core``'s methods, a :class:`~apps.demo.remote.WorkerError` (the model worker gone,
    or failing) raised as the ``gr.Error`` whose reason the page shows, instead of a bare
    "Error"."""

    def __init__(self, core: Any):
        self._core = core

    def __getattr__(self, name: str):
        fn = getattr(self._core, name)

        def call(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except WorkerError as e:
                raise gr.Error(str(e)) from e

        return call


class Demo:
    """``core``: the handlers (a :class:`~apps.demo.handlers.Handlers` or the worker's proxy
    of one); ``models``: what the page needs to know of the models before they load."""

    def __init__(self, core: Any, models: Models):
        self.core, self.models = _Reported(core), models

    def segment(
        self,
        image,
        expression,
        level=5,
        show_gates=False,
        variant=None,
        mirror=False,
        request: gr.Request = None,
    ):
        """Segment the object that ``expression`` refers to in ``image``.

        Returns the mask overlay, the verdict (a ✔ only for a confident answer, else its
        warnings first), the retrieved neighbour and its caption, the A_l heatmap over the
        neighbour and its caption, the A_2 heatmap over the input and its caption, the gates,
        the top-20 candidates, the candidate choice, the latency per stage, the binary mask, a
        JSON summary, the probability map and its caption, what the enrichment changed (image
        and caption), the gates' colour bars and the words view. ``mirror``: average the answer
        with the mirror image's (left and right swapped in the expression)."""
        return self.core.segment(
            image, expression, level, show_gates, variant, mirror, session(request)
        )

    def rerun_variant(
        self,
        key,
        variant,
        level,
        show_gates,
        image,
        expression,
        mirror=False,
        request: gr.Request = None,
    ):
        return self.core.rerun_variant(
            key, variant, level, show_gates, image, expression, mirror, session(request)
        )

    def choose_neighbour(
        self,
        key,
        index,
        level=5,
        show_gates=False,
        variant=None,
        mirror=False,
        request: gr.Request = None,
    ):
        """Re-run the last segmentation with pool entry ``index`` as the neighbour."""
        return self.core.choose_neighbour(
            key, index, level, show_gates, variant, mirror, session(request)
        )

    def choose_row(
        self,
        key,
        level,
        show_gates,
        variant,
        mirror,
        evt: gr.SelectData,
        request: gr.Request = None,
    ):
        pool = _pool_entry(getattr(evt, "row_value", None))
        if pool is not None:  # the row as shown: sorting the table moves rows, not entries
            return self.core.choose_neighbour(
                key, pool, level, show_gates, variant, mirror, session(request)
            )
        row = evt.index[0] if evt.index is not None else None
        return self.core.choose_row(key, level, show_gates, variant, row, mirror, session(request))

    def compare(self, image, expression, mirror=False):
        """Every available variant on the same input, side by side (mask overlays), and the
        input they answered (kept in a state, not returned by the API)."""
        tiles, table = self.core.compare(image, expression, mirror)
        return tiles, table, input_of(image, expression)

    def compare_fresh(self, answered, image, expression):
        """The comparison left as it is while the page still shows the input it answered;
        cleared when the image or the expression changed while it ran (their change had
        cleared the old one before this one arrived)."""
        same = answered is None or tuple(answered) == input_of(image, expression)
        return (SKIP, SKIP) if same else ([], "")

    def word_influence(self, key, request: gr.Request = None):
        """The expression with each word shaded by how much of the mask moves without it."""
        return self.core.word_influence(key, session(request))

    def candidate_influence(self, key, request: gr.Request = None):
        """The candidate table with a column of what each neighbour would change."""
        return self.core.candidate_influence(key, session(request))

    def mark_stale(self, key, image, expression, request: gr.Request = None):
        return self.core.mark_stale(key, image, expression, session(request))

    def point_on_input(self, key, level, image, evt: gr.SelectData, request: gr.Request = None):
        return self.core.pick_point(key, level, *evt.index[:2], True, image, session(request))

    def point_on_mask(self, key, level, evt: gr.SelectData, request: gr.Request = None):
        return self.core.pick_point(key, level, *evt.index[:2], False, None, session(request))

    def clear_point(self, key, level, request: gr.Request = None):
        return self.core.clear_point(key, level, session(request))

    def change_level(self, key, level, request: gr.Request = None):
        return self.core.change_level(key, level, session(request))

    def toggle_gates(self, key, show, request: gr.Request = None):
        return self.core.toggle_gates(key, show, session(request))

    def release(self, request: gr.Request = None):
        """The page closed: its answers need not be kept for it any more."""
        return self.core.release(session(request))

    def model_note(self) -> str:
        return self.core.model_note()


def _pool_entry(row_value) -> int | None:
    """The pool entry of a candidate-table row as shown (its last column, "pool #"), or None
    when the event carries no row or the row holds none."""
    try:
        return int(float(row_value[-1]))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
