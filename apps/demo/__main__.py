"""The demo's command line: ``python -m apps.demo [--help]``.

The arguments are parsed before gradio, torch or the model code is imported, so ``--help``
and a bad flag answer at once; the page is built only once they are known. The model loads
in a worker process (:mod:`apps.demo.worker`), started before gradio is imported, so that the
two imports run on two cores while the page is built and served; a first request waits for
the model rather than for the whole start (docs/design.md §7, "The demo").
"""

from __future__ import annotations

import argparse
import atexit
import gc
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from apps.demo.remote import CALL_TIMEOUT  # the standard library only
from tvnet import positive_int  # argparse only: the tvnet CLI's one check of a count ≥ 1

PROG = "python -m apps.demo"
# a worker that dies is started again, unless it died more than REVIVALS times within
# REVIVE_WINDOW seconds (it cannot stay up: the page says why and exits)
REVIVALS, REVIVE_WINDOW = 3, 300.0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog=PROG,
        description="TV-Net demo: segment what an expression refers to in an image and see "
        "why (retrieved neighbour, cross-image attention, AMF gate, variants side by side).",
        epilog=f"example:\n  {PROG} --host 0.0.0.0 --port 8080",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--checkpoint",
        type=Path,
        help="checkpoint folder (default: the bundled model, tvnet.default_checkpoint(); "
        "assets/checkpoints/full is Table 1's row at 72k samples)",
    )
    ap.add_argument("--pool", type=Path, help="retrieval pool folder (default: assets/pool)")
    ap.add_argument(
        "--pool-images",
        type=Path,
        help="folder of the pool's images (default: POOL/images, else the "
        "training data's images folder, else regenerated from the SynthRef seed)",
    )
    ap.add_argument(
        "--variants-dir",
        type=Path,
        help="folder holding one checkpoint folder per variant, named after it; beside a "
        "checkpoint folder such as full-240k, each other variant is taken at the same budget "
        "(res-240k), else at the largest smaller one (res-160k), else Table 1's folder (res) "
        "(default: the "
        "checkpoint's parent)",
    )
    ap.add_argument("--device", help="cpu, cuda … (default: cuda when present)")
    ap.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    ap.add_argument(
        "--port",
        type=_port,
        default=os.environ.get("PORT") or "7860",  # parsed (and checked) by _port, --help aside
        help="port (default: $PORT, else 7860)",
    )
    ap.add_argument(
        "--concurrency",
        type=positive_int,
        default=1,
        help="model calls at once; others queue (default 1)",
    )
    ap.add_argument(
        "--call-timeout",
        type=_seconds,
        default=CALL_TIMEOUT,
        help="seconds a model call may take before the model worker counts as hung and is "
        "started again, so that one stuck call does not hold the queue (default %(default)g)",
    )
    return ap


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):  # nan fails this too
        raise argparse.ArgumentTypeError(f"a number of seconds above 0, not {text!r}")
    return value


def _port(text: str) -> int:
    """A TCP port, from --port or $PORT (argparse runs a string default through ``type``)."""
    try:
        n = int(text)
    except ValueError:
        n = -1
    if not 1 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"a port from 1 to 65535, not {text!r} (--port or $PORT)")
    return n


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    from apps.demo.models import Models  # tvnet's configs only: no numpy, no torch here

    try:  # what the page needs to know before the weights are in: the variants
        models = Models(args.checkpoint, args.pool, args.variants_dir, load=False)
    except (OSError, ValueError) as e:  # missing checkpoint/pool: say which and how to get it
        print(f"error: {e}", file=sys.stderr)
        return 2
    pictures = tempfile.mkdtemp(prefix="tvnet-demo-")
    atexit.register(shutil.rmtree, pictures, True)
    from apps.demo.remote import Worker

    # the worker loads the model on the other core while this process imports gradio
    worker = Worker(worker_args(args), pictures, call_timeout=args.call_timeout)
    # A process manager stops the server with SIGTERM: exit through SystemExit, so that the
    # clean-up (the worker, the pictures' temporary folder) runs as it does on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    demo = None
    gc.disable()  # importing gradio: no collections over a growing heap (as in the worker)
    try:
        from apps.demo.layout import build_demo, launch

        demo = build_demo(concurrency=args.concurrency, models=models, core=worker)
        try:
            launch(demo, args.host, args.port, block=False, quiet=False)
        except OSError as e:  # Gradio's "Cannot find empty port …": in words of this command
            print(
                f"error: cannot serve on {args.host}:{args.port}: the port is taken or the "
                f"address not this machine's; pick another with --port or $PORT ({e})",
                file=sys.stderr,
            )
            return 2
        gc.freeze()  # the start's objects, out of later collections' way
        gc.enable()
        # serve until Ctrl-C or SIGTERM; a hung worker is replaced by the call that waited on
        # it, a dead one here (killed for memory, say), unless it could not load the model
        # (it said why on stderr) or keeps dying
        deaths: list[float] = []
        while True:
            if worker.alive():
                time.sleep(0.5)
                continue
            deaths = [t for t in deaths if time.monotonic() - t < REVIVE_WINDOW] + [
                time.monotonic()
            ]
            if worker.proc.returncode == 2 or len(deaths) > REVIVALS:
                print(f"error: the model worker {worker.status()}", file=sys.stderr)
                return 2
            print(f"warning: the model worker {worker.status()}; starting another", file=sys.stderr)
            worker.revive()
    except KeyboardInterrupt:
        return 0
    finally:
        gc.enable()
        if demo is not None:
            demo.close()
        worker.stop()


def worker_args(args: argparse.Namespace) -> list[str]:
    """The model arguments, for the worker's command line. Paths are made absolute: the worker
    runs in the repository, not in the folder the user typed them in."""
    out = []
    for flag in ("checkpoint", "pool", "pool_images", "variants_dir", "device"):
        value = getattr(args, flag)
        if value is not None:
            if flag != "device":
                value = Path(value).expanduser().resolve()
            out += [f"--{flag.replace('_', '-')}", str(value)]
    return out


if __name__ == "__main__":
    sys.exit(main())
