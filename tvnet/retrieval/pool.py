"""The RES data pool (docs/design.md §1): two-stage nearest-neighbour search over (expression, image) pairs.

Stage 1 ranks the pool by cosine similarity of the expressions' text embeddings and keeps the
top ``k_text`` (20 in the paper); stage 2 re-ranks those by cosine similarity of the image
embeddings and returns the best. Entries whose image is the query's own are never returned;
when the text neighbours are mostly the query's own image the search goes deeper until
``k_text`` eligible candidates are found.

Storage (faiss for stage 1, numpy for stage 2), by concern:

- :mod:`tvnet.retrieval.text_index`: the stage-1 index, ``exact`` (``IndexFlatIP``, float32;
  the default below ``AUTO_EXACT_MAX`` entries), ``ivf`` or ``hnsw`` (8-bit codes plus 2-bit
  refinement codes that re-score the candidates; ``ivf`` is the default for larger pools).
- :mod:`tvnet.retrieval.image_store`: the stage-2 image vectors, once per image (float32 for
  exact pools, per-dimension 8-bit codes for approximate ones). With ``ivf`` the pool holds
  about 1/4 of the float32 memory: 1M entries with 384-d text and 1280-d image vectors (all
  distinct images) hold ~1.7 GiB.
- :mod:`tvnet.retrieval.pool_files`: the pool folder on disk (:meth:`DataPool.save` / ``load``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tvnet.config import K_TEXT
from tvnet.retrieval.image_store import IMAGE_STORAGES, ImageStore
from tvnet.retrieval.pool_files import FORMAT, REQUIRED_META, read_pool, write_pool
from tvnet.retrieval.text_index import INDEX_TYPES, TextRefine, build_text_index, search_text
from tvnet.retrieval.vectors import CHUNK, as_2d, unit

__all__ = [
    "AUTO_EXACT_MAX",
    "FORMAT",
    "IMAGE_STORAGES",
    "INDEX_TYPES",
    "REQUIRED_META",
    "DataPool",
    "PoolMismatchError",
    "SearchResult",
    "pool_manifest",
]

AUTO_EXACT_MAX = 50_000  # below this many entries, "auto" means exact brute force
# An upload whose image vector is this close to a pool image's *is* that image (a training image
# uploaded): re-encoded by the Predictor's runtime (ONNX or torch, bf16 or fp32) a pool image
# meets its stored vector at cosine 0.986–0.999, and its nearest other pool image at ≤ 0.84
# (15 images of the bundled pool, 2026-12-07, Zen 5 bf16).
SAME_IMAGE_COSINE = 0.97


class PoolMismatchError(ValueError):
    """The pool was built with other encoders (or another dataset) than the caller expects."""


@dataclass
class SearchResult:
    """Per query: the chosen entry (-1 when the pool holds no eligible entry) and its scores."""

    indices: np.ndarray  # N int64
    text_scores: np.ndarray  # N float32 (NaN where indices == -1)
    image_scores: np.ndarray  # N float32 (NaN where indices == -1)


class DataPool:
    """A searchable pool of (expression, image) entries. Build with :meth:`from_embeddings`
    or :meth:`load`; query with :meth:`search` (batch) or :meth:`search_candidates` (one)."""

    def __init__(
        self,
        text_index: Any,
        images: ImageStore,
        entry_image_row: np.ndarray,
        meta: pd.DataFrame,
        manifest: dict[str, Any],
        text_refine: TextRefine | None = None,
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
        text_emb = as_2d(text_emb, "text_emb")
        image_emb = as_2d(image_emb, "image_emb")
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
            if not all(np.isfinite(x[s : s + CHUNK]).all() for s in range(0, len(x), CHUNK)):
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
        text_index = build_text_index(text_emb, kind, params)
        refine = None
        if kind != "exact":
            refine = TextRefine.build(
                text_index, text_emb, bits=int(params.setdefault("refine_bits", 2))
            )
        images = ImageStore.build(store_src, storage)

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

    def _text_candidates(
        self, text_q: np.ndarray, exclude: np.ndarray | None, k_text: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Q×k_text entry ids (-1 = none) and text scores, best first, own image excluded."""
        n, nq = len(self), len(text_q)
        k_text = min(k_text, n)
        ids = np.full((nq, k_text), -1, np.int64)
        scores = np.full((nq, k_text), -np.inf, np.float32)
        # Fetch enough that even the most prolific image cannot crowd out k_text eligible ones;
        # rows that still fall short (approximate indexes) retry deeper. The same depth with or
        # without an image to exclude: of entries tied on their text score (SynthRef's
        # templated sentences repeat), the index keeps the first ones it meets, so another depth
        # would pick others, and the Predictor (no image id) would retrieve otherwise than the
        # neighbour tables (an id outside the pool) for the same query.
        k = min(n, k_text + min(self._max_per_image, 256))
        todo, depth = np.arange(nq), 1
        while todo.size:
            dist, nbr = search_text(
                self.text_index, self.text_refine, self.manifest["index"], text_q[todo], k, depth
            )
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
        text_q, image_q = as_2d(text_q, "text_q"), as_2d(image_q, "image_q")
        for what, q in (("text", text_q), ("image", image_q)):
            if not np.isfinite(q).all():  # a NaN would rank nothing, yet return a "best"
                raise ValueError(f"{what} queries hold NaN or infinite values")
        text_q, image_q = unit(text_q), unit(image_q)
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
        k_text: int = K_TEXT,
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
        k_text: int = K_TEXT,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Two-stage search. text_q Q×d_t, image_q Q×d_i, exclude_image_ids Q ints (the
        queries' own images; None = exclude nothing). Returns (entry indices Q, image cosine
        of the chosen entry Q); index -1 / NaN where the pool holds no eligible entry."""
        r = self.search_detailed(text_q, image_q, exclude_image_ids, k_text)
        return r.indices, r.image_scores

    def image_similarity(
        self, image_q: np.ndarray, exclude_image_ids: np.ndarray | None = None
    ) -> np.ndarray:
        """Q image vectors → the cosine of each with the most similar image of the whole pool
        (its own image excluded when ``exclude_image_ids`` names it): how much an image looks
        like anything in the pool, whatever the expression (docs/design.md §7, the warning of
        an image unlike the training pool). -inf when the pool holds no other image."""
        image_q = unit(as_2d(image_q, "image_q"))
        if image_q.shape[1] != self.images.dim:
            raise ValueError(
                f"image queries are {image_q.shape[1]}-d, the pool holds {self.images.dim}-d"
            )
        exclude = None
        if exclude_image_ids is not None:
            # the image id of each stored row (-1: a row no entry names, never excluded)
            ids = np.full(len(self.images), -1, np.int64)
            ids[self.entry_image_row] = self.image_ids
            exclude = (ids, np.asarray(exclude_image_ids, np.int64))
        return self.images.best(image_q, exclude)

    def same_image(self, image_q: np.ndarray) -> int | None:
        """The image id of the pool image that the image vector ``image_q`` is the image of
        (cosine ≥ :data:`SAME_IMAGE_COSINE`), else None: what a search for an upload
        excludes, as a training sample's own image is (docs/design.md §1)."""
        image_q = unit(as_2d(image_q, "image_q"))
        if len(image_q) != 1 or image_q.shape[1] != self.images.dim or not len(self.images):
            return None
        score, row = self.images.nearest(image_q)
        if row[0] < 0 or score[0] < SAME_IMAGE_COSINE:
            return None
        entries = np.flatnonzero(self.entry_image_row == row[0])
        return int(self.image_ids[entries[0]]) if len(entries) else None  # an image no entry has

    def search_candidates(
        self,
        text_q: np.ndarray,
        image_q: np.ndarray,
        exclude_image_id: int | None = None,
        k_text: int = K_TEXT,
    ) -> pd.DataFrame:
        """One query: its k_text text candidates, one row each, best final rank first.

        Columns: index, the meta columns, text_score, text_rank (1 = best text match),
        image_score, rank (1 = chosen), chosen.
        """
        if k_text < 1:
            raise ValueError(f"k_text must be ≥ 1, got {k_text}")
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
        path, self.manifest = write_pool(self, path)
        return path

    @classmethod
    def load(
        cls, path: str | os.PathLike, expect_manifest: dict[str, Any] | None = None
    ) -> DataPool:
        """Read a pool folder written by :meth:`save`. ``expect_manifest`` (e.g. from
        :func:`pool_manifest`) is checked against the pool's: a pool built with other encoders
        raises :class:`PoolMismatchError`. Missing or corrupt files raise with the file named."""
        pool = cls(**read_pool(path))
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
