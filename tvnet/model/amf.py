"""High-resolution path: AMF (paper Eq. 4–5) and the Cct ablation (Table 1, row 4)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def up2(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class AMF(nn.Module):
    """Adaptive Multi-resolution feature Fusion.

    Eq. 4: C_LR = Conv(ReLU(Conv(M_fine))) (4c channels), C_HR = PixelShuffle(2)(C_LR),
           V2' = ReLU(GroupNorm(Conv3×3([C_HR; V2])))          — background suppression
    Eq. 5: A_2 = σ(Conv([V2'; up(M_fine)])),  M_fine' = Conv([up(M_fine); A_2 ⊙ V2'])
    """

    def __init__(self, d_m: int, c2: int, c: int):
        super().__init__()
        self.lr = nn.Sequential(
            nn.Conv2d(d_m, d_m, 1), nn.ReLU(inplace=True), nn.Conv2d(d_m, 4 * c, 1)
        )
        self.ps = nn.PixelShuffle(2)
        self.suppress = nn.Sequential(
            nn.Conv2d(c + c2, c, 3, padding=1), nn.GroupNorm(min(8, c), c), nn.ReLU(inplace=True)
        )
        self.intensity = nn.Conv2d(c + d_m, 1, 3, padding=1)
        self.out = nn.Conv2d(d_m + c, d_m, 1)

    def forward(self, m_fine: torch.Tensor, v2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """m_fine B×d_m×h×w, v2 B×C2×2h×2w → M_fine' B×d_m×2h×2w, A_2 B×1×2h×2w."""
        c_hr = self.ps(self.lr(m_fine))  # B×c×2h×2w
        if c_hr.shape[-2:] != v2.shape[-2:]:
            c_hr = up2(c_hr, v2.shape[-2:])
        v2p = self.suppress(torch.cat([c_hr, v2], dim=1))  # V2'
        m_up = up2(m_fine, v2.shape[-2:])
        a2 = torch.sigmoid(self.intensity(torch.cat([v2p, m_up], dim=1)))
        return self.out(torch.cat([m_up, a2 * v2p], dim=1)), a2


class Cct(nn.Module):
    """Ablation: concat [up(M_fine); V2] → Conv1×1 (no suppression, no gate)."""

    def __init__(self, d_m: int, c2: int):
        super().__init__()
        self.fuse = nn.Conv2d(d_m + c2, d_m, 1)

    def forward(self, m_fine: torch.Tensor, v2: torch.Tensor) -> torch.Tensor:
        return self.fuse(torch.cat([up2(m_fine, v2.shape[-2:]), v2], dim=1))
