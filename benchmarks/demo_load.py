"""Load test of the demo: N concurrent gradio_client users × M segmentations each (issue 7).

    python benchmarks/demo_load.py [--clients 20] [--requests 5] [--checkpoint DIR --pool DIR]

Starts ``python -m apps.demo`` on 127.0.0.1 (a free port, its own process, as the Procfile
does), then ``--clients`` threads, each with its own gradio_client.Client (its own session),
each sending
``--requests`` /segment calls with the bundled examples in turn. Prints how many were
answered with a mask, the client-side latency p50/p95/max (queue wait included) next to the
server's own time per request, and the throughput. Exits 1 unless every request is answered.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "assets" / "examples"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the demo exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"the demo did not answer at {url} within {timeout_s:.0f} s")


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--clients", type=int, default=20, help="concurrent users (default 20)")
    ap.add_argument("--requests", type=int, default=5, help="requests per user (default 5)")
    ap.add_argument(
        "--checkpoint", type=Path, help="default: the bundled model (tvnet.default_checkpoint())"
    )
    ap.add_argument("--pool", type=Path, help="default: assets/pool")
    ap.add_argument("--pool-images", type=Path, help="default: POOL/images")
    ap.add_argument("--device", help="cpu, cuda … (default: cuda when present)")
    ap.add_argument("--concurrency", type=int, default=1, help="model calls at once (default 1)")
    args = ap.parse_args()
    from gradio_client import Client, handle_file

    port = free_port()
    cmd = [sys.executable, "-m", "apps.demo", "--port", str(port)]
    for flag in ("checkpoint", "pool", "pool_images", "device", "concurrency"):
        value = getattr(args, flag)
        if value is not None:
            cmd += [f"--{flag.replace('_', '-')}", str(value)]
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    url = f"http://127.0.0.1:{port}/"
    t = time.perf_counter()
    log = tempfile.NamedTemporaryFile("w+", prefix="demo-load-", suffix=".log", delete=False)
    server = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(url, server)
    except RuntimeError as e:
        print(f"error: {e}\n{Path(log.name).read_text()[-3000:]}", file=sys.stderr)
        return 1
    print(f"demo up at {url} in {time.perf_counter() - t:.1f} s")
    examples = json.loads((EXAMPLES / "examples.json").read_text())
    jobs = [(EXAMPLES / e["image"], e["expression"]) for e in examples]

    latencies: list[float] = []
    server_ms: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def user(u: int) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as e:
            with lock:
                failures.extend([f"user {u}: no connection ({e})"] * args.requests)
            return
        for r in range(args.requests):
            image, expression = jobs[(u + r) % len(jobs)]
            t0 = time.perf_counter()
            try:
                out = client.predict(handle_file(str(image)), expression, api_name="/segment")
            except Exception as e:  # a refused or dropped request counts as unanswered
                with lock:
                    failures.append(f"user {u} request {r}: {type(e).__name__}: {e}")
                continue
            dt = time.perf_counter() - t0
            ok = out[0] is not None and "Mask:" in str(out[1])
            with lock:
                if ok:
                    latencies.append(dt)
                    tm = out[13]["timings_ms"]  # the predictor's total + reading + drawing
                    server_ms.append(tm["total"] + tm.get("read", 0) + tm.get("render", 0))
                else:
                    failures.append(f"user {u} request {r}: {out[1]}")

    total = args.clients * args.requests
    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.clients) as pool:
        list(pool.map(user, range(args.clients)))
    wall = time.perf_counter() - t0
    server.terminate()
    server.wait(timeout=30)
    log.close()
    os.unlink(log.name)

    print(f"{args.clients} clients × {args.requests} requests: {len(latencies)}/{total} answered")
    if latencies:
        print(
            f"client latency (queue wait included): p50 {percentile(latencies, 0.5):.2f} s, "
            f"p95 {percentile(latencies, 0.95):.2f} s, max {max(latencies):.2f} s"
        )
        print(
            f"server time per request: median {statistics.median(server_ms):.0f} ms; "
            f"throughput {len(latencies) / wall:.2f} requests/s over {wall:.1f} s"
        )
    for f in failures[:10]:
        print("failed:", f)
    return 0 if len(latencies) == total else 1


if __name__ == "__main__":
    sys.exit(main())
