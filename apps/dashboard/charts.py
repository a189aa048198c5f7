"""Small line charts drawn on the server as inline SVG (in ``st.markdown``: ``st.html``
strips SVG): the overview's Prec@X
curves and IoU histograms and the reliability diagrams. No chart library reaches the
browser, so the first view pays for none (docs/design.md §8, the dashboard's first view);
every point carries its numbers as a hover title, and the legend sits in rows under the
plot, so long variant names take no width from it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from analysis.palette import PLOTLY as COLOURS  # lines of Table 1 variants: run_colours

W, H = 560, 300  # the drawing's own units; it scales to the column's width
LEFT, RIGHT, TOP, BOTTOM = 56, 14, 30, 42


@dataclass
class Series:
    """One line: ``x``/``y`` points and a hover text per point (a marker each); ``step``
    draws a histogram's stairs over the bin edges ``x`` (one more than ``y``), its hover
    texts together on the line."""

    name: str
    x: Sequence[float]
    y: Sequence[float]
    tips: Sequence[str] = field(default_factory=list)
    step: bool = False
    dashed: bool = False
    colour: str | None = None

    def __post_init__(self) -> None:  # plain floats: pandas Series index by label
        self.x = [float(v) for v in self.x]
        self.y = [float(v) for v in self.y]
        self.tips = list(self.tips)


def _nice(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is at least ``raw``."""
    k = 10.0 ** math.floor(math.log10(raw))
    return next((m * k for m in (1, 2, 2.5, 5) if m * k >= raw * (1 - 1e-9)), 10 * k)


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values from ``lo`` to ``hi``."""
    if hi <= lo:
        return [lo]
    step = _nice((hi - lo) / n)
    first = step * math.ceil(lo / step - 1e-9)
    count = int(math.floor((hi - first) / step + 1e-9)) + 1
    return [round(first + i * step, 10) for i in range(count)]


def _fmt(v: float) -> str:
    return f"{v:g}"


def line_chart(
    series: Sequence[Series],
    title: str,
    x_label: str,
    y_label: str,
    x_range: tuple[float, float] = (0.0, 1.0),
    y_range: tuple[float, float] | None = None,
    guides: Sequence[float] = (),
    diagonal: bool = False,
) -> str:
    """The chart as HTML: an SVG plot (``guides``: faint vertical lines at these x;
    ``diagonal``: the line y = x, for reliability diagrams) and its legend under it."""
    x0, x1 = x_range
    if y_range is None:
        top = max((max(s.y) for s in series if len(s.y)), default=1.0) or 1.0
        step = _nice(top / 5)
        y_range = (0.0, step * math.ceil(top / step))
    y0, y1 = y_range
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return TOP + ph - (min(max(y, y0), y1) - y0) / (y1 - y0) * ph

    parts = [
        f'<svg viewBox="0 0 {W} {H}" width="100%" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" style="font: 13px sans-serif">',
        f"<title>{escape(title)}</title>",
        f'<text x="{LEFT}" y="16" font-weight="bold" font-size="14">{escape(title)}</text>',
    ]
    for t in _ticks(y0, y1):
        parts.append(
            f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{py(t):.1f}" y2="{py(t):.1f}" '
            'stroke="#e5e5e5"/>'
            f'<text x="{LEFT - 6}" y="{py(t) + 4:.1f}" text-anchor="end">{_fmt(t)}</text>'
        )
    for t in _ticks(x0, x1):
        parts.append(
            f'<text x="{px(t):.1f}" y="{TOP + ph + 15}" text-anchor="middle">{_fmt(t)}</text>'
        )
    for g in guides:
        parts.append(
            f'<line x1="{px(g):.1f}" x2="{px(g):.1f}" y1="{TOP}" y2="{TOP + ph}" '
            'stroke="#d0d0d0" stroke-dasharray="2 3"/>'
        )
    if diagonal:
        parts.append(
            f'<line x1="{px(x0):.1f}" y1="{py(y0):.1f}" x2="{px(x1):.1f}" y2="{py(y1):.1f}" '
            'stroke="#999" stroke-dasharray="4 4"><title>perfect calibration</title></line>'
        )
    parts.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#bbb"/>'
        f'<text x="{LEFT + pw / 2}" y="{H - 6}" text-anchor="middle">{escape(x_label)}</text>'
        f'<text transform="translate(12 {TOP + ph / 2}) rotate(-90)" text-anchor="middle">'
        f"{escape(y_label)}</text>"
    )
    legend = []
    for k, s in enumerate(series):
        colour = s.colour or COLOURS[k % len(COLOURS)]
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        if s.step:
            pts = []
            for i, y in enumerate(s.y):
                pts += [(px(s.x[i]), py(y)), (px(s.x[i + 1]), py(y))]
        else:
            pts = [(px(x), py(y)) for x, y in zip(s.x, s.y)]
        path = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
        # stairs: one hover text with every bin (few nodes); lines: a marker per point
        title = "\n".join([s.name, *s.tips]) if s.step else s.name
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}>'
            f"<title>{escape(title).replace(chr(10), '&#10;')}</title></polyline>"
        )
        for i, tip in enumerate([] if s.step else s.tips):
            parts.append(
                f'<circle cx="{px(s.x[i]):.1f}" cy="{py(s.y[i]):.1f}" r="2.5" fill="{colour}">'
                f"<title>{escape(tip)}</title></circle>"
            )
        swatch = "border-top: 3px " + ("dashed " if s.dashed else "solid ") + colour
        legend.append(
            f'<span style="white-space: nowrap; margin-right: 14px">'
            f'<span style="display: inline-block; width: 18px; vertical-align: middle; '
            f'{swatch}"></span> {escape(s.name)}</span>'
        )
    parts.append("</svg>")
    return (
        '<div class="tvnet-chart">'
        + "".join(parts)
        + '<div style="font-size: 0.8rem; line-height: 1.6">'
        + " ".join(legend)
        + "</div></div>"
    )


def show_chart(html: str) -> None:
    """Put a :func:`line_chart` on the page (one line of HTML: no Markdown inside it)."""
    import streamlit as st

    st.markdown(html.replace("\n", " "), unsafe_allow_html=True)
