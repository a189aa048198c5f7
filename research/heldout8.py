"""An eighth held-out word list and a set of carrier frames, written blind (without WordNet,
the lexicon or the earlier carriers) from everyday English, with none of the replacement words
of research/paraphrase.py's tables and none of the generator's words. Some entries are typos
or informal words a person might type ("cirlce", "smol", "luv")."""

HELDOUT8 = {
    # colours
    "red": ("burgundy", "maroon", "wine-coloured"),
    "orange": ("copper", "tango", "fanta"),
    "yellow": ("yellowish", "blond", "corn-coloured", "taxi"),
    "green": ("apple", "pistachio", "froggy", "lettuce"),
    "blue": ("midnight", "sea", "smurf", "marine"),
    "purple": ("beetroot", "prune", "cadbury"),
    "violet": ("thistle", "foxglove"),
    "pink": ("piggy", "ballet-slipper", "pepto"),
    "white": ("paper", "bleached", "swan", "sugar"),
    # sizes
    "small": ("smol", "miniscule", "modest", "lil"),
    "little": ("lil", "smol", "half-pint"),
    "big": ("sizeable", "beefy", "supersized", "XL"),
    "large": ("good-sized", "generous", "monster"),
    # textures
    "plain": ("ordinary", "regular", "boring", "normal"),
    "solid": ("opaque", "fully-coloured", "mono"),
    "striped": ("stripe", "beach-towel", "sailor-shirt"),
    "stripy": ("stripe", "sailor-shirt"),
    "dotted": ("ladybird", "ladybug", "pimply"),
    "spotted": ("ladybird", "pimply"),
    "checkered": ("checker", "grid", "checkers"),
    "chequered": ("chequer", "draughts", "grid"),
    "checked": ("check", "grid"),
    # shapes
    "circle": ("wheel", "cirlce", "pea"),
    "disc": ("wheel", "penny"),
    "disk": ("wheel", "penny"),
    "square": ("sq", "squarish", "napkin"),
    "box": ("squarish", "boxy"),
    "triangle": ("dorito", "traingle", "three-cornered"),
    "star": ("five-pointed", "superstar"),
    "ring": ("o", "lifering", "letter o"),
    "donut": ("lifering", "letter o"),
    "hoop": ("lifering", "o"),
    "cross": ("first-aid", "crossed lines"),
    "diamond": ("dimond",),
    "rhombus": ("rombus",),
    "hexagon": ("hexigon", "hexa"),
    "heart": ("luv",),
    "crescent": ("cresent", "toenail", "letter c"),
    "moon": ("toenail", "crescant"),
}

FRAMES8 = (
    "mask {}",
    "could you mark {}?",
    "pick out {}",
    "point to {}",
    "I'm after {}",
    "locate {}",
    "which is {}?",
    "isolate {} for me",
    "give me the mask for {}",
    "{}, thanks",
    "hey, grab {}",
    "tap on {}",
    "would you mind marking {}?",
    "target: {}",
    "I need {}",
)
