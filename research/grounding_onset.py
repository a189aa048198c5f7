"""When does a model start to ground the expression? A plain fusion network on TV-Net's data
path, to tell the architecture's share of the slow start from the data's.

The network is the issue's calibration model: frozen V3–V5 features from TV-Net's feature
cache (same normalisation) and the 8-d spatial feature → 1×1 conv (128) + ReLU; FiLM with the
sentence vector, x ⊙ (1 + γ(s)) + β(s), ReLU; two 3×3 convs; a logit per cell of the 40×40
grid, bilinear to 320². Loss, optimiser and schedule are the ``cpu`` recipe's (0.7 BCE + soft
Dice, AdamW 1e-3 with decoupled weight decay, poly 0.9, batch 8). ``--text`` picks s:

- ``lstm``: TV-Net's text encoder (GloVe 6B 50d + LSTM, trained);
- ``bow``: the mean of the (GloVe-initialised, trained) word vectors through a 2-layer MLP;
- ``minilm``: frozen all-MiniLM-L6-v2 sentence vectors (computed once) through a 2-layer MLP.

Scores val (all of it by default) at the 320² letterboxed input, not at the original size as
``tvnet eval`` does: comparable among its own runs, only roughly with dumps. Compare them with
the language-blind floors of ``python -m analysis.floors``.

    python research/grounding_onset.py --data data/synthref --steps 600 [--text minilm]

On this project's 2-core machine (AVX2, fp32; one thread per run, two runs at a time, ≈ 9
samples/s each), SynthRef val after 600 steps × 8: ``--text minilm`` oIoU 27.52 %, Prec@0.5
18.50. Its prototype (same model and recipe) gave lstm 24.53, bow 25.31, minilm 27.34, lstm at
batch 4 × 1200 steps 25.03, and minilm after 1200 × 8 31.61 (docs/experiments.md, 2026-12-01); the
language-blind "every object lit" floor is 22.55.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from cached_data import cached_splits
from torch import nn
from tqdm import tqdm

from tvnet import ris_metrics
from tvnet.config import TrainConfig
from tvnet.model.head import tvnet_loss
from tvnet.model.spatial import spatial_features
from tvnet.train.optim import make_optimizer, poly_lr


class PlainGrounder(nn.Module):
    def __init__(self, tv: nn.Module, text: str, c: int = 128, d_s: int = 256):
        super().__init__()
        self.backbone, self.text, self.mode = tv.backbone, tv.text, text
        self.vis = nn.Sequential(nn.Conv2d(sum(tv.backbone.channels[1:]) + 8, c, 1), nn.ReLU())
        d_in = {"lstm": None, "bow": tv.text.embed.embedding_dim, "minilm": 384}[text]
        if d_in:
            self.sent = nn.Sequential(nn.Linear(d_in, d_s), nn.ReLU(), nn.Linear(d_s, d_s))
        self.gamma, self.beta = nn.Linear(d_s, c), nn.Linear(d_s, c)
        self.head = nn.Sequential(
            nn.Conv2d(c, c, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(c, c, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(c, 1, 1),
        )

    def forward(self, tokens, lengths, feats, sentence_vectors=None, size: int = 320):
        grid = self.backbone.grid
        _, low = self.backbone.align(feats, grid)
        o = spatial_features(low[0].shape[0], grid, grid, device=low[0].device)
        x = self.vis(torch.cat([*low, o], 1))
        if self.mode == "lstm":
            s = self.text(tokens, lengths)[1]
        elif self.mode == "bow":
            e = self.text.embed(tokens)
            s = self.sent(e.sum(1) / lengths.clamp(min=1)[:, None].to(e.dtype))
        else:
            s = self.sent(sentence_vectors)
        x = F.relu(x * (1 + self.gamma(s))[..., None, None] + self.beta(s)[..., None, None])
        return F.interpolate(self.head(x), size=(size, size), mode="bilinear", align_corners=False)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", default="data/synthref")
    ap.add_argument("--cache", default="runs/.feature-cache", help="TV-Net's feature cache root")
    ap.add_argument("--text", choices=["lstm", "bow", "minilm"], default="lstm")
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--val", type=int, default=0, help="val samples to score (0: all)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    _, tv, tables, loaders = cached_splits(args.data, args.cache)
    vectors = {}
    if args.text == "minilm":
        from tvnet.retrieval.text_encoder import TextEncoder

        enc = TextEncoder()
        for split, t in tables.items():
            vectors[split] = torch.from_numpy(enc.encode([s.sentence for s in t.samples]))
    model = PlainGrounder(tv, args.text)
    cfg = TrainConfig(lr=args.lr, batch_size=args.batch_size, steps=args.steps)
    opt = make_optimizer(model, cfg)

    def forward(split: str, idx: np.ndarray) -> torch.Tensor:
        inp = loaders[split].inputs(idx)
        inp["sentence_vectors"] = vectors[split][idx] if vectors else None
        return model(**inp)

    rng = np.random.default_rng(0)
    n, bs = len(tables["train"]), args.batch_size
    order = np.concatenate([rng.permutation(n) for _ in range(args.steps * bs // n + 1)])
    t0, ema = time.perf_counter(), None
    bar = tqdm(range(args.steps), desc=f"train ({args.text})", unit="step")
    for step in bar:
        for g in opt.param_groups:
            g["lr"] = poly_lr(step, args.steps, args.lr, 0.9)
        idx = order[step * bs : (step + 1) * bs]
        loss = tvnet_loss(forward("train", idx), [], loaders["train"].masks(idx), w_dice=1.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        bar.set_postfix(loss=f"{ema:.4f}")
    wall = time.perf_counter() - t0
    model.eval()
    n_val = args.val or len(tables["val"])
    preds, gts = [], []
    with torch.no_grad():
        for s in range(0, n_val, 16):
            idx = np.arange(s, min(s + 16, n_val))
            preds += list((forward("val", idx)[:, 0] >= 0).numpy())
            gts += list(loaders["val"].masks(idx)[:, 0].numpy() > 0.5)
    m = ris_metrics(preds, gts)
    print(
        f"text={args.text} steps={args.steps}×{bs}: val ({n_val}) oIoU {100 * m['overall_iou']:.2f} "
        f"mIoU {100 * m['mean_iou']:.2f} Prec@0.5 {100 * m['prec@0.5']:.2f} "
        f"Prec@0.9 {100 * m['prec@0.9']:.2f}; {args.steps * bs / wall:.1f} samples/s"
    )


if __name__ == "__main__":
    main()
