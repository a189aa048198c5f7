"""analysis/figures.py: the data behind each figure, and that every renderer draws it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import figures


def test_prec_curve_matches_hand_numbers(samples):
    val = samples[samples["split"] == "val"]
    c = figures.prec_curve(val, thresholds=[0.0, 0.3, 0.5, 0.6, 0.9, 1.0])
    full = c[c["variant"] == "full"]["prec (%)"].tolist()
    # full IoUs: 1, 0, 0.5, 1/3
    assert full == pytest.approx([100.0, 75.0, 50.0, 25.0, 25.0, 25.0])
    base = c[c["variant"] == "baseline"]["prec (%)"].tolist()  # IoUs 0, 1, 1, 0
    assert base == pytest.approx([100.0, 50.0, 50.0, 50.0, 50.0, 50.0])
    assert list(c["variant"].unique()) == ["baseline", "full"]


def test_prec_curve_is_consistent_with_table1(samples):
    from analysis.tables import table1

    val = samples[samples["split"] == "val"]
    t = table1(val)
    c = figures.prec_curve(val, thresholds=[0.5, 0.6, 0.7, 0.8, 0.9])
    for v in ("baseline", "full"):
        got = c[c["variant"] == v]["prec (%)"].tolist()
        assert got == pytest.approx(
            [t.loc[v, ("All", f"Prec@{x}")] for x in (0.5, 0.6, 0.7, 0.8, 0.9)]
        )


def test_iou_histogram_counts(samples):
    val = samples[samples["split"] == "val"]
    h = figures.iou_histogram(val, bins=4)
    full = h[h["variant"] == "full"]
    assert full["count"].tolist() == [1, 1, 1, 1]  # 0 | 1/3 | 0.5 | 1.0 (last bin closed)
    base = h[h["variant"] == "baseline"]
    assert base["count"].tolist() == [2, 0, 0, 2]
    assert base["share (%)"].sum() == pytest.approx(100.0)


def _drawn_heights(fig) -> list[float]:
    ax = fig.axes[0]
    return [p.get_height() for p in ax.patches]


def test_size_distribution_figure_draws_the_shares(samples):
    full = samples[samples["variant"] == "full"]
    fig = figures.size_distribution_figure(full)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["test", "val"]
    # bars in order small(test, val), medium(test, val), big(test, val)
    assert _drawn_heights(fig) == pytest.approx([50.0, 50.0, 0.0, 25.0, 50.0, 25.0])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["small", "medium", "big"]


def test_matplotlib_figures_render_to_png(samples, tmp_path):
    for make in (figures.iou_histogram_figure, figures.prec_curve_figure):
        fig = make(samples)
        path = tmp_path / f"{make.__name__}.png"
        fig.savefig(path, dpi=50)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = figures.prec_curve_figure(samples).axes[0].get_lines()
    curves = [ln for ln in lines if len(ln.get_xdata()) > 2]
    assert [ln.get_label() for ln in curves] == ["baseline", "full"]


def test_plotly_equivalents_hold_the_same_numbers(samples):
    val = samples[samples["split"] == "val"]
    fig = figures.prec_curve_plotly(val, thresholds=[0.5, 0.9])
    assert [tr.name for tr in fig.data] == ["baseline", "full"]
    assert list(fig.data[1].y) == pytest.approx([50.0, 25.0])
    f7 = figures.size_distribution_plotly(samples[samples["variant"] == "full"])
    assert [tr.name for tr in f7.data] == ["small", "medium", "big"]
    assert list(f7.data[1].y) == pytest.approx([0.0, 25.0])
    hist = figures.iou_histogram_plotly(val, bins=4)
    assert list(hist.data[0].y) == pytest.approx([50.0, 0.0, 0.0, 50.0])


def test_empty_rows_do_not_crash():
    empty = pd.DataFrame({"variant": [], "split": [], "iou": [], "size_bin": []})
    assert figures.prec_curve(empty).empty
    assert figures.iou_histogram(empty).empty
    for make in (figures.iou_histogram_figure, figures.prec_curve_figure):
        assert make(empty).axes
    figures.size_distribution_figure(empty)
    figures.prec_curve_plotly(empty)
    assert np.isfinite(figures.CURVE_THRESHOLDS).all()
