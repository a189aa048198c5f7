"""Mixed precision: bf16 autocast where the hardware has it (CUDA, or CPUs with AVX512-BF16/AMX)."""

from __future__ import annotations

import contextlib
import functools

import torch


@functools.lru_cache(maxsize=1)
def cpu_bf16_supported() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def autocast_context(device: str | torch.device, enabled: bool = True):
    if not enabled:
        return contextlib.nullcontext()
    dev = torch.device(device).type
    if dev == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    return (
        torch.autocast("cpu", dtype=torch.bfloat16)
        if cpu_bf16_supported()
        else contextlib.nullcontext()
    )
