"""A fourteenth held-out word list, written blind on 2026-12-06 (fourth session).

Written from everyday English by a helper who read only ``tvnet/data/synthref/vocabulary.py`` and
no earlier list, aimed at the most common synonyms a person would type in place of each generator
word. Earlier lists' words are allowed here, so this list measures common synonyms, not rare
words. Each replacement swaps one generator word inside an expression and keeps the referent; no
replacement contains, as a whole word, any word the generator emits. "plus sign" and "polka" have
no entry: no common single-word or word-for-word phrase for them avoids generator words.
"""

HELDOUT14 = {
    # colours
    "red": ("crimson", "scarlet", "ruby"),
    "orange": ("tangerine", "amber"),
    "yellow": ("golden", "gold", "lemon"),
    "green": ("emerald", "jade", "lime"),
    "blue": ("azure", "cobalt", "navy"),
    "purple": ("plum", "lilac", "lavender"),
    "violet": ("lilac", "lavender", "mauve"),
    "pink": ("rose", "fuchsia", "magenta"),
    "white": ("ivory", "snowy", "cream"),
    # sizes
    "small": ("tiny", "mini", "petite"),
    "little": ("tiny", "teeny", "wee"),
    "big": ("huge", "giant", "massive"),
    "large": ("huge", "enormous", "giant"),
    # textures
    "plain": ("unpatterned", "uniform", "flat"),
    "solid": ("uniform", "flat", "unpatterned"),
    "striped": ("lined", "banded", "pinstriped"),
    "stripy": ("lined", "banded", "streaky"),
    "dotted": ("speckled", "dappled", "flecked"),
    "spotted": ("speckled", "spotty", "dappled"),
    "checkered": ("checkerboard", "plaid", "gingham"),
    "chequered": ("chequerboard", "tartan", "gingham"),
    "checked": ("plaid", "checkerboard", "gingham"),
    "stripes": ("lines", "bands", "streaks"),
    "dots": ("specks", "speckles", "flecks"),
    "spots": ("specks", "speckles", "splotches"),
    "checks": ("plaid", "tartan", "gingham"),
    "pattern": ("design", "print", "motif"),
    # shapes
    "circle": ("ball", "orb", "sphere"),
    "disc": ("coin", "plate", "ball"),
    "disk": ("coin", "plate", "ball"),
    "square": ("block", "tile", "cube"),
    "box": ("block", "cube", "tile"),
    "triangle": ("pyramid", "wedge"),
    "star": ("asterisk", "pentagram", "starburst"),
    "ring": ("loop", "band", "halo"),
    "donut": ("doughnut", "bagel", "loop"),
    "hoop": ("loop", "band", "halo"),
    "cross": ("crucifix", "addition symbol"),
    "diamond": ("lozenge", "kite", "gem"),
    "rhombus": ("lozenge", "kite"),
    "hexagon": ("hex", "six-sided figure"),
    "heart": ("valentine", "love symbol"),
    "crescent": ("sickle", "arc"),
    "moon": ("sickle", "arc"),
    # generic nouns
    "shape": ("figure", "form", "item"),
    "object": ("item", "figure", "piece"),
    "thing": ("item", "piece", "figure"),
    "one": ("item", "piece", "figure"),
}
