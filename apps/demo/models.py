"""The demo's models and results: :class:`Models` loads the main predictor (at once, or in the
background while the page starts) and the other variants on first use; :class:`ResultCache`
keeps the last few results (a :class:`Result` each) so that a click re-renders without
running the model again (docs/design.md §7).

Importing this module costs only tvnet's configs (no numpy), so that ``python -m apps.demo``
checks the checkpoint folders and starts its model worker within a few milliseconds."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tvnet import VARIANTS, default_checkpoint

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

    from tvnet import Predictor

log = logging.getLogger("tvnet.demo")

# results kept for re-rendering (attention and probabilities as float16): ≈ 6 MB each for a
# SynthRef-sized image (mostly the attention maps, cpu preset), up to ≈ 20 MB for an upload at
# the 1600-pixel working size
CACHE_SIZE = 8
MOST_RESULTS = 40  # at most, answers on show in any session included (≈ 250–800 MB)
SESSIONS = 1024  # sessions whose latest result is remembered (for the stale marking)


def checkpoint_variant(path: Path) -> str:
    """The variant a checkpoint folder holds, read from its config.json without loading it (so
    that the page can be laid out while the weights load); FileNotFoundError when it has none."""
    config = Path(path) / "config.json"
    if not config.is_file():
        raise FileNotFoundError(
            f"no checkpoint at {path} (config.json missing); pass --checkpoint DIR, or rebuild "
            "the bundled one with tools/build_default.sh"
        )
    try:
        variant = str(json.loads(config.read_text())["model"]["variant"])
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"checkpoint config {config} is unreadable: {e}") from e
    if variant not in VARIANTS:
        raise ValueError(f"checkpoint config {config} names an unknown variant {variant!r}")
    return variant


def _holds(folder: Path, variant: str) -> bool:
    """Is ``folder`` a checkpoint of ``variant`` (its config.json says so: a folder misfiled
    under another variant's name, or unreadable, is not shown as that variant)?"""
    try:
        return checkpoint_variant(folder) == variant
    except (OSError, ValueError):
        return False


def _budget(suffix: str) -> int | None:
    """The training samples a folder suffix names ("-160k" → 160000), or None."""
    m = re.fullmatch(r"-(\d+)k", suffix)
    return int(m.group(1)) * 1000 if m else None


def _smaller_budgets(folder: Path, variant: str, suffix: str) -> list[str]:
    """``variant``'s checkpoint folders in ``folder`` at a budget below ``suffix``'s, the
    largest first ("res-160k" for "-240k"); none when ``suffix`` names no budget."""
    top = _budget(suffix)
    if top is None or not folder.is_dir():
        return []
    found = []
    for d in folder.iterdir():
        b = _budget(d.name[len(variant) :]) if d.name.startswith(variant + "-") else None
        if b is not None and b < top:
            found.append((b, d.name))
    return [name for _, name in sorted(found, reverse=True)]


class Models:
    """The loaded predictors: the main one at start (``background``: in a thread, so that the
    page is served while the weights load; every call waits for it), the other variants on
    first use, each from ``variants_dir`` (default: the main checkpoint's folder), preferring
    the folder with the main one's suffix (``baseline-240k`` beside ``full-240k``), then the
    largest budget below it (``res-160k`` without a ``res-240k``), then Table 1's folder
    (``res``).
    ``load=False``: only what the checkpoints' config.json say (the variants, the main one),
    for a page whose models live in the worker process. ``prepare``: called first
    thing in the loading thread, before the model code is imported (the worker's
    :func:`~apps.demo.lazy_dynamo.defer_dynamo`)."""

    def __init__(
        self,
        checkpoint: str | Path | None = None,
        pool: str | Path | None = None,
        variants_dir: str | Path | None = None,
        device: str | None = None,
        pool_images: str | Path | None = None,
        background: bool = False,
        warmup: bool = False,
        load: bool = True,
        prepare: Callable[[], Any] | None = None,
    ):
        self.pool, self.pool_images, self.device = pool, pool_images, device
        main_dir = Path(checkpoint) if checkpoint else default_checkpoint()
        self.main = checkpoint_variant(main_dir)
        if VARIANTS[self.main].res and pool is not None and not Path(pool).is_dir():
            raise FileNotFoundError(f"no retrieval pool at {pool}")
        self.dirs: dict[str, Path] = {self.main: main_dir}
        vdir = Path(variants_dir) if variants_dir else main_dir.parent
        # the other variants at the main one's budget when they are there ("full-240k" →
        # "baseline-240k"), else at the largest budget below it that is ("res-160k"), else
        # Table 1's folders ("res")
        name = main_dir.name
        suffix = name[len(self.main) :] if name.startswith(self.main) else ""
        for v in VARIANTS:
            if v == self.main:
                continue
            for folder in dict.fromkeys((v + suffix, *_smaller_budgets(vdir, v, suffix), v)):
                if _holds(vdir / folder, v):
                    self.dirs[v] = vdir / folder
                    break
        self.dirs = {v: self.dirs[v] for v in VARIANTS if v in self.dirs}
        self._loaded: dict[str, Predictor] = {}
        # variant: (why it failed to load, its files' stamp): not tried again until they change
        self._broken: dict[str, tuple[str, tuple]] = {}
        # one call per model at a time (the variants' shared retriever locks its own encoders)
        self._locks = {v: threading.Lock() for v in self.dirs}
        self._load_lock = threading.Lock()
        self._ready = threading.Event()
        self._waiting = 0  # calls waiting for the main model
        self.error: BaseException | None = None
        self.load_s: float | None = None  # seconds from construction to the main model ready
        self._t0 = time.perf_counter()
        self.loads, self._prepare = load, prepare
        if not load:
            return
        if background:
            threading.Thread(
                target=self._load_main, args=(warmup,), name="load-model", daemon=True
            ).start()
        else:
            self._load_main(warmup)
            if self.error is not None:
                raise self.error

    def _load_main(self, warmup: bool) -> None:
        try:
            if self._prepare is not None:
                self._prepare()
            from tvnet import Predictor  # torch and the model code: only here

            t = time.perf_counter()
            p = Predictor.from_checkpoint(
                self.dirs[self.main], self.pool, device=self.device, pool_images=self.pool_images
            )
            log.info(
                "loaded %s from %s in %.1f s",
                p.variant,
                self.dirs[self.main],
                time.perf_counter() - t,
            )
            self._loaded[self.main] = p
        except BaseException as e:  # reported by wait() to every caller, and by the launcher
            self.error = e
            log.error("the model failed to load: %s", e)
        finally:
            self.load_s = time.perf_counter() - self._t0
            self._ready.set()
        # The first call pays for kernel set-up: pay it before any user does, unless a call
        # waited for the load (that call is then the warm-up, and it should not wait longer).
        if warmup and self.error is None and not self._waiting:
            import numpy as np

            with self._locks[self.main]:
                self._loaded[self.main](np.full((64, 64, 3), 128, np.uint8), "the object")

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self.error is None

    def wait(self, timeout: float | None = None, caller: bool = True) -> bool:
        """Block until the main model is loaded (or failed: then raise its error); False when
        ``timeout`` passed first. ``caller``: a call that needs the model (the launcher that
        only watches the load is not one)."""
        if not self.loads:
            raise RuntimeError("these Models describe the checkpoints only; the worker loads them")
        if caller and not self._ready.is_set():
            self._waiting += 1  # read by the loader: no warm-up ahead of a waiting call
            try:
                done = self._ready.wait(timeout)
            finally:
                self._waiting -= 1
        else:
            done = self._ready.wait(timeout)
        if done and self.error is not None:
            from tvnet import InputError

            raise InputError(f"the model failed to load: {self.error}")
        return done

    @property
    def variants(self) -> list[str]:
        return list(self.dirs)

    def known(self, variant: str | None) -> str:
        """``variant`` (default: the main one), or InputError when no checkpoint is here."""
        variant = variant or self.main
        if variant not in self.dirs:
            from tvnet import InputError

            raise InputError(
                f"no checkpoint for variant {variant!r}; available: {', '.join(self.dirs)}"
            )
        return variant

    def retrieves(self, variant: str | None = None) -> bool:
        """Whether ``variant`` (default: the main one) reads a retrieved neighbour."""
        return VARIANTS[self.known(variant)].res

    def get(self, variant: str | None) -> Predictor:
        variant = self.known(variant)
        self.wait()  # the main model first: the others share its retriever
        if variant in self._loaded:  # loaded once, then read without the lock
            return self._loaded[variant]
        from tvnet import InputError, Predictor

        with self._load_lock:  # another variant's first load waits here, the rest does not
            why, stamp = self._broken.get(variant, (None, None))
            if why is not None and stamp == files_stamp(self.dirs[variant]):  # not on every click
                raise InputError(why)
            if variant not in self._loaded:
                t = time.perf_counter()
                shared = next(
                    (p.retriever for p in self._loaded.values() if p.retriever is not None), None
                )
                try:
                    self._loaded[variant] = Predictor.from_checkpoint(
                        self.dirs[variant],
                        self.pool,
                        device=self.device,
                        pool_images=self.pool_images,
                        retriever=shared,  # one pool and one pair of encoders for all variants
                    )
                except (OSError, ValueError) as e:  # a damaged or missing file of its own
                    log.error("variant %s failed to load: %s", variant, e)
                    why = f"`{self.dirs[variant].name}` failed to load: {e}"
                    self._broken[variant] = (why, files_stamp(self.dirs[variant]))
                    raise InputError(why) from e
                self._broken.pop(variant, None)
                log.info("loaded %s in %.1f s", variant, time.perf_counter() - t)
        return self._loaded[variant]

    def predict(self, variant: str | None, image: np.ndarray, expression: str, **kw):
        return self.call(variant, None, image, expression, **kw)

    def call(self, variant: str | None, method: str | None, *args, **kw):
        """``predictor.method(*args, **kw)`` (None: the predictor itself), one at a time per
        model."""
        p = self.get(variant)
        with self._locks[p.variant]:
            return (p if method is None else getattr(p, method))(*args, **kw)


def files_stamp(folder: Path) -> tuple:
    """What changes when a checkpoint folder's files do (names, sizes, modification times)."""
    try:
        return tuple(sorted((f.name, f.stat().st_size, f.stat().st_mtime_ns)
                            for f in Path(folder).iterdir() if f.is_file()))  # fmt: skip
    except OSError:
        return ()


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
    source: str | None = None  # the upload's file, to tell when the input has changed
    chosen: int | None = None  # a neighbour the user chose: kept across variant switches
    influence: Any = None  # tvnet Influence of the neighbour (gate closed vs open), if any
    candidate_changed: dict[int, float] | None = None  # pool index → fraction that changes
    status: str = ""  # the status line as last shown (the stale marking reuses it)
    # what reading the upload itself noted ("image downscaled from …"): said again by the
    # answers that reuse its working copy (variant, mirror and neighbour switches)
    upload_notes: tuple[str, ...] = ()
    # this variant's own retrieval where it differs from ``retrieved``, the pick behind
    # ``candidates`` (the user's re-chosen neighbour was answered instead): what the marks,
    # the status and the JSON call retrieved; the choices keep comparing with ``retrieved``
    own_pick: int | None = None

    @property
    def retrieval_pick(self) -> int | None:
        """The entry this answer's variant retrieved, as shown to the user."""
        return self.retrieved if self.own_pick is None else self.own_pick

    # the attention level and the gates' box it was last drawn with: an answer redraws either
    # only when the control changed while it ran (the page sends the controls' values as the
    # call starts), and a change to what is shown draws nothing again
    level_shown: int | None = None
    gates_shown: bool | None = None


class ResultCache:
    """The last few results, by key (a session's gr.State holds only the key), and the key of
    each session's result on show (:meth:`remember`, :meth:`latest`: the stale marking reads
    it, so that a late event cannot mark a newer answer stale).

    It keeps every answer on show in some session, and the ``size`` most recently used
    results besides, up to ``most`` in all (least recently used out first): one busy visitor's
    answers do not expire the answer on another visitor's page."""

    def __init__(self, size: int = CACHE_SIZE, sessions: int = SESSIONS, most: int = MOST_RESULTS):
        self.size, self._d, self._lock = size, OrderedDict(), threading.Lock()
        self.sessions, self._latest = sessions, OrderedDict()
        self._failed: dict[str, tuple[str, Any, str]] = {}  # session: (key, input, status)
        self._calls: OrderedDict[str, list[int]] = OrderedDict()  # session: [started, finished]
        self._closed: OrderedDict[str, None] = OrderedDict()  # pages closed (unload), newest last
        self.most = max(most, 1)

    def begin(self, session: str | None) -> int | None:
        """A ticket for a call of ``session`` that starts now: calls are numbered in the order
        they start, so that one overtaken by a later call can tell (:meth:`finish`)."""
        if session is None:
            return None
        with self._lock:
            self._closed.pop(session, None)  # a call: the page lives (it reconnected)
            calls = self._calls.setdefault(session, [0, 0])
            self._calls.move_to_end(session)
            calls[0] += 1
            while len(self._calls) > self.sessions:
                self._calls.popitem(last=False)
            return calls[0]

    def _finish(self, session: str | None, ticket: int | None) -> bool:
        """False when a call of ``session`` that started after ``ticket`` has finished already:
        its answer or its error is on the page, and this older call must not replace it.
        Else ``ticket`` is the session's newest finished call from now on. Under the lock."""
        calls = self._calls.get(session) if session is not None else None
        if calls is None or ticket is None:  # no ticket, or one of a session forgotten since
            return True
        if calls[1] > ticket:
            return False
        calls[1] = ticket
        return True

    def finish(self, session: str | None, ticket: int | None) -> bool:
        """:meth:`_finish`, for a call that ends without a result (an error)."""
        with self._lock:
            return self._finish(session, ticket)

    def remember(self, session: str | None, key: str | None) -> None:
        """``key``: the session's result on show now (None: none, the page shows a message)."""
        if session is None:
            return
        with self._lock:
            if key is None:
                self._latest.pop(session, None)
                self._failed.pop(session, None)
                return
            self._show(session, key)
            self._evict(keep=key)  # the session's answer before this one may go now

    def release(self, session: str | None) -> None:
        """``session``'s page closed: its answer on show is no longer pinned (it may expire
        like any other) and its failure is forgotten; its call numbers stay, so that a call
        still running, or a later one if the page reconnects, is numbered on."""
        if session is None:
            return
        with self._lock:
            key = self._latest.pop(session, None)
            self._failed.pop(session, None)  # (its call numbers stay: a call still running
            self._closed[session] = None  # for it must not pin its answer, nor count as new)
            while len(self._closed) > self.sessions:
                self._closed.popitem(last=False)
            if key is not None and key in self._d:
                self._evict(keep=next(reversed(self._d)))

    def _show(self, session: str, key: str) -> None:
        """Record ``key`` as ``session``'s answer on show. Under the lock."""
        self._latest[session] = key
        self._latest.move_to_end(session)
        self._failed.pop(session, None)  # a new answer: the failure before it is over
        while len(self._latest) > self.sessions:
            gone, _ = self._latest.popitem(last=False)
            self._failed.pop(gone, None)

    def failed(self, session: str | None, key: str, inputs: Any, status: str) -> None:
        """``session``'s call on ``inputs`` failed with the answer ``key`` still on show:
        ``status`` (the error above that answer) stays the page's status while the page
        holds those inputs (:meth:`failure`), instead of a stale mark that drops the error."""
        if session is None:
            return
        with self._lock:
            if self._latest.get(session) == key:
                self._failed[session] = (key, inputs, status)

    def failure(self, session: str | None, key: str | None, inputs: Any) -> str | None:
        """The status :meth:`failed` recorded for ``session`` on ``inputs`` with ``key`` on
        show, or None."""
        with self._lock:
            got = self._failed.get(session) if session else None
        return got[2] if got and got[0] == key and got[1] == inputs else None

    def latest(self, session: str) -> str | None:
        with self._lock:
            return self._latest.get(session)

    def put(
        self, result: Result, session: str | None = None, ticket: int | None = None
    ) -> str | None:
        """Keep ``result``; its key. With ``session``, it is that session's answer on show
        from now on, in the same step (:meth:`remember`), so that another session's result,
        put meanwhile, cannot evict it as an answer on show nowhere. With the ``ticket`` of
        the call (:meth:`begin`): None, nothing kept, when a later call of the session has
        finished first (:meth:`_finish`)."""
        import numpy as np

        result.pred.attention = [a.astype(np.float16) for a in result.pred.attention]
        # drawn already; the influence reruns read the mask, not the probabilities
        result.pred.prob = result.pred.prob.astype(np.float16)
        key = uuid.uuid4().hex
        with self._lock:
            if not self._finish(session, ticket):
                return None
            if session in self._closed:  # its page closed while the call ran: kept unpinned
                session = None
            self._d[key] = result
            if session is not None:
                self._show(session, key)
            self._evict(keep=key)
        return key

    def _evict(self, keep: str) -> None:
        """Down to the answers on show and ``size`` others, then to ``most`` in all, least
        recently used first; ``keep`` (the newest) stays. Under the lock."""
        shown = {*self._latest.values(), keep}
        spare = [k for k in self._d if k not in shown]
        over = max(len(spare) - self.size, len(self._d) - self.most, 0)
        for k in spare[:over]:
            del self._d[k]
        while len(self._d) > self.most:  # more answers on show than ``most``
            del self._d[next(k for k in self._d if k != keep)]

    def get(self, key: str | None) -> Result:
        with self._lock:
            if key and key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        from tvnet import InputError

        raise InputError("no result to inspect: press Segment first (older results expire)")
