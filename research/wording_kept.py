"""How much oIoU rewritten wording keeps (issue 23, "Wording").

    python research/wording_kept.py ORIGINAL_DUMP REWRITTEN_DUMP [MORE_DUMPS …]
                                    [--exclude WORDS_FILE]

Compares evaluation dumps of the same split on the samples whose sentence REWRITTEN_DUMP
changed (research/paraphrase.py): oIoU of each dump on those samples, and its share of the
original wording's oIoU ("kept"); e.g. the rewritten folder as written and after the WordNet
lexicon (research/lexicon_rewrite.py). ``--exclude``: a file of words, one per line (e.g. the
words a run's training-time swaps showed it); samples whose rewritten sentence contains any of
them are left out, so that what remains is wording the model never saw.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("dumps", nargs="+", type=Path, help="ORIGINAL REWRITTEN [MORE …]")
    ap.add_argument("--exclude", type=Path, help="words file: leave out samples that use one")
    args = ap.parse_args(argv)
    if len(args.dumps) < 2:
        ap.error("needs the original dump and at least one rewritten dump")
    import pandas as pd

    dumps = [pd.read_parquet(d / "samples.parquet").set_index("sample_id") for d in args.dumps]
    base, rewritten = dumps[0], dumps[1]
    changed = base.index[base["sentence"] != rewritten.loc[base.index, "sentence"]]
    if args.exclude is not None:
        words = {w.lower() for w in args.exclude.read_text().split()}

        def unseen(sentence: str) -> bool:  # hyphenated words whole and part by part
            tokens = re.findall(r"[a-z]+(?:-[a-z]+)*", sentence.lower())
            return not words & {p for t in tokens for p in (t, *t.split("-"))}

        changed = [i for i in changed if unseen(rewritten.loc[i, "sentence"])]
    if not len(changed):
        ap.error("no rewritten sample is left to compare")
    o = base.loc[changed]
    ref = 100 * o.inter.sum() / o.union.sum()
    for name, d in zip(args.dumps, dumps):
        p = d.loc[changed]
        v = 100 * p.inter.sum() / p.union.sum()
        print(f"{name}: oIoU {v:.2f} on the {len(changed)} rewritten (kept {100 * v / ref:.1f} %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
