"""An unknown head noun read as "object" (docs/design.md §6, "Wording: an unknown head noun").

A person types "the red gizmo"; the model never saw "gizmo", and WordNet relates it to no
word the model knows. Read as written, its word pieces say something the model never learned
to use; yet whatever it names, it is the thing meant (or a landmark). :class:`Heads`, a part
of :class:`tvnet.data.lexicon.Lexicon`, reads such a noun as the model's generic noun
(:data:`GENERIC`: "the red object"), so that the other words decide, and only where the word
ends a noun phrase that names a thing in the picture:

- a noun to WordNet, not an adjective ("chunky"), not an auxiliary verb ("are" is also a
  unit of area), not part of a contraction or a possessive ("isn't", "gizmo's"), not a word
  for the picture, a place, part or measure in it or a colour's attributes
  (:data:`PLACE_WORDS`: "in the picture", "the second column", "a bit lower", "a different
  hue"), not a colour name of the xkcd survey ("the star in lime");
- right after a determiner ("the", "which"), an adjective ("red", "shiny") or a modifier
  noun the model does not know ("the custard gizmo"), and not in a phrase of parts ("with a
  hole", "has spikes"): so not a clause's first word ("segment the star", "…, thanks"), nor
  a verb after a relative pronoun or a name ("the star that glows", "the star Sam likes"),
  nor a noun after a preposition ("in tartan") or a noun the model knows ("the star facing
  up");
- with no noun after it before the phrase ends, adjectives skipped ("the lipstick star",
  "the daffodil tessellated one": modifiers), no word after it that neither the model nor
  WordNet can place ("der rote Kreis"), not before "of" ("a bunch of stars") nor before a
  determiner or an object pronoun (a verb before its object: "… touches the circle",
  "… which touches it").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

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
# words for the picture, a place, a part or a measure in it, or a colour's attributes: never
# a thing in it ("the star in the picture", "in the second column", "a bit lower", "hue")
PLACE_WORDS = frozenset(
    "picture photo photograph image pic background foreground frame scene screen canvas page "
    "border edge margin view shot snapshot corner centre center middle side top bottom end "
    "row column quadrant region section area part half position distance floor apex tip "
    "length way bit tad degree hue shade tone".split()
)
# a noun a few words after one of these is a part or a feature ("with a hole", "has spikes")
_FEATURE = frozenset({"with", "without", "has", "have", "having", "had"})
# a noun right before one of these is a verb before its object ("segment the star")
_DETERMINERS = ARTICLES | frozenset(
    "this these those my your his her its our their every each".split()
)
# a head noun comes right after one of these, or after an adjective ("the red gizmo")
_BEFORE_HEAD = ARTICLES | frozenset(
    "this these those every each all both any some no which what another".split()
)
_PRONOUNS = frozenset("it them him her me us itself themselves".split())  # objects of a verb
_THANKS = frozenset("thanks thank cheers thx ty pls plz please".split())  # nouns to WordNet
_BREAK = re.compile(r"[,.;:!?()]")
# words that end the phrase before them: a clause or a list goes on ("the brick that is red")
_CLAUSE = frozenset("that which who whose where and but with without near next beside than".split())


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
    :meth:`nearest`, :meth:`filler` and :meth:`_strong` are the lexicon's)."""

    known: frozenset[str]
    short_known: frozenset[str]
    wordnet: WordNet
    _by_survey: set[str]  # words that only the colour survey reads (Lexicon._nearest)
    modifier_nouns: bool  # a head after an adjective read as a noun (:meth:`_after_modifier`)
    colour_things: bool  # a thing named where a colour stands (:meth:`things_where_colours_stand`)
    pattern_things: bool  # … read as the pattern its definition names, first
    # Glosses._object_colour, which comes after this class in the lexicon's order: a method
    # defined here would hide it
    _object_colour: Callable[..., str | None]
    _object_pattern: Callable[[str], str | None]

    def nearest(self, word: str) -> str | None:  # pragma: no cover - the lexicon's
        raise NotImplementedError

    def filler(self, word: str) -> bool:  # pragma: no cover - the lexicon's
        raise NotImplementedError

    def _strong(self, word: str) -> bool:  # pragma: no cover - the lexicon's (Fillers)
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
            if w in _colour_names() or w in _THANKS or self.filler(w):
                continue
            if gaps[i] in _APOSTROPHES or (i + 1 < len(words) and gaps[i + 1][:1] in _APOSTROPHES):
                continue  # a part of a contraction or a possessive: "isn't", "gizmo's"
            forms = self.wordnet.base_forms(w, "n")
            if not forms or self.wordnet.base_forms(w, "a"):
                continue  # not a noun, or also an adjective ("chunky")
            if w in PLACE_WORDS or any(f in PLACE_WORDS for f in forms):
                continue
            if self._after_modifier(matches, gaps, read, i) and self._ends_phrase(
                words, gaps, read, i
            ):
                read[i] = generic
                pairs[i][:] = [(matches[i].group(0), generic)]

    def surveyed(self, word: str) -> bool:
        """Was ``word`` read as a colour by the xkcd survey alone (neither WordNet nor a
        suffix relates it to a known word)?"""
        return word.lower() in self._by_survey

    def colours_in_place(
        self,
        matches: list[re.Match],
        gaps: list[str],
        read: list[str | None],
        pairs: list[list[tuple[str, str]]],
    ) -> None:
        """Words that only the colour survey reads as a colour (:meth:`surveyed`: "navy")
        are read so where a colour word stands (:meth:`_colour_stands`). Elsewhere such a word
        names a thing ("the red brick", "the pine on the left", "the sky above"): left as
        written, in place, and then perhaps read as a generic head (:meth:`generic_heads`).
        A word of a fixed phrase (no rewrite: "at first blush") is left as it is."""
        words = [m.group(0).lower() for m in matches]
        for i, w in enumerate(words):
            if read[i] is None or not self.surveyed(w) or not pairs[i]:
                continue
            if not self._colour_stands(words, gaps, read, i):
                read[i] = None
                pairs[i].clear()

    def shades_before_colours(
        self,
        matches: list[re.Match],
        gaps: list[str],
        read: list[str | None],
        pairs: list[list[tuple[str, str]]],
    ) -> None:
        """A word read as a basic colour right before a basic colour term ("the brick red
        star", "neon green", "navy blue") is a shade of that term, not a second colour: left
        out ("the red star"), where its own reading ("brick" as orange) would name another
        colour beside it ("orange red"). Only a word the lexicon rewrote, before a space."""
        from tvnet.data.glosses import basic_colour_terms  # glosses imports this module

        terms = basic_colour_terms()
        words = [m.group(0).lower() for m in matches]
        for i in range(len(matches) - 1):
            mine = read[i]
            if mine is None or mine == "" or mine.lower() not in terms or words[i] in terms:
                continue
            nxt = words[i + 1] if read[i + 1] is None else read[i + 1].lower()
            if gaps[i + 1].isspace() and nxt in terms:
                read[i] = ""
                pairs[i][:] = [(matches[i].group(0), "")]

    def things_where_colours_stand(
        self,
        matches: list[re.Match],
        gaps: list[str],
        read: list[str | None],
        pairs: list[list[tuple[str, str]]],
    ) -> None:
        """A noun left unread where a colour word stands (:meth:`_colour_stands`: "the daffodil
        star", "the aubergine one", "the star in grass") is read, with ``pattern_things``, as
        the pattern its definition names ("ladybug": "… bright-colored and spotted beetle";
        :meth:`~tvnet.data.glosses.Glosses._object_pattern`), else, with ``colour_things``, as
        the colour it names, after its head too ("daffodil": "… plants having showy often
        yellow flowers"; ``anywhere`` of :meth:`~tvnet.data.glosses.Glosses._object_colour`),
        in place. Not a
        capitalised word after the first but for one after a determiner (a name: "the ball
        Snowy holds"; "the Daffodil star" is a colour), nor a place."""
        words = [m.group(0).lower() for m in matches]
        for i, w in enumerate(words):
            if read[i] is not None or "-" in w or len(w) < MIN_LEN or w in AUXILIARIES:
                continue
            if i and matches[i].group(0)[:1].isupper() and words[i - 1] not in _DETERMINERS:
                continue  # a name: "the ball Snowy holds" (not "the Daffodil star")
            forms = self.wordnet.base_forms(w, "n")
            if not forms or self.filler(w) or not PLACE_WORDS.isdisjoint((w, *forms)):
                continue
            if self._colour_stands(words, gaps, read, i):
                k = self._object_pattern(w) if self.pattern_things else None
                if k is None and self.colour_things:
                    k = self._object_colour(w, anywhere=True)
                if k is not None:
                    read[i] = k
                    pairs[i][:] = [(matches[i].group(0), k)]

    def _colour_stands(
        self, words: list[str], gaps: list[str], read: list[str | None], i: int
    ) -> bool:
        """Does word ``i`` stand where a colour word does: after "in" or a verb like "is",
        modifiers such as "dark" skipped ("the star in lime", "the one that's dark navy"); or
        before another word of its phrase ("the navy circle", "a navy blue ring", "the mustard
        whatsit") or a colour joined by "and" or "or" ("the navy and white star")? Not at the
        end of its phrase: the expression's end, punctuation, a short word, a determiner, a
        word that opens a clause, or one used mostly as an adverb or preposition ("above")."""
        j = i - 1  # back past modifiers of the colour ("dark", "light")
        while j >= 0 and not _BREAK.search(gaps[j + 1]) and len(words[j]) >= MIN_LEN:
            if words[j] in AUXILIARIES or not self._adjective(words[j]):
                break
            j -= 1
        if j >= 0 and not _BREAK.search(gaps[j + 1]):
            if words[j] == "in" or words[j] in AUXILIARIES:
                return True
            if words[j] in _CLITICS and gaps[j][:1] in _APOSTROPHES:  # "that's navy"
                return True
        k = i + 1
        if k == len(words) or _BREAK.search(gaps[k]):
            return False
        nxt = words[k]
        if nxt in ("and", "or") and k + 1 < len(words) and not _BREAK.search(gaps[k + 1]):
            after = (read[k + 1] or words[k + 1]).lower()
            return self.surveyed(after) or self._adjective(after)
        counts = self.wordnet.sense_counts(nxt)  # "above", "below": adverbs to WordNet
        adverb = tag_count(counts, "r") > tag_count(counts, ("n", "a", "v"))
        return len(nxt) >= MIN_LEN and not (nxt in _DETERMINERS or nxt in _CLAUSE or adverb)

    def _after_modifier(
        self, matches: list[re.Match], gaps: list[str], read: list[str | None], i: int
    ) -> bool:
        """Does word ``i`` come right after a determiner ("the", "which"), an adjective ("red",
        "shiny"; with ``modifier_nouns``, also any rewritten word that WordNet lists as an
        adjective, whatever it was read as: "three-sided" as triangle, "tangerine" as orange;
        with ``colour_things`` too, any word read as a colour: "snowflake" as white; and with
        ``pattern_things``, a thing read as the pattern it names: "dalmatian" as spots)
        or an unknown modifier noun ("custard gizmo"), as a head noun does, and not in a
        phrase of parts ("with a hole")?
        Not after anything else: a clause's first word ("segment the star", "…, thanks"), a
        verb after a relative pronoun or a subject ("the star that glows", "the star Sam
        likes"), a noun after a preposition ("in tartan")."""
        if i == 0 or _BREAK.search(gaps[i]):
            return False
        words = [m.group(0).lower() for m in matches[max(0, i - 3) : i + 1]]
        if any(w in _FEATURE for w in words[:-1]):
            return False  # "with a hole", "has five points"
        prev, known = words[-2], read[i - 1]
        if prev in _BEFORE_HEAD:  # "which"/"what" open a question, elsewhere a clause
            return prev not in ("which", "what") or i == 1
        if known == "" or len(prev) < MIN_LEN or prev in AUXILIARIES:
            return False
        if known is None:  # an adjective or a noun the model does not know: "shiny gizmo",
            if self.filler(prev) or matches[i - 1].group(0)[:1].isupper():  # "custard
                return False  # gizmo"; not a name ("the star Sam likes")
            return not self._strong(prev)  # WordNet has it as a noun or an adjective
        if self.modifier_nouns and known.lower() != prev:
            from tvnet.data.glosses import basic_colour_terms  # glosses imports this module

            # an adjective read as a noun ("three-sided figure", "tangerine item"), or, with
            # colour_things or pattern_things, a noun read as a colour ("the snowflake
            # exhibit": white) or a pattern ("the dalmatian item": spots)
            if (
                self.wordnet.base_forms(prev, "a")
                or (self.colour_things and known.lower() in basic_colour_terms())
                or (self.pattern_things and self._object_pattern(prev) == known.lower())
            ):
                return True
        return bool(self.wordnet.base_forms(known.lower(), "a")) and not self._nounish(known)

    def _ends_phrase(
        self, words: list[str], gaps: list[str], read: list[str | None], i: int
    ) -> bool:
        """Does word ``i`` end its noun phrase: no noun after it before the phrase ends?"""
        for j in range(i + 1, len(words)):
            nxt = words[j]
            if _BREAK.search(gaps[j]):
                return True
            if nxt in _THANKS:
                return True  # "the red gizmo thanks"
            if j == i + 1 and nxt in _PRONOUNS:
                return False  # a verb before its object: "the shape which touches it"
            if nxt in _DETERMINERS or nxt == "of":  # right after it: "segment the star",
                return j > i + 1  # "a bunch of stars"; after a skipped word: "… near the star"
            if len(nxt) < MIN_LEN and nxt not in GENERIC:
                return True  # "to", "at", "or", "in"
            if read[j] is None and self.filler(nxt):
                return True  # a word that names nothing: "please", "beside"
            if self._nounish(read[j] or nxt):
                return False  # a modifier of the noun after it ("lipstick star")
            if read[j] is None and self._strong(nxt):
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
        adj, adv = self._tags({word, *forms}, "a", "r")
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
        noun, other = self._tags({w, *forms}, "n", ("a", "r"))
        return noun >= other if noun or other else True

    def _tags(self, forms: set[str], these: str, those: str | tuple[str, ...]) -> tuple[int, int]:
        """How often WordNet's sense-tagged corpus tags ``forms`` as ``these`` parts of speech,
        and as ``those``."""
        a = b = 0
        for f in forms:
            c = self.wordnet.sense_counts(f)
            a, b = a + tag_count(c, these), b + tag_count(c, those)
        return a, b
