"""A trainable adapter over the frozen backbone's deepest maps (``model.visual_adapter``,
docs/design.md §3, "Vision"): issue 23's "vision that can learn shape" at a CPU's budget.

The backbone stays frozen, so its features can still be cached for training; each adapted level
(V4 and V5: the stride-16 and stride-32 maps, where an object's outline is summarised) gets a
residual bottleneck, 1×1 → 3×3 → 3×3 dilated 2 → 1×1 with ReLUs between. It reads and adds to
the maps as fusion sees them (after :meth:`~tvnet.model.backbone.Backbone.align`, so with
``feature_norm`` at unit RMS per cell, where a residual's size means the same at every level).
Its last convolution starts at zero, so the adapter starts as the identity (the
zero-convolution trick of :mod:`tvnet.model.grow`) and a trained network grows one without
losing what it computed (``tvnet train --init CKPT --set model.visual_adapter=64``). It sits
before RES and is the same module for the query and the retrieved image, which keeps the
backbone siamese.
"""

from __future__ import annotations

import torch
from torch import nn

LEVELS = 2  # V4 and V5, the two deepest of [V2, V3, V4, V5]


class Bottleneck(nn.Module):
    """x + up(conv3×3 dil 2(conv3×3(down(x)))) with ReLUs, ``up`` zero at the start."""

    def __init__(self, channels: int, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, padding=2, dilation=2),
            nn.ReLU(inplace=True),
        )
        self.up = nn.Conv2d(width, channels, 1)
        nn.init.zeros_(self.up.weight)
        nn.init.zeros_(self.up.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.up(self.body(x))


class VisualAdapter(nn.Module):
    """[V3, V4, V5] (or [V2, …, V5]) → the same list with the last two, V4 and V5, adapted."""

    def __init__(self, channels: list[int], width: int) -> None:
        super().__init__()
        if width < 1:
            raise ValueError(f"the adapter's width must be ≥ 1, got {width}")
        self.levels = nn.ModuleList(Bottleneck(c, width) for c in channels[-LEVELS:])

    def forward(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        keep = len(feats) - LEVELS
        return [*feats[:keep], *(block(f) for block, f in zip(self.levels, feats[keep:]))]
