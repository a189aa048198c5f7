"""Figures from dump rows: Figure 7 (object-size distribution per split), IoU histograms and
Prec@X curves per variant.

Each figure is a data function (a DataFrame, tested on its own) and two renderers: a
matplotlib ``Figure`` for papers (built without pyplot, so no global state and no display
needed) and a plotly figure for the dashboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis.palette import run_colours
from analysis.tables import size_distribution, variant_key
from tvnet.eval.metrics import CURVE_THRESHOLDS, PREC_THRESHOLDS, SIZE_BIN_RULE, SIZE_BINS

INSIDE = 6  # lines whose legend fits inside the plot; more go below it

SIZE_COLOURS = {"small": "#d62728", "medium": "#ff7f0e", "big": "#1f77b4"}

__all__ = [
    "CURVE_THRESHOLDS",
    "size_distribution_figure",
    "size_distribution_plotly",
    "iou_histogram",
    "iou_histogram_figure",
    "iou_histogram_plotly",
    "prec_curve",
    "prec_curve_figure",
    "prec_curve_plotly",
]


def _groups(samples: pd.DataFrame, by: str) -> list[tuple[str, pd.DataFrame]]:
    if samples.empty:
        return []
    groups = [(str(k), g) for k, g in samples.groupby(by, observed=True, sort=False)]
    key = variant_key if by == "variant" else (lambda v: (0, v))
    return sorted(groups, key=lambda kg: key(kg[0]))


# ---------------------------------------------------------------------------------------------
# Figure 7: object-size distribution


def size_distribution_figure(samples: pd.DataFrame, by: str = "split") -> Figure:
    """Figure 7: share (%) of small / medium / big referents per ``by`` group, counts on bars.

    Pass the rows of one variant per split: the distribution belongs to the data.
    """
    dist = size_distribution(samples, [by])
    fig = Figure(figsize=(6.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    groups = [str(g) for g in dist.index]
    x = np.arange(len(groups))
    width = 0.8 / len(SIZE_BINS)
    for k, b in enumerate(SIZE_BINS):
        shares = dist[("share (%)", b)].to_numpy(dtype=float) if len(dist) else np.zeros(0)
        counts = dist[("n", b)].to_numpy() if len(dist) else np.zeros(0)
        bars = ax.bar(x + (k - 1) * width, shares, width, label=b, color=SIZE_COLOURS[b])
        ax.bar_label(bars, labels=[str(int(c)) for c in counts], fontsize=7, padding=1)
    ax.set_xticks(x, groups)
    ax.set_xlabel(by)
    ax.set_ylabel("share of referents (%)")
    ax.set_title(f"Object size distribution (gt area / image area: {SIZE_BIN_RULE})")
    ax.title.set_fontsize(9)
    ax.legend(title="size")
    ax.set_ylim(0, 105)
    return fig


def size_distribution_plotly(samples: pd.DataFrame, by: str = "split") -> Any:
    import plotly.graph_objects as go

    dist = size_distribution(samples, [by])
    fig = go.Figure()
    for b in SIZE_BINS:
        fig.add_bar(
            name=b,
            x=[str(g) for g in dist.index],
            y=dist[("share (%)", b)].tolist() if len(dist) else [],
            text=[str(int(c)) for c in dist[("n", b)]] if len(dist) else [],
            marker_color=SIZE_COLOURS[b],
        )
    fig.update_layout(
        barmode="group",
        title="Object size distribution per split (bar text: number of referents)",
        xaxis_title=by,
        yaxis_title="share of referents (%)",
        legend_title="size",
    )
    return fig


# ---------------------------------------------------------------------------------------------
# IoU histogram


def iou_histogram(samples: pd.DataFrame, by: str = "variant", bins: int = 20) -> pd.DataFrame:
    """Share (%) of samples per IoU bin [lo, hi) (the last bin includes 1.0), per group."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    records = []
    for name, g in _groups(samples, by):
        counts, _ = np.histogram(g["iou"].to_numpy(dtype=float), bins=edges)
        for lo, hi, c in zip(edges[:-1], edges[1:], counts):
            records.append(
                {by: name, "lo": lo, "hi": hi, "count": int(c), "share (%)": 100 * c / len(g)}
            )
    return pd.DataFrame.from_records(records, columns=[by, "lo", "hi", "count", "share (%)"])


def _size(lines: int) -> tuple[float, float]:
    """A figure's size: the plot 6 × 3.6 in, taller by the legend's rows when it goes below."""
    return (6.0, 3.6 if lines <= INSIDE else 3.6 + 0.16 * ((lines + 1) // 2) + 0.3)


def _legend(fig: Figure, ax: Any, title: str) -> None:
    """The legend in the plot for a few lines, else below it in two columns, small."""
    if len(ax.get_legend_handles_labels()[1]) <= INSIDE:
        ax.legend(title=title)
    else:
        fig.legend(loc="outside lower center", ncols=2, fontsize=7, title=title, title_fontsize=8)


def iou_histogram_figure(samples: pd.DataFrame, by: str = "variant", bins: int = 20) -> Figure:
    hist = iou_histogram(samples, by, bins)
    fig = Figure(figsize=_size(hist[by].nunique()), layout="constrained")
    ax = fig.add_subplot()
    colours = run_colours(hist[by].unique()) if by == "variant" else {}
    for name, g in hist.groupby(by, sort=False):
        ax.stairs(
            g["share (%)"].to_numpy(),
            np.r_[g["lo"].to_numpy(), 1.0],
            label=str(name),
            color=colours.get(str(name)),
        )
    ax.set_xlabel("per-sample IoU")
    ax.set_ylabel("share of samples (%)")
    ax.set_title("IoU histogram")
    ax.set_xlim(0, 1)
    if len(hist):
        _legend(fig, ax, by)
    return fig


def iou_histogram_plotly(samples: pd.DataFrame, by: str = "variant", bins: int = 20) -> Any:
    import plotly.graph_objects as go

    hist = iou_histogram(samples, by, bins)
    fig = go.Figure()
    for name, g in hist.groupby(by, sort=False):
        fig.add_bar(
            name=str(name),
            x=((g["lo"] + g["hi"]) / 2).tolist(),
            y=g["share (%)"].tolist(),
            width=1.0 / bins,
            opacity=0.6,
        )
    fig.update_layout(
        barmode="overlay",
        title="IoU histogram",
        xaxis_title="per-sample IoU",
        yaxis_title="share of samples (%)",
        legend_title=by,
    )
    return fig


# ---------------------------------------------------------------------------------------------
# Prec@X curves


def prec_curve(
    samples: pd.DataFrame, by: str = "variant", thresholds: Sequence[float] = CURVE_THRESHOLDS
) -> pd.DataFrame:
    """Prec@X (%) = share of samples with IoU ≥ X, for each threshold X, per group."""
    t = np.asarray(thresholds, dtype=float)
    records = []
    for name, g in _groups(samples, by):
        iou = np.sort(g["iou"].to_numpy(dtype=float))
        # samples with IoU ≥ X = n − (number strictly below X)
        above = len(iou) - np.searchsorted(iou, t, side="left")
        for x, a in zip(t, above):
            records.append({by: name, "threshold": float(x), "prec (%)": 100.0 * a / len(iou)})
    return pd.DataFrame.from_records(records, columns=[by, "threshold", "prec (%)"])


def prec_curve_figure(
    samples: pd.DataFrame, by: str = "variant", thresholds: Sequence[float] = CURVE_THRESHOLDS
) -> Figure:
    curve = prec_curve(samples, by, thresholds)
    fig = Figure(figsize=_size(curve[by].nunique()), layout="constrained")
    ax = fig.add_subplot()
    colours = run_colours(curve[by].unique()) if by == "variant" else {}
    for name, g in curve.groupby(by, sort=False):
        ax.plot(
            g["threshold"], g["prec (%)"], marker=".", label=str(name), color=colours.get(str(name))
        )
    for x in PREC_THRESHOLDS:
        ax.axvline(x, color="0.85", lw=0.8, zorder=0)
    ax.set_xlabel("IoU threshold X")
    ax.set_ylabel("Prec@X (%)")
    ax.set_title("Prec@X: share of samples with IoU ≥ X")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 102)
    if len(curve):
        _legend(fig, ax, by)
    return fig


def prec_curve_plotly(
    samples: pd.DataFrame, by: str = "variant", thresholds: Sequence[float] = CURVE_THRESHOLDS
) -> Any:
    import plotly.graph_objects as go

    curve = prec_curve(samples, by, thresholds)
    fig = go.Figure()
    for name, g in curve.groupby(by, sort=False):
        fig.add_scatter(
            name=str(name),
            x=g["threshold"].tolist(),
            y=g["prec (%)"].tolist(),
            mode="lines+markers",
        )
    fig.update_layout(
        title="Prec@X: share of samples with IoU ≥ X",
        xaxis_title="IoU threshold X",
        yaxis_title="Prec@X (%)",
        yaxis_range=[0, 102],
        legend_title=by,
    )
    return fig
