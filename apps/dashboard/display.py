"""Display helpers the pages share: tables as text with their CSV, Markdown and LaTeX
exports (rounded to the digits shown), sample lists with fixed number formats, notes that
name several runs once, plotly layouts with the legend under the plot, and the order
variants are listed in (docs/design.md §8, the dashboard)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import streamlit as st

from analysis import export, tables

MAX_LISTED = 200  # rows shown in sample lists (the full filtered set is exported)
TABLE_DIGITS = 2  # percentages in tables
# digits of the per-sample columns, shown and exported alike
COLUMN_DIGITS = {
    "iou": 3,
    "Δ IoU": 3,
    "gt_area_frac": 4,
    "neighbour_score": 3,
    "score": 3,
    "confidence": 3,
}


def digits_of(column, default: int | None = TABLE_DIGITS) -> int | None:
    """The digits a per-sample column is shown with: ``COLUMN_DIGITS`` by its name or its
    first word ("iou full" in the variant diff), else ``default``."""
    name = str(column[-1] if isinstance(column, tuple) else column)
    return COLUMN_DIGITS.get(name, COLUMN_DIGITS.get(name.split(" ")[0], default))


def flat(df: pd.DataFrame, digits: int = TABLE_DIGITS) -> pd.DataFrame:
    """A display copy: flat column names, index as columns, numbers as fixed-digit text
    (st.table renders text, which a reader and a browser test can both find)."""
    out = df.copy()
    out.columns = [
        " ".join(str(x) for x in c if str(x) != "") if isinstance(c, tuple) else str(c)
        for c in out.columns
    ]
    out = out.reset_index()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = [("–" if np.isnan(v) else f"{v:.{digits}f}") for v in out[c]]
        else:
            out[c] = out[c].astype(str)
    return out


def rounded(df: pd.DataFrame, digits: int | None = TABLE_DIGITS) -> pd.DataFrame:
    """``df`` with its float columns rounded as they are shown: ``COLUMN_DIGITS`` for the
    per-sample columns, else ``digits`` (None: leave the others as they are). The CSV then
    reads 8.8, not 8.799999999999999."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            d = digits_of(c, digits)
            if d is not None:
                out[c] = out[c].round(d)
    return out


EXPORTS = {  # label → (file suffix, mime type)
    "CSV": ("csv", "text/csv"),
    "Markdown": ("md", "text/markdown"),
    "LaTeX": ("tex", "text/x-tex"),
}


def export_text(
    df: pd.DataFrame, kind: str, name: str = "", caption: str = "", digits: int = TABLE_DIGITS
) -> str:
    """``df`` as a CSV, Markdown or LaTeX file (``kind``: a key of ``EXPORTS``), every number
    rounded as on screen: ``digits`` for percentages, ``COLUMN_DIGITS`` for per-sample
    columns. The CSV then reads 8.8, not 8.799999999999999."""
    if kind == "CSV":
        return export.to_csv(rounded(df, digits))
    text = df.copy()  # per-sample columns as text with their own digits
    for c in text.columns:
        d = digits_of(c, None)
        if d is not None and pd.api.types.is_float_dtype(text[c]):
            text[c] = ["–" if np.isnan(v) else f"{v:.{d}f}" for v in text[c]]
    if kind == "Markdown":
        return export.to_markdown(text, digits=digits)
    return export.to_latex(text, digits=digits, caption=caption or None, label=f"tab:{name}")


def export_buttons(
    df: pd.DataFrame, name: str, key: str, caption: str = "", digits: int = TABLE_DIGITS
) -> None:
    """CSV, Markdown and LaTeX downloads of ``df`` (:func:`export_text`), each made when it
    is clicked, not on every run."""
    row = st.container(horizontal=True)  # side by side, each as wide as its label
    for label, (suffix, mime) in EXPORTS.items():
        row.download_button(
            label,
            functools.partial(export_text, df, label, name, caption, digits),
            f"{name}.{suffix}",
            mime,
            key=f"{key}-{suffix}",
        )


def show_table(df: pd.DataFrame, title: str, name: str, key: str, subheader: bool = True) -> None:
    """A table (numbers with ``TABLE_DIGITS``) under its title, with its exports."""
    if subheader:
        st.subheader(title)
    if df.empty:
        st.info("Nothing to show for this selection.")
        return
    st.table(flat(df))
    export_buttons(df, name, key, caption=title)


def column_config(df: pd.DataFrame) -> dict:
    """st.dataframe column formats: ``COLUMN_DIGITS`` for the per-sample numbers."""
    return {
        c: st.column_config.NumberColumn(format=f"%.{digits_of(c)}f")
        for c in df.columns
        if digits_of(c, None) is not None
    }


def runs_by_reason(why: dict[str, str]) -> str:
    """``{run: reason}`` as one clause per reason, e.g. "its run.json names no dataset folder
    (`a`, `b`)", so twelve runs with one cause read as one sentence."""
    groups: dict[str, list[str]] = {}
    for run, reason in sorted(why.items()):
        groups.setdefault(reason, []).append(run)
    return "; ".join(
        f"{reason} ({', '.join(f'`{r}`' for r in runs)})" for reason, runs in groups.items()
    )


def legend_below(fig, height: int = 420):
    """A plotly figure with its legend in rows under the plot, so long variant names take
    no width from the plot."""
    fig.update_layout(
        height=height,
        legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0, title=None),
        margin=dict(l=50, r=10, t=50, b=10),
    )
    return fig


def tables_variant_order(values) -> list[str]:
    return sorted(map(str, values), key=tables.variant_key)
