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
    at_logits_grid: bool = False,
) -> torch.Tensor:
    """BCE with logits on the final mask (0.7) plus each auxiliary head (0.1 each), as CMPC;
    ``w_dice`` > 0 adds that weight of :func:`dice_loss` on the final mask (the ``cpu``
    recipe's choice, docs/design.md §6; §2's loss is ``w_dice=0``).

    logits B×1×S×S (or any grid whose side divides S), aux each B×1×h×w, mask B×1×S×S in
    {0,1}. By default (§2) every map is brought to S: aux logits are upsampled bilinearly.
    ``at_logits_grid``: instead the mask is brought to each map's grid, as the share of each
    cell that it covers (area pooling, soft targets), so no logit is upsampled and the loss
    costs a few cells instead of S² pixels (docs/design.md §6, "Training throughput")."""

    def target(x: torch.Tensor) -> torch.Tensor:
        if not at_logits_grid or x.shape[-2:] == mask.shape[-2:]:
            return mask
        return F.adaptive_avg_pool2d(mask, x.shape[-2:])

    t_main = target(logits)
    loss = w_main * F.binary_cross_entropy_with_logits(logits, t_main)
    for a in aux_logits:
        if not at_logits_grid:
            a = F.interpolate(a, size=mask.shape[-2:], mode="bilinear", align_corners=False)
        loss = loss + w_aux * F.binary_cross_entropy_with_logits(a, target(a))
    if w_dice:
        loss = loss + w_dice * dice_loss(logits, t_main)
    return loss


def training_loss(out, mask: torch.Tensor, cfg) -> torch.Tensor:
    """The training loss of a :class:`tvnet.model.tvnet.TVNetOutput` against the letterboxed
    mask B×1×S×S under a :class:`tvnet.config.TrainConfig` (its weights and ``loss_grid``), in
    fp32: what one training step minimises (the loop, and the benchmarks that time a step)."""
    head_grid = cfg.loss_grid == "head"
    return tvnet_loss(
        (out.logits_low if head_grid else out.logits).float(),
        [a.float() for a in out.aux_logits],
        mask,
        cfg.loss_main,
        cfg.loss_aux,
        cfg.loss_dice,
        at_logits_grid=head_grid,
    )
