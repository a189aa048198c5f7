"""A fifteenth held-out word list, written blind on 2026-12-06 (sixth session).

Written from everyday English by a helper who read only ``tvnet/data/synthref/vocabulary.py``
and no earlier list, thinking of different speakers (a child, an adult who is not a designer,
someone who uses loose everyday words, someone who names a shade). Each replacement swaps one
generator word inside an expression and keeps the referent; no replacement contains, as a
whole word or hyphen-separated part, any word the generator emits.

Keys left out: ``polka`` (only emitted inside "with polka dots"; no single everyday word
stands in for it alone and keeps the referent, and "with dots" is already emitted), the
function words ``with`` and ``a`` (not shape, colour, size or texture words), and the
location words (skipped by design).
"""

HELDOUT15: dict[str, tuple[str, ...]] = {
    # colours
    "red": ("scarlet", "crimson", "cherry-coloured", "ruby"),
    "orange": ("tangerine", "carrot-coloured", "pumpkin-coloured"),
    "yellow": ("lemon", "golden", "canary", "banana-coloured"),
    "green": ("emerald", "grass-coloured", "leafy"),
    "blue": ("cobalt", "sapphire", "azure", "navy"),
    "purple": ("plum", "grape-coloured", "amethyst", "lilac"),
    "violet": ("lavender", "mauve", "plum"),
    "pink": ("rosy", "fuchsia", "bubblegum", "rose-coloured"),
    "white": ("snowy", "ivory", "milky", "chalky"),
    # sizes
    "small": ("tiny", "wee", "teeny", "mini"),
    "little": ("tiny", "teeny", "petite", "miniature"),
    "big": ("huge", "giant", "massive", "sizable"),
    "large": ("enormous", "giant", "sizeable", "jumbo"),
    # textures
    "plain": ("unpatterned", "uniform", "flat", "single-coloured"),
    "solid": ("uniform", "filled-in", "block-coloured"),
    "striped": ("lined", "banded", "stripey", "streaky"),
    "stripy": ("stripey", "lined", "banded"),
    "stripes": ("lines", "bands", "streaks", "bars"),
    "dotted": ("spotty", "speckled", "dappled"),
    "spotted": ("spotty", "speckled", "flecked"),
    "dots": ("specks", "flecks", "blobs", "speckles"),
    "spots": ("blotches", "specks", "splotches", "speckles"),
    "checkered": ("checkerboard", "plaid", "gingham", "grid-patterned"),
    "chequered": ("chequerboard", "tartan", "gridded"),
    "checked": ("plaid", "gingham", "grid-like"),
    "checks": ("plaid", "tartan", "gingham", "checkerboard"),
    "pattern": ("design", "print", "motif"),
    # shapes
    "circle": ("ball", "orb", "round", "coin"),
    "disc": ("coin", "puck", "plate"),
    "disk": ("coin", "puck", "saucer"),
    "square": ("block", "tile", "rectangle", "cube"),
    "box": ("block", "rectangle", "tile"),
    "triangle": ("pyramid", "wedge", "three-sided figure"),
    "star": ("asterisk", "pentagram", "five-pointed figure"),
    "ring": ("loop", "halo", "bagel", "band"),
    "donut": ("doughnut", "bagel", "tyre"),
    "hoop": ("loop", "halo", "bangle"),
    "cross": ("addition symbol", "cruciform", "x"),
    "plus": ("addition", "positive", "add"),
    "sign": ("symbol", "mark", "icon"),
    "diamond": ("lozenge", "kite", "rhomboid"),
    "rhombus": ("lozenge", "rhomboid", "parallelogram"),
    "hexagon": ("six-sided figure", "honeycomb cell", "hex"),
    "heart": ("valentine", "love symbol"),
    "crescent": ("sickle", "croissant", "arc"),
    "moon": ("sickle", "lunar symbol", "croissant"),
    # generic nouns
    "shape": ("figure", "form", "symbol", "icon"),
    "object": ("item", "figure", "piece", "element"),
    "thing": ("item", "thingy", "piece", "whatsit"),
    "one": ("item", "figure", "piece"),
}
