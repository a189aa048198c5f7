"""Does a change to the lexicon change any reading? (issue 23, "Wording"; design.md §6)

Reads every expression of the given refer-format folders as the Predictor's lexicon does
(``model_lexicon`` of a checkpoint) and writes {folder|split|sample_id: [written, read]} to a
JSON file; with ``--diff OLD.json``, also prints each expression whose reading differs from
the snapshot taken before the change, and how many. By default it reads val and test of
``data/synthref`` and ``data/synthref-seed1`` and the val split of every paraphrase list
(``data/p-*``, research/paraphrase.py) and carrier-frame copy (``data/carriers-*``,
research/carriers.py) present: 18,000 expressions in about 15 s on a bf16 Zen 4 core pair.

    python research/reading_snapshot.py before.json            # then change the lexicon
    python research/reading_snapshot.py after.json --diff before.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def checkpoint_lexicon(checkpoint: Path):
    """The lexicon a checkpoint's Predictor reads with (``model_lexicon``); SystemExit when it
    has none. Shared by the research scripts that read expressions."""
    from tvnet.checkpoint import load_checkpoint, read_checkpoint_config
    from tvnet.data.model_words import model_lexicon
    from tvnet.weights import common_words

    model = load_checkpoint(checkpoint, device="cpu")
    lex, why = model_lexicon(
        model.vocab, read_checkpoint_config(checkpoint), common_words=common_words()
    )
    if lex is None:
        raise SystemExit(f"no lexicon for this checkpoint: {why or 'no known words'}")
    return lex


def default_sets(root: Path) -> list[tuple[Path, str]]:
    """The folders and splits read by default (those present under ``root``)."""
    copies = sorted(root.glob("p-*")) + sorted(root.glob("carriers-*"))
    sets = [(d, "val") for d in copies]
    for name in ("synthref", "synthref-seed1"):
        sets += [(root / name, s) for s in ("val", "test") if (root / name).is_dir()]
    return sets


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="the snapshot to write (JSON)")
    ap.add_argument("--diff", type=Path, help="an earlier snapshot to compare with")
    ap.add_argument("--checkpoint", type=Path, default=Path("assets/checkpoints/full-240k"))
    ap.add_argument("--data-root", type=Path, default=Path("data"))
    args = ap.parse_args(argv)

    from tvnet.data.refer import open_refer
    from tvnet.io import atomic_write_text

    lex = checkpoint_lexicon(args.checkpoint)
    sets = default_sets(args.data_root)
    if not sets:
        raise SystemExit(f"no refer-format folders under {args.data_root}")
    snap = {}
    for folder, split in sets:
        for s in open_refer(folder).samples(split):
            snap[f"{folder.name}|{split}|{s.sample_id}"] = [s.sentence, lex.rewrite(s.sentence)[0]]
    atomic_write_text(args.out, json.dumps(snap))
    print(f"{len(snap)} readings of {len(sets)} folder splits → {args.out}")
    if args.diff:
        old = json.loads(args.diff.read_text())
        changed = [k for k in snap if k in old and old[k] != snap[k]]
        for k in changed:
            print(f"  {k}: {snap[k][0]!r}: {old[k][1]!r} → {snap[k][1]!r}")
        missing = len(set(old) ^ set(snap))
        print(f"{len(changed)} readings changed; {missing} expressions in only one snapshot")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
