"""``tvnet synth``: generate the SynthRef benchmark, or print the data card of one."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tvnet.cli import non_negative_int
from tvnet.config import SYNTHREF_DEFAULTS

EPILOG = """\
examples:
  tvnet synth data/synthref --seed 0 --train 6000 --val 1000 --test 1000
  tvnet synth data/synthref --stats          # data card of an existing dataset
  tvnet synth data/synthref --stats --json   # the same numbers as JSON

Sizes count expressions (samples); each scene carries 1-3 of them. The same seed gives
byte-identical files. Output is in the refer format (refs(synth).json, instances.json,
images/*.png) and is written to a temporary folder first, then renamed, so an interrupted
run never leaves a half dataset.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "synth",
        help="generate the SynthRef benchmark (or print its data card with --stats)",
        description="Generate SynthRef, the synthetic referring-segmentation benchmark: "
        "cluttered scenes of 2-8 coloured, textured shapes with expressions that each pick "
        "out exactly one object (docs/design.md §4).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("out", type=Path, metavar="OUT", help="output folder (refer layout)")
    d = SYNTHREF_DEFAULTS
    p.add_argument(
        "--seed",
        type=non_negative_int,
        default=d["seed"],
        help=f"random seed (default: {d['seed']})",
    )
    for split, what in (("train", "training"), ("val", "validation"), ("test", "test")):
        p.add_argument(
            f"--{split}",
            type=int,
            default=d[split],
            help=f"{what} expressions (default: {d[split]})",
        )
    p.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: min(2, CPUs))"
    )
    p.add_argument("--force", action="store_true", help="replace OUT if it already exists")
    p.add_argument(
        "--stats",
        action="store_true",
        help="print the data card (size bins, objects per scene, expression types, "
        "vocabulary); on an existing OUT, without generating",
    )
    p.add_argument("--json", action="store_true", help="with --stats: print JSON, not Markdown")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tvnet.data.synthref import format_stats, generate, synth_stats

    out: Path = args.out
    existing = (out / "instances.json").is_file()
    if not (args.stats and existing and not args.force):
        if out.exists() and not args.force:
            said = (
                f"{out} holds no dataset to describe (no instances.json); pass --force to "
                "generate one there"
                if args.stats
                else f"{out} already exists; pass --force to replace it, or --stats to describe it"
            )
            print(f"tvnet synth: error: {said}", file=sys.stderr)
            return 2
        generate(
            out,
            seed=args.seed,
            train=args.train,
            val=args.val,
            test=args.test,
            workers=args.workers,
            progress=not args.quiet,
            overwrite=args.force,
        )
        if not args.stats:
            print(f"wrote SynthRef to {out} (see the data card: tvnet synth {out} --stats)")
    if args.stats:
        stats = synth_stats(out)
        print(json.dumps(stats, indent=2, sort_keys=True) if args.json else format_stats(stats))
    return 0
