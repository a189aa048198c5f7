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
    """

    def __init__(self, channels: int):
        super().__init__()
        c2 = max(channels // 2, 1)
        self.theta = nn.Conv2d(channels, c2, 1)  # W1
        self.phi = nn.Conv2d(channels, c2, 1)  # W2
        self.g = nn.Conv2d(channels, c2, 1)  # W3
        self.proj = nn.Conv2d(c2, channels, 1)
        self.gate = nn.Conv2d(channels, channels, 1)
        nn.init.constant_(self.gate.bias, -2.0)  # an untrained gate lets little through
        self.scale = 1.0 / math.sqrt(c2)

    def forward(
        self, v_in: torch.Tensor, v_sim: torch.Tensor, return_attention: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """v_in, v_sim B×C×h×w → V_l' B×C×h×w, A_l B×hw×hw (or None), gate B×C×h×w.

        With ``return_attention=False`` (the training path) the same product runs as one fused
        scaled-dot-product-attention kernel and A_l is never materialised."""
        B, C, h, w = v_in.shape
        q = self.theta(v_in).flatten(2).transpose(1, 2)  # B×hw×C/2
        k = self.phi(v_sim).flatten(2)  # B×C/2×hw
        v = self.g(v_sim).flatten(2).transpose(1, 2)  # B×hw×C/2
        if return_attention:
            attn = torch.softmax(torch.bmm(q, k) * self.scale, dim=-1)  # B×hw×hw
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
