"""Overview page: Table 1 per dataset and split, as two tables that fit the page (all
referents, small referents), and over runs where a variant has several (e.g. seeds: mean,
sd, min, max); Prec@X curves and IoU histograms; Table 3; metrics per expression type where
the dumps record it.

The charts are inline SVG drawn here (:mod:`apps.dashboard.charts`): no chart library loads in
the browser or on the server for the first view (docs/design.md §8, the dashboard).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from analysis.palette import run_colours
from apps.dashboard.charts import Series, line_chart, show_chart
from apps.dashboard.data import overview_tables, type_tables
from apps.dashboard.display import export_buttons, flat, show_table, tables_variant_order
from tvnet import CURVE_THRESHOLDS, PREC_THRESHOLDS, SMALL_RULE

METRIC_NOTE = (
    "**oIoU** = overall IoU = ΣI / ΣU over the split (a.k.a. cIoU); **mIoU** = mean of the "
    f"per-sample IoU. Prec@X = share of samples with IoU ≥ X; *Small* = referents {SMALL_RULE} "
    "of the image. All values in %, recomputed from the dump rows."
)
SUBSETS = {"All": "All referents", "Small": f"Small referents ({SMALL_RULE} of the image)"}


def show_table1(t1: pd.DataFrame, title: str, name: str, key: str) -> None:
    """Table 1 under ``title`` as one table per subset (All, Small) with 5–8 columns each,
    so it reads without scrolling sideways; each exports itself."""
    st.subheader(title)
    if t1.empty:
        st.info("Nothing to show for this selection.")
        return
    subsets = [s for s in SUBSETS if s in t1.columns.get_level_values("subset")]
    lead = [c for c in t1.columns if c[0] not in SUBSETS]  # e.g. "runs" over runs
    for subset in subsets:
        part = t1[[*(lead if subset == subsets[0] else []), *(c for c in t1 if c[0] == subset)]]
        shown = part.copy()
        shown.columns = [c[1] if c[0] == subset else c for c in part.columns]
        st.markdown(f"**{SUBSETS[subset]}**")
        st.table(flat(shown))
        export_buttons(part, f"{name}_{subset.lower()}", f"{key}-{subset}", caption=title)


HIST_BINS = 20


def curve_data(rows: pd.DataFrame) -> list[tuple[str, np.ndarray, np.ndarray, int]]:
    """Per variant (Table 1's order): Prec@X (%) at ``CURVE_THRESHOLDS`` and the share (%) of
    samples per IoU bin of width 1/``HIST_BINS`` (the last bin holds 1.0), and n. The numbers
    of analysis.figures.prec_curve and iou_histogram (a test holds them equal), computed here
    so the first view does not import matplotlib with that module."""
    out = []
    edges = np.linspace(0.0, 1.0, HIST_BINS + 1)
    for v in tables_variant_order(rows["variant"].unique()):
        iou = np.sort(rows.loc[rows["variant"] == v, "iou"].to_numpy(dtype=float))
        n = len(iou)
        prec = 100.0 * (n - np.searchsorted(iou, CURVE_THRESHOLDS, side="left")) / n
        hist = 100.0 * np.histogram(iou, bins=edges)[0] / n
        out.append((v, prec, hist, n))
    return out


def charts(rows: pd.DataFrame) -> None:
    """Prec@X curve and IoU histogram of one split, side by side (inline SVG)."""
    data = curve_data(rows)
    edges = np.linspace(0.0, 1.0, HIST_BINS + 1)
    colours = run_colours(v for v, *_ in data)  # a colour per variant, shaded per run
    curves = [
        Series(
            v,
            CURVE_THRESHOLDS,
            prec,
            [f"{v}: Prec@{x:.2f} = {p:.1f} % (n = {n:,})" for x, p in zip(CURVE_THRESHOLDS, prec)],
            colour=colours[str(v)],
        )
        for v, prec, _, n in data
    ]
    stairs = [
        Series(
            v,
            edges,
            hist,
            [
                f"{v}: IoU {lo:.2f}–{hi:.2f}: {h:.1f} % of {n:,} samples"
                for lo, hi, h in zip(edges[:-1], edges[1:], hist)
            ],
            step=True,
            colour=colours[str(v)],
        )
        for v, _, hist, n in data
    ]
    c1, c2 = st.columns(2)
    with c1:
        show_chart(
            line_chart(
                curves,
                "Prec@X: share of samples with IoU ≥ X",
                "IoU threshold X",
                "Prec@X (%)",
                y_range=(0.0, 100.0),
                guides=PREC_THRESHOLDS,
            )
        )
    with c2:
        show_chart(line_chart(stairs, "IoU histogram", "per-sample IoU", "share of samples (%)"))


def page(root, stamp, sel) -> None:
    st.header("Overview")
    st.markdown(METRIC_NOTE)
    data = overview_tables(root, stamp, *sel)
    if not data["table1"]:
        st.info("No samples for this selection: pick variants and splits in the sidebar.")
        return
    for (dataset, split), t1 in data["table1"].items():
        show_table1(
            t1,
            f"Table 1 — {dataset} / {split}",
            f"table1_{dataset}_{split}",
            f"t1-{dataset}-{split}",
        )
        if (dataset, split) in data["runs"]:
            show_table1(
                data["runs"][(dataset, split)],
                f"Table 1 over runs — {dataset} / {split}",
                f"table1_runs_{dataset}_{split}",
                f"t1r-{dataset}-{split}",
            )
            runs = data["runs_of"][(dataset, split)]
            st.caption(
                "Mean, sample sd, min and max over each variant's runs (dumps of one variant "
                "on one split, e.g. seeds; nothing checks that they differ only in the seed); "
                "each run's metrics come from its own rows. Runs: "
                + "; ".join(f"{v}: " + ", ".join(f"`{r}`" for r in rs) for v, rs in runs.items())
            )
        charts(data["curve"][(dataset, split)])
    show_table(data["table3"], "Table 3 — oIoU (%) on small referents", "table3", key="t3")
    if data["typed"]:
        types_section(root, stamp, sel)


def types_section(root, stamp, sel) -> None:
    """Metrics per expression type (SynthRef records attribute / relation / ordinal /
    absolute), in an expander whose tables are made when it is opened: long tables the first
    view need not draw."""
    with st.expander("Metrics per expression type", key="types_open", on_change="rerun") as box:
        if not box.open:
            return
        for (dataset, split), t in type_tables(root, stamp, *sel).items():
            show_table(
                t,
                f"Metrics per expression type — {dataset} / {split}",
                f"types_{dataset}_{split}",
                key=f"ty-{dataset}-{split}",
            )
