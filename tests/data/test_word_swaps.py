"""Training-time word swaps: WordNet relatives that the lexicon reads back as the same word."""

import numpy as np
import pytest

from tvnet.data.lexicon import Lexicon
from tvnet.data.word_swaps import WordSwap, chain, swap_table
from tvnet.data.wordnet import WordNet

KNOWN = ["the", "small", "large", "circle", "red", "left", "of", "with", "dots", "box"]


@pytest.fixture(scope="module")
def wordnet():
    return WordNet()


def test_the_table_holds_relatives_the_lexicon_reads_back(wordnet):
    table = swap_table(KNOWN, wordnet)
    # satellites of the head adjective "small" (WordNet 3.0: tiny, wee, … are similar to it)
    assert {"tiny", "wee"} <= set(table["small"])
    assert {"huge", "enormous"} <= set(table["large"])
    assert {"crimson", "scarlet"} <= set(table["red"])
    lex = Lexicon.of(KNOWN, wordnet)
    for word, names in table.items():
        assert word in lex.known and names == tuple(sorted(names))
        for name in names:  # never a known word, never one the lexicon reads as another
            assert name not in lex.known and lex.nearest(name) == word, (word, name)
    # function words and words with no relative in their first sense have no entry
    assert "the" not in table and "of" not in table and "with" not in table
    # a relative whose own first sense is another ("nigh": near), an inflection ("larger")
    # and a known plural ("dots", which WordNet also has as a noun of its own) are not swaps
    assert "nigh" not in table["left"] and "larger" not in table["large"]
    assert "dots" not in table


def test_the_table_keeps_to_the_senses_the_data_uses_its_words_in(wordnet):
    from tvnet.data.synthref.vocabulary import WORD_SENSES

    known = [*KNOWN, "plain", "bottom"]
    loose, held = swap_table(known, wordnet), swap_table(known, wordnet, WORD_SENSES)
    # WordNet's first adjective sense of "plain" is "evident", its first noun sense of
    # "bottom" an underside: SynthRef means neither (an unpatterned texture, the lowest place)
    assert "evident" in loose["plain"] and "underside" in loose["bottom"]
    assert "plain" not in held and "bottom" not in held
    assert held["small"] == loose["small"] and held["red"] == loose["red"]
    lex = Lexicon.of(known, wordnet, senses=WORD_SENSES)
    assert all(lex.nearest(n) == w for w, names in held.items() for n in names)
    swap = WordSwap(1.0, known, wordnet, senses=WORD_SENSES)
    assert swap.table == held


def test_a_swapped_expression_reads_back_as_the_original(wordnet):
    swap = WordSwap(1.0, KNOWN, wordnet)
    lex = Lexicon.of(KNOWN, wordnet)
    sentence = "the small red circle left of the large box with dots"
    rng = np.random.default_rng(0)
    for _ in range(20):
        out = swap(sentence, rng)
        words = out.split(" ")
        assert len(words) == len(sentence.split(" "))
        # every word with relatives was swapped (p = 1), the rest kept
        for a, b in zip(sentence.split(" "), words):
            assert (a != b) == (a in swap.table), (a, b)
        assert lex.rewrite(out)[0] == sentence  # the round trip through the lexicon
    assert WordSwap(0.0, KNOWN, wordnet)(sentence, rng) == sentence
    same = [WordSwap(0.5, KNOWN, wordnet)(sentence, np.random.default_rng(7)) for _ in range(2)]
    assert same[0] == same[1]
    with pytest.raises(ValueError, match="word swap"):
        WordSwap(1.5, KNOWN, wordnet)


def test_excluded_words_are_left_to_the_colour_swap(wordnet):
    from tvnet.data.colour_names import ColourSwap

    colours = ColourSwap(1.0)
    words = WordSwap(1.0, KNOWN, wordnet, exclude=colours.names)
    assert "red" not in words.table and "small" in words.table
    rng = np.random.default_rng(1)
    for _ in range(10):
        the, small, rest = chain(colours, words)("the small red one", rng).split(" ", 2)
        assert the == "the" and small in words.table["small"] and rest.endswith(" one")
        # a survey name ("rust", "blood red"), which the word swap leaves alone
        assert rest.removesuffix(" one") in colours.names["red"]
    assert chain(words) is words
