"""TV-Net dashboard, the Streamlit entry point: compare variants and hunt failure cases in
evaluation dumps.

    streamlit run apps/dashboard/app.py -- --dumps assets/dumps

The dumps folder comes from ``--dumps``, the sidebar, ``$TVNET_DUMPS`` or ``assets/dumps/``;
the sidebar picks the page (one module each: :mod:`~apps.dashboard.overview`,
:mod:`~apps.dashboard.sizes`, :mod:`~apps.dashboard.failure_cases`,
:mod:`~apps.dashboard.diff`) and the datasets, variants and splits they show.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pandas as pd
import streamlit as st

from apps.dashboard import diff, failure_cases, overview, sizes
from apps.dashboard.data import REPO, dump_stamp, load_all
from apps.dashboard.display import tables_variant_order

DEFAULT_DUMPS = REPO / "assets" / "dumps"
PAGES = ("Overview", "Size analysis", "Failure cases", "Variant diff")


def cli_dumps_dir() -> str | None:
    """``--dumps`` from ``streamlit run apps/dashboard/app.py -- --dumps DIR`` (else None)."""
    if not sys.argv or Path(sys.argv[0]).resolve() != Path(__file__).resolve():
        return None  # imported or driven by a test harness: its argv is not ours
    parser = argparse.ArgumentParser(prog="streamlit run apps/dashboard/app.py --")
    parser.add_argument("--dumps", help="folder searched for evaluation dumps")
    args, _ = parser.parse_known_args(sys.argv[1:])
    return args.dumps


def choose(label: str, options: list[str], key: str) -> list[str]:
    """A multiselect over ``options`` (all chosen at first) that keeps the user's choice when
    dumps come and go, and selects options that newly appear."""
    known_key = f"_{key}_known"
    known = st.session_state.get(known_key)
    if key not in st.session_state:
        st.session_state[key] = list(options)
    elif known is not None and list(known) != list(options):
        chosen = st.session_state[key]
        st.session_state[key] = [o for o in options if o in chosen or o not in known]
    st.session_state[known_key] = list(options)
    return st.multiselect(label, options, key=key)


def main() -> None:
    st.set_page_config(page_title="TV-Net dashboard", layout="wide")
    st.title("TV-Net evaluation dashboard")
    st.session_state.setdefault(
        "dumps_dir", cli_dumps_dir() or os.environ.get("TVNET_DUMPS") or str(DEFAULT_DUMPS)
    )
    with st.sidebar:
        root = st.text_input("Dumps folder", key="dumps_dir").strip()
        page = st.radio("Page", PAGES, key="page")
    root = str(Path(root).expanduser())
    if not Path(root).is_dir():
        st.error(
            f"Dump folder not found: `{root}`. Give a folder of evaluation dumps in the sidebar."
        )
        return
    stamp = dump_stamp(root)
    samples, info, errors = load_all(root, stamp)
    for _, msg in errors:
        st.error(f"Skipped a broken dump — {msg}")
    if not info:
        st.warning(
            f"No evaluation dumps under `{root}`. A dump is a folder with samples.parquet and "
            "run.json, written by `tvnet eval ... --out DIR`."
        )
        return
    with st.sidebar:
        all_datasets = sorted(samples["dataset"].unique()) if not samples.empty else []
        datasets = (
            choose("Datasets", all_datasets, "datasets") if len(all_datasets) > 1 else all_datasets
        )
        variants = choose("Variants", tables_variant_order(samples["variant"].unique()), "variants")
        splits = choose("Splits", sorted(samples["split"].unique()), "splits")
        st.caption(f"{len(info)} dump(s), {len(samples):,} rows")
    with st.expander(f"Loaded dumps ({len(info)})"):
        st.dataframe(pd.DataFrame(info), hide_index=True)
    sel = (tuple(datasets), tuple(splits), tuple(variants))
    if page == "Overview":
        overview.page(root, stamp, sel)
    elif page == "Size analysis":
        sizes.page(root, stamp, sel)
    elif page == "Failure cases":
        failure_cases.page(root, stamp, samples, info, sel)
    else:
        diff.page(samples, sel)


# Streamlit runs this file as __main__; importing it (tests) only defines the functions.
if __name__ == "__main__":
    main()
