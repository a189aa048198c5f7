"""Display helpers the pages share: tables as text with their CSV, Markdown and LaTeX
exports, and the order variants are listed in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from analysis import tables

MAX_LISTED = 200  # rows shown in sample lists (the full filtered set is exported)


def flat(df: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
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


def export_buttons(df: pd.DataFrame, name: str, key: str, caption: str = "") -> None:
    c1, c2, c3, _ = st.columns([1, 1, 1, 3])
    c1.download_button("CSV", tables.to_csv(df), f"{name}.csv", "text/csv", key=f"{key}-csv")
    c2.download_button(
        "Markdown", tables.to_markdown(df), f"{name}.md", "text/markdown", key=f"{key}-md"
    )
    c3.download_button(
        "LaTeX",
        tables.to_latex(df, caption=caption or None, label=f"tab:{name}"),
        f"{name}.tex",
        "text/x-tex",
        key=f"{key}-tex",
    )


def show_table(df: pd.DataFrame, title: str, name: str, key: str) -> None:
    st.subheader(title)
    if df.empty:
        st.info("Nothing to show for this selection.")
        return
    st.table(flat(df))
    export_buttons(df, name, key, caption=title)


def tables_variant_order(values) -> list[str]:
    return sorted(map(str, values), key=tables._variant_key)
