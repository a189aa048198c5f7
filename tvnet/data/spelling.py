"""Misspelt words (docs/design.md §6, "Wording: misspelt words").

A person types "the red sqaure" or "the cricle left of the star"; the model was trained on
"square" and "circle", and a text model reads "sqaure" as word pieces it never learned
("sq", "##aure"). :func:`correction` reads a word that is no English word as the known word
it misspells, when exactly one known word is that near:

- one edit away (Damerau's four single errors: two neighbouring letters swapped, one left
  out, one too many, one wrong), and for a word of :data:`LONG` letters or more, two edits
  when it begins as the known word does (people seldom misspell a word's first letters;
  "dougnut" → donut, but "losange" is not "orange" nor "slatted" "spotted");
- keeping the first letter (people seldom misspell it), unless the first two are swapped
  ("lfet" → left; but "hots" is not "dots");
- of the known words one edit away, a swap is the likeliest error, then a letter left out,
  then a letter too many, then a wrong letter ("rign" is "ring", not "sign"; "checkerd" is
  "checkered", not "checked"); a tie at the likeliest kind reads nothing;
- never a known word with "-er" added: that is a noun made from it, not a misspelling ("a
  six-sider" is no side).

Whether a word is English is the lexicon's to say (:meth:`Lexicon._english
<tvnet.data.lexicon.Lexicon._english>`): a real word ("hart", "plaid", "stripped") is never
read as a known word it resembles, however near.
"""

from __future__ import annotations

from collections.abc import Iterable

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


def correction(typed: str, known: Iterable[str]) -> str | None:
    """The one word of ``known`` that ``typed`` (lower case, not an English word) misspells,
    or None: too short, no known word near enough, or two equally likely."""
    if len(typed) < MIN_LETTERS or not typed.isalpha():
        return None
    known = [k for k in known if k != typed]
    ranked = [
        (kind, k)
        for k in known
        if (kind := one_edit(typed, k)) is not None
        and (k[0] == typed[0] or kind == SWAP)
        and typed not in (k + "r", k + "er")  # a derived noun: a "six-sider" is no side
    ]
    if not ranked and len(typed) >= LONG:
        ranked = [
            (WRONG + 1, k) for k in known if k[:2] == typed[:2] and distance(typed, k, 2) == 2
        ]
    if not ranked:
        return None
    ranked.sort()
    if len(ranked) > 1 and ranked[1][0] == ranked[0][0]:
        return None  # two known words equally near and equally likely
    return ranked[0][1]
