"""The demo's models and results: :class:`Models` loads the main predictor at start and the
other variants on first use; :class:`ResultCache` keeps the last few results (a
:class:`Result` each) so that a click re-renders without running the model again."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tvnet import VARIANTS, InputError, Predictor, default_checkpoint

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

log = logging.getLogger("tvnet.demo")

CACHE_SIZE = 8  # results kept for re-rendering (attention as float16: ≈ 6 MB each, cpu preset)


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
