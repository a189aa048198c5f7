"""What the Predictor computes from an image alone, kept for the next call on the same image
(docs/design.md §7, "Recent images").

A person exploring the demo asks several expressions of one image, and the demo's influence
views rerun the network on the same query and neighbour. The backbone maps of the query and of
the retrieved pool image, and the retrieval image vector of the upload, depend on the pixels
only, so a bounded LRU keyed by a SHA-256 of the pixels serves them again: a repeated image
costs its hash (≈ 1 ms for a 320² input) instead of a backbone pass. Keys are the pixels
themselves, never a file name or a pool index, so a changed image can never be served a stale
entry; one cache belongs to one Predictor (one model, device and precision).

Backbone rows are cached one image at a time, so a batch whose rows were partly seen computes
only the others, as one smaller batch: those rows equal what a full batch gives up to float
rounding (a kernel may block a batch of 1 differently from a batch of 2).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

DEFAULT_ENTRIES = 32  # ≈ 1.2 MB of fp32 backbone maps per 320² Lite0 image: ≈ 40 MB in all
MAX_BYTES = 256 * 2**20  # and never more than this (ResNet-101 at stride 8: ≈ 30 MB an image)


def digest(a: np.ndarray | torch.Tensor) -> str:
    """SHA-256 of an array's dtype, shape and bytes (a tensor is read on the CPU)."""
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().contiguous().numpy()
    a = np.ascontiguousarray(a)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(memoryview(a).cast("B"))
    return h.hexdigest()


def _nbytes(value: Any) -> int:
    if isinstance(value, torch.Tensor):
        return value.element_size() * value.nelement()
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, list | tuple):
        return sum(_nbytes(v) for v in value)
    return 0


class RecentImages:
    """A bounded least-recently-used map from (kind, pixel digest) to what was computed from
    those pixels: at most ``entries`` values and ``max_bytes`` of arrays (on whatever device
    they live), the least recently used dropped first. ``entries`` = 0 switches it off (every
    call computes). Thread-safe; counts ``hits`` and ``misses``."""

    def __init__(self, entries: int = DEFAULT_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        if entries < 0:
            raise ValueError(f"recent_images must be ≥ 0, not {entries}")
        self.entries, self.max_bytes = int(entries), int(max_bytes)
        self.nbytes = 0
        self._d: OrderedDict[tuple[str, str], tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._d)

    def clear(self) -> None:
        with self._lock:
            self._d.clear()
            self.nbytes = 0

    def _get(self, key: tuple[str, str]) -> Any:
        with self._lock:
            item = self._d.get(key)
            if item is None:
                self.misses += 1
                return None
            self._d.move_to_end(key)
            self.hits += 1
            return item[0]

    def _put(self, key: tuple[str, str], value: Any) -> None:
        size = _nbytes(value)
        with self._lock:
            if key in self._d:
                self.nbytes -= self._d.pop(key)[1]
            self._d[key] = (value, size)
            self.nbytes += size
            while len(self._d) > self.entries or (
                self.nbytes > self.max_bytes and len(self._d) > 1
            ):
                self.nbytes -= self._d.popitem(last=False)[1][1]

    def value(self, kind: str, pixels: np.ndarray, compute: Callable[[], Any]) -> Any:
        """``compute()``, or what it returned for the same ``kind`` and the same pixels."""
        if not self.entries:
            return compute()
        key = (kind, digest(pixels))
        value = self._get(key)
        if value is None:
            value = compute()
            self._put(key, value)
        return value

    def backbone(
        self, x: torch.Tensor, extract: Callable[[torch.Tensor], list[torch.Tensor]]
    ) -> list[torch.Tensor]:
        """``extract(x)`` for a B×3×S×S batch, one map per level, B rows each; rows seen before
        come from the cache and only the others are computed (one call)."""
        if not self.entries:
            return extract(x)
        keys = [("backbone", digest(x[i])) for i in range(len(x))]
        rows: list[list[torch.Tensor] | None] = [self._get(k) for k in keys]
        missing = [i for i, r in enumerate(rows) if r is None]
        if missing:
            out = extract(x if len(missing) == len(x) else x[missing])
            for j, i in enumerate(missing):
                # a row of a larger batch is copied, so that the entry does not keep the batch
                row = [f if len(missing) == 1 else f[j : j + 1].clone() for f in out]
                rows[i] = row
                self._put(keys[i], row)
        if len(rows) == 1:
            return list(rows[0])
        return [torch.cat([r[level] for r in rows]) for level in range(len(rows[0]))]
