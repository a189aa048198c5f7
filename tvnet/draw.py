"""The one renderer of masks and maps over images: the demo and the dashboard both draw
through it (docs/design.md §7, §8).

- :func:`overlay`: a mask as a translucent fill (cyan by default) with an outline, and an
  optional clicked point;
- :func:`difference`: a prediction against its ground truth: green found, red false alarm,
  blue missed;
- :func:`heatmap`: a map of any range coloured (inferno) over a greyed image;
- :func:`mark_point`: a red ring with four ticks around a point;
- :func:`colour_stops`: a colour map's colours at evenly spaced values, for a colour bar
  beside a heat map.

Images are H×W×3 uint8 arrays, masks H×W booleans; every function returns a new uint8 array
and leaves its inputs alone. numpy and PIL's line drawing only: no torch, and no matplotlib for
inferno, whose table is written out below (importing matplotlib for it cost the demo's first
answer 0.35 s); any other colour map is matplotlib's.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

MASK_RGB = (34, 211, 238)  # the cyan fill of a predicted mask
BACKGROUND = 40  # grey level of the canvas when a mask has no image under it
FOUND, FALSE_ALARM, MISSED = (0, 200, 0), (230, 0, 0), (0, 90, 255)
POINT_RGB = (255, 60, 60)


# matplotlib's inferno as colormap() builds it (256 steps, RGB, ×255 truncated to uint8): 256
# colours of 6 hex digits; tests/apps/test_demo.py checks it against matplotlib
INFERNO_HEX = (
    "00000300000400000601000701010901010b02010e02021003021204031404031605041806041b07051d08061f"
    "0906210a07230b07260d08280e082a0f092d10092f120a32130a34140b36160b39170b3b190b3e1a0b401c0c43"
    "1d0c451f0c47200c4a220b4c240b4e260b50270b52290b542b0a562d0a582e0a5a300a5c32095d34095f350960"
    "3709613909623b09643c09653e0966400966410967430a68450a69460a69480b6a4a0b6a4b0c6b4d0c6b4f0d6c"
    "500d6c520e6c530e6d550f6d570f6d58106d5a116d5b116e5d126e5f126e60136e62146e63146e65156e66156e"
    "68166e6a176e6b176e6d186e6e186e70196e72196d731a6d751b6d761b6d781c6d7a1c6d7b1d6c7d1d6c7e1e6c"
    "801f6b811f6b83206b85206a86216a88216a8922698b22698d23698e2468902468912567932567952666962666"
    "9827659928649b28649c29639e2963a02a62a12b61a32b61a42c60a62c5fa72d5fa92e5eab2e5dac2f5cae305b"
    "af315bb1315ab23259b43358b53357b73456b83556ba3655bb3754bd3753be3852bf3951c13a50c23b4fc43c4e"
    "c53d4dc73e4cc83e4bc93f4acb4049cc4148cd4247cf4446d04544d14643d24742d44841d54940d64a3fd74b3e"
    "d94d3dda4e3bdb4f3adc5039dd5238de5337df5436e05634e25733e35832e45a31e55b30e65c2ee65e2de75f2c"
    "e8612be9622aea6428eb6527ec6726ed6825ed6a23ee6c22ef6d21f06f1ff0701ef1721df2741cf2751af37719"
    "f37918f47a16f57c15f57e14f68012f68111f78310f7850ef8870df8880cf88a0bf98c09f98e08f99008fa9107"
    "fa9306fa9506fa9706fb9906fb9b06fb9d06fb9e07fba007fba208fba40afba60bfba80dfbaa0efbac10fbae12"
    "fbb014fbb116fbb318fbb51afbb71cfbb91efabb21fabd23fabf25fac128f9c32af9c52cf9c72ff8c931f8cb34"
    "f8cd37f7cf3af7d13cf6d33ff6d542f5d745f5d948f4db4bf4dc4ff3de52f3e056f3e259f2e45df2e660f1e864"
    "f1e968f1eb6cf1ed70f1ee74f1f079f1f27df2f381f2f485f3f689f4f78df5f891f6fa95f7fb99f9fc9dfafda0"
    "fcfea4"
)


@lru_cache(maxsize=8)
def colormap(name: str = "inferno") -> np.ndarray:
    """matplotlib colour map ``name`` as a 256×3 uint8 lookup table (read-only, cached):
    ``(cmap(linspace(0, 1, 256))[:, :3] · 255)`` truncated; inferno from :data:`INFERNO_HEX`,
    without importing matplotlib."""
    if name == "inferno":
        lut = np.frombuffer(bytes.fromhex(INFERNO_HEX), np.uint8).reshape(256, 3).copy()
    else:
        from matplotlib import colormaps

        lut = (colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)
    lut.flags.writeable = False
    return lut


def colour_stops(n: int = 9, cmap: str = "inferno") -> tuple[str, ...]:
    """``n`` ≥ 2 colours of ``cmap`` (as :func:`heatmap` draws it) at 0, 1/(n − 1) … 1, as
    CSS hex strings: a colour bar's gradient."""
    if n < 2:
        raise ValueError(f"a colour bar needs at least 2 stops, got {n}")
    lut = colormap(cmap)
    return tuple("#{:02x}{:02x}{:02x}".format(*lut[round(i * 255 / (n - 1))]) for i in range(n))


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
