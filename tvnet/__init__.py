"""TV-Net studio: Two-stage Visual cues enhancement Network for referring image segmentation.

Public API: :func:`build_model`, :class:`Predictor` (its bad-input error
:class:`InputError`, the ``MAX_PIXELS`` it decodes at most, and :func:`read_image`, the one
image reader), the evaluation-dump readers
(:func:`load_dump`, :func:`load_dumps`, :func:`decode_rle`, ``RUN_FILE``, ``SAMPLES_FILE``),
the metrics (:func:`ris_metrics`, ``SIZE_BINS``) and the ``tvnet`` CLI. Apps import these and
nothing deeper.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
_DUMP = ("load_dump", "load_dumps", "decode_rle", "RUN_FILE", "SAMPLES_FILE", "DumpError")
_METRICS = ("ris_metrics", "SIZE_BINS")
__all__ = [
    "build_model",
    "default_checkpoint",
    "lineage",
    "Predictor",
    "InputError",
    "MAX_PIXELS",
    "read_image",
    "ModelConfig",
    "VARIANTS",
    "preset_config",
    "load_dump",
    "load_dumps",
    "decode_rle",
    "RUN_FILE",
    "SAMPLES_FILE",
    "DumpError",
    "ris_metrics",
    "SIZE_BINS",
    "__version__",
]

if TYPE_CHECKING:  # pragma: no cover
    from tvnet.assets import default_checkpoint
    from tvnet.checkpoint import lineage
    from tvnet.config import VARIANTS, ModelConfig, preset_config
    from tvnet.engine.dump import (
        RUN_FILE,
        SAMPLES_FILE,
        DumpError,
        decode_rle,
        load_dump,
        load_dumps,
    )
    from tvnet.image import MAX_PIXELS, InputError, read_image
    from tvnet.metrics import SIZE_BINS, ris_metrics
    from tvnet.model.build import build_model
    from tvnet.predictor import Predictor


def __getattr__(name: str) -> Any:
    # Lazy so that ``tvnet --help`` does not import torch.
    if name == "build_model":
        from tvnet.model.build import build_model

        return build_model
    if name == "default_checkpoint":
        from tvnet.assets import default_checkpoint

        return default_checkpoint
    if name == "lineage":
        from tvnet.checkpoint import lineage

        return lineage
    if name in ("InputError", "MAX_PIXELS", "read_image"):
        from tvnet import image

        return getattr(image, name)
    if name == "Predictor":
        from tvnet.predictor import Predictor

        return Predictor
    if name in ("ModelConfig", "preset_config", "VARIANTS"):
        from tvnet import config

        return getattr(config, name)
    if name in _DUMP:
        from tvnet.engine import dump

        return getattr(dump, name)
    if name in _METRICS:
        from tvnet import metrics

        return getattr(metrics, name)
    raise AttributeError(f"module 'tvnet' has no attribute {name!r}")
