"""The senses a data set uses its words in (docs/design.md §6, "Wording: the senses a data set
uses its words in").

WordNet lists every sense of a known word; a data set uses one or two: SynthRef's "left" is
the side and the place (:data:`tvnet.data.synthref.vocabulary.WORD_SENSES`: ``"n1 a1"``), never
"not used up", so "remaining" must not be read as it. :class:`Senses` is the half of
:class:`tvnet.data.lexicon.Lexicon` that resolves such a table into WordNet synsets, once, and
answers whether a synset, or a part of speech, is one a known word is used in. A word the
table does not list, or a lexicon without a table, is used in every sense.
"""

from __future__ import annotations

from tvnet.data.wordnet import LexiconError, WordNet

READ_POS = ("a", "n")  # the parts of speech a table names: adjective and noun senses


class Senses:
    """The senses half of :class:`tvnet.data.lexicon.Lexicon` (its attributes below)."""

    known: frozenset[str]
    wordnet: WordNet
    _home: dict[str, frozenset[tuple[int, str]]]

    def _home_senses(self, senses: dict[str, str]) -> dict[str, frozenset[tuple[int, str]]]:
        """Each listed known word's senses as (offset, part of speech) synsets; a sense
        number WordNet lacks is an error (the table's or a damaged WordNet's: the caller reads
        as written then), not a sense to skip."""
        home: dict[str, frozenset[tuple[int, str]]] = {}
        for word, numbers in senses.items():
            if word not in self.known:
                continue
            synsets = set()
            for number in numbers.split():
                pos, rank = number[0], int(number[1:]) if number[1:].isdigit() else 0
                offsets = self.wordnet.offsets(word, pos) if pos in READ_POS else []
                if not 1 <= rank <= len(offsets):
                    raise LexiconError(f"{word!r} has no sense {number} in WordNet")
                synsets.add((offsets[rank - 1], pos))
            home[word] = frozenset(synsets)
        return home

    def _used_as(self, word: str, pos: str) -> bool:
        """Is ``word`` used as a ``pos`` in one of the senses the data uses it in?"""
        home = self._home.get(word)
        return home is None or any(p == pos for _, p in home)

    def _at_home(self, word: str, offset: int, pos: str) -> bool:
        """Is the synset (``offset``, ``pos``) one of the senses ``word`` is used in?"""
        home = self._home.get(word)
        return home is None or (offset, pos) in home
