"""Mixed precision: bf16 autocast where the hardware has it (CUDA, or CPUs with AVX512-BF16/AMX)."""

from __future__ import annotations

import contextlib
import functools
import os

import torch


@functools.lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    """Whether the CPU itself offers bf16 (AVX512-BF16 or AMX), whatever ``TVNET_CPU_BF16`` says."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@functools.lru_cache(maxsize=1)
def cpu_bf16_supported() -> bool:
    """Whether this process runs bf16 autocast on the CPU: :func:`cpu_has_bf16`, unless
    ``TVNET_CPU_BF16=0``, which answers False on any CPU: fp32 everywhere, as an fp32-only CPU
    runs (its runtime choice included), for fp32 figures on a bf16 machine and for running the
    tests as such a machine would."""
    return os.environ.get("TVNET_CPU_BF16", "").strip() != "0" and cpu_has_bf16()


def autocast_dtype(device: str | torch.device, enabled: bool = True) -> torch.dtype | None:
    """The dtype autocast runs in on ``device``: bf16 on CUDA (fp16 where the GPU has no bf16)
    and on CPUs with bf16; None where it does not run (``enabled`` off, or a CPU without bf16)."""
    if not enabled:
        return None
    if torch.device(device).type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if cpu_bf16_supported() else None


def autocast_context(device: str | torch.device, enabled: bool = True):
    dtype = autocast_dtype(device, enabled)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast("cuda" if torch.device(device).type == "cuda" else "cpu", dtype=dtype)


def precision(device: str | torch.device, enabled: bool = True) -> str:
    """What :func:`autocast_context` runs in, in words: "bf16 autocast", "fp16 autocast",
    "fp32", or "fp32 (no bf16 on this CPU)" when autocast was asked for but cannot run."""
    dtype = autocast_dtype(device, enabled)
    if dtype is None:
        return "fp32 (no bf16 on this CPU)" if enabled else "fp32"
    return f"{'bf16' if dtype == torch.bfloat16 else 'fp16'} autocast"
