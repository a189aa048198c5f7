"""Tokenisation and vocabulary (docs/design.md §4).

Lowercase, split on non-word characters, drop a final period, truncate/pad to T (20 by
default). Id 0 is padding, id 1 is the unknown word.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from tvnet.config import MAX_TOKENS

PAD, UNK = "<pad>", "<unk>"
_WORD = re.compile(r"[^\W_]+|\d+", re.UNICODE)


def tokenize(sentence: str) -> list[str]:
    """Lowercased word tokens; punctuation (and so a final period) is dropped."""
    return _WORD.findall(sentence.lower())


@dataclass
class Vocab:
    """Word ↔ id. ``words[0]`` is ``<pad>``, ``words[1]`` is ``<unk>``."""

    words: list[str]

    def __post_init__(self) -> None:
        if self.words[:2] != [PAD, UNK]:
            raise ValueError("a Vocab starts with <pad>, <unk>")
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(cls, sentences: Iterable[str], min_count: int = 1) -> Vocab:
        counts = Counter(t for s in sentences for t in tokenize(s))
        # sorted by (-count, word) so the same data gives the same ids
        words = [
            w for w, c in sorted(counts.items(), key=lambda x: (-x[1], x[0])) if c >= min_count
        ]
        return cls([PAD, UNK, *words])

    def __len__(self) -> int:
        return len(self.words)

    def unknown(self, sentence: str) -> list[str]:
        """Words of ``sentence`` outside the vocabulary (the demo reports them)."""
        return [t for t in tokenize(sentence) if t not in self.index]

    def truncation_note(self, sentence: str, max_tokens: int = MAX_TOKENS) -> str | None:
        """What :meth:`encode` leaves out of ``sentence`` at ``max_tokens``, in words, or None
        when it reads all of it."""
        n = len(tokenize(sentence))
        if n <= max_tokens:
            return None
        return f"expression has {n} words; the model reads the first {max_tokens}"

    def read_part(self, sentence: str, max_tokens: int = MAX_TOKENS) -> str:
        """The start of ``sentence`` whose words :meth:`encode` reads at ``max_tokens``: all of
        it, or up to the end of the last word read whole."""
        n, end = 0, 0
        for m in _WORD.finditer(sentence):
            n += len(tokenize(m.group()))  # lowercasing may split a word ("İa" reads "i", "a")
            if n > max_tokens:
                return sentence[:end]
            end = m.end()
        return sentence

    def encode(self, sentence: str, max_tokens: int = MAX_TOKENS) -> tuple[np.ndarray, int]:
        """ids (T,) int64 padded with 0, and the number of valid tokens (≥ 1).

        An expression with no word at all is an error: there is nothing to refer with.
        """
        toks = tokenize(sentence)[:max_tokens]
        if not toks:
            raise ValueError(f"expression {sentence!r} has no words")
        ids = np.zeros(max_tokens, dtype=np.int64)
        ids[: len(toks)] = [self.index.get(t, 1) for t in toks]
        return ids, len(toks)

    def encode_batch(
        self, sentences: Sequence[str], max_tokens: int = MAX_TOKENS
    ) -> tuple[np.ndarray, np.ndarray]:
        out = [self.encode(s, max_tokens) for s in sentences]
        return np.stack([o[0] for o in out]), np.array([o[1] for o in out], dtype=np.int64)


MAX_CHARS = 500  # what any reader of an expression reads of it (Predictor, tvnet eval)

_BREAKS = {"\u200b"}  # a zero-width space separates two words
# hyphens that NFKC leaves as they are, read as the ASCII one ("sky‐blue" as "sky-blue")
_HYPHENS = {"\u2010": "-", "\u2011": "-", "\u2212": "-"}


def clean_expression(text: str) -> str:
    """``text`` as a reader sees it, so that the checks and the text model read the same
    words: NFKC-normalised (full-width letters, ligatures), invisible format characters
    dropped (soft hyphens, joiners, direction marks; a zero-width space, which separates two
    words, as a space), lone surrogates (no character: a tokenizer refuses them) dropped,
    the Unicode hyphens as "-", and control characters (tabs, line breaks) as spaces."""
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        kind = unicodedata.category(ch)
        if ch in _BREAKS or kind == "Cc":
            out.append(" ")
        elif kind not in ("Cf", "Cs"):
            out.append(_HYPHENS.get(ch, ch))
    return "".join(out)


def cut_at_word(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters without splitting a word: after the last
    word that ends within the limit (punctuation glued to it, "star..." with 3,000 dots, does
    not take the word with it), or hard at ``limit`` when the first word alone is longer."""
    if len(text) <= limit:
        return text
    if text[limit].isspace():
        return text[:limit].rstrip()
    head = text[:limit]
    ends = [m.end() for m in _WORD.finditer(head) if m.end() < limit or not text[limit].isalnum()]
    if ends:
        return head[: ends[-1]]
    return head
