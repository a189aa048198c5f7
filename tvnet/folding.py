"""Inference-only rewrites of a frozen CNN (docs/design.md §7): BatchNorm folded into the
convolution before it.

In eval mode a BatchNorm is an affine map per channel, y = (x − μ)·γ/√(σ²+ε) + β, so after a
convolution it can be folded into that convolution's weights and bias, leaving only the
activation that timm's ``BatchNormAct2d`` fuses in. On a CPU without bf16 (fp32) this, with
``channels_last``, takes EfficientNet-Lite0 at 320² from 94 to 64 ms per image on 2 cores
(``benchmarks/predictor.py``). The rewrite is exact up to float rounding (1.2–4.1e-6 of each map's largest
value in fp32, on the bundled Lite0 at 320²) and irreversible: the module must not be trained or saved afterwards.
"""

from __future__ import annotations

import torch
from torch import nn


class FoldedActivation(nn.Module):
    """What is left of a folded ``BatchNormAct2d``: its activation (its dropout is identity in
    eval mode)."""

    def __init__(self, act: nn.Module):
        super().__init__()
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x)


def _is_batchnorm(m: nn.Module) -> bool:
    return isinstance(m, nn.BatchNorm2d)  # timm's BatchNormAct2d subclasses it


@torch.no_grad()
def fold_batchnorm(model: nn.Module) -> int:
    """Fold every BatchNorm2d that directly follows a Conv2d among its parent's children
    (registration order = call order in timm's EfficientNet / MobileNet / ResNet blocks) into
    that convolution, in place. Returns how many were folded; BatchNorms after anything else
    stay as they are. Only for modules in eval mode whose statistics are final."""
    if model.training:
        raise RuntimeError("fold_batchnorm needs a module in eval mode (running statistics)")
    folded = 0
    for parent in list(model.modules()):
        prev: nn.Module | None = None
        for name, child in list(parent.named_children()):
            if (
                _is_batchnorm(child)
                and isinstance(prev, nn.Conv2d)
                and prev.out_channels == child.num_features
                and child.track_running_stats
                and child.running_mean is not None
            ):
                scale = torch.rsqrt(child.running_var + child.eps)
                if child.affine:
                    scale = scale * child.weight
                shift = -child.running_mean * scale
                if child.affine:
                    shift = shift + child.bias
                w = prev.weight
                prev.weight = nn.Parameter(w * scale.view(-1, *([1] * (w.dim() - 1))), False)
                b = shift if prev.bias is None else prev.bias * scale + shift
                prev.bias = nn.Parameter(b.to(w.dtype), False)
                act = getattr(child, "act", None)
                drop = getattr(child, "drop", None)
                if drop is not None and not isinstance(drop, nn.Identity):
                    act = nn.Sequential(drop, act) if act is not None else drop
                setattr(parent, name, FoldedActivation(act) if act is not None else nn.Identity())
                folded += 1
                prev = None
                continue
            prev = child
    return folded
