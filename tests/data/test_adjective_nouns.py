"""Adjectives read as the nouns they derive from, count, or narrow to (tvnet/data/lexicon.py,
tvnet/data/glosses.py; docs/design.md §6, "Wording"), on Princeton WordNet 3.0 itself."""

import pytest

from tvnet.data.gloss_counts import counted, counts
from tvnet.data.glosses import genus_words
from tvnet.data.lexicon import Lexicon
from tvnet.data.wordnet import shared_wordnet


@pytest.fixture(scope="module")
def wordnet():
    return shared_wordnet()


def test_an_adjective_is_read_as_the_noun_it_derives_from(wordnet):
    lex = Lexicon.of(["triangle", "circle", "cross"], wordnet, colours=False)
    assert lex.nearest("triangular") == "triangle"
    assert lex.nearest("circular") == "circle"
    assert lex.nearest("cruciform") == "cross"
    # the noun's own words only: not its hypernyms ("triangle" is a polygon)
    assert Lexicon.of(["polygon"], wordnet, colours=False).nearest("triangular") is None
    # nor a noun that says nothing of how a thing looks ("shapely": form, shape)
    assert Lexicon.of(["shape", "star"], wordnet, colours=False).nearest("shapely") is None
    lex = Lexicon.of(["triangle", "circle"], wordnet, colours=False)
    lex.derivations = lex.counting = False
    assert lex.nearest("triangular") is None and lex.nearest("circular") is None


def test_a_count_is_read_as_the_one_noun_whose_definition_makes_it(wordnet):
    assert counted("having six sides") == (6, "sid")
    assert counted("having five points") == (5, "point")
    assert counted("having the color of gold") is None
    assert counts("a six-sided polygon") == [(6, "sid", False)]
    assert counts("a plane figure with 5 or more points") == [(5, "point", True)]
    assert counts("a parallelogram with four equal sides") == [(4, "sid", False)]
    # only what the thing is or has "with": not a corner, "where two sides or edges meet"
    assert counts("a projecting part where two sides or edges meet") == []
    # a count is what the thing is in its first noun phrase, not something it has or is one of
    assert counts("(geometry) a plane rectangle …; a four-sided regular polygon") == [
        (4, "sid", False)
    ]
    assert counts("a drinking mug … of a stout man wearing a three-cornered hat") == []
    assert counts("one of several small six-pointed metal pieces") == []
    assert Lexicon.of(["toby"], wordnet, colours=False).nearest("three-cornered") is None
    assert Lexicon.of(["star", "jack"], wordnet, colours=False).nearest("six-pointed") == "star"
    lex = Lexicon.of(["hexagon", "star", "square", "rhombus"], wordnet, colours=False)
    assert lex.nearest("six-sided") == "hexagon"  # "a six-sided polygon"
    assert lex.nearest("five-pointed") == "star"  # "a plane figure with 5 or more points"
    assert lex.nearest("six-pointed") == "star"  # six is "5 or more"
    # two known nouns make the count (the square's four equal sides, the rhombus's): neither
    assert lex.nearest("four-sided") is None
    assert Lexicon.of(["rhombus"], wordnet, colours=False).nearest("four-sided") == "rhombus"
    assert lex.nearest("eight-sided") is None  # an octagon is not known
    lex = Lexicon.of(["hexagon", "star"], wordnet, colours=False)
    lex.counting = False  # before any reading: readings are cached
    assert lex.nearest("six-sided") is None and lex.nearest("five-pointed") is None


def test_a_head_adjective_is_read_as_its_one_known_satellite(wordnet):
    lex = Lexicon.of(["plain"], wordnet, colours=False)
    assert lex.nearest("undecorated") == "plain"  # "plain, bare, unornamented", "untufted"
    # several satellites known: none ("chromatic"'s are the colours)
    colours = Lexicon.of(["red", "blue", "green"], wordnet, colours=False)
    assert colours.nearest("chromatic") is None
    # a head too broad to narrow: "hot" has 21 satellites, one of them "white-hot"
    assert Lexicon.of(["white"], wordnet, colours=False).nearest("hot") is None
    lex = Lexicon.of(["plain"], wordnet, colours=False)
    lex.satellites = False
    assert lex.nearest("undecorated") is None


def test_a_head_after_an_adjective_read_as_a_noun_is_still_a_head(wordnet):
    known = ["the", "triangle", "object", "orange", "star", "left", "of"]
    lex = Lexicon.of(known, wordnet, colours=False)
    assert lex.rewrite("the three-sided figure")[0] == "the triangle object"
    assert (
        lex.rewrite("the tangerine item left of the star")[0]
        == "the orange object left of the star"
    )
    lex.modifier_nouns = False
    assert lex.rewrite("the three-sided figure")[0] == "the triangle figure"
    assert (
        lex.rewrite("the tangerine item left of the star")[0] == "the orange item left of the star"
    )


def test_a_thing_where_a_colour_stands_is_read_as_its_definitions_colour(wordnet):
    known = ["the", "star", "object", "yellow", "purple", "white", "red", "left", "of"]
    lex = Lexicon.of(known, wordnet, colours=False)
    read = lambda s: lex.rewrite(s)[0]  # noqa: E731
    # after the definition's head: "… plants having showy often yellow flowers"
    assert read("the daffodil star") == "the yellow star"
    assert read("the aubergine star") == "the purple star"  # "typically dark purple but …"
    # and the head after it is still a head ("item": the generic noun)
    assert read("the daffodil item left of the star") == "the yellow object left of the star"
    # not where no colour stands: the end of a phrase ("… left of the daffodil")
    assert read("the star left of the daffodil") == "the star left of the object"
    # a pattern, not a colour: "a smooth white coat with black or brown spots"
    assert read("the dalmatian star") == "the dalmatian star"
    # alternatives: "white or yellow or purple flowers"; two colours: "black-and-white"
    assert read("the crocus star") == "the crocus star"
    assert read("the zebra star") == "the zebra star"
    # a head after a thing read as a colour is a head too, even after a colour WordNet also
    # has as a noun ("orange")
    lex = Lexicon.of([*known, "orange"], wordnet, colours=False)
    assert lex.rewrite("the carrot gizmo")[0] == "the orange object"
    # not a name (a capitalised word after the first, not after a determiner)
    assert lex.rewrite("the star daffodil drew")[0].split()[2] == "yellow"
    assert lex.rewrite("the star Daffodil drew")[0].split()[2] == "Daffodil"
    assert lex.rewrite("the Daffodil star")[0] == "the yellow star"
    off = Lexicon.of([*known, "orange"], wordnet, colours=False)
    off.colour_things = False
    assert off.rewrite("the daffodil star")[0] == "the daffodil star"
    # off, as before: a head after a word the colour survey reads stays as written
    survey = Lexicon.of([*known, "orange"], wordnet)
    survey.colour_things = False
    assert survey.rewrite("the pumpkin gizmo")[0] == "the orange gizmo"


def test_a_thing_where_a_colour_stands_is_read_first_as_the_pattern_it_names(wordnet):
    known = ["the", "star", "object", "white", "yellow", "striped", "spotted", "spots", "of"]
    lex = Lexicon.of(known, wordnet, colours=False)
    read = lambda s: lex.rewrite(s)[0]  # noqa: E731
    assert read("the zebra star") == "the striped star"  # "… black-and-white striped …"
    assert read("the ladybug star") == "the spotted star"  # "… bright-colored and spotted …"
    assert read("the dalmatian star") == "the spots star"  # "… with black or brown spots"
    assert read("the seersucker star") == "the striped star"  # "(usually striped)"
    assert read("the daffodil star") == "the yellow star"  # no pattern: its colour
    # a marking in the singular is a place ("executed … in one spot"), not a pattern
    assert read("the piaffe star") == "the piaffe star"
    # a hyphenated word's last part ("… dark-spotted buff-brown coat"); not a verb ("… where
    # parcels are checked")
    assert read("the ocelot star") == "the spotted star"
    checks = Lexicon.of([*known, "checked"], wordnet, colours=False)
    assert checks.rewrite("the checkroom star")[0] == "the checkroom star"
    # the head after the thing is a head; not after a word that is merely read as a pattern
    assert read("the dalmatian gizmo") == "the spots object"
    assert read("the spot gizmo") == "the spots gizmo"
    off = Lexicon.of(known, wordnet, colours=False)
    off.pattern_things = False
    assert off.rewrite("the zebra star")[0] == "the zebra star"
    assert off.rewrite("the daffodil star")[0] == "the yellow star"


def test_a_noun_n_xer_is_read_as_its_adjective_n_xed(wordnet):
    known = ["the", "hexagon", "star", "triangle", "red", "left"]
    lex = Lexicon.of(known, wordnet, colours=False)
    assert lex.rewrite("the six-sider")[0] == "the hexagon"  # "six-sided": "having six sides"
    assert lex.rewrite("the red five-pointer")[0] == "the red star"
    assert lex.rewrite("the three-sider")[0] == "the triangle"  # three-sided is triangular
    # no such adjective ("two-seated" is not WordNet's), or one that reads as nothing known
    assert lex.rewrite("the two-seater")[0] == "the two-seater"
    assert lex.rewrite("the four-sider")[0] == "the four-sider"  # no known noun has four sides
    off = Lexicon.of(known, wordnet, colours=False)
    off.er_compounds = False
    assert off.rewrite("the six-sider")[0] == "the six-sider"
    # a model that knows the adjective reads it; a noun WordNet has is its own word
    assert Lexicon.of(["the", "six-sided"], wordnet).rewrite("the six-sider")[0] == (
        "the six-sided"
    )
    assert Lexicon.of(["the", "wheeled"], wordnet).rewrite("the four-wheeler")[0] == (
        "the four-wheeler"
    )


def test_a_nouns_shape_is_in_its_defining_phrase_not_in_what_it_has(wordnet):
    lex = Lexicon.of(["heart", "crescent"], wordnet, colours=False)
    # "very rich flaky crescent-shaped roll": the roll's shape
    assert lex.nearest("croissant") == "crescent"
    # "Eurasian plant with heart-shaped trifoliate leaves": the leaves', not the plant's
    assert lex.nearest("shamrock") is None
    assert Lexicon.of(["heart", "green"], wordnet).nearest("shamrock") == "green"  # the survey
    off = Lexicon.of(["heart", "crescent"], wordnet, colours=False)
    off.shape_phrase = False
    assert off.nearest("shamrock") == "heart"
    # the genus words themselves: "X-shaped" before the head only (also inside a longer
    # hyphenated word), "shaped like a X" anywhere
    gloss = "Eurasian plant with heart-shaped trifoliate leaves"
    assert genus_words(gloss, noun=True) == [] and genus_words(gloss) == ["heart"]
    assert genus_words("very rich flaky crescent-shaped roll", noun=True) == ["crescent"]
    assert genus_words("a small half-moon-shaped roll", noun=True) == ["moon"]
    assert genus_words("a revolving stone shaped like a disk", noun=True) == ["disk"]
