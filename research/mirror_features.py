"""How close is a flipped feature map to the features of the flipped image? (train.mirror)

    python research/mirror_features.py [--data data/synthref] [--split val] [--n 32] [--no-amp]

Flipping a sample's cached backbone maps would make ``train.mirror`` free on the cached path;
it was the option's first version. A CNN whose kernels are not mirror-symmetric gives other
features for the flipped image, so a flipped map is only an approximation, and this measures
how far it is: ``train.mirror`` now computes the flipped image's features instead
(docs/design.md §6, "Mirror training"). For the first ``n`` images of a split this runs the
`cpu` preset's frozen backbone (EfficientNet-Lite0) on each letterboxed image and on its
mirror, and prints per level the mean cosine similarity over channels (per cell) and the
relative L2 distance between the flipped map and the flipped image's (each image's
letterboxed content flipped, its padding kept, as train.mirror does), with the cosine between
two different images' maps as the scale.
Seconds on 2 cores.
"""

from __future__ import annotations

import argparse

import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/synthref")
    ap.add_argument("--split", default="val")
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--no-amp", action="store_true", help="fp32 instead of bf16 autocast")
    args = ap.parse_args()

    from tvnet import build_model
    from tvnet.amp import autocast_context, cpu_bf16_supported
    from tvnet.data.mirror import flip_content
    from tvnet.data.refer import open_refer
    from tvnet.data.transforms import Letterbox, load_letterboxed
    from tvnet.record import processor

    refer = open_refer(args.data)
    model = build_model("cpu", "baseline")
    size = model.cfg.input_size
    ids = [int(i) for i in refer.image_ids(args.split)][: args.n]
    x = torch.stack([load_letterboxed(refer, i, size) for i in ids])
    lbs = [Letterbox.for_shape(*refer.image_size(i), size) for i in ids]
    boxes = [(lb.new_h, lb.new_w) for lb in lbs]
    amp = not args.no_amp and cpu_bf16_supported()
    with torch.no_grad(), autocast_context("cpu", amp):
        direct = model.backbone.extract(x)
        mirror = model.backbone.extract(flip_content(x, boxes))  # the padding kept
    print(
        f"{processor('cpu')}; {'bf16 autocast' if amp else 'fp32'}; {len(ids)} {args.split} images"
    )
    print("level  shape          cos(flip F(x), F(flip x))  rel. L2   cos(two images)")
    for lvl, (a, b) in enumerate(zip(direct, mirror)):
        a, b = a.float(), b.float()
        flipped = flip_content(a, boxes, size)  # as train.mirror flips a cached map
        cos = torch.nn.functional.cosine_similarity(flipped, b, dim=1).mean().item()
        rel = ((flipped - b).norm() / b.norm()).item()
        other = torch.nn.functional.cosine_similarity(a, a.roll(1, 0), dim=1).mean().item()
        shape = "×".join(map(str, a.shape[1:]))
        print(f"V{lvl + 2}     {shape:<14} {cos:>25.3f}  {rel:>8.3f}  {other:>15.3f}")


if __name__ == "__main__":
    main()
