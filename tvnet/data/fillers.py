"""Words around an expression that name nothing (docs/design.md §6, "Wording: words around
the expression").

A person types "can you find the small star, please?"; the model was trained on "the small
star". :class:`Fillers`, a part of :class:`tvnet.data.lexicon.Lexicon`, decides which of the
words that the model never saw and that WordNet relates to no known word name no object or
attribute (:meth:`Fillers.filler`: "find", "please", "you"), and which of those may be left
out of a sentence without turning its meaning (:meth:`Fillers.leave_out`: only from the
lead-in and the tail, never in a negated or excepting sentence). :meth:`Lexicon.rewrite` asks
both, and :func:`tidy` sweeps up the punctuation they leave behind.
"""

from __future__ import annotations

import re

from tvnet.data.wordnet import MIN_LEN, WordNet, tag_count, usage

_APOSTROPHES = ("'", "’")
# punctuation left behind by a left-out word: "it's" → "'", "find, please" → ","
_ORPHAN = re.compile(r"(?:(?<=\s)|^)['’,]+(?=\s|$)|,+(?=\s*[.?!]*\s*$)|\s+(?=[,.?!])")
_EMPTY = re.compile(r"\(\s*\)|\[\s*\]|\s*[—–-]+\s*(?=[.?!]*$)")  # "()", a dash at the end
_LEADING = re.compile(r"^([\"“'‘]?)[\s:;,—–_-]+")  # "find: the star" → "the star"
ARTICLES = frozenset({"the", "a", "an"})  # the word after one names a thing: never left out
# a lead-in word before a word that names a thing, or a tail word, is left out only when
# WordNet tags it as a verb or adverb this many times as often as a noun or adjective
# ("find" 705 : 0; not "blush" 9 : 0 or "loop" 2 : 1)
VERB_SURE = 10
# a negation: a sentence with one keeps every word (a left-out one could turn its meaning)
_NEGATION = re.compile(
    r"\b(?:not|no|nor|never|none|neither|without|except|excluding|but|unless|instead|rather"
    r"|than|sans|besides|other|apart|cannot|avoid\w*|ignor\w*|skip\w*|exclud\w*|omit\w*"
    r"|forget\w*|disregard\w*|overlook\w*|(?:is|are|was|were|do|does|did|can|could|would"
    r"|should|has|have|had)nt)\b|n['’]t\b",
    re.I,
)


def negated(sentence: str) -> bool:
    """Has ``sentence`` a negation or an exception ("not", "unless", "instead", "isn't"),
    whose meaning a left-out word could turn around? Then it keeps every word."""
    return _NEGATION.search(sentence) is not None


def tidy(text: str) -> str:
    """``text`` without what left-out words leave behind: stray commas and apostrophes, empty
    brackets, a dash at the end, punctuation at the start, doubled spaces."""
    text = " ".join(_ORPHAN.sub("", text).split())
    return _LEADING.sub(r"\1", _EMPTY.sub("", text)).strip()


class Fillers:
    """The leaving-out half of :class:`tvnet.data.lexicon.Lexicon` (its attributes below;
    :meth:`nearest` is the lexicon's rewrite of one word)."""

    known: frozenset[str]
    short_known: frozenset[str]
    wordnet: WordNet
    whole_words: frozenset[str] | None

    def nearest(self, word: str) -> str | None:  # pragma: no cover - the lexicon's
        raise NotImplementedError

    def filler(self, word: str) -> bool:
        """Is ``word``, which the model never saw and WordNet relates to no known word, one
        that names no object or attribute ("find", "please", "you"), so that the model reads
        the expression better without it ("find the small star" is "the small star")? By
        WordNet's sense-tagged counts: used mostly as a verb or an adverb ("find", "show",
        "please", "behind"); or, with no tagged noun or adjective sense, either shorter than
        :data:`MIN_LEN` (WordNet's "me" and "it" are abbreviations) or absent from WordNet's
        nouns and adjectives while the text model's vocabulary holds it whole: a function
        word ("you", "for"; WordNet has only open-class words). A word WordNet lacks and
        the text model splits ("stripey", "purply") stays: its word pieces may still say
        something. Known words and words WordNet relates to one are never fillers."""
        word = word.lower()
        if word in self.known or word in self.short_known or self.nearest(word) is not None:
            return False
        content, other = usage(self.wordnet.sense_counts(word))
        if other > content:
            return True
        if content > 0:
            return False
        if len(word) < MIN_LEN:
            return True
        return self._strong(word) and self.whole_words is not None and word in self.whole_words

    def leave_out(
        self,
        matches: list[re.Match],
        gaps: list[str],
        read: list[str | None],
        pairs: list[list[tuple[str, str]]],
    ) -> None:
        """Mark the words :meth:`Lexicon.rewrite` leaves out, in place: read "" and the pair
        (word, "")."""
        words = [m.group(0) for m in matches]
        n = len(words)

        cand: list[bool] = []
        for i, w in enumerate(words):  # unknown, unrelated, a filler, not after an article
            if read[i] is not None or (i and words[i - 1].lower() in ARTICLES):
                cand.append(False)
            elif gaps[i] in _APOSTROPHES:  # a clitic: of a filler ("I'm", "it's") or kept
                cand.append(bool(i) and cand[i - 1] and len(w) <= 2)  # ("star's")
            elif i and gaps[i] and not any(c.isspace() or c == "," for c in gaps[i]):
                cand.append(False)  # glued to the word before ("crimson_x"): part of it
            else:
                cand.append(self.filler(w))
        drop = [False] * n
        i = 0  # the lead-in: fillers at the start, the last one not before a word that
        while i < n and cand[i]:  # names a thing unless it is almost always a verb
            nxt = words[i + 1] if i + 1 < n else None
            if i + 1 < n and not cand[i + 1] and nxt is not None and self._names_thing(nxt):
                if not self._verb_sure(words[i]):
                    break
            drop[i] = True
            i += 1
        tail, j = [], n - 1  # the tail: fillers at the end ("…, please", "… for me"), each
        while j >= i and cand[j] and self._verb_sure(words[j], short=True):  # short or a
            if len(words[j]) == 1:  # sure verb; a letter at the end names the shape that
                break  # looks like it ("the orange x", "the big o"), not a filler
            tail.append(j)
            j -= 1
        # only after a word that names a thing ("the star please") or a comma: after a
        # modifier the tail may be the head noun or what makes it a place ("the purple tri",
        # "the green sq", "the star right here")
        if j >= 0 and j + 1 < n and ("," in gaps[j + 1] or self._noun(read[j] or words[j])):
            for k in tail:
                drop[k] = True
        for k in range(n):
            if k and drop[k - 1] and gaps[k] in _APOSTROPHES and cand[k]:
                drop[k] = True  # a contraction goes whole
            if drop[k]:
                read[k] = ""
                pairs[k][:] = [(words[k], "")]

    def _verb_sure(self, word: str, short: bool = False) -> bool:
        """Does WordNet tag ``word`` almost always as a verb or an adverb (:data:`VERB_SURE`
        times as often as a noun or adjective: "find" 705 : 0, not "blush" 9 : 0)? With
        ``short``, any word under :data:`MIN_LEN` letters counts ("me")."""
        w = word.lower()
        if self._strong(w) or (short and len(w) < MIN_LEN):
            return True
        content, other = usage(self.wordnet.sense_counts(w))
        return other >= VERB_SURE * max(content, 1)

    def _noun(self, word: str) -> bool:
        """Is ``word`` a known word WordNet tags mostly as a noun ("star", "thing"), or, one
        too rare to be tagged ("hexagon", "crescent"), one with a noun sense and at least as
        many noun senses as adjective senses (not "dotted")?"""
        w = word.lower()
        if w not in self.known:
            return False
        counts = self.wordnet.sense_counts(w)
        if not counts:
            nouns = len(self.wordnet.offsets(w, "n"))
            return nouns > 0 and nouns >= len(self.wordnet.offsets(w, "a"))
        noun = tag_count(counts, "n")
        return noun > 0 and noun >= sum(counts.values()) - noun

    def _strong(self, word: str) -> bool:
        """Has WordNet no noun or adjective sense of ``word`` or of a base form of it
        ("please", "you", "where")? Such a word names nothing at all (:meth:`filler`), so it
        counts as a sure verb in the lead-in or the tail (:meth:`_verb_sure`)."""
        w = word.lower()
        return len(w) >= MIN_LEN and not any(self.wordnet.base_forms(w, p) for p in ("a", "n"))

    def _names_thing(self, word: str) -> bool:
        """Is ``word``, as the model reads it, a known word used mostly as a noun or an
        adjective ("star", "red"; "pentagram" → "star"; "hexagon", too rare to be tagged),
        not "the" or "is"?"""
        w = word.lower()
        k = w if w in self.known else self.nearest(w)
        if k is None or "-" in w:
            return k is not None
        counts = self.wordnet.sense_counts(k)
        if not counts:  # too rare to be tagged: a noun or adjective at all ("hexagon")
            return any(self.wordnet.offsets(k, p) for p in ("a", "n"))
        content, other = usage(counts)
        return content > 0 and content >= other
