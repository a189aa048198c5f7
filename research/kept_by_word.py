"""Where a reworded copy loses its oIoU, word class by word class (issue 23, "Wording").

    python research/kept_by_word.py ORIGINAL_DUMP REWRITTEN_DUMP --words heldout14 [--top 15]

Reads two evaluation dumps of the same split (the original wording, and a copy written by
research/paraphrase.py with ``--words LIST``, evaluated as the Predictor reads it) and, for
every replacement of the list, the samples whose rewritten sentence holds it: their oIoU in
both dumps and the share kept. Samples with several replacements count for each, so the classes
overlap; the "all" row counts each sample once. Classes follow the list's own comments
(colours, sizes, textures, shapes, generic nouns).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the lists beside this file


def word_classes(name: str) -> dict[str, str]:
    """replacement → the class of the generator word it stands for, by the comments that
    group each list's keys (every list here groups them alike)."""
    import importlib
    import inspect

    import paraphrase

    table = paraphrase.TABLES[name]
    try:
        text = inspect.getsource(importlib.import_module(name))  # heldout8 … in their files
    except ImportError:
        text = inspect.getsource(paraphrase)  # the first lists live there
    key_class: dict[str, str] = {}
    current = "other"
    for line in text.splitlines():
        m = re.match(r"\s*#\s*(colours|sizes|textures|shapes|generic nouns)", line)
        if m:
            current = m.group(1)
        elif k := re.match(r'\s*"([^"]+)":\s*\(', line):
            key_class.setdefault(k.group(1), current)
    return {rep: key_class.get(w, "other") for w, reps in table.items() for rep in reps}


def replacements_in(sentence: str, replacements) -> list[str]:
    """The replacements ``sentence`` holds as whole words, longest first and never one inside
    another's place: "six-sided figure" holds "six-sided figure", not also "figure"."""
    low, taken, found = sentence.lower(), [], []
    for rep in sorted(replacements, key=len, reverse=True):
        for m in re.finditer(rf"(?<![\w-]){re.escape(rep.lower())}(?![\w-])", low):
            if all(m.end() <= a or m.start() >= b for a, b in taken):
                taken.append(m.span())
                if rep not in found:
                    found.append(rep)
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("original", type=Path)
    ap.add_argument("rewritten", type=Path)
    ap.add_argument("--words", required=True, help="the list the copy was written with")
    ap.add_argument("--top", type=int, default=15, help="replacements listed, worst first")
    args = ap.parse_args(argv)
    import pandas as pd

    base = pd.read_parquet(args.original / "samples.parquet").set_index("sample_id")
    new = pd.read_parquet(args.rewritten / "samples.parquet").set_index("sample_id")
    new = new.loc[new.index.intersection(base.index)]
    classes = word_classes(args.words)
    by_word: dict[str, list[int]] = defaultdict(list)
    changed = []
    for sid, sentence in new["sentence"].items():
        if sentence == base.at[sid, "sentence"]:
            continue
        changed.append(sid)
        for rep in replacements_in(sentence, classes):
            by_word[rep].append(sid)

    def kept(ids) -> tuple[int, float, float, float]:
        o = 100 * base.loc[ids, "inter"].sum() / base.loc[ids, "union"].sum()
        r = 100 * new.loc[ids, "inter"].sum() / new.loc[ids, "union"].sum()
        return len(ids), o, r, 100 * r / o

    rows = [("all", *kept(changed))]
    by_class: dict[str, set] = defaultdict(set)
    for rep, ids in by_word.items():
        by_class[classes[rep]].update(ids)
    rows += [(c, *kept(sorted(ids))) for c, ids in sorted(by_class.items())]
    print("| class | samples | original oIoU | reworded oIoU | kept |\n|---|---:|---:|---:|---:|")
    for c, n, o, r, k in rows:
        print(f"| {c} | {n} | {o:.2f} | {r:.2f} | {k:.1f} % |")
    words = sorted(((kept(ids), rep) for rep, ids in by_word.items() if len(ids) >= 5),
                   key=lambda t: t[0][3])  # fmt: skip
    print(f"\nreplacements on ≥ 5 samples, least kept first (of {len(words)}):")
    for (n, _o, _r, k), rep in words[: args.top]:
        print(f"  {rep!r} ({classes[rep]}): {k:.1f} % kept on {n} samples")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
