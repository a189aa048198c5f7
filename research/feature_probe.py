"""What the frozen backbone knows about each object: linear probes for shape and colour.

    python research/feature_probe.py --data data/synthref [--cache-dir runs/.feature-cache]
        [--train-images 1500] [--input-size 448]

The `cpu` preset grounds words in frozen ImageNet EfficientNet-Lite0 features (docs/design.md §3). If a
linear read-out of those features cannot tell an object's shape, no fusion on top of them will
ground shape words reliably. For every annotated object of SynthRef (train images for fitting,
all val images for scoring) this pools the cached features [V2..V5] two ways:

- *mask*: the mean over the object's mask, at each level's grid (area weights);
- *roi*: a 4×4 RoIAlign of the object's box (the spatial layout inside the box kept),

and fits a multinomial logistic regression (standardised features) for the object's shape
(10 classes) and colour (8). It prints val accuracy for all objects and for small ones
(< 5 % of the image, docs/design.md §5's bucket). Chance: 10 % shape, 12.5 % colour.
The regression is fitted in PyTorch (full-batch L-BFGS on the same objective as
scikit-learn's ``LogisticRegression(C=c)``), so nothing beyond requirements.txt is needed.
≈ 2–3 min on 2 cores once the feature cache exists.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from cached_data import cached_splits  # research/ is sys.path[0] when run as a script
from torchvision.ops import roi_align

LEVELS = ("v2", "v3", "v4", "v5")


def collect(refer, cache, split: str, limit: int | None):
    """Per object of ``split``'s first ``limit`` images: mask- and RoI-pooled features per
    level, and (shape, colour, area fraction)."""
    from tvnet.data.refer import decode_segmentation
    from tvnet.data.transforms import letterbox_mask

    size = cache.input_size
    ids = refer.image_ids(split)[:limit]
    mask_f = {lv: [] for lv in LEVELS}
    roi_f = {lv: [] for lv in LEVELS}
    labels = []
    for iid in ids:
        feats = cache.get([iid])  # [V2..V5], each 1×C×g×g
        h, w = refer.image_size(iid)
        s = size / max(h, w)
        anns = [a for a in refer.image_annotations(iid) if a.get("area", 1) > 0]
        if not anns:
            continue
        boxes = torch.tensor(
            [[0, a["bbox"][0] * s, a["bbox"][1] * s, (a["bbox"][0] + a["bbox"][2]) * s,
              (a["bbox"][1] + a["bbox"][3]) * s] for a in anns],
            dtype=torch.float32,
        )  # fmt: skip
        masks = torch.stack(
            [
                torch.from_numpy(
                    letterbox_mask(decode_segmentation(a["segmentation"], h, w), size).astype(
                        np.float32
                    )
                )
                for a in anns
            ]
        )[:, None]  # N×1×S×S
        for lv, f in zip(LEVELS, feats):
            g = f.shape[-1]
            wgt = F.adaptive_avg_pool2d(masks, g)  # N×1×g×g area weights
            wgt = wgt / wgt.sum((2, 3), keepdim=True).clamp(min=1e-8)
            mask_f[lv].append((f * wgt).sum((2, 3)).numpy())
            roi = roi_align(f, boxes, 4, spatial_scale=g / size, sampling_ratio=2, aligned=True)
            roi_f[lv].append(roi.flatten(1).numpy())
        labels += [(a["shape"], a["colour"], a["area"] / (h * w)) for a in anns]
    stack = {k: np.concatenate(v) for k, v in mask_f.items()}
    stack_roi = {k: np.concatenate(v) for k, v in roi_f.items()}
    return stack, stack_roi, labels


def probe(xtr, ytr, xva, yva, c: float, max_iter: int = 1000) -> np.ndarray:
    """Multinomial logistic regression on standardised features; per val row, whether the
    predicted label is right.

    Minimises ½‖W‖² + c · Σ cross-entropy (scikit-learn's ``LogisticRegression(C=c)``; the
    bias is not penalised), divided by the number of rows for conditioning, with full-batch
    L-BFGS in float64.
    """
    xtr = np.asarray(xtr, dtype=np.float64)
    xva = np.asarray(xva, dtype=np.float64)
    mu, sd = xtr.mean(0), xtr.std(0)
    sd[sd == 0] = 1.0  # constant features stay as they are (as StandardScaler does)
    classes = sorted(set(ytr))
    index = {k: i for i, k in enumerate(classes)}
    x = torch.from_numpy((xtr - mu) / sd)
    y = torch.tensor([index[k] for k in ytr])
    n = len(y)
    w = torch.zeros(x.shape[1], len(classes), dtype=torch.float64, requires_grad=True)
    b = torch.zeros(len(classes), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS(
        [w, b], lr=1, max_iter=max_iter, history_size=20, line_search_fn="strong_wolfe",
        tolerance_grad=1e-7, tolerance_change=1e-10,
    )  # fmt: skip

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(x @ w + b, y, reduction="sum") + 0.5 * (w * w).sum() / c
        loss = loss / n
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        pred = (torch.from_numpy((xva - mu) / sd) @ w + b).argmax(1).numpy()
    return np.asarray(classes, dtype=object)[pred] == np.asarray(yva, dtype=object)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", required=True, help="SynthRef folder (shape/colour per object)")
    ap.add_argument("--cache-dir", default="runs/.feature-cache", help="feature cache root")
    ap.add_argument("--train-images", type=int, default=1500, help="train images to fit on")
    ap.add_argument(
        "--input-size",
        type=int,
        default=None,
        help="letterbox side (default: the cpu preset's 320); another size builds its own cache",
    )
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    t0 = time.perf_counter()
    over = {"input_size": args.input_size} if args.input_size else {}
    refer, tv, _, loaders = cached_splits(args.data, args.cache_dir, **over)
    cache = loaders["train"].cache
    first = refer.annotation(refer.samples("val")[0].ann_id)
    if "shape" not in first or "colour" not in first:
        raise SystemExit(f"{args.data}: objects carry no shape/colour (not SynthRef?)")
    tr = collect(refer, cache, "train", args.train_images)
    va = collect(refer, cache, "val", None)
    small = np.array([lab[2] < 0.05 for lab in va[2]])
    print(
        f"objects: {len(tr[2])} train (first {args.train_images} images), {len(va[2])} val "
        f"({small.sum()} small); features {tv.cfg.backbone} @ {tv.cfg.input_size}px"
    )
    rows = [(f"mask {lv}", 0, [lv], 1.0) for lv in LEVELS]
    rows += [("mask v2-v5", 0, list(LEVELS), 1.0)]
    rows += [(f"roi4x4 {lv}", 1, [lv], 0.05) for lv in ("v3", "v4", "v5")]
    rows += [("roi4x4 v3-v5", 1, ["v3", "v4", "v5"], 0.05)]
    print(f"{'features':14s} {'shape':>7s} {'small':>7s} {'colour':>7s} {'small':>7s}")
    for name, kind, lvs, c in rows:
        xtr = np.concatenate([tr[kind][lv] for lv in lvs], 1)
        xva = np.concatenate([va[kind][lv] for lv in lvs], 1)
        out = []
        for j in (0, 1):  # shape, colour
            ok = probe(xtr, [lab[j] for lab in tr[2]], xva, [lab[j] for lab in va[2]], c)
            out += [ok.mean(), ok[small].mean()]
        print(f"{name:14s} " + " ".join(f"{100 * v:6.1f}%" for v in out), flush=True)
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
