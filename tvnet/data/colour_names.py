"""Colour names a person may use for a basic colour, from a human colour-naming survey
(docs/design.md §6, "Wording"): training-time augmentation for open-vocabulary text encoders,
and, at inference, the last resort of the WordNet lexicon (tvnet/data/lexicon.py) for colour
names WordNet does not place.

The frozen text encoders the project ships barely tell colour names apart (all-MiniLM-L6-v2
places "scarlet" nearer yellow than red, GloVe 6B 50d "crimson" nearer purple; measured in
docs/experiments.md), so a model trained on "red" does not learn that "crimson" is red. The
xkcd colour survey (Munroe 2010: 949 names with the sRGB colour that ~140k people gave them,
shipped in matplotlib) does know. Each of its names is assigned to one of Berlin and Kay's
eleven basic colour terms (:func:`colour_names`); a basic term in a training expression may then be swapped for one of its names, so the
model learns to read the colour of the words rather than one spelling. Nothing here depends
on the data set: an expression without a basic colour term is left as it is.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Sequence

import numpy as np

# Berlin & Kay (1969), Basic Color Terms: the eleven of English
BASIC_TERMS = (
    "black", "white", "red", "green", "yellow", "blue", "brown", "purple", "pink", "orange",
    "grey",
)  # fmt: skip
SPELLINGS = {"gray": "grey"}
MARGIN = 0.8  # a name belongs to its nearest term when d(nearest) ≤ MARGIN · d(second)
# a one-word name that the survey also writes before at most this many basic terms ("navy
# blue", "navy green") belongs to one of them (colour_names(compounds=True)); before more, it
# is a modifier of any colour ("dark", "pale") and says nothing about which
COMPOUND_TERMS = 2
# ... and only when that term's colour is at most this many times as far from the name's as the
# nearest term's: "eggshell" (off-white) is not blue for the survey's "eggshell blue"
COMPOUND_REACH = 3.0


def _lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] (N×3) → CIELAB (D65)."""
    c = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = c @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack(
        [116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1
    )


@functools.cache
def xkcd_survey() -> dict[str, tuple[float, float, float]]:
    """The survey's 949 names → sRGB in [0, 1], read from matplotlib's own data module
    (``matplotlib/_color_data.py``, plain literals) without importing matplotlib, which costs
    a quarter of a second that the demo's first answer would pay for one unknown word."""
    import importlib.util

    from tvnet.io import package_dir

    folder = package_dir("matplotlib")
    path = folder / "_color_data.py" if folder else None
    if path is None or not path.is_file():
        raise ImportError("the xkcd colour survey ships in matplotlib: `pip install matplotlib`")
    module_spec = importlib.util.spec_from_file_location("tvnet_xkcd_colours", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return {
        k.removeprefix("xkcd:"): tuple(int(v[i : i + 2], 16) / 255 for i in (1, 3, 5))
        for k, v in module.XKCD_COLORS.items()
    }


def _of_term(name: str, terms: set[str]) -> bool:
    """Does ``name`` hold a basic term, or make an adjective of one ("orangish", "pinky")?"""
    stems = {name.removesuffix(s) for s in ("ish", "ey", "y")}
    return any(t in name or t.removesuffix("e") in stems for t in terms)


def _spellings(term: str) -> set[str]:
    """A basic term and its other spellings ("grey", "gray")."""
    return {term} | {k for k, v in SPELLINGS.items() if v == term}


@functools.cache
def colour_names(compounds: bool = False, mended: bool = False) -> dict[str, tuple[str, ...]]:
    """Basic term → the survey's names for it, sorted. A one-word name belongs to term T when
    its colour is clearly nearest to T's (CIELAB with lightness at half weight, since people
    name hue first; :data:`MARGIN`); a two-word name when it ends in T ("cherry red", "navy
    blue"). Names with another basic term in them are left out.

    ``compounds`` (how the lexicon reads a colour name, not the training swaps of Table 1's
    recipe): a one-word name that the survey also writes before one or two basic terms
    (:data:`COMPOUND_TERMS`) belongs to the one of those nearest its colour, margin or not,
    unless that one is far from it (:data:`COMPOUND_REACH`) or the name holds a basic term of
    its own ("orangish", read from its stem).
    People's own compounds say which term they attach to a name: "navy" is nearest black by
    its colour alone, but the survey has "navy blue" (and "navy green"), so it is blue; "plum"
    ("plum purple") is purple rather than pink, "wine" ("wine red") red.

    ``mended`` (``train.colour_swap_names`` 2): a one-word name holding a basic term other
    than the one it is assigned ("purplish" to pink, "orangered" to red, "darkblue" and
    "blueberry" to purple, "yellowgreen" to yellow) is left out, as the rule above meant;
    names of their own term ("pinkish", "lightgreen") stay. Off, the table is the one Table 1
    at 480k was trained with."""
    survey = xkcd_survey()
    terms = set(BASIC_TERMS) | set(SPELLINGS)
    out: dict[str, set[str]] = {t: set() for t in BASIC_TERMS}
    single = []
    before: dict[str, set[int]] = {}  # a one-word name → the terms the survey writes it before
    for name in survey:
        words = [SPELLINGS.get(w, w) for w in name.split()]
        if not re.fullmatch(r"[a-z]+( [a-z]+)?", name) or name in terms:
            continue
        if len(words) == 2 and words[1] in out and words[0] not in terms:
            out[words[1]].add(name)
            before.setdefault(words[0], set()).add(BASIC_TERMS.index(words[1]))
        elif len(words) == 1:
            single.append(name)
    weight = np.array([0.5, 1.0, 1.0])
    basic = _lab(np.array([survey[t] for t in BASIC_TERMS])) * weight
    lab = _lab(np.array([survey[n] for n in single])) * weight
    d = np.linalg.norm(lab[:, None] - basic[None], axis=-1)  # names × terms
    order = np.argsort(d, axis=1)
    for i, n in enumerate(single):
        a, b = order[i, 0], order[i, 1]
        vouched = sorted(before.get(n, ())) if compounds else []
        if 1 <= len(vouched) <= COMPOUND_TERMS and not _of_term(n, terms):
            t = min(vouched, key=lambda t: d[i, t])
            if d[i, t] <= COMPOUND_REACH * d[i, a]:
                out[BASIC_TERMS[t]].add(n)
                continue
        if d[i, a] <= MARGIN * d[i, b]:
            if mended and _of_term(n, terms - _spellings(BASIC_TERMS[a])):
                continue  # holds another colour's name
            out[BASIC_TERMS[a]].add(n)
    return {t: tuple(sorted(v)) for t, v in out.items()}


def swap_words(
    sentence: str,
    names_of: Callable[[str], Sequence[str] | None],
    p: float,
    rng: np.random.Generator,
) -> str:
    """``sentence`` with each word that ``names_of`` (given the word in lower case) has names
    for swapped, with probability ``p``, for a random one of them: the training-time swaps'
    one routine (:class:`ColourSwap`, :class:`tvnet.data.word_swaps.WordSwap`)."""

    def swap(m: re.Match) -> str:
        word = m.group(0)
        names = names_of(word.lower())
        if not names or rng.random() >= p:
            return word
        return names[int(rng.integers(len(names)))]

    return re.sub(r"[A-Za-z]+", swap, sentence)


def swap_record(table: dict[str, Sequence[str]], keys: str, values: str) -> dict[str, object]:
    """What a training run records of a swap table (word → its swaps): how many words
    (``keys``) and swaps (``values``) it holds, and a sha256 of it that changes with any of
    them, so that a resume can tell a table that changed (tvnet/train/augment.py)."""
    text = json.dumps(table, sort_keys=True).encode()
    return {
        keys: len(table),
        values: sum(len(v) for v in table.values()),
        "sha256": hashlib.sha256(text).hexdigest()[:16],
    }


class ColourSwap:
    """Swaps each basic colour term of an expression, with probability ``p``, for a random
    survey name of the same colour (:func:`colour_names`)."""

    def __init__(self, p: float, mended: bool = False):
        """``mended``: :func:`colour_names`'s, ``train.colour_swap_names`` 2."""
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"colour swap probability must be in [0, 1], got {p}")
        self.p, self.names = p, colour_names(mended=mended)

    def record(self) -> dict[str, object]:
        """What a run records of its names: how many terms and names, and a digest that
        changes when the survey data or the rules that pick the names change."""
        return swap_record(self.names, "terms", "names")

    def __call__(self, sentence: str, rng: np.random.Generator) -> str:
        return swap_words(sentence, lambda w: self.names.get(SPELLINGS.get(w, w)), self.p, rng)
