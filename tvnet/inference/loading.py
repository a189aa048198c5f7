"""Which retrieval a loaded checkpoint gets (used by :meth:`tvnet.Predictor.from_checkpoint`).

RES variants retrieve from a pool (text-then-visual search, stage 1); the baseline retrieves
nothing, but a pool, when there is one, still tells how familiar an upload looks (its image
encoder only). A retriever another predictor already built on the same pool is shared rather
than loaded again.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any


def load_retrieval(
    model: Any,
    meta: dict[str, Any],
    pool: Path,
    *,
    device: str,
    runtime: str,
    asked: str | None,
    retriever: Any | None = None,
    pool_images: str | Path | None = None,
) -> tuple[Any | None, Any | None, Path | None, Path | None]:
    """(retriever, image_retriever, pool, pool_images) for ``model``.

    ``runtime`` is the resolved runtime of the frozen image networks; ``asked`` what the
    caller asked for, which the retrieval text encoder resolves on its own (MiniLM runs fp32
    on any CPU, so "auto" gives it onnxruntime even where the rest autocasts to bf16).
    ``pool`` becomes None for a baseline when no pool exists there."""
    from tvnet.retrieval.encoders import pool_encoders
    from tvnet.retrieval.neighbours import Retriever
    from tvnet.retrieval.pool import DataPool

    # the encoders the pool names: the bundled ones, or those it records the files of
    if not model.uses_retrieval:
        if retriever is not None:
            return None, retriever, pool, pool_images
        if (pool / "manifest.json").is_file():
            data_pool = DataPool.load(pool)
            _, image = pool_encoders(data_pool.manifest, device, runtime=runtime, text=False)
            return None, Retriever(data_pool, None, image), pool, pool_images
        return None, None, None, pool_images

    if retriever is not None:
        from tvnet.io import read_json

        if retriever.pool.manifest != read_json(pool / "manifest.json", "pool manifest"):
            raise ValueError(f"the shared retriever was not built on the pool {pool}")
        if retriever.k_text != model.cfg.retrieval_k_text:
            retriever = copy.copy(retriever)
            retriever.k_text = model.cfg.retrieval_k_text
    else:
        data_pool = DataPool.load(pool)
        text, image = pool_encoders(data_pool.manifest, device, runtime=runtime, text_runtime=asked)
        retriever = Retriever(data_pool, text, image, k_text=model.cfg.retrieval_k_text)
    if pool_images is None:
        pool_images = pool / "images"
        data_dir = (meta.get("data") or {}).get("data_dir")
        if not pool_images.is_dir() and data_dir:
            pool_images = Path(data_dir) / "images"
    return retriever, None, pool, Path(pool_images)
