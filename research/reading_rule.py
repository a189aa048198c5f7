"""Does one of the lexicon's reading rules help? (issue 23, "Wording"; design.md §6)

For each rewritten sample of a paraphrase copy (research/paraphrase.py), reads the expression
as the Predictor does with the rule off (A) and on (B) and, where the two readings differ
(``--all``: on every rewritten sample), runs the checkpoint on both and sums intersections and
unions into oIoU. The original wording's oIoU on the same samples comes from the checkpoint's
val dump, so "kept" is the share of it that each reading keeps. The rules:

- ``generic_heads``: an unknown head noun read as "object" (``Lexicon.rewrite(generic_heads=)``);
- ``spelling``: a word that is no English word read as the known word it misspells
  (``Lexicon.spelling``; tvnet/data/spelling.py);
- ``compound_heads``: a hyphenated compound with one known part, the others related to nothing
  known, read as that part ("burnt-orange" → orange; ``Lexicon.compound_heads``);
- ``senses``: a word is read as a known one only through a sense in which SynthRef uses that
  word (``Lexicon.senses``, tvnet/data/synthref/vocabulary.py ``WORD_SENSES``: "remaining" is
  not "left"); off, as before 2026-12-05 (tenth session), through any sense;
- ``colour_compounds``: a colour name of the xkcd survey assigned to a basic term by the
  survey's own compounds ("navy blue": navy is blue, not black) and read as a colour only where
  a colour word stands ("the navy circle", not "the red brick"; ``Lexicon.colour_compounds``,
  ``colour_positions``, together); off, as before 2026-12-06 (third session);
- ``drop_unread``: a diagnostic, not a rule of the Predictor: every word still unknown after the
  lexicon's reading (left as written) is left out, as if the model had been taught to ignore
  what it cannot read; off, such a word reaches the text encoder as written;
- ``gloss_heads``: more of a WordNet definition read (tvnet/data/glosses.py): the thing it says
  a word is or has ("coin": "a flat metal piece (usually a disc)"; "pinstriped": "having very
  thin stripes") and a colour or shape word it names read through WordNet; off, the
  definition's colour or shape words the model knows as written (with ``colour_objects`` also
  off: as before 2026-12-06, sixth session; the other rule stays as it is during this one);
- ``colour_objects``: a thing's colour where a word is said to have it ("banana-coloured" →
  yellow, from "crescent-shaped yellow fruit"; "milky": "resembling milk in color", milk "a
  white … liquid"; "golden": "the color of gold"; ``Lexicon.colour_objects``); off:
  "banana-coloured" read part by part and, with ``gloss_heads``, "the color of X" as X's
  nearest known word;
- ``derivations``: an adjective read as the noun it derives from ("triangular", "circular",
  "three-sided" → triangle; ``Lexicon.derivations``) or, where it counts, as the one known noun
  whose definition makes the same count ("six-sided": "having six sides" → hexagon, "a six-sided
  polygon"; ``Lexicon.counting``); off, as before 2026-12-06 (seventh session);
- ``satellites``: a head adjective read as its one known satellite, when it has at most eight
  ("undecorated" → plain; ``Lexicon.satellites``); off, as before;
- ``modifier_nouns``: an unknown head noun after a rewritten word that WordNet lists as an
  adjective is still a head, whatever that word was read as
  ("the three-sided figure" → "the triangle object"; ``Lexicon.modifier_nouns``); off, as
  before, such a noun stays as written;
- ``adjectives``: the last three together (off: as before 2026-12-06, seventh session);
- ``colour_things``: a noun left unread where a colour word stands read as the colour its
  definition names, after its head too ("the daffodil star" → "the yellow star",
  ``Lexicon.colour_things``); off, as before 2026-12-06 (seventh session) when
  ``pattern_things`` is off too (it stays on: with it on, this measures what the colour
  reading adds to the pattern reading, as on list 19);
- ``pattern_things``: such a noun read first as the pattern its definition names ("the zebra
  star" → "the striped star"; ``Lexicon.pattern_things``); off, as before it;
- ``er_compounds``: a hyphenated noun "N-Xer" read as the adjective "N-Xed" ("six-sider" →
  "six-sided" → hexagon; ``Lexicon.er_compounds``); off, as before it;
- ``shape_phrase``: a noun's "X-shaped" counts only before its definition's head ("plant with
  heart-shaped … leaves" is no heart; ``Lexicon.shape_phrase``); off, as before it;
- ``untagged``: a known word too rare for WordNet's sense-tagged corpus ("hexagon") may be a
  noun that a left-out tail follows ("the hexagon please"); off, as before 2026-12-05
  (seventh session), such a word named nothing.

    python research/paraphrase.py --data data/synthref --split val --out data/p9 --words heldout9
    python research/reading_rule.py --rule spelling data/p9 [data/p10 …] [--all]

One JSON line per copy: n (samples scored), changed (of those, where the readings differ),
oIoU of the original wording / A / B, the kept shares, seconds, and the rewrites that B makes
and A does not, most frequent first.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

RULES = (
    "generic_heads",
    "spelling",
    "untagged",
    "compound_heads",
    "senses",
    "drop_unread",
    "colour_compounds",
    "gloss_heads",
    "colour_objects",
    "derivations",
    "satellites",
    "modifier_nouns",
    "adjectives",
    "colour_things",
    "pattern_things",
    "er_compounds",
    "shape_phrase",
)


def rule_switch(p, rule: str):
    """A function that turns ``rule`` off or on in Predictor ``p``'s own reading."""
    lex = p.lexicon
    if rule in ("spelling", "compound_heads"):
        return lambda on: setattr(lex, rule, on)
    seventh = ("derivations", "counting", "satellites", "modifier_nouns")
    things = ("colour_things", "pattern_things", "er_compounds", "shape_phrase")
    if rule in ("gloss_heads", "colour_objects", "adjectives", *things, *seventh):
        names = {"derivations": seventh[:2], "adjectives": seventh}.get(rule, (rule,))

        def switch(on: bool) -> None:
            for name in names:
                setattr(lex, name, on)
            for cache in (lex._cache, lex._typos, lex._by_survey):  # read under the other rule
                cache.clear()

        return switch
    if rule == "senses":
        readers = {True: lex, False: lex.with_senses(None)}
        return lambda on: setattr(p, "lexicon", readers[on])
    if rule == "colour_compounds":
        from dataclasses import replace

        every = lex.known | lex.short_known
        old = replace(lex, known=every, colour_compounds=False, colour_positions=False)
        readers = {True: lex, False: old}
        return lambda on: setattr(p, "lexicon", readers[on])
    state = [False]
    if rule == "drop_unread":
        import re

        from tvnet.data.fillers import tidy

        base, every = lex.rewrite, lex.known | lex.short_known
        word = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")

        def dropping(s, drop_fillers=True, generic_heads=True):
            text, pairs = base(s, drop_fillers, generic_heads)
            if not state[0]:
                return text, pairs
            gone = [w for w in word.findall(text) if w.lower() not in every]
            if len(gone) == len(word.findall(text)):
                return text, pairs
            out = word.sub(lambda m: "" if m.group(0).lower() not in every else m.group(0), text)
            return tidy(out), pairs + [(w, "") for w in gone]

        lex.rewrite = dropping
        return lambda on: state.__setitem__(0, on)
    if rule == "untagged":
        noun, names, counted = lex._noun, lex._names_thing, lex.wordnet.sense_counts

        def old_names(w: str) -> bool:
            k = w.lower() if w.lower() in lex.known else lex.nearest(w)
            if state[0] or k is None or "-" in w:
                return names(w)
            return names(w) if counted(k) else False

        lex._noun = lambda w: noun(w) if state[0] or counted(w.lower()) else False
        lex._names_thing = old_names
        return lambda on: state.__setitem__(0, on)
    rewrite = type(lex).rewrite
    lex.rewrite = lambda s, drop_fillers=True, generic_heads=None: rewrite(
        lex, s, drop_fillers, state[0] if generic_heads is None else generic_heads
    )
    return lambda on: state.__setitem__(0, on)


def main(argv: list[str] | None = None, rule: str | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("copies", type=Path, nargs="+", help="paraphrase.py output folders")
    if rule is None:
        ap.add_argument("--rule", choices=RULES, required=True)
    ap.add_argument("--original", type=Path, default=Path("data/synthref"))
    ap.add_argument("--checkpoint", type=Path, default=Path("assets/checkpoints/full-160k"))
    ap.add_argument("--dump", type=Path, default=Path("assets/dumps/full-160k-val"))
    ap.add_argument("--all", action="store_true", help="score every rewritten sample")
    args = ap.parse_args(argv)
    rule = rule or args.rule

    import pandas as pd

    from tvnet import Predictor
    from tvnet.data.refer import open_refer

    p = Predictor.from_checkpoint(args.checkpoint, device="cpu")
    switch = rule_switch(p, rule)
    orig = open_refer(args.original)
    first = {int(s.sample_id): s for s in orig.samples("val")}
    dump = pd.read_parquet(args.dump / "samples.parquet").set_index("sample_id")
    for copy in args.copies:
        t0 = time.time()
        acc = {k: [0, 0] for k in ("orig", "A", "B")}
        n = changed = 0
        new: Counter[str] = Counter()
        for s in open_refer(copy).samples("val"):
            o = first[int(s.sample_id)]
            if s.sentence == o.sentence:
                continue
            switch(False)
            a, _, pairs_a, _ = p.read_expression(s.sentence)
            switch(True)
            b, _, pairs_b, _ = p.read_expression(s.sentence)
            if a == b and not args.all:
                continue
            new.update(f"{w.lower()}→{r}" for w, r in set(pairs_b) - set(pairs_a))
            n += 1
            changed += a != b
            row = dump.loc[int(s.sample_id)]
            acc["orig"][0] += int(row["inter"])
            acc["orig"][1] += int(row["union"])
            img, gt = str(orig.image_path(o.image_id)), orig.mask(o.ref_id).astype(bool)
            inter = union = 0  # A's, set first
            for key in ("A", "B"):
                if key == "B" and a == b:  # the same reading: the same answer
                    acc["B"][0] += inter
                    acc["B"][1] += union
                    continue
                switch(key == "B")
                m = p(img, s.sentence, attention=False).mask
                inter, union = int((m & gt).sum()), int((m | gt).sum())
                acc[key][0] += inter
                acc[key][1] += union
        oiou = {k: 100 * i / max(u, 1) for k, (i, u) in acc.items()}
        kept = {k: round(100 * oiou[k] / oiou["orig"], 1) if n else None for k in ("A", "B")}
        print(
            json.dumps(
                {
                    "copy": str(copy),
                    "rule": rule,
                    "n": n,
                    "changed": changed,
                    "oIoU": {k: round(v, 2) for k, v in oiou.items()},
                    "kept_A": kept["A"],
                    "kept_B": kept["B"],
                    "s": round(time.time() - t0),
                    "top": new.most_common(12),
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
