"""A twenty-first held-out word list, written blind on 2026-12-06 (seventh session).

Written from everyday English by a helper who read only ``tvnet/data/synthref/vocabulary.py``
and no earlier list, imagining schoolchildren, parents, grandparents, shop and office workers
in Britain, Ireland, North America and Australia describing one flat coloured shape in a
picture.
Each replacement swaps one generator word inside an expression and keeps the referent; no
replacement contains, as a whole word or hyphen-separated part, any word the generator emits.

Left out: "disk" (a spelling of "disc", whose list serves it), "rhombus" (its stand-ins would
only repeat "diamond"'s), "stripy", "checked" and "chequered" (variants of "striped" and
"checkered" whose lists serve them), and the multi-word "plus sign" and "with ..." phrases
(no single-word swap for a phrase). Spelling variants of generator words ("doughnut",
"stripey") are not used, so that every stand-in is a different word, not a respelling.
"""

HELDOUT21: dict[str, tuple[str, ...]] = {
    # colours
    "red": ("scarlet", "crimson", "cherry", "ruby", "tomato", "poppy"),
    "orange": ("tangerine", "pumpkin", "carrot-coloured", "mandarin", "clementine", "marmalade"),
    "yellow": ("lemon", "golden", "canary", "buttercup", "daffodil", "sunflower"),
    "green": ("emerald", "grassy", "leafy", "jade", "lime", "shamrock"),
    "blue": ("navy", "azure", "cobalt", "sapphire", "denim", "cornflower"),
    "purple": ("lilac", "lavender", "mauve", "plum", "grape", "amethyst"),
    "violet": ("lilac", "lavender", "mauve", "amethyst", "heather"),
    "pink": ("rosy", "fuchsia", "bubblegum", "flamingo", "candyfloss", "blush"),
    "white": ("snowy", "ivory", "milky", "chalky", "pearly", "alabaster"),
    # sizes
    "small": ("tiny", "teeny", "wee", "mini", "titchy", "itty-bitty"),
    "little": ("tiny", "teeny", "wee", "minute", "pint-sized", "teensy"),
    "big": ("huge", "giant", "massive", "enormous", "jumbo", "oversized"),
    "large": ("huge", "giant", "massive", "enormous", "sizeable", "gigantic"),
    # textures
    "plain": (
        "undecorated",
        "unmarked",
        "flat-coloured",
        "single-coloured",
        "bare",
        "unadorned",
    ),
    "solid": ("single-coloured", "flat-coloured", "uniform", "unmarked"),
    "striped": ("lined", "banded", "streaky", "barred", "streaked", "zebra-print"),
    "dotted": ("spotty", "speckled", "speckly", "flecked", "dappled", "dotty"),
    "spotted": ("spotty", "speckled", "flecked", "dappled", "freckled"),
    "checkered": ("chessboard", "gingham", "plaid", "tartan", "gridded"),
    # shapes
    "circle": ("ball", "orb", "round", "button", "roundel", "coin"),
    "disc": ("coin", "plate", "saucer", "puck", "token", "counter"),
    "square": ("block", "tile", "cube", "quadrilateral"),
    "box": ("block", "cube", "crate", "tile"),
    "triangle": ("pyramid", "wedge", "arrowhead", "delta", "pizza-slice"),
    "star": ("asterisk", "pentagram", "pentacle", "five-pointer"),
    "ring": ("loop", "halo", "bagel", "tyre", "washer", "lifebuoy"),
    "donut": ("bagel", "tyre", "lifebuoy", "halo", "washer"),
    "hoop": ("loop", "halo", "bangle", "tyre", "wreath"),
    "cross": ("crucifix", "cruciform", "addition-symbol"),
    "diamond": ("lozenge", "kite", "gem", "parallelogram"),
    "hexagon": ("hex", "six-sider", "honeycomb", "hex-nut"),
    "heart": ("valentine", "love-symbol"),
    "crescent": ("sickle", "croissant", "arc", "boomerang"),
    "moon": ("sickle", "croissant", "boomerang"),
}
