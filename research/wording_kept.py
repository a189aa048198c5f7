"""How much oIoU rewritten wording keeps (issue 23, "Wording").

    python research/wording_kept.py ORIGINAL_DUMP REWRITTEN_DUMP [MORE_DUMPS …]

Compares evaluation dumps of the same split on the samples whose sentence REWRITTEN_DUMP
changed (research/paraphrase.py): oIoU of each dump on those samples, and its share of the
original wording's oIoU ("kept"); e.g. the rewritten folder as written and after the WordNet
lexicon (research/lexicon_rewrite.py).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2 or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args and args[0] in ("-h", "--help") else 2
    import pandas as pd

    dumps = [pd.read_parquet(f"{d}/samples.parquet").set_index("sample_id") for d in args]
    base = dumps[0]
    changed = base.index[base["sentence"] != dumps[1].loc[base.index, "sentence"]]
    o = base.loc[changed]
    ref = 100 * o.inter.sum() / o.union.sum()
    for name, d in zip(args, dumps):
        p = d.loc[changed]
        v = 100 * p.inter.sum() / p.union.sum()
        print(f"{name}: oIoU {v:.2f} on the {len(changed)} rewritten (kept {100 * v / ref:.1f} %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
