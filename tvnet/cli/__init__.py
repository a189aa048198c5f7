"""The ``tvnet`` command line: one subcommand module each, registered here.

Each module in ``SUBCOMMANDS`` defines ``register(subparsers)`` which adds its parser and sets
``func`` (called with the parsed args). Heavy imports happen inside ``func`` so ``--help`` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = [
    "tvnet.cli.synth",  # tvnet synth      — generate the SynthRef benchmark
    "tvnet.cli.pool",  # tvnet pool ...   — build retrieval pools and neighbour tables
    "tvnet.cli.train",  # tvnet train      — train a variant
    "tvnet.cli.evaluate",  # tvnet eval    — evaluate a checkpoint and write a dump
    "tvnet.cli.calibrate",  # tvnet calibrate — fit a checkpoint's confidence on its val dump
    "tvnet.cli.predict",  # tvnet predict  — segment one image
    "tvnet.cli.info",  # tvnet info       — presets, variants, bundled assets
]


def _whole_number(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be ≥ {low}, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: a whole number ≥ 0 (a seed: numpy's generators take no negative one)."""
    return _whole_number(text, 0)


def positive_int(text: str) -> int:
    """argparse type: a whole number ≥ 1 (a count of steps, samples or a batch size)."""
    return _whole_number(text, 1)


def probability(text: str) -> float:
    """argparse type: a number strictly between 0 and 1 (a threshold on a probability)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1, got {value:g}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from tvnet import __version__

    parser = argparse.ArgumentParser(
        prog="tvnet",
        description="TV-Net: two-stage visual cues enhancement for referring image segmentation.",
    )
    parser.add_argument("--version", action="version", version=f"tvnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:  # not written yet
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from tvnet.io import sigterm_as_interrupt

    with sigterm_as_interrupt():  # writers remove their temporary folders on SIGTERM too
        try:
            if getattr(args, "device", None):
                from tvnet.io import check_device

                check_device(args.device)
            rc = args.func(args)
        except (OSError, ValueError) as e:  # bad input (missing, unreadable or unwritable paths)
            print(f"tvnet {args.command}: error: {e}", file=sys.stderr)
            return 2
        except FloatingPointError as e:  # training diverged: its message says what to do
            print(f"tvnet {args.command}: error: {e}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
