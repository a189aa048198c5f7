"""A ninth held-out word list, written blind on 2026-12-05 (sixth session) from everyday
English (without WordNet, the lexicon or any tool that relates words), with none of the
replacement words of research/paraphrase.py's tables or research/heldout8.py and none of the
generator's words. Some entries are typos or informal words a person might type ("cricle",
"obj", "thingo")."""

HELDOUT9 = {
    # colours
    "red": ("rouge", "firetruck", "lobster"),
    "orange": ("jaffa", "goldfish", "rusty"),
    "yellow": ("highlighter", "minion", "rubber-duck"),
    "green": ("kermit", "avocado", "broccoli"),
    "blue": ("blueish", "tardis", "peacock"),
    "purple": ("barney", "plummy", "purpley"),
    "violet": ("parma", "petunia", "violaceous"),
    "pink": ("prawn", "shrimp", "sakura"),
    "white": ("whiteish", "chalk", "wedding-dress"),
    # sizes
    "small": ("minute", "dainty", "bantam"),
    "little": ("pygmy", "half-size", "weensy"),
    "big": ("titanic", "heavyweight", "family-size"),
    "large": ("voluminous", "considerable", "whale-sized"),
    # textures
    "plain": ("nondescript", "unornamented", "plane"),
    "solid": ("homogeneous", "soild", "even-toned"),
    "striped": ("stripped", "bumblebee", "pajama"),
    "stripy": ("bumblebee", "stripped"),
    "dotted": ("speckly", "doted", "freckly"),
    "spotted": ("spoted", "freckly", "speckly"),
    "checkered": ("checkerd", "houndstooth", "finish-line"),
    "chequered": ("chequred", "tattersall", "vichy"),
    "checked": ("madras", "houndstooth", "tattersall"),
    # shapes
    "circle": ("cricle", "circel", "bauble"),
    "disc": ("discus", "cd", "lid"),
    "disk": ("dvd", "discus", "jar-lid"),
    "square": ("sqaure", "squre", "post-it"),
    "box": ("parcel", "package"),
    "triangle": ("trianlge", "samosa", "toblerone"),
    "star": ("satr", "seastar", "starfruit"),
    "ring": ("rign", "lifebelt", "quoit"),
    "donut": ("donnut", "dougnut"),
    "hoop": ("quoit", "lifebelt"),
    "cross": ("corss", "cros"),
    "diamond": ("daimond", "gemstone"),
    "rhombus": ("rhombas", "rhumbus"),
    "hexagon": ("hexgon", "hexogon", "hexnut"),
    "heart": ("hart", "haert"),
    "crescent": ("crecent", "cresant", "nail-paring"),
    "moon": ("cresant", "moom"),
    # generic nouns
    "shape": ("logo", "shpae", "pictogram"),
    "object": ("obj", "obejct", "knickknack"),
    "thing": ("thingie", "thingo", "oojamaflip"),
    "one": ("fella", "bloke", "option"),
}
