"""TV-Net dashboard: compare variants and hunt failure cases in evaluation dumps.

    streamlit run apps/dashboard.py -- --dumps assets/dumps

Loads every dump (docs/design.md §5: ``samples.parquet`` + ``run.json``) under a folder — ``--dumps``,
the sidebar, or ``assets/dumps/`` — cached on the files' modification times. Pages:

- Overview: Table 1 per dataset and split (and over runs, where a variant has several, e.g.
  seeds: mean, sd, min, max), Table 3, Prec@X curves and IoU histograms;
- Size analysis: Figure 7 and per-size-bucket metrics;
- Failure cases: where the misses go (failure modes against every object of the image, and
  word use per named cue on attribute expressions, when the dump's dataset folder is at
  hand), then the worst samples first, filtered by mode, with image, ground truth,
  prediction, their difference and the retrieved neighbour;
- Variant diff: where one variant succeeds and another fails at an IoU threshold.

Every number is recomputed from the rows (``analysis``); shown tables export as CSV,
Markdown and LaTeX. Imports no model code.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from analysis import cues, failures, figures, tables
from tvnet import RUN_FILE, SAMPLES_FILE, SIZE_BINS, decode_rle, load_dumps

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DUMPS = REPO / "assets" / "dumps"
PAGES = ("Overview", "Size analysis", "Failure cases", "Variant diff")
MAX_LISTED = 200  # rows shown in sample lists (the full filtered set is exported)
METRIC_NOTE = (
    "**oIoU** = overall IoU = ΣI / ΣU over the split (a.k.a. cIoU); **mIoU** = mean of the "
    "per-sample IoU. Prec@X = share of samples with IoU ≥ X; *Small* = referents under 5 % of "
    "the image. All values in %, recomputed from the dump rows."
)


# ---------------------------------------------------------------------------------------------
# loading (cached on the dump files' mtimes)


def cli_dumps_dir() -> str | None:
    """``--dumps`` from ``streamlit run apps/dashboard.py -- --dumps DIR`` (else None)."""
    if not sys.argv or Path(sys.argv[0]).resolve() != Path(__file__).resolve():
        return None  # imported or driven by a test harness: its argv is not ours
    parser = argparse.ArgumentParser(prog="streamlit run apps/dashboard.py --")
    parser.add_argument("--dumps", help="folder searched for evaluation dumps")
    args, _ = parser.parse_known_args(sys.argv[1:])
    return args.dumps


def dump_stamp(root: str) -> tuple:
    """(relative path, mtime_ns, size) of every dump file under ``root``: the cache key."""
    stamp = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in (SAMPLES_FILE, RUN_FILE):
            if name in filenames:
                st_ = os.stat(os.path.join(dirpath, name))
                stamp.append(
                    (
                        os.path.relpath(os.path.join(dirpath, name), root),
                        st_.st_mtime_ns,
                        st_.st_size,
                    )
                )
    return tuple(stamp)


@st.cache_data(show_spinner="Loading dumps…", max_entries=4)
def load_all(root: str, stamp: tuple) -> tuple[pd.DataFrame, list[dict], list[tuple[str, str]]]:
    """All rows (with ``dataset`` and ``run``), one info dict per dump, and the load errors."""
    del stamp  # only the cache key
    dumps, errors = load_dumps(root)
    samples = tables.concat_samples(dumps)
    info = [
        {
            "run": d.label,
            "variant": d.name,  # e.g. "full (grown from baseline)": a recipe of its own
            "split": d.split,
            "dataset": str(d.dataset.get("name") or "unknown"),
            "data_dir": resolve_data_dir(d.dataset.get("data_dir"), d.path),
            "rows": len(d.samples),
            "checkpoint": d.run.get("checkpoint_sha256", ""),
            "protocol": json.dumps(d.run.get("protocol", {}), sort_keys=True),
        }
        for d in dumps
    ]
    return samples, info, [(str(p), msg) for p, msg in errors]


def selection(samples: pd.DataFrame, datasets, splits, variants) -> pd.DataFrame:
    keep = (
        samples["dataset"].isin(datasets)
        & samples["split"].isin(splits)
        & samples["variant"].isin(variants)
    )
    return samples[keep]


@st.cache_data(max_entries=16)
def overview_tables(root: str, stamp: tuple, datasets, splits, variants) -> dict:
    samples = selection(load_all(root, stamp)[0], datasets, splits, variants)
    out = {
        "table1": {},
        "runs": {},
        "runs_of": {},
        "curve": {},
        "hist": {},
        "sizes": {},
        "types": {},
    }
    for (dataset, split), g in samples.groupby(["dataset", "split"], sort=True):
        out["table1"][(dataset, split)] = tables.table1(g)
        repeated = tables.repeated_variants(g)
        if repeated:
            out["runs"][(dataset, split)] = tables.runs_table(g)
            base = tables.base_variants(g)
            out["runs_of"][(dataset, split)] = {
                v: sorted(g.loc[base == v, "run"].unique()) for v in repeated
            }
        out["sizes"][(dataset, split)] = tables.size_table(g)
        if tables.records_types(g):
            out["types"][(dataset, split)] = tables.type_table(g)
        out["curve"][(dataset, split)] = g[["variant", "iou"]]
    out["table3"] = tables.table3(samples) if not samples.empty else pd.DataFrame()
    per_expr = samples.drop_duplicates(["dataset", "split", "sample_id"])
    if per_expr["dataset"].nunique() > 1:
        per_expr = per_expr.assign(split=per_expr["dataset"] + "/" + per_expr["split"])
    out["fig7_rows"] = per_expr[["split", "size_bin"]]
    out["fig7"] = tables.size_distribution(per_expr[["split", "size_bin"]])
    return out


def data_stamp(data_dir: str) -> tuple:
    """(name, mtime_ns, size) of a refer-format folder's top-level files: part of the cache key
    of :func:`run_analysis`, so a regenerated or repaired dataset is read again."""
    try:
        entries = sorted(os.scandir(data_dir), key=lambda e: e.name)
        return tuple(
            (e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in entries if e.is_file()
        )
    except OSError:
        return ()


ANALYSES = {  # per-run tables that need the dump's dataset folder
    "failure modes": failures.classes_in,  # a mode per row (Series)
    "word use": cues.cues_in,  # word-use rows of the attribute expressions (DataFrame)
}


@st.cache_data(
    show_spinner="Checking each sample against the objects of its image…", max_entries=128
)
def run_analysis(
    root: str,
    stamp: tuple,
    run: str,
    data_dir: str,
    dataset: str | None,
    data_key: tuple,
    kind: str,
) -> pd.Series | pd.DataFrame | str:
    """``ANALYSES[kind]`` of dump ``run``'s rows (indexed like ``load_all``'s), or why it
    cannot be had (a one-line reason)."""
    del data_key  # only the cache key
    samples = load_all(root, stamp)[0]
    rows = samples[samples["run"] == run]
    try:
        return ANALYSES[kind](rows, data_dir, dataset)
    except Exception as e:  # noqa: BLE001 — best effort: any failure becomes the caption's reason
        return f"{type(e).__name__}: {e}"


def per_run(root: str, stamp: tuple, rows: pd.DataFrame, info: list[dict], kind: str):
    """:func:`run_analysis` ``kind`` for every run among ``rows`` whose dataset folder is at
    hand: ({run: result}, {run: why not})."""
    got, missing = {}, {}
    runs = set(rows["run"])
    for d in info:
        if d["run"] not in runs:
            continue
        data_dir = d["data_dir"]
        if not data_dir:
            missing[d["run"]] = "its run.json names no dataset folder"
            continue
        if not (Path(data_dir) / "instances.json").is_file():
            missing[d["run"]] = f"no instances.json in its dataset folder {data_dir}"
            continue
        name = None if d["dataset"] == "unknown" else d["dataset"]
        r = run_analysis(root, stamp, d["run"], data_dir, name, data_stamp(data_dir), kind)
        if isinstance(r, str):
            missing[d["run"]] = r
        else:
            got[d["run"]] = r
    return got, missing


def failure_modes(root: str, stamp: tuple, rows: pd.DataFrame, info: list[dict]):
    """(mode per row of ``rows`` — NaN where unknown, {run: why not} for runs without modes)."""
    modes = pd.Series(np.nan, index=rows.index, dtype=object)
    got, missing = per_run(root, stamp, rows, info, "failure modes")
    for classes in got.values():
        modes.loc[classes.index.intersection(rows.index)] = classes
    return modes, missing


def show_word_use(root: str, stamp: tuple, rows: pd.DataFrame, info: list[dict]) -> None:
    """Per (dataset, split): analysis.cues' table for every selected run that has attribute
    expressions with a dataset folder at hand; nothing where there are none."""
    got, missing = per_run(root, stamp, rows, info, "word use")
    got = {run: c for run, c in got.items() if not c.empty}
    if not got:
        return
    st.markdown(
        '**Word use on attribute expressions** ("the small green star"). Per cue the '
        "expression names: how often the referent is lit, and the lit rate of the other "
        "objects that match it on every named word (nothing in the words rules them out), "
        "that differ on this cue alone (this word alone rules them out: a model that uses it "
        "lights none) and on this cue and another named one."
    )
    meta = {d["run"]: d for d in info}
    groups: dict[tuple[str, str], dict[str, pd.DataFrame]] = {}
    for run, c in got.items():
        d = meta[run]
        groups.setdefault((d["dataset"], d["split"]), {})[run] = c
    for (dataset, split), by_run in sorted(groups.items()):
        variants = [meta[r]["variant"] for r in by_run]
        order = {v: i for i, v in enumerate(tables_variant_order(set(variants)))}
        parts = {
            (meta[r]["variant"] if variants.count(meta[r]["variant"]) == 1 else r): (
                cues.cue_summary(c)
            )
            for r, c in sorted(
                by_run.items(), key=lambda rc: (order[meta[rc[0]]["variant"]], rc[0])
            )
        }
        show_table(
            pd.concat(parts, names=["variant", "cue"]),
            f"Word use per cue — {dataset} / {split}",
            f"word_use_{dataset}_{split}",
            key=f"cue-{dataset}-{split}",
        )


def resolve_data_dir(data_dir: str | None, dump_path: Path) -> str | None:
    """run.json's ``dataset.data_dir``; a relative one is tried against the dump folder, the
    working directory and the repository root, in that order."""
    if not data_dir:
        return None
    p = Path(data_dir).expanduser()
    if p.is_absolute():
        return str(p)
    for base in (Path(dump_path), Path.cwd(), REPO):
        if (base / p).is_dir():
            return str((base / p).resolve())
    return str(p)


@st.cache_data(max_entries=8)
def image_index(data_dir: str, mtime_ns: int) -> dict[int, str]:
    """image_id → file_name from ``<data_dir>/instances.json`` (COCO style)."""
    del mtime_ns
    with open(Path(data_dir) / "instances.json", encoding="utf-8") as f:
        data = json.load(f)
    return {int(im["id"]): str(im["file_name"]) for im in data.get("images", [])}


def load_image(data_dir: str | None, image_id) -> tuple[np.ndarray | None, str]:
    """The RGB image of ``image_id`` from a refer-format folder, or (None, why not)."""
    if not data_dir:
        return None, "the dump's run.json names no dataset data_dir"
    inst = Path(data_dir) / "instances.json"
    if not inst.is_file():
        return None, f"{inst} not found"
    if image_id is None or (isinstance(image_id, float) and np.isnan(image_id)):
        return None, "no image id"
    try:
        index = image_index(str(data_dir), inst.stat().st_mtime_ns)
    except (OSError, ValueError, KeyError, TypeError) as e:
        return None, f"{inst} could not be read ({e})"
    name = index.get(int(image_id))
    if name is None:
        return None, f"image id {int(image_id)} is not in {inst}"
    path = Path(data_dir) / "images" / name
    if not path.is_file():
        return None, f"{path} not found"
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")), ""


# ---------------------------------------------------------------------------------------------
# display helpers


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


def overlay(base: np.ndarray | None, mask: np.ndarray, colour, alpha: float = 0.5) -> np.ndarray:
    """``mask`` tinted with ``colour`` on ``base`` (grey background when there is no image)."""
    if base is None:
        base = np.full((*mask.shape, 3), 40, np.uint8)
    out = base.astype(np.float32).copy()
    out[mask] = (1 - alpha) * out[mask] + alpha * np.asarray(colour, np.float32)
    return out.clip(0, 255).astype(np.uint8)


def difference(base: np.ndarray | None, pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Green: found (pred ∧ gt); red: false alarm (pred ∧ ¬gt); blue: missed (gt ∧ ¬pred)."""
    out = overlay(base, pred & gt, (0, 200, 0), 0.7)
    out = overlay(out, pred & ~gt, (230, 0, 0), 0.7)
    return overlay(out, gt & ~pred, (0, 90, 255), 0.7)


def crisp(img: np.ndarray, min_side: int = 320) -> np.ndarray:
    """Small images enlarged by pixel repetition, so the browser does not blur mask edges."""
    k = -(-min_side // max(1, min(img.shape[:2])))
    return img.repeat(k, axis=0).repeat(k, axis=1) if k > 1 else img


def fit_image(img: np.ndarray | None, h: int, w: int) -> tuple[np.ndarray | None, str]:
    if img is None or img.shape[:2] == (h, w):
        return img, ""
    from PIL import Image

    note = f"image is {img.shape[1]}×{img.shape[0]}, masks {w}×{h}: image resized to the masks"
    return np.asarray(Image.fromarray(img).resize((w, h))), note


# ---------------------------------------------------------------------------------------------
# pages


def page_overview(root, stamp, sel) -> None:
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


def page_sizes(root, stamp, sel) -> None:
    st.header("Size analysis")
    st.markdown(
        "Size buckets by ground-truth area / image area: small < 5 %, medium 5–10 %, big ≥ 10 %."
    )
    data = overview_tables(root, stamp, *sel)
    if not data["table1"]:
        st.info("No samples for this selection: pick variants and splits in the sidebar.")
        return
    st.plotly_chart(figures.size_distribution_plotly(data["fig7_rows"]), key="fig7")
    show_table(
        data["fig7"], "Figure 7 — object size distribution per split", "fig7_sizes", key="f7"
    )
    for (dataset, split), t in data["sizes"].items():
        show_table(
            t,
            f"Metrics per size bucket — {dataset} / {split}",
            f"sizes_{dataset}_{split}",
            key=f"sz-{dataset}-{split}",
        )


def filter_failures(
    rows: pd.DataFrame, iou_range, bins, splits, words: str, mode: str | None = None
) -> pd.DataFrame:
    """``rows`` in the IoU range, size buckets and splits whose sentence holds every word (and
    whose ``mode`` column equals ``mode``, when one is given), worst first."""
    lo, hi = iou_range
    keep = rows["iou"].between(lo, hi) & rows["size_bin"].isin(bins) & rows["split"].isin(splits)
    if mode is not None:
        keep &= rows["mode"] == mode
    for word in words.lower().split():
        keep &= rows["sentence"].str.lower().str.contains(word, regex=False, na=False)
    return rows[keep].sort_values(["iou", "split", "sample_id"], kind="stable")


def show_failure_modes(rows: pd.DataFrame, missing: dict[str, str]) -> None:
    """Where the misses go: one table per (dataset, split) of the rows that have a mode."""
    known = rows[rows["mode"].notna()]
    if known.empty:
        if missing:
            st.caption(
                "No failure modes (they need the dumps' dataset folder): "
                + "; ".join(f"`{run}` ({why})" for run, why in sorted(missing.items()))
            )
        return
    st.markdown(
        "**Where the misses go.** Each sample is classed against every object of its image; "
        f"an object is *lit* when over {failures.LIT:.0%} of its pixels are predicted. "
        "*Correct*: IoU ≥ 0.5. *Referent + others lit*: the expression narrowed the scene "
        "to a few candidates, not to the one it names. *Referent only, bad mask*: the right "
        "object, a poor outline. *Wrong object*: split by what the best-matching wrong object "
        "shares with the referent. *Nothing lit*: no object reaches the 30 %; *empty*: "
        "nothing predicted."
    )
    for (dataset, split), g in known.groupby(["dataset", "split"], sort=True):
        by_variant = [
            (v, g.loc[g["variant"] == v, "mode"])
            for v in tables_variant_order(g["variant"].unique())
        ]
        show_table(
            failures.shares_table(by_variant),
            f"Failure modes (% of samples) — {dataset} / {split}",
            f"failure_modes_{dataset}_{split}",
            key=f"fm-{dataset}-{split}",
        )
    if missing:
        st.caption(
            "No failure modes for "
            + "; ".join(f"`{run}` ({why})" for run, why in sorted(missing.items()))
        )


def page_failures(root, stamp, samples, info, sel) -> None:
    st.header("Failure cases")
    rows = selection(samples, *sel)
    if rows.empty:
        st.info("No samples for this selection: pick variants and splits in the sidebar.")
        return
    modes, missing = failure_modes(root, stamp, rows, info)
    rows = rows.assign(mode=modes)
    show_failure_modes(rows, missing)
    show_word_use(root, stamp, rows, info)
    st.markdown("#### Samples")
    variants = tables_variant_order(rows["variant"].unique())
    c1, c2 = st.columns(2)
    variant = c1.selectbox("Variant", variants, key="fail_variant")
    iou_range = c2.slider("IoU range", 0.0, 1.0, (0.0, 0.5), 0.01, key="fail_iou")
    c3, c4, c5 = st.columns(3)
    bins = c3.multiselect("Size bucket", list(SIZE_BINS), list(SIZE_BINS), key="fail_bins")
    split_options = sorted(rows["split"].unique())
    splits = c4.multiselect("Split", split_options, split_options, key="fail_splits")
    words = c5.text_input("Expression contains (all words)", "", key="fail_words")
    mine = rows[rows["variant"] == variant]
    mode = None
    if mine["mode"].notna().any():
        pick_mode = st.selectbox(
            "Failure mode",
            ["any", *failures.CLASSES],
            key="fail_mode",
            help="'correct' means IoU ≥ 0.5: widen the IoU range to see those samples.",
        )
        mode = None if pick_mode == "any" else pick_mode
    found = filter_failures(mine, iou_range, bins, splits, words, mode)
    hidden = ""
    if mode is not None:
        unknown = int(filter_failures(mine, iou_range, bins, splits, words)["mode"].isna().sum())
        if unknown:
            hidden = f" {unknown} more have no failure mode (no dataset at hand) and are hidden."
    st.markdown(
        f"**{len(found)}** samples match, worst first (listing {min(len(found), MAX_LISTED)})."
        + hidden
    )
    if found.empty:
        return
    cols = [
        "dataset",
        "split",
        "sample_id",
        "sentence",
        "iou",
        "size_bin",
        "gt_area_frac",
        "inter",
        "union",
        *(["mode"] if found["mode"].notna().any() else []),
    ]
    listed = found[cols].head(MAX_LISTED).reset_index(drop=True)
    st.dataframe(listed, hide_index=True, key="fail_table")
    export_buttons(found[cols].set_index(["dataset", "split", "sample_id"]), "failures", "fail")

    labels = [
        f"IoU {r.iou:.3f} · {r.split} #{r.sample_id} · {r.sentence}" for r in listed.itertuples()
    ]
    pick = st.selectbox(
        "Inspect sample", range(len(labels)), format_func=labels.__getitem__, key="fail_pick"
    )
    show_sample(found.iloc[int(pick)], info)


def tables_variant_order(values) -> list[str]:
    return sorted(map(str, values), key=tables._variant_key)


def show_sample(row: pd.Series, info: list[dict]) -> None:
    run = next((i for i in info if i["run"] == row["run"]), {})
    h, w = int(row["height"]), int(row["width"])
    gt = decode_rle(row["gt_rle"], h, w)
    pred = decode_rle(row["pred_rle"], h, w)
    st.markdown(
        f"**“{row['sentence']}”** — IoU {row['iou']:.3f} (I = {int(row['inter'])}, "
        f"U = {int(row['union'])}), {row['size_bin']} referent "
        f"({100 * row['gt_area_frac']:.2f} % of the image), run `{row['run']}`"
    )
    img, why = load_image(run.get("data_dir"), row["image_id"])
    img, resized = fit_image(img, h, w)
    if img is None:
        st.info(f"Image not available ({why}); showing the masks alone.")
    elif resized:
        st.caption(resized)
    c1, c2, c3 = st.columns(3)
    c1.image(crisp(overlay(img, gt, (0, 200, 0))), caption="ground truth", width="stretch")
    c2.image(crisp(overlay(img, pred, (230, 0, 0))), caption="prediction", width="stretch")
    c3.image(
        crisp(difference(img, pred, gt)),
        caption="difference: green found, red false alarm, blue missed",
        width="stretch",
    )
    st.subheader("Retrieved neighbour")
    nid = row.get("neighbour_image_id")
    if nid is None or pd.isna(nid):
        st.caption("This variant retrieves no neighbour.")
        return
    score = row.get("neighbour_score")
    score_txt = f", score {score:.3f}" if score is not None and not pd.isna(score) else ""
    st.markdown(f"image {int(nid)}: “{row.get('neighbour_sentence') or ''}”{score_txt}")
    nimg, nwhy = load_image(run.get("data_dir"), nid)
    if nimg is None:
        st.info(f"Neighbour image not available ({nwhy}).")
    else:
        st.image(nimg, caption=f"neighbour image {int(nid)}", width=min(nimg.shape[1], 480))


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


def page_diff(samples, sel) -> None:
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


# ---------------------------------------------------------------------------------------------
# app


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
        page_overview(root, stamp, sel)
    elif page == "Size analysis":
        page_sizes(root, stamp, sel)
    elif page == "Failure cases":
        page_failures(root, stamp, samples, info, sel)
    else:
        page_diff(samples, sel)


# Streamlit runs this file as __main__; importing it (tests) only defines the functions.
if __name__ == "__main__":
    main()
