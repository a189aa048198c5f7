"""Variant diff page: where one variant succeeds and another fails at an IoU threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from apps.dashboard.data import selection
from apps.dashboard.display import MAX_LISTED, export_buttons, show_table, tables_variant_order


def variant_diff(
    rows: pd.DataFrame, a: str, b: str, threshold: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(2×2 counts of success at IoU ≥ threshold, joined rows) for variants a and b."""
    key = ["dataset", "split", "sample_id"]
    keep = [*key, "sentence", "size_bin", "iou"]
    joined = rows.loc[rows["variant"] == a, keep].merge(
        rows.loc[rows["variant"] == b, [*key, "iou"]], on=key, suffixes=(f" {a}", f" {b}")
    )
    ok_a = joined[f"iou {a}"] >= threshold
    ok_b = joined[f"iou {b}"] >= threshold
    counts = pd.DataFrame(
        {
            f"{b} succeeds": [int((ok_a & ok_b).sum()), int((~ok_a & ok_b).sum())],
            f"{b} fails": [int((ok_a & ~ok_b).sum()), int((~ok_a & ~ok_b).sum())],
        },
        index=pd.Index([f"{a} succeeds", f"{a} fails"], name=f"IoU ≥ {threshold:g}"),
    )
    joined["Δ IoU"] = joined[f"iou {a}"] - joined[f"iou {b}"]
    joined["outcome"] = np.select(
        [ok_a & ~ok_b, ~ok_a & ok_b, ok_a & ok_b], [f"only {a}", f"only {b}", "both"], "neither"
    )
    return counts, joined


def page(samples, sel) -> None:
    st.header("Variant diff")
    rows = selection(samples, *sel)
    variants = tables_variant_order(rows["variant"].unique()) if not rows.empty else []
    if len(variants) < 2:
        st.info("Pick at least two variants in the sidebar to compare them.")
        return
    c1, c2, c3 = st.columns(3)
    a = c1.selectbox("Variant A", variants, index=len(variants) - 1, key="diff_a")
    b = c2.selectbox("Variant B", variants, index=0, key="diff_b")
    threshold = c3.slider("Success at IoU ≥", 0.05, 0.95, 0.5, 0.05, key="diff_t")
    if a == b:
        st.warning("Pick two different variants.")
        return
    counts, joined = variant_diff(rows, a, b, threshold)
    if joined.empty:
        st.info(f"{a} and {b} share no samples (same dataset, split and sample_id).")
        return
    show_table(counts, f"Success at IoU ≥ {threshold:g}: {a} vs {b}", f"diff_{a}_{b}", key="diffc")
    show = st.radio(
        "Show", [f"only {a}", f"only {b}", "both", "neither"], horizontal=True, key="diff_show"
    )
    picked = joined[joined["outcome"] == show].sort_values("Δ IoU", ascending=show == f"only {b}")
    st.markdown(f"**{len(picked)}** samples: {show} succeed(s).")
    if not picked.empty:
        listed = picked.drop(columns="outcome").head(MAX_LISTED).reset_index(drop=True)
        st.dataframe(listed, hide_index=True, key="diff_table")
        export_buttons(
            picked.drop(columns="outcome").set_index(["dataset", "split", "sample_id"]),
            f"diff_{a}_{b}_{show.replace(' ', '_')}",
            "diffl",
        )
