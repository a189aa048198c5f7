"""tvnet/draw.py, the one renderer of masks and maps: pixels computed by hand.

uint8 results truncate: 0.45 · 100 + 0.55 · 34 = 63.7 is drawn as 63.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import tvnet
from tvnet import draw


def grey(h: int, w: int, level: int = 100) -> np.ndarray:
    return np.full((h, w, 3), level, np.uint8)


def test_overlay_fill_is_the_cyan_blend_and_leaves_the_rest():
    image = grey(3, 3)
    mask = np.zeros((3, 3), bool)
    mask[1, 1] = True
    out = draw.overlay(image, mask, outline=0)
    # 0.45 · 100 + 0.55 · (34, 211, 238) = (63.7, 161.05, 175.9)
    assert out[1, 1].tolist() == [63, 161, 175]
    assert (out[~mask] == 100).all()
    assert out.dtype == np.uint8 and (image == 100).all()  # input untouched


def test_overlay_outline_is_white_on_the_edge_only():
    image = grey(7, 7)
    mask = np.zeros((7, 7), bool)
    mask[1:6, 1:6] = True  # a 5×5 square: its 1-pixel ring is the edge, 3×3 inside
    out = draw.overlay(image, mask, outline=1)
    ring = mask.copy()
    ring[2:5, 2:5] = False
    assert (out[ring] == 255).all()
    assert (out[2:5, 2:5] == [63, 161, 175]).all()
    assert (out[~mask] == 100).all()
    # the default width: one pixel per 300 of the longer side, at least one
    assert draw.edge(mask, 1).sum() == 16
    assert (draw.overlay(image, mask) == out).all()
    big = np.zeros((600, 900), bool)
    big[100:500, 100:800] = True
    ring = draw.overlay(grey(600, 900), big)[..., 0] == 255
    assert ring[300, 100:103].all() and not ring[300, 103]  # 900 / 300 = 3 pixels


def test_edge_does_not_erode_at_the_image_border():
    assert not draw.edge(np.ones((4, 4), bool), 2).any()
    mask = np.zeros((5, 5), bool)
    mask[:, :3] = True  # touches three borders: only the column facing the inside is edge
    e = draw.edge(mask, 1)
    assert e[:, 2].all() and not e[:, :2].any() and not e[:, 3:].any()


def test_overlay_without_an_image_draws_on_grey_and_checks_shapes():
    out = draw.overlay(None, np.array([[True, False]]), (0, 200, 0), alpha=0.5, outline=0)
    assert out.tolist() == [[[20, 120, 20], [40, 40, 40]]]  # 0.5 · 40 + 0.5 · (0, 200, 0)
    with pytest.raises(ValueError, match="does not match"):
        draw.overlay(grey(2, 3), np.ones((3, 2), bool))


def test_overlay_marks_a_clicked_point():
    out = draw.overlay(grey(60, 60), np.zeros((60, 60), bool), point=(30, 30))
    assert out[30, 30].tolist() == [100, 100, 100]  # the ring leaves its centre alone
    assert out[30, 35].tolist() == [255, 60, 60]  # radius 5 (at least 5 pixels)
    assert out[30, 39].tolist() == [255, 60, 60]  # the tick, out to twice the radius
    assert out[30, 42].tolist() == [100, 100, 100]
    assert (draw.mark_point(grey(60, 60), (30, 30)) == out).all()


def test_difference_colours():
    gt = np.array([[1, 1, 0, 0]], bool)
    pred = np.array([[1, 0, 1, 0]], bool)
    found, missed, false_alarm, background = draw.difference(None, pred, gt)[0].tolist()
    # 0.3 · 40 + 0.7 · colour
    assert found == [12, 152, 12]  # 12 + 0.7 · 200 = 152
    assert false_alarm == [173, 12, 12]  # 12 + 0.7 · 230 = 173
    assert missed == [12, 75, 190]  # 12 + 0.7 · (90, 255) = (75, 190.5)
    assert background == [40, 40, 40]


def test_colour_stops_are_the_heat_maps_colours_at_even_steps():
    lut = draw.colormap("inferno")
    stops = draw.colour_stops(3)
    # 0, 1/2, 1 → lut[0], lut[round(127.5) = 128], lut[255]
    assert stops == ("#000003", "#{:02x}{:02x}{:02x}".format(*lut[128]), "#fcfea4")
    assert len(draw.colour_stops(9)) == 9 and draw.colour_stops(9)[0] == "#000003"
    with pytest.raises(ValueError, match="at least 2"):
        draw.colour_stops(1)


def test_heatmap_blends_inferno_over_the_greyed_image():
    lut = draw.colormap("inferno")
    assert lut.shape == (256, 3) and lut[0].tolist() == [0, 0, 3]
    assert lut[255].tolist() == [252, 254, 164]
    out = draw.heatmap(grey(1, 3), np.array([[2.0, 4.0, np.nan]]))
    # grey: 0.7 · 100 + 40 = 110; NaN counts as 0, so the range is 0 … 4
    # 0 → weight 0.3: 0.7 · 110 + 0.3 · (0, 0, 3) = (77, 77, 77.9)
    assert out[0, 2].tolist() == [77, 77, 77]
    # 1 → weight 0.9: 0.1 · 110 + 0.9 · (252, 254, 164) = (237.8, 239.6, 158.6)
    assert out[0, 1].tolist() == [237, 239, 158]
    # 0.5 → lut[127] at weight 0.6
    want = (0.4 * 110 + 0.6 * lut[127].astype(float)).astype(int)
    assert np.abs(out[0, 0].astype(int) - want).max() <= 1
    flat = draw.heatmap(grey(2, 2), np.full((2, 2), 7.0))  # a constant map is all cold
    assert (flat == 77).all()


def test_public_names_and_no_torch():
    for name in ("overlay", "difference", "heatmap", "mark_point", "colour_stops", "MASK_RGB"):
        assert getattr(tvnet, name) is getattr(draw, name) and name in tvnet.__all__
    code = (
        "import sys, numpy as np, tvnet; "
        "tvnet.heatmap(np.zeros((2, 2, 3), np.uint8), np.eye(2)); "
        "tvnet.overlay(None, np.eye(2, dtype=bool), point=(1, 1)); "
        "assert len(tvnet.colour_stops(5)) == 5 and len(tvnet.MASK_RGB) == 3; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
