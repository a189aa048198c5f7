"""How a checkpoint folder becomes a Predictor's parts (:meth:`tvnet.Predictor.from_checkpoint`),
and which retrieval it gets.

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
    amp: bool = True,
) -> tuple[Any | None, Any | None, Path | None, Path | None]:
    """(retriever, image_retriever, pool, pool_images) for ``model``.

    ``runtime`` is the resolved runtime of the frozen image networks; ``asked`` what the
    caller asked for, which the retrieval text encoder resolves on its own (MiniLM runs fp32
    on any CPU, so "auto" gives it onnxruntime even where the rest autocasts to bf16).
    ``pool`` becomes None for a baseline when no pool exists there."""
    from tvnet.retrieval.encoders import pool_encoders
    from tvnet.retrieval.pool import DataPool
    from tvnet.retrieval.pool_files import MANIFEST
    from tvnet.retrieval.retriever import Retriever

    # the encoders the pool names: the bundled ones, or those it records the files of
    if not model.uses_retrieval:
        if retriever is not None:
            return None, retriever, pool, pool_images
        if (pool / MANIFEST).is_file():
            data_pool = DataPool.load(pool)
            _, image = pool_encoders(
                data_pool.manifest, device, runtime=runtime, text=False, amp=amp
            )
            return None, Retriever(data_pool, None, image), pool, pool_images
        return None, None, None, pool_images

    if retriever is not None:
        from tvnet.io import read_json

        if retriever.pool.manifest != read_json(pool / MANIFEST, "pool manifest"):
            raise ValueError(f"the shared retriever was not built on the pool {pool}")
        if retriever.k_text != model.cfg.retrieval_k_text:
            retriever = copy.copy(retriever)
            retriever.k_text = model.cfg.retrieval_k_text
    else:
        data_pool = DataPool.load(pool)
        text, image = pool_encoders(
            data_pool.manifest, device, runtime=runtime, text_runtime=asked, amp=amp
        )
        retriever = Retriever(data_pool, text, image, k_text=model.cfg.retrieval_k_text)
    if pool_images is None:
        pool_images = pool / "images"
        data_dir = (meta.get("data") or {}).get("data_dir")
        if not pool_images.is_dir() and data_dir:  # the training data's (a RefCOCO refs file:
            from tvnet.data.refer import default_images_dir  # …/images/mscoco/…/train2014)

            pool_images = default_images_dir(data_dir)
    return retriever, None, pool, Path(pool_images)


def load_checkpoint_parts(
    path: str | Path | None,
    pool: str | Path | None,
    device: str | None,
    pool_images: str | Path | None,
    amp: bool,
    retriever: Any | None,
    runtime: str | None,
    read_synonyms: bool,
) -> dict[str, Any]:
    """The keyword arguments of :class:`tvnet.Predictor` for a checkpoint folder, as
    :meth:`tvnet.Predictor.from_checkpoint` documents its arguments: the model (BatchNorm
    folded, on its runtime), its calibration, retrieval, lexicon, training words and ``info``."""
    from tvnet.assets import default_assets
    from tvnet.checkpoint import load_checkpoint, read_checkpoint_config
    from tvnet.data.model_words import known_words, model_lexicon
    from tvnet.eval.calibration import CALIBRATION_FILE, load_calibration
    from tvnet.io import default_device
    from tvnet.runtime import resolve_runtime
    from tvnet.warmstart import checkpoint_init
    from tvnet.weights import common_words

    assets = default_assets()
    path = Path(path) if path else assets["checkpoint"]
    device = device or default_device()
    asked, runtime = runtime, resolve_runtime(runtime, device, amp)
    model = load_checkpoint(path, device=device)
    model.eval().backbone.optimize_for_inference(runtime)  # BN folded: inference only
    meta = read_checkpoint_config(path)
    calibration = load_calibration(path)
    notes = []
    why = calibration.not_of(meta.get("weights_sha256")) if calibration is not None else None
    if why:
        notes.append(f"{path}/calibration.json {why}: no confidence")
        calibration = None
    retriever, image_retriever, pool, pool_images = load_retrieval(
        model,
        meta,
        Path(pool) if pool else assets["pool"],
        device=device,
        runtime=runtime,
        asked=asked,
        retriever=retriever,
        pool_images=pool_images,
        amp=amp,  # the image encoder at the precision the rest runs in (as tvnet eval)
    )
    searched = retriever or image_retriever
    pool_data = ((searched.pool.manifest.get("dataset") or {}) if searched else {}).get("name")
    trained_on = (meta.get("data") or {}).get("name")
    if calibration is not None and pool_data not in (None, "unknown", trained_on) and trained_on:
        # neighbours and the familiarity of an upload measured against other data than the
        # calibration was fitted with (a RefCOCO model on the bundled SynthRef pool)
        notes.append(
            f"the pool {pool} holds {pool_data} data, but {path} was trained on {trained_on}: "
            "no confidence (pass the pool built from its training split)"
        )
        calibration = None
    training_words = known_words(model.vocab, meta)
    if calibration is not None and not training_words:
        # a word-piece checkpoint from before the record: a word it never met goes unflagged
        notes.append(
            f"{path} records no training words, so words it never met cannot be flagged: "
            "no confidence"
        )
        calibration = None
    lexicon = None
    if read_synonyms:
        lexicon, why = model_lexicon(model.vocab, meta, common_words=common_words())
        if why:  # a damaged WordNet
            notes.append(why)
    text = getattr(retriever, "text_encoder", None)  # None for the baseline
    info = {
        "checkpoint": str(path),
        "pool": str(pool) if pool else None,
        "data": meta.get("data"),
        "train": meta.get("train"),
        "step": meta.get("step"),
        "training_time": meta.get("training_time"),  # tvnet/record.py
        "init": checkpoint_init(path, meta),  # a warm start's source, see tvnet train --init
        "runtime": "onnxruntime" if model.backbone.onnx is not None else "torch",
        # the retrieval sentence encoder never autocasts, so "auto" puts it on onnxruntime
        # on every CPU, a bf16 one too, whose backbone stays in PyTorch (None: no encoder)
        "text_runtime": None
        if text is None
        else ("onnxruntime" if text.onnx is not None else "torch"),
        "calibration": str(path / CALIBRATION_FILE) if calibration is not None else None,
        "notes": notes,
    }
    return dict(
        model=model,
        retriever=retriever,
        pool_images=pool_images,
        device=device,
        amp=amp,
        info=info,
        calibration=calibration,
        image_retriever=image_retriever,
        lexicon=lexicon,
        training_words=training_words,
    )
