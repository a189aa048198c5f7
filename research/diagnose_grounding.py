"""Does a checkpoint use the expression? Two diagnostics on val samples, threshold-free:

1. localisation: mean probability inside the referent vs outside it;
2. grounding: on images with two different referents, how much the probability map changes
   when only the expression changes, and how often the right expression gives the referent
   the higher mean probability.

    python research/diagnose_grounding.py --checkpoint runs/full/last --data data/synthref --pool runs/pool [--n 100]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from tvnet.checkpoint import load_checkpoint
from tvnet.data.refer import open_refer
from tvnet.loader.batches import BatchLoader, SplitTable


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--pool")
    ap.add_argument("--split", default="val")
    ap.add_argument("--n", type=int, default=100, help="image pairs")
    args = ap.parse_args()
    torch.set_num_threads(2)
    m = load_checkpoint(args.checkpoint)
    refer = open_refer(args.data)
    t = SplitTable.for_model(refer, args.split, m, args.pool)
    loader = BatchLoader(refer, t, m.cfg.input_size, m.uses_retrieval, None)
    by_img: dict[int, dict[int, int]] = {}
    for i, s in enumerate(t.samples):
        by_img.setdefault(s.image_id, {}).setdefault(s.ref_id, i)
    pairs = [list(v.values())[:2] for v in by_img.values() if len(v) > 1][: args.n]
    inside, outside, delta, right = [], [], [], []
    for a, b in pairs:
        inp = loader.inputs([a, b])
        with torch.inference_mode():
            p = torch.sigmoid(m(**inp, return_attention=False).logits.float())[:, 0]
        mk = loader.masks([a, b])[:, 0].bool()
        for j in range(2):
            inside.append(float(p[j][mk[j]].mean()))
            outside.append(float(p[j][~mk[j]].mean()))
        delta.append(float((p[0] - p[1]).abs().mean()))
        # referent a should be brighter under expression a than under expression b
        right.append(float(p[0][mk[0]].mean()) > float(p[1][mk[0]].mean()))
    print(f"{m.cfg.variant}: {len(pairs)} image pairs of {refer.name}/{args.split}")
    print(
        f"  mean prob inside referent {np.mean(inside):.3f}  outside {np.mean(outside):.3f}  max-prob>0.5 never: {max(inside) < 0.5}"
    )
    print(f"  mean |Δprob| when only the expression changes {np.mean(delta):.4f}")
    print(f"  right expression lights its referent more: {np.mean(right):.2f} (0.5 = chance)")


if __name__ == "__main__":
    main()
