"""The demo's model worker (docs/design.md §7, "The demo"): loads the models and runs the page's
handlers, called by ``python -m apps.demo`` through :mod:`apps.demo.remote`; not for starting
by hand.

    python -m apps.demo.worker --address SOCKET --pictures DIR [model arguments]

It starts loading the main model first (torch and the model code, in a thread), then listens:
calls that need the model wait for it. It exits when its standard input ends (the page's
process is gone), and with status 2, the reason on stderr, when the model cannot be loaded.

Its start is mostly importing (torch, timm, transformers), so two things keep it short:
Python's cyclic garbage collector is off until the main model is in (the ≈ 0.8 million new
objects of the imports made it walk an ever larger heap again and again: ≈ 0.6–0.9 s of a
≈ 4.5 s load on 2 cores, bundled model); then the objects alive are frozen (:func:`gc.freeze`:
later collections skip them) and it runs again, the little cyclic garbage of the imports
(≈ 11,000 objects, ≈ 2 MB) staying with them. And ``torch._dynamo``, which this process never
uses, is imported only on first real use (:mod:`apps.demo.lazy_dynamo`).
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import shutil
import signal
import sys
import threading
from pathlib import Path

PAGE_FOLDERS = ("tvnet-worker-", "tvnet-demo-")  # tempfile prefixes of the page's folders


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m apps.demo.worker", description=__doc__)
    ap.add_argument("--address", required=True, help="Unix socket to listen on")
    ap.add_argument("--pictures", type=Path, required=True, help="folder to draw pictures into")
    ap.add_argument("--checkpoint", type=Path)
    ap.add_argument("--pool", type=Path)
    ap.add_argument("--pool-images", type=Path)
    ap.add_argument("--variants-dir", type=Path)
    ap.add_argument("--device")
    return ap


def main(argv: list[str] | None = None) -> int:
    gc.disable()  # until the main model is in (see the module's docstring)
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    from apps.demo.remote import AUTHKEY_ENV

    authkey = bytes.fromhex(os.environ.pop(AUTHKEY_ENV, ""))
    if not authkey:
        print(
            f"error: no key in ${AUTHKEY_ENV}; this worker is started by apps.demo", file=sys.stderr
        )
        return 2
    from apps.demo.lazy_dynamo import defer_dynamo
    from apps.demo.models import Models  # torch and the weights load in its thread

    models = Models(
        args.checkpoint,
        args.pool,
        args.variants_dir,
        args.device,
        args.pool_images,
        background=True,
        warmup=True,
        prepare=defer_dynamo,  # this process compiles nothing: torch._dynamo on first real use
    )
    folders = (os.path.dirname(args.address), args.pictures)
    threading.Thread(target=exit_at_end_of_input, args=folders, daemon=True).start()
    threading.Thread(target=exit_if_not_loaded, args=(models,), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    from apps.demo.handlers import Handlers
    from apps.demo.remote import serve

    serve(Handlers(models, pictures=args.pictures), args.address, authkey)
    return 0


def exit_at_end_of_input(*folders: str) -> None:
    """The page's process holds our standard input open: its end means that process ended,
    or is stopping us. Its temporary ``folders`` (the socket's, the pictures') go with us, so
    that a page killed outright (SIGKILL, no clean-up of its own) leaves nothing in $TMPDIR;
    only folders that the page made (apps.demo.remote.Worker, apps.demo.__main__) are
    removed, whatever the command line says."""
    try:
        while sys.stdin.buffer.read(1 << 16):
            pass
    except (OSError, ValueError):
        pass
    for folder in folders:
        if folder and os.path.basename(folder).startswith(PAGE_FOLDERS):
            shutil.rmtree(folder, ignore_errors=True)
    os._exit(0)


def exit_if_not_loaded(models) -> None:
    from tvnet import InputError

    try:
        models.wait(caller=False)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        os._exit(2)
    collect_garbage_again()


def collect_garbage_again() -> None:
    """The start's objects frozen out of the collector's way, and the collector back on."""
    gc.freeze()
    gc.enable()


if __name__ == "__main__":
    sys.exit(main())
