"""Mixed precision (tvnet.amp): what autocast runs in, and TVNET_CPU_BF16=0 turning bf16 off."""

import json
import os
import platform
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

from tvnet.amp import (
    autocast_context,
    autocast_dtype,
    cpu_bf16_supported,
    cpu_has_bf16,
    cuda_fast_paths,
    grad_scaler,
    precision,
)

# what a fresh process reports: the answer is cached per process, so the override is read there
PROBE = (
    "import json, torch; from tvnet.amp import autocast_dtype, cpu_bf16_supported, precision\n"
    "from tvnet.runtime import resolve_runtime\n"
    "print(json.dumps([cpu_bf16_supported(), str(autocast_dtype('cpu')), precision('cpu'),"
    " resolve_runtime('auto', 'cpu')]))"
)


def probe(**env: str) -> list:
    run_env = {k: v for k, v in os.environ.items() if k != "TVNET_CPU_BF16"} | env
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=run_env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_precision_follows_the_cpu():
    if cpu_bf16_supported():
        assert autocast_dtype("cpu") == torch.bfloat16
        assert precision("cpu") == "bf16 autocast"
    else:
        assert autocast_dtype("cpu") is None
        assert precision("cpu") == "fp32 (no bf16 on this CPU)"
    assert autocast_dtype("cpu", enabled=False) is None
    assert precision("cpu", enabled=False) == "fp32"
    with autocast_context("cpu", enabled=False):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


def test_cpu_bf16_off_by_environment():
    """TVNET_CPU_BF16=0 makes any CPU answer as an fp32-only one: no autocast dtype, the fp32
    precision label, and the runtime an fp32-only CPU picks (onnxruntime)."""
    assert probe(TVNET_CPU_BF16="0") == [
        False,
        "None",
        "fp32 (no bf16 on this CPU)",
        "onnxruntime",
    ]
    # any other value leaves the hardware's answer (also when this process runs under "0")
    as_is = probe(TVNET_CPU_BF16="1")
    assert as_is[0] == cpu_has_bf16()
    assert as_is[2] == ("bf16 autocast" if cpu_has_bf16() else "fp32 (no bf16 on this CPU)")


def test_the_loss_scaler_is_on_exactly_where_autocast_runs_in_fp16():
    """Without a GPU with native bf16 (here: none at all) CUDA autocast means fp16, and only
    there the scaler is asked for; torch then warns that it cannot scale without CUDA, the one
    sign of an enabled scaler a machine without a GPU can see."""
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the fp16 case depends on which one")
    assert autocast_dtype("cuda") == torch.float16
    assert precision("cuda") == "fp16 autocast"
    with pytest.warns(UserWarning, match="CUDA is not available"):
        grad_scaler("cuda", True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither asks for a scaler, so neither warns
        grad_scaler("cuda", False)
        grad_scaler("cpu", True)


def test_on_a_cpu_the_loss_scaler_passes_the_loss_and_the_step_through():
    """On a CPU (bf16 or fp32) autocast never runs in fp16, so the scaler is off: the loss and
    the optimiser step are unchanged."""
    for enabled in (True, False):
        scaler = grad_scaler("cpu", enabled)
        assert not scaler.is_enabled()
        w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
        opt = torch.optim.SGD([w], lr=0.5)
        loss = (w**2).sum()
        assert scaler.scale(loss) is loss
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        assert torch.equal(w.detach(), torch.tensor([0.0, 0.0]))  # w - 0.5 · 2w


def test_cuda_fast_paths_are_set_for_cuda_and_leave_a_cpu_process_as_it_was():
    matmul, bench = torch.get_float32_matmul_precision(), torch.backends.cudnn.benchmark
    try:
        torch.set_float32_matmul_precision("highest")  # torch's defaults, so the change shows
        torch.backends.cudnn.benchmark = False
        cuda_fast_paths("cpu")
        assert torch.get_float32_matmul_precision() == "highest"
        assert torch.backends.cudnn.benchmark is False
        cuda_fast_paths("cuda:0")  # process settings only: no GPU needed to set them
        assert torch.get_float32_matmul_precision() == "high"
        assert torch.backends.cudnn.benchmark is True
    finally:
        torch.set_float32_matmul_precision(matmul)
        torch.backends.cudnn.benchmark = bench


@pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64") or not Path("/proc/cpuinfo").is_file(),
    reason="the CPU's flags are read from /proc/cpuinfo on x86 Linux",
)
def test_bf16_is_the_cpus_own_flag_not_any_avx512():
    """bf16 autocast only where the CPU has it natively (AVX512-BF16 or AMX-BF16, as the
    kernel lists its flags): an AVX512 CPU without them (Skylake to Ice Lake) emulates bf16,
    ≈ 3× slower than fp32, though oneDNN says it supports it."""
    flags = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    assert cpu_has_bf16() == bool({"avx512_bf16", "amx_bf16"} & flags)
