"""Offline neighbour tables of the RES stage (docs/design.md §1).

As in the paper: :func:`build_pool` encodes a split (the training split is the pool),
:func:`neighbour_table` finds every sample's neighbour, :func:`write_neighbours` stores it as
parquet for training and evaluation to read; :func:`write_neighbour_table` does both for
``tvnet pool neighbours``, and :func:`ensure_neighbour_table` for ``tvnet eval`` when a table
is missing. The online counterpart, for a new upload, is :mod:`tvnet.retrieval.retriever`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tvnet.config import K_TEXT
from tvnet.io import atomic_path
from tvnet.retrieval.encoders import encoder_probes, encoder_sources, pool_encoders
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
    sources = encoder_sources(text_encoder, image_encoder)
    for key, source in sources.items():
        manifest[key]["source"] = source  # not compared: where to load them from again
    for key, probe in encoder_probes(text_encoder, image_encoder, sources).items():
        manifest[key]["probe"] = probe  # what it made of the probe: the weights' identity
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
    k_text: int = K_TEXT,
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
    out.attrs["k_text"] = int(k_text)  # read back by read_neighbours (parquet keeps attrs)
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
    ds = pool.manifest.get("dataset")
    ds = ds if isinstance(ds, dict) else {}  # a damaged manifest: nothing recorded
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


def table_digest(path: str | os.PathLike) -> str:
    """A short sha256 of a neighbour table's file: what a training run records, so that a run
    resumed (or a build step skipped) after the pool was rebuilt is noticed."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def write_neighbours(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a neighbour table as parquet, atomically."""
    missing = [c for c in NEIGHBOUR_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"neighbour table lacks columns {missing}")
    path = Path(path)
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)
    return path


def read_neighbours(path: str | os.PathLike, k_text: int | None = None) -> pd.DataFrame:
    """Read a neighbour table written by :func:`write_neighbours`; checks its columns and,
    given ``k_text`` (the model's ``retrieval_k_text``), that the table was retrieved with the
    same number of text candidates: another number picks other neighbours, so a model would
    train or be evaluated on neighbours its Predictor never retrieves. Tables that recorded
    no number (written before it was recorded) pass."""
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
    written = df.attrs.get("k_text")
    if k_text is not None and written is not None and int(written) != int(k_text):
        raise ValueError(
            f"{path} was retrieved with k_text={written} text candidates, and this model "
            f"retrieves with {k_text}: write it again (`tvnet pool neighbours --k-text {k_text}`)"
        )
    return df


def _foreign(refer: Any, sample_id: Any, image_id: Any, sentence: Any) -> bool:
    """Is (``sample_id``, ``image_id``, ``sentence``), a pool entry, visibly not ``refer``'s?
    Either the folder holds that sample with another image or sentence, or it lacks both the
    sample and the image. A folder that holds the image but not the sample (a copy of one
    split, as ``research/paraphrase.py`` writes, linking the original's images and
    instances) cannot tell, and passes."""
    try:
        s = refer.sample(int(sample_id))
    except KeyError:
        try:
            refer.image_size(int(image_id))
        except KeyError:
            return True
        return False
    return s.image_id != int(image_id) or s.sentence != sentence


def check_pool_source(pool: DataPool, refer: Any, pool_dir: Any = "the pool") -> None:
    """ValueError when an entry of ``pool`` is visibly not a sample of ``refer``'s folder
    (:func:`_foreign`): training and evaluation read a neighbour's image by its id from the
    folder of the split they read, so the table of a pool of another folder would pair samples
    with images of this one that were never retrieved."""
    meta = pool.meta
    for sid, img, sent in zip(meta["sample_id"], meta["image_id"], meta["sentence"]):
        if _foreign(refer, sid, img, sent):
            raise ValueError(
                f"{pool_dir} was built from another dataset folder than {refer.root}: its "
                f"sample {int(sid)} (image {int(img)}, “{sent}”) is not one of this folder's; "
                "build a pool from this folder's training split (`tvnet pool build`)"
            )


def check_pool_split(pool: DataPool, refer: Any, pool_dir: Any, any_split: bool = False) -> None:
    """ValueError when the pool's manifest says it holds another split than training, or
    another dataset than ``refer`` (another split scheme of the same folder: ``refcocog_google``
    for ``refcocog_umd``): its neighbours would bring held-out images into training and
    evaluation, and the ids of such a pool are all this folder's, so :func:`check_pool_source`
    cannot tell. Pools that recorded neither ("unknown") pass."""
    ds = pool.manifest.get("dataset")
    ds = ds if isinstance(ds, dict) else {}  # a damaged manifest: nothing recorded
    name, split = ds.get("name"), ds.get("split")
    if name not in (None, "unknown") and name != refer.name:
        raise ValueError(
            f"{pool_dir} was built from {name}, not {refer.name}: build the pool from this "
            "dataset's training split (`tvnet pool build --data … --split train`)"
        )
    if not any_split and split not in (None, "unknown", "train"):
        raise ValueError(
            f"{pool_dir} was built from the {split!r} split of {name}: the pool is the training "
            "split (retrieving from held-out samples would leak them into training and "
            "evaluation); build it with `tvnet pool build --split train`"
        )


def check_neighbour_table(table: pd.DataFrame, refer: Any, split: str) -> None:
    """ValueError when a neighbour in ``table`` (the rows of ``split``'s samples) is visibly
    not a sample of ``refer``'s folder (:func:`_foreign`). A table is named by the dataset's
    name and split only (:func:`neighbours_path`), so a pool built from another folder of the
    same name ("synthref" of another seed, whose sample and image ids are these) holds tables
    that would pair these samples with images they never retrieved, silently. A copy of the
    folder with the split reworded (``research/paraphrase.py``) passes: its samples keep the
    neighbours retrieved for their first wording."""
    rows = table[table["neighbour_sample_id"].notna()]
    for sid, nsid, nimg, nsent in zip(
        rows.index,
        rows["neighbour_sample_id"].to_numpy(),
        rows["neighbour_image_id"].to_numpy(),
        rows["neighbour_sentence"].to_numpy(),
    ):
        if _foreign(refer, nsid, nimg, nsent):
            raise ValueError(
                f"the neighbour of sample {sid} of {refer.name}/{split} (sample {int(nsid)}, "
                f"image {int(nimg)}, “{nsent}”) is not a sample of {refer.root}: its pool was "
                f"built from another dataset folder; build the pool from this folder's "
                "training split (`tvnet pool build`) and write the table again (`tvnet pool "
                "neighbours`)"
            )


def write_neighbour_table(
    refer: Any,
    split: str,
    pool_dir: str | os.PathLike,
    text_encoder: Any,
    image_encoder: Any,
    *,
    pool: DataPool | None = None,
    k_text: int = K_TEXT,
    out: str | os.PathLike | None = None,
    progress: bool = True,
    any_split: bool = False,
) -> tuple[pd.DataFrame, Path]:
    """Find the neighbour of every sample of ``split`` in the pool at ``pool_dir`` (``pool``:
    that pool, already loaded) and write the table, by default where training and evaluation
    look for it (:func:`neighbours_path`). Returns the table and its path. The pool must be
    ``refer``'s training split, as in the paper (:func:`check_pool_split`; ``any_split``: any
    split of it, for research)."""
    if pool is None:
        pool = DataPool.load(pool_dir)
    pool.check_manifest(pool_manifest(text_encoder, image_encoder))
    check_pool_split(pool, refer, pool_dir, any_split)
    check_pool_source(pool, refer, pool_dir)
    df = neighbour_table(
        refer, split, pool, text_encoder, image_encoder, k_text=k_text, progress=progress
    )
    path = Path(out) if out else neighbours_path(pool_dir, refer.name, split)
    return df, write_neighbours(df, path)


def ensure_neighbour_table(
    refer: Any,
    split: str,
    pool_dir: str | os.PathLike,
    *,
    k_text: int = K_TEXT,
    device: str = "cpu",
    runtime: str | None = "torch",
    progress: bool = True,
) -> Path:
    """The path of the neighbour table of ``split`` in ``pool_dir``, written first when it is
    missing: the pool's own encoders (:func:`pool_encoders`), then
    :func:`write_neighbour_table`, the code path of ``tvnet pool neighbours``."""
    path = neighbours_path(pool_dir, refer.name, split)
    if path.is_file():
        return path
    pool = DataPool.load(pool_dir)  # first: a wrong path fails before the models load
    text, image = pool_encoders(pool.manifest, device=device, runtime=runtime)
    write_neighbour_table(
        refer, split, pool_dir, text, image, pool=pool, k_text=k_text, progress=progress
    )
    return path


def image_similarities(
    refer: Any,
    image_ids: Any,
    pool: DataPool,
    image_encoder: Any,
    progress: bool = True,
) -> dict[int, float]:
    """Image id → cosine of the image with the most similar image of the pool (its own image
    excluded): how familiar each image looks (:meth:`DataPool.image_similarity`; the
    evaluator's ``image_similarity`` column, docs/design.md §7)."""
    pool.check_manifest(pool_manifest(None, image_encoder))
    ids = np.asarray(pd.unique(np.asarray(image_ids, np.int64)), np.int64)
    vecs = _encode_images(refer, ids, image_encoder, progress)
    sims = pool.image_similarity(vecs, exclude_image_ids=ids)
    return {int(i): float(v) for i, v in zip(ids, sims)}
