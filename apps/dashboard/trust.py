"""Calibration & influence page: how far each variant's confidence can be trusted (the
reliability diagram and ECE, analysis.calibration) and what its answers owe to the retrieved
neighbour (the mask with the gate closed and with a random neighbour, analysis.influence);
docs/design.md §7.

Dumps written before these columns existed load with them empty: the page says so once, with
the commands that add them (``tvnet eval`` writes every column; ``tvnet calibrate`` fills the
confidence of a dump that has the raw score).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pandas as pd
import streamlit as st

from analysis.calibration import SUMMARY_NAMES, calibration_summary, reliability_table
from analysis.influence import INFLUENCE_NAMES, influence_table, retrieving
from analysis.palette import run_colours
from analysis.tables import model_variant
from apps.dashboard.charts import Series, line_chart, show_chart
from apps.dashboard.data import REPO, load_all, selection
from apps.dashboard.display import show_table
from tvnet import CORRECT_IOU

INTRO = (
    f"An answer is **right** when its IoU with the referent is at least {CORRECT_IOU:g}. Its "
    "**confidence** is the calibrated estimate of that probability (`tvnet calibrate` fits it "
    "on the checkpoint's own val dump); a calibrated variant's points lie on the diagonal: of "
    "the answers given 80 % confidence, 80 % are right. **ECE** = the mean gap between "
    "confidence and accuracy over the bins, weighted by their answers; *before calibration* "
    "reads the raw score as a probability. The **val** rows are the answers the calibration "
    "was fitted on, so their ECE is what the fit left over, not a check of it; **test** is "
    "the check."
)
INFLUENCE_NOTE = (
    "Each RES sample was answered twice more: with the enrichment switched off (*gate "
    "closed*) and with a random pool image as the neighbour (*random nb.*). *oIoU*: against "
    "the ground truth; *gain from nb.* = oIoU − oIoU gate closed (what the neighbour adds), "
    "*gain over random* = oIoU − oIoU random nb. (what this neighbour adds over any); *same "
    "mask*: mean IoU of that mask with the answer's own (100: the neighbour changes "
    "nothing); *changed*: share of answers the neighbour moves by more than 1 %. All in %."
)


@st.cache_data(max_entries=8, show_spinner=False)
def trust_tables(
    root: str, stamp: tuple, datasets, splits, variants, mirrored: tuple[str, ...] = ()
) -> dict:
    """analysis.calibration's summary and reliability table and analysis.influence's table
    of the selected rows, and which runs lack which columns (``mirrored``: the runs of
    mirror-averaged answers, which have no influence columns by design)."""
    samples = selection(load_all(root, stamp)[0], datasets, splits, variants)
    lacking: dict[str, list[str]] = {"score": [], "confidence": [], "influence": []}
    for run, g in samples.groupby("run", sort=True):
        if g["score"].isna().all():
            lacking["score"].append(str(run))
        elif g["confidence"].isna().all():
            lacking["confidence"].append(str(run))
        res = model_variant(g["variant"].iloc[0]) != "baseline"
        if (
            res
            and run not in mirrored
            and g["nogate_iou"].isna().all()
            and g["score"].notna().any()
        ):
            lacking["influence"].append(str(run))
    return {
        "summary": calibration_summary(samples),
        "reliability": reliability_table(samples),
        "influence": influence_table(samples),
        "lacking": lacking,
    }


def _dump_path(d: dict, root: str) -> str:
    """The folder of dump ``d`` (``root`` itself when the root is one dump, whose label is its
    name)."""
    return d.get("path") or str(Path(root) / d["run"])


def rerun_commands(runs: list[str], info: list[dict], root: str) -> list[str]:
    """The ``tvnet eval`` command that rewrites each dump with every column (from its
    run.json: checkpoint, dataset folder, split, pool, and how it was scored: protocol,
    mirror, a part of the split, words as written, so that the dump it replaces is of the
    same kind)."""
    out = []
    for d in info:
        if d["run"] not in runs:
            continue
        ckpt = d.get("checkpoint_path") or ""
        if not ckpt or not ((REPO / ckpt).is_dir() or Path(ckpt).is_dir()):
            out.append(f"# {d['run']}: its checkpoint is not here ({ckpt or 'not recorded'})")
            continue
        cmd = ["tvnet", "eval", "--checkpoint", ckpt]
        cmd += ["--data", _rel(d.get("data_dir")) or "DATA", "--split", d["split"] or "SPLIT"]
        if d.get("pool"):
            cmd += ["--pool", d["pool"]]
        protocol = d.get("protocol") or {}
        scored = " ".join(d.get("scoring") or [])  # Dump.scoring: where not Table 1's way
        for flag in ("threshold", "resolution"):  # whatever the protocol's name says
            if protocol.get(flag) is not None and flag in scored:
                cmd += [f"--{flag}", str(protocol[flag])]
        if protocol.get("mirror"):
            cmd += ["--mirror"]
        if d.get("limit"):  # a part of the split (Dump.limit)
            cmd += ["--limit", str(d["limit"])]
        if d.get("literal"):
            cmd += ["--literal"]
        cmd += ["--out", _rel(_dump_path(d, root))]
        out.append(shlex.join(cmd))
    return out


def calibrate_commands(runs: list[str], info: list[dict], root: str) -> list[str]:
    """``tvnet calibrate`` per checkpoint: fitted on its val dump, applied to its others."""
    by_ckpt: dict[str, dict[str, list[str]]] = {}
    for d in info:
        if d["run"] in runs:
            split = "val" if d["split"] == "val" else "other"
            path = _rel(_dump_path(d, root))
            by_ckpt.setdefault(d.get("checkpoint_path") or "CKPT", {}).setdefault(split, []).append(
                path
            )
    out = []
    for ckpt, dumps in by_ckpt.items():
        val = dumps.get("val", ["VAL_DUMP"])[0]
        cmd = ["tvnet", "calibrate", "--checkpoint", ckpt, "--dump", val]
        for other in dumps.get("other", []):
            cmd += ["--apply", other]
        out.append(shlex.join(cmd))
    return out


def _rel(path: str | None) -> str | None:
    if not path:
        return path
    try:
        return str(Path(path).resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def missing_note(lacking: dict[str, list[str]], info: list[dict], root: str) -> None:
    """One note for the dumps that lack the columns, with the commands that add them."""
    parts, cmds = [], []
    if lacking["score"]:
        parts.append(
            f"{len(lacking['score'])} dump(s) were written before the confidence and influence "
            "columns existed (" + ", ".join(f"`{r}`" for r in lacking["score"]) + "); "
            "evaluating their checkpoints again writes them"
        )
        cmds += rerun_commands(lacking["score"], info, root)
    if lacking["influence"]:
        parts.append(
            f"{len(lacking['influence'])} RES dump(s) have no neighbour influence ("
            + ", ".join(f"`{r}`" for r in lacking["influence"])
            + "); `tvnet eval` with a pool writes it"
        )
        cmds += rerun_commands(lacking["influence"], info, root)
    if lacking["confidence"]:
        parts.append(
            f"{len(lacking['confidence'])} dump(s) have the raw score but no confidence (their "
            "checkpoint had no calibration.json when they were written: "
            + ", ".join(f"`{r}`" for r in lacking["confidence"])
            + "); `tvnet calibrate` fits it on the val dump and fills the others"
        )
        cmds += calibrate_commands(lacking["confidence"], info, root)
    if not parts:
        return
    st.warning("**Some figures are missing.** " + "; ".join(parts) + ":")
    st.code("\n".join(dict.fromkeys(cmds)), language="bash")


def reliability_charts(rel: pd.DataFrame) -> None:
    """One reliability diagram per split: accuracy against mean confidence, per variant."""
    if rel.empty:
        return
    splits = sorted(rel["split"].unique(), key=lambda s: (s != "val", s))
    cols = st.columns(2)  # one diagram takes half the width, also alone
    colours = run_colours(rel["variant"].unique())  # alike in every split's diagram
    for k, split in enumerate(splits):
        series = []
        part = rel[(rel["split"] == split) & (rel["n"] > 0)]
        for variant, g in part.groupby("variant", sort=False):
            tips = [
                f"{variant}: confidence {r.lo:.1f}–{r.hi:.1f}: {r.n:,} answers, mean "
                f"confidence {100 * r.mean_confidence:.1f} %, right {100 * r.accuracy:.1f} %"
                for r in g.itertuples()
            ]
            series.append(
                Series(
                    str(variant),
                    g["mean_confidence"],
                    g["accuracy"],
                    tips,
                    colour=colours[str(variant)],
                )
            )
        with cols[k % 2]:
            show_chart(
                line_chart(
                    series,
                    f"Reliability — {split}",
                    "confidence (mean of the bin)",
                    f"share right (IoU ≥ {CORRECT_IOU:g})",
                    y_range=(0.0, 1.0),
                    diagonal=True,
                )
            )


def as_percent(df: pd.DataFrame, columns) -> pd.DataFrame:
    out = df.copy()
    for c in columns:
        out[c] = out[c] * 100.0
    return out


def page(root, stamp, samples, info, sel) -> None:
    st.header("Calibration & influence")
    rows = selection(samples, *sel)
    if rows.empty:
        st.info("No samples for this selection: pick variants and splits in the sidebar.")
        return
    mirrored = tuple(d["run"] for d in info if (d.get("protocol") or {}).get("mirror") is True)
    data = trust_tables(root, stamp, *sel, mirrored)
    missing_note(data["lacking"], info, root)
    st.subheader("Confidence")
    st.markdown(INTRO)
    summary = data["summary"]
    if summary["n_confidence"].sum() == 0:
        st.info("No selected dump records a confidence: nothing to draw.")
    else:
        reliability_charts(data["reliability"])
    shown = as_percent(summary, ["accuracy", "mean_confidence", "ece", "ece_score"])
    shown = shown.set_index(["variant", "split"]).rename(columns=SUMMARY_NAMES)
    show_table(shown, "Calibration per variant", "calibration", key="cal")
    st.caption(
        f"accuracy: the share of answers with IoU ≥ {CORRECT_IOU:g}, of those with a "
        "confidence where a row has any (what the mean confidence is set against), else of all n."
    )
    st.subheader("Neighbour influence")
    st.markdown(INFLUENCE_NOTE)
    infl = data["influence"]
    res_rows = retrieving(infl)
    if res_rows.empty:
        st.info("No selected variant retrieves a neighbour (the baseline has none).")
        return
    table = res_rows.drop(columns="has_influence").set_index(["variant", "split"])
    show_table(
        table.rename(columns=INFLUENCE_NAMES),
        "What the neighbour changes (%)",
        "neighbour_influence",
        key="infl",
    )
    if not res_rows["has_influence"].all():
        st.caption(
            "– : the dump has no influence columns: a mirror-averaged run (`tvnet eval "
            "--mirror` writes none), or one written before they existed (the note above)."
        )
