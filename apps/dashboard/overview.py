"""Overview page: Table 1 per dataset and split (and over runs, where a variant has several,
e.g. seeds: mean, sd, min, max), Prec@X curves and IoU histograms, Table 3, and metrics per
expression type where the dumps record it."""

from __future__ import annotations

import streamlit as st

from analysis import figures
from apps.dashboard.data import overview_tables
from apps.dashboard.display import show_table

METRIC_NOTE = (
    "**oIoU** = overall IoU = ΣI / ΣU over the split (a.k.a. cIoU); **mIoU** = mean of the "
    "per-sample IoU. Prec@X = share of samples with IoU ≥ X; *Small* = referents under 5 % of "
    "the image. All values in %, recomputed from the dump rows."
)


def page(root, stamp, sel) -> None:
    st.header("Overview")
    st.markdown(METRIC_NOTE)
    data = overview_tables(root, stamp, *sel)
    if not data["table1"]:
        st.info("No samples for this selection: pick variants and splits in the sidebar.")
        return
    for (dataset, split), t1 in data["table1"].items():
        show_table(
            t1,
            f"Table 1 — {dataset} / {split}",
            f"table1_{dataset}_{split}",
            key=f"t1-{dataset}-{split}",
        )
        if (dataset, split) in data["runs"]:
            show_table(
                data["runs"][(dataset, split)],
                f"Table 1 over runs — {dataset} / {split}",
                f"table1_runs_{dataset}_{split}",
                key=f"t1r-{dataset}-{split}",
            )
            runs = data["runs_of"][(dataset, split)]
            st.caption(
                "Mean, sample sd, min and max over each variant's runs (dumps of one variant "
                "on one split, e.g. seeds; nothing checks that they differ only in the seed); "
                "each run's metrics come from its own rows. Runs: "
                + "; ".join(f"{v}: " + ", ".join(f"`{r}`" for r in rs) for v, rs in runs.items())
            )
        rows = data["curve"][(dataset, split)]
        c1, c2 = st.columns(2)
        c1.plotly_chart(figures.prec_curve_plotly(rows), key=f"curve-{dataset}-{split}")
        c2.plotly_chart(figures.iou_histogram_plotly(rows), key=f"hist-{dataset}-{split}")
    show_table(data["table3"], "Table 3 — oIoU (%) on small referents", "table3", key="t3")
    for (dataset, split), t in data["types"].items():
        show_table(
            t,
            f"Metrics per expression type — {dataset} / {split}",
            f"types_{dataset}_{split}",
            key=f"ty-{dataset}-{split}",
        )
