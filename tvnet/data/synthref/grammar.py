"""The SynthRef expression grammar: what a noun phrase means, how it is worded, and the four
expression generators (docs/design.md §4).

* ``attribute``  — "the small green star", "striped box", "the disc that is red"
* ``relation``   — "the triangle left of the blue square"
* ``ordinal``    — ordinal/extreme: "the leftmost ring", "the second star from the top",
  "the largest heart"
* ``absolute``   — "the circle at the bottom right", "the star on the left"

Semantics: colour/texture/shape words filter the objects; "small"/"big" in a noun phrase pick
the smallest/largest of the objects matching the rest; relations compare visible centroids
("A left of B": A.cx < B.cx); extremes and ordinals sort the matching objects by centroid or
area; absolute positions are the thirds of the image. The generators additionally demand
margins (positions ≥ ``POS_MARGIN`` of the image apart, areas ≥ ``AREA_RATIO``× apart; for a
relation, the other objects its description matches ≥ 2 % of the image side beyond the
landmark) so that no expression hinges on a few pixels, and keep an expression only when it
picks out exactly one object (docs/data.md lists the ambiguities this leaves)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tvnet.data.synthref.render import SynthObject
from tvnet.data.synthref.vocabulary import (
    COLOUR_WORDS,
    GENERIC_NOUNS,
    SHAPE_WORDS,
    SIZE_ADJ,
    TEXTURE_ADJ,
    TEXTURE_PP,
)

AREA_RATIO = 1.5  # "small"/"largest": the extreme is ≥ 1.5× from every other candidate
POS_MARGIN = 0.05  # positions differ by ≥ 5 % of the image side


@dataclass(frozen=True)
class Desc:
    """A noun phrase's meaning: attribute filters plus an optional size superlative."""

    shape: str | None = None
    colour: str | None = None
    texture: str | None = None
    size: str | None = None  # "small" | "big"

    @property
    def n_attrs(self) -> int:
        return sum(v is not None for v in (self.shape, self.colour, self.texture))


@dataclass(frozen=True)
class Expression:
    obj: int  # index of the referent in the scene's object list
    kind: str  # attribute | relation | ordinal | absolute
    raw: str


# -- meaning -----------------------------------------------------------------------------------
def _matches(o: SynthObject, d: Desc) -> bool:
    return (
        (d.shape is None or o.shape == d.shape)
        and (d.colour is None or o.colour == d.colour)
        and (d.texture is None or o.texture == d.texture)
    )


def _clearly_extreme(objs: list[SynthObject], cand: list[int], pick: int, key: str) -> bool:
    """Is ``pick`` the smallest (key="small") or largest of ``cand`` by ≥ AREA_RATIO, visible and full?"""
    for j in cand:
        if j == pick:
            continue
        for attr in ("area", "full_area"):
            a, b = getattr(objs[pick], attr), getattr(objs[j], attr)
            if key == "small" and not a * AREA_RATIO <= b:
                return False
            if key == "big" and not a >= b * AREA_RATIO:
                return False
    return True


def resolve(objs: list[SynthObject], d: Desc) -> list[int]:
    """Objects a noun phrase denotes (for a size word: the clear extreme, or none)."""
    cand = [i for i, o in enumerate(objs) if _matches(o, d)]
    if d.size is None:
        return cand
    if len(cand) < 2:
        return []  # "the small star" needs another star to compare with
    areas = [objs[i].area for i in cand]
    pick = cand[int(np.argmin(areas) if d.size == "small" else np.argmax(areas))]
    return [pick] if _clearly_extreme(objs, cand, pick, d.size) else []


def _descs(o: SynthObject, sizes: bool) -> list[Desc]:
    out = []
    for shape in (o.shape, None):
        for colour in (o.colour, None):
            for texture in (o.texture, None):
                for size in (None, "small", "big") if sizes else (None,):
                    d = Desc(shape, colour, texture, size)
                    if d.n_attrs:
                        out.append(d)
    return out


def choose(rng: np.random.Generator, items: list[Any]) -> Any:
    """One of ``items``, uniformly (one ``rng.integers`` draw: the draw order is the output)."""
    return items[int(rng.integers(len(items)))]


def _pick_simple(rng: np.random.Generator, descs: list[Desc]) -> Desc:
    """Prefer short descriptions (as people do), sometimes add a redundant word."""
    key = [d.n_attrs + (d.size is not None) + 0.5 * (d.shape is None) for d in descs]
    best = min(key)
    simple = [d for d, k in zip(descs, key) if k == best]
    return choose(rng, simple if rng.random() < 0.75 else descs)


# -- words -------------------------------------------------------------------------------------
def noun_phrase(
    rng: np.random.Generator, d: Desc, det: bool | None = None, relative: bool = True
) -> str:
    """Realise a Desc with varied word order: adjectives, a "with …" phrase or a relative clause."""
    noun = choose(rng, SHAPE_WORDS[d.shape]) if d.shape else choose(rng, GENERIC_NOUNS)
    if noun == "one" and d.colour is None and d.texture is None:
        noun = "shape"
    colour = choose(rng, COLOUR_WORDS[d.colour]) if d.colour else None
    size = choose(rng, SIZE_ADJ[d.size]) if d.size else None
    tex_adj = choose(rng, TEXTURE_ADJ[d.texture]) if d.texture else None
    form = rng.random()
    words: list[str]
    if d.texture in TEXTURE_PP and form < 0.3 and noun != "one":
        words = [w for w in (size, colour, noun) if w] + [choose(rng, TEXTURE_PP[d.texture])]
    elif relative and colour and noun != "one" and form < 0.5:
        rel = choose(rng, ["that is", "which is"])
        tail = colour if tex_adj is None else f"{colour} and {tex_adj}"
        words = [w for w in (size, noun) if w] + [rel, tail]
    else:
        adjs = [a for a in (colour, tex_adj) if a]
        if len(adjs) == 2 and rng.random() < 0.4:
            adjs.reverse()
        words = [w for w in (size, *adjs, noun) if w]
    if det is None:
        det = rng.random() < 0.7
    return " ".join((["the"] if det else []) + words)


def _finish(rng: np.random.Generator, text: str) -> str:
    """Raw text as a person might type it: sometimes capitalised, sometimes a final period."""
    if rng.random() < 0.3:
        text = text[0].upper() + text[1:]
    if rng.random() < 0.2:
        text += "."
    return text


# -- expression generators (each returns candidate raw strings for referent r) -----------------
def _attribute(rng: np.random.Generator, objs: list[SynthObject], r: int) -> list[str]:
    valid = [d for d in _descs(objs[r], sizes=True) if resolve(objs, d) == [r]]
    if not valid:
        return []
    return [noun_phrase(rng, _pick_simple(rng, valid))]


def _landmark_desc(rng: np.random.Generator, objs: list[SynthObject], j: int) -> Desc | None:
    valid = [d for d in _descs(objs[j], sizes=False) if resolve(objs, d) == [j]]
    return _pick_simple(rng, valid) if valid else None


_REL_WORDS = {
    "left": ("left of", "to the left of", "on the left of", "that is left of"),
    "right": ("right of", "to the right of", "on the right of", "that is right of"),
    "above": ("above", "over", "that is above", "just above"),
    "below": ("below", "under", "beneath", "underneath", "that is below"),
}


def _side(p: SynthObject, lm: SynthObject, rel: str) -> float:
    """How far p lies on the ``rel`` side of the landmark (> 0: it does)."""
    if rel == "left":
        return lm.cx - p.cx
    if rel == "right":
        return p.cx - lm.cx
    if rel == "above":
        return lm.cy - p.cy
    return p.cy - lm.cy


def _relation(
    rng: np.random.Generator, objs: list[SynthObject], r: int, w: int, h: int
) -> list[str]:
    o = objs[r]
    mx, my = POS_MARGIN * w, POS_MARGIN * h
    found: list[tuple[bool, Desc, int, str]] = []
    for j, lm in enumerate(objs):
        if j == r or not any(resolve(objs, d) == [j] for d in _descs(lm, sizes=False)):
            continue
        dx, dy = lm.cx - o.cx, lm.cy - o.cy  # landmark relative to referent
        for rel, along, perp, m in (
            ("left", dx, dy, mx),
            ("right", -dx, dy, mx),
            ("above", dy, dx, my),
            ("below", -dy, dx, my),
        ):
            # the referent clearly on that side, the relation's axis dominating
            if not (along > m and abs(perp) < 1.5 * along):
                continue
            for d in _descs(o, sizes=False):
                others = [i for i in resolve(objs, d) if i not in (r, j)]

                # every other candidate is clearly on the other side of the landmark
                if all(
                    _side(objs[i], lm, rel) < -0.02 * (w if rel in ("left", "right") else h)
                    for i in others
                ):
                    found.append((bool(others), d, j, rel))
    if not found:
        return []
    needed = [f for f in found if f[0]]
    _, d, j, rel = choose(rng, needed if needed and rng.random() < 0.85 else found)
    lm_desc = _landmark_desc(rng, objs, j)
    if lm_desc is None:
        return []
    target = noun_phrase(rng, d, relative=False)
    landmark = noun_phrase(rng, lm_desc, det=True, relative=False)
    return [f"{target} {choose(rng, _REL_WORDS[rel])} {landmark}"]


_EXTREME = {
    "left": (
        "the leftmost {n}",
        "the left-most {n}",
        "the {n} on the far left",
        "the {n} furthest to the left",
    ),
    "right": (
        "the rightmost {n}",
        "the right-most {n}",
        "the {n} on the far right",
        "the {n} furthest to the right",
    ),
    "top": ("the topmost {n}", "the highest {n}", "the uppermost {n}", "the top-most {n}"),
    "bottom": ("the bottommost {n}", "the lowest {n}", "the lowermost {n}", "the bottom-most {n}"),
    "big": ("the largest {n}", "the biggest {n}"),
    "small": ("the smallest {n}", "the tiniest {n}"),
}
_ORDINAL = ("the {k} {n} from the {side}", "the {n} {k} from the {side}")


def _ordinal(
    rng: np.random.Generator, objs: list[SynthObject], r: int, w: int, h: int
) -> list[str]:
    found: list[tuple[Desc, str, int]] = []
    for d in _descs(objs[r], sizes=False):
        cand = resolve(objs, d)
        if len(cand) < 2:
            continue
        for key in ("left", "right", "top", "bottom", "big", "small"):
            if key in ("big", "small"):
                areas = [objs[i].area for i in cand]
                pick = cand[int(np.argmax(areas) if key == "big" else np.argmin(areas))]
                if pick == r and _clearly_extreme(objs, cand, r, key):
                    found.append((d, key, 0))
                continue
            horiz = key in ("left", "right")
            vals = np.array([objs[i].cx if horiz else objs[i].cy for i in cand])
            if key in ("right", "bottom"):
                vals = -vals
            order = np.argsort(vals, kind="stable")
            rank = int(np.nonzero(np.array(cand)[order] == r)[0][0])
            m = POS_MARGIN * (w if horiz else h)
            gaps = np.diff(vals[order])
            if rank == 0 and gaps[0] > m:
                found.append((d, key, 0))
            elif rank in (1, 2) and len(cand) >= rank + 2 and gaps[rank - 1] > m and gaps[rank] > m:
                found.append((d, key, rank))
    if not found:
        return []
    d, key, rank = choose(rng, found)
    n = noun_phrase(rng, Desc(d.shape, d.colour, d.texture), det=False, relative=False)
    if rank == 0:
        return [choose(rng, _EXTREME[key]).format(n=n)]
    k = ("second", "third")[rank - 1]
    return [choose(rng, _ORDINAL).format(k=k, n=n, side=key)]


def _cell(v: float, size: float) -> str | None:
    """'lo' | 'mid' | 'hi' third of the axis, None when within the margin of a border."""
    m = POS_MARGIN * size
    if v < size / 3 - m:
        return "lo"
    if v > 2 * size / 3 + m:
        return "hi"
    if size / 3 + m < v < 2 * size / 3 - m:
        return "mid"
    return None


def _outside(v: float, size: float, third: str) -> bool:
    """Clearly (by the margin) not in that third of the axis."""
    m = POS_MARGIN * size
    lo, hi = {"lo": (0.0, size / 3), "mid": (size / 3, 2 * size / 3), "hi": (2 * size / 3, size)}[
        third
    ]
    return v < lo - m or v > hi + m


_ABS_H = {"lo": "left", "hi": "right"}
_ABS_V = {"lo": "top", "hi": "bottom"}
_ABS_V_ALT = {"lo": "upper", "hi": "lower"}


def _absolute(
    rng: np.random.Generator, objs: list[SynthObject], r: int, w: int, h: int
) -> list[str]:
    o = objs[r]
    hx, vy = _cell(o.cx, w), _cell(o.cy, h)
    found: list[tuple[bool, Desc, str, str | None, str | None]] = []
    for d in _descs(o, sizes=False):
        others = [i for i in resolve(objs, d) if i != r]
        options: list[tuple[str | None, str | None]] = []
        if hx in ("lo", "hi"):
            options.append((hx, None))
        if vy in ("lo", "hi"):
            options.append((None, vy))
        if hx in ("lo", "hi") and vy in ("lo", "hi"):
            options.append((hx, vy))
        if hx == "mid" and vy == "mid":
            options.append(("mid", "mid"))
        for ch, cv in options:
            ok = True
            for i in others:
                p = objs[i]
                out_h = ch is not None and _outside(p.cx, w, ch)
                out_v = cv is not None and _outside(p.cy, h, cv)
                if not (out_h or out_v):
                    ok = False
                    break
            if ok:
                found.append((bool(others), d, "" if ch is None else ch, ch, cv))
    if not found:
        return []
    needed = [f for f in found if f[0]]
    _, d, _, ch, cv = choose(rng, needed if needed and rng.random() < 0.8 else found)
    n = noun_phrase(rng, d, det=False, relative=False)
    if ch == "mid":
        return [
            choose(
                rng, ["the {n} in the middle", "the {n} in the center", "the {n} in the centre"]
            ).format(n=n)
        ]
    if ch is not None and cv is not None:
        hw_, vw = _ABS_H[ch], choose(rng, [_ABS_V[cv], _ABS_V_ALT[cv]])
        t = choose(
            rng,
            [
                "the {n} at the {v} {h}",
                "the {n} in the {v} {h} corner",
                "the {v} {h} {n}",
                "{v} {h} {n}",
            ],
        )
        return [t.format(n=n, v=vw, h=hw_)]
    if ch is not None:
        side = _ABS_H[ch]
        t = choose(rng, ["the {n} on the {s}", "the {n} on the {s} side", "{n} on the {s}"])
        return [t.format(n=n, s=side)]
    assert cv is not None
    t = choose(rng, ["the {n} at the {s}", "the {n} at the very {s}", "{n} at the {s}"])
    return [t.format(n=n, s=_ABS_V[cv])]


KINDS = ("attribute", "relation", "ordinal", "absolute")
KIND_P = (0.34, 0.24, 0.2, 0.22)  # how likely each of KINDS is tried first


def describe(
    rng: np.random.Generator, objs: list[SynthObject], r: int, w: int, h: int, kinds: list[str]
) -> Expression | None:
    """The first expression of the given kinds (tried in order) that picks out object r only."""
    for kind in kinds:
        if kind == "attribute":
            c = _attribute(rng, objs, r)
        elif kind == "relation":
            c = _relation(rng, objs, r, w, h)
        elif kind == "ordinal":
            c = _ordinal(rng, objs, r, w, h)
        else:
            c = _absolute(rng, objs, r, w, h)
        if c:
            return Expression(obj=r, kind=kind, raw=_finish(rng, c[0]))
    return None
