"""End-to-end Predictor latency (retrieval included) and peak memory (issue 6).

    python benchmarks/predictor.py [--checkpoint DIR] [--pool DIR] [--runs 20] [--threads 2]
                                   [--runtime auto|torch|onnxruntime] [--scenes 5]
                                   [--no-attention] [--mirror]

Loads the bundled model (default) once, then segments SynthRef example scenes; prints the CPU,
the precision, the median and p90 of the total and of every stage, the process's peak RSS,
and how many threads ran during the calls (on 2 cores a third busy thread, such as numpy's
OpenBLAS pool busy-waiting after a product, halves the backbone's speed: docs/design.md §7).
``--no-attention``: answers without the RES attention maps (what `tvnet predict` asks for; the
demo shows them). ``--mirror``: answers averaged with the mirror image's (``mirror=True``).

Every call of the main figure sees a new image: the Predictor's memory of recent images is emptied before
it. A second figure, "same image, another expression", times what the demo does when a person
asks a second question of one image (the backbone maps and the retrieval image vector come from
the cache; docs/design.md §7, "Recent images").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from pathlib import Path

import torch
from machine import cpu_model  # benchmarks/machine.py: scripts run from this folder

from tvnet.config import RUNTIMES


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--checkpoint", type=Path)
    ap.add_argument("--pool", type=Path)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-amp", action="store_true")
    ap.add_argument(
        "--runtime",
        choices=RUNTIMES,
        help="see tvnet.runtime (default auto)",
    )
    ap.add_argument(
        "--scenes",
        type=int,
        default=5,
        help="distinct SynthRef test scenes cycled through (each retrieves its own neighbour)",
    )
    ap.add_argument(
        "--no-attention", action="store_true", help="answers without the RES attention maps"
    )
    ap.add_argument(
        "--mirror", action="store_true", help="answers averaged with the mirror image's"
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from tvnet import Predictor
    from tvnet.amp import precision
    from tvnet.data.synthref import make_scene

    t = time.perf_counter()
    pred = Predictor.from_checkpoint(
        args.checkpoint, args.pool, device="cpu", amp=not args.no_amp, runtime=args.runtime
    )
    load_s = time.perf_counter() - t
    scenes = [make_scene(0, "test", i) for i in range(args.scenes)]
    jobs = [(s.image, s.expressions[0].raw) for s in scenes]
    opts = {"attention": not args.no_attention, "mirror": args.mirror}
    for img, expr in jobs[:2]:  # warm-up
        pred(img, expr, **opts)
    stages: dict[str, list[float]] = {}
    before = _thread_cpu()
    for i in range(args.runs):
        img, expr = jobs[i % len(jobs)]
        pred.recent_images.clear()  # a new image every call
        for k, v in pred(img, expr, **opts).timings.items():
            stages.setdefault(k, []).append(v)
    after = _thread_cpu()
    busy = sorted((after[t] - before.get(t, 0.0) for t in after), reverse=True)
    warm: dict[str, list[float]] = {}
    for i in range(args.runs):
        s = scenes[i % len(scenes)]
        exprs = [e.raw for e in s.expressions]
        pred.recent_images.clear()
        pred(s.image, exprs[0], **opts)
        again = exprs[1 + (i // len(scenes)) % (len(exprs) - 1)] if len(exprs) > 1 else exprs[0]
        for k, v in pred(s.image, again, **opts).timings.items():
            warm.setdefault(k, []).append(v)
    print(
        f"{cpu_model()}, {precision('cpu', not args.no_amp)}: variant={pred.variant} "
        f"runtime={pred.info['runtime']} (sentence encoder: "
        f"{'the network text pass' if pred.info.get('text_shared') else pred.info['text_runtime']}) "
        f"threads={args.threads} attention={opts['attention']} mirror={args.mirror} "
        f"load={load_s:.1f}s runs={args.runs}"
    )
    for title, figures in (("a new image", stages), ("same image, another expression", warm)):
        print(f" {title}:")
        for k, v in figures.items():
            q = statistics.quantiles(v, n=10) if len(v) > 1 else v
            print(f"  {k:15s} median {statistics.median(v):7.1f} ms   p90 {q[-1]:7.1f} ms")
    if busy:  # a library's idle threads that busy-wait beside PyTorch's show up here
        share = [f"{b / sum(busy):.0%}" for b in busy if b > 0.02 * sum(busy)]
        print(
            f"  threads that ran during the new-image calls: {len(share)} ({', '.join(share)} of the CPU time)"
        )
    print(f"  peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print(json.dumps({k: statistics.median(v) for k, v in stages.items()}))
    print(json.dumps({f"warm_{k}": statistics.median(v) for k, v in warm.items()}))


def _thread_cpu() -> dict[str, float]:
    """CPU seconds of each thread of this process (Linux /proc; empty elsewhere)."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for task in Path(f"/proc/{os.getpid()}/task").glob("*"):
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        out[task.name] = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return out


if __name__ == "__main__":
    main()
