"""Training-time word swaps beyond colours (docs/design.md §6, "Wording").

:class:`tvnet.data.colour_names.ColourSwap` shows a model that reads word pieces
(``hf_tokens``) the survey's names for each basic colour, so that it learns to read what a
colour word means rather than one spelling. :class:`WordSwap` does the same for every other
noun and adjective of the training expressions, with WordNet as the source: each training word
gets the words WordNet relates to it in its most frequent noun and adjective senses — its
synonyms, and the satellites of a head adjective ("tiny" of "small") — and keeps only those
that :class:`tvnet.data.lexicon.Lexicon` reads back as that same word. A swap therefore never
changes what the expression refers to by the lexicon's own reading, and nothing here depends
on a data set: the words are the model's, the relations WordNet's.

The question it answers (docs/experiments.md, 2026-12-03, third session) is whether seeing
varied wording for the same concept makes the model rely on what its pretrained text encoder
says a word means, and so read words that neither WordNet nor the survey relate to anything
known ("nacho", "custard"), which the lexicon cannot rewrite. At 16k samples it did not
(no gain on six paraphrase lists), so both presets leave it off.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import numpy as np

from tvnet.data.colour_names import swap_record, swap_words
from tvnet.data.lexicon import MIN_LEN, POS, Lexicon
from tvnet.data.wordnet import WordNet, shared_wordnet

# pointers followed from a training word's sense, one step: similar-to (head adjective →
# satellites); a synset's own words are always read. Noun hyponyms are not: WordNet's kinds of
# "star", "shape" or "bottom" are "deneb", "angularity" and "bilge", no one's words for them
_DOWN = {"a": ("&",), "n": ()}
_SWAPPABLE = re.compile(r"[a-z]+(?:-[a-z]+)?")  # one word, or two joined by a hyphen


def swap_table(
    known: Iterable[str], wordnet: WordNet | None = None, senses: dict[str, str] | None = None
) -> dict[str, tuple[str, ...]]:
    """Known word → the words WordNet relates to it that the lexicon reads back as it, sorted;
    known words with none are absent. ``senses``: the senses the training data uses its words
    in (:attr:`tvnet.data.lexicon.Lexicon.senses`; None: every sense), so that a swap is a word
    the model's own lexicon reads back. A relative is kept only when the sense it was found in
    is its own most frequent one ("nigh" is a synonym of "left" in a sense people rarely use
    it in), and it is not an inflection of the word ("bigger"); a known plural ("spots") is
    not swapped, since WordNet files it as a noun of its own."""
    lex = Lexicon.of(known, wordnet or shared_wordnet(), senses=senses)
    wn = lex.wordnet
    plurals = set(lex.by_base.values())
    out: dict[str, tuple[str, ...]] = {}
    for word in sorted(lex.known - plurals):
        found: dict[str, tuple[int, str]] = {}  # relative → the synset it was found in
        for pos in POS:
            for _, off in lex._senses(word, pos)[:1]:  # its most frequent sense only
                synset = wn.synset(off, pos)
                places = [(off, synset)]
                if synset.pos != "s":  # a head adjective's satellites (down, never up)
                    places += [
                        (o, wn.synset(o, q))
                        for sym, o, q in synset.pointers
                        if sym in _DOWN[pos] and q in ("n", "a", "s")
                    ]
                for o, ss in places:
                    for w in ss.words:
                        found.setdefault(w, (o, pos))
        names = sorted(
            w
            for w, (o, pos) in found.items()
            if len(w) >= MIN_LEN
            and w not in lex.known
            and _SWAPPABLE.fullmatch(w)
            and word not in wn.base_forms(w, pos)
            and wn.offsets(w, pos)[:1] == [o]
            and lex.nearest(w) == word
        )
        if names:
            out[word] = tuple(names)
    return out


class WordSwap:
    """Swaps each word of an expression that has WordNet relatives (:func:`swap_table`), with
    probability ``p``, for a random one of them."""

    def __init__(
        self,
        p: float,
        known: Iterable[str],
        wordnet: WordNet | None = None,
        exclude: Iterable[str] = (),
        senses: dict[str, str] | None = None,
    ):
        """``exclude``: words never swapped here (the basic colour terms, when a
        :class:`~tvnet.data.colour_names.ColourSwap` swaps them already); ``senses``: as
        :func:`swap_table`'s."""
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"word swap probability must be in [0, 1], got {p}")
        skip = {w.lower() for w in exclude}
        table = swap_table(known, wordnet, senses)
        self.p, self.table = p, {k: v for k, v in table.items() if k not in skip}

    def record(self) -> dict[str, object]:
        """What a run records of its table: how many words have swaps, how many swaps there
        are, and a digest that changes when the lexicon or WordNet reads any of them anew."""
        return swap_record(self.table, "words", "swaps")

    def __call__(self, sentence: str, rng: np.random.Generator) -> str:
        return swap_words(sentence, self.table.get, self.p, rng)


Augment = Callable[[str, np.random.Generator], str]


def chain(*swaps: Augment) -> Augment:
    """One augmentation that applies ``swaps`` in order, each to the output of the one before
    (so a later swap may change a word inside an earlier one's replacement, as the word swap
    may in a survey colour name like "dark red": the meaning is kept either way)."""
    if len(swaps) == 1:
        return swaps[0]

    def apply(sentence: str, rng: np.random.Generator) -> str:
        for swap in swaps:
            sentence = swap(sentence, rng)
        return sentence

    return apply
