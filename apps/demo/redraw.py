"""The demo's redrawing of the last result, no model call (docs/design.md §7): another
attention level, a clicked point, the gates, and the stale marking when the image or the
expression on the page is no longer the one it answered. A mixin of
:class:`apps.demo.handlers.Handlers`, which holds the recent results (``cache``) and the
picture files (``files``); Gradio-free like it."""

from __future__ import annotations

from typing import Any

from apps.demo import maps
from apps.demo.images import ImageFiles
from apps.demo.models import Result, ResultCache
from apps.demo.notes import stale_md
from apps.demo.outputs import GATES_HINT, SKIP, input_of, source_of
from tvnet import InputError, overlay


def attention_level(level: Any) -> int:
    """The level of the attention map to draw: 3, 4 or 5 (the page's radio; an API caller may
    send anything), else InputError before any drawing or model call."""
    try:
        got = int(level)
    except (TypeError, ValueError):
        got = None
    if got not in (3, 4, 5):
        raise InputError(f"level {level!r} is not an attention level: 3, 4 or 5")
    return got


class Redraws:
    cache: ResultCache
    files: ImageFiles

    # -- drawing (no model call) --------------------------------------------------------------
    def attention(self, r: Result, level: int) -> tuple[Any, str]:
        r.level_shown = level
        return maps.attention(r, level, self.files)

    def gates(self, r: Result, show: bool) -> list:
        return maps.gates(r, self.files)[0] if show else []

    # -- the input changed: the result on show is for the previous one ------------------------
    def remember(self, session: str | None, key: str | None) -> None:
        """``key``: the session's result on show now (None: none, the page shows a message)."""
        self.cache.remember(session, key)

    def release(self, session: str | None) -> None:
        """``session``'s page closed (Gradio's unload): its answer is pinned no longer."""
        self.cache.release(session)

    @staticmethod
    def is_stale(r: Result, image, expression) -> bool:
        return input_of(image, expression) != (r.source, r.expression)

    @staticmethod
    def status_on(r: Result, inputs: tuple[str | None, str]) -> str:
        """``r``'s status as the page shows it while it holds ``inputs`` (:func:`input_of`):
        marked stale, with what changed, when they are not the ones ``r`` answered."""
        source, expression = inputs
        if (source, expression) == (r.source, r.expression):
            return r.status
        what = "image" if source != r.source else "expression"
        if what == "image" and expression != r.expression:
            what = "image and the expression"
        return stale_md(r.status, what)

    def mark_stale(self, key, image, expression, session=None):
        """The status of the session's latest result, marked stale when the image or the
        expression on the page is no longer the one it answered (restored when they are)."""
        if session:
            key = self.cache.latest(session)
        try:
            r = self.cache.get(key)
        except InputError:
            return SKIP
        failure = self.cache.failure(session, key, input_of(image, expression))
        if failure is not None:  # a call on this input failed: its message stays
            return failure
        return self.status_on(r, input_of(image, expression))

    # -- inspection of the last result (no model call) --------------------------------------
    def drawn_if_current(self, r: Result, key, session, draw, n: int):
        """``draw()`` (which may set ``r``'s point and level shown) when ``key`` is still the
        session's answer on show; else ``n`` outputs unchanged and ``r`` as it was, as also
        when ``draw`` fails."""
        before = (r.point, r.level_shown)
        try:
            drawn = draw()
        except BaseException:
            r.point, r.level_shown = before
            raise
        if self.current(key, session):
            return drawn
        r.point, r.level_shown = before  # not shown: the old answer keeps its own
        return (SKIP,) * n

    def current(self, key: str | None, session: str | None) -> bool:
        """Is ``key`` still ``session``'s answer on show? A redraw that a new answer overtook
        while it drew (they share the worker) must not put the old image's maps over it."""
        latest = None if session is None else self.cache.latest(session)
        return latest is None or latest == key  # None: no record (pushed out): the page's key

    def pick_point(self, key, level, x, y, on_input: bool, image=None, session=None):
        """A clicked point (``x``, ``y``: pixels of the picture clicked, the upload when
        ``on_input``, else the drawn mask): its own attention row instead of the referent's.
        A click on an upload that the result did not answer (``image``: the page's) is left
        alone: its pixels are not the ones the result's maps are of."""
        try:
            r = self.cache.get(key)
        except InputError as e:
            return SKIP, SKIP, f"*{e}*"
        if on_input and image is not None and source_of(image) != r.source:
            return SKIP, SKIP, "*Segment this image first: the maps on show are of another one.*"
        x, y = float(x), float(y)
        if on_input:  # the upload is shown at its own size; the model saw r.image
            x, y = x * r.scale, y * r.scale
        try:
            level = attention_level(level)
        except InputError as e:
            return SKIP, SKIP, f"*{e}*"

        def draw():
            r.point = (x, y)
            return (
                self.files(overlay(r.image, r.pred.mask, point=r.point)),
                *self.attention(r, level),
            )

        return self.drawn_if_current(r, key, session, draw, 3)

    def clear_point(self, key, level, session=None):
        try:
            r = self.cache.get(key)
        except InputError as e:
            return SKIP, SKIP, f"*{e}*"
        try:
            level = attention_level(level)
        except InputError as e:
            return SKIP, SKIP, f"*{e}*"

        def draw():
            r.point = None
            return (self.files(overlay(r.image, r.pred.mask)), *self.attention(r, level))

        return self.drawn_if_current(r, key, session, draw, 3)

    def change_level(self, key, level, session=None):
        """The attention map at ``level``; nothing when it is shown at that level already (the
        check after each answer: the level changed while the model ran, or not)."""
        try:
            r = self.cache.get(key)
        except InputError as e:
            return SKIP, (f"*{e}*" if key else SKIP)
        try:
            level = attention_level(level)
        except InputError as e:
            return SKIP, f"*{e}*"
        if r.level_shown == level:
            return SKIP, SKIP
        return self.drawn_if_current(r, key, session, lambda: self.attention(r, level), 2)

    def toggle_gates(self, key, show, session=None):
        """The gates' tiles, or the hint; nothing when shown as asked already (see
        :meth:`change_level`)."""
        try:
            r = self.cache.get(key)
        except InputError:
            return [], GATES_HINT
        if r.gates_shown == bool(show):
            return SKIP, SKIP
        drawn = maps.gates(r, self.files) if show else ([], GATES_HINT)
        if not self.current(key, session):
            return SKIP, SKIP
        r.gates_shown = bool(show)
        return drawn
