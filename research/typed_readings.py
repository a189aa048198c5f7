"""How does the lexicon read what people type? (issue 23, "Wording"; design.md §6)

Reads each line of a file of expressions (``research/typed600.txt``: 600 expressions a helper
wrote on 2026-12-05, tenth session, as people might type them to the demo, without reading
the code or the word lists) as the Predictor does, with the senses the checkpoint's training
data uses its words in and, for comparison, through any WordNet sense. Prints how many lines
have a rewrite, the distinct (word → reading) pairs with counts, and the lines the two
readings differ on. Whether a reading changes what the expression refers to is judged by a
person from the pairs (docs/experiments.md, 2026-12-05, tenth session). Seconds on a CPU.

    python research/typed_readings.py [--file research/typed600.txt] [--checkpoint DIR]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--file", type=Path, default=Path(__file__).with_name("typed600.txt"))
    ap.add_argument("--checkpoint", type=Path, default=Path("assets/checkpoints/full-240k"))
    args = ap.parse_args(argv)

    from reading_snapshot import checkpoint_lexicon  # research/ is sys.path[0] as a script

    lex = checkpoint_lexicon(args.checkpoint)
    lines = [line.strip() for line in args.file.read_text().splitlines() if line.strip()]
    readings = {}
    for mode, reader in (("senses", lex), ("any sense", lex.with_senses(None))):
        pairs: Counter[str] = Counter()
        read = []
        for line in lines:
            text, rewrites = reader.rewrite(line)
            read.append(text)
            pairs.update(f"{w.lower()} → {r or '(left out)'}" for w, r in rewrites)
        readings[mode] = read
        with_rewrite = sum(r != line for r, line in zip(read, lines))
        print(f"{mode}: {len(lines)} lines, {with_rewrite} read otherwise than written")
        print("  " + "; ".join(f"{p} ({n})" for p, n in pairs.most_common()))
    for line, a, b in zip(lines, readings["senses"], readings["any sense"]):
        if a != b:
            print(f"  {line!r}: {b!r} through any sense, {a!r} through SynthRef's")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
