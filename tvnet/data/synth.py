"""SynthRef: the embedded referring-segmentation benchmark (docs/design.md §4).

Each scene is a cluttered background (a procedural texture or a crop of one of
scikit-image's CC0 photos) with 2–8 coloured, textured, rotated shapes that may partly hide
each other. Each scene carries 1–3 expressions; every expression is generated from the scene's
symbolic description and kept only when it picks out exactly one object:

* ``attribute``  — "the small green star", "striped box", "the disc that is red"
* ``relation``   — "the triangle left of the blue square"
* ``ordinal``    — ordinal/extreme: "the leftmost ring", "the second star from the top",
  "the largest heart"
* ``absolute``   — "the circle at the bottom right", "the star on the left"

Semantics (the test re-checks them on the written files, independently of this module):
colour/texture/shape words filter the objects; "small"/"big" in a noun phrase pick the
smallest/largest of the objects matching the rest; relations compare visible centroids
("A left of B": A.cx < B.cx); extremes and ordinals sort the matching objects by centroid or
area; absolute positions are the thirds of the image. The generator additionally demands
margins (positions ≥ 5 % of the image apart, areas ≥ 1.5× apart) so that no expression
hinges on a few pixels.

Ground truth is the *visible* mask (after occlusion). Every object keeps ≥ 50 % of itself
visible, and only objects with ≥ 75 % visible are referents.

Written in the refer format (``refs(synth).json``, ``instances.json`` with RLE masks and the
symbolic attributes of every object, ``images/*.png``), so :func:`tvnet.data.refer.open_refer`
reads it unchanged. Deterministic: each scene draws from its own
``numpy.random.default_rng([seed, split, index])``, so one seed gives identical bytes.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from tvnet.data.tokenize import tokenize

FORMAT_VERSION = 1
SPLITS = ("train", "val", "test")

# -- vocabulary --------------------------------------------------------------------------------
SHAPES = (
    "circle",
    "square",
    "triangle",
    "star",
    "ring",
    "cross",
    "diamond",
    "hexagon",
    "heart",
    "crescent",
)
SHAPE_WORDS: dict[str, tuple[str, ...]] = {
    "circle": ("circle", "disc", "disk"),
    "square": ("square", "box"),
    "triangle": ("triangle",),
    "star": ("star",),
    "ring": ("ring", "donut", "hoop"),
    "cross": ("cross", "plus sign"),
    "diamond": ("diamond", "rhombus"),
    "hexagon": ("hexagon",),
    "heart": ("heart",),
    "crescent": ("crescent", "moon"),
}
GENERIC_NOUNS = ("shape", "object", "thing", "one")

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 35, 35),
    "orange": (245, 135, 20),
    "yellow": (245, 215, 35),
    "green": (40, 165, 55),
    "blue": (35, 85, 220),
    "purple": (135, 50, 185),
    "pink": (245, 125, 195),
    "white": (245, 245, 245),
}
COLOUR_WORDS: dict[str, tuple[str, ...]] = {
    "red": ("red",),
    "orange": ("orange",),
    "yellow": ("yellow",),
    "green": ("green",),
    "blue": ("blue",),
    "purple": ("purple", "violet"),
    "pink": ("pink",),
    "white": ("white",),
}
TEXTURES = ("plain", "striped", "dotted", "checkered")
TEXTURE_ADJ: dict[str, tuple[str, ...]] = {
    "plain": ("plain", "solid"),
    "striped": ("striped", "stripy"),
    "dotted": ("dotted", "spotted"),
    "checkered": ("checkered", "chequered", "checked"),
}
TEXTURE_PP: dict[str, tuple[str, ...]] = {
    "striped": ("with stripes",),
    "dotted": ("with dots", "with spots", "with polka dots"),
    "checkered": ("with checks", "with a checkered pattern"),
}
SIZE_ADJ = {"small": ("small", "little"), "big": ("big", "large")}

# Words that locate an object in the image; an expression without any is "no-location" (as
# RefCOCO+). Used by :func:`synth_stats` on the written text.
LOCATION_WORDS = frozenset(
    (
        "left right top bottom above below over under beneath underneath upper lower middle "
        "center centre leftmost rightmost topmost bottommost highest lowest uppermost "
        "lowermost far furthest second third side corner most"
    ).split()
)

# CC0 photos shipped inside scikit-image (no download); greyscale ones get a tint.
PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "immunohistochemistry",
    "hubble_deep_field",
    "retina",
    "grass",
    "gravel",
    "brick",
    "camera",
    "coins",
    "clock",
    "moon",
    "page",
    "text",
)

MIN_VISIBLE = 0.5  # every object keeps at least this share of itself visible
MIN_REFERENT_VISIBLE = 0.75  # a referent is at most 25 % occluded
AREA_RATIO = 1.5  # "small"/"largest": the extreme is ≥ 1.5× from every other candidate
POS_MARGIN = 0.05  # positions differ by ≥ 5 % of the image side
SMALL = 0.05  # size bins of docs/design.md §5 (gt area / image area)
MEDIUM = 0.10


# -- scene -------------------------------------------------------------------------------------
@dataclass
class SynthObject:
    shape: str
    colour: str
    texture: str
    z: int  # draw order (higher = in front)
    full_mask: np.ndarray = field(repr=False)  # H×W bool before occlusion
    mask: np.ndarray | None = field(default=None, repr=False)  # H×W bool visible
    area: int = 0  # visible pixels
    full_area: int = 0
    cx: float = 0.0  # centroid of the visible mask (x right, y down)
    cy: float = 0.0
    bbox: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    @property
    def visible_fraction(self) -> float:
        return self.area / max(1, self.full_area)

    @property
    def referable(self) -> bool:
        return self.visible_fraction >= MIN_REFERENT_VISIBLE


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


@dataclass
class Scene:
    image: np.ndarray  # H×W×3 uint8
    objects: list[SynthObject]
    expressions: list[Expression]
    background: str


# -- drawing -----------------------------------------------------------------------------------
def _circle(n: int = 48, r: float = 1.0, cx: float = 0.0, cy: float = 0.0) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], axis=1)


def _regular(n: int, phase: float = -np.pi / 2) -> np.ndarray:
    t = phase + np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.stack([np.cos(t), np.sin(t)], axis=1)


def _star() -> np.ndarray:
    t = -np.pi / 2 + np.linspace(0, 2 * np.pi, 10, endpoint=False)
    r = np.where(np.arange(10) % 2 == 0, 1.0, 0.45)
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


def _cross(w: float = 0.34) -> np.ndarray:
    return np.array(
        [
            (-w, -1),
            (w, -1),
            (w, -w),
            (1, -w),
            (1, w),
            (w, w),
            (w, 1),
            (-w, 1),
            (-w, w),
            (-1, w),
            (-1, -w),
            (-w, -w),
        ],
        dtype=float,
    )


def _heart() -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    return np.stack([x, y + 2.5], axis=1) / 16.5


@functools.cache
def _shape_parts(shape: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(outline, hole or None) in unit coordinates (about [-1, 1]²)."""
    if shape == "circle":
        return _circle(), None
    if shape == "square":
        return np.array([(-0.8, -0.8), (0.8, -0.8), (0.8, 0.8), (-0.8, 0.8)]), None
    if shape == "triangle":
        return _regular(3) + np.array([0.0, 0.2]), None
    if shape == "star":
        return _star(), None
    if shape == "ring":
        return _circle(), _circle(r=0.55)
    if shape == "cross":
        return _cross(), None
    if shape == "diamond":
        return np.array([(0.0, -1.0), (0.62, 0.0), (0.0, 1.0), (-0.62, 0.0)]), None
    if shape == "hexagon":
        return _regular(6, phase=0.0), None
    if shape == "heart":
        return _heart(), None
    if shape == "crescent":
        return _circle(), _circle(r=0.82, cx=0.42, cy=-0.12)
    raise ValueError(f"unknown shape {shape!r}")


def _raster(
    parts: tuple[np.ndarray, np.ndarray | None], xy0: tuple[int, int], hw: tuple[int, int]
) -> np.ndarray:
    """Rasterise an outline (minus its hole) given in pixel coordinates into an h×w bool box."""
    h, w = hw
    im = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(im)
    outline, hole = parts
    off = np.array(xy0, dtype=float)
    draw.polygon([tuple(p) for p in (outline - off).tolist()], fill=1)
    if hole is not None:
        draw.polygon([tuple(p) for p in (hole - off).tolist()], fill=0)
    return np.asarray(im, dtype=bool)


@functools.cache
def _unit_area(shape: str) -> float:
    """Area of the unit shape (radius 1), measured on a 400×400 raster."""
    outline, hole = _shape_parts(shape)
    s = 200.0
    parts = (outline * s + 200.0, None if hole is None else hole * s + 200.0)
    return float(_raster(parts, (0, 0), (400, 400)).sum()) / s**2


def _rotate(p: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return p @ np.array([[c, s], [-s, c]])


def _texture(
    rng: np.random.Generator, texture: str, hw: tuple[int, int], radius: float
) -> np.ndarray:
    """h×w bool pattern (True = pattern colour) for a box of an object of this radius."""
    h, w = hw
    if texture == "plain":
        return np.zeros((h, w), dtype=bool)
    period = float(np.clip(radius * rng.uniform(0.35, 0.55), 5.0, 16.0))
    ang = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u = xx * math.cos(ang) + yy * math.sin(ang) + rng.uniform(0, period)
    v = -xx * math.sin(ang) + yy * math.cos(ang) + rng.uniform(0, period)
    if texture == "striped":
        return (u / period) % 1.0 < 0.5
    if texture == "checkered":
        return (np.floor(u / period) + np.floor(v / period)) % 2 == 0
    if texture == "dotted":
        du = (u % period) - period / 2
        dv = (v % period) - period / 2
        return du * du + dv * dv < (0.3 * period) ** 2
    raise ValueError(f"unknown texture {texture!r}")


@functools.cache
def _photo(name: str) -> np.ndarray:
    import skimage.data

    im = np.asarray(getattr(skimage.data, name)())
    if im.ndim == 2:
        im = np.repeat(im[:, :, None], 3, axis=2)
    return np.ascontiguousarray(im[:, :, :3]).astype(np.uint8)


def _muted_colour(rng: np.random.Generator) -> np.ndarray:
    """A low-saturation colour, so backgrounds never look like a named object colour."""
    g = rng.uniform(50, 200)
    return np.clip(g + rng.uniform(-28, 28, size=3), 0, 255)


def _background(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, str]:
    """H×W×3 float32 cluttered background and a short description of it."""
    kind = rng.choice(
        ["photo", "noise", "stripes", "checker", "clutter"], p=[0.45, 0.2, 0.1, 0.1, 0.15]
    )
    if kind == "photo":
        name = PHOTOS[int(rng.integers(len(PHOTOS)))]
        photo = _photo(name)
        ph, pw = photo.shape[:2]
        # crop with the scene's aspect, 40–100 % of the largest such crop
        aspect = w / h
        ch_max = min(ph, pw / aspect)
        ch = ch_max * rng.uniform(0.4, 1.0)
        cw = ch * aspect
        y0 = rng.uniform(0, ph - ch)
        x0 = rng.uniform(0, pw - cw)
        crop = Image.fromarray(photo).resize(
            (w, h), Image.BILINEAR, box=(float(x0), float(y0), float(x0 + cw), float(y0 + ch))
        )
        img = np.asarray(crop, dtype=np.float32)
        if rng.random() < 0.5:
            img = img[:, ::-1]
        if name in ("grass", "gravel", "brick", "camera", "coins", "clock", "moon", "page", "text"):
            tint = _muted_colour(rng)
            img = img * (tint / tint.mean())
        desc = f"photo:{name}"
    else:
        # smooth value noise at two scales, low-saturation colours
        def value_noise(cells: int) -> np.ndarray:
            grid = rng.uniform(50, 200, size=(cells, cells, 1))
            grid = np.clip(grid + rng.uniform(-28, 28, size=(cells, cells, 3)), 0, 255)
            im = Image.fromarray(grid.astype(np.uint8)).resize((w, h), Image.BICUBIC)
            return np.asarray(im, dtype=np.float32)

        img = 0.7 * value_noise(int(rng.integers(3, 7))) + 0.3 * value_noise(
            int(rng.integers(8, 20))
        )
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        if kind == "stripes":
            ang = rng.uniform(0, np.pi)
            period = rng.uniform(8, 40)
            u = xx * math.cos(ang) + yy * math.sin(ang)
            img = img + rng.uniform(15, 40) * np.sign(np.sin(2 * np.pi * u / period))[:, :, None]
        elif kind == "checker":
            period = rng.uniform(12, 50)
            ang = rng.uniform(0, np.pi / 2)
            u = xx * math.cos(ang) + yy * math.sin(ang)
            v = -xx * math.sin(ang) + yy * math.cos(ang)
            chk = (np.floor(u / period) + np.floor(v / period)) % 2
            img = img + rng.uniform(15, 40) * (chk[:, :, None] - 0.5) * 2
        elif kind == "clutter":
            canvas = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
            draw = ImageDraw.Draw(canvas)
            for _ in range(int(rng.integers(15, 45))):
                col = tuple(int(c) for c in _muted_colour(rng))
                x1, y1 = float(rng.uniform(0, w)), float(rng.uniform(0, h))
                if rng.random() < 0.5:
                    x2, y2 = x1 + rng.uniform(-80, 80), y1 + rng.uniform(-80, 80)
                    draw.line(
                        [(x1, y1), (float(x2), float(y2))], fill=col, width=int(rng.integers(1, 4))
                    )
                else:
                    r = float(rng.uniform(4, 30))
                    draw.ellipse([x1 - r, y1 - r * 0.7, x1 + r, y1 + r * 0.7], outline=col, width=2)
            img = np.asarray(canvas, dtype=np.float32)
        desc = kind
    # lower the contrast and saturation so that the named colours of the objects stand out
    grey = img.mean(axis=2, keepdims=True)
    img = grey + (img - grey) * rng.uniform(0.3, 0.6)
    mean = float(img.mean())
    img = mean + (img - mean) * rng.uniform(0.55, 0.85)
    return img.astype(np.float32), str(desc)


def _object_colours(rng: np.random.Generator, colour: str) -> tuple[np.ndarray, np.ndarray]:
    base = np.array(COLOURS[colour], dtype=np.float32)
    base = np.clip(base * rng.uniform(0.9, 1.05) + rng.uniform(-12, 12, size=3), 0, 255)
    alt = np.array([150.0, 150.0, 160.0]) if colour == "white" else base * 0.5
    return base, alt


def _sample_layout(rng: np.random.Generator, n: int) -> list[str]:
    """Shapes of the n objects; in most scenes one shape appears several times (distractors)."""
    shapes = [SHAPES[int(i)] for i in rng.integers(len(SHAPES), size=n)]
    if rng.random() < 0.75:
        dup = SHAPES[int(rng.integers(len(SHAPES)))]
        k = min(n, int(rng.integers(2, 4)))
        for i in rng.choice(n, size=k, replace=False):
            shapes[int(i)] = dup
    return shapes


def _area_fraction(rng: np.random.Generator) -> float:
    """Target area / image area: a deliberate share of small objects (< 5 %)."""
    r = rng.random()
    if r < 0.38:
        return float(rng.uniform(0.007, 0.04))
    if r < 0.7:
        return float(rng.uniform(0.055, 0.095))
    return float(rng.uniform(0.11, 0.2))


def render_scene(rng: np.random.Generator) -> tuple[np.ndarray, list[SynthObject], str]:
    """Draw a background and 2–8 objects; return the image, objects and background kind."""
    h = int(rng.integers(240, 401))
    w = h if rng.random() < 0.3 else int(rng.integers(240, 401))
    img, bg = _background(rng, h, w)
    n = int(rng.integers(2, 9))
    shapes = _sample_layout(rng, n)
    objects: list[SynthObject] = []
    for shape in shapes:
        colour = list(COLOURS)[int(rng.integers(len(COLOURS)))]
        texture = TEXTURES[int(rng.integers(len(TEXTURES)))]
        frac = _area_fraction(rng)
        placed = None
        for attempt in range(24):
            if attempt and attempt % 8 == 0:
                frac *= 0.7  # crowded: try smaller
            radius = math.sqrt(frac * h * w / _unit_area(shape))
            radius = min(radius, 0.45 * min(h, w))
            angle = float(rng.uniform(0, 2 * np.pi))
            outline, hole = _shape_parts(shape)
            pts_o = _rotate(outline, angle) * radius
            pts_h = None if hole is None else _rotate(hole, angle) * radius
            lo, hi = pts_o.min(axis=0), pts_o.max(axis=0)
            cx = float(rng.uniform(-lo[0] + 1, w - hi[0] - 1))
            cy = float(rng.uniform(-lo[1] + 1, h - hi[1] - 1))
            x0, y0 = int(math.floor(cx + lo[0])), int(math.floor(cy + lo[1]))
            x1, y1 = int(math.ceil(cx + hi[0])) + 1, int(math.ceil(cy + hi[1])) + 1
            x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
            parts = (pts_o + (cx, cy), None if pts_h is None else pts_h + (cx, cy))
            box = _raster(parts, (x0, y0), (y1 - y0, x1 - x0))
            if box.sum() < 30:
                continue
            # every earlier object must stay ≥ MIN_VISIBLE visible (counted inside the box)
            if all(
                o.area - int((o.mask[y0:y1, x0:x1] & box).sum()) >= MIN_VISIBLE * o.full_area
                for o in objects
            ):
                placed = (box, (x0, y0, x1, y1), radius)
                break
        if placed is None:
            continue
        box, (x0, y0, x1, y1), radius = placed
        for o in objects:
            o.area -= int((o.mask[y0:y1, x0:x1] & box).sum())
            o.mask[y0:y1, x0:x1] &= ~box
        full = np.zeros((h, w), dtype=bool)
        full[y0:y1, x0:x1] = box
        obj = SynthObject(
            shape=shape, colour=colour, texture=texture, z=len(objects), full_mask=full
        )
        obj.mask = full.copy()
        obj.full_area = obj.area = int(box.sum())
        objects.append(obj)
        # paint: base colour, pattern colour where the texture says so
        base, alt = _object_colours(rng, colour)
        pattern = _texture(rng, texture, (y1 - y0, x1 - x0), radius)
        region = img[y0:y1, x0:x1]
        m = full[y0:y1, x0:x1]
        region[m & ~pattern] = base
        region[m & pattern] = alt
    for o in objects:
        assert o.mask is not None
        o.area = int(o.mask.sum())
        ys, xs = np.nonzero(o.mask)
        o.cx, o.cy = float(xs.mean()), float(ys.mean())
        o.bbox = (
            float(xs.min()),
            float(ys.min()),
            float(xs.max() - xs.min() + 1),
            float(ys.max() - ys.min() + 1),
        )
    return np.clip(img, 0, 255).astype(np.uint8), objects, bg


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


def _pick(rng: np.random.Generator, items: list[Any]) -> Any:
    return items[int(rng.integers(len(items)))]


def _pick_simple(rng: np.random.Generator, descs: list[Desc]) -> Desc:
    """Prefer short descriptions (as people do), sometimes add a redundant word."""
    key = [d.n_attrs + (d.size is not None) + 0.5 * (d.shape is None) for d in descs]
    best = min(key)
    simple = [d for d, k in zip(descs, key) if k == best]
    return _pick(rng, simple if rng.random() < 0.75 else descs)


# -- words -------------------------------------------------------------------------------------
def noun_phrase(
    rng: np.random.Generator, d: Desc, det: bool | None = None, relative: bool = True
) -> str:
    """Realise a Desc with varied word order: adjectives, a "with …" phrase or a relative clause."""
    noun = _pick(rng, SHAPE_WORDS[d.shape]) if d.shape else _pick(rng, GENERIC_NOUNS)
    if noun == "one" and d.colour is None and d.texture is None:
        noun = "shape"
    colour = _pick(rng, COLOUR_WORDS[d.colour]) if d.colour else None
    size = _pick(rng, SIZE_ADJ[d.size]) if d.size else None
    tex_adj = _pick(rng, TEXTURE_ADJ[d.texture]) if d.texture else None
    form = rng.random()
    words: list[str]
    if d.texture in TEXTURE_PP and form < 0.3 and noun != "one":
        words = [w for w in (size, colour, noun) if w] + [_pick(rng, TEXTURE_PP[d.texture])]
    elif relative and colour and noun != "one" and form < 0.5:
        rel = _pick(rng, ["that is", "which is"])
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
    _, d, j, rel = _pick(rng, needed if needed and rng.random() < 0.85 else found)
    lm_desc = _landmark_desc(rng, objs, j)
    if lm_desc is None:
        return []
    target = noun_phrase(rng, d, relative=False)
    landmark = noun_phrase(rng, lm_desc, det=True, relative=False)
    return [f"{target} {_pick(rng, _REL_WORDS[rel])} {landmark}"]


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
    d, key, rank = _pick(rng, found)
    n = noun_phrase(rng, Desc(d.shape, d.colour, d.texture), det=False, relative=False)
    if rank == 0:
        return [_pick(rng, _EXTREME[key]).format(n=n)]
    k = ("second", "third")[rank - 1]
    return [_pick(rng, _ORDINAL).format(k=k, n=n, side=key)]


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
    _, d, _, ch, cv = _pick(rng, needed if needed and rng.random() < 0.8 else found)
    n = noun_phrase(rng, d, det=False, relative=False)
    if ch == "mid":
        return [
            _pick(
                rng, ["the {n} in the middle", "the {n} in the center", "the {n} in the centre"]
            ).format(n=n)
        ]
    if ch is not None and cv is not None:
        hw_, vw = _ABS_H[ch], _pick(rng, [_ABS_V[cv], _ABS_V_ALT[cv]])
        t = _pick(
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
        t = _pick(rng, ["the {n} on the {s}", "the {n} on the {s} side", "{n} on the {s}"])
        return [t.format(n=n, s=side)]
    assert cv is not None
    t = _pick(rng, ["the {n} at the {s}", "the {n} at the very {s}", "{n} at the {s}"])
    return [t.format(n=n, s=_ABS_V[cv])]


KINDS = ("attribute", "relation", "ordinal", "absolute")
_KIND_P = (0.34, 0.24, 0.2, 0.22)


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


def make_scene(seed: int, split: str, index: int) -> Scene:
    """Scene ``index`` of ``split``: a pure function of (seed, split, index)."""
    rng = np.random.default_rng([int(seed), SPLITS.index(split), int(index)])
    image, objs, bg = render_scene(rng)
    h, w = image.shape[:2]
    n_expr = int(rng.choice([1, 2, 3], p=[0.3, 0.4, 0.3]))
    dup = Counter(o.shape for o in objs)
    referable = [i for i, o in enumerate(objs) if o.referable]
    exprs: list[Expression] = []
    tried: list[int] = []
    for e in range(n_expr):
        reuse = [x.obj for x in exprs]
        cands = [i for i in referable if i not in tried]
        if e and reuse and rng.random() < 0.35:
            order = [_pick(rng, reuse)]
        else:
            order = []
            if cands:
                # favour referents with a same-category distractor
                wts = np.array([3.0 if dup[objs[i].shape] > 1 else 1.0 for i in cands])
                order = [
                    cands[int(i)]
                    for i in rng.choice(
                        len(cands), size=len(cands), replace=False, p=wts / wts.sum()
                    )
                ]
        for r in order:
            kinds = [
                KINDS[int(k)]
                for k in rng.choice(len(KINDS), size=len(KINDS), replace=False, p=_KIND_P)
            ]
            x = describe(rng, objs, r, w, h, kinds)
            if x is not None and all(
                x.raw.lower().rstrip(".") != y.raw.lower().rstrip(".") for y in exprs
            ):
                exprs.append(x)
                break
            tried.append(r)
    # group by referent so each ref's sentences are consecutive (first-mention order)
    first = {}
    for x in exprs:
        first.setdefault(x.obj, len(first))
    exprs.sort(key=lambda x: first[x.obj])
    return Scene(image=image, objects=objs, expressions=exprs, background=bg)


# -- serialisation -----------------------------------------------------------------------------
def _rle(mask: np.ndarray) -> str:
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return rle["counts"].decode("ascii")


def _scene_record(seed: int, split: str, index: int) -> dict[str, Any]:
    """Everything the writer needs from one scene, picklable (runs in worker processes)."""
    scene = make_scene(seed, split, index)
    buf = BytesIO()
    Image.fromarray(scene.image).save(buf, format="PNG", compress_level=1)
    h, w = scene.image.shape[:2]
    objects = []
    for o in scene.objects:
        assert o.mask is not None
        objects.append(
            {
                "shape": o.shape,
                "colour": o.colour,
                "texture": o.texture,
                "z": o.z,
                "area": o.area,
                "full_area": o.full_area,
                "visible_fraction": round(o.visible_fraction, 4),
                "center": [round(o.cx, 2), round(o.cy, 2)],
                "bbox": list(o.bbox),
                "referable": o.referable,
                "counts": _rle(o.mask),
            }
        )
    return {
        "index": index,
        "png": buf.getvalue(),
        "height": h,
        "width": w,
        "background": scene.background,
        "objects": objects,
        "expressions": [(x.obj, x.kind, x.raw) for x in scene.expressions],
    }


def _scene_batch(seed: int, split: str, indices: list[int]) -> list[dict[str, Any]]:
    return [_scene_record(seed, split, i) for i in indices]


def _iter_scenes(
    seed: int, split: str, pool: ProcessPoolExecutor | None, workers: int, batch: int = 8
) -> Iterator[dict[str, Any]]:
    """Scenes 0, 1, 2, … of a split, in order (in ``pool`` when given, a few batches ahead)."""
    if pool is None:
        i = 0
        while True:
            yield _scene_record(seed, split, i)
            i += 1
    futures = []
    nxt = 0
    try:
        while True:
            while len(futures) < 2 * workers:
                futures.append(
                    pool.submit(_scene_batch, seed, split, list(range(nxt, nxt + batch)))
                )
                nxt += batch
            yield from futures.pop(0).result()
    finally:
        for f in futures:
            f.cancel()


def generate(
    out_dir: str | os.PathLike,
    seed: int = 0,
    train: int = 6000,
    val: int = 1000,
    test: int = 1000,
    workers: int | None = None,
    progress: bool = True,
    overwrite: bool = False,
) -> Path:
    """Write SynthRef to ``out_dir`` (refer format). Sizes are numbers of expressions.

    Generated into a temporary sibling folder and renamed at the end, so an interrupted run
    never leaves a half dataset under ``out_dir``.
    """
    from tqdm import tqdm

    out = Path(out_dir)
    sizes = {"train": int(train), "val": int(val), "test": int(test)}
    if any(v < 0 for v in sizes.values()) or not any(sizes.values()):
        raise ValueError(f"split sizes must be ≥ 0 and not all 0, got {sizes}")
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} already exists; remove it or pass overwrite=True (--force)")
    if workers is None:
        workers = max(1, min(2, os.cpu_count() or 1))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        (tmp / "images").mkdir()
        with contextlib.ExitStack() as stack:
            images, annotations, refs = [], [], []
            image_id = ann_id = ref_id = sent_id = 0
            bar = tqdm(
                total=sum(sizes.values()), desc="synthref", unit="expr", disable=not progress
            )
            pool = None
            if workers > 1:
                import multiprocessing

                # fork where there is one: the workers run numpy/PIL code only, and unlike
                # spawn it does not re-import the caller's __main__ (a script without a main
                # guard would recurse)
                methods = multiprocessing.get_all_start_methods()
                ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
                pool = stack.enter_context(ProcessPoolExecutor(max_workers=workers, mp_context=ctx))
            for split in SPLITS:
                need = sizes[split]
                if need == 0:
                    continue
                scenes = _iter_scenes(seed, split, pool, workers)
                try:
                    for rec in scenes:
                        exprs = rec["expressions"][:need]
                        if not exprs:
                            continue
                        need -= len(exprs)
                        image_id += 1
                        file_name = f"{split}_{image_id:06d}.png"
                        (tmp / "images" / file_name).write_bytes(rec["png"])
                        h, w = rec["height"], rec["width"]
                        images.append(
                            {
                                "id": image_id,
                                "file_name": file_name,
                                "height": h,
                                "width": w,
                                "split": split,
                                "scene_index": rec["index"],
                                "background": rec["background"],
                            }
                        )
                        obj_ann = []
                        for o in rec["objects"]:
                            ann_id += 1
                            obj_ann.append(ann_id)
                            annotations.append(
                                {
                                    "id": ann_id,
                                    "image_id": image_id,
                                    "category_id": SHAPES.index(o["shape"]) + 1,
                                    "segmentation": {"size": [h, w], "counts": o["counts"]},
                                    "area": o["area"],
                                    "bbox": o["bbox"],
                                    "iscrowd": 0,
                                    "shape": o["shape"],
                                    "colour": o["colour"],
                                    "texture": o["texture"],
                                    "center": o["center"],
                                    "full_area": o["full_area"],
                                    "visible_fraction": o["visible_fraction"],
                                    "z": o["z"],
                                    "referable": o["referable"],
                                }
                            )
                        by_obj: dict[int, dict[str, Any]] = {}
                        for obj, kind, raw in exprs:
                            if obj not in by_obj:
                                ref_id += 1
                                by_obj[obj] = {
                                    "ref_id": ref_id,
                                    "ann_id": obj_ann[obj],
                                    "image_id": image_id,
                                    "category_id": SHAPES.index(rec["objects"][obj]["shape"]) + 1,
                                    "split": split,
                                    "file_name": file_name,
                                    "sent_ids": [],
                                    "sentences": [],
                                }
                                refs.append(by_obj[obj])
                            sent_id += 1
                            toks = tokenize(raw)
                            by_obj[obj]["sent_ids"].append(sent_id)
                            by_obj[obj]["sentences"].append(
                                {
                                    "sent_id": sent_id,
                                    "raw": raw,
                                    "tokens": toks,
                                    "sent": " ".join(toks),
                                    "type": kind,
                                }
                            )
                        bar.update(len(exprs))
                        if need <= 0:
                            break
                finally:
                    scenes.close()
            bar.close()
        instances = {
            "info": {
                "dataset": "synthref",
                "description": "SynthRef: synthetic referring expressions (tvnet synth)",
                "version": FORMAT_VERSION,
                "seed": int(seed),
                "sizes": sizes,
            },
            "licenses": [{"id": 1, "name": "CC0 (backgrounds: scikit-image sample photos, CC0)"}],
            "categories": [
                {"id": i + 1, "name": s, "supercategory": "shape"} for i, s in enumerate(SHAPES)
            ],
            "images": images,
            "annotations": annotations,
        }
        _write_json(tmp / "instances.json", instances)
        _write_json(tmp / "refs(synth).json", refs)
        if out.exists():  # overwrite: move the old one aside, then swap
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, old / "d")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")


# -- data card ---------------------------------------------------------------------------------
def synth_stats(out_dir: str | os.PathLike) -> dict[str, Any]:
    """Distributions of a generated SynthRef folder, recomputed from its files."""
    from tvnet.io import read_json

    out = Path(out_dir)
    inst = read_json(out / "instances.json", "SynthRef instances.json")
    refs = read_json(out / "refs(synth).json", "SynthRef refs file")
    images = {im["id"]: im for im in inst["images"]}
    anns = {a["id"]: a for a in inst["annotations"]}
    per_image: dict[int, list[dict[str, Any]]] = {}
    for a in inst["annotations"]:
        per_image.setdefault(a["image_id"], []).append(a)
    stats: dict[str, Any] = {"seed": inst.get("info", {}).get("seed"), "splits": {}}
    all_vocab: set[str] = set()
    for split in SPLITS:
        srefs = [r for r in refs if r["split"] == split]
        if not srefs:
            continue
        sizes, kinds, vocab = Counter(), Counter(), set()
        n = no_loc = distract = occluded = tokens = 0
        scene_distract: dict[int, bool] = {}
        for r in srefs:
            a = anns[r["ann_id"]]
            im = images[r["image_id"]]
            frac = a["area"] / (im["height"] * im["width"])
            has_dup = any(
                b["id"] != a["id"] and b["shape"] == a["shape"] for b in per_image[im["id"]]
            )
            scene_distract[im["id"]] = scene_distract.get(im["id"], False) or has_dup
            for s in r["sentences"]:
                n += 1
                sizes["small" if frac < SMALL else "medium" if frac < MEDIUM else "big"] += 1
                kinds[s.get("type", "?")] += 1
                toks = tokenize(s["raw"])
                vocab.update(toks)
                tokens += len(toks)
                no_loc += not any(t in LOCATION_WORDS for t in toks)
                distract += has_dup
                occluded += a["visible_fraction"] < 0.999
        all_vocab |= vocab
        img_ids = sorted(scene_distract)
        n_obj = Counter(len(per_image[i]) for i in img_ids)
        hs = [images[i]["height"] for i in img_ids]
        ws = [images[i]["width"] for i in img_ids]
        stats["splits"][split] = {
            "samples": n,
            "refs": len(srefs),
            "scenes": len(img_ids),
            "size_bins": {k: round(sizes[k] / n, 4) for k in ("small", "medium", "big")},
            "expression_types": {k: round(kinds[k] / n, 4) for k in sorted(kinds)},
            "no_location_share": round(no_loc / n, 4),
            "distractor_share": round(distract / n, 4),
            "scene_distractor_share": round(sum(scene_distract.values()) / len(img_ids), 4),
            "occluded_referent_share": round(occluded / n, 4),
            "objects_per_scene": {str(k): n_obj[k] for k in sorted(n_obj)},
            "mean_objects_per_scene": round(sum(k * v for k, v in n_obj.items()) / len(img_ids), 3),
            "mean_tokens": round(tokens / n, 3),
            "vocabulary_size": len(vocab),
            "image_height": [min(hs), max(hs)],
            "image_width": [min(ws), max(ws)],
            "square_share": round(sum(h == w for h, w in zip(hs, ws)) / len(img_ids), 4),
        }
    stats["vocabulary_size"] = len(all_vocab)
    stats["categories"] = len(inst["categories"])
    return stats


def format_stats(stats: dict[str, Any]) -> str:
    """The data card as a Markdown table (what ``tvnet synth --stats`` prints)."""
    splits = list(stats["splits"])
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, fn: Any) -> None:
        rows.append((label, [fn(stats["splits"][s]) for s in splits]))

    pct = "{:.1%}".format
    row("expressions (samples)", lambda s: str(s["samples"]))
    row("refs (objects referred to)", lambda s: str(s["refs"]))
    row("scenes (images)", lambda s: str(s["scenes"]))
    row("referent < 5 % of image (small)", lambda s: pct(s["size_bins"]["small"]))
    row("referent 5–10 % (medium)", lambda s: pct(s["size_bins"]["medium"]))
    row("referent ≥ 10 % (big)", lambda s: pct(s["size_bins"]["big"]))
    kinds = sorted({k for s in stats["splits"].values() for k in s["expression_types"]})
    for k in kinds:
        row(f"type: {k}", lambda s, k=k: pct(s["expression_types"].get(k, 0.0)))
    row("no location words", lambda s: pct(s["no_location_share"]))
    row("referent has a same-shape distractor (samples)", lambda s: pct(s["distractor_share"]))
    row("… (scenes)", lambda s: pct(s["scene_distractor_share"]))
    row("referent partly occluded", lambda s: pct(s["occluded_referent_share"]))
    row("objects per scene (mean)", lambda s: f"{s['mean_objects_per_scene']:.2f}")
    row(
        "objects per scene (2…8)",
        lambda s: " ".join(str(s["objects_per_scene"].get(str(k), 0)) for k in range(2, 9)),
    )
    row("tokens per expression (mean)", lambda s: f"{s['mean_tokens']:.2f}")
    row("vocabulary (split)", lambda s: str(s["vocabulary_size"]))
    row(
        "image height / width (px)",
        lambda s: (
            f"{s['image_height'][0]}–{s['image_height'][1]} / {s['image_width'][0]}–{s['image_width'][1]}"
        ),
    )
    row("square images", lambda s: pct(s["square_share"]))
    lines = [
        f"SynthRef data card (seed {stats['seed']}, {stats['categories']} shape categories, "
        f"vocabulary {stats['vocabulary_size']} words)",
        "",
        "| | " + " | ".join(splits) + " |",
        "|---|" + "---:|" * len(splits),
    ]
    lines += [f"| {label} | " + " | ".join(vals) + " |" for label, vals in rows]
    return "\n".join(lines)
