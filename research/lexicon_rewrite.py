"""What the WordNet lexicon makes of rewritten wording (issue 23, "Wording").

Writes a copy of one split of a refer-format folder whose expressions are passed through
:class:`tvnet.data.lexicon.Lexicon` with a model's known words, as ``tvnet.Predictor`` does
before it reads an expression; prints each distinct rewrite and how often it happened. Evaluate
the checkpoint on both folders and compare on the samples changed (research/wording_kept.py).

    python research/paraphrase.py --data data/synthref --split val --out data/synthref-para
    python research/lexicon_rewrite.py --checkpoint assets/checkpoints/full-grown \\
        --data data/synthref-para --split val --out data/synthref-para-lex
    tvnet eval --checkpoint CKPT --data data/synthref-para-lex --split val --pool P --out D

Known words: those the Predictor uses (the checkpoint's word vocabulary, or the training words
a word-piece checkpoint records); ``--known-from DATA`` computes them from DATA's training
split for a word-piece checkpoint that predates the record.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--data", type=Path, required=True, help="a refer-format folder")
    ap.add_argument("--split", default="val")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--known-from", type=Path, help="training data, for word-piece models")
    ap.add_argument("--no-glosses", action="store_true", help="relations only, no definitions")
    ap.add_argument("--no-colours", action="store_true", help="no colour-survey fallback")
    args = ap.parse_args(argv)

    from paraphrase import set_sentence, write_copy  # research/ is sys.path[0] as a script

    from tvnet.data.lexicon import Lexicon
    from tvnet.data.model_words import known_words, training_words

    cfg = json.loads((args.checkpoint / "config.json").read_text())
    # what the Predictor reads: a word vocabulary, or the training words a checkpoint records
    vocab = known_words(None, cfg)  # the config's word vocabulary, or known_words
    if args.known_from:  # a word-piece checkpoint from before the record
        refs = json.loads(next(args.known_from.glob("refs(*).json")).read_text())
        sents = [s["sent"] for r in refs if r["split"] == "train" for s in r["sentences"]]
        vocab = training_words(sents)
    if len(vocab) < 10:
        raise SystemExit("the checkpoint records no known words: pass --known-from DATA")
    whole = None  # a word-piece model's whole words, as the Predictor's lexicon has them
    if cfg.get("model", {}).get("text_encoder") == "hf_tokens":
        from tvnet.data.model_words import whole_words
        from tvnet.model.hf_text import SubwordVocab

        whole = whole_words(SubwordVocab())
    from tvnet.data.model_words import data_senses

    lex = Lexicon.of(
        vocab,
        glosses=not args.no_glosses,
        colours=not args.no_colours,
        whole_words=whole,
        senses=data_senses(cfg),
    )
    refs_file = next(args.data.glob("refs(*).json"))
    refs = [r for r in json.loads(refs_file.read_text()) if r["split"] == args.split]
    seen: Counter = Counter()
    changed = total = 0
    for r in refs:
        for s in r["sentences"]:
            total += 1
            text, rewrites = lex.rewrite(s["sent"])
            seen.update(rewrites)
            if rewrites:
                changed += 1
            set_sentence(s, text)
    write_copy(args.data, args.out, refs_file.name, refs)
    for (a, b), n in sorted(seen.items(), key=lambda x: -x[1]):
        print(f"{n:5d}  {a} → {b}")
    print(f"{changed} of {total} {args.split} expressions rewritten → {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
