"""A twentieth held-out word list, written blind on 2026-12-06 (seventh session).

Written from everyday English by a helper who read only ``tvnet/data/synthref/vocabulary.py``
and no earlier list, imagining a zookeeper, a tailor, a florist, a board-game designer, a
cartoonist, a sports fan, a toddler's parent and a geometry student describing one flat
coloured shape in a picture.
Each replacement swaps one generator word inside an expression and keeps the referent; no
replacement contains, as a whole word or hyphen-separated part, any word the generator emits.

Left out: no canonical key. Keys are the canonical attribute words (the eight colours, the two
sizes, the four textures, the ten shapes); the generator's own synonyms (violet, disc, solid,
large, ...) get no separate key, as their stand-ins would repeat their canonical key's. Cross,
diamond, hexagon and heart have fewer entries: few single everyday words name them without
also naming another generator shape (four-sided, tile) or a generator word (plus, moon).
"""

HELDOUT20: dict[str, tuple[str, ...]] = {
    # colours
    "red": ("crimson", "scarlet", "vermilion", "ruby", "cherry", "poppy", "carmine"),
    "orange": (
        "tangerine",
        "pumpkin",
        "carrot",
        "mandarin",
        "clementine",
        "marmalade",
        "persimmon",
    ),
    "yellow": ("lemon", "canary", "buttercup", "daffodil", "sunflower", "dandelion", "primrose"),
    "green": ("emerald", "jade", "grassy", "leafy", "shamrock", "clover", "fern"),
    "blue": ("azure", "cobalt", "sapphire", "cornflower", "cerulean", "ultramarine", "denim"),
    "purple": ("plum", "amethyst", "grape", "aubergine", "eggplant", "lavender", "lilac"),
    "pink": ("rosy", "blush", "flamingo", "bubblegum", "fuchsia", "carnation", "candyfloss"),
    "white": ("snowy", "ivory", "chalky", "pearly", "milky", "alabaster", "porcelain"),
    # sizes
    "small": ("tiny", "teeny", "wee", "petite", "miniature", "pint-sized", "diminutive"),
    "big": ("huge", "giant", "enormous", "jumbo", "whopping", "massive", "king-size"),
    # textures
    "plain": (
        "unpatterned",
        "flat",
        "uniform",
        "unadorned",
        "untextured",
        "self-coloured",
        "unmarked",
    ),
    "striped": ("banded", "barred", "zebra", "tabby", "streaked", "seersucker", "barber-pole"),
    "dotted": ("speckled", "freckled", "flecked", "stippled", "dalmatian", "leopard", "dappled"),
    "checkered": (
        "plaid",
        "gingham",
        "tartan",
        "chessboard",
        "houndstooth",
        "gridded",
        "windowpane",
    ),
    # shapes
    "circle": ("round", "roundel", "coin", "orb", "ball", "button", "pancake"),
    "square": ("tile", "block", "cube", "quadrate", "pixel", "crate", "cracker"),
    "triangle": ("wedge", "pyramid", "trigon", "delta", "pennant", "tent", "three-sider"),
    "star": ("asterisk", "pentagram", "pentacle", "five-pointer", "twinkle", "sparkle", "spangle"),
    "ring": ("annulus", "bagel", "halo", "loop", "lifebuoy", "quoit", "bangle"),
    "cross": ("crucifix", "cruciform", "rood", "saltire", "d-pad"),
    "diamond": ("lozenge", "rhomb", "rhomboid", "kite"),
    "hexagon": ("hex", "six-sider", "honeycomb", "hex-nut", "benzene", "sexangle"),
    "heart": ("valentine", "cardioid", "cordate", "cordiform", "ticker"),
    "crescent": ("sickle", "croissant", "lune", "lunula", "sliver", "meniscus"),
}
