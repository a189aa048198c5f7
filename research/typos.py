"""How does the lexicon read one-keystroke typos of a model's own words? (issue 23,
"Wording"; design.md §6, "Wording: misspelt words")

Generates every single-keystroke typo of each known word of 4 letters or more: a letter
left out, two neighbours swapped, a letter doubled, a letter replaced by or joined with a
neighbouring key on a QWERTY keyboard. Typos that are English words are set aside (no rule
can tell them from what was meant). Of the rest, counts how many the lexicon reads as the
word meant, reads as another known word, or leaves; prints the wrong readings. Text only.

    python research/typos.py [--checkpoint assets/checkpoints/full-160k]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def neighbours() -> dict[str, str]:
    """The keys beside each key on a QWERTY keyboard (same row, and the rows above/below)."""
    pos = {c: (r, i) for r, row in enumerate(ROWS) for i, c in enumerate(row)}
    out = {}
    for c, (r, i) in pos.items():
        out[c] = "".join(
            d for d, (r2, i2) in pos.items() if d != c and abs(r2 - r) <= 1 and abs(i2 - i) <= 1
        )
    return out


def typos(word: str, near: dict[str, str]) -> set[str]:
    out = set()
    for i in range(len(word)):
        out.add(word[:i] + word[i + 1 :])  # left out
        out.add(word[:i] + word[i] + word[i:])  # doubled
        for c in near.get(word[i], ""):
            out.add(word[:i] + c + word[i + 1 :])  # a neighbouring key
            out.add(word[:i] + c + word[i:])  # a neighbouring key as well
        if i + 1 < len(word):
            out.add(word[:i] + word[i + 1] + word[i] + word[i + 2 :])  # swapped
    return out - {word}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", type=Path, default=Path("assets/checkpoints/full-160k"))
    args = ap.parse_args(argv)

    from tvnet.checkpoint import load_checkpoint, read_checkpoint_config
    from tvnet.data.model_words import model_lexicon
    from tvnet.weights import common_words

    model = load_checkpoint(args.checkpoint, device="cpu")
    lex, _ = model_lexicon(
        model.vocab, read_checkpoint_config(args.checkpoint), common_words=common_words()
    )
    near = neighbours()
    tally: Counter[str] = Counter()
    wrong = []
    for word in sorted(w for w in lex.known if len(w) >= 4):
        for t in sorted(typos(word, near)):
            if t in lex.known or lex._english(t):
                tally["English"] += 1
                continue
            read = lex.nearest(t)
            if read is None:
                tally["left"] += 1
            elif read == word or lex.by_base.get(lex.nearest(word) or "") == read:
                tally["right"] += 1
            else:
                tally["wrong"] += 1
                wrong.append(f"{t}→{read} (meant {word})")
    typed = tally["right"] + tally["left"] + tally["wrong"]
    print(f"{sum(tally.values())} typos; {tally['English']} are English words, set aside")
    for k in ("right", "left", "wrong"):
        print(f"{k:6} {tally[k]:5}  {100 * tally[k] / max(typed, 1):5.1f} %")
    print("wrong:", ", ".join(wrong))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
