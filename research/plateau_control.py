"""A control for the grounding plateau: the simplest model that can ground an expression.

Frozen V3–V5 features (the same cache and normalisation TV-Net reads) and the 8-d spatial
feature go through a 1×1 MLP; the expression is the mean of its (GloVe-initialised, trained)
word vectors; logit = Conv3×3(ReLU(visual ⊙ Linear(words))) on the 40×40 grid. No LSTM, no
gate, no ConvLSTM, no AMF. If this model sits on the same loss plateau for as many samples as
TV-Net does, the plateau comes from the training signal, not from TV-Net's language path.
``--dice`` adds soft Dice (tvnet.model.head.dice_loss) to the BCE, as the ``cpu`` recipe does:
pixel-mean BCE weighs a sample by its referent's pixels, so small referents barely train, and
Dice weighs every sample alike. Prints the training loss (EMA, on the 40×40 grid) and val oIoU
at 320².

    python research/plateau_control.py --data data/synthref --cache runs/.feature-cache [--steps 1000] [--dice]

On this project's 2-core machine (batch 16, Adam 1e-3 constant, --threads 2), BCE alone: loss
0.158, 0.148, 0.149, 0.145, 0.143 at steps 100–500 and val oIoU 0.000 throughout (8000
samples) — the same plateau and the same slow exit as TV-Net's baseline under BCE. With
``--dice`` (same seed and order): loss 0.916, 0.890, 0.876, 0.863, 0.811 and val oIoU 0.196,
0.215, 0.238, 0.217, 0.286 at steps 100–500: no plateau.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from cached_data import cached_splits
from torch import nn

from tvnet.eval.metrics import ris_metrics
from tvnet.model.head import dice_loss
from tvnet.model.spatial import spatial_features


class BagOfWordsGrounder(nn.Module):
    def __init__(self, embed: nn.Embedding, c_vis: int, d: int = 128):
        super().__init__()
        self.embed = nn.Embedding.from_pretrained(embed.weight.detach().clone(), freeze=False)
        self.vis = nn.Sequential(nn.Conv2d(c_vis + 8, 2 * d, 1), nn.ReLU(), nn.Conv2d(2 * d, d, 1))
        self.txt = nn.Linear(embed.embedding_dim, d)
        self.out = nn.Conv2d(d, 1, 3, padding=1)

    def forward(self, tokens: torch.Tensor, low: list[torch.Tensor]) -> torch.Tensor:
        B, _, h, w = low[0].shape
        v = self.vis(torch.cat([*low, spatial_features(B, h, w)], dim=1))
        valid = (tokens > 0).float()[..., None]
        words = (self.embed(tokens) * valid).sum(1) / valid.sum(1).clamp(min=1)
        return self.out(torch.relu(v * self.txt(words)[:, :, None, None]))


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", default="data/synthref")
    ap.add_argument("--cache", default="runs/.feature-cache", help="TV-Net's feature cache root")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--val", type=int, default=200, help="val samples for oIoU")
    ap.add_argument("--dice", action="store_true", help="BCE + soft Dice instead of BCE alone")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    _, tv, tables, loaders = cached_splits(args.data, args.cache)  # GloVe rows, frozen backbone
    grid = tv.backbone.grid  # the 40×40 low-resolution grid
    model = BagOfWordsGrounder(tv.text.embed, sum(tv.backbone.channels[1:]))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)

    def logits(split: str, idx) -> tuple[torch.Tensor, torch.Tensor]:
        inp = loaders[split].inputs(idx)
        _, low = tv.backbone.align(inp["feats"], grid)
        return model(inp["tokens"], low), loaders[split].masks(idx)

    rng = np.random.default_rng(0)
    n = len(tables["train"])
    order = np.concatenate([rng.permutation(n) for _ in range(args.steps * args.batch // n + 1)])
    ema, t0 = None, time.perf_counter()
    for step in range(args.steps):
        lg, mask = logits("train", order[step * args.batch : (step + 1) * args.batch])
        target = F.adaptive_avg_pool2d(mask, grid)
        loss = F.binary_cross_entropy_with_logits(lg, target)
        if args.dice:
            loss = loss + dice_loss(lg, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        ema = loss.item() if ema is None else 0.95 * ema + 0.05 * loss.item()
        if (step + 1) % 100 == 0:
            preds, gts = [], []
            with torch.no_grad():
                for s in range(0, args.val, 50):
                    lg, gt = logits("val", np.arange(s, min(s + 50, args.val)))
                    preds += list(F.interpolate(lg, size=gt.shape[-2:], mode="bilinear")[:, 0] > 0)
                    gts += list(gt[:, 0] > 0.5)
            val = ris_metrics((p.numpy() for p in preds), (g.numpy() for g in gts))
            print(
                f"step {step + 1}  samples {(step + 1) * args.batch}  loss {ema:.4f}  "
                f"val oIoU {val['overall_iou']:.3f}  {time.perf_counter() - t0:.0f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
