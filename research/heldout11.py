"""An eleventh held-out word list, written blind on 2026-12-05 (eighth session) from everyday
English (without WordNet, the lexicon or any tool that relates words) by a helper who read only
research/paraphrase.py, research/heldout8.py, research/heldout9.py, research/heldout10.py and
the generator's vocabulary (tvnet/data/synthref/vocabulary.py). It aims at common synonyms and
paraphrases a person would type (everyday, informal, British and American words, and hyphenated
descriptions such as "three-sided" or "royal-blue"), not at jokes, names or typos. None of the
replacement words of lists 1–10 and none of the generator's words appears as a whole word; some
hyphenated compounds hold a generator word inside them ("bright-red", "box-shaped",
"plus-shaped"), which a tokenizer that splits on hyphens reads as that word."""

HELDOUT11 = {
    # colours
    "red": ("bright-red", "cherry-red", "fiery"),
    "orange": ("bright-orange", "carroty", "dark-orange"),
    "yellow": ("bright-yellow", "lemon-yellow", "buttery"),
    "green": ("grass-green", "leaf-green", "bright-green"),
    "blue": ("royal-blue", "electric-blue", "bright-blue"),
    "purple": ("grape-coloured", "royal-purple", "bright-purple"),
    "violet": ("plum-coloured", "lilac-coloured", "bluish-purple"),
    "pink": ("bubblegum-pink", "cotton-candy", "rose-coloured"),
    "white": ("pure-white", "milk-white", "brilliant-white"),
    # sizes
    "small": ("teeny-tiny", "scaled-down", "shrunken"),
    "little": ("teeny-weeny", "baby-sized", "mini-sized"),
    "big": ("full-sized", "monstrous", "giant-sized"),
    "large": ("fair-sized", "decent-sized", "broad"),
    # textures
    "plain": ("pattern-free", "textureless", "block-coloured"),
    "solid": ("filled-in", "single-tone", "flat-coloured"),
    "striped": ("zebra-print", "candy-stripe", "line-patterned"),
    "stripy": ("stripe-print", "bar-patterned", "line-covered"),
    "dotted": ("dot-covered", "dot-print", "speckle-patterned"),
    "spotted": ("spot-covered", "spot-print", "leopard-print"),
    "checkered": ("checker-print", "chess-patterned", "tile-patterned"),
    "chequered": ("chequer-print", "chessboard-style", "grid-print"),
    "checked": ("check-print", "plaid-print", "gingham-print"),
    # shapes
    "circle": ("round-shaped", "ball-shaped", "dot-shaped"),
    "disc": ("coin-shaped", "dish"),
    "disk": ("plate-shaped", "bottle-cap"),
    "square": ("box-shaped", "cube-shaped"),
    "box": ("square-shaped", "case", "crate-like"),
    "triangle": ("three-sided", "triangular", "three-pointed"),
    "star": ("five-point", "spiky", "starlike"),
    "ring": ("o-shaped", "doughnut-shaped"),
    "donut": ("bagel-shaped", "tyre-shaped"),
    "hoop": ("wristband", "circular-band", "bangle-shaped"),
    "cross": ("plus-shaped", "four-armed", "addition-sign"),
    "diamond": ("kite-shaped", "lozenge-shaped", "gem-shaped"),
    "rhombus": ("diamond-shaped", "kite-like"),
    "hexagon": ("hexagonal", "six-cornered", "honeycomb-shaped"),
    "heart": ("valentine-shaped", "love-symbol"),
    "crescent": ("c-shaped", "moon-shaped"),
    "moon": ("moonlike", "sickle-shaped"),
    # generic nouns
    "shape": ("drawing", "illustration", "sketch"),
    "object": ("feature", "ornament", "subject"),
    "thing": ("thingummybob", "deal", "whatsitsname"),
    "one": ("version", "lad", "choice"),
}
