"""Tokenisation and vocabulary (docs/design.md §4)."""

from __future__ import annotations

import numpy as np
import pytest

from tvnet.data.tokenize import PAD, UNK, Vocab, tokenize


def test_tokenize_lowercases_splits_and_drops_the_final_period() -> None:
    assert tokenize("Man in the RED shirt.") == ["man", "in", "the", "red", "shirt"]
    assert tokenize("left-most guy, 2nd from left!") == [
        "left",
        "most",
        "guy",
        "2nd",
        "from",
        "left",
    ]
    assert tokenize("snake_case  words\ttab") == ["snake", "case", "words", "tab"]
    assert tokenize("café au lait") == ["café", "au", "lait"]
    assert tokenize(" ... ") == []


def test_vocab_ids_are_deterministic() -> None:
    sents = ["the red circle", "the blue circle", "a star", "the star."]
    v = Vocab.build(sents)
    assert v.words[:2] == [PAD, UNK]
    assert v.words[2:] == ["the", "circle", "star", "a", "blue", "red"]  # by count, then word
    assert Vocab.build(list(reversed(sents))).words == v.words
    assert Vocab.build(sents, min_count=2).words == [PAD, UNK, "the", "circle", "star"]
    assert len(v) == 8
    with pytest.raises(ValueError):
        Vocab(["the", PAD, UNK])


def test_encode_pads_truncates_and_marks_unknown_words() -> None:
    v = Vocab.build(["the red circle"])
    ids, n = v.encode("The red HEXAGON.", max_tokens=5)
    assert ids.dtype == np.int64 and ids.shape == (5,)
    assert n == 3 and ids.tolist() == [v.index["the"], v.index["red"], 1, 0, 0]
    ids, n = v.encode("the red circle the red circle", max_tokens=4)
    assert n == 4 and (ids != 0).all()
    assert v.unknown("the green circle") == ["green"]
    with pytest.raises(ValueError, match="no words"):
        v.encode("?!")
    batch, lengths = v.encode_batch(["red", "the red circle"], max_tokens=3)
    assert batch.shape == (2, 3) and lengths.tolist() == [1, 3]


def test_read_part_ends_with_the_last_word_read() -> None:
    vocab = Vocab.build(["the red circle"])
    assert vocab.read_part("The red circle.", 3) == "The red circle."
    assert vocab.read_part("The red, big circle.", 2) == "The red"
    assert tokenize(vocab.read_part(" ".join(map(str, range(30))), 20)) == [
        str(i) for i in range(20)
    ]
    # lowercasing "İ" gives "i" and a combining dot: one written word, two tokens
    assert tokenize("İa b c") == ["i", "a", "b", "c"]
    assert vocab.read_part("İa b c", 2) == "İa"


def test_the_truncation_note_counts_words() -> None:
    vocab = Vocab.build(["the red circle"])
    assert vocab.truncation_note("the red circle", 3) is None
    long = " ".join(["circle"] * 21)
    assert (
        vocab.truncation_note(long, 20) == "expression has 21 words; the model reads the first 20"
    )


def test_cleaning_drops_lone_surrogates_and_reads_unicode_hyphens_as_ascii() -> None:
    """A lone surrogate ("\\ud800" from JSON) is no character: the tokenizer raised on it.
    The hyphens NFKC keeps (U+2010, U+2011, the minus sign) read as "-", so "sky‐blue" is
    the compound "sky-blue"."""
    from tvnet.data.tokenize import clean_expression

    assert clean_expression("the red \ud800 star") == "the red  star"
    assert clean_expression("sky\u2010blue, sky\u2011blue, \u22123") == "sky-blue, sky-blue, -3"


def test_an_expression_must_be_text() -> None:
    import pytest

    from tvnet.image import InputError
    from tvnet.inference.expression import require_expression

    for bad in (["red"], b"red star", 3):
        with pytest.raises(InputError, match="must be text"):
            require_expression(bad)
