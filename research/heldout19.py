"""A nineteenth held-out word list, written blind on 2026-12-06 (seventh session).

Written from everyday English by a helper who read only ``tvnet/data/synthref/vocabulary.py``
and no earlier list, imagining a birdwatcher, a baker, a carpenter, a librarian, a surfer, a
retired sailor, a teenager texting and someone from India writing in English describing one
flat coloured shape in a picture.
Each replacement swaps one generator word inside an expression and keeps the referent; no
replacement contains, as a whole word or hyphen-separated part, any word the generator emits.

Left out: none of the 24 attribute keys (8 colours, 2 sizes, 4 textures, 10 shapes); the
generator's other spellings and synonyms ("violet", "large", "little", "solid", "spotted",
"stripy", "checked", "chequered", "disc", "box", "hoop", "rhombus", ...) get no keys of their
own, since their replacements are those of the key they name. "cross" and "heart" have only
two replacements each: English has few single words for a plus-shaped cross or a heart shape
that do not reuse a generator word ("plus", "sign", "heart"). Near-spellings of generator
words ("doughnut", "rhomb", "reddish", "spotty", "checkerboard") are left out on purpose.
"""

HELDOUT19: dict[str, tuple[str, ...]] = {
    # colours
    "red": ("scarlet", "crimson", "ruby", "cherry", "vermilion", "tomato", "cardinal", "poppy"),
    "orange": (
        "tangerine",
        "saffron",
        "pumpkin",
        "carrot",
        "apricot",
        "marmalade",
        "clementine",
        "ginger",
    ),
    "yellow": (
        "lemon",
        "canary",
        "mustard",
        "golden",
        "buttercup",
        "daffodil",
        "custard",
        "sunflower",
    ),
    "green": ("emerald", "jade", "grassy", "leafy", "lime", "verdant", "mossy", "fern"),
    "blue": (
        "cobalt",
        "sapphire",
        "azure",
        "navy",
        "ultramarine",
        "cerulean",
        "lapis",
        "cornflower",
    ),
    "purple": ("plum", "amethyst", "lavender", "lilac", "aubergine", "eggplant", "mulberry"),
    "pink": ("flamingo", "bubblegum", "fuchsia", "rosy", "candyfloss", "blush"),
    "white": ("snowy", "milky", "chalky", "ivory", "pearly", "alabaster", "porcelain"),
    # sizes
    "small": (
        "tiny",
        "teeny",
        "wee",
        "mini",
        "pint-sized",
        "diminutive",
        "minuscule",
        "titchy",
        "miniature",
    ),
    "big": (
        "huge",
        "giant",
        "massive",
        "jumbo",
        "whopping",
        "enormous",
        "mega",
        "hulking",
        "colossal",
    ),
    # textures
    "plain": (
        "unadorned",
        "undecorated",
        "unmarked",
        "unembellished",
        "featureless",
        "uniform",
        "unornamented",
    ),
    "striped": (
        "banded",
        "barred",
        "streaky",
        "zebra-print",
        "tiger-print",
        "seersucker",
        "ruled",
        "corduroy",
    ),
    "dotted": (
        "speckled",
        "freckled",
        "flecked",
        "stippled",
        "dalmatian",
        "leopard-print",
        "dappled",
        "sprinkled",
    ),
    "checkered": (
        "gingham",
        "chessboard",
        "draughtboard",
        "plaid",
        "tartan",
        "houndstooth",
        "tattersall",
        "madras",
    ),
    # shapes
    "circle": ("roundel", "orb", "coin", "ball", "puck", "pancake", "saucer"),
    "square": ("block", "tile", "cube", "quadrate"),
    "triangle": ("wedge", "pyramid", "delta", "trigon", "pennant", "samosa"),
    "star": ("asterisk", "pentagram", "pentacle"),
    "ring": ("halo", "bagel", "annulus", "washer", "lifebuoy", "bangle", "loop"),
    "cross": ("crucifix", "cruciform"),
    "diamond": ("lozenge", "kite", "rhomboid"),
    "hexagon": ("hex", "honeycomb", "six-sider"),
    "heart": ("valentine", "cardioid"),
    "crescent": ("sickle", "croissant", "lune", "lunula"),
}
