"""Variant diff page: where one variant succeeds and another fails at an IoU threshold.

The default pair has equal training budgets (samples seen, over the warm-start chain, as the
dumps record them): the grown model against the baseline trained as long, not against the
short from-scratch baseline (docs/design.md §8, the dashboard).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from apps.dashboard.data import selection
from apps.dashboard.display import (
    MAX_LISTED,
    column_config,
    export_buttons,
    show_table,
    tables_variant_order,
)
from tvnet import CORRECT_IOU


def variant_budgets(info: list[dict], variants: list[str]) -> dict[str, int | None]:
    """variant → training samples its runs saw (None when not recorded or when its runs
    differ)."""
    out: dict[str, int | None] = {}
    for v in variants:
        budgets = {d.get("budget") for d in info if d["variant"] == v}
        out[v] = budgets.pop() if len(budgets) == 1 else None
    return out


def mixed_budgets(info: list[dict], variants: list[str]) -> set[str]:
    """The variants whose runs were trained for different recorded budgets (the row name
    spans datasets whose runs differ): :func:`variant_budgets` gives them None too."""
    return {
        v
        for v in variants
        if len({d.get("budget") for d in info if d["variant"] == v and d.get("budget")}) > 1
    }


def scored_otherwise(info: list[dict]) -> set[str]:
    """The variants (row names) with a run not scored as Table 1's are (single answers, the
    CMPC protocol), e.g. "full (mirror averaged)"."""
    return {d["variant"] for d in info if d.get("scoring")}


def default_pair(
    variants: list[str], budgets: dict[str, int | None], otherwise: set[str] = frozenset()
) -> tuple[str, str]:
    """(A, B): among the variants of the largest budget that two or more share, the last and
    the first in Table 1's order (e.g. "full (grown from baseline)" against "baseline (warm
    start)"); without such a budget, the last and the first of all. Variants in
    ``otherwise`` (scored otherwise: mirror averaged, another protocol) are left out while
    two others remain."""
    plain = [v for v in variants if v not in otherwise]
    variants = plain if len(plain) > 1 else variants
    groups: dict[int, list[str]] = {}
    for v in variants:
        if budgets.get(v):
            groups.setdefault(int(budgets[v]), []).append(v)
    shared = [b for b, vs in groups.items() if len(vs) > 1]
    pool = groups[max(shared)] if shared else variants
    return pool[-1], pool[0]


def split_choices(rows: pd.DataFrame) -> list[tuple[str, str]]:
    """The (dataset, split) pairs of ``rows``, val first (the split a recipe is chosen on),
    then by name."""
    pairs = {(str(d), str(s)) for d, s in zip(rows["dataset"], rows["split"])}
    return sorted(pairs, key=lambda p: (p[1] != "val", p))


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


def page(samples, info, sel) -> None:
    st.header("Variant diff")
    rows = selection(samples, *sel)
    variants = tables_variant_order(rows["variant"].unique()) if not rows.empty else []
    if len(variants) < 2:
        st.info("Pick at least two variants in the sidebar to compare them.")
        return
    shown = set(rows["run"])  # the selected dataset's runs: a name may mean others elsewhere
    info = [d for d in info if d["run"] in shown]
    budgets = variant_budgets(info, variants)
    first_a, first_b = default_pair(variants, budgets, scored_otherwise(info))
    c1, c2, c3 = st.columns(3)
    a = c1.selectbox("Variant A", variants, index=variants.index(first_a), key="diff_a")
    b = c2.selectbox("Variant B", variants, index=variants.index(first_b), key="diff_b")
    threshold = c3.slider("Success at IoU ≥", 0.05, 0.95, CORRECT_IOU, 0.05, key="diff_t")
    if a == b:
        st.warning("Pick two different variants.")
        return
    st.caption(budget_note(a, b, budgets, mixed_budgets(info, variants)))
    # one table per dataset and split, as every other page: val and test are not pooled
    parts = split_choices(rows)
    part = parts[0]
    if len(parts) > 1:
        part = st.selectbox("Dataset and split", parts, format_func=" · ".join, key="diff_split")
    rows = rows[(rows["dataset"] == part[0]) & (rows["split"] == part[1])]
    counts, joined = variant_diff(rows, a, b, threshold)
    if joined.empty:
        st.info(f"{a} and {b} share no samples on {' · '.join(part)} (same sample_id).")
        return
    title = (
        f"Success at IoU ≥ {threshold:g}: {a} vs {b}, {' · '.join(part)} ({len(joined):,} samples)"
    )
    show_table(counts, title, f"diff_{a}_{b}", key="diffc")
    show = st.radio(
        "Show", [f"only {a}", f"only {b}", "both", "neither"], horizontal=True, key="diff_show"
    )
    picked = joined[joined["outcome"] == show].sort_values("Δ IoU", ascending=show == f"only {b}")
    st.markdown(f"**{len(picked)}** samples: {show} succeed(s).")
    if not picked.empty:
        listed = picked.drop(columns="outcome").head(MAX_LISTED).reset_index(drop=True)
        st.dataframe(listed, hide_index=True, key="diff_table", column_config=column_config(listed))
        export_buttons(
            picked.drop(columns="outcome").set_index(["dataset", "split", "sample_id"]),
            f"diff_{a}_{b}_{show.replace(' ', '_')}",
            "diffl",
        )


def budget_note(
    a: str, b: str, budgets: dict[str, int | None], mixed: set[str] = frozenset()
) -> str:
    """How the two training budgets compare, in words; ``mixed``: the variants whose runs
    were trained for different budgets (:func:`mixed_budgets`)."""
    ba, bb = budgets.get(a), budgets.get(b)
    differ = [v for v in (a, b) if v in mixed]
    if differ:
        return (
            "The runs of " + " and ".join(differ) + " were trained for different budgets: the "
            "pair may not be comparable."
        )
    if not ba or not bb:
        return (
            "Training budget not recorded for "
            + " and ".join(v for v, x in ((a, ba), (b, bb)) if not x)
            + ": the pair may not be comparable."
        )
    if ba == bb:
        return f"Equal training budgets: {ba:,} samples each (steps × batch, warm starts included)."
    more, less = (a, b) if ba > bb else (b, a)
    return (
        f"Unequal training budgets: {more} saw {max(ba, bb) / min(ba, bb):.1f}× the samples of "
        f"{less} ({ba:,} vs {bb:,}); part of any difference is the longer training."
    )
