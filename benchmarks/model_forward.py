"""Forward latency and peak memory of every variant of both presets (issue 3).

    python benchmarks/model_forward.py [--runs 20] [--threads 2] [--presets cpu paper]

Batch 1 at 320×320, siamese backbone included (query + retrieved image), eval mode, no grad.
Median of ``--runs`` timed runs after 3 warm-up runs. Peak memory = growth of the process's
peak RSS during the runs (CPU) or torch.cuda.max_memory_allocated (CUDA).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import torch
from machine import cpu_model  # benchmarks/machine.py: scripts run from this folder

from tvnet import build_model
from tvnet.config import VARIANTS, preset_config
from tvnet.data.tokenize import Vocab


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", type=int, default=320)
    ap.add_argument("--presets", nargs="+", default=["cpu", "paper"])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    vocab = Vocab(["<pad>", "<unk>"] + [f"w{i}" for i in range(1000)])
    where = torch.cuda.get_device_name() if device == "cuda" else cpu_model()
    print(
        f"device={device} ({where}) precision=fp32 threads={args.threads} size={args.size} runs={args.runs}"
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
            base = peak_rss_mib()
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
            peak = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else peak_rss_mib()
            q = statistics.quantiles(times, n=10)
            print(
                f"{preset:7s} {variant:9s} {n_all:10.2f} {n_train:12.2f} {statistics.median(times):10.1f} "
                f"{q[-1]:8.1f} {peak:9.0f}"
                + ("" if device == "cuda" else f" (+{peak - base:.0f} during runs)")
            )
            del model


if __name__ == "__main__":
    main()
