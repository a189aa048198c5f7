"""An expression as the model reads it: the Predictor's first step (docs/design.md §7).

An expression is cleaned of what a reader cannot see
(:func:`tvnet.data.tokenize.clean_expression`), cut at
:data:`MAX_CHARS` (at a word boundary), its words the model never saw
are rewritten into known ones (related by WordNet or the colour survey, or misspelt) or left out when they name
nothing (the lexicon, docs/design.md §6, "Wording"), and what the model's length limit leaves
unread is noted. Each change comes
back as a plain note for the answer; :func:`left_out` and :func:`read_as_any` are the one
lists of left-out words and of nouns read as any thing that the notes and the warnings
(:func:`tvnet.inference.checks.answer_warnings`) name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from tvnet.data.lexicon import Lexicon
from tvnet.data.tokenize import MAX_CHARS, clean_expression, cut_at_word, tokenize
from tvnet.data.wordnet import LexiconError
from tvnet.image import InputError


def require_expression(expression: str | None) -> str:
    """``expression`` as a cleaned string (:func:`tvnet.data.tokenize.clean_expression`),
    stripped; :class:`InputError`
    when it is missing or blank (the check that needs no model: :func:`read_expression` does
    the rest)."""
    if expression is not None and not isinstance(expression, str):  # ["red"], b"red": not
        raise InputError(  # read as their printed forms
            f"the expression must be text, got {type(expression).__name__}"
        )
    text = "" if expression is None else clean_expression(expression).strip()
    if not text:  # stripped first: 500 line breaks before the words are no words
        raise InputError("the expression is empty: describe the object to segment")
    return text


class ExpressionReading(NamedTuple):
    """An expression as a model reads it (:func:`read_expression`)."""

    expression: str  # cut, and its unseen words rewritten or left out
    notes: list[str]  # a plain note per change
    rewrites: list[tuple[str, str]]  # (written, read); read "" for a word left out
    cut: str = ""  # what the cut at MAX_CHARS left out, stripped: words never read


def _distinct(words: Iterable[str]) -> list[str]:
    """``words`` without repeats in any case, each as first written, in order."""
    seen: dict[str, str] = {}
    for w in words:
        seen.setdefault(w.lower(), w)
    return list(seen.values())


def left_out(rewrites: list[tuple[str, str]]) -> list[str]:
    """The distinct words the lexicon left out (pairs (word, "")), as first written, in order;
    "Please … please" is one word."""
    return _distinct(a for a, b in rewrites if not b)


def read_as_any(rewrites: list[tuple[str, str]], lexicon: Lexicon | None) -> list[str]:
    """The distinct words the lexicon read as a generic noun ("gizmo" as "object",
    :meth:`Lexicon.generic`), as first written, in order."""
    if lexicon is None:
        return []
    return _distinct(a for a, b in rewrites if b and lexicon.generic(a, b))


def read_expression(
    expression: str | None, lexicon: Lexicon | None, vocab: Any, max_tokens: int
) -> ExpressionReading:
    """The expression as a model with this ``lexicon`` (None: read as written), word or
    word-piece ``vocab`` and length limit ``max_tokens`` reads it, the notes on what changed,
    the (written, read) pairs the lexicon rewrote (read "" for a word left out) and what the
    cut at :data:`MAX_CHARS` left out. Raises :class:`InputError` when it is blank or has no
    words."""
    notes = []
    expression = require_expression(expression)
    tail = ""
    if len(expression) > MAX_CHARS:
        cut = cut_at_word(expression, MAX_CHARS)
        where = " (at a word boundary)" if expression[len(cut)].isspace() else ""
        expression, tail = cut, expression[len(cut) :].strip()
        notes.append(f"expression cut to its first {MAX_CHARS} characters{where}")
    if not tokenize(expression):
        raise InputError("the expression has no words")
    rewrites: list[tuple[str, str]] = []
    if lexicon is not None:
        try:
            expression, rewrites = lexicon.rewrite(expression)
        except LexiconError as e:  # a damaged WordNet: read as written, and say so
            notes.append(f"words the model never saw are read as written: {e}")
        anything = read_as_any(rewrites, lexicon)
        lower = {a.lower() for a in anything}
        typos = dict.fromkeys((a, b) for a, b in rewrites if b and lexicon.misspelling(a, b))
        parts = dict.fromkeys((a, b) for a, b in rewrites if b and lexicon.compound(a, b))
        pairs = dict.fromkeys(  # not "an" read as "a": one article, no note
            (a, b)
            for a, b in rewrites
            if b
            and a.lower() not in lower
            and (a, b) not in typos
            and (a, b) not in parts
            and not lexicon.article(a, b)
        )
        shades = {(a, b): None for a, b in pairs if lexicon.surveyed(a)}
        pairs = {ab: None for ab in pairs if ab not in shades}
        if pairs:
            said = ", ".join(f"“{a}” as “{b}”" for a, b in pairs)
            notes.append(f"read {said}: words the model never saw, related by WordNet")
        if shades:
            said = ", ".join(f"“{a}” as “{b}”" for a, b in shades)
            notes.append(
                f"read {said}: colour names the model never saw, placed by the xkcd colour survey"
            )
        if parts:
            said = ", ".join(f"“{a}” as “{b}”" for a, b in parts)
            notes.append(f"read {said}: compounds the model never saw, read as their known part")
        if typos:
            said = ", ".join(f"“{a}” as “{b}”" for a, b in typos)
            notes.append(f"read {said}: no English words, taken as misspellings of known ones")
        if anything:
            generic = next(b for a, b in rewrites if a.lower() in lower)
            said = ", ".join(f"“{a}”" for a in anything)
            notes.append(
                f"read {said} as “{generic}”: nouns the model never saw and WordNet relates to "
                "no word it knows, read as any thing"
            )
        left = left_out(rewrites)
        if left:
            said = ", ".join(f"“{a}”" for a in left)
            notes.append(
                f"read without {said}: words the model never saw that name no object or "
                "attribute of their own (fillers, or a shade before its colour: "
                "“brick red” as “red”)"
            )
    # in the model's own units: words for a word vocabulary, word pieces for hf_tokens
    cut = vocab.truncation_note(expression, max_tokens)
    if cut:
        notes.append(cut)
    return ExpressionReading(expression, notes, rewrites, tail)
