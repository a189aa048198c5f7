"""Cross-modal fusion (paper Eq. 3, docs/design.md §2): bilinear fusion per level and CMPC's
language-guided gated exchange between levels, then a ConvLSTM over the three levels."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from tvnet.model.ops import l2_normalize


class BilinearFusion(nn.Module):
    """Eq. 3, first line: M_raw = (W4 s) ⊙ (W5 ⊗ Conv1×1([V_l'; O])), summed over ``heads``
    (MUTAN-style), tanh-bounded and L2-normalised over channels.

    V_l' may come at a coarser grid than O (a level enriched at its native resolution): the
    1×1 conv then runs on V_l' where it is and its output is upsampled bilinearly, which is
    exactly Conv1×1(up(V_l')) (both are linear, and bilinear weights sum to 1) at a fraction
    of the work: d_m channels upsampled instead of C, and the conv on h_l·w_l cells."""

    def __init__(self, c_vis: int, d_s: int, d_m: int, heads: int = 1):
        super().__init__()
        self.visual = nn.Conv2d(c_vis + 8, d_m, 1)
        self.w5 = nn.ModuleList(nn.Conv2d(d_m, d_m, 1) for _ in range(heads))
        self.w4 = nn.ModuleList(nn.Linear(d_s, d_m) for _ in range(heads))

    def forward(self, v: torch.Tensor, o: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """v B×C×h_l×w_l (h_l ≤ h), o B×8×h×w, s B×d_s → M_raw B×d_m×h×w."""
        if v.shape[-2:] == o.shape[-2:]:
            x = self.visual(torch.cat([v, o], dim=1))
        else:
            c = v.shape[1]
            w = self.visual.weight
            xv = F.interpolate(
                F.conv2d(v, w[:, :c]), size=o.shape[-2:], mode="bilinear", align_corners=False
            )
            x = xv + F.conv2d(o, w[:, c:], self.visual.bias)
        x = torch.tanh(x)
        m = sum(w4(s)[:, :, None, None] * w5(x) for w4, w5 in zip(self.w4, self.w5))
        return l2_normalize(torch.tanh(m))


class LanguageGate(nn.Module):
    """Eq. 3, second line (CMPC's gated exchange):
    g_l = language-attended pooling of M_l;  Gate_l(M_k) = σ(W_l g_l) ⊙ ReLU(Conv1×1_k(M_k));
    M_l' = M_l + Σ_{k≠l} Gate_l(M_k)."""

    def __init__(self, d_m: int, d_s: int, levels: int = 3):
        super().__init__()
        self.query = nn.Linear(d_s, d_m)
        self.gate = nn.ModuleList(nn.Linear(d_m, d_m) for _ in range(levels))
        self.transform = nn.ModuleList(nn.Conv2d(d_m, d_m, 1) for _ in range(levels))

    def forward(self, ms: list[torch.Tensor], s: torch.Tensor) -> list[torch.Tensor]:
        q = self.query(s)  # B×d_m
        pooled = []
        for m in ms:
            flat = m.flatten(2)  # B×d_m×hw
            att = torch.softmax(torch.einsum("bc,bcn->bn", q, flat) / flat.shape[1] ** 0.5, dim=-1)
            pooled.append(torch.einsum("bn,bcn->bc", att, flat))  # B×d_m
        msg = [F.relu(t(m)) for t, m in zip(self.transform, ms)]  # what level k sends
        out = []
        for lvl, m in enumerate(ms):
            g = torch.sigmoid(self.gate[lvl](pooled[lvl]))[:, :, None, None]
            out.append(m + sum(g * msg[k] for k in range(len(ms)) if k != lvl))
        return out


class ConvLSTM(nn.Module):
    """1×1-kernel ConvLSTM with GroupNorm over each gate (layer-norm style), run over the
    levels [M_3', M_4', M_5'] as a 3-step sequence; returns the last hidden state M_fine."""

    def __init__(self, d_m: int):
        super().__init__()
        self.gates = nn.Conv2d(2 * d_m, 4 * d_m, 1)
        self.norm = nn.GroupNorm(4, 4 * d_m)
        self.d_m = d_m

    def forward(self, seq: list[torch.Tensor]) -> torch.Tensor:
        h = c = None
        for x in seq:
            if h is None:  # h = c = 0: the hidden half of the conv contributes nothing
                z = F.conv2d(x, self.gates.weight[:, : self.d_m], self.gates.bias)
            else:
                z = self.gates(torch.cat([x, h], dim=1))
            i, f, o, g = self.norm(z).chunk(4, dim=1)
            c = torch.sigmoid(i) * torch.tanh(g) + (0 if c is None else torch.sigmoid(f) * c)
            h = torch.sigmoid(o) * torch.tanh(c)
        return h
