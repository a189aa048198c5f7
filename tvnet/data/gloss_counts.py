"""Counting in a definition (docs/design.md §6, "Wording": counted shapes): "having six
sides" (what an adjective says), and "a six-sided polygon", "a parallelogram with four equal
sides", "a plane figure with 5 or more points" (what a noun's says). Read by
:meth:`tvnet.data.glosses.Glosses._counted`."""

from __future__ import annotations

import re

# counting in a definition: "having six sides" (what an adjective says), and "a six-sided
# polygon", "a parallelogram with four equal sides", "a plane figure with 5 or more points"
# (what a noun's says: what it is, in its first noun phrase or one after "; ", or has "with";
# not "the point where two lines meet", "a mug … wearing a three-cornered hat", "one of several
# small six-pointed metal pieces")
_NUMBERS = {
    w: i + 1
    for i, w in enumerate("one two three four five six seven eight nine ten eleven twelve".split())
}
_N = r"(\d+|" + "|".join(_NUMBERS) + ")"
_HAVING_N = re.compile(r"^(?:having|with) " + _N + r" ([a-z]+?)s\b")
_N_ED = re.compile(
    r"(?:^|; )(?:\([^)]*\) )?(?:(?:an?|the) )?(?:[a-z]+ )?" + _N + r"-([a-z]+?)e?d\b"
)
_N_THINGS = re.compile(r"\bwith " + _N + r"( or more)?(?: [a-z]+)? ([a-z]+?)s\b")


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBERS[word]


def _stem(noun: str) -> str:
    """A counted thing as both "sides" and "six-sided" spell it: "sid"."""
    return noun.removesuffix("e")


def counted(gloss: str) -> tuple[int, str] | None:
    """(how many, of what) where an adjective's definition counts what it has: "having six
    sides" → (6, "sid"), spelt as :func:`_stem` spells it."""
    m = _HAVING_N.match(gloss)
    return (_number(m.group(1)), _stem(m.group(2))) if m else None


def counts(gloss: str) -> list[tuple[int, str, bool]]:
    """(how many, of what, or more) for each count a noun's definition makes: "a six-sided
    polygon" → (6, "sid", False); "a plane figure with 5 or more points" → (5, "point",
    True)."""
    out = [(_number(m.group(1)), _stem(m.group(2)), False) for m in _N_ED.finditer(gloss)]
    out += [
        (_number(m.group(1)), _stem(m.group(3)), bool(m.group(2)))
        for m in _N_THINGS.finditer(gloss)
    ]
    return out
