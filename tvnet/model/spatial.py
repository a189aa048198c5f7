"""The 8-channel spatial feature O of each grid cell (docs/design.md §2)."""

from __future__ import annotations

import torch


def spatial_features(batch: int, h: int, w: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """B×8×h×w: [xmin, ymin, xmax, ymax, xc, yc, 1/w, 1/h] with coordinates in [−1, 1]."""
    xs = torch.linspace(-1, 1, w + 1, device=device, dtype=dtype)
    ys = torch.linspace(-1, 1, h + 1, device=device, dtype=dtype)
    xmin, xmax = xs[:-1].view(1, w).expand(h, w), xs[1:].view(1, w).expand(h, w)
    ymin, ymax = ys[:-1].view(h, 1).expand(h, w), ys[1:].view(h, 1).expand(h, w)
    feats = torch.stack(
        [
            xmin,
            ymin,
            xmax,
            ymax,
            (xmin + xmax) / 2,
            (ymin + ymax) / 2,
            torch.full((h, w), 1.0 / w, device=device, dtype=dtype),
            torch.full((h, w), 1.0 / h, device=device, dtype=dtype),
        ]
    )
    return feats.unsqueeze(0).expand(batch, -1, -1, -1)
