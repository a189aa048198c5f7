"""Small tensor operations shared by the model's modules."""

from __future__ import annotations

import torch


def l2_normalize(x: torch.Tensor, dim: int = 1, eps: float = 1e-12) -> torch.Tensor:
    """``x / max(‖x‖₂, eps)`` along ``dim``, as ``F.normalize``, computed as x · rsqrt(Σx²):
    on 2 CPU cores 4–15× faster than ``F.normalize`` on B×C×h×w maps in bf16 (whose norm
    kernel reduces over the strided channel axis), docs/design.md §6, "Training throughput"."""
    return x * torch.rsqrt((x * x).sum(dim, keepdim=True).clamp_min(eps * eps))
