"""The demo's command line: ``python -m apps.demo [--help]``.

The arguments are parsed before gradio, torch or the model code is imported, so ``--help``
and a bad flag answer at once; the page is built only once they are known.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

PROG = "python -m apps.demo"


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
        help="checkpoint folder (default: assets/checkpoints/full-grown, the bundled model; "
        "assets/checkpoints/full is Table 1's)",
    )
    ap.add_argument("--pool", type=Path, help="retrieval pool folder (default: assets/pool)")
    ap.add_argument(
        "--pool-images", type=Path, help="folder of the pool's images (default: POOL/images)"
    )
    ap.add_argument(
        "--variants-dir",
        type=Path,
        help="folder holding one checkpoint folder per variant (default: the checkpoint's parent)",
    )
    ap.add_argument("--device", help="cpu, cuda … (default: cuda when present)")
    ap.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    ap.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT") or 7860),
        help="port (default: $PORT, else 7860)",
    )
    ap.add_argument(
        "--concurrency", type=int, default=1, help="model calls at once; others queue (default 1)"
    )
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    from apps.demo.layout import build_demo, launch  # gradio, torch, the model: only now

    try:
        demo = build_demo(
            args.checkpoint,
            args.pool,
            args.variants_dir,
            args.device,
            args.pool_images,
            concurrency=args.concurrency,
        )
    except (OSError, ValueError) as e:  # missing checkpoint/pool: say which and how to get it
        print(f"error: {e}", file=sys.stderr)
        return 2
    # A process manager stops the server with SIGTERM: exit through SystemExit, so that the
    # atexit clean-up (the pictures' temporary folder) runs as it does on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    launch(demo, args.host, args.port, block=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
