"""The RES data pool (docs/design.md §1): two-stage nearest-neighbour search over (expression, image) pairs.

Stage 1 ranks the pool by cosine similarity of the expressions' text embeddings and keeps the
top ``k_text`` (20 in the paper); stage 2 re-ranks those by cosine similarity of the image
embeddings and returns the best. Entries whose image is the query's own are never returned;
when the text neighbours are mostly the query's own image the search goes deeper until
``k_text`` eligible candidates are found.

Storage (faiss for stage 1, numpy for stage 2):

- ``exact``: ``IndexFlatIP`` over float32 text vectors, float32 image vectors. Brute force;
  the default for pools below ``AUTO_EXACT_MAX`` entries.
- ``ivf``: ``IndexIVFScalarQuantizer`` (8-bit codes, inner product) over text vectors plus
  2-bit refinement codes that re-score the candidates (see :class:`_TextRefine`); image
  vectors as per-dimension 8-bit codes. About 1/4 of the float32 memory: 1M entries with
  384-d text and 1280-d image vectors (all distinct images) hold ~1.7 GiB. The default for
  larger pools; ``nprobe`` trades speed for recall (``index_params``).
- ``hnsw``: ``IndexHNSWSQ`` (8-bit) over text vectors, refinement and images as for ``ivf``.
  Much slower to build on few cores; +256 B per entry of graph.

Image vectors are stored once per image, not per expression (RefCOCO has ~7 expressions per
image), and the stage-2 score is the cosine with the stored (possibly quantised) vector.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tvnet.io import atomic_write_json, read_json, replace_dir

FORMAT = "tvnet-pool/1"
INDEX_TYPES = ("auto", "exact", "ivf", "hnsw")
IMAGE_STORAGES = ("auto", "fp32", "fp16", "sq8")
AUTO_EXACT_MAX = 50_000  # below this many entries, "auto" means exact brute force
REQUIRED_META = ("sample_id", "image_id", "sentence")
_FILES = ("manifest.json", "text.faiss", "image_store.npz", "entries.npz", "meta.parquet")
_CHUNK = 65_536  # rows per chunk when quantising / adding, bounds temporary memory
_REFINE_EXTRA = 16  # extra text candidates fetched for re-scoring by approximate indexes


class PoolMismatchError(ValueError):
    """The pool was built with other encoders (or another dataset) than the caller expects."""


@dataclass
class SearchResult:
    """Per query: the chosen entry (-1 when the pool holds no eligible entry) and its scores."""

    indices: np.ndarray  # N int64
    text_scores: np.ndarray  # N float32 (NaN where indices == -1)
    image_scores: np.ndarray  # N float32 (NaN where indices == -1)


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(n, 1e-12)


def _release_arrow_memory() -> None:
    """Hand pyarrow's freed read buffers back to the OS (tens of MiB after a large parquet)."""
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except (ImportError, AttributeError):  # pragma: no cover
        pass


def _as_2d(x: np.ndarray, what: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2:
        raise ValueError(f"{what} must be N×d, got shape {x.shape}")
    return x


# --------------------------------------------------------------------------- image storage


class _ImageStore:
    """Image vectors, one row per distinct image; cosine scores against gathered rows."""

    def __init__(self, kind: str, arrays: dict[str, np.ndarray]) -> None:
        self.kind = kind
        self.a = arrays
        self.dim = int(arrays["data"].shape[1])

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str) -> _ImageStore:
        if kind == "fp32":
            return cls(kind, {"data": _unit(vectors)})
        if kind == "fp16":
            return cls(kind, {"data": _unit(vectors).astype(np.float16)})
        if kind != "sq8":
            raise ValueError(f"unknown image storage {kind!r}; choose from {IMAGE_STORAGES[1:]}")
        n, d = vectors.shape
        # Per-dimension range over the data (chunked: the input may be large).
        lo = np.full(d, np.inf, np.float32)
        hi = np.full(d, -np.inf, np.float32)
        for s in range(0, n, _CHUNK):
            c = _unit(vectors[s : s + _CHUNK])
            lo, hi = np.minimum(lo, c.min(0)), np.maximum(hi, c.max(0))
        step = np.maximum(hi - lo, 1e-12) / 255.0
        codes = np.empty((n, d), np.uint8)
        norms = np.empty(n, np.float32)
        for s in range(0, n, _CHUNK):
            c = _unit(vectors[s : s + _CHUNK])
            q = np.clip(np.rint((c - lo) / step), 0, 255).astype(np.uint8)
            codes[s : s + _CHUNK] = q
            # Cosine uses the norm of the reconstruction, so a quantised vector scores as a unit one.
            norms[s : s + _CHUNK] = np.linalg.norm(lo + q * step, axis=1)
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

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """Reconstructed (unit) float32 vectors of ``rows``."""
        data = self.a["data"][rows]
        if self.kind == "sq8":
            x = self.a["lo"] + data.astype(np.float32) * self.a["step"]
            return x / np.maximum(self.a["norm"][rows], 1e-12)[..., None]
        return data.astype(np.float32)


# --------------------------------------------------------------------------- text index


def _ivf_nlist(n: int) -> int:
    """Number of IVF lists: ~2·√n rounded to a power of two (2048 for 1M entries)."""
    return int(min(65_536, max(16, 2 ** round(math.log2(max(2.0 * math.sqrt(n), 1.0))))))


def _build_text_index(text: np.ndarray, kind: str, params: dict[str, Any], seed: int = 0):
    import faiss

    n, d = text.shape
    if kind == "exact":
        index = faiss.IndexFlatIP(d)
    elif kind == "ivf":
        nlist = int(params.setdefault("nlist", _ivf_nlist(n)))
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
        index.train(_unit(text[sample]))
    elif kind == "hnsw":
        m = int(params.setdefault("M", 32))
        index = faiss.IndexHNSWSQ(d, faiss.ScalarQuantizer.QT_8bit, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(params.setdefault("efConstruction", 80))
        params.setdefault("efSearch", 128)
        index.train(_unit(text[: min(n, 200_000)]))
    else:
        raise ValueError(f"unknown index type {kind!r}; choose from {INDEX_TYPES}")
    for s in range(0, n, _CHUNK):
        index.add(_unit(text[s : s + _CHUNK]))
    return index


class _TextRefine:
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
    def build(cls, index: Any, text: np.ndarray, bits: int = 2, seed: int = 0) -> _TextRefine:
        if bits not in (1, 2, 4, 8):
            raise ValueError(f"refinement bits must be 1, 2, 4 or 8, got {bits}")
        n, d = text.shape
        per_byte, levels = 8 // bits, 2**bits - 1
        # Decode the stored codes (no second coarse assignment: IVF reads them via a direct map).
        store = cls._codec(index) if hasattr(index, "hnsw") else index
        if not hasattr(index, "hnsw"):
            index.make_direct_map()

        def err(ids: np.ndarray) -> np.ndarray:
            return _unit(text[ids]) - store.reconstruct_batch(ids)

        rng = np.random.default_rng(seed)
        sample = err(np.sort(rng.choice(n, min(n, 50_000), replace=False)))
        # 0.1–99.9 % range per dim: values outside the 8-bit range would otherwise widen it
        lo = np.quantile(sample, 0.001, axis=0).astype(np.float32)
        hi = np.quantile(sample, 0.999, axis=0).astype(np.float32)
        step = (np.maximum(hi - lo, 1e-12) / levels).astype(np.float32)
        pad = -d % per_byte
        codes = np.zeros((n, (d + pad) // per_byte), np.uint8)
        for s in range(0, n, _CHUNK):
            e = err(np.arange(s, min(n, s + _CHUNK)))
            q = np.clip(np.rint((e - lo) / step), 0, levels).astype(np.uint8)
            q = np.pad(q, ((0, 0), (0, pad)))
            for j in range(per_byte):
                codes[s : s + _CHUNK] |= q[:, j::per_byte] << (j * bits)
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


# --------------------------------------------------------------------------- the pool


class DataPool:
    """A searchable pool of (expression, image) entries. Build with :meth:`from_embeddings`
    or :meth:`load`; query with :meth:`search` (batch) or :meth:`search_candidates` (one)."""

    def __init__(
        self,
        text_index: Any,
        images: _ImageStore,
        entry_image_row: np.ndarray,
        meta: pd.DataFrame,
        manifest: dict[str, Any],
        text_refine: _TextRefine | None = None,
    ) -> None:
        self.text_index = text_index
        self.text_refine = text_refine  # None for exact pools
        self.images = images
        # N int64, the image of each entry: a view of meta's column where possible
        self.image_ids = meta["image_id"].to_numpy().astype(np.int64, copy=False)
        self.entry_image_row = entry_image_row  # N int32/64: row of `images` for each entry
        self.meta = meta
        self.manifest = manifest
        counts = (
            np.bincount(entry_image_row, minlength=len(images)) if len(entry_image_row) else [0]
        )
        self._max_per_image = int(np.max(counts))

    # ----------------------------------------------------------------- construction

    @classmethod
    def from_embeddings(
        cls,
        text_emb: np.ndarray,
        image_emb: np.ndarray,
        image_ids: np.ndarray,
        meta: pd.DataFrame,
        manifest: dict[str, Any] | None = None,
        index: str = "auto",
        *,
        image_emb_ids: np.ndarray | None = None,
        image_storage: str = "auto",
        index_params: dict[str, Any] | None = None,
    ) -> DataPool:
        """Build a pool.

        text_emb: N×d_t; image_ids: N ints (the image of each entry); meta: N rows with at least
        columns sample_id, image_id, sentence. image_emb: N×d_i, one row per entry (rows of one
        image are stored once), or, with ``image_emb_ids``, one row per distinct image, whose
        ids ``image_emb_ids`` lists. manifest: encoder/dataset description (see
        :func:`pool_manifest`); the pool adds count and index details. index: "auto" (exact
        below ``AUTO_EXACT_MAX`` entries, else ivf), "exact", "ivf" or "hnsw".
        """
        t0 = time.perf_counter()
        text_emb = _as_2d(text_emb, "text_emb")
        image_emb = _as_2d(image_emb, "image_emb")
        image_ids = np.asarray(image_ids).astype(np.int64, copy=False).reshape(-1)
        n = len(text_emb)
        if n == 0:
            raise ValueError("cannot build a pool from 0 entries")
        if len(image_ids) != n or len(meta) != n:
            raise ValueError(
                f"pool inputs disagree: {n} text vectors, {len(image_ids)} image ids, {len(meta)} meta rows"
            )
        missing = [c for c in REQUIRED_META if c not in meta.columns]
        if missing:
            raise ValueError(f"meta lacks columns {missing} (needs {list(REQUIRED_META)})")
        if not np.array_equal(meta["image_id"].to_numpy().astype(np.int64), image_ids):
            raise ValueError("meta['image_id'] differs from image_ids")
        for what, x in (("text_emb", text_emb), ("image_emb", image_emb)):
            if not all(np.isfinite(x[s : s + _CHUNK]).all() for s in range(0, len(x), _CHUNK)):
                raise ValueError(f"{what} contains NaN or inf")

        # One image row per distinct image.
        if image_emb_ids is None:
            if len(image_emb) != n:
                raise ValueError(
                    f"image_emb has {len(image_emb)} rows for {n} entries; pass one row per entry, "
                    "or one per distinct image together with image_emb_ids"
                )
            uniq, first, inverse = np.unique(image_ids, return_index=True, return_inverse=True)
            store_src = image_emb[first] if len(uniq) < n else image_emb
            if len(uniq) == n:  # np.unique sorted them; keep the entry order instead
                uniq, inverse = image_ids, np.arange(n)
        else:
            uniq = np.asarray(image_emb_ids).astype(np.int64).reshape(-1)
            if len(uniq) != len(image_emb):
                raise ValueError(f"{len(image_emb)} image rows but {len(uniq)} image_emb_ids")
            if len(np.unique(uniq)) != len(uniq):
                raise ValueError("image_emb_ids has duplicates")
            order = np.argsort(uniq, kind="stable")
            pos = np.searchsorted(uniq[order], image_ids)
            pos = np.minimum(pos, len(uniq) - 1)
            if not np.array_equal(uniq[order][pos], image_ids):
                raise ValueError("some entries' image ids have no row in image_emb")
            inverse, store_src = order[pos], image_emb
        entry_image_row = np.asarray(inverse, dtype=np.int32 if len(uniq) < 2**31 else np.int64)

        kind = index
        if kind == "auto":
            kind = "exact" if n < AUTO_EXACT_MAX else "ivf"
        if kind not in INDEX_TYPES[1:]:
            raise ValueError(f"unknown index type {index!r}; choose from {INDEX_TYPES}")
        storage = image_storage
        if storage == "auto":
            storage = "fp32" if kind == "exact" else "sq8"
        params = dict(index_params or {})
        text_index = _build_text_index(text_emb, kind, params)
        refine = None
        if kind != "exact":
            refine = _TextRefine.build(
                text_index, text_emb, bits=int(params.setdefault("refine_bits", 2))
            )
        images = _ImageStore.build(store_src, storage)

        man = dict(manifest or {})
        man.setdefault("text_encoder", {"name": "unknown", "dim": int(text_emb.shape[1])})
        man.setdefault("image_encoder", {"name": "unknown", "dim": int(image_emb.shape[1])})
        man.setdefault("dataset", {"name": "unknown", "split": "unknown"})
        for key, d in (("text_encoder", text_emb.shape[1]), ("image_encoder", image_emb.shape[1])):
            if int(man[key].get("dim", d)) != d:
                raise ValueError(f"manifest says {key} dim {man[key]['dim']}, embeddings have {d}")
        man.update(
            format=FORMAT,
            count=n,
            images=len(uniq),
            index={
                "type": kind,
                "text_storage": "fp32" if kind == "exact" else "sq8+refine",
                "image_storage": storage,
                **params,
            },
            build_seconds=round(time.perf_counter() - t0, 3),
        )
        meta = meta.reset_index(drop=True)
        return cls(text_index, images, entry_image_row, meta, man, refine)

    # ----------------------------------------------------------------- info

    def __len__(self) -> int:
        return int(self.text_index.ntotal)

    def __repr__(self) -> str:
        ix = self.manifest["index"]
        return (
            f"DataPool({len(self)} entries, {len(self.images)} images, index={ix['type']}, "
            f"images={ix['image_storage']}, text={self.manifest['text_encoder'].get('name')}, "
            f"image={self.manifest['image_encoder'].get('name')})"
        )

    @property
    def index_type(self) -> str:
        return self.manifest["index"]["type"]

    def nbytes(self) -> int:
        """Approximate bytes held by the vectors and ids (meta table excluded)."""
        ix, n = self.text_index, len(self)
        if self.index_type == "exact":
            text = n * ix.d * 4
        elif self.index_type == "ivf":
            text = n * (ix.code_size + 8) + ix.nlist * ix.d * 4  # codes + ids + centroids
        else:
            text = n * (ix.storage.code_size + 4 * 2 * int(self.manifest["index"]["M"]))
        text += self.text_refine.nbytes if self.text_refine is not None else 0
        return int(text + self.images.nbytes + self.image_ids.nbytes + self.entry_image_row.nbytes)

    def check_manifest(self, expect: dict[str, Any]) -> None:
        """Raise :class:`PoolMismatchError` when ``expect`` (e.g. from :func:`pool_manifest`)
        names other encoders or another dataset than the pool was built with."""
        diffs = []
        for key in ("text_encoder", "image_encoder", "dataset"):
            want = expect.get(key)
            if not want:
                continue
            have = self.manifest.get(key, {})
            for field, value in want.items():
                if value is not None and have.get(field) != value:
                    diffs.append(f"{key}.{field}: pool has {have.get(field)!r}, expected {value!r}")
        if diffs:
            raise PoolMismatchError(
                "the pool was built differently than expected — "
                + "; ".join(diffs)
                + ". Rebuild it with `tvnet pool build` using the same encoders."
            )

    # ----------------------------------------------------------------- search

    def _search_text(self, q: np.ndarray, k: int, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """Text top-k (scores, ids) best first; ``depth`` ≥ 1 widens approximate indexes."""
        import faiss

        kind = self.index_type
        ix = self.manifest["index"]
        if kind == "exact":
            return self.text_index.search(q, k)
        if kind == "ivf":
            nprobe = min(int(ix["nlist"]), int(ix["nprobe"]) * depth)
            params = faiss.SearchParametersIVF(nprobe=nprobe, max_codes=0)
        else:
            params = faiss.SearchParametersHNSW(
                efSearch=max(int(ix["efSearch"]) * depth, k + _REFINE_EXTRA)
            )
        # Over-fetch, then re-score with the refinement codes: entries just past rank k by
        # their 8-bit score may belong inside.
        kk = min(len(self), k + _REFINE_EXTRA)
        dist, nbr = self.text_index.search(q, kk, params=params)
        valid = nbr >= 0
        dist = np.where(valid, dist + self.text_refine.correction(q, np.maximum(nbr, 0)), -np.inf)
        order = np.argsort(-dist, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(dist, order, 1).astype(np.float32), np.take_along_axis(
            nbr, order, 1
        )

    def _text_candidates(
        self, text_q: np.ndarray, exclude: np.ndarray | None, k_text: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Q×k_text entry ids (-1 = none) and text scores, best first, own image excluded."""
        n, nq = len(self), len(text_q)
        k_text = min(k_text, n)
        ids = np.full((nq, k_text), -1, np.int64)
        scores = np.full((nq, k_text), -np.inf, np.float32)
        # Fetch enough that even the most prolific image cannot crowd out k_text eligible ones;
        # rows that still fall short (approximate indexes) retry deeper.
        k = min(n, k_text + (min(self._max_per_image, 256) if exclude is not None else 0))
        todo, depth = np.arange(nq), 1
        while todo.size:
            dist, nbr = self._search_text(text_q[todo], k, depth)
            ok = nbr >= 0
            if exclude is not None:
                ok &= self.image_ids[np.where(ok, nbr, 0)] != exclude[todo, None]
            count = ok.sum(1)
            ix = self.manifest["index"]
            if self.index_type == "ivf":  # everything scanned: all entries, all lists
                exhausted = k >= n and int(ix["nprobe"]) * depth >= int(ix["nlist"])
            elif self.index_type == "hnsw":
                exhausted = k >= n and depth >= 64
            else:
                exhausted = k >= n
            done = (count >= k_text) | exhausted
            if done.any():
                # first k_text eligible per row, keeping the score order
                order = np.argsort(~ok[done], axis=1, kind="stable")[:, :k_text]
                sel_i = np.take_along_axis(nbr[done], order, 1)
                sel_d = np.take_along_axis(dist[done], order, 1)
                sel_ok = np.take_along_axis(ok[done], order, 1)
                w = sel_i.shape[1]
                ids[todo[done], :w] = np.where(sel_ok, sel_i, -1)
                scores[todo[done], :w] = np.where(sel_ok, sel_d, -np.inf)
            todo = todo[~done]
            k, depth = min(n, k * 4), depth * 4
        return ids, scores

    def _prepare_queries(self, text_q, image_q, exclude_image_ids):
        text_q = _unit(_as_2d(text_q, "text_q"))
        image_q = _unit(_as_2d(image_q, "image_q"))
        if len(text_q) != len(image_q):
            raise ValueError(f"{len(text_q)} text queries but {len(image_q)} image queries")
        for what, q, d in (
            ("text", text_q, self.text_index.d),
            ("image", image_q, self.images.dim),
        ):
            if q.shape[1] != d:
                raise ValueError(f"{what} queries are {q.shape[1]}-d, the pool holds {d}-d vectors")
        exclude = None
        if exclude_image_ids is not None:
            exclude = np.asarray(exclude_image_ids).astype(np.int64).reshape(-1)
            if exclude.size == 1 and len(text_q) > 1:
                exclude = np.full(len(text_q), exclude[0], np.int64)
            if len(exclude) != len(text_q):
                raise ValueError(f"{len(exclude)} exclude ids for {len(text_q)} queries")
        return text_q, image_q, exclude

    def _rerank(self, image_q: np.ndarray, cand: np.ndarray) -> np.ndarray:
        """Stage 2 over Q×k candidates → Q×k image scores (-inf where cand == -1)."""
        rows = np.where(cand >= 0, self.entry_image_row[np.maximum(cand, 0)], -1)
        return self.images.scores(image_q, rows)

    def search_detailed(
        self,
        text_q: np.ndarray,
        image_q: np.ndarray,
        exclude_image_ids: np.ndarray | None = None,
        k_text: int = 20,
        batch: int = 256,
        progress: bool = False,
    ) -> SearchResult:
        """Two-stage search for Q queries; chosen entry + its text and image cosine."""
        if k_text < 1:
            raise ValueError(f"k_text must be ≥ 1, got {k_text}")
        text_q, image_q, exclude = self._prepare_queries(text_q, image_q, exclude_image_ids)
        nq = len(text_q)
        idx = np.full(nq, -1, np.int64)
        ts = np.full(nq, np.nan, np.float32)
        im = np.full(nq, np.nan, np.float32)
        starts = range(0, nq, batch)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="search pool", unit="batch")
        for s in starts:
            sl = slice(s, s + batch)
            cand, ctext = self._text_candidates(
                text_q[sl], None if exclude is None else exclude[sl], k_text
            )
            for a in range(0, len(cand), 128):  # bounds the Q×k×d gather
                c, ct = cand[a : a + 128], ctext[a : a + 128]
                img = self._rerank(image_q[sl][a : a + 128], c)
                best = np.argmax(img, axis=1)  # ties → the better text rank (first maximum)
                r = np.arange(len(c))
                found = c[r, best] >= 0
                o = s + a + r[found]
                idx[o] = c[r, best][found]
                ts[o] = ct[r, best][found]
                im[o] = img[r, best][found]
        return SearchResult(idx, ts, im)

    def search(
        self,
        text_q: np.ndarray,
        image_q: np.ndarray,
        exclude_image_ids: np.ndarray | None = None,
        k_text: int = 20,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Two-stage search. text_q Q×d_t, image_q Q×d_i, exclude_image_ids Q ints (the
        queries' own images; None = exclude nothing). Returns (entry indices Q, image cosine
        of the chosen entry Q); index -1 / NaN where the pool holds no eligible entry."""
        r = self.search_detailed(text_q, image_q, exclude_image_ids, k_text)
        return r.indices, r.image_scores

    def search_candidates(
        self,
        text_q: np.ndarray,
        image_q: np.ndarray,
        exclude_image_id: int | None = None,
        k_text: int = 20,
    ) -> pd.DataFrame:
        """One query: its k_text text candidates, one row each, best final rank first.

        Columns: index, the meta columns, text_score, text_rank (1 = best text match),
        image_score, rank (1 = chosen), chosen.
        """
        text_q, image_q, exclude = self._prepare_queries(
            text_q, image_q, None if exclude_image_id is None else [exclude_image_id]
        )
        if len(text_q) != 1:
            raise ValueError("search_candidates takes one query; use search() for batches")
        cand, ctext = self._text_candidates(text_q, exclude, k_text)
        img = self._rerank(image_q, cand)
        keep = cand[0] >= 0
        c, t, i = cand[0][keep], ctext[0][keep], img[0][keep]
        df = self.meta.iloc[c].reset_index(drop=True)
        df.insert(0, "index", c)
        df["text_score"] = t
        df["text_rank"] = np.arange(1, len(c) + 1)
        df["image_score"] = i
        order = np.lexsort((np.arange(len(c)), -i))  # image score desc, then text rank
        rank = np.empty(len(c), np.int64)
        rank[order] = np.arange(1, len(c) + 1)
        df["rank"] = rank
        df["chosen"] = rank == 1
        return df.sort_values("rank", kind="stable").reset_index(drop=True)

    # ----------------------------------------------------------------- persistence

    def save(self, path: str | os.PathLike) -> Path:
        """Write the pool folder atomically (temp folder, then rename onto ``path``).

        An existing pool folder at ``path`` is replaced as a whole (files you put there, e.g.
        neighbour tables, go with it: they belong to the old pool). A non-pool folder is refused.
        """
        import faiss

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and not (path / "manifest.json").is_file() and any(path.iterdir()):
            raise FileExistsError(f"{path} exists and is not a pool folder; refusing to replace it")
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
        try:
            faiss.write_index(self.text_index, str(tmp / "text.faiss"))
            np.savez(tmp / "image_store.npz", **self.images.a)
            np.savez(tmp / "entries.npz", entry_image_row=self.entry_image_row)
            if self.text_refine is not None:
                np.savez(tmp / "text_refine.npz", **self.text_refine.a)
            self.meta.to_parquet(tmp / "meta.parquet", index=False)
            man = dict(self.manifest)
            man["image_store_kind"] = self.images.kind
            man["files"] = {
                f: (tmp / f).stat().st_size
                for f in (*_FILES, "text_refine.npz")
                if f != "manifest.json" and (tmp / f).is_file()
            }
            atomic_write_json(tmp / "manifest.json", man)
            replace_dir(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.manifest = man
        return path

    @classmethod
    def load(
        cls, path: str | os.PathLike, expect_manifest: dict[str, Any] | None = None
    ) -> DataPool:
        """Read a pool folder written by :meth:`save`. ``expect_manifest`` (e.g. from
        :func:`pool_manifest`) is checked against the pool's: a pool built with other encoders
        raises :class:`PoolMismatchError`. Missing or corrupt files raise with the file named."""
        import faiss

        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(
                f"pool folder not found: {path} (build one with `tvnet pool build`)"
            )
        man = read_json(path / "manifest.json", "pool manifest")
        if not isinstance(man, dict) or man.get("format") != FORMAT:
            raise ValueError(f"{path / 'manifest.json'} is not a {FORMAT} pool manifest")
        for f, size in man.get("files", {}).items():
            p = path / f
            if not p.is_file():
                raise FileNotFoundError(f"pool file missing: {p}; rebuild the pool")
            if p.stat().st_size != size:
                raise ValueError(
                    f"pool file {p} is corrupt: {p.stat().st_size} bytes, manifest says {size}; rebuild the pool"
                )

        def _read(f, fn):
            try:
                return fn(str(path / f))
            except Exception as e:
                raise ValueError(f"pool file {path / f} is corrupt: {e}") from e

        text_index = _read("text.faiss", faiss.read_index)
        with _read("image_store.npz", lambda p: np.load(p, allow_pickle=False)) as z:
            store = _ImageStore(man.get("image_store_kind", "fp32"), {k: z[k] for k in z.files})
        with _read("entries.npz", lambda p: np.load(p, allow_pickle=False)) as z:
            entry_image_row = z["entry_image_row"]
        refine = None
        if man["index"]["type"] != "exact":
            if "text_refine.npz" not in man.get("files", {}):
                raise ValueError(f"pool {path} lacks text_refine.npz; rebuild the pool")
            with _read("text_refine.npz", lambda p: np.load(p, allow_pickle=False)) as z:
                refine = _TextRefine({k: z[k] for k in z.files})
        meta = _read("meta.parquet", pd.read_parquet)
        _release_arrow_memory()
        n = int(man["count"])
        if not all(c in meta.columns for c in REQUIRED_META):
            raise ValueError(
                f"pool file {path / 'meta.parquet'} lacks columns {list(REQUIRED_META)}"
            )
        sizes = {
            "text index": text_index.ntotal,
            "meta rows": len(meta),
            "entry rows": len(entry_image_row),
        }
        bad = {k: v for k, v in sizes.items() if v != n}
        if bad or len(store) != int(man["images"]):
            raise ValueError(f"pool {path} is inconsistent: manifest count {n}, found {sizes}")
        pool = cls(text_index, store, entry_image_row, meta, man, refine)
        if expect_manifest is not None:
            pool.check_manifest(expect_manifest)
        return pool


def pool_manifest(
    text_encoder: Any = None,
    image_encoder: Any = None,
    dataset: str | None = None,
    split: str | None = None,
) -> dict[str, Any]:
    """The encoder/dataset part of a manifest: what :meth:`DataPool.load` compares against.
    Encoders are anything with ``.name`` and ``.dim``; None leaves a part unchecked."""
    man: dict[str, Any] = {}
    if text_encoder is not None:
        man["text_encoder"] = {"name": text_encoder.name, "dim": int(text_encoder.dim)}
    if image_encoder is not None:
        man["image_encoder"] = {"name": image_encoder.name, "dim": int(image_encoder.dim)}
    if dataset is not None or split is not None:
        man["dataset"] = {"name": dataset, "split": split}
    return man
