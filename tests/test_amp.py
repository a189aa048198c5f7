"""Mixed precision (tvnet.amp): what autocast runs in, and TVNET_CPU_BF16=0 turning bf16 off."""

import json
import os
import subprocess
import sys

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
    "from tvnet.inference.runtime import resolve_runtime\n"
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


def test_on_a_cpu_the_loss_scaler_passes_the_loss_and_the_step_through():
    """On a CPU (bf16 or fp32) autocast never runs in fp16, so the scaler is off: the loss and
    the optimiser step are unchanged (the fp16 case needs a GPU and is not tested here)."""
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


def test_cuda_fast_paths_leave_a_cpu_process_as_it_was():
    matmul, bench = torch.get_float32_matmul_precision(), torch.backends.cudnn.benchmark
    cuda_fast_paths("cpu")
    assert torch.get_float32_matmul_precision() == matmul
    assert torch.backends.cudnn.benchmark == bench
