"""Rename the paper's DeepLab-v2 ResNet-101 (VOC) to timm's ``resnet101`` names, for the
``paper`` preset's ``model.backbone_weights`` (docs/design.md §3):

    python tools/convert_deeplab.py SRC weights/deeplab_resnet101_voc_timm.safetensors

The tensors are Caffe's in every port; only the names, the tensor layout and the epsilon
BatchNorm computes with differ. ``SRC`` is one of:

- a PyTorch port in the layout of kazuto1011/deeplab-pytorch (``layer2.block1.reduce.conv.weight``,
  ``layer1.conv1.bn.running_var``; a ``base.`` prefix from its multi-scale wrapper is fine);
- a PyTorch port in torchvision's layout (isht7/pytorch-deeplab-resnet: ``Scale.layer1.0.conv1.weight``);
- the Caffe model's own names, as DrSleep's TensorFlow port holds them (``res4b22_branch2a/weights``,
  ``bn4b22_branch2a/moving_variance``), saved to an ``.npz`` (or a ``.pth`` dict; its ``.ckpt``
  through TensorFlow, e.g. ``tf.train.load_checkpoint``'s tensors): TensorFlow's H×W×in×out
  kernels are transposed, ``gamma``/``beta`` (or ``scale``/``offset``) are BatchNorm's
  weight/bias, and the epsilon TensorFlow normalises Caffe's statistics with (slim's 0.001,
  where the kernels are TensorFlow's; ``--bn-eps``) is folded into ``running_var``, so that
  PyTorch's 1e-5 computes what CMPC's TensorFlow pipeline computed (the PyTorch ports
  normalise with Caffe's 1e-5: 0.00099 less on every variance, nothing to fold).

The Caffe model itself (``.caffemodel``: BatchNorm and Scale as separate layers, unnamed
blobs) is not read: convert it with kazuto1011/deeplab-pytorch's ``convert.py`` (or isht7's
``convert_deeplab_resnet.py``) first, then convert their ``.pth`` here. kazuto1011's released
``deeplabv2_resnet101_msc-vocaug-20000.pth`` is that port's own PyTorch retraining, not the
Caffe weights. The classifier (ASPP) is left out. Every one of timm ``resnet101``'s tensors must be found
with its shape, or nothing is written. Compute it as the paper's pipeline did with
``model.backbone_layout: caffe`` (the preset's default): the names say nothing of where a
stage strides or how the stem pads.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: --help stays fast
    import torch

TORCH_EPS = 1e-5  # PyTorch BatchNorm's, which timm's resnet101 uses
TF_EPS = 1e-3  # slim's batch_norm default, DrSleep's TensorFlow port's
_BN = {"weight": "weight", "bias": "bias", "running_mean": "running_mean",
       "running_var": "running_var"}  # fmt: skip
_TF_BN = {"scale": "weight", "offset": "bias", "gamma": "weight", "beta": "bias",
          "moving_mean": "running_mean", "moving_variance": "running_var",
          "mean": "running_mean", "variance": "running_var"}  # fmt: skip
_VARIANCE = ("moving_variance", "variance")
_KAZUTO_PARTS = {"reduce": "1", "conv3x3": "2", "increase": "3"}


def _kazuto(name: str) -> str | None:
    """kazuto1011/deeplab-pytorch → timm: layer1 is the stem, layerN+1 timm's layerN."""
    m = re.fullmatch(r"layer1\.conv1\.(conv|bn)\.(\w+)", name)
    if m:
        return "conv1.weight" if m[1] == "conv" else f"bn1.{_BN.get(m[2], m[2])}"
    m = re.fullmatch(r"layer([2-5])\.block(\d+)\.(reduce|conv3x3|increase|shortcut)\.(conv|bn)\.(\w+)", name)  # fmt: skip
    if not m:
        return None
    stage, block, part, kind, field = int(m[1]) - 1, int(m[2]) - 1, m[3], m[4], m[5]
    where = f"layer{stage}.{block}"
    if part == "shortcut":
        return f"{where}.downsample.{0 if kind == 'conv' else 1}.{field}"
    n = _KAZUTO_PARTS[part]
    return f"{where}.conv{n}.weight" if kind == "conv" else f"{where}.bn{n}.{field}"


def _torchvision(name: str) -> str | None:
    """isht7/pytorch-deeplab-resnet (``Scale.``) or any torchvision-named ResNet → timm (the
    same names; torchvision's ``layer5`` there is the classifier)."""
    m = re.fullmatch(r"(conv1\.weight|bn1\.\w+|layer[1-4]\.\d+\.(conv[123]\.weight|bn[123]\.\w+|downsample\.[01]\.\w+))", name)  # fmt: skip
    return name if m else None


def _block_index(letters: str) -> int:
    """Caffe's block names: a, b, c (stages 2 and 5), or a, b1, b2, … (stages 3 and 4)."""
    if letters in ("a", "b", "c"):
        return "abc".index(letters)
    return int(letters[1:])  # b1 is the second block


def _caffe(name: str) -> tuple[str, bool] | None:
    """Caffe / DrSleep names → (timm name, is a BatchNorm variance)."""
    m = re.fullmatch(r"conv1/(weights|kernel)", name)
    if m:
        return "conv1.weight", False
    m = re.fullmatch(r"bn_conv1/(\w+)", name)
    if m and m[1] in _TF_BN:
        return f"bn1.{_TF_BN[m[1]]}", m[1] in _VARIANCE
    m = re.fullmatch(r"(res|bn)([2-5])(a|b\d*|c)_branch(1|2a|2b|2c)/(\w+)", name)
    if not m:
        return None
    kind, stage, block, branch, field = m[1], int(m[2]) - 1, _block_index(m[3]), m[4], m[5]
    where = f"layer{stage}.{block}"
    if kind == "res":
        if field not in ("weights", "kernel"):
            return None
        return (f"{where}.downsample.0.weight" if branch == "1"
                else f"{where}.conv{'abc'.index(branch[1]) + 1}.weight"), False  # fmt: skip
    if field not in _TF_BN:
        return None
    bn = f"{where}.downsample.1" if branch == "1" else f"{where}.bn{'abc'.index(branch[1]) + 1}"
    return f"{bn}.{_TF_BN[field]}", field in _VARIANCE


def read_weights(path: Path) -> dict[str, torch.Tensor]:
    """A state dict from ``.pth``/``.pt`` (a ``state_dict`` or ``model`` entry is unwrapped),
    ``.safetensors`` or ``.npz``."""
    import numpy as np
    import torch

    if not path.is_file():
        raise FileNotFoundError(f"{path} not found")
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            return {k: torch.from_numpy(np.array(z[k])) for k in z.files}
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    sd = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(sd, dict) and isinstance(sd.get(key), dict):
            sd = sd[key]
    if not isinstance(sd, dict):
        raise ValueError(f"{path} holds no state dict ({type(sd).__name__})")
    return {k: v for k, v in sd.items() if isinstance(v, torch.Tensor)}


def convert(
    sd: dict[str, torch.Tensor], bn_eps: float | None = None
) -> tuple[dict[str, torch.Tensor], str]:
    """(timm ``resnet101`` state dict, the layout recognised). ``bn_eps``: the epsilon the
    Caffe-named tensors' BatchNorm was computed with, folded into ``running_var``; by default
    slim's 0.001 where the kernels are TensorFlow's (H×W×in×out: DrSleep's port) and none
    otherwise (PyTorch's 1e-5: the PyTorch ports, or Caffe-named tensors already O×I×H×W).
    ValueError when a tensor is missing, of another shape than timm's, or a backbone tensor
    that ResNet-101 has no place for (a deeper ResNet)."""
    import timm

    want = {k: v.shape for k, v in timm.create_model("resnet101", pretrained=False).state_dict().items()
            if not k.endswith("num_batches_tracked") and not k.startswith("fc.")}  # fmt: skip
    prefixes = ("module.", "base.", "Scale.", "model.")
    out: dict[str, torch.Tensor] = {}
    layouts, variances, transposed = set(), [], 0
    for name, t in sd.items():
        bare = name
        while bare.startswith(prefixes):
            bare = bare.split(".", 1)[1]
        if bare.endswith("num_batches_tracked"):
            continue
        target, variance, layout = None, False, ""
        if (target := _kazuto(bare)) is not None:
            layout = "kazuto1011/deeplab-pytorch"
        elif (target := _torchvision(bare)) is not None:
            layout = "torchvision"
        elif (hit := _caffe(bare)) is not None:
            (target, variance), layout = hit, "caffe/tensorflow"
            if t.ndim == 4 and target in want and tuple(t.shape) != tuple(want[target]):
                t = t.permute(3, 2, 0, 1)  # TensorFlow's H×W×in×out
                transposed += 1
        if target is None:
            continue  # the classifier (ASPP), anything outside the backbone
        if target not in want:
            raise ValueError(f"{name} has no place in ResNet-101 ({target}): a deeper ResNet?")
        if target in out:
            raise ValueError(f"{name} and another tensor both map to timm's {target}")
        if tuple(t.shape) != tuple(want[target]):
            raise ValueError(
                f"{name} is {tuple(t.shape)}; timm's {target} is {tuple(want[target])}"
            )
        out[target] = t.detach().float().contiguous()
        layouts.add(layout)
        if variance:
            variances.append(target)
    missing = [k for k in want if k not in out]
    if missing:
        raise ValueError(
            f"{len(missing)} of timm resnet101's {len(want)} tensors not found "
            f"(e.g. {', '.join(missing[:3])}): is this the DeepLab-v2 ResNet-101?"
        )
    if len(layouts) != 1:
        raise ValueError(f"tensors of several layouts mixed: {', '.join(sorted(layouts))}")
    eps = bn_eps if bn_eps is not None else (TF_EPS if transposed else TORCH_EPS)
    for k in variances:  # (x − μ)/√(σ² + eps) = (x − μ)/√((σ² + eps − 1e-5) + 1e-5)
        out[k] = out[k] + (eps - TORCH_EPS)
    return out, layouts.pop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Rename a DeepLab-v2 ResNet-101 checkpoint to timm's resnet101 names "
        "(safetensors) for the paper preset's model.backbone_weights.",
    )
    ap.add_argument("src", type=Path, help="the port's weights: .pth, .safetensors or .npz")
    ap.add_argument("out", type=Path, help="the .safetensors file to write")
    ap.add_argument("--bn-eps", type=float, default=None,
                    help="BatchNorm epsilon of Caffe-named tensors, folded into running_var "
                    "(default: 0.001, slim's, for TensorFlow's H×W×in×out kernels; none for "
                    "O×I×H×W ones and the PyTorch ports)")  # fmt: skip
    args = ap.parse_args(argv)
    if args.out.suffix != ".safetensors":
        ap.error("OUT must end in .safetensors")
    try:
        sd, layout = convert(read_weights(args.src), args.bn_eps)
    except (OSError, ValueError, RuntimeError) as e:
        print(f"convert_deeplab: {e}", file=sys.stderr)
        return 2
    from safetensors.torch import save_file

    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    save_file(sd, str(tmp), metadata={"source": str(args.src.name), "layout": layout})
    tmp.replace(args.out)
    print(f"{len(sd)} tensors ({layout}) → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
