"""SynthRef generation throughput (expressions per second).

    python benchmarks/synth.py                 # 2,000 samples, default workers
    python benchmarks/synth.py --samples 10000 --workers 2

Goal (issue 4): 10,000 samples in under 2 minutes on 2 cores, i.e. ≥ 84 samples/s.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from machine import cpu_model  # benchmarks/machine.py: scripts run from this folder

from tvnet.data.synthref import generate


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--samples", type=int, default=2000, help="expressions to generate (default 2000)"
    )
    ap.add_argument(
        "--workers", type=int, default=None, help="worker processes (default min(2, CPUs))"
    )
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="synthref-bench-"))
    try:
        n_val = n_test = args.samples // 10
        n_train = args.samples - n_val - n_test

        def cpu() -> float:  # this process and its (reaped) worker processes
            ru = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
            return sum(r.ru_utime + r.ru_stime for r in ru)

        c0, t0 = cpu(), time.perf_counter()
        out = generate(
            tmp / "synthref", seed=args.seed, train=n_train, val=n_val, test=n_test,
            workers=args.workers, progress=False,
        )  # fmt: skip
        dt, dc = time.perf_counter() - t0, cpu() - c0
        n_img = len(os.listdir(out / "images"))
        mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
        workers = args.workers or max(1, min(2, os.cpu_count() or 1))
        print(f"machine: {cpu_model()}, {os.cpu_count()} cores visible")
        print(
            f"synthref: {args.samples} samples, {n_img} scenes in {dt:.1f} s with {workers} "
            f"worker(s): {args.samples / dt:.1f} samples/s, {n_img / dt:.1f} scenes/s, "
            f"{mb:.0f} MiB on disk; 10,000 samples ≈ {10000 / (args.samples / dt):.0f} s"
        )
        # wall time depends on what else runs on the machine; CPU time does not
        print(
            f"cpu: {dc:.1f} s = {args.samples / dc:.1f} samples per CPU-second; on {workers} idle "
            f"core(s) 10,000 samples ≈ {10000 / (args.samples / dc) / workers:.0f} s"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
