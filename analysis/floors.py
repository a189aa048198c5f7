"""Language-blind floors: what knowing the objects, but not the expression, scores.

Two predictors that never read the expression, scored under the CMPC protocol (docs/design.md §5) at
the original resolution, as reference rows for a model's Table 1 numbers:

- *every object*: the union of all annotated objects of the image — a perfect object
  segmenter that lights everything;
- *one object at random*: each annotated object of the image with equal chance — a perfect
  segmenter that guesses which object. Its figures are expectations over the guess: Prec@X
  and mIoU average over the objects, oIoU is the ratio of the expected ΣI and ΣU.

A model near the first has learned objectness and little grounding; Prec@0.5 above the second
is what the expression bought over a perfect segmenter's guess.

    python -m analysis.floors --data data/synthref [--split val] [--limit N]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from tvnet.eval.metrics import METRIC_KEYS, PREC_KEYS, PREC_THRESHOLDS, RISEvaluator, size_bin

EVERY, RANDOM = "every object", "one object at random"


def floors(
    refer: Any, split: str, limit: int | None = None, progress: bool = False
) -> pd.DataFrame:
    """One row per predictor (EVERY, RANDOM); columns oIoU, mIoU, Prec@X for all samples and
    for small referents (``small/…``), as fractions in [0, 1]; ``n`` and ``small/n``."""
    from tvnet.data.refer import decode_segmentation

    samples = refer.samples(split)[:limit]
    if not samples:
        raise ValueError(f"split {split!r} of {refer.name} has no samples")
    every = RISEvaluator()
    # per bucket ("all", "small"): ΣE[I], ΣE[U], E[IoU] per sample, E[IoU ≥ X] per sample
    acc = {b: {"I": 0.0, "U": 0.0, "iou": [], "prec": []} for b in ("all", "small")}
    objects: dict[int, list[np.ndarray]] = {}  # image → its objects, decoded once
    for s in tqdm(samples, desc=f"{split} objects", unit="sample", disable=not progress):
        gt = refer.mask(s.ref_id)
        h, w = gt.shape
        if (objs := objects.get(s.image_id)) is None:
            objs = objects[s.image_id] = [
                decode_segmentation(a.get("segmentation"), h, w)
                for a in refer.image_annotations(s.image_id)
            ]
        every.process([{"pred": np.logical_or.reduce(objs), "gt": gt}])
        inter = np.array([(o & gt).sum() for o in objs], dtype=np.float64)
        union = np.array([(o | gt).sum() for o in objs], dtype=np.float64)
        iou = np.divide(inter, union, out=np.ones_like(inter), where=union > 0)
        buckets = ("all", "small") if size_bin(gt.mean()) == "small" else ("all",)
        for b in buckets:
            a = acc[b]
            a["I"] += inter.mean()
            a["U"] += union.mean()
            a["iou"].append(iou.mean())
            a["prec"].append([(iou >= t).mean() for t in PREC_THRESHOLDS])
    m = every.evaluate()
    rows = {
        EVERY: {k: m[k] for k in METRIC_KEYS} | {f"small/{k}": m[f"small/{k}"] for k in METRIC_KEYS}
    }
    rand: dict[str, float] = {}
    for b, a in acc.items():
        pre = "" if b == "all" else "small/"
        n = len(a["iou"])
        rand[f"{pre}overall_iou"] = a["I"] / a["U"] if a["U"] > 0 else float("nan")
        rand[f"{pre}mean_iou"] = float(np.mean(a["iou"])) if n else float("nan")
        prec = np.mean(a["prec"], axis=0) if n else [float("nan")] * len(PREC_THRESHOLDS)
        for key, p in zip(PREC_KEYS, prec):
            rand[f"{pre}{key}"] = float(p)
        rand[f"{pre}n"] = n
    rows[RANDOM] = rand
    return pd.DataFrame.from_dict(rows, orient="index")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m analysis.floors",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--data",
        required=True,
        metavar="DIR",
        help="a refer-format dataset folder (or its refs file)",
    )
    ap.add_argument("--split", default="val")
    ap.add_argument("--limit", type=int, help="only the first N samples of the split")
    args = ap.parse_args(argv)
    from tvnet.data.refer import open_refer

    try:
        table = floors(open_refer(args.data), args.split, args.limit, progress=True)
    except (OSError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    cols = ["overall_iou", "mean_iou", "prec@0.5", "prec@0.9"]
    cols += ["small/overall_iou", "small/prec@0.5", "small/prec@0.9"]
    print(f"{args.split}, in % ({int(table.loc[EVERY, 'n'])} samples)")
    print("| predictor | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for name, row in table.iterrows():
        print(f"| {name} | " + " | ".join(f"{100 * row[c]:.2f}" for c in cols) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
