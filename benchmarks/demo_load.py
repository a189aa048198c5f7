"""Start-up and load test of the demo (issues 7 and 24).

    python benchmarks/demo_load.py [--starts 3] [--clients 20] [--requests 5]
                                   [--checkpoint DIR --pool DIR]

First answer after start (issue 24): starts ``python -m apps.demo`` on 127.0.0.1 (a free
port, its own process, as the Procfile does) ``--starts`` times; each time, as soon as the
page answers, one gradio_client user sends the first bundled example to /segment; prints
when the page answered and when that first answer (with a mask) arrived, counted from the
moment the process was started, and their median. Nothing else runs in this process
meanwhile (gradio_client is imported before the start; torch only after the measurements).

Load (issue 7): on the last start, ``--clients`` threads, each with its own
gradio_client.Client (its own session), each send ``--requests`` /segment calls with the
bundled examples in turn. Prints how many were answered with a mask, the client-side latency
p50/p95/max (queue wait included) next to the server's own time per request, and the
throughput. ``--clients 0`` skips it.

``--floor`` times Gradio's own floor the same way: a page with one image, one textbox and one
button whose /segment answer echoes the image (no model, no torch), launched with the demo's
queue and upload settings (not its theme and CSS; the model flags are ignored). It is the
least a first answer can cost on this machine with Gradio.

Prints the CPU and the precision the model ran at (bf16 autocast or fp32). Exits 1 unless
every request is answered.
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

from machine import cpu_model  # benchmarks/machine.py: scripts run from this folder

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "assets" / "examples"


# --floor: the least a Gradio page with one /segment endpoint costs here, timed the same way
FLOOR_APP = """
import sys
import gradio as gr

with gr.Blocks() as demo:
    image = gr.Image(type="filepath")
    text = gr.Textbox()
    out = gr.Image()
    note = gr.Markdown()
    gr.Button("Segment").click(
        lambda i, t: (i, f"Mask: floor ({t})"), [image, text], [out, note], api_name="segment"
    )
demo.queue(default_concurrency_limit=1, max_size=256)
demo.launch(server_name="127.0.0.1", server_port=int(sys.argv[1]), max_file_size="30mb",
            footer_links=["api"], quiet=True)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(
    url: str, proc: subprocess.Popen, timeout_s: float = 180, poll_s: float = 0.5
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the demo exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(poll_s)
    proc.terminate()
    raise RuntimeError(f"the demo did not answer at {url} within {timeout_s:.0f} s")


def precision(device: str | None) -> str:
    """What the Predictor's autocast runs at here (imports torch: call after measuring)."""
    import torch

    from tvnet.amp import precision as autocast_precision

    return autocast_precision(device or ("cuda" if torch.cuda.is_available() else "cpu"))


def start_and_first_answer(cmd, env, url, job, log):
    """Start the demo; return (process, seconds to the page, seconds to the first answer)."""
    from gradio_client import Client, handle_file

    t = time.perf_counter()
    server = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(url, server, poll_s=0.05)
        up = time.perf_counter() - t
        out = Client(url, verbose=False).predict(
            handle_file(str(job[0])), job[1], api_name="/segment"
        )
        first = time.perf_counter() - t
    except BaseException:
        server.terminate()
        raise
    if out[0] is None or "Mask:" not in str(out[1]):
        server.terminate()
        raise RuntimeError(f"the first request was not answered with a mask: {out[1]}")
    return server, up, first


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--starts", type=int, default=3, help="cold starts timed to the first answer (default 3)"
    )
    ap.add_argument(
        "--clients", type=int, default=20, help="concurrent users (default 20; 0: no load test)"
    )
    ap.add_argument("--requests", type=int, default=5, help="requests per user (default 5)")
    ap.add_argument(
        "--checkpoint", type=Path, help="default: the bundled model (tvnet.default_checkpoint())"
    )
    ap.add_argument("--pool", type=Path, help="default: assets/pool")
    ap.add_argument("--pool-images", type=Path, help="default: POOL/images")
    ap.add_argument("--device", help="cpu, cuda … (default: cuda when present)")
    ap.add_argument("--concurrency", type=int, default=1, help="model calls at once (default 1)")
    ap.add_argument(
        "--floor",
        action="store_true",
        help="time a minimal Gradio page instead (no model; the model flags are ignored)",
    )
    args = ap.parse_args()
    if args.floor:
        args.clients = 0
    from gradio_client import Client, handle_file  # before any start: not timed

    examples = json.loads((EXAMPLES / "examples.json").read_text())
    jobs = [(EXAMPLES / e["image"], e["expression"]) for e in examples]
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    log = tempfile.NamedTemporaryFile("w+", prefix="demo-load-", suffix=".log", delete=False)
    ups, firsts, server = [], [], None
    for i in range(max(1, args.starts)):
        port = free_port()
        cmd = [sys.executable, "-m", "apps.demo", "--port", str(port)]
        for flag in ("checkpoint", "pool", "pool_images", "device", "concurrency"):
            value = getattr(args, flag)
            if value is not None:
                cmd += [f"--{flag.replace('_', '-')}", str(value)]
        if args.floor:
            cmd = [sys.executable, "-c", FLOOR_APP, str(port)]
        url = f"http://127.0.0.1:{port}/"
        try:
            server, up, first = start_and_first_answer(cmd, env, url, jobs[0], log)
        except RuntimeError as e:
            print(f"error: {e}\n{Path(log.name).read_text()[-3000:]}", file=sys.stderr)
            return 1
        ups.append(up)
        firsts.append(first)
        print(f"start {i + 1}: page up after {up:.2f} s, first answer after {first:.2f} s")
        if i + 1 < max(1, args.starts):
            server.terminate()
            server.wait(timeout=30)
    print(
        f"first answer after start: median {statistics.median(firsts):.2f} s "
        f"(min {min(firsts):.2f}, max {max(firsts):.2f}) over {len(firsts)} starts; page up "
        f"after {statistics.median(ups):.2f} s"
    )
    if args.clients <= 0:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        os.unlink(log.name)
        what = "no model (Gradio's floor)" if args.floor else precision(args.device)
        print(f"CPU: {cpu_model()} ({os.cpu_count()} cores); precision: {what}")
        return 0

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

    print(f"CPU: {cpu_model()} ({os.cpu_count()} cores); precision: {precision(args.device)}")
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
