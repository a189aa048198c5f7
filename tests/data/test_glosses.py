"""What a definition says a word is (tvnet/data/glosses.py), on WordNet's own glosses."""

from tvnet.data.glosses import colour_objects, colour_terms, genus_words, head_nouns


def test_a_nouns_definition_names_its_head_and_what_it_usually_is():
    assert head_nouns("a flat metal piece (usually a disc) used as money", "n") == ["piece", "disc"]
    assert head_nouns("a very small spot", "n") == ["spot"]
    assert head_nouns("an irregularly shaped spot", "n") == ["spot"]
    # the head comes before a modifier: a participle, a preposition, a relative
    assert head_nouns("a board having 64 squares of two alternating colors", "n") == ["board"]
    assert head_nouns("round object that is hit or thrown or kicked in games", "n") == ["object"]
    # a parenthesis is not the phrase's head, and names a usual noun, never an adjective
    gloss = "a small (usually square or hexagonal) metal block with internal screw thread"
    assert head_nouns(gloss, "n") == ["block"]
    # a domain label is not the head; a parenthesis names its own head, not its adjective
    assert head_nouns("(baseball) base consisting of a rubber slab", "n") == ["base"]
    gloss = "a very thin stripe (especially a white stripe on a dark fabric)"
    assert head_nouns(gloss, "n") == ["stripe"]
    # alternatives: each one's head
    assert head_nouns("a mark or sign", "n") == ["mark", "sign"]


def test_an_adjectives_definition_names_what_a_surface_has():
    assert head_nouns("having very thin stripes", "a") == ["stripes"]
    assert head_nouns("having spots or patches of color", "a") == ["spots", "patches"]
    gloss = "marked with or as if with stripes or linear discolorations"
    assert head_nouns(gloss, "a") == ["stripes", "discolorations"]
    # an adjective that says no feature names none: the colour is genus_words' business
    assert head_nouns("of a pale purple color", "a") == []
    assert head_nouns("small in size", "a") == []


def test_genus_words_name_the_kind_of_colour_or_shape():
    gloss = "having the deep slightly brownish color of gold"
    assert genus_words(gloss) == ["brownish", "brown"]
    assert colour_objects(gloss) == ["gold"]
    assert colour_objects("resembling milk in color or cloudiness; not clear") == ["milk"]
    assert colour_objects("of a pale purple color") == []
    # the head of the thing's noun phrase, not its modifier
    assert colour_objects("having the color of dark chocolate") == ["chocolate"]


def test_colour_terms_are_the_things_own_colour_before_its_head():
    terms = {"yellow", "brown", "red", "white"}
    assert colour_terms("elongated crescent-shaped yellow fruit with soft sweet flesh", terms) == [
        "yellow"
    ]
    # a hyphenated colour names its last part; an "-ish" form is no term
    assert colour_terms("a yellow-brown leaf", terms) == ["brown"]
    assert colour_terms("a reddish fruit", terms) == []
    # a colour after the head is something else's ("gives a red glow")
    assert colour_terms("a colorless gaseous element that gives a red glow", terms) == []
    assert genus_words("very rich flaky crescent-shaped roll") == ["crescent"]
    # every candidate, function words too: which are colours or shapes is the lexicon's call
    assert genus_words("a shade of blue") == ["a", "blue"]
    assert genus_words("shaped like a star") == ["star"]
