"""Drawing SynthRef scenes: backgrounds, shapes, textures, occlusion and the visible masks
(docs/design.md §4).

A scene is a cluttered background (a procedural texture or a crop of one of scikit-image's
CC0 photos) with 2–8 coloured, textured, rotated shapes drawn back to front. Each new shape
must leave every earlier one ≥ ``MIN_VISIBLE`` visible; ground truth is the *visible* mask
(after occlusion), and only objects ≥ ``MIN_REFERENT_VISIBLE`` visible are referents. All
randomness comes from the ``rng`` passed in, in a fixed order (the output is byte-stable).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from tvnet.data.synthref.vocabulary import COLOURS, SHAPES, TEXTURES

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


@dataclass
class SynthObject:
    """One drawn object: its attributes, its masks and the geometry of its visible part."""

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
