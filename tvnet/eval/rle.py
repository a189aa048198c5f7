"""COCO run-length encoding of boolean masks (pycocotools), the mask format of a dump.

Its own module so that the metrics (which encode masks while streaming into a dump) and the
dump format (which decodes them) both use it without importing each other; no torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["encode_rle", "decode_rle", "run_lengths"]


def encode_rle(mask: Any) -> tuple[str, int, int]:
    """COCO RLE of an H×W boolean mask: (counts string, H, W)."""
    from pycocotools import mask as mask_utils

    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"mask must be 2-D (H×W), got shape {m.shape}")
    rle = mask_utils.encode(np.asfortranarray(m.astype(np.uint8, copy=False)))
    h, w = (int(v) for v in rle["size"])
    return rle["counts"].decode("ascii"), h, w


def run_lengths(counts: str | bytes) -> list[int]:
    """The run lengths of a COCO compressed counts string (pycocotools' rleFrString, in Python:
    6-bit groups from ASCII 48, 5 payload bits each, a continuation bit, a sign bit at the end
    of a value, and every run after the second stored as the difference to the run two before).
    ValueError for a string that is not one."""
    if isinstance(counts, str):
        try:
            counts = counts.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError("an RLE counts string is ASCII") from None
    if not isinstance(counts, bytes):
        raise ValueError(f"an RLE counts string, not {type(counts).__name__}")
    runs: list[int] = []
    p = 0
    while p < len(counts):
        x = k = 0
        more = True
        while more:
            if p >= len(counts):
                raise ValueError("RLE counts string ends inside a value")
            c = counts[p] - 48
            if not 0 <= c < 64:
                raise ValueError(f"RLE counts string has a stray character {chr(counts[p])!r}")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(runs) > 2:
            x += runs[-2]
        runs.append(x)
    return runs


def decode_rle(counts: str | bytes, height: int, width: int) -> np.ndarray:
    """The H×W boolean mask of a COCO RLE counts string. ValueError when the string is not an
    RLE or its runs do not cover exactly H×W pixels (a row of another size, a damaged dump)."""
    from pycocotools import mask as mask_utils

    runs = run_lengths(counts)
    if any(r < 0 for r in runs) or sum(runs) != int(height) * int(width):
        raise ValueError(
            f"RLE counts cover {sum(runs)} pixels in {len(runs)} runs, not {height}×{width}"
        )
    if isinstance(counts, str):
        counts = counts.encode("ascii")
    rle = {"size": [int(height), int(width)], "counts": counts}
    return mask_utils.decode(rle).astype(bool)
