"""The demo's maps and how to read them (docs/design.md §7): every heat map the page shows (the
probability, A_l over the neighbour, the AMF gate A_2, the enrichment gates) is drawn by
:func:`tvnet.heatmap`, which stretches the map's own range (lowest value → darkest, highest →
brightest, inferno). So each comes with a colour bar that names that range in the map's own
units, and a caption that says what a bright pixel means. The neighbour's influence is drawn
here too, as the answer's mask against the mask with the enrichment switched off.

Colour bars are HTML (class ``cbar``; the page's CSS draws the inferno ramp), so their numbers
are text a person and a test can read; the exact range is in the bar's tooltip."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tvnet import MASK_RGB, colour_stops, heatmap, overlay

INFERNO = colour_stops(9)  # the colour bar: the colours tvnet.heatmap draws with
# the neighbour's influence: pixels in both masks (an answer's own fill), added by the
# neighbour, removed by it
BOTH, ADDED, REMOVED = MASK_RGB, (230, 40, 40), (250, 200, 0)

CSS = f"""
.cbar {{ display: flex; align-items: center; gap: 6px; margin: 2px 0 6px; font-size: 0.85em;
         font-variant-numeric: tabular-nums; }}
.cbar .cbar-ramp {{ flex: 1; height: 10px; border-radius: 3px; min-width: 60px;
                    background: linear-gradient(to right, {", ".join(INFERNO)}); }}
.cbar .cbar-name {{ min-width: 4.2em; font-weight: 600; }}
.cbar .cbar-lo, .cbar .cbar-hi {{ min-width: 4.5em; }}
.cbar .cbar-lo {{ text-align: right; }}
.swatch {{ display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px;
           vertical-align: -0.1em; margin-right: 0.25em; }}
"""


# a mirror-averaged answer is explained by its direct pass (tvnet/inference/mirror.py)
DIRECT = " These are the maps of the direct pass; the mask is averaged with the mirror image's."


def fmt(x: float) -> str:
    """A map value for a person: three significant digits, no float noise, powers of ten for
    the tiny ones (0.000412, 0.0413, 0.52, 1, 1.51e-20)."""
    x = float(x)
    return f"{x:.3g}" if math.isfinite(x) else str(x)


def share(fraction: float) -> str:
    """A fraction as a percentage for a person: one decimal, two significant digits below
    0.1 % (so that a small change does not read as none), 0 as "0 %"."""
    v = 100 * float(fraction)
    if v == 0:
        return "0 %"
    return f"{v:.1f} %" if abs(v) >= 0.1 else f"{v:.2g} %"


def colour_bar(values: np.ndarray, name: str = "") -> str:
    """The colour bar of a map drawn by :func:`tvnet.heatmap`: its lowest value at the dark end,
    its highest at the bright end (a constant map is all dark)."""
    v = np.nan_to_num(np.asarray(values, np.float32))
    lo, hi = float(v.min()), float(v.max())
    label = f'<span class="cbar-name">{name}</span>' if name else ""
    return (
        f'<div class="cbar" title="lowest {lo:.6g}, highest {hi:.6g}">{label}'
        f'<span class="cbar-lo">{fmt(lo)}</span><span class="cbar-ramp"></span>'
        f'<span class="cbar-hi">{fmt(hi)}</span></div>'
    )


def caption(bar: str, text: str) -> str:
    """Markdown under a map: the colour bar, then the words (a blank line between, so the
    words are Markdown again after the bar's HTML)."""
    return f"{bar}\n\n{text}"


def probability(r: Any, files) -> tuple[Any, str]:
    pred = r.pred
    prob = pred.prob
    inside = 100 * float(pred.mask.mean())
    text = (
        "**p(referent)** per pixel: the network's estimate that the pixel belongs to the "
        f"object (sigmoid of its output). The mask is where p ≥ {pred.threshold:g} "
        f"({inside:.1f} % of the image). Bright: likely the object; dark: unlikely."
    )
    if pred.mirror:
        text += (
            " Mirror averaged: the mean of its estimates for the image and for its mirror "
            "image (left and right swapped in the expression), flipped back."
        )
    return files(heatmap(r.image, prob)), caption(colour_bar(prob, "p"), text)


def a2(r: Any, files) -> tuple[Any, str]:
    pred = r.pred
    if pred.a2 is None:
        return None, f"*No A₂: variant `{pred.variant}` has no AMF (only `full` has).*"
    text = (
        "**A₂** (Eq. 5): how much high-resolution detail AMF lets through at each position "
        "(a sigmoid gate, 0 = none, 1 = all). Bright: detail from the S/4 level enters the "
        "final map here."
    )
    text += DIRECT if pred.mirror else ""
    shown = pred.grid_to_image(pred.a2, pred.letterbox)  # the bar names what is drawn
    return files(heatmap(r.image, shown)), caption(colour_bar(shown, "A₂"), text)


def attention(r: Any, level: int, files) -> tuple[Any, str]:
    pred = r.pred
    if pred.neighbour is None or not pred.attention:
        return None, "*No cross-image attention: this variant has no RES stage.*"
    amap = pred.attention_map(int(level), r.point)
    # drawn, barred and its peak read over the neighbour itself, not its letterbox padding
    shown = pred.grid_to_image(amap, pred.neighbour_letterbox)
    img = files(heatmap(pred.neighbour.image, shown))
    sub = str(level).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
    if r.point is None:
        n = len(pred.query_cells(None, pred.attention_grid(int(level))))
        who = f"the predicted referent's {n} grid cell{'s' * (n != 1)} (mean of their rows) look"
    else:
        who = f"the clicked point ({r.point[0]:.0f}, {r.point[1]:.0f}) looks"
    uniform = 1 / amap.size
    peak = float(shown.max())
    text = (
        f"**A{sub}** (Eq. 1): where {who} in the neighbour; each row is a softmax over its "
        f"{amap.size:,} positions (sums to 1). Bright: looked at most. Even attention would be "
        f"{fmt(uniform)} everywhere; the peak on the neighbour is {peak / uniform:.1f}× that. "
        "Click the input or the mask to pick a point."
    )
    text += DIRECT if pred.mirror else ""
    return img, caption(colour_bar(shown, f"A{sub}"), text)


def gates(r: Any, files) -> tuple[list, str]:
    """The enrichment gates (channel mean per level) for the gallery, each captioned with its
    level, and one colour bar per level."""
    pred = r.pred
    if not pred.gates:
        return [], "*No enrichment gates: this variant has no RES stage.*"
    tiles, bars = [], []
    for lvl, g in zip((3, 4, 5), pred.gates):
        shown = pred.grid_to_image(g, pred.letterbox)  # over the image, not its padding
        tiles.append(
            (
                files(heatmap(r.image, shown)),
                f"level {lvl}: mean {float(shown.mean()):.2f}, "
                f"{fmt(shown.min())}–{fmt(shown.max())}",
            )
        )
        bars.append(colour_bar(shown, f"level {lvl}"))
    text = (
        "Each gate σ(Conv(Vₗ)) decides, per position, how much of what the input found in the "
        "neighbour (through Aₗ) is added to its own features at level l: 0 = nothing, 1 = all "
        "(channel mean shown). Bright: the neighbour's features enter here. Each level is "
        "drawn over its own range:"
    )
    return tiles, text + "\n\n" + "\n".join(bars)


def influence(r: Any, files) -> tuple[Any, str]:
    """What the enrichment with the neighbour changed: the answer's mask against the mask with every enrichment
    gate closed (``tvnet.Influence`` from ``Predictor.neighbour_influence``)."""
    inf, pred = r.influence, r.pred
    if pred.neighbour is None or inf is None:
        return None, "*No neighbour: this variant has no retrieval, so nothing to switch off.*"
    answer, closed = np.asarray(pred.mask, bool), np.asarray(inf.mask, bool)
    if closed.shape != answer.shape:  # the API answers at the size it was given
        return None, "*The neighbour's influence could not be drawn at this size.*"
    out = overlay(r.image, answer & closed, BOTH, outline=0)
    out = overlay(out, answer & ~closed, ADDED, 0.7, outline=0)
    out = overlay(out, closed & ~answer, REMOVED, 0.7, outline=0)
    which = "the chosen image" if r.chosen is not None else "the retrieved image"
    # what closing the gate measures is the enrichment path, not the image on it: a random
    # pool image in its place moves the shipped models' masks far less (README, Table 1's
    # notes), so the verdict names the path, and the candidates' button says which image
    verdict = (
        "this answer barely depends on the enrichment"
        if inf.changed < 0.01
        else (
            f"the enrichment shapes this answer. To see whether it needs {which} rather than "
            "another candidate, press *What would each neighbour change?* under the retrieval "
            "candidates below"
        )
    )
    text = (
        f"**Enrichment with the neighbour changed {share(inf.changed)} of the mask** (gate "
        "closed vs open: the mask with the enrichment switched off at every level has IoU "
        f"{inf.iou:.3f} with the answer{'; both mirror averaged' if pred.mirror else ''}): "
        f"{verdict}.  \n"
        f"{swatch(BOTH)} in both masks · {swatch(ADDED)} added by the enrichment · "
        f"{swatch(REMOVED)} removed by the enrichment"
    )
    return files(out), text


def swatch(rgb: tuple[int, int, int]) -> str:
    return f'<span class="swatch" style="background: rgb{tuple(rgb)}"></span>'
