"""Word-level check of the WordNet lexicon on the paraphrase lists, without a model.

For every (generator word → replacement) pair of a list in research/paraphrase.py, asks the
lexicon (with a checkpoint's known words) what the replacement stands for, and counts whether
the words the model then reads include one of the same SynthRef concept (same shape, colour,
texture, size, or a generic noun: "right"), or the lexicon rewrote the word into another
("wrong"), or neither (the word reaches the model as written, unknown to it).
Seconds on a CPU; it tells rewrite changes apart before an evaluation run confirms them.

    python research/lexicon_words.py --checkpoint assets/checkpoints/full-grown --words heldout4

``--glove``: also try a fallback for the words the lexicon leaves as written, the known word
nearest in GloVe 6B 50d (cosine, the vectors the `paper` preset starts from), and count it the
same way (right / wrong; words GloVe lacks, hyphenated ones included, stay as written).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path


def concepts() -> dict[str, str]:
    """Each generator word → its SynthRef concept ("shape:circle", "colour:red", …)."""
    from tvnet.data.synthref import vocabulary as v

    out: dict[str, str] = {}
    for kind, table in (
        ("shape", v.SHAPE_WORDS),
        ("colour", v.COLOUR_WORDS),
        ("texture", v.TEXTURE_ADJ),
        ("size", v.SIZE_ADJ),
    ):
        for concept, phrases in table.items():
            for p in phrases:
                out.setdefault(p.split()[-1], f"{kind}:{concept}")
    for w in v.GENERIC_NOUNS:
        out[w] = "generic"
    for concept, phrases in v.TEXTURE_PP.items():  # "with stripes" → stripes
        for p in phrases:
            out.setdefault(p.split()[-1], f"texture:{concept}")
    return out


def glove_nearest(known: list[str], words: list[str]) -> dict[str, str]:
    """Each of ``words`` that GloVe 6B 50d has → the known word nearest to it by cosine."""
    import numpy as np

    from tvnet.weights import PACKAGE_GLOVE, load_glove

    vecs, found = load_glove(PACKAGE_GLOVE, known + [w.lower() for w in words])
    keys, has_key = vecs[: len(known)], found[: len(known)]
    names = [w for w, f in zip(known, has_key) if f]
    keys = keys[has_key] / np.linalg.norm(keys[has_key], axis=1, keepdims=True)
    return {
        w: names[int(np.argmax(keys @ v))]
        for w, v, f in zip(words, vecs[len(known) :], found[len(known) :])
        if f
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", type=Path, default=Path("assets/checkpoints/full-grown"))
    ap.add_argument("--words", default="all", help="a list of paraphrase.py, or all")
    ap.add_argument("--show", action="store_true", help="print every pair")
    ap.add_argument("--glove", action="store_true", help="score a GloVe nearest-word fallback")
    ap.add_argument(
        "--any-sense",
        action="store_true",
        help="read through any WordNet sense of a known word, as before 2026-12-05 (tenth "
        "session; default: the senses its training data uses it in, as the Predictor does)",
    )
    args = ap.parse_args(argv)

    from paraphrase import TABLES  # research/ is sys.path[0] as a script

    from tvnet.data.lexicon import Lexicon
    from tvnet.data.model_words import data_senses, known_words
    from tvnet.data.tokenize import tokenize

    cfg = json.loads((args.checkpoint / "config.json").read_text())
    known = known_words(None, cfg)
    lex = Lexicon.of(known, senses=None if args.any_sense else data_senses(cfg))
    concept = concepts()
    names = list(TABLES) if args.words == "all" else [args.words]
    options = [o for name in names for opts in TABLES[name].values() for o in opts]
    nearest = glove_nearest(known, options) if args.glove else None
    for name in names:
        tally: Counter = Counter()
        for orig, options in TABLES[name].items():
            want = concept.get(orig)
            for opt in options:
                text, rewrites = lex.rewrite(opt, False, False)  # word for word, no head rule
                # the words the model reads (tvnet.data.tokenize splits "polka-dotted" too)
                got = {concept.get(w) for w in tokenize(text)} - {None}
                if want in got:
                    kind = "right"  # rewritten, or a part already known ("polka-dotted")
                elif rewrites:
                    kind = "wrong"
                else:
                    kind = "as written"
                    if nearest is not None and (w := nearest.get(opt)) is not None:
                        kind = "glove right" if concept.get(w) == want else "glove wrong"
                        text = w
                tally[kind] += 1
                if args.show:
                    print(f"  {name:9s} {orig:10s} {opt:14s} → {text:14s} {kind}")
        n = sum(tally.values())
        print(
            f"{name:9s} pairs {n:3d}: right {tally['right']:3d} ({100 * tally['right'] / n:4.1f} %)"
            f"  wrong {tally['wrong']:3d}  as written {tally['as written']:3d}"
            + (
                f"  (GloVe fallback: right {tally['glove right']}, wrong {tally['glove wrong']})"
                if nearest is not None
                else ""
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
