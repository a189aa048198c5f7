"""Stage 2 of the pool's search (docs/design.md §1): the image vectors and their cosine scores.

Image vectors are stored once per image, not per expression (RefCOCO has ~7 expressions per
image), and the stage-2 score is the cosine with the stored (possibly quantised) vector:

- ``fp32`` / ``fp16``: unit vectors as they are (fp32 is the default of exact pools);
- ``sq8``: per-dimension 8-bit codes (the default of approximate pools), a quarter of fp32.
"""

from __future__ import annotations

import numpy as np
import torch

from tvnet.retrieval.vectors import CHUNK, unit

IMAGE_STORAGES = ("auto", "fp32", "fp16", "sq8")


def matmul_t(q: np.ndarray, data: np.ndarray) -> np.ndarray:
    """q (Q×d) · dataᵀ (d×n) in float32, on PyTorch's thread pool rather than numpy's BLAS.

    numpy's OpenBLAS keeps threads of its own, which busy-wait for about 0.1 s after each
    multithreaded product; on a 2-core CPU they took a core from the backbone pass that follows
    in every Predictor call (docs/design.md §7, "CPU runtime": 72–95 ms inside a call against
    34–40 alone)."""
    a = torch.from_numpy(np.ascontiguousarray(q, dtype=np.float32))
    b = torch.from_numpy(np.asarray(data, dtype=np.float32))
    with torch.inference_mode(), torch.autocast("cpu", enabled=False):  # fp32 under any caller
        return (a @ b.T).numpy()


class ImageStore:
    """Image vectors, one row per distinct image; cosine scores against gathered rows."""

    def __init__(self, kind: str, arrays: dict[str, np.ndarray]) -> None:
        self.kind = kind
        self.a = arrays
        self.dim = int(arrays["data"].shape[1])

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str) -> ImageStore:
        if kind == "fp32":
            return cls(kind, {"data": unit(vectors)})
        if kind == "fp16":
            return cls(kind, {"data": unit(vectors).astype(np.float16)})
        if kind != "sq8":
            raise ValueError(f"unknown image storage {kind!r}; choose from {IMAGE_STORAGES[1:]}")
        n, d = vectors.shape
        # Per-dimension range over the data (chunked: the input may be large).
        lo = np.full(d, np.inf, np.float32)
        hi = np.full(d, -np.inf, np.float32)
        for s in range(0, n, CHUNK):
            c = unit(vectors[s : s + CHUNK])
            lo, hi = np.minimum(lo, c.min(0)), np.maximum(hi, c.max(0))
        step = np.maximum(hi - lo, 1e-12) / 255.0
        codes = np.empty((n, d), np.uint8)
        norms = np.empty(n, np.float32)
        for s in range(0, n, CHUNK):
            c = unit(vectors[s : s + CHUNK])
            q = np.clip(np.rint((c - lo) / step), 0, 255).astype(np.uint8)
            codes[s : s + CHUNK] = q
            # Cosine uses the norm of the reconstruction, so a quantised vector scores as a unit one.
            norms[s : s + CHUNK] = np.linalg.norm(lo + q * step, axis=1)
        return cls("sq8", {"data": codes, "lo": lo, "step": step.astype(np.float32), "norm": norms})

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for v in self.a.values())

    def __len__(self) -> int:
        return int(self.a["data"].shape[0])

    def scores(self, q: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cosine of unit queries q (Q×d) with stored rows (Q×k, -1 = none → -inf)."""
        valid = rows >= 0
        r = np.where(valid, rows, 0)
        data = self.a["data"][r]  # Q×k×d
        if self.kind == "sq8":
            # x ≈ lo + code·step  ⇒  q·x = q·lo + (q⊙step)·code
            dot = np.einsum("qkd,qd->qk", data.astype(np.float32), q * self.a["step"])
            out = (dot + (q @ self.a["lo"])[:, None]) / np.maximum(self.a["norm"][r], 1e-12)
        else:
            out = np.einsum("qkd,qd->qk", data.astype(np.float32), q)
        return np.where(valid, out, -np.inf).astype(np.float32)

    def best(
        self, q: np.ndarray, exclude: tuple[np.ndarray, np.ndarray] | None = None
    ) -> np.ndarray:
        """Cosine of each unit query q (Q×d) with its most similar stored row. ``exclude``
        (optional): a label per stored row (N) and one per query (Q); query i skips the rows
        labelled as it is (→ -inf when it skips every row). The mask is built a chunk of rows
        at a time, never Q×N at once."""
        return self.nearest(q, exclude)[0]

    def nearest(
        self, q: np.ndarray, exclude: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`best`'s cosines (Q float32) and the stored row of each (Q int64; -1 where
        every row is masked)."""
        if exclude is not None:
            row_label, query_label = (np.asarray(a).reshape(-1) for a in exclude)
            if len(row_label) != len(self) or len(query_label) != len(q):
                raise ValueError(
                    f"exclude labels {len(row_label)} rows and {len(query_label)} queries; "
                    f"the store has {len(self)} rows and there are {len(q)} queries"
                )
        best = np.full(len(q), -np.inf, np.float32)
        where = np.full(len(q), -1, np.int64)
        step = 4096
        for s in range(0, len(self), step):
            rows = slice(s, min(s + step, len(self)))
            data = self.a["data"][rows].astype(np.float32, copy=False)  # n×d (a view for fp32)
            if self.kind == "sq8":
                sc = matmul_t(q * self.a["step"], data) + (q @ self.a["lo"])[:, None]
                sc = sc / np.maximum(self.a["norm"][rows], 1e-12)
            else:
                sc = matmul_t(q, data)  # Q×n
            if exclude is not None:
                sc = np.where(row_label[None, rows] == query_label[:, None], -np.inf, sc)
            top = sc.max(1).astype(np.float32)
            better = top > best
            where[better] = s + sc.argmax(1)[better]
            best = np.maximum(best, top)
        return best, where

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """Reconstructed (unit) float32 vectors of ``rows``."""
        data = self.a["data"][rows]
        if self.kind == "sq8":
            x = self.a["lo"] + data.astype(np.float32) * self.a["step"]
            return x / np.maximum(self.a["norm"][rows], 1e-12)[..., None]
        return data.astype(np.float32)
