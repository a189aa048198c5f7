"""The SynthRef vocabulary: shapes, colours, textures, sizes, and the words for each
(docs/design.md §4).

Every word an expression can use for an object attribute comes from these tables; the phrase
templates (relations, extremes, ordinals, absolute positions) live in
:mod:`tvnet.data.synthref.grammar`.
"""

from __future__ import annotations

SHAPES = (
    "circle",
    "square",
    "triangle",
    "star",
    "ring",
    "cross",
    "diamond",
    "hexagon",
    "heart",
    "crescent",
)
SHAPE_WORDS: dict[str, tuple[str, ...]] = {
    "circle": ("circle", "disc", "disk"),
    "square": ("square", "box"),
    "triangle": ("triangle",),
    "star": ("star",),
    "ring": ("ring", "donut", "hoop"),
    "cross": ("cross", "plus sign"),
    "diamond": ("diamond", "rhombus"),
    "hexagon": ("hexagon",),
    "heart": ("heart",),
    "crescent": ("crescent", "moon"),
}
GENERIC_NOUNS = ("shape", "object", "thing", "one")

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 35, 35),
    "orange": (245, 135, 20),
    "yellow": (245, 215, 35),
    "green": (40, 165, 55),
    "blue": (35, 85, 220),
    "purple": (135, 50, 185),
    "pink": (245, 125, 195),
    "white": (245, 245, 245),
}
COLOUR_WORDS: dict[str, tuple[str, ...]] = {
    "red": ("red",),
    "orange": ("orange",),
    "yellow": ("yellow",),
    "green": ("green",),
    "blue": ("blue",),
    "purple": ("purple", "violet"),
    "pink": ("pink",),
    "white": ("white",),
}
TEXTURES = ("plain", "striped", "dotted", "checkered")
TEXTURE_ADJ: dict[str, tuple[str, ...]] = {
    "plain": ("plain", "solid"),
    "striped": ("striped", "stripy"),
    "dotted": ("dotted", "spotted"),
    "checkered": ("checkered", "chequered", "checked"),
}
TEXTURE_PP: dict[str, tuple[str, ...]] = {
    "striped": ("with stripes",),
    "dotted": ("with dots", "with spots", "with polka dots"),
    "checkered": ("with checks", "with a checkered pattern"),
}
SIZE_ADJ = {"small": ("small", "little"), "big": ("big", "large")}

# Words that locate an object in the image; an expression without any is "no-location" (as
# RefCOCO+). Used by :func:`synth_stats` on the written text.
LOCATION_WORDS = frozenset(
    (
        "left right top bottom above below over under beneath underneath upper lower middle "
        "center centre leftmost rightmost topmost bottommost highest lowest uppermost "
        "lowermost far furthest second third side corner most"
    ).split()
)
