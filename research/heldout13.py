"""A thirteenth held-out word list, written blind on 2026-12-06 from everyday English (without
WordNet, the lexicon or any tool that relates words) by a helper who read only
research/paraphrase.py, research/heldout8.py, research/heldout9.py, research/heldout10.py,
research/heldout11.py, research/heldout12.py and the generator's vocabulary
(tvnet/data/synthref/vocabulary.py). It aims at common synonyms and paraphrases a person would
type (everyday and informal words, British and American ones, a few comparisons with familiar
things and a few hyphenated descriptions), not at jokes, names or typos. None of the replacement
words of lists 1–12 and none of the generator's words appears as a whole word; some hyphenated
compounds hold a generator word inside them, which a tokenizer that splits on hyphens reads as
that word."""

HELDOUT13 = {
    # colours
    "red": ("blood-coloured", "vivid-red", "brake-light"),
    "orange": ("sunset-coloured", "hi-vis", "cheddar"),
    "yellow": ("sun-coloured", "sweetcorn", "yolk-coloured"),
    "green": ("grass-coloured", "cactus", "christmas-tree"),
    "blue": ("deep-blue", "ink-coloured", "jeans-coloured"),
    "purple": ("deep-purple", "berry-coloured", "beet-coloured"),
    "violet": ("berry-coloured", "deep-purple"),
    "pink": ("bright-pink", "rosebud", "vivid-pink"),
    "white": ("cloud-coloured", "snowflake", "bright-white"),
    # sizes
    "small": ("micro", "fun-sized", "mouse-sized"),
    "little": ("kid-sized", "travel-sized", "micro"),
    "big": ("overgrown", "XXL", "enlarged"),
    "large": ("scaled-up", "blown-up", "enlarged"),
    # textures
    "plain": ("print-free", "decoration-free", "all-same-colour"),
    "solid": ("single-shade", "even-coloured", "all-same-colour"),
    "striped": ("wasp-like", "streak-patterned"),
    "stripy": ("streak-patterned", "wasp-like"),
    "dotted": ("sprinkle-covered", "pin-spot", "speck-covered"),
    "spotted": ("freckle-covered", "fleck-covered", "splattered"),
    "checkered": ("picnic-rug", "diner-floor"),
    "chequered": ("diner-floor", "picnic-rug"),
    "checked": ("picnic-rug", "diner-floor"),
    # shapes
    "circle": ("spot", "sun-shaped"),
    "disc": ("badge", "beer-mat", "cymbal"),
    "disk": ("badge", "cymbal", "beer-mat"),
    "square": ("four-cornered", "postage-stamp", "tickbox"),
    "box": ("shoebox", "four-cornered"),
    "triangle": ("three-edged", "spearhead", "roof-shaped"),
    "star": ("five-cornered", "pointed", "spiked"),
    "ring": ("life-preserver", "scrunchie"),
    "donut": ("life-preserver", "scrunchie"),
    "hoop": ("armlet", "life-preserver"),
    "cross": ("four-way", "equal-armed"),
    "diamond": ("four-pointed", "rhinestone", "precious-stone"),
    "rhombus": ("four-pointed", "rhinestone"),
    "hexagon": ("bolt-head", "six-angled"),
    "crescent": ("tusk", "claw-shaped", "fang"),
    "moon": ("tusk", "claw-shaped"),
    # generic nouns
    "shape": ("mark", "diagram", "insignia"),
    "object": ("chunk", "lump", "exhibit"),
    "thing": ("something", "doofer", "whosit"),
    "one": ("alternative", "individual", "entry"),
}
