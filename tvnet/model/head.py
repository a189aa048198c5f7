"""Mask head and loss (docs/design.md §2)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MaskHead(nn.Module):
    """3×3 conv, ReLU, 1×1 conv → one logit per cell."""

    def __init__(self, d_m: int):
        super().__init__()
        hidden = max(d_m // 2, 16)
        self.net = nn.Sequential(
            nn.Conv2d(d_m, hidden, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(hidden, 1, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def dice_loss(logits: torch.Tensor, mask: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """Mean over samples of 1 − soft Dice(σ(logits), mask); logits and mask B×1×S×S.

    Every sample weighs the same whatever its referent's size, where pixel-mean BCE weighs a
    sample by its pixels; ``eps`` keeps a sample with an empty mask and prediction at 0."""
    p = torch.sigmoid(logits).flatten(1)
    m = mask.flatten(1)
    return (1 - (2 * (p * m).sum(1) + eps) / (p.sum(1) + m.sum(1) + eps)).mean()


def tvnet_loss(
    logits: torch.Tensor,
    aux_logits: list[torch.Tensor],
    mask: torch.Tensor,
    w_main: float = 0.7,
    w_aux: float = 0.1,
    w_dice: float = 0.0,
) -> torch.Tensor:
    """BCE with logits on the final mask (0.7) plus each auxiliary head (0.1 each), as CMPC;
    ``w_dice`` > 0 adds that weight of :func:`dice_loss` on the final mask (the ``cpu``
    recipe's choice, docs/design.md §6; §2's loss is ``w_dice=0``).

    logits B×1×S×S, aux each B×1×h×w (upsampled to S here), mask B×1×S×S in {0,1}."""
    loss = w_main * F.binary_cross_entropy_with_logits(logits, mask)
    for a in aux_logits:
        a = F.interpolate(a, size=mask.shape[-2:], mode="bilinear", align_corners=False)
        loss = loss + w_aux * F.binary_cross_entropy_with_logits(a, mask)
    if w_dice:
        loss = loss + w_dice * dice_loss(logits, mask)
    return loss
