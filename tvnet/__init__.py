"""TV-Net studio: Two-stage Visual cues enhancement Network for referring image segmentation.

Public API: :func:`build_model`, :class:`Predictor`, and the ``tvnet`` CLI. Apps import these
and nothing deeper.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["build_model", "Predictor", "ModelConfig", "preset_config", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from tvnet.config import ModelConfig, preset_config
    from tvnet.model.build import build_model
    from tvnet.predictor import Predictor


def __getattr__(name: str) -> Any:
    # Lazy so that ``tvnet --help`` does not import torch.
    if name == "build_model":
        from tvnet.model.build import build_model

        return build_model
    if name == "Predictor":
        from tvnet.predictor import Predictor

        return Predictor
    if name in ("ModelConfig", "preset_config"):
        from tvnet import config

        return getattr(config, name)
    raise AttributeError(f"module 'tvnet' has no attribute {name!r}")
