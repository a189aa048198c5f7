"""Stage 1 of the pool's search (docs/design.md §1): the faiss index over expression vectors.

- ``exact``: ``IndexFlatIP`` over float32 text vectors. Brute force; the default for pools
  below ``AUTO_EXACT_MAX`` entries (:mod:`tvnet.retrieval.pool`).
- ``ivf``: ``IndexIVFScalarQuantizer`` (8-bit codes, inner product) plus 2-bit refinement
  codes that re-score the candidates (:class:`TextRefine`). The default for larger pools;
  ``nprobe`` trades speed for recall (``index_params``).
- ``hnsw``: ``IndexHNSWSQ`` (8-bit) plus refinement as for ``ivf``. Much slower to build on
  few cores; +256 B per entry of graph.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tvnet.retrieval.vectors import CHUNK, unit

INDEX_TYPES = ("auto", "exact", "ivf", "hnsw")
REFINE_EXTRA = 16  # extra text candidates fetched for re-scoring by approximate indexes


def ivf_nlist(n: int) -> int:
    """Number of IVF lists: ~2·√n rounded to a power of two (2048 for 1M entries)."""
    return int(min(65_536, max(16, 2 ** round(math.log2(max(2.0 * math.sqrt(n), 1.0))))))


def build_text_index(text: np.ndarray, kind: str, params: dict[str, Any], seed: int = 0):
    """A faiss index of ``kind`` over the unit rows of ``text``; fills ``params`` with the
    index parameters it chose (nlist, nprobe / M, efConstruction, efSearch)."""
    import faiss

    n, d = text.shape
    if kind == "exact":
        index = faiss.IndexFlatIP(d)
    elif kind == "ivf":
        nlist = int(params.setdefault("nlist", ivf_nlist(n)))
        params.setdefault("nprobe", max(8, nlist // 32))
        quantizer = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        index.cp.seed = seed
        # faiss warns below 39 points per list; 32 per list trains well enough and is 2× faster.
        rng = np.random.default_rng(seed)
        n_train = min(n, max(32 * nlist, 20_000))
        sample = np.sort(rng.choice(n, n_train, replace=False)) if n_train < n else np.arange(n)
        index.cp.min_points_per_centroid = 1
        index.train(unit(text[sample]))
    elif kind == "hnsw":
        m = int(params.setdefault("M", 32))
        index = faiss.IndexHNSWSQ(d, faiss.ScalarQuantizer.QT_8bit, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(params.setdefault("efConstruction", 80))
        params.setdefault("efSearch", 128)
        index.train(unit(text[: min(n, 200_000)]))
    else:
        raise ValueError(f"unknown index type {kind!r}; choose from {INDEX_TYPES}")
    for s in range(0, n, CHUNK):
        index.add(unit(text[s : s + CHUNK]))
    return index


class TextRefine:
    """Low-bit codes of what the index's 8-bit text codes got wrong (x − decode(code)), per dim.

    faiss returns q·decode(code) as the text score; adding q·decode_r(refine code) makes it
    2^bits times more precise (bits = 2 by default: 96 B per 384-d vector). Without it, 8-bit
    rounding (~3e-4 per score) reorders the candidates around rank 20 of dense pools, where
    neighbouring text scores are ~1e-3 apart.
    """

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.a = arrays
        self.bits = int(arrays["bits"])
        self.dim = len(arrays["lo"])

    @staticmethod
    def _codec(index: Any) -> Any:
        import faiss

        return faiss.downcast_index(index.storage) if hasattr(index, "hnsw") else index

    @classmethod
    def build(cls, index: Any, text: np.ndarray, bits: int = 2, seed: int = 0) -> TextRefine:
        if bits not in (1, 2, 4, 8):
            raise ValueError(f"refinement bits must be 1, 2, 4 or 8, got {bits}")
        n, d = text.shape
        per_byte, levels = 8 // bits, 2**bits - 1
        # Decode the stored codes (no second coarse assignment: IVF reads them via a direct map).
        store = cls._codec(index) if hasattr(index, "hnsw") else index
        if not hasattr(index, "hnsw"):
            index.make_direct_map()

        def err(ids: np.ndarray) -> np.ndarray:
            return unit(text[ids]) - store.reconstruct_batch(ids)

        rng = np.random.default_rng(seed)
        sample = err(np.sort(rng.choice(n, min(n, 50_000), replace=False)))
        # 0.1–99.9 % range per dim: values outside the 8-bit range would otherwise widen it
        lo = np.quantile(sample, 0.001, axis=0).astype(np.float32)
        hi = np.quantile(sample, 0.999, axis=0).astype(np.float32)
        step = (np.maximum(hi - lo, 1e-12) / levels).astype(np.float32)
        pad = -d % per_byte
        codes = np.zeros((n, (d + pad) // per_byte), np.uint8)
        for s in range(0, n, CHUNK):
            e = err(np.arange(s, min(n, s + CHUNK)))
            q = np.clip(np.rint((e - lo) / step), 0, levels).astype(np.uint8)
            q = np.pad(q, ((0, 0), (0, pad)))
            for j in range(per_byte):
                codes[s : s + CHUNK] |= q[:, j::per_byte] << (j * bits)
        if not hasattr(index, "hnsw"):
            index.make_direct_map(False)  # 8 B per entry, not needed for search
        return cls({"codes": codes, "lo": lo, "step": step, "bits": np.array(bits)})

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for v in self.a.values())

    def correction(self, q: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """q·decode_r(ids) for unit queries q (Q×d) and entry ids (Q×k, ≥ 0)."""
        c = self.a["codes"][ids]  # Q×k×(d/per_byte)
        bits, per_byte = self.bits, 8 // self.bits
        mask = np.uint8(2**bits - 1)
        vals = np.empty(c.shape[:2] + (c.shape[2] * per_byte,), np.float32)
        for j in range(per_byte):
            vals[..., j::per_byte] = (c >> np.uint8(j * bits)) & mask
        # q·(lo + v·step) = q·lo + (q⊙step)·v
        qs = q * self.a["step"]
        return np.einsum("qkd,qd->qk", vals[..., : self.dim], qs) + (q @ self.a["lo"])[:, None]


def search_text(
    index: Any,
    refine: TextRefine | None,
    params: dict[str, Any],
    q: np.ndarray,
    k: int,
    depth: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Text top-k (scores, ids) best first; ``depth`` ≥ 1 widens approximate indexes.

    ``params``: the pool manifest's ``index`` entry (type and search parameters)."""
    import faiss

    kind = params["type"]
    if kind == "exact":
        return index.search(q, k)
    if kind == "ivf":
        nprobe = min(int(params["nlist"]), int(params["nprobe"]) * depth)
        search_params = faiss.SearchParametersIVF(nprobe=nprobe, max_codes=0)
    else:
        search_params = faiss.SearchParametersHNSW(
            efSearch=max(int(params["efSearch"]) * depth, k + REFINE_EXTRA)
        )
    # Over-fetch, then re-score with the refinement codes: entries just past rank k by
    # their 8-bit score may belong inside.
    kk = min(int(index.ntotal), k + REFINE_EXTRA)
    dist, nbr = index.search(q, kk, params=search_params)
    valid = nbr >= 0
    dist = np.where(valid, dist + refine.correction(q, np.maximum(nbr, 0)), -np.inf)
    order = np.argsort(-dist, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(dist, order, 1).astype(np.float32), np.take_along_axis(nbr, order, 1)
