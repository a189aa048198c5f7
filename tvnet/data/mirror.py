"""The expression for the mirror image (docs/design.md §7, "Mirror averaging").

An image flipped left to right shows the same scene with left and right exchanged, so the
same referent is described by the expression with its horizontal words swapped: "the star
left of the leftmost circle" becomes "the star right of the rightmost circle". SynthRef's
expressions have no other horizontal words; RefCOCO's "left"/"right" forms are these too.
The swap is its own inverse. Words that merely contain one ("leftover", "bright") are
whole words of their own and are kept.
"""

from __future__ import annotations

import re

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
