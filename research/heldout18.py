"""An eighteenth held-out word list, written blind on 2026-12-06 (seventh session).

Written from everyday English by a helper who read only ``tvnet/data/synthref/vocabulary.py``
and no earlier list, imagining a fashion blogger, a home-decor shop listing, a crossword fan, a
farmer, a gamer, a nurse, a ten-year-old and an American from the Midwest describing one flat
coloured shape in a picture.
Each replacement swaps one generator word inside an expression and keeps the referent; no
replacement contains, as a whole word or hyphen-separated part, any word the generator emits.

Left out: "violet" (its stand-ins would repeat purple's or drift towards pink or blue), "disk"
(a spelling of "disc", whose key covers it), "rhombus" and "moon" (their stand-ins would repeat
those of "diamond" and "crescent"), "plus sign" (two words; "cross" covers the shape), the
nouns of the texture phrases ("stripes", "dots", "spots", "polka", "checks", "pattern": the
adjective keys cover those textures), and the generic nouns ("shape", "object", "thing",
"one"), which name no attribute.
"""

HELDOUT18: dict[str, tuple[str, ...]] = {
    # colours
    "red": ("crimson", "scarlet", "cherry", "ruby", "vermilion"),
    "orange": ("tangerine", "pumpkin", "carrot", "clementine", "mandarin"),
    "yellow": ("lemon", "canary", "golden", "buttercup", "daffodil"),
    "green": ("emerald", "grassy", "leafy", "shamrock", "jade"),
    "blue": ("cobalt", "sapphire", "azure", "cerulean", "ultramarine"),
    "purple": ("plum", "grape", "amethyst", "eggplant", "aubergine"),
    "pink": ("rosy", "bubblegum", "flamingo", "blush", "cotton-candy"),
    "white": ("snowy", "ivory", "milky", "chalky", "pearly"),
    # sizes
    "small": ("tiny", "wee", "petite", "pint-sized", "miniature"),
    "little": ("teeny", "itty-bitty", "diminutive", "minuscule", "bite-sized"),
    "big": ("huge", "giant", "jumbo", "hefty", "king-sized"),
    "large": ("enormous", "massive", "mammoth", "ginormous", "oversized"),
    # textures
    "plain": ("unpatterned", "unadorned", "untextured", "unmarked", "featureless"),
    "solid": ("uniform", "monotone", "single-hued", "flat-toned"),
    "striped": ("banded", "barred", "streaked", "seersucker"),
    "stripy": ("streaky", "zebra", "barcode"),
    "dotted": ("speckled", "flecked", "stippled", "dappled", "dalmatian"),
    "spotted": ("freckled", "leopard", "ladybug", "confetti"),
    "checkered": ("plaid", "gingham", "tartan", "windowpane", "madras"),
    "checked": ("houndstooth", "chessboard", "tattersall"),
    "chequered": ("draughtboard", "gridded"),
    # shapes
    "circle": ("roundel", "orb", "ball", "coin", "wheel"),
    "disc": ("puck", "saucer", "plate", "pancake", "frisbee"),
    "square": ("block", "tile", "cube", "quadrate"),
    "box": ("crate", "carton", "parcel"),
    "triangle": ("wedge", "pyramid", "delta", "arrowhead", "pennant"),
    "star": ("pentagram", "pentacle", "asterisk", "five-pointer", "sheriff-badge"),
    "ring": ("loop", "halo", "torus", "lifebuoy", "washer"),
    "hoop": ("bangle", "bracelet", "wreath"),
    "donut": ("bagel", "cheerio", "lifesaver"),
    "cross": ("crucifix", "rood", "cruciform", "d-pad"),
    "diamond": ("lozenge", "kite", "gem", "jewel"),
    "hexagon": ("hex", "honeycomb", "six-sider", "nut"),
    "heart": ("valentine", "love-symbol", "cordate"),
    "crescent": ("sickle", "croissant", "lune"),
}
