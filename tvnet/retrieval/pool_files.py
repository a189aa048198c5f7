"""The pool folder on disk (docs/design.md §1): what :meth:`DataPool.save` writes and
:meth:`DataPool.load` reads back, checked file by file.

A pool folder holds ``manifest.json`` (format, encoders, dataset, index parameters, file
sizes), ``text.faiss`` (the stage-1 index), ``text_refine.npz`` (approximate indexes only),
``image_store.npz`` (stage-2 vectors), ``entries.npz`` (the image row of each entry) and
``meta.parquet`` (sample_id, image_id, sentence, … per entry). Neighbour tables written next
to them (``neighbours_<dataset>_<split>.parquet``) belong to that pool.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tvnet.io import (
    atomic_write_json,
    check_replaceable_dir,
    file_sha256,
    fsync_file,
    read_json,
    replace_dir,
)
from tvnet.retrieval.image_store import ImageStore
from tvnet.retrieval.text_index import TextRefine

FORMAT = "tvnet-pool/1"
REQUIRED_META = ("sample_id", "image_id", "sentence")
MANIFEST, META = "manifest.json", "meta.parquet"
FILES = (MANIFEST, "text.faiss", "image_store.npz", "entries.npz", META)
# everything a pool folder may hold that writing a new pool may replace; the user's images
# (POOL/images) and regenerate.json are not among them, so a pool holding them is refused
OWN = (*FILES, "text_refine.npz", "neighbours_*.parquet")


def _release_arrow_memory() -> None:
    """Hand pyarrow's freed read buffers back to the OS (tens of MiB after a large parquet)."""
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except (ImportError, AttributeError):  # pragma: no cover
        pass


def check_pool_target(path: str | os.PathLike) -> Path:
    """Refuse an output path that a pool must not replace (see
    :func:`tvnet.io.check_replaceable_dir`): anything but a pool's own files (``OWN``) in it,
    such as the pool's images or ``regenerate.json``, makes it the user's. Checked again on
    writing."""
    return check_replaceable_dir(path, (MANIFEST,), "pool", only=OWN)


def write_pool(pool: Any, path: str | os.PathLike) -> tuple[Path, dict[str, Any]]:
    """Write ``pool`` (a :class:`~tvnet.retrieval.pool.DataPool`) to the folder ``path``
    atomically; returns the path and the manifest as written (with file sizes)."""
    import faiss

    path = check_pool_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        faiss.write_index(pool.text_index, str(tmp / "text.faiss"))
        np.savez(tmp / "image_store.npz", **pool.images.a)
        np.savez(tmp / "entries.npz", entry_image_row=pool.entry_image_row)
        if pool.text_refine is not None:
            np.savez(tmp / "text_refine.npz", **pool.text_refine.a)
        pool.meta.to_parquet(tmp / META, index=False)
        man = dict(pool.manifest)
        man["image_store_kind"] = pool.images.kind
        man["files"] = {
            f: (tmp / f).stat().st_size
            for f in (*FILES, "text_refine.npz")
            if f != MANIFEST and (tmp / f).is_file()
        }
        # a same-size damage (a flipped block) would load as a pool that answers wrongly
        man["sha256"] = {f: file_sha256(tmp / f) for f in man["files"]}
        atomic_write_json(tmp / MANIFEST, man)
        for f in tmp.iterdir():  # on disk before the swap: a power loss keeps one whole pool
            fsync_file(f)
        replace_dir(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path, man


def read_pool(path: str | os.PathLike) -> dict[str, Any]:
    """The parts of the pool folder ``path`` as :class:`~tvnet.retrieval.pool.DataPool`'s
    constructor takes them. Missing or corrupt files raise with the file named."""
    import faiss

    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(
            f"pool folder not found: {path} (build one with `tvnet pool build`)"
        )
    man = read_json(path / MANIFEST, "pool manifest")
    if not isinstance(man, dict) or man.get("format") != FORMAT:
        raise ValueError(f"{path / 'manifest.json'} is not a {FORMAT} pool manifest")
    files = man.get("files", {})
    if not isinstance(files, dict):
        raise ValueError(f"{path / 'manifest.json'}: its files entry is damaged; rebuild the pool")
    for key in ("text_encoder", "image_encoder", "dataset", "index"):  # what readers look into
        if man.get(key) is not None and not isinstance(man[key], dict):
            raise ValueError(
                f"{path / 'manifest.json'}: its {key} entry is damaged (not a JSON object); "
                "rebuild the pool"
            )
    for f, size in files.items():
        p = path / f
        if not p.is_file():
            raise FileNotFoundError(f"pool file missing: {p}; rebuild the pool")
        if p.stat().st_size != size:
            raise ValueError(
                f"pool file {p} is corrupt: {p.stat().st_size} bytes, manifest says {size}; rebuild the pool"
            )
    digests = man.get("sha256")  # pools written before 2026-12-08 record sizes only
    for f, digest in digests.items() if isinstance(digests, dict) else ():
        if (path / f).is_file() and file_sha256(path / f) != digest:
            raise ValueError(
                f"pool file {path / f} is corrupt: its SHA-256 is not the one the manifest "
                "records; rebuild the pool"
            )

    def _read(f, fn):
        try:
            return fn(str(path / f))
        except Exception as e:
            raise ValueError(f"pool file {path / f} is corrupt: {e}") from e

    def _arrays(p: str) -> dict[str, np.ndarray]:  # read every array now, inside _read
        with np.load(p, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}

    try:
        index_type, n, n_images = man["index"]["type"], int(man["count"]), int(man["images"])
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(
            f"pool manifest {path / 'manifest.json'} is corrupt ({e!r}); rebuild the pool"
        ) from e
    text_index = _read("text.faiss", faiss.read_index)
    arrays = _read("image_store.npz", _arrays)
    if "data" not in arrays:
        raise ValueError(
            f"pool file {path / 'image_store.npz'} is corrupt: no data; rebuild the pool"
        )
    store = ImageStore(man.get("image_store_kind", "fp32"), arrays)
    entry_image_row = _read("entries.npz", _arrays).get("entry_image_row")
    if entry_image_row is None:
        raise ValueError(
            f"pool file {path / 'entries.npz'} is corrupt: no entry_image_row; rebuild the pool"
        )
    refine = None
    if index_type != "exact":
        if "text_refine.npz" not in man.get("files", {}):
            raise ValueError(f"pool {path} lacks text_refine.npz; rebuild the pool")
        refine = TextRefine(_read("text_refine.npz", _arrays))
    meta = _read(META, pd.read_parquet)
    _release_arrow_memory()
    if not all(c in meta.columns for c in REQUIRED_META):
        raise ValueError(f"pool file {path / 'meta.parquet'} lacks columns {list(REQUIRED_META)}")
    sizes = {
        "text index": text_index.ntotal,
        "meta rows": len(meta),
        "entry rows": len(entry_image_row),
    }
    bad = {k: v for k, v in sizes.items() if v != n}
    if bad or len(store) != n_images:
        raise ValueError(f"pool {path} is inconsistent: manifest count {n}, found {sizes}")
    return dict(
        text_index=text_index,
        images=store,
        entry_image_row=entry_image_row,
        meta=meta,
        manifest=man,
        text_refine=refine,
    )
