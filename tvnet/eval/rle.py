"""COCO run-length encoding of boolean masks (pycocotools), the mask format of a dump.

Its own module so that the metrics (which encode masks while streaming into a dump) and the
dump format (which decodes them) both use it without importing each other; no torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["encode_rle", "decode_rle"]


def encode_rle(mask: Any) -> tuple[str, int, int]:
    """COCO RLE of an H×W boolean mask: (counts string, H, W)."""
    from pycocotools import mask as mask_utils

    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"mask must be 2-D (H×W), got shape {m.shape}")
    rle = mask_utils.encode(np.asfortranarray(m.astype(np.uint8, copy=False)))
    h, w = (int(v) for v in rle["size"])
    return rle["counts"].decode("ascii"), h, w


def decode_rle(counts: str | bytes, height: int, width: int) -> np.ndarray:
    """The H×W boolean mask of a COCO RLE counts string. ValueError when the string is not an
    RLE of an H×W mask (a damaged dump, a row of another size): the decoded mask must encode
    back to the same string, which pycocotools' canonical encoding (every dump's) always does,
    at about the cost of the decoding."""
    from pycocotools import mask as mask_utils

    if isinstance(counts, str):
        try:
            counts = counts.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError("an RLE counts string is ASCII") from None
    if not isinstance(counts, bytes):
        raise ValueError(f"an RLE counts string, not {type(counts).__name__}")
    try:
        mask = mask_utils.decode({"size": [int(height), int(width)], "counts": counts})
    except Exception as e:  # pycocotools raises plain Exceptions for a damaged string
        raise ValueError(f"not an RLE of a {height}×{width} mask: {e}") from e
    mask = mask.astype(bool)
    if mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))["counts"] != counts:
        raise ValueError(f"the RLE counts string does not describe a {height}×{width} mask")
    return mask
