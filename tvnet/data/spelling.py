"""Misspelt words (docs/design.md §6, "Wording: misspelt words").

A person types "the red sqaure" or "the cricle left of the star"; the model was trained on
"square" and "circle", and a text model reads "sqaure" as word pieces it never learned
("sq", "##aure"). :func:`correction` reads a word that is no English word as the known word
it misspells, when exactly one known word is that near:

- one edit away (Damerau's four single errors: two neighbouring letters swapped, one left
  out, one too many, one wrong), and for a word of :data:`LONG` letters or more, two edits
  when it begins as the known word does (people seldom misspell a word's first letters;
  "dougnut" → donut, but "losange" is not "orange" nor "slatted" "spotted");
- keeping the first letter (people seldom misspell it), or, when no known word near keeps
  it, with the first two swapped ("lfet" → left; but "hots" is not "dots", and "aple" would
  be "apple" before "pale");
- of the known words one edit away, a swap is the likeliest error, then a letter left out,
  then a letter too many, then a wrong letter ("rign" is "ring", not "sign"; "checkerd" is
  "checkered", not "checked"); a tie at the likeliest kind reads nothing, unless the tied
  words mean the same ("disck": disc or disk);
- never a known word with "-er" added: that is a noun made from it, not a misspelling ("a
  six-sider" is no side);
- a function word only for a swap or a letter left out ("wiht" → with, "wich" → which; not
  "andy" → and), and never a content word when a function word is nearer ("whith" is not
  "white").

:class:`Spelling`, a part of :class:`tvnet.data.lexicon.Lexicon`, decides which words may be
typos at all: never an English word (WordNet in any part of speech and inflection, or whole
in the text model's vocabulary: "hart", "plaid", "stripped"), a contraction without its
apostrophe ("dont", "shes"), two words run together ("infront": "in front"), half of a
word split by a space ("criss cross"), a word common in a large corpus (a name or brand:
"costner", among GloVe's 50,000 most frequent words) or a name ("the IKEA bag");
and only for a text model whose vocabulary tells common words from typos.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable

from tvnet.data.fillers import negated
from tvnet.data.wordnet import WordNet

# what ends a sentence before a word: "star. Sqaure", "star.” Sqaure", "star…", a new line
_SENTENCE_END = re.compile(r"(?:[.!?…][\"”’')\]]*\s*|\n\s*)$")
MIN_LETTERS = 4  # shorter words: too many known words are one edit away ("cat", "bat")
LONG = 7  # a word this long may be two edits from the word meant ("cresant")
# the kind of a single edit from what was typed to the word meant, likeliest first
SWAP, LEFT_OUT, TOO_MANY, WRONG = range(4)


def one_edit(typed: str, word: str) -> int | None:
    """The kind of the single edit (:data:`SWAP` … :data:`WRONG`) that turns ``typed`` into
    ``word``, or None when one edit does not."""
    n, m = len(typed), len(word)
    if n == m:
        diff = [i for i in range(n) if typed[i] != word[i]]
        if len(diff) == 1:
            return WRONG
        if len(diff) == 2 and diff[1] == diff[0] + 1:
            i = diff[0]
            if typed[i] == word[i + 1] and typed[i + 1] == word[i]:
                return SWAP
        return None
    if m == n + 1 and any(word[:i] + word[i + 1 :] == typed for i in range(m)):
        return LEFT_OUT
    if n == m + 1 and any(typed[:i] + typed[i + 1 :] == word for i in range(n)):
        return TOO_MANY
    return None


def distance(a: str, b: str, limit: int) -> int:
    """The optimal-string-alignment distance between ``a`` and ``b`` (insertions, deletions,
    substitutions and swaps of neighbours), or ``limit + 1`` when it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        prev2, prev = prev, row
    return min(prev[-1], limit + 1)


def correction(
    typed: str,
    known: Iterable[str],
    function_words: Collection[str] = (),
    alike: Callable[[str, str], bool] | None = None,
) -> str | None:
    """The one word of ``known`` that ``typed`` (lower case, not an English word) misspells,
    or None: too short, no known word near enough, or two equally likely. A word of
    ``function_words`` ("with", "which") is answered only for a swap or a letter left out
    ("wiht", "wich"), and otherwise stops the search ("andy" is neither "and" nor a content
    word further away). ``alike(a, b)``: two tied words mean the same ("disc", "disk"), so
    the tie is no ambiguity (the first in sorted order is answered)."""
    if len(typed) < MIN_LETTERS or not typed.isalpha():
        return None
    near = [
        (kind, k)
        for k in known
        if k != typed
        and (kind := one_edit(typed, k)) is not None
        and typed not in (k + "r", k + "er")  # a derived noun: a "six-sider" is no side
    ]
    # the first letter kept; a swap of the first two only when no candidate keeps it
    ranked = [(kind, k) for kind, k in near if k[0] == typed[0]]
    ranked = ranked or [(kind, k) for kind, k in near if kind == SWAP]
    if not ranked and len(typed) >= LONG:
        ranked = [
            (WRONG + 1, k) for k in known if k[:2] == typed[:2] and distance(typed, k, 2) == 2
        ]
    if not ranked:
        return None
    ranked.sort()
    kind, best = ranked[0]
    ties = [k for c, k in ranked if c == kind]
    if len(ties) > 1 and not (alike and all(alike(best, k) for k in ties[1:])):
        return None  # two known words equally near and equally likely
    if best in function_words and kind not in (SWAP, LEFT_OUT):
        return None
    return best


class Spelling:
    """The misspelling half of :class:`tvnet.data.lexicon.Lexicon` (its attributes below;
    :meth:`nearest` is the lexicon's rewrite of one word)."""

    known: frozenset[str]
    short_known: frozenset[str]
    by_base: dict[str, str]
    wordnet: WordNet
    whole_words: frozenset[str] | None
    common_words: frozenset[str]
    spelling: bool
    _spellable: tuple[list[str], frozenset[str]] | None

    def nearest(self, word: str, misspelt: bool = True) -> str | None:  # pragma: no cover
        raise NotImplementedError  # the lexicon's

    def _misspelt(self, word: str) -> str | None:
        """The known word that ``word``, no English word (:meth:`_english`), misspells
        (:func:`tvnet.data.spelling.correction`): "sqaure" → square; a known plural's
        singular stands for the plural ("dott" → dot → dots). Only for a text model whose
        vocabulary tells common words from typos (``whole_words``); never for a word of
        ``common_words`` (a name or brand), a negation or
        another contraction written without its apostrophe ("dont" is not "donut", "shes" not
        "shoes") nor for two words run together ("infront" is not "infant")."""
        if self.whole_words is None or self._english(word) or negated(word):
            return None
        if word in self.common_words:  # a name or brand ("costner", "palin"), not a typo
            return None
        if self._contraction(word) or self._run_together(word):
            return None
        if self._spellable is None:
            words = sorted({*self.known, *self.by_base})
            self._spellable = (words, frozenset(w for w in words if not self._wordnet_word(w)))
        words, function = self._spellable
        hit = correction(word, words, function, self._alike)
        return self.by_base.get(hit, hit) if hit is not None else None

    def _contraction(self, word: str) -> bool:
        """Is ``word`` a function word with a contraction's ending glued on ("shes",
        "theyre", "youve", "whats")?"""
        for ending in ("s", "re", "ve", "ll", "d"):
            stem = word.removesuffix(ending)
            if stem != word and stem in self.whole_words and not self._wordnet_word(stem):
                return True
        return False

    def _run_together(self, word: str) -> bool:
        """Is ``word`` two words that WordNet lists together, run together ("infront": "in
        front"; "icecream")? Not any two words: "rombus" is no "rom bus", "donnut" no "don
        nut"."""
        return any(
            self.wordnet.offsets(f"{word[:i]} {word[i:]}", p)
            for i in range(2, len(word) - 1)
            for p in "nvar"
        )

    def _alike(self, a: str, b: str) -> bool:
        """Do ``a`` and ``b`` share a WordNet synset ("disc" and "disk", "center" and
        "centre"), so that a misspelling equally near both is no ambiguity?"""
        return any(
            set(self.wordnet.offsets(a, p)) & set(self.wordnet.offsets(b, p)) for p in ("a", "n")
        )

    def misspelling(self, word: str, read: str) -> bool:
        """Is the pair (``word``, ``read``) of :meth:`rewrite` a misspelt word read as the known
        word it misspells (:meth:`_misspelt`), rather than one WordNet relates to ``read``?"""
        return (
            self.spelling
            and self.nearest(word, misspelt=False) is None
            and self.nearest(word) == read
        )

    def _wordnet_word(self, word: str) -> bool:
        """Is ``word`` in WordNet in any part of speech and inflection: a word that names
        something or says how ("left", "largest", "very"), not a function word ("and",
        "with")?"""
        return any(self.wordnet.base_forms(word, pos) for pos in "nvar")

    def _english(self, word: str) -> bool:
        """Is ``word`` an English word: one WordNet has in any part of speech and inflection
        ("plaid", "hart", "stripped", "slotted"), or one the text model's vocabulary holds
        whole ("whose")?"""
        return bool(
            self.wordnet.sense_counts(word)
            or self._wordnet_word(word)
            or (self.whole_words is not None and word in self.whole_words)
        )

    def _halves(self, words: list[str], gaps: list[str]) -> list[bool]:
        """Which of a sentence's ``words`` are half of a word WordNet writes closed, split by a
        space ("criss cross": "crisscross"), never read as a misspelling."""
        out = [False] * len(words)
        seen = [w.lower() in self.known or w.lower() in self.short_known for w in words]
        for i in range(len(words) - 1):
            a, b = words[i].lower(), words[i + 1].lower()
            if seen[i] and seen[i + 1]:
                continue  # neither is read as a misspelling: no lookup on the common path
            if gaps[i + 1].isspace() and self._wordnet_word(a + b):
                out[i] = out[i + 1] = True
        return out

    @staticmethod
    def _names(words: list[str], gaps: list[str]) -> list[bool]:
        """Which of a sentence's ``words`` (after ``gaps``) are names, never read as a
        misspelling: capitalised ("the Costner poster") or in capitals ("the IKEA bag") inside
        a sentence, unless most of its words are ("The Red Sqaure", "THE RED SQAURE")."""
        n = len(words)
        titled = 2 * sum(w[:1].isupper() for w in words) > n
        shouting = 2 * sum(w.isupper() for w in words) > n
        return [
            not (i == 0 or _SENTENCE_END.search(gaps[i]))
            and ((w.istitle() and not titled) or (len(w) > 1 and w.isupper() and not shouting))
            for i, w in enumerate(words)
        ]
