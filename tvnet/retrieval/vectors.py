"""Small array helpers shared by the pool's text index, image store and search."""

from __future__ import annotations

import numpy as np

CHUNK = 65_536  # rows per chunk when quantising / adding, bounds temporary memory


def unit(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` scaled to unit length, as float32 (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(n, 1e-12)


def as_2d(x: np.ndarray, what: str) -> np.ndarray:
    """``x`` as an N×d array (one vector becomes 1×d); anything else is an error."""
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2:
        raise ValueError(f"{what} must be N×d, got shape {x.shape}")
    return x
