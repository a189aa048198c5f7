"""Offline neighbour tables and the online retriever of the RES stage (docs/design.md §1).

Offline, as in the paper: :func:`build_pool` encodes a split (the training split is the pool),
:func:`neighbour_table` finds every sample's neighbour, :func:`write_neighbours` stores it as
parquet for training and evaluation to read. Online, :class:`Retriever` gives the neighbour of a
new upload in one call with the same encoders and pool.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tvnet.io import atomic_path
from tvnet.retrieval.pool import DataPool, pool_manifest

NEIGHBOUR_COLUMNS = (
    "sample_id",
    "neighbour_sample_id",
    "neighbour_image_id",
    "neighbour_sentence",
    "text_score",
    "image_score",
)
_META_FIELDS = (
    "sample_id",
    "ref_id",
    "sent_id",
    "image_id",
    "ann_id",
    "category_id",
    "sentence",
    "file_name",
)


def _samples_frame(refer: Any, split: str) -> pd.DataFrame:
    samples = refer.samples(split)
    if not samples:
        raise ValueError(f"dataset {refer.name!r} has no samples in split {split!r}")
    rows = [{f: getattr(s, f) for f in _META_FIELDS if hasattr(s, f)} for s in samples]
    return pd.DataFrame(rows)


def _encode_split(
    refer: Any, df: pd.DataFrame, text_encoder: Any, image_encoder: Any, progress: bool
):
    """Text vectors per sample, image vectors once per distinct image (+ their ids)."""
    text = text_encoder.encode(df["sentence"].tolist(), progress=progress)
    image_ids = pd.unique(df["image_id"].to_numpy())
    images = _encode_images(refer, image_ids, image_encoder, progress)
    return text, images, np.asarray(image_ids, dtype=np.int64)


def _encode_images(
    refer: Any, image_ids: np.ndarray, image_encoder: Any, progress: bool
) -> np.ndarray:
    """Encode images in chunks so that only one chunk of decoded images is held at a time."""
    out = np.zeros((len(image_ids), image_encoder.dim), np.float32)
    chunk = max(1, image_encoder.batch_size) * 8
    starts = range(0, len(image_ids), chunk)
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc=f"encode images ({len(image_ids)})", unit="chunk")
    for s in starts:
        ims = [refer.load_image(int(i)) for i in image_ids[s : s + chunk]]
        out[s : s + len(ims)] = image_encoder.encode(ims, progress=False)
    return out


def build_pool(
    refer: Any,
    split: str,
    text_encoder: Any,
    image_encoder: Any,
    index: str = "auto",
    progress: bool = True,
) -> DataPool:
    """The data pool of one split (the paper's pool is the training split)."""
    meta = _samples_frame(refer, split)
    text, images, image_ids = _encode_split(refer, meta, text_encoder, image_encoder, progress)
    manifest = pool_manifest(text_encoder, image_encoder, dataset=refer.name, split=split)
    return DataPool.from_embeddings(
        text,
        images,
        meta["image_id"].to_numpy(),
        meta,
        manifest,
        index=index,
        image_emb_ids=image_ids,
    )


def neighbour_table(
    refer: Any,
    split: str,
    pool: DataPool,
    text_encoder: Any,
    image_encoder: Any,
    k_text: int = 20,
    progress: bool = True,
) -> pd.DataFrame:
    """One row per sample of ``split``: its pool neighbour (never from its own image).

    Columns: sample_id, neighbour_sample_id, neighbour_image_id, neighbour_sentence,
    text_score, image_score. A sample whose pool holds no other image gets nulls.
    """
    pool.check_manifest(pool_manifest(text_encoder, image_encoder))
    df = _samples_frame(refer, split)
    reused = _exact_pool_embeddings(pool, refer.name, split, df)
    if reused is not None:  # the pool is this split, stored exactly: no need to encode again
        text, image_q = reused
    else:
        text, images, image_ids = _encode_split(refer, df, text_encoder, image_encoder, progress)
        row_of = {int(i): r for r, i in enumerate(image_ids)}
        image_q = images[[row_of[int(i)] for i in df["image_id"]]]  # N×d_i
    res = pool.search_detailed(
        text, image_q, df["image_id"].to_numpy(), k_text=k_text, progress=progress
    )
    found = res.indices >= 0
    nb = pool.meta.iloc[np.where(found, res.indices, 0)].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "sample_id": df["sample_id"].to_numpy(),
            "neighbour_sample_id": _nullable(nb["sample_id"], found),
            "neighbour_image_id": _nullable(nb["image_id"], found),
            "neighbour_sentence": _nullable(nb["sentence"], found),
            "text_score": res.text_scores,
            "image_score": res.image_scores,
        }
    )
    out.attrs["pool_manifest"] = {
        k: pool.manifest.get(k) for k in ("text_encoder", "image_encoder", "dataset", "count")
    }
    return out


def _nullable(col: pd.Series, found: np.ndarray) -> pd.Series:
    """``col`` with <NA> where no neighbour was found; integers as Int64, text as "string"
    (nullable dtypes that survive a parquet round trip unchanged)."""
    col = col.reset_index(drop=True)
    col = col.astype("Int64" if pd.api.types.is_integer_dtype(col.dtype) else "string")
    return col.where(pd.Series(found), pd.NA)


def _exact_pool_embeddings(
    pool: DataPool, dataset: str, split: str, df: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray] | None:
    """(text, image) query vectors read back from an exact pool built on this very split."""
    ds = pool.manifest.get("dataset", {})
    if (
        pool.index_type != "exact"
        or pool.images.kind != "fp32"
        or ds.get("name") != dataset
        or ds.get("split") != split
    ):
        return None
    pos = pd.Index(pool.meta["sample_id"]).get_indexer(df["sample_id"])
    if (pos < 0).any():
        return None
    same = pool.meta.iloc[pos]  # a regenerated dataset of the same name must not reuse vectors
    if not (
        np.array_equal(same["sentence"].to_numpy(), df["sentence"].to_numpy())
        and np.array_equal(same["image_id"].to_numpy(), df["image_id"].to_numpy())
    ):
        return None
    text = pool.text_index.reconstruct_n(0, len(pool))[pos]
    image = pool.images.vectors(pool.entry_image_row[pos])
    return text, image


def neighbours_path(pool_dir: str | os.PathLike, dataset: str, split: str) -> Path:
    """Where a pool keeps the offline neighbour table of ``dataset``/``split``."""
    return Path(pool_dir) / f"neighbours_{dataset}_{split}.parquet"


def write_neighbours(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a neighbour table as parquet, atomically."""
    missing = [c for c in NEIGHBOUR_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"neighbour table lacks columns {missing}")
    path = Path(path)
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)
    return path


def read_neighbours(path: str | os.PathLike) -> pd.DataFrame:
    """Read a neighbour table written by :func:`write_neighbours`; checks its columns."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"neighbour table not found: {path} (write it with `tvnet pool neighbours`)"
        )
    try:
        df = pd.read_parquet(path)
    except Exception as e:
        raise ValueError(f"neighbour table {path} is corrupt: {e}") from e
    missing = [c for c in NEIGHBOUR_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path} is not a neighbour table: columns {missing} missing")
    return df


class Retriever:
    """Online RES stage 1: the pool neighbour of a new (image, expression) in one call.

    Thread-safe: the encoders (a Hugging Face tokenizer is not re-entrant) run under a lock,
    which copies of the retriever share, so several predictors may share one retriever."""

    def __init__(
        self, pool: DataPool, text_encoder: Any, image_encoder: Any, k_text: int = 20
    ) -> None:
        pool.check_manifest(pool_manifest(text_encoder, image_encoder))
        self.pool = pool
        self.text_encoder = text_encoder
        self.image_encoder = image_encoder
        self.k_text = k_text
        self._lock = threading.Lock()

    def neighbour(
        self, image: np.ndarray, sentence: str, exclude_image_id: int | None = None
    ) -> dict[str, Any]:
        """dict(index, sample_id, image_id, sentence, text_score, image_score, candidates).

        ``candidates`` is the DataFrame of :meth:`DataPool.search_candidates`. When the pool
        holds no eligible entry, index is -1 and the other fields are None.
        """
        with self._lock:
            t = self.text_encoder.encode([sentence], progress=False)
            v = self.image_encoder.encode([image], progress=False)
        cands = self.pool.search_candidates(t[0], v[0], exclude_image_id, k_text=self.k_text)
        if cands.empty:
            return dict(
                index=-1,
                sample_id=None,
                image_id=None,
                sentence=None,
                text_score=None,
                image_score=None,
                candidates=cands,
            )
        best = cands.iloc[0]
        return dict(
            index=int(best["index"]),
            sample_id=best["sample_id"].item()
            if hasattr(best["sample_id"], "item")
            else best["sample_id"],
            image_id=int(best["image_id"]),
            sentence=str(best["sentence"]),
            text_score=float(best["text_score"]),
            image_score=float(best["image_score"]),
            candidates=cands,
        )
