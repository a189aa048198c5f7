"""Could GloVe or WordNet's definitions read a comparison ("firetruck", "avocado")? (issue 23,
"Wording"; docs/experiments.md, 2026-12-05, seventh session)

For every single-word replacement of lists 1–9 (research/paraphrase.py) that the lexicon
leaves unread, two word-level probes, text only:

- GloVe 6B 50d: the known content word nearest by cosine, and its margin over the second;
- WordNet: the colour and shape words the first sense's definition names ("avocado": "…
  with green or blackish skin").

A reading counts as right when it is the generator word the list replaced.

    python research/comparison_probes.py
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np


def main() -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " ")).parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from paraphrase import TABLES

    from tvnet.checkpoint import load_checkpoint, read_checkpoint_config
    from tvnet.data.model_words import model_lexicon
    from tvnet.data.synthref import vocabulary as v
    from tvnet.weights import PACKAGE_GLOVE, load_glove

    ckpt = Path("assets/checkpoints/full-160k")
    lex, _ = model_lexicon(load_checkpoint(ckpt, device="cpu").vocab, read_checkpoint_config(ckpt))
    wn = lex.wordnet
    rows = [
        (k, o.lower())
        for name, table in TABLES.items()
        if name != "heldout10"
        for k, opts in table.items()
        for o in opts
        if not re.search(r"[\s-]", o) and o.lower() not in lex.known and not lex.nearest(o)
    ]
    content = sorted(w for w in lex.known if lex._content(w))
    cv, found = load_glove(PACKAGE_GLOVE, content)
    content = [c for c, f in zip(content, found) if f]
    cv = cv[found] / np.linalg.norm(cv[found], axis=1, keepdims=True)
    words = sorted({w for _, w in rows})
    wv, wf = load_glove(PACKAGE_GLOVE, words)
    vec = {w: wv[i] / np.linalg.norm(wv[i]) for i, w in enumerate(words) if wf[i]}
    print(f"{len(rows)} unread replacements")
    for margin in (0.0, 0.05, 0.1):
        read = right = 0
        for k, w in rows:
            if w in vec:
                s = cv @ vec[w]
                top = np.argsort(-s)[:2]
                if s[top[0]] - s[top[1]] >= margin:
                    read += 1
                    right += content[top[0]] == k
        print(f"GloVe nearest, margin ≥ {margin}: {read} read, {right} right")
    named = set(v.COLOURS) | set(v.SHAPES)
    read = right = 0
    for k, w in rows:
        found_words: set[str] = set()
        for f in (wn.base_forms(w, "n") + wn.base_forms(w, "a"))[:1]:
            for pos in "na":
                for off in wn.offsets(f, pos)[:1]:
                    gloss = wn.synset(off, pos).gloss.lower().split(";")[0]
                    found_words |= {c for c in named if re.search(rf"\b{c}\b", gloss)}
        if found_words:
            read += 1
            right += found_words == {k}
    print(f"WordNet definition names exactly the word meant: {right} of {read} that name one")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
