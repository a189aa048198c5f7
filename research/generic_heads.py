"""Does reading an unknown head noun as "object" help? (issue 23, "Wording"; design.md §6)

For each rewritten sample of a paraphrase copy (research/paraphrase.py), reads the expression
as the Predictor does with and without ``Lexicon.rewrite(generic_heads=...)`` and, where the
two readings differ (``--all``: on every rewritten sample), runs the checkpoint on both and
sums intersections and unions into oIoU. The original wording's oIoU on the same samples comes
from the checkpoint's val dump, so "kept" is the share of it that each reading keeps.

    python research/paraphrase.py --data data/synthref --split val --out data/p6 --words heldout6
    python research/generic_heads.py data/p6 [data/p7 …] [--all]

One JSON line per copy: n (samples scored), changed (of those, where the readings differ),
oIoU of the original wording / without the rule (A) / with it (B), the kept shares, seconds,
and the words most often read as the generic noun.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("copies", type=Path, nargs="+", help="paraphrase.py output folders")
    ap.add_argument("--original", type=Path, default=Path("data/synthref"))
    ap.add_argument("--checkpoint", type=Path, default=Path("assets/checkpoints/full-160k"))
    ap.add_argument("--dump", type=Path, default=Path("assets/dumps/full-160k-val"))
    ap.add_argument("--all", action="store_true", help="score every rewritten sample")
    args = ap.parse_args(argv)

    import pandas as pd

    from tvnet import Predictor
    from tvnet.data.heads import GENERIC
    from tvnet.data.refer import open_refer

    p = Predictor.from_checkpoint(args.checkpoint, device="cpu")
    rule = [False]  # whether the Predictor's own reading applies the rule
    rewrite = type(p.lexicon).rewrite
    p.lexicon.rewrite = lambda s, drop_fillers=True, generic_heads=None: rewrite(
        p.lexicon, s, drop_fillers, rule[0] if generic_heads is None else generic_heads
    )
    orig = open_refer(args.original)
    first = {int(s.sample_id): s for s in orig.samples("val")}
    dump = pd.read_parquet(args.dump / "samples.parquet").set_index("sample_id")
    for copy in args.copies:
        t0 = time.time()
        acc = {k: [0, 0] for k in ("orig", "A", "B")}
        n = changed = 0
        heads: dict[str, int] = {}
        for s in open_refer(copy).samples("val"):
            o = first[int(s.sample_id)]
            if s.sentence == o.sentence:
                continue
            rule[0] = False
            a = p.read_expression(s.sentence)[0]
            b, pairs = p.lexicon.rewrite(s.sentence, generic_heads=True)
            if a == b and not args.all:
                continue
            for w, r in pairs:
                if r in GENERIC and p.lexicon.generic(w, r):
                    heads[w.lower()] = heads.get(w.lower(), 0) + 1
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
                rule[0] = key == "B"
                m = p(img, s.sentence, attention=False).mask
                inter, union = int((m & gt).sum()), int((m | gt).sum())
                acc[key][0] += inter
                acc[key][1] += union
        oiou = {k: 100 * i / max(u, 1) for k, (i, u) in acc.items()}
        kept = {k: round(100 * oiou[k] / oiou["orig"], 1) if n else None for k in ("A", "B")}
        top = sorted(heads.items(), key=lambda x: -x[1])[:12]
        print(
            json.dumps(
                {
                    "copy": str(copy),
                    "n": n,
                    "changed": changed,
                    "oIoU": {k: round(v, 2) for k, v in oiou.items()},
                    "kept_A": kept["A"],
                    "kept_B": kept["B"],
                    "s": round(time.time() - t0),
                    "top": top,
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
