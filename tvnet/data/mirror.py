"""The mirror image (docs/design.md §7, "Mirror averaging"; §6, "Mirror training"): the
expression that describes it, and a letterboxed image's content (or a map over it) flipped.

An image flipped left to right shows the same scene with left and right exchanged, so the
same referent is described by the expression with its horizontal words swapped: "the star
left of the leftmost circle" becomes "the star right of the rightmost circle". SynthRef's
expressions have no other horizontal words; RefCOCO's "left"/"right" forms are these too.
The swap is its own inverse. Words that merely contain one ("leftover", "bright") are
whole words of their own and are kept.
"""

from __future__ import annotations

import math
import re
from typing import Any

HORIZONTAL = {"left": "right", "right": "left", "leftmost": "rightmost", "rightmost": "leftmost"}
_WORD = re.compile(r"(?<![A-Za-z])(" + "|".join(HORIZONTAL) + r")(?![A-Za-z])", re.IGNORECASE)


def mirrored(expression: str) -> str:
    """``expression`` as it describes the image flipped left to right (capitalised and
    upper-case words kept so)."""

    def swap(m: re.Match[str]) -> str:
        word = m.group(1)
        other = HORIZONTAL[word.lower()]
        if word.isupper() and len(word) > 1:
            return other.upper()
        return other.capitalize() if word[0].isupper() else other

    return _WORD.sub(swap, expression)


def flip_content(x: Any, boxes: list[tuple[int, int]], size: int | None = None) -> Any:
    """``x`` (a B×C×H×W tensor over letterboxed images) with each image's content, its
    top-left ``boxes[b]`` = (height, width) at the letterbox size ``size`` (default: ``x``'s
    own height, an image or a map at the input size), flipped left to right; the padding stays
    where the letterbox puts it. A coarser map (a backbone level of a ``size``² input) flips
    the cells that hold any content, a partly padded cell with them."""
    size = size or x.shape[-2]
    out = x.clone()
    for b, (h, w) in enumerate(boxes):
        hh = math.ceil(h * x.shape[-2] / size)
        ww = math.ceil(w * x.shape[-1] / size)
        out[b, :, :hh, :ww] = x[b, :, :hh, :ww].flip(-1)
    return out
