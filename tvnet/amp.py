"""Mixed precision: bf16 autocast where the hardware has it (CUDA, or CPUs with AVX512-BF16/AMX)."""

from __future__ import annotations

import contextlib
import functools
import os

import torch


@functools.lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    """Whether the CPU itself offers bf16 (AVX512-BF16 or AMX), whatever ``TVNET_CPU_BF16`` says.

    On x86 the CPU's own flags decide (``torch.cpu.get_capabilities``): oneDNN's
    ``_is_mkldnn_bf16_supported`` says yes to any AVX512 core (Skylake, Cascade Lake, Ice
    Lake), where bf16 is emulated and about 3× slower than fp32. Elsewhere (aarch64) oneDNN's
    answer stands."""
    try:
        caps = torch.cpu.get_capabilities()
    except (AttributeError, RuntimeError):
        caps = {}
    if "avx512_bf16" in caps or "amx_bf16" in caps:  # an x86 CPU: its own flags
        return bool(caps.get("avx512_bf16") or caps.get("amx_bf16"))
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
    d = torch.device(device)
    if d.type == "cuda":  # emulated bf16 (pre-Ampere GPUs) is slow: fp16
        # the given GPU's own capability (is_bf16_supported asks the current one, GPU 0
        # unless set_device ran: `--device cuda:1` on a machine of mixed GPUs)
        if not torch.cuda.is_available():  # no GPU to ask (a CPU machine naming cuda): fp16
            return torch.float16
        return torch.bfloat16 if torch.cuda.get_device_capability(d)[0] >= 8 else torch.float16
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


def grad_scaler(device: str | torch.device, enabled: bool = True) -> torch.amp.GradScaler:
    """A loss scaler, on only where autocast runs in fp16 (a GPU without bf16), whose small
    gradients would otherwise underflow; elsewhere its calls pass through unchanged."""
    on = autocast_dtype(device, enabled) == torch.float16
    return torch.amp.GradScaler("cuda", enabled=on)


def cuda_fast_paths(device: str | torch.device) -> None:
    """On CUDA: TF32 for fp32 matrix products and cuDNN autotuning (fixed input sizes, as in
    training and evaluation here). Either makes CUDA results differ in the last bits from run
    to run, so a resumed CUDA run is close to, not bit-for-bit, an uninterrupted one. Nothing
    on a CPU."""
    if torch.device(device).type == "cuda":
        torch.set_float32_matmul_precision("high")
        torch.backends.cudnn.benchmark = True
