"""High-resolution path: AMF (paper Eq. 4–5) and the Cct ablation (Table 1, row 4)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from tvnet.model.ops import sum_taps, tap_weights


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
        """m_fine B×d_m×h×w, v2 B×C2×2h×2w → M_fine' B×d_m×2h×2w, A_2 B×1×2h×2w.

        Eq. 5 as written concatenates up(M_fine) at 2h×2w into both convs. Both read it through
        per-pixel linear maps (the 1×1 conv of M_fine', and the nine taps of A_2's 3×3 conv),
        which commute with bilinear upsampling: those maps run on M_fine at h×w and their
        outputs are upsampled, and A_2's one-output 3×3 conv runs as 1×1 taps plus shifted sums
        (:func:`tvnet.model.ops.sum_taps`). Eq. 4's conv over [C_HR; V2] runs as two convs, so
        that the frozen V2 costs no input gradient. The same function up to float rounding, with the
        same parameters (tests/model/test_amf.py compares it with the equations as written);
        a training step of ``full`` is ≈ 12 % faster on a CPU (docs/design.md §6)."""
        c_hr = self.ps(self.lr(m_fine))  # B×c×2h×2w
        if c_hr.shape[-2:] != v2.shape[-2:]:
            c_hr = up2(c_hr, v2.shape[-2:])
        conv, norm, act = self.suppress  # V2' = ReLU(GN(Conv3×3([C_HR; V2]))), the conv split:
        w_s, c = conv.weight, c_hr.shape[1]  # V2's part never needs an input gradient
        v2p = F.conv2d(c_hr, w_s[:, :c], padding=1) + F.conv2d(v2, w_s[:, c:], conv.bias, padding=1)
        v2p = act(norm(v2p))  # V2'
        d = m_fine.shape[1]
        w_a2, w_out = self.intensity.weight, self.out.weight  # inputs [V2'; up(M)], [up(M); A⊙V2']
        from_m = torch.cat([tap_weights(w_a2[:, c:]), w_out[:, :d]])  # (9 + d_m)×d_m×1×1
        m_up = up2(F.conv2d(m_fine, from_m), v2.shape[-2:])  # = from_m applied to up(M_fine)
        taps = F.conv2d(v2p, tap_weights(w_a2[:, :c])) + m_up[:, :9]
        a2 = torch.sigmoid(sum_taps(taps, self.intensity.bias))
        return m_up[:, 9:] + F.conv2d(a2 * v2p, w_out[:, d:], self.out.bias), a2


class Cct(nn.Module):
    """Ablation: concat [up(M_fine); V2] → Conv1×1 (no suppression, no gate)."""

    def __init__(self, d_m: int, c2: int):
        super().__init__()
        self.fuse = nn.Conv2d(d_m + c2, d_m, 1)

    def forward(self, m_fine: torch.Tensor, v2: torch.Tensor) -> torch.Tensor:
        """The 1×1 conv of [up(M_fine); V2] as its M_fine part at h×w, upsampled, plus its V2
        part (the same up to float rounding: a 1×1 conv commutes with bilinear upsampling)."""
        d = m_fine.shape[1]
        w = self.fuse.weight
        return up2(F.conv2d(m_fine, w[:, :d]), v2.shape[-2:]) + F.conv2d(
            v2, w[:, d:], self.fuse.bias
        )
