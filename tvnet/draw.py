"""The one renderer of masks and maps over images: the demo and the dashboard both draw
through it (docs/design.md §7, §8).

- :func:`overlay`: a mask as a translucent fill (cyan by default) with an outline, and an
  optional clicked point;
- :func:`difference`: a prediction against its ground truth: green found, red false alarm,
  blue missed;
- :func:`heatmap`: a map of any range coloured (inferno) over a greyed image;
- :func:`mark_point`: a red ring with four ticks around a point.

Images are H×W×3 uint8 arrays, masks H×W booleans; every function returns a new uint8 array
and leaves its inputs alone. numpy, matplotlib's colour maps and PIL's line drawing only: no
torch.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

MASK_RGB = (34, 211, 238)  # the cyan fill of a predicted mask
BACKGROUND = 40  # grey level of the canvas when a mask has no image under it
FOUND, FALSE_ALARM, MISSED = (0, 200, 0), (230, 0, 0), (0, 90, 255)
POINT_RGB = (255, 60, 60)


@lru_cache(maxsize=8)
def colormap(name: str = "inferno") -> np.ndarray:
    """matplotlib colour map ``name`` as a 256×3 uint8 lookup table (read-only, cached)."""
    from matplotlib import colormaps

    lut = (colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)
    lut.flags.writeable = False
    return lut


def edge(mask: np.ndarray, width: int = 2) -> np.ndarray:
    """Boundary pixels of a boolean mask: the mask minus its erosion by ``width`` (4-neighbour
    steps; the image border does not erode)."""
    mask = np.asarray(mask, bool)
    inner = mask.copy()
    for _ in range(width):
        shrunk = inner.copy()
        shrunk[1:] &= inner[:-1]
        shrunk[:-1] &= inner[1:]
        shrunk[:, 1:] &= inner[:, :-1]
        shrunk[:, :-1] &= inner[:, 1:]
        inner = shrunk
    return mask & ~inner


def overlay(
    image: np.ndarray | None,
    mask: np.ndarray,
    colour: tuple[int, int, int] = MASK_RGB,
    alpha: float = 0.55,
    outline: int | None = None,
    point: tuple[float, float] | None = None,
) -> np.ndarray:
    """``mask`` over ``image``: its pixels become ``(1 - alpha) · image + alpha · colour``.

    image: H×W×3 uint8, or None for a plain grey (:data:`BACKGROUND`) canvas; outline: the
    width in pixels of a white outline along the mask's edge (None: one pixel per 300 of the
    longer side, at least 1; 0: none); point: (x, y) marked with :func:`mark_point`."""
    m = np.asarray(mask, bool)
    if image is None:
        image = np.full((*m.shape, 3), BACKGROUND, np.uint8)
    if image.shape[:2] != m.shape:
        raise ValueError(f"mask {m.shape} does not match image {image.shape[:2]}")
    out = image.astype(np.float32)
    out[m] = (1 - alpha) * out[m] + alpha * np.asarray(colour, np.float32)
    if outline is None:
        outline = max(1, round(max(m.shape) / 300))
    if outline > 0:
        out[edge(m, outline)] = 255
    out = out.clip(0, 255).astype(np.uint8)
    return out if point is None else mark_point(out, point)


def difference(image: np.ndarray | None, pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Prediction against ground truth over ``image`` (None: grey canvas), no outlines:
    green found (pred ∧ gt), red false alarm (pred ∧ ¬gt), blue missed (gt ∧ ¬pred); each at
    70 % colour."""
    pred, gt = np.asarray(pred, bool), np.asarray(gt, bool)
    out = overlay(image, pred & gt, FOUND, 0.7, outline=0)
    out = overlay(out, pred & ~gt, FALSE_ALARM, 0.7, outline=0)
    return overlay(out, gt & ~pred, MISSED, 0.7, outline=0)


def heatmap(image: np.ndarray, values: np.ndarray, cmap: str = "inferno") -> np.ndarray:
    """``values`` (H×W, any range; NaN counts as 0) normalised to [0, 1] and coloured with
    ``cmap`` over a greyed ``image``: the colour's weight grows from 0.3 to 0.9 with the value,
    so cold areas still show the image. A constant map is all cold."""
    v = np.nan_to_num(np.asarray(values, np.float32))
    lo, hi = float(v.min()), float(v.max())
    v = (v - lo) / (hi - lo) if hi > lo else np.zeros_like(v)
    heat = colormap(cmap)[(v * 255).astype(np.uint8)].astype(np.float32)
    grey = image.astype(np.float32).mean(2, keepdims=True) * 0.7 + 40
    a = (0.3 + 0.6 * v)[..., None]
    return (grey * (1 - a) + heat * a).clip(0, 255).astype(np.uint8)


def mark_point(image: np.ndarray, point: tuple[float, float]) -> np.ndarray:
    """A red ring around ``point`` (x, y), with a tick out of it on each side; its radius is
    one pixel per 60 of the image's longer side, at least 5."""
    from PIL import Image, ImageDraw

    im = Image.fromarray(np.asarray(image, np.uint8))
    draw = ImageDraw.Draw(im)
    x, y = point
    r = max(5, round(max(image.shape[:2]) / 60))
    draw.ellipse((x - r, y - r, x + r, y + r), outline=POINT_RGB, width=max(2, r // 3))
    draw.line((x - 2 * r, y, x - r, y), fill=POINT_RGB, width=2)
    draw.line((x + r, y, x + 2 * r, y), fill=POINT_RGB, width=2)
    draw.line((x, y - 2 * r, x, y - r), fill=POINT_RGB, width=2)
    draw.line((x, y + r, x, y + 2 * r), fill=POINT_RGB, width=2)
    return np.asarray(im)
