"""Mask head and loss (SPEC §2)."""

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


def tvnet_loss(
    logits: torch.Tensor,
    aux_logits: list[torch.Tensor],
    mask: torch.Tensor,
    w_main: float = 0.7,
    w_aux: float = 0.1,
) -> torch.Tensor:
    """BCE with logits on the final mask (0.7) plus each auxiliary head (0.1 each), as CMPC.

    logits B×1×S×S, aux each B×1×h×w (upsampled to S here), mask B×1×S×S in {0,1}."""
    loss = w_main * F.binary_cross_entropy_with_logits(logits, mask)
    for a in aux_logits:
        a = F.interpolate(a, size=mask.shape[-2:], mode="bilinear", align_corners=False)
        loss = loss + w_aux * F.binary_cross_entropy_with_logits(a, mask)
    return loss
