"""TV-Net dashboard, the Streamlit entry point: compare variants and hunt failure cases in
evaluation dumps.

    streamlit run apps/dashboard/app.py -- --dumps assets/dumps [--page "Failure cases"]

The dumps folder comes from ``--dumps``, the sidebar, ``$TVNET_DUMPS`` or ``assets/dumps/``;
the sidebar picks the page (one module each: :mod:`~apps.dashboard.overview`,
:mod:`~apps.dashboard.sizes`, :mod:`~apps.dashboard.failure_cases`,
:mod:`~apps.dashboard.diff`, :mod:`~apps.dashboard.trust`) and the datasets, variants and
splits they show. A page's module is imported when the page is first shown, so the first view
pays only for its own code (docs/design.md §8, the dashboard's first view).
``TVNET_DASH_PROFILE=1`` prints where each run's time went to the server's log.
"""

from __future__ import annotations

import time

_T_IMPORT = time.perf_counter()  # the imports below are timed (TVNET_DASH_PROFILE)

import argparse  # noqa: E402
import importlib  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import streamlit as st  # noqa: E402

from apps.dashboard.data import dump_stamp, load_all  # noqa: E402
from apps.dashboard.widgets import choose  # noqa: E402
from tvnet import default_assets  # noqa: E402

_T_IMPORT = time.perf_counter() - _T_IMPORT

DEFAULT_DUMPS = default_assets()["dumps"]  # $TVNET_ASSETS/dumps when set
PAGES = {  # page → module
    "Overview": "overview",
    "Size analysis": "sizes",
    "Failure cases": "failure_cases",
    "Variant diff": "diff",
    "Calibration & influence": "trust",
}
PROFILE = os.environ.get("TVNET_DASH_PROFILE") == "1"


def cli_args() -> argparse.Namespace:
    """``--dumps`` and ``--page`` from ``streamlit run apps/dashboard/app.py -- ...`` (None
    when imported or driven by a test harness: its argv is not ours)."""
    parser = argparse.ArgumentParser(prog="streamlit run apps/dashboard/app.py --")
    parser.add_argument("--dumps", help="folder searched for evaluation dumps")
    parser.add_argument("--page", help="the page shown first: " + ", ".join(PAGES))
    if not sys.argv or Path(sys.argv[0]).resolve() != Path(__file__).resolve():
        return parser.parse_args([])
    args, _ = parser.parse_known_args(sys.argv[1:])
    return args


class Timer:
    """Laps of one script run, printed to the server log when ``TVNET_DASH_PROFILE=1``."""

    def __init__(self) -> None:
        self.t0 = self.t = time.perf_counter()
        if PROFILE:
            print(f"[dash-profile] imports (pandas, dump reader): {1000 * _T_IMPORT:.0f} ms")

    def lap(self, what: str) -> None:
        if PROFILE:
            now = time.perf_counter()
            print(f"[dash-profile] {what}: {1000 * (now - self.t):.0f} ms", flush=True)
            self.t = now

    def total(self) -> None:
        if PROFILE:
            ms = 1000 * (time.perf_counter() - self.t0)
            print(f"[dash-profile] run total: {ms:.0f} ms", flush=True)


def main() -> None:
    timer = Timer()
    st.set_page_config(page_title="TV-Net dashboard", layout="wide")
    st.title("TV-Net evaluation dashboard")
    args = cli_args()
    st.session_state.setdefault(
        "dumps_dir", args.dumps or os.environ.get("TVNET_DUMPS") or str(DEFAULT_DUMPS)
    )
    if args.page in PAGES:
        st.session_state.setdefault("page", args.page)
    elif args.page:
        st.warning(f"No page {args.page!r}; the pages are " + ", ".join(PAGES) + ".")
    with st.sidebar:
        root = st.text_input("Dumps folder", key="dumps_dir").strip()
        page = st.radio("Page", list(PAGES), key="page")
    if not root:  # a cleared box is no folder: Path("") would be this server's working folder
        st.info("Give a folder of evaluation dumps in the sidebar (`tvnet eval ... --out DIR`).")
        return
    root = str(Path(root).expanduser())
    if not Path(root).is_dir():
        st.error(
            f"Dump folder not found: `{root}`. Give a folder of evaluation dumps in the sidebar."
        )
        return
    stamp = dump_stamp(root)
    samples, info, errors = load_all(root, stamp)
    timer.lap("load dumps")
    for _, msg in errors:
        st.error(f"Skipped a dump — {msg}")
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
        from apps.dashboard.display import tables_variant_order

        variants = choose("Variants", tables_variant_order(samples["variant"].unique()), "variants")
        splits = choose("Splits", sorted(samples["split"].unique()), "splits")
        st.caption(f"{len(info)} dump(s), {len(samples):,} rows")
    loaded_dumps(info)
    sel = (tuple(datasets), tuple(splits), tuple(variants))
    module = importlib.import_module(f"apps.dashboard.{PAGES[page]}")
    timer.lap(f"import {PAGES[page]}")
    if page in ("Overview", "Size analysis"):
        module.page(root, stamp, sel)
    elif page in ("Failure cases", "Calibration & influence"):
        module.page(root, stamp, samples, info, sel)
    else:
        module.page(samples, info, sel)
    timer.lap(f"page {PAGES[page]}")
    timer.total()


def loaded_dumps(info: list[dict]) -> None:
    """What each loaded dump is, with its training budget (steps × batch over its warm-start
    chain: the variant diff pairs equal budgets). The table is built when the expander is
    opened: a data grid costs the browser about a second, which the first view does not pay."""
    with st.expander(f"Loaded dumps ({len(info)})", key="loaded_dumps", on_change="rerun") as box:
        if not box.open:
            return
        import pandas as pd

        cols = [
            "run", "variant", "split", "dataset", "rows", "schedule", "budget", "training",
            "scored on", "checkpoint",
        ]  # fmt: skip
        table = pd.DataFrame([{c: d.get(c) for c in cols} for d in info], columns=cols)
        table["checkpoint"] = table["checkpoint"].str[:12]
        st.dataframe(table.rename(columns={"budget": "training samples"}), hide_index=True)


# Streamlit runs this file as __main__; importing it (tests) only defines the functions.
if __name__ == "__main__":
    main()
