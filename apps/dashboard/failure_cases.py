"""Failure cases page: where the misses go (failure modes against every object of the image,
and word use per named cue on attribute expressions, when the dump's dataset folder is at
hand), then the worst samples first, filtered by mode, with image, ground truth, prediction,
their difference and the retrieved neighbour.

A dataset folder that is missing (a fresh clone has no ``data/synthref``) is said once, with
the command that makes it and a button that runs it (:mod:`apps.dashboard.regenerate`).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from analysis import cues, failures
from apps.dashboard import regenerate
from apps.dashboard.data import (
    FOLDER_MISSING,
    failure_modes,
    has_dataset,
    load_image,
    per_run,
    selection,
)
from apps.dashboard.display import (
    MAX_LISTED,
    column_config,
    export_buttons,
    runs_by_reason,
    show_table,
    tables_variant_order,
)
from apps.dashboard.widgets import choose
from tvnet import CORRECT_IOU, SIZE_BINS, decode_rle, difference, overlay

NO_IMAGE_GREY = 225  # the canvas masks are drawn on when the image is not at hand


def missing_folders(rows: pd.DataFrame, info: list[dict]) -> dict[str, list[dict]]:
    """data_dir → the selected runs whose run.json names it, for every dataset folder that is
    not there (no instances.json)."""
    runs = set(rows["run"])
    out: dict[str, list[dict]] = {}
    for d in info:
        if d["run"] in runs and d["data_dir"] and not has_dataset(d["data_dir"]):
            out.setdefault(d["data_dir"], []).append(d)
    return out


def data_notes(rows: pd.DataFrame, info: list[dict]) -> dict[str, list[dict]]:
    """One note per missing dataset folder, with the command that makes it again and a button
    that runs it (SynthRef), or its progress while it runs; returns the missing folders."""
    missing = missing_folders(rows, info)
    for data_dir, runs in missing.items():
        recipes = [d["synth"] for d in runs if d.get("synth")]
        job = regenerate.job(data_dir)
        if job is not None and job.running:
            regeneration_progress(data_dir)
            continue
        where = f"`{regenerate.shown_path(data_dir)}`"
        text = (
            f"**The images are not here.** The dataset folder {where}, which {len(runs)} of "
            "the selected dumps name, is missing (a fresh clone has no data), so failure "
            "modes, word use and images are not available and the samples show their masks "
            "alone."
        )
        if not recipes:
            st.warning(text + " Put the dataset there to see them.")
            continue
        recipe = max(recipes, key=lambda r: r["recorded"])  # a recorded seed first
        source = (
            f"the seed the dumps record ({recipe['seed']})"
            if recipe["recorded"]
            else f"`tvnet synth`'s defaults (seed {recipe['seed']}, which made the shipped "
            "dumps; these dumps do not record their seed, so the page checks the result "
            "against their expressions)"
        )
        st.warning(
            f"{text} It is SynthRef, which regenerates from {source}:\n\n"
            f"`{regenerate.command_text(data_dir, recipe)}`"
        )
        if job is not None and job.returncode not in (None, 0):
            st.error(
                f"`tvnet synth` stopped with status {job.returncode}:\n\n```\n"
                + "\n".join(job.tail[-8:])
                + "\n```"
            )
        size = sum(recipe[s] for s in ("train", "val", "test"))
        if st.button(
            f"Regenerate SynthRef ({size:,} expressions)",
            key=f"regen-{data_dir}",
            type="primary",
        ):
            regenerate.start(data_dir, recipe)
            regeneration_progress(data_dir)
    return missing


@st.fragment(run_every=0.5)
def regeneration_progress(data_dir: str) -> None:
    """The progress of the ``tvnet synth`` job for ``data_dir``; reruns the page when it
    ends."""
    job = regenerate.job(data_dir)
    if job is None:
        return
    if job.running:
        st.progress(job.fraction, text=job.status())
    else:
        st.rerun()


def check_regenerated(rows: pd.DataFrame, info: list[dict]) -> None:
    """After a regeneration in this server: whether the new folder holds the dumps'
    expressions (it does when the recipe was right)."""
    shown = set(rows["run"])  # once: 52 dumps × 52,000 rows made it ≈ 1 s a rerun
    for data_dir in {d["data_dir"] for d in info if d["run"] in shown}:
        job = regenerate.job(data_dir) if data_dir else None
        if job is None or job.running or not has_dataset(data_dir):
            continue
        runs = {d["run"] for d in info if d["data_dir"] == data_dir}
        why = regenerate.check_rows(rows[rows["run"].isin(runs)], data_dir)
        if why:
            st.error(f"The regenerated `{regenerate.shown_path(data_dir)}` does not match: {why}.")
        else:
            took = f" in {job.seconds:.0f} s" if job.seconds is not None else ""
            st.success(
                f"Regenerated `{regenerate.shown_path(data_dir)}`{took}: it holds the dumps' "
                "expressions."
            )


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
    """``rows`` in the IoU range, size buckets and splits whose expression holds every word,
    as written or as the model read it (``read_as``, where the lexicon rewrote it), and whose
    ``mode`` column equals ``mode``, when one is given; worst first."""
    lo, hi = iou_range  # [lo, hi): an IoU of exactly 0.5 is a hit (Prec@0.5), not a failure
    in_range = (rows["iou"] >= lo) & ((rows["iou"] < hi) | (hi >= 1.0))
    keep = in_range & rows["size_bin"].isin(bins) & rows["split"].isin(splits)
    if mode is not None:
        keep &= rows["mode"] == mode
    texts = [rows["sentence"]] + ([rows["read_as"]] if "read_as" in rows else [])
    for word in words.lower().split():
        found = pd.Series(False, index=rows.index)
        for text in texts:
            found |= text.fillna("").astype(str).str.lower().str.contains(word, regex=False)
        keep &= found
    return rows[keep].sort_values(["iou", "split", "sample_id"], kind="stable")


def show_failure_modes(rows: pd.DataFrame, missing: dict[str, str]) -> None:
    """Where the misses go: one table per (dataset, split) of the rows that have a mode."""
    known = rows[rows["mode"].notna()]
    absent = {r for r, why in missing.items() if why == FOLDER_MISSING}
    others = {r: why for r, why in missing.items() if r not in absent}
    if known.empty:
        if others:
            st.caption(
                "No failure modes (they need the dumps' dataset folder): " + runs_by_reason(others)
            )
        elif absent:
            st.caption("No failure modes: they need the dataset folder (see the note above).")
        return
    st.markdown(
        "**Where the misses go.** Each sample is classed against every object of its image; "
        f"an object is *lit* when over {failures.LIT:.0%} of its pixels are predicted. "
        f"*Correct*: IoU ≥ {CORRECT_IOU:g}. *Referent + others lit*: the expression narrowed the scene "
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
    if others:
        st.caption("No failure modes where " + runs_by_reason(others))
    if absent:
        st.caption(
            f"No failure modes for {len(absent)} dump(s) whose dataset folder is not here "
            "(see the note above)."
        )


def page(root, stamp, samples, info, sel) -> None:
    st.header("Failure cases")
    rows = selection(samples, *sel)
    if rows.empty:
        st.info("No samples for this selection: pick variants and splits in the sidebar.")
        return
    absent = data_notes(rows, info)
    check_regenerated(rows, info)
    modes, missing = failure_modes(root, stamp, rows, info)
    rows = rows.assign(mode=modes)
    show_failure_modes(rows, missing)
    show_word_use(root, stamp, rows, info)
    st.markdown("#### Samples")
    variants = tables_variant_order(rows["variant"].unique())
    c1, c2 = st.columns(2)
    variant = c1.selectbox("Variant", variants, key="fail_variant")
    iou_range = c2.slider("IoU range", 0.0, 1.0, (0.0, CORRECT_IOU), 0.01, key="fail_iou")
    c3, c4, c5 = st.columns(3)
    bins = c3.multiselect("Size bucket", list(SIZE_BINS), list(SIZE_BINS), key="fail_bins")
    split_options = sorted(rows["split"].unique())
    splits = choose("Split", split_options, "fail_splits", where=c4)  # follows the sidebar
    words = c5.text_input(
        "Expression contains (all words)",
        "",
        key="fail_words",
        help="as written, or as the model read it",
    )
    mine = rows[rows["variant"] == variant]
    mode = None
    if mine["mode"].notna().any():
        pick_mode = st.selectbox(
            "Failure mode",
            ["any", *failures.CLASSES],
            key="fail_mode",
            help=f"'correct' means IoU ≥ {CORRECT_IOU:g}: widen the IoU range to see those "
            "samples.",
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
        # what the model read, where the lexicon rewrote a word it never saw (tvnet eval)
        *(["read_as"] if "read_as" in found and found["read_as"].notna().any() else []),
        "iou",
        "size_bin",
        "gt_area_frac",
        "inter",
        "union",
        *(["mode"] if found["mode"].notna().any() else []),
    ]
    listed = found[cols].head(MAX_LISTED).reset_index(drop=True)
    st.dataframe(listed, hide_index=True, key="fail_table", column_config=column_config(listed))
    export_buttons(found[cols].set_index(["dataset", "split", "sample_id"]), "failures", "fail")
    row = pick_sample(found.head(MAX_LISTED))
    show_sample(row, info, absent)


def pick_sample(listed: pd.DataFrame) -> pd.Series:
    """The "Inspect sample" choice among ``listed``; returns the row it names.

    The options are the samples themselves (run, split, id), and the widget is keyed by the
    list it offers: when the variant or a filter changes the list, the browser gets a new
    widget whose shown label is the sample below it, never the old list's label at the same
    position. The sample picked last stays picked while it is in the list."""
    keys = [f"{r.run}|{r.split}|{r.sample_id}" for r in listed.itertuples()]
    labels = {
        k: f"IoU {r.iou:.3f} · {r.split} #{r.sample_id} · {r.sentence}"
        for k, r in zip(keys, listed.itertuples())
    }
    previous = st.session_state.get("fail_picked")
    digest = hashlib.sha1("\n".join(keys).encode()).hexdigest()[:12]
    pick = st.selectbox(
        "Inspect sample",
        keys,
        index=keys.index(previous) if previous in labels else 0,
        format_func=labels.__getitem__,
        key=f"fail_pick-{digest}",
    )
    st.session_state["fail_picked"] = pick
    return listed.iloc[keys.index(pick)]


def show_sample(row: pd.Series, info: list[dict], absent: dict | None = None) -> None:
    """One sample: ground truth, prediction and their difference over the image (over plain
    grey when the image is not at hand), then the retrieved neighbour. ``absent``: the
    missing dataset folders the page's note already names (not said again here)."""
    run = next((i for i in info if i["run"] == row["run"]), {})
    said = run.get("data_dir") in (absent or {})
    h, w = int(row["height"]), int(row["width"])
    try:
        gt = decode_rle(row["gt_rle"], h, w)
        pred = decode_rle(row["pred_rle"], h, w)
    except ValueError as e:  # a damaged row: say so, keep the page
        st.warning(f"sample #{row['sample_id']} of run `{row['run']}`: its masks are corrupt ({e})")
        return
    read_as = row.get("read_as")
    read = f" (read as “{read_as}”)" if isinstance(read_as, str) and read_as else ""
    st.markdown(
        f"**“{row['sentence']}”**{read} — {row['split']} #{row['sample_id']}, "
        f"IoU {row['iou']:.3f} (I = {int(row['inter'])}, "
        f"U = {int(row['union'])}), {row['size_bin']} referent "
        f"({100 * row['gt_area_frac']:.2f} % of the image), run `{row['run']}`"
    )
    img, why = load_image(run.get("data_dir"), row["image_id"])
    img, resized = fit_image(img, h, w)
    if img is None and said:
        st.caption("No image (the dataset folder is missing: see the note above); masks on grey.")
    elif img is None:
        st.info(f"Image not available ({why}); showing the masks alone.")
    elif resized:
        st.caption(resized)
    if img is None:
        img = np.full((h, w, 3), NO_IMAGE_GREY, np.uint8)
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
    score_txt = (
        f", image similarity {score:.3f}" if score is not None and not pd.isna(score) else ""
    )
    st.markdown(f"image {int(nid)}: “{row.get('neighbour_sentence') or ''}”{score_txt}")
    nimg, nwhy = load_image(run.get("data_dir"), nid)
    if nimg is None and said:
        st.caption("No neighbour image (the dataset folder is missing: see the note above).")
    elif nimg is None:
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
