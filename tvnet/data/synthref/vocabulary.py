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

# The WordNet 3.0 senses in which SynthRef uses its words: those that say how a thing looks or
# where it lies ("n1": the word's first noun sense in WordNet's own listing, "a2": its second
# adjective sense, satellites included). A word the lexicon reads into one of these words must
# reach it through one of these senses, so that "remaining" (left, a2: "not used up") is not
# read as "left" nor "fair" as "just" (tvnet.data.lexicon, docs/design.md §6, "Wording").
# Decided word by word from WordNet's glosses: the senses that name the shape, colour,
# texture, size or place, or a physical thing that has the shape or colour by name (the
# organ for "heart", the gem for "diamond", leafy greens); not people, places elsewhere,
# feelings, events or other abstractions. "" = no sense of the word is SynthRef's (a function
# word there: "over", "just"). Words not listed are not restricted.
WORD_SENSES: dict[str, str] = {
    # shapes
    "circle": "n1 n3 n8",  # not a set of people, a lap, a roundabout, a drug, theatre seats
    "disc": "n1 n2 n4",  # a flat circular plate, a record; not a computer's magnetic disk
    "disk": "n1 n2 n3",
    "square": "n1 n4 n7 a1",  # not the second power, a town square, a person, "honest"
    "box": "n1 n5",  # a container, a rectangular drawing; not a predicament, a blow, a seat
    "triangle": "n1 n2 n4 n5",  # not the constellation
    "star": "n1 n3 n5 n7",  # a star in the sky, the figure, the asterisk; not a celebrity
    "ring": "n2 n3 n8 n9",  # a toroid, a hoop, a band; not a sound, a gang, a boxing ring
    "donut": "n1",
    "hoop": "n1 n2 n4",  # not croquet's arch
    "cross": "n1 n2 n3",  # not an affliction, a hybrid, crossbreeding, "grumpy"
    "sign": "n11",  # of "plus sign": a character between quantities
    "plus": "",  # an asset, an addition: SynthRef's "plus" is the sign's shape
    "diamond": "n1 n3",  # the cut gem, the rhombus; not carbon, a playing card, a ball field
    "rhombus": "n1",
    "hexagon": "n1",
    "heart": "n2 n7",  # the organ, the figure; not feelings, courage, the centre, a card
    "crescent": "n1 a1",
    "moon": "n1 n2 n6",  # a moon; not a month, moonlight, a person
    # generic nouns
    "shape": "n1 n2 n5 n8",  # not a body or a build, an embodiment, health, SHAPE
    "object": "n1 n2",  # a physical object, a target (the thing meant); not a grammatical one
    "thing": "n4 n8 n12",  # an artifact or entity; not a situation, an action, a feeling
    "one": "n2",  # a single thing; not the numeral
    # colours
    "red": "n1 a1",  # not a Bolshevik, a loss, "violent", "flushed"
    "orange": "n1 n2 n4 a1",  # the fruit, the colour; not the tree, the river
    "yellow": "n1 a1 a3",  # not "cowardly", "sensational", "jaundiced"
    "green": "n1 n7 a1",  # also leafy greens; not a park, a politician, "unripe", "gullible"
    "blue": "n1 a1",  # not clothing, the sky, a drug, "gloomy", "risque"
    "purple": "n1 a1",  # not imperial status, "over-embellished"
    "violet": "n2 a1",  # the colour; not the flower
    "pink": "n1 a1",  # not the flower, a leftist
    "white": "n2 a1 a4 a6 a10",  # the colour; not a person, blank, benevolent, coffee
    # textures
    "plain": "a2 a3 a6",  # unpatterned, unornamented; not a field, "evident", "homely"
    "solid": "a14",  # of one colour; not matter, a three-dimensional shape, "sound"
    "striped": "a1",
    "stripy": "a1",
    "stripes": "n1",  # WordNet's only one, a chevron; it carries "stripe", the singular
    "dotted": "a1",  # not "dashed"
    "spotted": "a1",
    "spots": "",  # floaters before the eyes
    "polka": "",  # the dance and its music
    "checked": "a1",
    "checkered": "a1",  # not "of changeable fortune"
    "chequered": "a1",
    "pattern": "n1 n3",  # a structure, a design; not a practice, a rule, a blueprint
    # sizes
    "small": "a1 a2 a9",  # not young, humble, lowercase, faint, belittled
    "little": "a1 a6",  # not young, petty, lowercase, faint
    "big": "a1",  # not significant, loud, boastful, generous, pregnant
    "large": "a1",  # not a garment size, bombastic, generous, pregnant
    # locations
    "left": "n1 a1",  # not the political left, the left hand, left field, "remaining"
    "right": "n2 a1",  # not an entitlement, the political right, "correct", "exact", "proper"
    "top": "n1 n2 n3 a1",  # not a spinning top, a lid, a garment, the acme
    "bottom": "n2 a1",  # the lowest part; not an underside, buttocks, a river bed, a ship
    "upper": "a1 a2",  # not a berth, a shoe's upper, an amphetamine, "superior"
    "lower": "",  # WordNet's noun is a berth
    "middle": "n1 n2 a1 a2",  # not the midriff, time between, Middle English
    "center": "n1 n4 a1",  # not a building, the core of an idea, a player, the moderates
    "centre": "n2 n3",
    "corner": "n1 n2 n3 n5 n9",  # not a street corner, a niche, a monopoly, a predicament
    "side": "n1 a1",  # a place relative to a centre; not a team, a face, an aspect, a slope
    "under": "a1",  # not "lower in rank"
    "far": "a1 a2",
    "second": "n5 a1",  # the ordinal; not the time unit, second base, a duel's attendant
    "third": "n3 a1",  # not a fraction, third base, the musical interval
    "lowest": "",  # WordNet's is "last in rank"
    "most": "",
    "over": "",  # finished; cricket
    "above": "",  # earlier in a text
    "just": "",  # fair
    "very": "",  # precisely, the same one
}
