"""Which raw score ranks a model's answers by correctness best? (docs/design.md §7)

    python research/confidence_score.py --checkpoint assets/checkpoints/full-grown \
        --pool runs/pool [--data data/synthref] [--split val] [--limit 1000] [--no-amp]

Runs the checkpoint on a split (the pool's neighbour table for RES variants) and, per answer,
computes candidate quality scores from its probability map at the original size:
segment-anything's stability score at logit offsets 0.5, 1 and 2 (``stab0.5`` …), the mean
probability inside the mask (``inside``), the peak probability (``peak``), the product
``stab1*inside``, and the mask's area (``area``, a control). Prints for each its area under
the ROC curve for "IoU ≥ 0.5" and the 5-fold cross-validated log loss of Platt scaling and
isotonic regression (:func:`tvnet.eval.calibration.cross_validate`). The 2026-12-02 entry of
docs/experiments.md has the figures of the shipped models.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import torch


def auroc(score: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve: P(score of a random positive > that of a random negative),
    ties counted half (Mann–Whitney)."""
    ranks = pd.Series(score).rank().to_numpy()
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def features(p: np.ndarray) -> dict[str, float]:
    from tvnet.eval.calibration import mask_score

    m = p >= 0.5
    out = {f"stab{d:g}": mask_score(p, 0.5, d) for d in (0.5, 1.0, 2.0)}
    out["inside"] = float(p[m].mean()) if m.any() else 0.0
    out["peak"] = float(p.max())
    out["stab1*inside"] = out["stab1"] * out["inside"]
    out["area"] = float(m.mean())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--checkpoint", type=Path, required=True)
    ap.add_argument("--pool", type=Path, help="pool with the split's neighbour table (RES)")
    ap.add_argument("--data", type=Path, default=Path("data/synthref"))
    ap.add_argument("--split", default="val")
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--no-amp", action="store_true")
    args = ap.parse_args()
    from tvnet.amp import autocast_context
    from tvnet.checkpoint import load_checkpoint
    from tvnet.data.refer import open_refer
    from tvnet.data.transforms import Letterbox
    from tvnet.eval.calibration import cross_validate
    from tvnet.loader.batches import BatchLoader, SplitTable

    model = load_checkpoint(args.checkpoint).eval()
    model.backbone.optimize_for_inference("torch", amp=not args.no_amp)
    refer = open_refer(args.data)
    table = SplitTable.for_model(refer, args.split, model, args.pool)
    loader = BatchLoader(refer, table, model.cfg.input_size, model.uses_retrieval, None)
    n = min(args.limit, len(table))
    rows = []
    with torch.inference_mode():
        for start in range(0, n, 16):
            idx = np.arange(start, min(start + 16, n))
            with autocast_context("cpu", not args.no_amp):
                logits = model(**loader.inputs(idx), return_attention=False).logits
            prob = torch.sigmoid(logits.float())[:, 0]
            for j, i in enumerate(idx):
                gt = refer.mask(table.samples[i].ref_id)
                p = Letterbox.for_shape(*gt.shape, model.cfg.input_size).invert(prob[j]).numpy()
                m = p >= 0.5
                union = (m | gt).sum()
                rows.append({"iou": (m & gt).sum() / union if union else 1.0, **features(p)})
    df = pd.DataFrame(rows)
    right = df["iou"].to_numpy() >= 0.5
    print(f"{args.checkpoint} on {args.split} (n={len(df)}, {right.mean():.1%} right)")
    for c in [c for c in df.columns if c != "iou"]:
        s = df[c].to_numpy().clip(0, 1)
        cv = cross_validate(s, right)
        print(
            f"  {c:13s} AUROC {auroc(df[c].to_numpy(), right):.3f}   log loss: Platt "
            f"{cv['platt']['log_loss']:.3f}, isotonic {cv['isotonic']['log_loss']:.3f}"
        )


if __name__ == "__main__":
    main()
