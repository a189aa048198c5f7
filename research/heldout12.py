"""A twelfth held-out word list, written blind on 2026-12-05 (eighth session) from everyday
English (without WordNet, the lexicon or any tool that relates words) by a helper who read only
research/paraphrase.py, research/heldout8.py, research/heldout9.py, research/heldout10.py,
research/heldout11.py and the generator's vocabulary (tvnet/data/synthref/vocabulary.py). It aims
at common synonyms and paraphrases a person would type (everyday and informal words, British and
American ones, comparisons with familiar things and a few hyphenated descriptions), not at jokes,
names or typos. None of the replacement words of lists 1–11 and none of the generator's words
appears as a whole word; some hyphenated compounds hold a generator word inside them, which a
tokenizer that splits on hyphens reads as that word."""

HELDOUT12 = {
    # colours
    "red": ("pillarbox", "reddy", "redcurrant"),
    "orange": ("flame", "terracotta"),
    "yellow": ("goldenrod", "butter"),
    "green": ("evergreen", "kiwi", "kale"),
    "blue": ("inky", "light-blue"),
    "purple": ("elderberry", "dark-purple"),
    "violet": ("elderberry", "light-purple"),
    "pink": ("neon-pink", "shocking-pink"),
    "white": ("magnolia", "whitewashed", "blanched"),
    # sizes
    "small": ("smaller", "bitty", "lesser"),
    "little": ("tinier", "littler", "bitty"),
    "big": ("bigger", "maxi", "extra-large"),
    "large": ("larger", "greater", "maxi"),
    # textures
    "plain": ("monochromatic", "non-patterned", "unvaried"),
    "solid": ("unvaried", "no-pattern", "monochromatic"),
    "striped": ("tiger", "tabby", "stripe-covered"),
    "stripy": ("tabby", "tiger"),
    "dotted": ("polka-patterned", "pebbly"),
    "spotted": ("spot-patterned", "pebbly"),
    "checkered": ("chess", "mesh", "quilted"),
    "chequered": ("chess", "quilted", "mesh"),
    "checked": ("chess", "mesh", "buffalo-check"),
    # shapes
    "circle": ("ellipse", "roundish", "balloon"),
    "disc": ("roundish", "pie", "dial"),
    "disk": ("roundish", "dial", "pie"),
    "square": ("oblong", "four-sided", "rectangular"),
    "box": ("brick", "cubic", "rectangular"),
    "triangle": ("teepee", "mountain", "cone"),
    "star": ("starry", "five-armed"),
    "ring": ("looped", "rubber-ring", "floatie"),
    "donut": ("floatie", "looped"),
    "hoop": ("hula", "looped", "floatie"),
    "cross": ("crossing", "plus-symbol"),
    "diamond": ("diamante", "gemlike", "diamondlike"),
    "rhombus": ("diamondlike", "gemlike", "diamante"),
    "hexagon": ("hive", "six-edged"),
    "heart": ("heartlike", "heart-shaped"),
    "crescent": ("hook", "eyebrow", "quarter-moon"),
    "moon": ("hook", "eyebrow"),
    # generic nouns
    "shape": ("picture", "image", "artwork"),
    "object": ("target", "toy", "job"),
    "thing": ("job", "number", "toy"),
    "one": ("mate", "pal", "variant"),
}
