"""A tenth held-out word list, written blind on 2026-12-05 (seventh session) from everyday
English (without WordNet, the lexicon or any tool that relates words), with none of the
replacement words of lists 1–9 (research/paraphrase.py's tables, research/heldout8.py and
research/heldout9.py) and none of the generator's words. Some entries are typos, informal
words, spelling variants or comparisons with familiar things, as a person might type them."""

HELDOUT10 = {
    # colours
    "red": ("postbox", "chilli", "redish"),
    "orange": ("basketball", "orangy", "tawny"),
    "yellow": ("pikachu", "lemony", "yelow"),
    "green": ("spinach", "cucumber", "viridian"),
    "blue": ("bleu", "turquoise", "bluebird"),
    "purple": ("bruise", "thanos", "purpel"),
    "violet": ("voilet", "aster"),
    "pink": ("pinkie", "fairy-floss", "peppa"),
    "white": ("pale", "polar-bear", "colourless"),
    # sizes
    "small": ("slight", "ant-sized", "samll"),
    "little": ("teenie", "toy-sized", "meagre"),
    "big": ("humungous", "elephant-sized", "chonky"),
    "large": ("grand", "fat", "biggie"),
    # textures
    "plain": ("bland", "matte", "plian"),
    "solid": ("spotless", "matt", "colored-in"),
    "striped": ("convict", "hatched", "stiped"),
    "stripy": ("awning", "strippy"),
    "dotted": ("measles", "polkadot", "braille"),
    "spotted": ("giraffe", "patchy", "splodgy"),
    "checkered": ("crossword", "flannel", "chekered"),
    "chequered": ("checquered", "battenburg", "chess-set"),
    "checked": ("tic-tac-toe", "checkd"),
    # shapes
    "circle": ("cirle", "oval", "gumball"),
    "disc": ("vinyl", "medal"),
    "disk": ("pill", "circular", "roundy"),
    "square": ("sqare", "window", "cracker"),
    "box": ("container", "chest"),
    "triangle": ("triange", "shark-fin", "party-hat"),
    "star": ("pointy", "twinkler", "shuriken"),
    "ring": ("hollow", "keyring", "rnig"),
    "donut": ("bundt", "donught", "pool-float"),
    "hoop": ("earring", "hoopla"),
    "cross": ("swiss-flag", "croos"),
    "diamond": ("bling", "rock", "diamnod"),
    "rhombus": ("rhomboidal", "rhombous"),
    "hexagon": ("six-sided", "hexy", "hexagone"),
    "heart": ("herat", "emoji", "lovey-dovey"),
    "crescent": ("cressent", "cashew", "horn"),
    "moon": ("lunar", "moony"),
    # generic nouns
    "shape": ("sahpe", "clipart", "polygon"),
    "object": ("ojbect", "trinket", "prop"),
    "thing": ("thign", "doobry", "jobby"),
    "one": ("buddy", "candidate", "geezer"),
}
