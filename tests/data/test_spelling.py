"""Misspelt words: the edit arithmetic by hand, and the lexicon's reading on real WordNet 3.0."""

import pytest

from tvnet.data.lexicon import Lexicon
from tvnet.data.spelling import LEFT_OUT, SWAP, TOO_MANY, WRONG, correction, distance, one_edit
from tvnet.data.wordnet import WordNet


@pytest.fixture(scope="module")
def wordnet():
    return WordNet()


def test_one_edit_names_the_kind_of_error():
    assert one_edit("sqaure", "square") == SWAP  # "au" typed "ua"
    assert one_edit("squre", "square") == LEFT_OUT  # the "a" left out
    assert one_edit("donnut", "donut") == TOO_MANY
    assert one_edit("moom", "moon") == WRONG
    assert one_edit("square", "square") is None  # no edit is not one edit
    assert one_edit("sqrtue", "square") is None  # two letters wrong
    assert one_edit("abcd", "badc") is None  # two swaps
    assert one_edit("ab", "abcd") is None


def test_distance_counts_edits_and_stops_at_the_limit():
    assert distance("cresant", "crescent", 2) == 2  # "c" left out, "a" for "e"
    assert distance("dougnut", "donut", 2) == 2  # two letters too many
    assert distance("ca", "ac", 2) == 1  # a swap is one edit (optimal string alignment)
    assert distance("kitten", "sitting", 5) == 3  # the textbook pair
    assert distance("same", "same", 2) == 0
    assert distance("abcdefgh", "hgfedcba", 2) == 3  # past the limit: limit + 1
    assert distance("a", "abcd", 2) == 3  # the length difference alone exceeds it


def test_correction_picks_the_likeliest_single_known_word():
    known = ["square", "circle", "ring", "sign", "star", "left", "dots", "side", "crescent"]
    assert correction("sqaure", known) == "square"
    assert correction("cricle", known) == "circle"
    assert correction("rign", known) == "ring"  # a swap beats a wrong first letter ("sign")
    assert correction("lfet", known) == "left"  # the first two letters swapped
    assert correction("hots", known) is None  # a wrong first letter: not "dots"
    assert correction("cresant", known) == "crescent"  # long: two edits, same beginning
    assert correction("sider", known) is None  # "-er" makes a noun: a six-sider is no side
    assert correction("sta", known) is None  # too short to correct
    assert correction("sq-are", known) is None  # not a plain word
    # two known words equally likely: nothing
    assert correction("cart", ["care", "cars"]) is None
    assert correction("cart", ["care", "cars", "carts"]) == "carts"  # a letter left out wins
    # two edits only for long words that begin as the known word does
    assert correction("losange", ["orange"]) is None and correction("lozenge", ["orange"]) is None
    assert correction("strpie", ["stripe"]) == "stripe" and correction("sqre", ["square"]) is None


# the text model's whole words that these tests need (a word-piece vocabulary holds ~20k)
WHOLE = ["the", "red", "of", "and", "with", "she", "in", "front", "stop", "sign", "it", "left"]


def test_the_lexicon_reads_misspellings_of_known_words(wordnet):
    known = ["the", "red", "square", "circle", "left", "of", "star", "and", "donut", "spotted"]
    lex = Lexicon.of(known + ["corner", "dots", "striped"], wordnet, whole_words=WHOLE)
    assert lex.rewrite("the red sqaure lfet of the satr") == (
        "the red square left of the star",
        [("sqaure", "square"), ("lfet", "left"), ("satr", "star")],
    )
    assert lex.misspelling("sqaure", "square") and not lex.misspelling("crimson", "red")
    assert lex.nearest("crimson") == "red"  # WordNet first
    # a real English word is never read as a known word it resembles
    assert lex.nearest("squire") is None  # WordNet's noun
    assert lex.nearest("stripped") is None  # an inflection of WordNet's verb "strip"
    assert lex.nearest("doted") is None  # "dote" + "d", though "dotted" is one letter away
    assert lex.nearest("spoted") == "spotted"  # "spot" would double its "t": no inflection
    # never a function word, never a negation without its apostrophe
    assert lex.nearest("andy") is None and lex.nearest("dont") is None
    # a capitalised word inside a sentence is a name, and one in capitals; at a sentence's
    # start, or in a sentence written so throughout, it is not
    assert lex.rewrite("the Cormer star") == ("the Cormer star", [])
    assert lex.rewrite("the CORMER star") == ("the CORMER star", [])
    assert lex.rewrite("Cormer star") == ("corner star", [("Cormer", "corner")])
    for end in (". ", "? ", "!” ", ".) ", "… ", "\n"):
        said = f"the star{end}Cormer"
        assert lex.rewrite(said)[1] == [("Cormer", "corner")], said
    assert lex.rewrite("The Red Sqaure")[1] == [("Sqaure", "square")]
    assert lex.rewrite("THE RED SQAURE")[1] == [("SQAURE", "square")]
    # a contraction without its apostrophe, two words run together: no typos
    assert lex.nearest("shes") is None  # "she" + "s", not "shoes" (were it known)
    assert lex.nearest("infront") is None  # WordNet's "in front", not "infant" (were it known)
    cross = Lexicon.of(["the", "cross", "star"], wordnet, whole_words=WHOLE)
    assert cross.rewrite("the criss cross star") == ("the criss cross star", [])  # crisscross
    assert cross.rewrite("the criss star")[1] == [("criss", "cross")]  # alone: a typo
    assert Lexicon.of(["rhombus"], wordnet, whole_words=["rom", "bus"]).nearest("rombus") == (
        "rhombus"  # "rom bus" is no WordNet word
    )
    # a known plural's singular stands for it
    assert lex.nearest("dott") == "dots"  # "dot" + a letter too many
    # a function word for a swap or a letter left out; otherwise it stops the search
    lex = Lexicon.of(["with", "white", "which", "and", "large", "largest"], wordnet,
                     whole_words=WHOLE)  # fmt: skip
    assert lex.nearest("wiht") == "with" and lex.nearest("wich") == "which"
    assert lex.nearest("whith") is None  # a letter too many for "with": not "white"
    assert lex.nearest("largets") == "largest"  # an inflected known word is a candidate
    # equally near two words of one synset: no ambiguity
    lex = Lexicon.of(["disc", "disk", "ring", "sign"], wordnet, whole_words=WHOLE)
    assert lex.nearest("disck") == "disc"
    assert Lexicon.of(["care", "cars"], wordnet, whole_words=WHOLE).nearest("cart") is None
    # no vocabulary to tell typos from rare words (a word-vector model): nothing read
    assert Lexicon.of(known, wordnet).nearest("sqaure") is None
    off = Lexicon.of(known, wordnet, spelling=False, whole_words=WHOLE)
    assert off.rewrite("the red sqaure") == ("the red sqaure", [])
    assert off.nearest("sqaure") is None and off.nearest("crimson") == "red"


def test_a_hyphenated_word_that_wordnet_writes_closed_keeps_its_parts(wordnet):
    lex = Lexicon.of(["the", "cross", "star"], wordnet)
    assert lex.rewrite("the criss-cross star") == ("the criss-cross star", [])  # "crisscross"


def test_verb_inflections_follow_morphy_and_english_doubling(wordnet):
    assert wordnet.base_forms("slotted", "v") == ["slot"]  # verb.exc
    assert wordnet.base_forms("chalked", "v") == ["chalk"]
    assert wordnet.base_forms("spoted", "v") == []  # "spot" doubles its "t"
    assert "dote" in wordnet.base_forms("doted", "v")
    assert wordnet.base_forms("opened", "v") == ["open"]  # two syllables: no doubling
    assert wordnet.offsets("quickly", "r") and wordnet.offsets("run", "v")


def test_words_common_in_a_large_corpus_are_never_misspellings(wordnet):
    from tvnet.weights import COMMON_WORDS, common_words

    common = common_words()
    assert len(common) == COMMON_WORDS and "the" in common and "costner" in common
    assert not {"sqaure", "cricle", "obejct", "hexgon"} & common  # typos are rare
    known = ["the", "corner", "square"]
    lex = Lexicon.of(known, wordnet, whole_words=WHOLE, common_words=common)
    assert lex.rewrite("Costner on the left")[0] == "Costner on the left"  # a name, not "corner"
    assert lex.rewrite("the sqaure")[0] == "the square"
    assert Lexicon.of(known, wordnet, whole_words=WHOLE).nearest("costner") == "corner"
