"""Small tensor operations shared by the model's modules."""

from __future__ import annotations

import torch


def l2_normalize(x: torch.Tensor, dim: int = 1, eps: float = 1e-12) -> torch.Tensor:
    """``x / max(‖x‖₂, eps)`` along ``dim``, as ``F.normalize``, computed as x · rsqrt(Σx²):
    on 2 CPU cores 4–15× faster than ``F.normalize`` on B×C×h×w maps in bf16 (whose norm
    kernel reduces over the strided channel axis), docs/design.md §6, "Training throughput".
    In fp16 (autocast on GPUs without bf16) Σx² overflows once ‖x‖ > 256 and eps² is 0, so
    there it is computed in fp32; bf16 has fp32's range."""
    y = x.float() if x.dtype == torch.float16 else x
    return (y * torch.rsqrt((y * y).sum(dim, keepdim=True).clamp_min(eps * eps))).to(x.dtype)


def tap_weights(weight: torch.Tensor) -> torch.Tensor:
    """A one-output 3×3 conv's weight 1×C×3×3 → the 9×C×1×1 weight of a 1×1 conv whose output
    channel 3·ky + kx is tap (ky, kx) of it, summed over C (see :func:`sum_taps`)."""
    if weight.shape[0] != 1 or weight.shape[-2:] != (3, 3):
        raise ValueError(f"expected a 1×C×3×3 weight, got {tuple(weight.shape)}")
    return weight[0].permute(1, 2, 0).reshape(9, weight.shape[1], 1, 1)


def sum_taps(taps: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """B×9×H×W tap maps (:func:`tap_weights`) → B×1×H×W: the 3×3 conv with padding 1 and zero
    borders, i.e. ``F.conv2d(x, w, bias, padding=1) == sum_taps(F.conv2d(x, tap_weights(w)),
    bias)`` up to float rounding. On a CPU a 3×3 conv with one output channel is a poor GEMM
    (≈ 3 GMAC/s for AMF's A_2 on 2 cores); nine shifted adds of a 1×1 conv's outputs are ≈ 2.5×
    faster forward and backward (docs/design.md §6, "Training throughput")."""
    h, w = taps.shape[-2:]
    padded = torch.nn.functional.pad(taps, (1, 1, 1, 1))
    out = padded[:, 0:1, 0:h, 0:w]
    for k in range(1, 9):
        ky, kx = divmod(k, 3)
        out = out + padded[:, k : k + 1, ky : ky + h, kx : kx + w]
    return out if bias is None else out + bias.view(1, 1, 1, 1)
