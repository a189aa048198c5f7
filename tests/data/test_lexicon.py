"""The WordNet lexicon: real WordNet 3.0 from the pinned package, hand-checked relations."""

import shutil

import pytest

from tvnet.data.lexicon import Lexicon
from tvnet.data.model_words import known_words, training_words, whole_words
from tvnet.data.tokenize import Vocab
from tvnet.data.wordnet import LexiconError, WordNet


@pytest.fixture(scope="module")
def wordnet():
    return WordNet()


def test_wordnet_lookups_by_binary_search(wordnet):
    # the first adjective sense of "red" lists the reds (WordNet 3.0, synset 00381097)
    (first, *_) = wordnet.offsets("red", "a")
    assert first == 381097
    red = wordnet.synset(first, "a")
    assert red.words[0] == "red" and {"crimson", "scarlet", "ruby"} <= set(red.words)
    assert wordnet.offsets("zorblax", "a") == [] and wordnet.offsets("zorblax", "n") == []
    # the very first and very last index entries are found (the search's two ends)
    assert wordnet.offsets("'hood", "n") and wordnet.offsets("zymurgy", "n")
    # multi-word lemmas are looked up with spaces, and come back with spaces
    (off,) = wordnet.offsets("plus sign", "n")[:1]
    assert "plus sign" in wordnet.synset(off, "n").words


def test_base_forms_follow_morphy(wordnet):
    assert wordnet.base_forms("circles", "n") == ["circle"]
    assert wordnet.base_forms("boxes", "n") == ["box"]
    assert "big" in wordnet.base_forms("bigger", "a")  # adj.exc: bigger → big
    assert wordnet.base_forms("zorblaxes", "n") == []
    # morphy's -er/-est rules grade adjectives only: "darker" is dark and "lightest" light
    # (45 adjective tags to 117 noun tags), but "sider" (from "six-sider") is not a
    # comparative of "side" (9 adjective tags to 168 noun tags)
    assert wordnet.base_forms("darker", "a") == ["dark"]
    assert wordnet.base_forms("lightest", "a") == ["light"]
    assert wordnet.base_forms("tallest", "a") == ["tall"]
    assert wordnet.base_forms("sider", "a") == []
    lex = Lexicon.of(["the", "side", "big", "triangle"], wordnet)
    lex.er_compounds = False  # "N-Xer" as "N-Xed" (tests/data/test_adjective_nouns.py)
    assert lex.rewrite("the bigger three-sider") == ("the big three-sider", [("bigger", "big")])


def test_rewrites_unseen_words_into_known_relatives(wordnet):
    lex = Lexicon.of(["the", "red", "small", "large", "circle", "dots", "blue", "with"], wordnet)
    text, rewrites = lex.rewrite("The tiny crimson circles with a dot, not the sky-blue one.")
    assert text == "The small red circle with a dots, not the blue one."
    assert rewrites == [
        ("tiny", "small"),  # similar to (satellite → head adjective)
        ("crimson", "red"),  # a synonym in red's first synset
        ("circles", "circle"),  # a plural of a known word
        ("dot", "dots"),  # the singular of a known plural
        ("sky-blue", "blue"),  # a hyphenated word, looked up whole
    ]
    assert lex.rewrite("the huge circle")[0] == "the large circle"
    assert lex.rewrite("the azure circle")[0] == "the blue circle"  # a kind of blue (hypernym)


def test_never_swaps_a_word_for_its_opposite_or_a_sibling(wordnet):
    # antonyms and co-hyponyms are not followed: white is not black, green is not red
    lex = Lexicon.of(["black", "red", "small"], wordnet)
    assert lex.nearest("white") is None
    assert lex.nearest("green") is None
    assert lex.nearest("large") is None
    # known words, short words and unknown strings are left alone
    assert lex.nearest("red") is None and lex.nearest("on") is None
    assert lex.rewrite("zorblax at 3 o'clock") == ("zorblax at 3 o'clock", [])
    # a head adjective does not reach its satellites (downward): "cardinal" is not "one"
    assert Lexicon.of(["one"], wordnet).nearest("cardinal") is None


def test_a_definition_names_the_kind_of_colour_or_shape(wordnet):
    lex = Lexicon.of(["purple", "crescent", "the", "one"], wordnet)
    assert lex.nearest("lilac") == "purple"  # adj.: "of a pale purple color"
    assert lex.nearest("croissant") == "crescent"  # "very rich flaky crescent-shaped roll"
    # a function word in the definition is not a kind: "milky" is not "the"
    assert Lexicon.of(["the", "in"], wordnet).nearest("milky") is None
    # relations only: no definitions read
    assert Lexicon.of(["purple", "crescent"], wordnet, glosses=False).nearest("lilac") is None


def test_a_definition_names_what_a_word_is_or_has(wordnet):
    # the head of a noun's definition, or what it usually is; a head noun's plural
    assert Lexicon.of(["disc"], wordnet).nearest("coin") == "disc"  # "(usually a disc)"
    assert Lexicon.of(["spots"], wordnet).nearest("speck") == "spots"  # "a very small spot"
    # what an adjective's definition says a surface has
    assert Lexicon.of(["stripes"], wordnet).nearest("pinstriped") == "stripes"
    assert Lexicon.of(["spots"], wordnet).nearest("dappled") == "spots"
    # "the color of gold", and gold read through WordNet, not the colour survey
    assert Lexicon.of(["yellow"], wordnet, colours=False).nearest("golden") == "yellow"
    # both rules off: only the definition's colour or shape words known as written, as before
    for word, known in (("coin", "disc"), ("pinstriped", "stripes"), ("golden", "yellow")):
        lex = Lexicon.of([known], wordnet, colours=False)
        lex.gloss_heads = lex.colour_objects = False
        assert lex.nearest(word) is None, word
    # the colour of gold is the other rule's: with only the definition rule off, still yellow
    lex = Lexicon.of(["yellow"], wordnet, colours=False)
    lex.gloss_heads = False
    assert lex.nearest("golden") == "yellow" and lex.nearest("coin") is None
    assert Lexicon.of(["purple"], wordnet).nearest("lilac") == "purple"  # genus, unchanged


def test_a_things_colour_where_a_word_is_said_to_have_it(wordnet):
    colours = ["yellow", "white", "purple", "orange", "crescent"]
    lex = Lexicon.of(colours, wordnet, colours=False)  # WordNet alone, no survey
    # "X-coloured": the colour X's definition names, not what X's shape reads as
    assert lex.rewrite("the banana-coloured star") == (
        "the yellow star",
        [("banana-coloured", "yellow")],
    )
    assert lex.nearest("banana") == "crescent"  # "crescent-shaped yellow fruit": its shape
    assert lex.rewrite("the carrot-colored one")[0] == "the orange one"
    # "resembling milk in color", and milk is "a white nutritious liquid"
    assert lex.nearest("milky") == "white"
    # the colour the thing is read as (here by the colour survey: grape is purple) comes
    # before its definition's first colour word ("grape": "… with green or purple skins")
    grape = Lexicon.of(["green", "purple"], wordnet).rewrite("the grape-coloured one")[0]
    assert grape == "the purple one"
    # a compound whose first part names no colour is left to the other rules, and so is one
    # whose definition names a colour only after its head ("… gives a red glow")
    assert lex.rewrite("the block-coloured star")[0] == "the block-coloured star"
    assert Lexicon.of(["red"], wordnet, colours=False).nearest("neon-coloured") is None
    # a colour the model does not know, named first, is no answer: "tan" ("a light brown the
    # color of topaz") is not the topaz's yellow; with brown known it is brown
    assert Lexicon.of(["yellow", "orange"], wordnet).nearest("tan") is None
    assert Lexicon.of(["yellow", "orange", "brown"], wordnet).nearest("tan") == "brown"
    # and "having only one color" says no colour: "monochromatic" is not the generic "one"
    assert Lexicon.of(["one", "white"], wordnet).nearest("monochromatic") is None
    # off: as before, part by part and "the color of X" as X's nearest word; no definitions
    # (glosses off) is no colour of a thing either
    off = Lexicon.of(colours, wordnet, colours=False)
    off.colour_objects = False
    assert off.rewrite("the banana-coloured star")[0] == "the crescent-coloured star"
    assert off.nearest("milky") is None
    plain = Lexicon.of(colours, wordnet, colours=False, glosses=False)
    assert plain.rewrite("the banana-coloured star")[0] == "the banana-coloured star"


def test_a_definitions_head_is_no_place_no_empty_word_and_a_noun(wordnet):
    # a place: the front is not the side ("the side that is forward or prominent"), though
    # that is the side's commonest sense, the one SynthRef uses
    assert Lexicon.of(["side"], wordnet, senses={"side": "n1 a1"}).nearest("front") is None
    # words that say nothing of how a thing looks: a ball is not "object", round not "shape"
    assert Lexicon.of(["object"], wordnet).nearest("ball") is None
    assert Lexicon.of(["shape"], wordnet).nearest("round") is None
    # only the head noun: "a small (usually square or hexagonal) metal block" makes a nut
    # neither small nor square
    assert Lexicon.of(["small"], wordnet).nearest("nut") is None
    assert Lexicon.of(["square", "hexagon"], wordnet).nearest("nut") is None
    # "the right to buy or sell property" is no place: the head is read only in the right's
    # commonest sense, which is not the sense SynthRef uses
    assert Lexicon.of(["right"], wordnet, senses={"right": "n2 a1"}).nearest("option") is None
    # where the data says which senses it uses, a head only in its commonest one: a symbol is
    # "an arbitrary sign", which is not the plus sign's sense of "sign"
    assert Lexicon.of(["sign"], wordnet).nearest("symbol") == "sign"
    assert Lexicon.of(["sign"], wordnet, senses={"sign": "n11"}).nearest("symbol") is None
    # a plural SynthRef uses in no WordNet sense of its own is read through its singular
    assert Lexicon.of(["spots"], wordnet, senses={"spots": ""}).nearest("speck") == "spots"


def test_sense_counts_are_wordnets_tag_counts(wordnet):
    # cntlist.rev: near%2:38:00:: 1 11, near%3:00:00:: 1 44, near%4:02:01:: 1 19, …:: 2 1
    assert wordnet.sense_counts("near") == {("v", 1): 11, ("a", 1): 44, ("r", 1): 19, ("r", 2): 1}
    assert wordnet.sense_counts("zorblax") == {} and wordnet.sense_counts("café") == {}


def test_only_the_senses_people_use_are_read(wordnet):
    # "see" is mostly a verb (its noun sense is a bishop's see): left alone
    assert Lexicon.of(["center"], wordnet).nearest("see") is None
    # "near" is the horse's left side only in a sense almost never used
    assert Lexicon.of(["left"], wordnet).nearest("near") is None
    # a hypernym next to the root stands for too much: a block is not "solid" (matter)
    assert Lexicon.of(["solid"], wordnet).nearest("block") is None
    assert Lexicon.of(["object"], wordnet).nearest("location") is None
    # a known word shorter than three letters is never a target: an inch is not "in"
    assert Lexicon.of(["in", "is"], wordnet).nearest("inch") is None


def test_hyphens_and_tokens_as_the_tokenizer_sees_them(wordnet):
    lex = Lexicon.of(["blue", "green", "red", "right", "far"], wordnet)
    # both parts known: the model reads both, nothing is lost
    assert lex.rewrite("the blue-green one, far-right") == ("the blue-green one, far-right", [])
    # a word glued to digits is one token to the model: not rewritten inside it; an
    # underscore splits tokens (tvnet/data/tokenize.py), so it splits words here too
    assert lex.rewrite("crimson2 crimson_x") == ("crimson2 red_x", [("crimson", "red")])
    assert lex.rewrite("Crimson!") == ("red!", [("Crimson", "red")])


def test_a_compound_with_one_known_part_is_read_as_that_part(wordnet):
    """design.md §6, "Wording: compounds": one part known as written that names a thing or
    an attribute, the others related to nothing known: read as the known part."""
    lex = Lexicon.of(["the", "orange", "white", "moon", "dotted", "one", "in", "star"], wordnet)
    text, rewrites = lex.rewrite("the burnt-orange moon")
    assert (text, rewrites) == ("the orange moon", [("burnt-orange", "orange")])
    assert lex.compound("burnt-orange", "orange") and not lex.compound("huge", "large")
    assert lex.rewrite("the pin-dotted one")[0] == "the dotted one"
    # not when a part turns the meaning around, when the known part is a generic noun or a
    # function word, or when another part is read as some known word (it is the head then)
    for kept in (
        "the non-white star",
        "the dot-free star",
        "the one-colour star",
        "the half-star",
        "the fake-star",
        "the semi-star",
    ):  # a part, an imitation
        assert lex.rewrite(kept)[0] == kept, kept
    assert lex.rewrite("the filled-in star")[0] == "the filled-in star"
    both = Lexicon.of(["the", "white", "red", "star"], wordnet)
    assert both.rewrite("the scarlet-white star")[0] == "the red-white star"  # two known words
    # three parts are a phrase, not a modifier and a head: "second-to-last" is not "second";
    # nor is "second-last": a known first part names the thing only before a suffix-like head
    ordinal = Lexicon.of(["the", "second", "heart", "to", "hexagon", "red", "square"], wordnet)
    assert ordinal.rewrite("the second-to-last heart") == ("the second-to-last heart", [])
    for kept in ("the second-last heart", "the square-patterned hexagon"):
        assert ordinal.rewrite(kept) == (kept, []), kept
    assert ordinal.rewrite("the hexagon-like heart")[0] == "the hexagon heart"
    assert ordinal.rewrite("the hexagon-patterned heart")[0] == "the hexagon-patterned heart"
    assert ordinal.rewrite("the red-tinted heart")[0] == "the red heart"
    # off: the parts as before
    lex.compound_heads = False
    assert lex.rewrite("the burnt-orange moon") == ("the burnt-orange moon", [])


def test_a_word_of_a_fixed_phrase_is_never_read_alone(wordnet):
    """design.md §6, "Wording: fixed phrases": "front" alone is a kind of "side" to WordNet,
    but "in front of" is one preposition; read alone it would say "in side of"."""
    from tvnet.data.phrases import phrase_words

    lex = Lexicon.of(["the", "star", "in", "of", "circle", "side", "red", "at", "most"], wordnet)
    assert lex.nearest("front") == "side"  # the premise
    assert lex.rewrite("the star in front of the circle") == ("the star in front of the circle", [])
    assert lex.rewrite("the star in-front of the circle")[0] == "the star in-front of the circle"
    # the phrase's other words and the rest of the sentence are read as before
    assert lex.rewrite("the crimson star in front of the circle") == (
        "the red star in front of the circle",
        [("crimson", "red")],
    )
    # a phrase is words with only spaces between; a noun of its own is read as before
    assert lex.rewrite("the star in the front")[0] == "the star in the side"
    words, gaps = ["star", "in", "front", "x"], ["", " ", ", ", " "]
    assert phrase_words(words, gaps, wordnet, lex.known | lex.short_known) == [False] * 4
    # only the words the model does not know are marked ("at most": both known, nothing)
    words, gaps = ["at", "most", "in", "front"], ["", " ", " ", " "]
    assert phrase_words(words, gaps, wordnet, frozenset({"at", "most", "in"})) == [
        False,
        False,
        False,
        True,
    ]
    # off: "front" alone, as before
    lex.phrases = False
    assert lex.rewrite("the star in front of the circle")[0] == "the star in side of the circle"


def test_a_known_plural_is_one_only_where_the_word_is_used_as_a_plural(wordnet):
    # "dots" is the plural of "dot"; "does" is a verb form (not "doe"s), "boss" and
    # "species" are nouns of their own (WordNet's tag counts decide)
    lex = Lexicon.of(["does", "boss", "species", "dots"], wordnet)
    assert lex.by_base == {"dot": "dots"}
    assert lex.nearest("doe") is None and lex.nearest("dot") == "dots"


def test_one_reader_serves_every_lexicon():
    a, b = Lexicon.of(["red"]), Lexicon.of(["blue"])
    assert a.wordnet is b.wordnet  # no files mapped again per lexicon


def test_colour_names_wordnet_cannot_place_fall_back_on_the_survey(wordnet):
    # WordNet's "mustard" is a condiment; the xkcd survey's is a yellow
    lex = Lexicon.of(["yellow", "blue", "green"], wordnet)
    assert lex.nearest("mustard") == "yellow" and lex.nearest("mint") == "green"
    assert Lexicon.of(["yellow"], wordnet, colours=False).nearest("mustard") is None
    # only onto a colour the model knows
    assert Lexicon.of(["blue"], wordnet).nearest("mustard") is None


def test_a_survey_colour_goes_by_the_compounds_people_name_it_in_and_where_it_stands(wordnet):
    """The xkcd survey writes "navy blue", "plum purple" and "wine red": those names are read
    as that term although their colour alone is nearest black, pink and pink; and a word that
    only the survey reads is a colour where a colour word stands, not where it ends its
    phrase and names a thing."""
    known = ["the", "circle", "star", "ring", "one", "object", "left", "that", "is", "in"]
    lex = Lexicon.of([*known, "red", "blue", "green", "purple", "pink", "orange"], wordnet)
    assert (lex.nearest("navy"), lex.nearest("plum"), lex.nearest("wine")) == (
        "blue",
        "purple",
        "red",
    )
    read = lambda s: lex.rewrite(s)[0]  # noqa: E731
    assert read("the navy circle") == "the blue circle"
    assert read("the navy one on the left") == "the blue one on the left"
    assert read("the star in lime") == "the star in green"  # after "in" …
    assert read("the one that is navy") == "the one that is blue"  # … or "is"
    assert read("a navy blue ring") == "a blue ring"  # a shade of the term after it: left out
    assert read("the brick-red star") == "the red star"  # the known colour names it
    assert read("the plum-striped star") == "the purple-striped star"  # beside no colour
    assert read("the one that's navy") == "the one that's blue"  # a clitic "is"
    assert read("the star that is dark navy") == "the star that is dark blue"  # past "dark"
    assert read("the navy and red star") == "the blue and red star"  # colours joined
    for s in ("the circle in the sky", "the star next to the pine", "the pine that is red"):
        assert read(s) == s, s  # a thing, not a colour
    assert "orange" not in read("the big red brick")
    # off: by the colour alone ("navy" then has no known term), and anywhere
    old = Lexicon.of([*known, "red", "blue", "green", "purple", "pink", "orange"], wordnet)
    old.colour_compounds = old.colour_positions = False
    assert old.nearest("navy") is None and old.nearest("plum") == "pink"
    yellow = Lexicon.of([*known, "yellow"], wordnet)
    assert yellow.rewrite("the ring that is left of the mustard")[0].endswith("the mustard")
    yellow.colour_positions = False
    assert yellow.rewrite("the ring that is left of the mustard")[0].endswith("the yellow")


def test_known_words_of_both_vocabularies():
    vocab = Vocab(["<pad>", "<unk>", "red", "circle"])
    assert known_words(vocab, {}) == ["red", "circle"]
    assert known_words(None, {"vocab": vocab.words}) == ["red", "circle"]  # from config.json

    class Pieces:  # a word-piece vocabulary has no word list of <pad>, <unk>, …
        words = ["hf_tokens:package:x"]

    assert known_words(Pieces(), {}) == []
    assert known_words(Pieces(), {"known_words": ["red", "disc"]}) == ["red", "disc"]
    pieces = {"vocab": Pieces.words, "known_words": ["red"]}
    assert known_words(None, pieces) == ["red"] and known_words(None, {}) == []
    assert training_words(["The red disc.", "a RED one"]) == ["a", "disc", "one", "red", "the"]


def test_missing_or_damaged_wordnet_is_a_clear_error(wordnet, tmp_path):
    with pytest.raises(LexiconError, match="cannot read WordNet"):
        Lexicon.of(["red"], WordNet(tmp_path)).nearest("crimson")
    broken = tmp_path / "wn"
    shutil.copytree(wordnet.root, broken)
    (broken / "data.adj").write_text("  header only\n")
    with pytest.raises(LexiconError, match="no synset"):
        Lexicon.of(["red"], WordNet(broken)).nearest("crimson")
    # a garbled line is a LexiconError too, not an IndexError or ValueError
    (broken / "data.adj").write_bytes(
        (wordnet.root / "data.adj").read_bytes().replace(b"00381097 00 s 0c", b"00381097 00 s zz")
    )
    with pytest.raises(LexiconError, match="damaged"):
        Lexicon.of(["red"], WordNet(broken)).nearest("crimson")


def test_adjective_suffixes_lead_back_to_a_known_stem(wordnet):
    # words WordNet lacks or relates to nothing known; the stem is a known word (or its plural)
    lex = Lexicon.of(["white", "orange", "dots", "stripes", "thing", "red"], wordnet)
    assert lex.nearest("whitish") == "white"  # whit-ish: the stem's lost e
    assert lex.nearest("orangey") == "orange"
    assert lex.nearest("dotty") == "dots"  # dott-y: a doubled consonant, then the plural
    assert lex.nearest("stripey") == "stripes"
    assert lex.nearest("thingy") == "thing"
    # "streak" is not known: no suffix rule follows it further (WordNet's definition of
    # "streaky", "marked with or as if with stripes", is what reads it, when that rule is on)
    assert lex.nearest("streaky") == "stripes"
    lex = Lexicon.of(["stripes"], wordnet)
    lex.gloss_heads = False
    assert lex.nearest("streaky") is None
    assert lex.nearest("ish") is None and lex.nearest("rey") is None  # stems too short
    # not from a function word, nor for a noun-only word or a verb
    lex = Lexicon.of(["the", "and", "with", "left", "car", "top", "star"], wordnet)
    assert lex.nearest("they") is None and lex.nearest("andy") is None
    assert lex.nearest("withy") is None and lex.nearest("lefty") is None  # nouns to WordNet
    assert lex.nearest("carry") is None  # mostly a verb
    # a hyphenated word WordNet has whole, related to nothing known, keeps its parts unread
    assert lex.rewrite("a topsy-turvy star") == ("a topsy-turvy star", [])
    # a word that WordNet relates to a known word is read through WordNet first
    assert Lexicon.of(["red", "ruddy"], wordnet).nearest("reddish") == "red"


def test_words_that_name_no_object_or_attribute_are_left_out(wordnet):
    """docs/design.md §6, "Wording": a lead-in or tail that names nothing ("find", "please",
    "you": mostly verbs to WordNet's tags, or function words it lacks that the text model
    holds whole) is left out; a word inside the expression, or one that may name the thing
    ("the loop", "blush star", "the green sq"), is not, and nothing is left out of a sentence
    with a negation or an exception."""
    known = ["the", "red", "green", "small", "star", "circle", "left", "of", "is", "that"]
    known += ["shape", "thing", "white", "right", "bottom", "at"]
    lex = Lexicon.of(known, wordnet, whole_words={"you", "for", "me", "where", "tri", "sq"})
    assert lex.rewrite("Can you find the small star, please?") == (
        "the small star?",
        [("Can", ""), ("you", ""), ("find", ""), ("please", "")],
    )
    assert lex.rewrite("it's the red star")[0] == "the red star"  # a contraction, whole
    assert lex.rewrite("I'm after the red star")[0] == "the red star"
    assert lex.rewrite("look for the star")[0] == "the star"
    assert lex.rewrite("find red star")[0] == "red star"  # "find": 705 verb tags to 0
    assert lex.rewrite("isolate the white thing for me")[0] == "the white thing"
    assert lex.rewrite('"find: the star"')[0] == '"the star"'
    assert lex.rewrite("Find the star — please.")[0] == "the star."
    # where a word stands inside the expression, or may name the thing, it stays: after an
    # article, before a noun it modifies, at the end after a modifier, between kept words,
    # in a hyphenated word, and as a clitic of a kept word
    for kept in (
        "the loop",
        "blush star",
        "the green sq",
        "the red tri",
        "the star beside the circle",
        "the star left of the sail",
        "the pin-striped star",
        "the star's left",
        "the circle at the bottom right please",
        "the green x",  # a letter at the end is the shape it looks like, not a filler
        "the star for u",
    ):
        assert lex.rewrite(kept) == (kept, []), kept
    # nothing that names a thing would be left, or a negation or exception: as written
    for literal in (
        "find it",
        "please the",
        "find the star that is not red",
        "find the star that isn't red",
        "find the star unless it is red",
        "find every shape excluding the star",
        # a lead-in verb that rules its object out is no filler: "avoid the red circle" is
        # not "the red circle"
        "avoid the red circle",
        "ignore the star",
        "skip the red circle",
        "disregard the star",
    ):
        assert lex.rewrite(literal) == (literal, []), literal
    assert lex.rewrite("find the star", drop_fillers=False) == ("find the star", [])
    # without the text model's whole words, function words WordNet lacks stay
    bare = Lexicon.of(known, wordnet)
    assert bare.rewrite("where is the star for")[0] == "where is the star for"
    assert bare.rewrite("find the star")[0] == "the star"  # a verb by WordNet's tags


def test_whole_words_of_a_word_piece_vocabulary():
    from tvnet.model.hf_text import SubwordVocab

    whole = whole_words(SubwordVocab())
    assert {"you", "for", "please", "the"} <= whole
    assert not any(w.startswith("#") or not w.isalpha() for w in whole)
    assert whole_words(Vocab(["<pad>", "<unk>", "red"])) is None

    class BPE:  # a byte-level BPE vocabulary: its bare entries are word-internal pieces
        tokenizer = type("T", (), {"vocab": {"Ġyou": 0, "you": 1, "ing": 2}})()

    assert whole_words(BPE()) is None


def test_an_unknown_head_noun_is_read_as_a_generic_noun(wordnet):
    """docs/design.md §6, "Wording": a noun that WordNet relates to no known word and that
    ends its noun phrase names the thing meant, of a kind the model cannot know: it is read as
    the model's generic noun. A noun before another noun is a modifier, one after a copula a
    predicate, and a word WordNet relates to a known one is read as that word."""
    known = ["the", "red", "small", "star", "circle", "object", "left", "of", "one", "that", "is"]
    lex = Lexicon.of(known + ["striped", "thing"], wordnet)
    assert lex.rewrite("the red gizmo") == ("the red object", [("gizmo", "object")])
    assert lex.generic("gizmo", "object") and not lex.generic("pentagram", "star")
    assert lex.rewrite("the gizmo left of the star")[0] == "the object left of the star"
    assert lex.rewrite("the star left of the specimen")[0] == "the star left of the object"
    assert lex.rewrite("the buttons")[0] == "the object"  # a plural noun too
    for kept in (
        "the custard star",  # a modifier of the noun after it
        "the star that is custard",  # a predicate
        "the star that's custard",
        "the daffodil striped one",  # a modifier, adjectives skipped
        "segment the star",  # the first word, before a determiner: a command
        "the star overlapping the circle",  # after a noun the model knows
        "the star in the picture",  # the picture itself
        "the star with a hole",  # a part
        "a bunch of stars",  # before "of": a quantity
        "the star in lime",  # a colour name
        "der rote Kreis",  # before a word no one can place
        "the star that glows",  # a verb after a relative pronoun
        "the shape which touches it",  # a verb before its object
        "the star Sam likes",  # after a name
        "the star a bit lower",  # a measure
        "the circle of a different hue",  # a colour's attribute
    ):
        assert lex.rewrite(kept)[1] in ([], [("stars", "star")]), kept
    assert lex.rewrite("the red pentagram") == ("the red star", [("pentagram", "star")])
    assert lex.rewrite("the red gizmo", generic_heads=False) == ("the red gizmo", [])
    # a model without a generic noun: nothing to read it as
    assert Lexicon.of(["the", "red", "star"], wordnet).rewrite("the red gizmo")[1] == []
    # with the words around the expression left out as well, a tail after the head too
    assert lex.rewrite("Find the red gizmo, please") == (
        "the red object",
        [("Find", ""), ("gizmo", "object"), ("please", "")],
    )
    assert lex.rewrite("the red gizmo please")[0] == "the red object"
    assert lex.rewrite("the gizmo right of the star")[0] == "the object right of the star"
    assert lex.rewrite("the shiny gizmo near the star")[0] == "the shiny object near the star"
    assert lex.rewrite("the red gizmo thanks")[0] == "the red object thanks"


def test_a_known_noun_too_rare_to_be_tagged_still_names_a_thing(wordnet):
    # "hexagon" and "crescent" have no tagged senses in WordNet's corpus: they are nouns by
    # their senses (1 noun : 0 and 1 : 1 adjective), so the words around them may go
    lex = Lexicon.of(["the", "hexagon", "crescent", "dotted"], wordnet)
    assert lex.rewrite("the hexagon please") == ("the hexagon", [("please", "")])
    assert lex.rewrite("the crescent please") == ("the crescent", [("please", "")])
    assert lex.rewrite("find the hexagon") == ("the hexagon", [("find", "")])
    # "dotted" (adjective senses only) is no noun: a tail after it may be the head
    assert lex.rewrite("the dotted please") == ("the dotted please", [])


def test_an_unknown_indefinite_article_is_read_as_the_known_one(wordnet):
    lex = Lexicon.of(["a", "orange", "red", "star", "object"], wordnet)
    assert lex.rewrite("an orange star") == ("a orange star", [("an", "a")])
    assert lex.rewrite("An orange star")[0] == "A orange star"
    assert lex.article("An", "a") and not lex.article("crimson", "red")
    # an article is never left out, and the head after it is still found
    assert lex.rewrite("an ugly gizmo please")[0] == "a ugly object"
    assert Lexicon.of(["orange", "star"], wordnet).rewrite("an orange star")[0] == "an orange star"


def test_a_word_is_read_as_a_known_one_only_through_a_sense_synthref_uses_it_in(wordnet):
    from tvnet.data.model_words import data_senses
    from tvnet.data.synthref.vocabulary import WORD_SENSES

    known = ["left", "right", "white", "plain", "star", "bottom", "object", "solid", "side"]
    free = Lexicon.of(known, wordnet)
    held = Lexicon.of(known, wordnet, senses=WORD_SENSES)
    # false friends: a sense of the known word that SynthRef never means (WordNet 3.0 puts
    # "remaining" in left's adjective sense 2, "not used up"; "blank" in white's sense 8;
    # "cube" under solid's noun sense 3, a three-dimensional shape)
    for word, friend in [("remaining", "left"), ("leftover", "left"), ("exact", "right"),
                         ("blank", "white"), ("cube", "solid"), ("front", "side")]:  # fmt: skip
        assert free.nearest(word) == friend, word
        assert held.nearest(word) is None, word
    # the senses SynthRef does use still read: the pattern, the figure, a target
    assert held.nearest("unpatterned") == "plain" and held.nearest("unornamented") == "plain"
    assert held.nearest("pentagram") == "star" and held.nearest("target") == "object"
    assert held.rewrite("the remaining star") == ("the remaining star", [])
    # an inflection reads as its known base only as a part of speech the table uses it as:
    # "plains" (fields) is not the texture "plain", "uppers" (shoes) not the place "upper"
    more = [*known, "green", "large", "upper", "stripes"]
    free, held = Lexicon.of(more, wordnet), Lexicon.of(more, wordnet, senses=WORD_SENSES)
    for word, base in [("plains", "plain"), ("uppers", "upper")]:
        assert free.nearest(word, misspelt=False) == base, word
        assert held.nearest(word, misspelt=False) is None, word
    for word, base in [("greens", "green"), ("larger", "large"), ("plainer", "plain"),
                       ("stripe", "stripes"), ("sides", "side")]:  # fmt: skip
        assert held.nearest(word) == base, word
    # the same lexicon through every sense, for comparisons: the held one is left as it was,
    # and the short known words ("of") survive the copy
    held = Lexicon.of([*known, "of"], wordnet, senses=WORD_SENSES)
    assert held.nearest("remaining") is None  # cached under the table
    loose = held.with_senses(None)
    assert loose.nearest("remaining") == "left" and held.nearest("remaining") is None
    assert loose.short_known == held.short_known == {"of"} and loose.known == held.known
    assert loose.with_senses(WORD_SENSES).nearest("remaining") is None
    # only a SynthRef model's config selects the table; any other reads every sense
    assert data_senses({"data": {"name": "synthref"}}) is WORD_SENSES
    assert data_senses({"data": {"name": "refcoco"}}) is None and data_senses({}) is None


def test_every_synthref_sense_names_a_wordnet_sense_of_a_generator_word(wordnet):
    from tvnet.data.synthref import vocabulary as v

    written = {w for t in (v.SHAPE_WORDS, v.COLOUR_WORDS, v.TEXTURE_ADJ, v.TEXTURE_PP)
               for ps in t.values() for p in ps for w in p.split()}  # fmt: skip
    written |= {w for ps in v.SIZE_ADJ.values() for w in ps} | set(v.GENERIC_NOUNS)
    written |= v.LOCATION_WORDS | {"just", "very"}
    assert set(v.WORD_SENSES) <= written, set(v.WORD_SENSES) - written
    lex = Lexicon.of(v.WORD_SENSES, wordnet, senses=v.WORD_SENSES)  # resolves every number
    assert lex._home["left"] == {(wordnet.offsets("left", "n")[0], "n"),
                                 (wordnet.offsets("left", "a")[0], "a")}  # fmt: skip
    assert lex._home["over"] == frozenset()
    for bad in ("a9", "v1", "x"):  # a damaged table or WordNet: the caller reads as written
        with pytest.raises(LexiconError, match=f"'left' has no sense {bad}"):
            Lexicon.of(["left"], wordnet, senses={"left": bad})


def test_a_shade_before_a_basic_colour_term_is_left_out(wordnet):
    """A word the lexicon reads as a basic colour right before one ("brick red", "neon
    green", "navy blue") is a shade of the term after it: it used to be read as its own
    colour ("the orange red star"), naming two. A word the model knows is kept ("red green"),
    and so is a shade elsewhere ("the navy circle" is blue)."""
    lex = Lexicon.of(["the", "red", "green", "blue", "orange", "star", "circle"], wordnet)
    assert lex.rewrite("the brick red star")[0] == "the red star"
    assert lex.rewrite("the neon green star")[0] == "the green star"
    assert lex.rewrite("the red green star") == ("the red green star", [])
    assert lex.rewrite("the navy circle")[0] == "the blue circle"
