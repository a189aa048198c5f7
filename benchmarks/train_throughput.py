"""Training throughput (samples/s) of every variant of the cpu preset from cached features.

    python benchmarks/train_throughput.py [--batch 16] [--steps 5] [--threads 2] [--no-amp]

Random features of the right shapes stand in for the cache (the cost is the trainable part);
one step = forward + loss + backward + Adam. The wall time of real runs is in runs/*/log.jsonl.
"""

from __future__ import annotations

import argparse
import time

import torch

from tvnet import build_model
from tvnet.amp import autocast_context
from tvnet.config import VARIANTS
from tvnet.data.tokenize import Vocab
from tvnet.model.head import tvnet_loss


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-amp", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    vocab = Vocab(["<pad>", "<unk>"] + [f"w{i}" for i in range(100)])
    print(f"batch={args.batch} threads={args.threads} amp={not args.no_amp}")
    for v in VARIANTS:
        m = build_model("cpu", v, vocab=vocab, pretrained=False).train()
        opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], 1e-3)
        B = args.batch
        with torch.no_grad():
            feats = m.backbone.extract(torch.randn(B, 3, 320, 320))
            ref = [f.flip(0) for f in feats]
        tok = torch.randint(2, 100, (B, 20))
        ln = torch.full((B,), 6)
        mask = (torch.rand(B, 1, 320, 320) > 0.7).float()
        for i in range(args.steps + 1):
            if i == 1:
                t = time.perf_counter()
            with autocast_context("cpu", not args.no_amp):
                out = m(tok, ln, feats=feats, ref_feats=ref)
            loss = tvnet_loss(out.logits.float(), [a.float() for a in out.aux_logits], mask)
            opt.zero_grad()
            loss.backward()
            opt.step()
        dt = (time.perf_counter() - t) / args.steps
        print(f"  {v:9s} {B / dt:6.1f} samples/s  ({dt * 1000:.0f} ms/step)")


if __name__ == "__main__":
    main()
