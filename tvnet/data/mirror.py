"""The mirror image (docs/design.md §7, "Mirror averaging"; §6, "Mirror training"): the
expression that describes it, and a letterboxed image's content (or a map over it) flipped.

An image flipped left to right shows the same scene with left and right exchanged, so the
same referent is described by the expression with its horizontal words swapped: "the star
left of the leftmost circle" becomes "the star right of the rightmost circle", "the lefthand
one" "the righthand one". SynthRef's expressions have no other horizontal words; RefCOCO's
"left"/"right" forms are these too, but for abbreviations ("lft", "rt"), which are kept.
The swap is its own inverse. Words that merely contain one ("leftover", "bright") are
whole words of their own and are kept.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

# "left"/"right" and their closed compounds ("lefthand", "leftward"); a hyphen ends a word
# ("left-hand" swaps its "left")
_ENDS = ("", "most", "hand", "side", "ward", "wards", "est")
HORIZONTAL = {
    f"{a}{end}": f"{b}{end}" for end in _ENDS for a, b in (("left", "right"), ("right", "left"))
}
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
    """``x`` (a B×C×H×W torch tensor or numpy array over letterboxed images) with each image's
    content, its top-left ``boxes[b]`` = (height, width) at the letterbox size ``size``
    (default: ``x``'s own height, an image or a map at the input size), mirrored left to right;
    the padding stays where the letterbox puts it.

    At the input size the content's columns are reversed exactly (images, masks, probability
    maps). A coarser map (a backbone level of a ``size``² input, whose cells are ``size / W``
    pixels wide) holds a content width that need not be a whole number of cells: cell j,
    centred at pixel x_j, takes the value at the mirrored pixel ``width − x_j``, linearly
    interpolated between the two cells around it (the edge cell where that falls before the
    first centre), so that the map stays aligned with the mirrored mask; where the width is a
    whole number of cells this is the exact reversal too. Training does not flip feature maps
    (a flipped map is far from the flipped image's features: research/mirror_features.py)."""
    size = size or x.shape[-2]
    h_cells, w_cells = x.shape[-2], x.shape[-1]
    out = x.clone() if hasattr(x, "clone") else x.copy()
    for b, (h, w) in enumerate(boxes):
        hh = math.ceil(h * h_cells / size)
        width = w * w_cells / size  # the content's width in cells
        ww = math.ceil(width)
        src = [max(width - 1 - j, 0.0) for j in range(ww)]  # mirrored centres, in cells
        i0 = [math.floor(c) for c in src]
        i1 = [min(i + 1, ww - 1) for i in i0]
        xb, ob = x[b], out[b]  # C×H×W views: one advanced index below keeps the axes' order
        if width == ww:  # whole cells (every map at the input size): the columns reversed
            ob[:, :hh, :ww] = xb[:, :hh, i0]
            continue
        f = [c - i for c, i in zip(src, i0)]
        f = x.new_tensor(f) if hasattr(x, "new_tensor") else np.asarray(f, dtype=x.dtype)
        ob[:, :hh, :ww] = xb[:, :hh, i0] * (1 - f) + xb[:, :hh, i1] * f
    return out
