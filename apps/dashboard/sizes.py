"""Size analysis page: Figure 7 (the referents' size distribution per split) and the metrics
per size bucket."""

from __future__ import annotations

import streamlit as st

from apps.dashboard.data import overview_tables
from apps.dashboard.display import legend_below, show_table
from tvnet import SIZE_BIN_RULE


def page(root, stamp, sel) -> None:
    st.header("Size analysis")
    st.markdown(f"Size buckets by ground-truth area / image area: {SIZE_BIN_RULE}.")
    data = overview_tables(root, stamp, *sel)
    if not data["table1"]:
        st.info("No samples for this selection: pick variants and splits in the sidebar.")
        return
    show_table(
        data["fig7"], "Figure 7 — object size distribution per split", "fig7_sizes", key="f7"
    )
    from analysis import figures  # after the first table: the browser shows it meanwhile

    st.plotly_chart(
        legend_below(figures.size_distribution_plotly(data["fig7_rows"]), height=380), key="fig7"
    )
    for (dataset, split), t in data["sizes"].items():
        show_table(
            t,
            f"Metrics per size bucket — {dataset} / {split}",
            f"sizes_{dataset}_{split}",
            key=f"sz-{dataset}-{split}",
        )
