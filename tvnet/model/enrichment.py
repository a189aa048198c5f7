"""Enrichment of the query features by the retrieved image (paper Eq. 1–2, docs/design.md §2)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Enrichment(nn.Module):
    """Eq. 1: A_l = softmax(θ(v_in)ᵀ φ(v_sim) / √(C/2)),  v_sim' = W_o(A_l · g(v_sim)).
    Eq. 2: V_l' = V_l^in + σ(Conv1×1(V_l^in)) ⊙ V_sim'.

    The softmax runs over the retrieved image's h·w positions, so each row of A_l sums to 1.
    With ``key_grid`` > 0 and a larger level, φ(v_sim) and g(v_sim) are first max-pooled to
    key_grid × key_grid (Non-local Networks' subsampling): the rows then run over those k²
    positions.
    """

    def __init__(self, channels: int, key_grid: int = 0):
        super().__init__()
        c2 = max(channels // 2, 1)
        self.theta = nn.Conv2d(channels, c2, 1)  # W1
        self.phi = nn.Conv2d(channels, c2, 1)  # W2
        self.g = nn.Conv2d(channels, c2, 1)  # W3
        self.proj = nn.Conv2d(c2, channels, 1)
        self.gate = nn.Conv2d(channels, channels, 1)
        nn.init.constant_(self.gate.bias, -2.0)  # an untrained gate lets little through
        self.scale = 1.0 / math.sqrt(c2)
        self.key_grid = key_grid

    def forward(
        self, v_in: torch.Tensor, v_sim: torch.Tensor, return_attention: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """v_in, v_sim B×C×h×w → V_l' B×C×h×w, A_l B×hw×k² (or None; k = h, or ``key_grid``
        when the level is larger), gate B×C×h×w.

        With ``return_attention=False`` (the training path) the same product runs as one fused
        scaled-dot-product-attention kernel and A_l is never materialised."""
        B, C, h, w = v_in.shape
        q = self.theta(v_in).flatten(2).transpose(1, 2)  # B×hw×C/2
        k, v = self.phi(v_sim), self.g(v_sim)  # B×C/2×h×w
        if self.key_grid and max(k.shape[-2:]) > self.key_grid:
            k = F.adaptive_max_pool2d(k, self.key_grid)
            v = F.adaptive_max_pool2d(v, self.key_grid)
        k = k.flatten(2)  # B×C/2×k²
        v = v.flatten(2).transpose(1, 2)  # B×k²×C/2
        if return_attention:
            attn = torch.softmax(torch.bmm(q, k) * self.scale, dim=-1)  # B×hw×k²
            out = torch.bmm(attn, v)  # B×hw×C/2
        else:
            attn = None
            # contiguous last dims let PyTorch pick its flash kernel (3× faster on CPU than
            # the math fallback that strided views get; benchmarks/model_forward.py)
            out = F.scaled_dot_product_attention(
                q[:, None].contiguous(),
                k.transpose(1, 2)[:, None].contiguous(),
                v[:, None].contiguous(),
            )[:, 0]
        v_sim_p = out.transpose(1, 2).reshape(B, -1, h, w)
        v_sim_p = self.proj(v_sim_p)  # B×C×h×w
        gate = torch.sigmoid(self.gate(v_in))
        return v_in + gate * v_sim_p, attn, gate
