"""Do ordinals, the weakest expression type, gain from more training samples as the others do?
(issue 23, accuracy; docs/experiments.md, 2026-12-06, second session)

Reads the shipped Table 1 dumps only (no model runs, seconds): each variant at 72k samples
(`NAME-{val,test}`, the 30k split), 160k (`NAME-160k-*`, the 30k split) and 240k
(`NAME-240k-*`, the 60k split), seeds 0 and 1 (`seed1/`), and prints the oIoU per expression
type (the type each dump row records), then each type's gain from one budget to the next over
every (seed, variant, split) that has both.

    python research/types_by_budget.py [--dumps assets/dumps]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.tables import type_table  # noqa: E402
from tvnet.eval.dump import load_dump  # noqa: E402

VARIANTS = ("baseline", "res", "res_cct", "full")
BUDGETS = {"72k": "", "160k": "-160k", "240k": "-240k"}


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--dumps", type=Path, default=Path("assets/dumps"))
    args = ap.parse_args()
    rows = []
    for seed, folder in (("0", args.dumps), ("1", args.dumps / "seed1")):
        for v in VARIANTS:
            for budget, suffix in BUDGETS.items():
                for split in ("val", "test"):
                    path = folder / f"{v}{suffix}-{split}"
                    if not (path / "run.json").is_file():
                        continue
                    table = type_table(load_dump(path).samples.assign(variant=v))
                    for (_, kind), r in table.iterrows():
                        rows.append(dict(seed=seed, variant=v, budget=budget, split=split,
                                         type=kind, oIoU=r["oIoU"]))  # fmt: skip
    df = pd.DataFrame(rows)
    pd.set_option("display.width", 160)
    for seed, part in df.groupby("seed"):
        print(f"oIoU per type, seed {seed}:")
        cols = ["split", "budget"]
        print(part.pivot_table(index=["variant", "type"], columns=cols, values="oIoU").round(1))
        print()
    wide = df.pivot_table(index=["seed", "variant", "split", "type"], columns="budget",
                          values="oIoU")  # fmt: skip
    for a, b in (("72k", "160k"), ("160k", "240k")):
        if a not in wide or b not in wide:
            continue
        gain = (wide[b] - wide[a]).dropna()
        print(f"gain {a} → {b} (points of oIoU; one row per seed, variant and split):")
        print(gain.groupby("type").describe()[["count", "mean", "min", "max"]].round(2))
        print()
    print("mean oIoU at 240k:", wide["240k"].groupby("type").mean().round(1).to_dict())


if __name__ == "__main__":
    main()
