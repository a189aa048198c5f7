"""A sixteenth held-out word list, written blind on 2026-12-06 (sixth session).

Written from everyday English by a helper who read only ``tvnet/data/synthref/vocabulary.py``
and no earlier list, imagining several different writers (a child, a grandparent, a teenager,
a non-native speaker, someone who likes vivid descriptions) describing one flat coloured shape
in a picture to a friend in a chat message. Each replacement swaps one generator word inside an
expression and keeps the referent; no replacement contains, as a whole word or hyphen-separated
part, any word the generator emits.

Left out: "polka" (it occurs only inside "with polka dots" and has no everyday single-word
stand-in that keeps the phrase's meaning on its own), location words and function words
("with", "a").
"""

HELDOUT16: dict[str, tuple[str, ...]] = {
    # colours
    "red": ("scarlet", "crimson", "cherry-coloured", "tomato-coloured"),
    "orange": ("tangerine", "pumpkin-coloured", "carrot-coloured"),
    "yellow": ("lemon-coloured", "golden", "canary", "sunflower"),
    "green": ("emerald", "grass-coloured", "leaf-coloured"),
    "blue": ("cobalt", "sapphire", "azure", "ocean-coloured"),
    "purple": ("plum", "grape-coloured", "amethyst"),
    "violet": ("mauve", "amethyst", "grape-coloured"),
    "pink": ("rosy", "bubblegum", "flamingo-coloured", "candyfloss"),
    "white": ("snowy", "milky", "ivory", "chalky"),
    # sizes
    "small": ("tiny", "wee", "pint-sized", "mini"),
    "little": ("teeny", "tiny", "itty-bitty", "miniature"),
    "big": ("huge", "giant", "massive", "chunky"),
    "large": ("enormous", "jumbo", "oversized", "hefty"),
    # textures
    "plain": ("unpatterned", "undecorated", "simple"),
    "solid": ("uniform", "single-colour", "block-coloured"),
    "striped": ("banded", "lined", "barred", "zebra-like"),
    "stripy": ("streaky", "zebra-like", "lined"),
    "dotted": ("speckled", "freckled", "flecked", "dappled"),
    "spotted": ("spotty", "dappled", "speckly"),
    "checkered": ("chessboard", "checkerboard", "gingham"),
    "chequered": ("chessboard-like", "chequerboard", "plaid"),
    "checked": ("gingham", "chessboard", "tartan"),
    "stripes": ("lines", "bands", "streaks", "bars"),
    "dots": ("specks", "flecks", "blobs", "freckles"),
    "spots": ("splodges", "speckles", "blotches", "flecks"),
    "checks": ("tartan", "gingham", "plaid"),
    "pattern": ("design", "print", "motif"),
    # shapes
    "circle": ("ball", "coin", "orb", "round blob"),
    "disc": ("coin", "plate", "saucer", "token"),
    "disk": ("button", "plate", "round token"),
    "square": ("tile", "block", "four-sided figure"),
    "box": ("block", "tile", "cube"),
    "triangle": ("pyramid", "wedge", "three-sided figure"),
    "star": ("five-pointed figure", "pointy figure", "pentagram"),
    "ring": ("loop", "halo", "bagel", "doughnut"),
    "donut": ("doughnut", "bagel", "loop"),
    "hoop": ("loop", "halo", "bangle", "band"),
    "cross": ("addition symbol", "first-aid symbol", "four-armed figure"),
    "plus": ("addition", "positive"),
    "sign": ("symbol", "mark"),
    "diamond": ("lozenge", "kite", "gem"),
    "rhombus": ("lozenge", "rhomb", "kite"),
    "hexagon": ("six-sided figure", "honeycomb cell", "hex"),
    "heart": ("valentine", "love symbol", "love emoji"),
    "crescent": ("sickle", "croissant", "lunar sliver"),
    "moon": ("sickle", "croissant", "lunar curve"),
    # generic nouns
    "shape": ("figure", "form", "symbol", "icon"),
    "object": ("item", "figure", "piece"),
    "thing": ("item", "thingy", "whatsit"),
    "one": ("piece", "item", "bit"),
}
