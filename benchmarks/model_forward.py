"""Forward latency and peak memory of every variant of both presets (issue 3).

    python benchmarks/model_forward.py [--runs 20] [--threads 2] [--presets cpu paper]

Batch 1 at 320×320, siamese backbone included (query + retrieved image), eval mode, no grad.
Median of ``--runs`` timed runs after 3 warm-up runs. Peak memory, on a CPU: the process's
resident memory at its highest during that variant's runs (the peak is reset before each
variant through /proc/self/clear_refs), and how much of it the runs added to the model at
rest; on CUDA: torch.cuda.max_memory_allocated, reset per variant.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path


def reset_peak_rss() -> bool:
    """Start the process's peak resident memory (VmHWM) afresh (Linux); False elsewhere."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def rss_mib(field: str) -> float | None:
    """``VmRSS`` (now) or ``VmHWM`` (the peak since the last reset) in MiB, from
    /proc/self/status; None where there is none."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=20, help="timed runs (default %(default)s)")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads (default %(default)s)")
    ap.add_argument("--size", type=int, default=320, help="input side S (default %(default)s)")
    ap.add_argument(
        "--presets", nargs="+", default=["cpu", "paper"], help="presets (default: cpu paper)"
    )
    args = ap.parse_args()
    import torch  # after --help, which needs none of it
    from machine import cpu_model  # benchmarks/machine.py: scripts run from this folder

    from tvnet import build_model
    from tvnet.amp import precision
    from tvnet.config import VARIANTS, preset_config
    from tvnet.data.tokenize import Vocab

    torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    vocab = Vocab(["<pad>", "<unk>"] + [f"w{i}" for i in range(1000)])
    where = torch.cuda.get_device_name() if device == "cuda" else cpu_model()
    fp32 = precision(device, False)
    if device == "cuda" and (
        torch.backends.cuda.matmul.allow_tf32 or torch.backends.cudnn.allow_tf32
    ):
        fp32 += " (TF32 in matrix products / convolutions)"
    print(
        f"device={device} ({where}) precision={fp32} threads={args.threads} size={args.size} "
        f"runs={args.runs}"
    )
    print(
        f"{'preset':7s} {'variant':9s} {'params(M)':>10s} {'trainable(M)':>12s} {'median ms':>10s} {'p90 ms':>8s} {'peak MiB':>9s}"
    )
    for preset in args.presets:
        for variant in VARIANTS:
            cfg = preset_config(preset, variant)
            voc = None if cfg.text_encoder == "hf_tokens" else vocab
            model = build_model(cfg, vocab=voc, pretrained=False).to(device).eval()
            n_all = sum(p.numel() for p in model.parameters()) / 1e6
            n_train = sum(p.numel() for p in model.parameters() if p.requires_grad) / 1e6
            tok = torch.randint(2, 1000, (1, 20), device=device)
            ln = torch.tensor([8], device=device)
            x = torch.randn(1, 3, args.size, args.size, device=device)
            r = torch.randn(1, 3, args.size, args.size, device=device)
            at_rest = rss_mib("VmRSS")
            reset = reset_peak_rss()
            if device == "cuda":
                torch.cuda.reset_peak_memory_stats()
            times = []
            with torch.inference_mode():
                for i in range(args.runs + 3):
                    t = time.perf_counter()
                    model(tok, ln, image=x, ref_image=r)
                    if device == "cuda":
                        torch.cuda.synchronize()
                    if i >= 3:
                        times.append((time.perf_counter() - t) * 1000)
            q = statistics.quantiles(times, n=10)
            if device == "cuda":
                mem = f"{torch.cuda.max_memory_allocated() / 2**20:9.0f}"
            elif reset and at_rest is not None and (peak := rss_mib("VmHWM")) is not None:
                mem = f"{peak:9.0f} (+{peak - at_rest:.0f} over the model at rest)"
            else:  # no per-variant peak on this system
                mem = f"{'n/a':>9s}"
            print(
                f"{preset:7s} {variant:9s} {n_all:10.2f} {n_train:12.2f} "
                f"{statistics.median(times):10.1f} {q[-1]:8.1f} {mem}"
            )
            del model


if __name__ == "__main__":
    main()
