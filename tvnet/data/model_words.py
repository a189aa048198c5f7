"""Which words a model knows, and the lexicon that reads any other word into them
(docs/design.md §6, "Wording"): the one construction that :class:`tvnet.Predictor` and
``tvnet eval`` share (:func:`model_lexicon`), and what a checkpoint records as its known
words (:func:`training_words`). The reading itself is :class:`tvnet.data.lexicon.Lexicon`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tvnet.data.lexicon import Lexicon
from tvnet.data.wordnet import LexiconError, WordNet


def known_words(vocab: Any, meta: dict[str, Any]) -> list[str]:
    """The words a model was trained on: a word vocabulary's own words, or, for a model that
    reads word pieces (``hf_tokens``), the ``known_words`` its checkpoint records ([] for
    checkpoints that predate the record: nothing is rewritten for them). ``vocab`` None: the
    word list a checkpoint's config.json records (``meta["vocab"]``), for callers that read
    the config without loading the model."""
    from tvnet.data.tokenize import PAD, UNK

    words = meta.get("vocab") if vocab is None else getattr(vocab, "words", None)
    if isinstance(words, list) and words[:2] == [PAD, UNK]:
        return list(words[2:])
    return [str(w) for w in meta.get("known_words") or []]


def model_lexicon(
    vocab: Any,
    meta: dict[str, Any],
    wordnet: WordNet | None = None,
    common_words: Iterable[str] | None = None,
) -> tuple[Lexicon | None, str | None]:
    """The lexicon that reads a model's unseen words as its known words (:func:`known_words`),
    or None: (None, None) for a checkpoint that records no known words (nothing to rewrite
    to), (None, why) for a damaged WordNet; expressions are then read as written. The one
    construction that :class:`tvnet.Predictor` and ``tvnet eval`` (:mod:`tvnet.eval.reading`)
    share; both pass ``common_words`` (:func:`tvnet.weights.common_words`). A model
    trained on SynthRef reads words into its known ones only through the senses SynthRef
    uses them in (:func:`data_senses`)."""
    known = known_words(vocab, meta)
    if not known:
        return None, None
    try:
        lex = Lexicon.of(
            known,
            wordnet,
            whole_words=whole_words(vocab),
            common_words=common_words,
            senses=data_senses(meta),
        )
        return lex, None
    except LexiconError as e:
        return None, f"words the model never saw are read as written: {e}"


def data_senses(meta: dict[str, Any]) -> dict[str, str] | None:
    """The WordNet senses in which a model's training data uses its words, for the data sets
    that say (SynthRef: :data:`~tvnet.data.synthref.vocabulary.WORD_SENSES`, as its config
    records ``data.name``); None for any other (RefCOCO's words mean whatever people meant)."""
    data = meta.get("data")
    if isinstance(data, dict) and data.get("name") == "synthref":
        from tvnet.data.synthref.vocabulary import WORD_SENSES

        return WORD_SENSES
    return None


def whole_words(vocab: Any) -> frozenset[str] | None:
    """The lower-case words that a word-piece text model's vocabulary holds whole ("you",
    "for"; not "##ey"), for :meth:`Lexicon.filler`; None for a word vocabulary or none."""
    table = getattr(getattr(vocab, "tokenizer", None), "vocab", None)
    if not isinstance(table, dict) or not any(w.startswith("##") for w in table):
        return None  # not WordPiece: BPE's and SentencePiece's bare pieces are word-internal
    return frozenset(w for w in table if w.isascii() and w.isalpha() and w.islower())


def training_words(sentences: Iterable[str]) -> list[str]:
    """Every word of ``sentences``, sorted: what a checkpoint records as ``known_words``.
    Words a model met only through training-time colour-name or word swaps are not known:
    each is rare there, and the model reads it less well than the basic term it stands for
    (docs/experiments.md, 2026-12-03, "WordNet"), so the lexicon rewrites it to that term."""
    from tvnet.data.tokenize import tokenize

    return sorted({t for s in sentences for t in tokenize(s)})
