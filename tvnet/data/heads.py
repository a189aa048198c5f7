"""An unknown head noun read as "object" (docs/design.md §6, "Wording: an unknown head noun").

A person types "the red gizmo"; the model never saw "gizmo", and WordNet relates it to no
word the model knows. Read as written, its word pieces say something the model never learned
to use; yet whatever it names, it is the thing meant (or a landmark). :class:`Heads`, a part
of :class:`tvnet.data.lexicon.Lexicon`, reads such a noun as the model's generic noun
(:data:`GENERIC`: "the red object"), so that the other words decide, and only where the word
ends a noun phrase that names a thing in the picture:

- a noun to WordNet, not an adjective ("chunky"), not an auxiliary verb ("are" is also a
  unit of area) nor a part of a contraction ("isn't"), not a word for the picture itself (:data:`FRAME_WORDS`: "the star in the
  picture"), not a colour name of the xkcd survey ("the star in lime");
- after a determiner or a modifier: not the first word of a clause ("segment the star",
  "point to …" are commands; "…, thanks"), not right after an auxiliary ("the star that is lime", "that's lime": a
  predicate), a noun the model knows ("the star facing up") or a word that introduces a part
  ("with a hole", "has spikes");
- with no noun after it before the phrase ends, adjectives skipped ("the lipstick star",
  "the daffodil tessellated one": modifiers), no word after it that neither the model nor
  WordNet can place ("der rote Kreis"), not before "of" ("a bunch of stars", "the edge of
  …") nor before a determiner (a verb before its object: "… touches the circle").
"""

from __future__ import annotations

import functools
import re

from tvnet.data.fillers import _APOSTROPHES, ARTICLES
from tvnet.data.wordnet import MIN_LEN, WordNet, tag_count

# what an unknown head noun is read as: the first of these the model knows (any thing at all)
GENERIC = ("object", "thing", "item", "one")
# never a head noun, and a noun right after one is a predicate ("the star that is lime")
AUXILIARIES = frozenset(
    "is are am was were be being been has have had does do did can could will would shall "
    "should may might must looks seems".split()
)
_CLITICS = frozenset({"s", "re", "m"})  # "that's", "they're", "I'm" after an apostrophe
# words for the picture itself: a place in it, not a thing in it
FRAME_WORDS = frozenset(
    "picture photo photograph image pic pics background foreground frame scene screen canvas "
    "border edge margin view shot snapshot corner centre center middle side".split()
)
# a noun a few words after one of these is a part or a feature ("with a hole", "has spikes")
_FEATURE = frozenset({"with", "without", "has", "have", "having", "had"})
# a noun right before one of these is a verb before its object ("segment the star")
_DETERMINERS = ARTICLES | frozenset(
    "this these those my your his her its our their every each".split()
)
_BREAK = re.compile(r"[,.;:!?()]")


@functools.cache
def _colour_names() -> frozenset[str]:
    """Every one-word name of the xkcd colour survey (none when it cannot be read)."""
    from tvnet.data.colour_names import xkcd_survey

    try:
        return frozenset(n for n in xkcd_survey() if n.isalpha())
    except (ImportError, OSError, AttributeError, ValueError):
        return frozenset()


class Heads:
    """The generic-head half of :class:`tvnet.data.lexicon.Lexicon` (its attributes below;
    :meth:`nearest` and :meth:`filler` are the lexicon's)."""

    known: frozenset[str]
    short_known: frozenset[str]
    wordnet: WordNet

    def nearest(self, word: str) -> str | None:  # pragma: no cover - the lexicon's
        raise NotImplementedError

    def filler(self, word: str) -> bool:  # pragma: no cover - the lexicon's
        raise NotImplementedError

    def generic(self, word: str, read: str) -> bool:
        """Is the pair (``word``, ``read``) of :meth:`Lexicon.rewrite` an unknown head noun
        read as a generic noun, rather than a word WordNet relates to ``read``?"""
        return read in GENERIC and self.nearest(word) != read

    def generic_heads(
        self,
        matches: list[re.Match],
        gaps: list[str],
        read: list[str | None],
        pairs: list[list[tuple[str, str]]],
    ) -> None:
        """Read unknown head nouns as the first known word of :data:`GENERIC`, in place: read
        and the pair (word, generic) (see the module's notes)."""
        generic = next((g for g in GENERIC if g in self.known), None)
        if generic is None:
            return
        words = [m.group(0).lower() for m in matches]
        for i, w in enumerate(words):
            if read[i] is not None or "-" in w or len(w) < MIN_LEN or w in AUXILIARIES:
                continue
            if w in FRAME_WORDS or w in _colour_names() or self.filler(w):
                continue
            if gaps[i] in _APOSTROPHES or (i + 1 < len(words) and gaps[i + 1] in _APOSTROPHES):
                continue  # a part of a contraction: "isn't", "star's"
            if not self.wordnet.base_forms(w, "n") or self.wordnet.base_forms(w, "a"):
                continue  # not a noun, or also an adjective ("chunky")
            if self._after_modifier(words, gaps, read, i) and self._ends_phrase(
                words, gaps, read, i
            ):
                read[i] = generic
                pairs[i][:] = [(matches[i].group(0), generic)]

    def _after_modifier(
        self, words: list[str], gaps: list[str], read: list[str | None], i: int
    ) -> bool:
        """Does word ``i`` come after a determiner or a modifier, as a head noun does?"""
        if i == 0 or _BREAK.search(gaps[i]):
            return False  # a clause's first word: "segment the star", "…, thanks"
        prev = words[i - 1]
        if prev in AUXILIARIES or (prev in _CLITICS and gaps[i - 1] in _APOSTROPHES):
            return False  # a predicate: "the star that is lime", "that's lime"
        if read[i - 1] is not None and self._nounish(read[i - 1]):
            return False  # after a noun it knows: "the star facing up"
        # "with a hole", "has five points"
        return not any(w in _FEATURE for w in words[max(0, i - 3) : i])

    def _ends_phrase(
        self, words: list[str], gaps: list[str], read: list[str | None], i: int
    ) -> bool:
        """Does word ``i`` end its noun phrase: no noun after it before the phrase ends?"""
        for j in range(i + 1, len(words)):
            nxt = words[j]
            if _BREAK.search(gaps[j]):
                return True
            if nxt in _DETERMINERS or (nxt == "of" and j == i + 1):
                return False  # "segment the star"; "a bunch of stars", "the edge of …"
            if len(nxt) < MIN_LEN and nxt not in GENERIC:
                return True  # "to", "at", "or", "in"
            if read[j] is None and self.filler(nxt):
                return True  # a word that names nothing: "please", "beside"
            if self._nounish(read[j] or nxt):
                return False  # a modifier of the noun after it ("lipstick star")
            if read[j] is None and not any(self.wordnet.base_forms(nxt, p) for p in "an"):
                return False  # of a word no one can place ("der rote Kreis")
            if not self._adjective(nxt):
                return True  # "that", "above", "left" before "of": the phrase ends
        return True

    def _adjective(self, word: str) -> bool:
        """Does WordNet tag ``word`` (or its base form) at least as often as an adjective as an
        adverb ("striped", "large"; not "on", "up": prepositions it also files as adjectives)?"""
        forms = self.wordnet.base_forms(word, "a")
        if not forms:
            return False
        adj = adv = 0
        for f in {word, *forms}:
            c = self.wordnet.sense_counts(f)
            adj, adv = adj + tag_count(c, "a"), adv + tag_count(c, "r")
        return adj >= adv

    def _nounish(self, word: str) -> bool:
        """Is ``word`` a noun where a noun phrase may end: a generic noun, or one WordNet tags
        at least as often as a noun as an adjective or adverb (verb senses aside: "ring",
        "star"; not "left", "right")? Untagged words with a noun form count ("dots"); words
        under :data:`MIN_LEN` letters do not ("or": "operating room" to WordNet)."""
        w = word.lower()
        if w in GENERIC:
            return True
        if len(w) < MIN_LEN:
            return False
        forms = self.wordnet.base_forms(w, "n")
        if not forms:
            return False
        noun = other = 0
        for f in {w, *forms}:
            c = self.wordnet.sense_counts(f)
            noun += tag_count(c, "n")
            other += tag_count(c, ("a", "r"))
        return noun >= other if noun or other else True
