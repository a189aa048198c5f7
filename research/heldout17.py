"""A seventeenth held-out word list, written blind on 2026-12-06 (seventh session).

Written from everyday English by a helper who read only ``tvnet/data/synthref/vocabulary.py``
and no earlier list, imagining a primary-school maths teacher, a quilter or knitter, a graphic
designer, a sports commentator, a person dictating to a phone, a Scottish or Australian
speaker and someone writing a product description, each describing one flat coloured shape in
a picture.
Each replacement swaps one generator word inside an expression and keeps the referent; no
replacement contains, as a whole word or hyphen-separated part, any word the generator emits.

Left out: "plus" and "sign" (they occur only inside the two-word "plus sign", so swapping one
of them alone does not name the shape; the "cross" entries cover it); the generic nouns
"shape", "object", "thing" and "one" (not attribute words, and no stand-in says more).
"""

HELDOUT17: dict[str, tuple[str, ...]] = {
    # colours
    "red": ("scarlet", "crimson", "cherry", "vermilion", "tomato"),
    "orange": ("tangerine", "pumpkin", "satsuma", "marmalade", "carrot"),
    "yellow": ("lemon", "canary", "daffodil", "buttercup", "golden"),
    "green": ("emerald", "jade", "grassy", "leafy", "shamrock"),
    "blue": ("cobalt", "sapphire", "azure", "ultramarine", "cornflower"),
    "purple": ("plum", "amethyst", "grape", "aubergine", "heather"),
    "violet": ("lilac", "lavender", "damson"),
    "pink": ("rosy", "bubblegum", "flamingo", "fairy-floss", "fuchsia"),
    "white": ("snowy", "ivory", "milky", "chalky", "pearly"),
    # shapes
    "circle": ("roundel", "orb", "ball", "coin", "button"),
    "disc": ("coin", "puck", "saucer", "token"),
    "disk": ("counter", "medallion", "plate"),
    "square": ("tile", "block", "cube", "quadrate"),
    "box": ("crate", "carton", "cube", "tile"),
    "triangle": ("wedge", "pyramid", "delta", "trigon", "pennant"),
    "star": ("pentagram", "pentacle", "asterisk", "sparkle"),
    "ring": ("annulus", "loop", "halo", "bagel", "washer"),
    "donut": ("doughnut", "bagel", "torus", "lifebuoy"),
    "hoop": ("loop", "bangle", "tyre", "wreath"),
    "cross": ("cruciform", "crucifix", "rood"),
    "diamond": ("lozenge", "rhomb", "kite", "gem"),
    "rhombus": ("lozenge", "rhomb", "rhomboid"),
    "hexagon": ("hex", "hexie", "six-sider", "honeycomb"),
    "heart": ("valentine", "love-symbol", "love-token"),
    "crescent": ("sickle", "croissant", "lune", "sliver"),
    "moon": ("sickle", "lune", "lunula"),
    # textures
    "plain": ("unpatterned", "self-coloured", "unadorned", "flat-coloured", "undecorated"),
    "solid": ("uniform", "unbroken", "unvaried", "block-coloured"),
    "striped": ("banded", "barred", "streaked", "pinstriped", "zebra-print"),
    "stripy": ("stripey", "streaky", "zebra-like", "lined"),
    "dotted": ("speckled", "flecked", "dappled", "stippled", "spotty"),
    "spotted": ("spotty", "freckled", "dalmatian", "sprinkled"),
    "checkered": ("gingham", "chessboard", "draughtboard", "plaid", "gridded"),
    "chequered": ("tartan", "chequerboard", "windowpane"),
    "checked": ("gingham", "plaid", "checkerboard", "grid-like"),
    # sizes
    "small": ("tiny", "wee", "teeny", "pint-sized", "miniature"),
    "little": ("titchy", "itty-bitty", "mini", "petite", "dinky"),
    "big": ("huge", "giant", "whopping", "ginormous", "hefty"),
    "large": ("sizeable", "oversized", "jumbo", "king-size", "outsize"),
}
