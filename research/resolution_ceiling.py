"""What does a coarse output grid cost? The ground truth itself, seen through a g×g grid,
under the CMPC protocol (docs/design.md §5).

Each referent's mask is letterboxed to S×S (as the model's input), area-averaged onto a g×g
grid (one simple g×g predictor: the exact share of each cell that is referent), upsampled
bilinearly to S×S, mapped back to the original size and thresholded at 0.5. A better choice of
cell values could score a little higher, so this is a reference point for what the resolution
alone costs, not a strict bound. g = 40 is the grid of M_fine, where all the language
grounding happens; every variant's head then runs at 80×80 (g = 80), on up(M_fine) in
``baseline``/``res`` and on res2 detail in ``res_cct``/``full``. (The model interpolates logits
before the sigmoid; this interpolates the soft mask.)

    python research/resolution_ceiling.py --data data/synthref [--split val] [--grids 20 40 80]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from tvnet.data.refer import open_refer
from tvnet.data.transforms import Letterbox, letterbox_mask
from tvnet.eval.metrics import RISEvaluator


def through_grid(gt: np.ndarray, size: int, grid: int) -> np.ndarray:
    """H×W bool → H×W bool: the mask seen through a grid×grid output (see module doc)."""
    lb = Letterbox.for_shape(*gt.shape, size)
    m = torch.from_numpy(letterbox_mask(gt, size).astype(np.float32))[None, None]
    cells = F.interpolate(m, size=(grid, grid), mode="area")
    up = F.interpolate(cells, size=(size, size), mode="bilinear", align_corners=False)
    return lb.invert(up[0, 0]).numpy() >= 0.5


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", required=True, help="a refer-format dataset folder")
    ap.add_argument("--split", default="val")
    ap.add_argument("--size", type=int, default=320, help="model input size S")
    ap.add_argument("--grids", type=int, nargs="+", default=[20, 40, 80])
    ap.add_argument("--limit", type=int, help="only the first N samples")
    args = ap.parse_args()
    refer = open_refer(args.data)
    samples = refer.samples(args.split)[: args.limit]
    evals = {g: RISEvaluator() for g in args.grids}
    masks: dict[int, np.ndarray] = {}  # refs with several expressions: decode once
    for s in tqdm(samples, desc=f"{args.split} masks", unit="sample"):
        if (gt := masks.get(s.ref_id)) is None:
            gt = masks[s.ref_id] = refer.mask(s.ref_id)
        for g, ev in evals.items():
            ev.process([{"pred": through_grid(gt, args.size, g), "gt": gt}])
    print(f"{refer.name} {args.split}: {len(samples)} samples, input {args.size}, in %")
    print("grid | oIoU | mIoU | Prec@0.5 | Prec@0.9 | small oIoU | small Prec@0.5 | small Prec@0.9")
    keys = ("overall_iou", "mean_iou", "prec@0.5", "prec@0.9")
    keys += tuple(f"small/{k}" for k in ("overall_iou", "prec@0.5", "prec@0.9"))
    for g, ev in evals.items():
        m = ev.evaluate()
        print(f"{g}×{g} | " + " | ".join(f"{100 * m[k]:.2f}" for k in keys))


if __name__ == "__main__":
    main()
