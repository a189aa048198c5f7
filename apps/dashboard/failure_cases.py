"""Failure cases page: where the misses go (failure modes against every object of the image,
and word use per named cue on attribute expressions, when the dump's dataset folder is at
hand), then the worst samples first, filtered by mode, with image, ground truth, prediction,
their difference and the retrieved neighbour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from analysis import cues, failures
from apps.dashboard.data import failure_modes, load_image, per_run, selection
from apps.dashboard.display import MAX_LISTED, export_buttons, show_table, tables_variant_order
from tvnet import SIZE_BINS, decode_rle, difference, overlay


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


def page(root, stamp, samples, info, sel) -> None:
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
    c1.image(
        crisp(overlay(img, gt, (0, 200, 0), 0.5, outline=0)),
        caption="ground truth",
        width="stretch",
    )
    c2.image(
        crisp(overlay(img, pred, (230, 0, 0), 0.5, outline=0)),
        caption="prediction",
        width="stretch",
    )
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
