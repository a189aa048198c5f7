"""The analysis tables written out as Markdown, LaTeX and CSV (:mod:`analysis.tables` makes
them): one header row of flattened column names, the index as leading columns, numbers with a
fixed number of digits and NaN as "–"."""

from __future__ import annotations

import io
import math
import re
from typing import Any

import numpy as np
import pandas as pd


def _fmt(v: Any, digits: int) -> str:
    """A cell: floats of any width (numpy's too) with ``digits`` digits, a value that rounds
    to zero without a minus sign, and NaN, None and NA as "–"."""
    if v is None or v is pd.NA or v is pd.NaT:
        return "–"
    if isinstance(v, (float, np.floating)):
        if math.isnan(v):
            return "–"
        text = f"{v:.{digits}f}"
        return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.00"
    return str(v)


def _flat_header(col: Any) -> str:
    if isinstance(col, tuple):
        return " ".join(str(c) for c in col if str(c) != "")
    return str(col)


def _index_names(df: pd.DataFrame) -> list[str]:
    return [str(n) if n is not None else "" for n in df.index.names]


def _index_cells(idx: Any) -> list[str]:
    return [str(v) for v in idx] if isinstance(idx, tuple) else [str(idx)]


def to_markdown(df: pd.DataFrame, digits: int = 2) -> str:
    """A GitHub-flavoured Markdown table (index as leading columns, numbers to ``digits``)."""
    header = _index_names(df) + [_flat_header(c) for c in df.columns]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] * len(_index_names(df)) + ["---:"] * len(df.columns)) + "|",
    ]
    for idx, row in zip(df.index, df.itertuples(index=False)):
        cells = _index_cells(idx) + [_fmt(v, digits) for v in row]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


_LATEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    # OT1 (pdflatex's default) sets these as other glyphs: "<" as "¡", "`" as a curly quote
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "`": r"\textasciigrave{}",
    # the report's and dashboard's own symbols, which pdflatex does not set unaided
    "≥": r"$\geq$",
    "≤": r"$\leq$",
    "Δ": r"$\Delta$",
    "×": r"$\times$",
    "±": r"$\pm$",
    "−": "-",
}


def _tex(s: Any) -> str:
    return "".join(_LATEX_ESCAPES.get(ch, ch) for ch in str(s))


def to_latex(
    df: pd.DataFrame, digits: int = 2, caption: str | None = None, label: str | None = None
) -> str:
    """A booktabs ``table`` environment; two-level columns get ``\\multicolumn`` headers."""
    n_idx = len(_index_names(df))
    align = "l" * n_idx + "r" * len(df.columns)
    out = ["\\begin{table}[t]", "\\centering"]
    if caption:
        out.append(f"\\caption{{{_tex(caption)}}}")
    if label:  # a key, not text: what \\label cannot hold (a run's "#", "%", spaces) goes
        out.append(f"\\label{{{re.sub(r'[^A-Za-z0-9:._-]+', '-', label)}}}")
    out += [f"\\begin{{tabular}}{{{align}}}", "\\toprule"]
    if isinstance(df.columns, pd.MultiIndex) and df.columns.nlevels == 2:
        top, spans, start = [], [], n_idx + 1
        for name in dict.fromkeys(df.columns.get_level_values(0)):
            width = sum(1 for c in df.columns if c[0] == name)
            top.append(f"\\multicolumn{{{width}}}{{c}}{{{_tex(name)}}}")
            spans.append(f"\\cmidrule(lr){{{start}-{start + width - 1}}}")
            start += width
        out.append(" & ".join([""] * n_idx + top) + " \\\\")
        out.append(" ".join(spans))
        second = [_tex(c[1]) for c in df.columns]
    else:
        second = [_tex(_flat_header(c)) for c in df.columns]
    out.append(" & ".join([_tex(n) for n in _index_names(df)] + second) + " \\\\")
    out.append("\\midrule")
    for idx, row in zip(df.index, df.itertuples(index=False)):
        cells = [_tex(c) for c in _index_cells(idx)] + [_tex(_fmt(v, digits)) for v in row]
        out.append(" & ".join(cells) + " \\\\")
    out += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    return "\n".join(out) + "\n"


def to_csv(df: pd.DataFrame) -> str:
    """CSV with full precision and flattened column names (``All Prec@0.5``, …)."""
    flat = df.copy()
    flat.columns = [_flat_header(c) for c in df.columns]
    buf = io.StringIO()
    flat.to_csv(buf)
    return buf.getvalue()
