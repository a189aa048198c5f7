"""The dashboard's data: every evaluation dump under a folder (docs/design.md §5), loaded once
and cached on the dump files' modification times; what each run records about itself (its
training budget, the SynthRef recipe of its dataset); the tables the overview and size pages
show; the per-run analyses that need the dump's dataset folder (failure modes, word use);
the images of that folder.

Only what the first page needs is imported here (pandas, the dump reader, analysis.tables):
the failure analyses load when a page asks for them (docs/design.md §8, the dashboard's
first view).
"""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from analysis import tables
from analysis.naming import unique_dumps
from tvnet import (
    RUN_FILE,
    SAMPLES_FILE,
    SYNTHREF_DEFAULTS,
    InputError,
    load_dumps,
    read_image,
    refer_location,
)

REPO = Path(__file__).resolve().parents[2]


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
    dumps, repeats = unique_dumps(dumps)  # a copy of a dump would pool as another seed
    errors += repeats
    samples = tables.concat_samples(dumps)
    row_variant = samples.groupby("run", sort=False)["variant"].first() if len(samples) else {}
    info = [
        {
            "run": d.label,
            # the name of its rows, e.g. "full (grown from baseline)": a recipe of its own
            "variant": str(row_variant.get(d.label, d.name)) if len(row_variant) else d.name,
            "split": d.split,
            "dataset": d.dataset_name,  # told apart from other data of its name: shown
            "dataset_recorded": d.recorded_dataset_name,  # as run.json has it
            "fingerprint": d.data_fingerprint,
            "data_dir": resolve_data_dir(d.dataset.get("data_dir"), d.path),
            "rows": len(d.samples),
            "budget": d.budget,
            "schedule": d.schedule,
            "training": d.training,  # "57 min at 46.8 samples/s, AMD EPYC, bf16 autocast"
            "scored on": d.scored_on,  # "AMD EPYC …, bf16 autocast" (dumps since 2026-12-08)
            "synth": synth_recipe(d.dataset),
            "checkpoint": d.checkpoint_hash,
            "checkpoint_path": str(d.run.get("checkpoint") or ""),
            "pool": str(d.run.get("pool") or ""),
            "protocol": d.protocol,
            "scoring": d.scoring,  # ["mirror averaged"]: not scored as Table 1 is
            "path": str(d.path),  # the dump's folder (the root itself when it is one dump)
            # what `tvnet eval` needs to write the same kind of dump again (--limit, --literal)
            "limit": d.limit,
            "literal": d.literal,
        }
        for d in dumps
    ]
    return samples, info, [(str(p), msg) for p, msg in errors]


def _int(v: Any) -> int | None:
    try:
        return int(v) if v is not None else None
    except (TypeError, ValueError):
        return None


def synth_recipe(dataset: dict) -> dict | None:
    """The SynthRef recipe (``seed``, ``train``, ``val``, ``test``) a dump's ``run.json``
    records for its dataset, with ``recorded`` False where it falls back to ``tvnet synth``'s
    defaults; None for a dataset that is not SynthRef (nothing to regenerate)."""
    if str(dataset.get("name") or "") != "synthref":
        return None
    found: dict[str, Any] = {}
    for src in (dataset, dataset.get("synth"), dataset.get("info")):
        if isinstance(src, dict):
            if "seed" in src and "seed" not in found:
                found["seed"] = src["seed"]
            sizes = src.get("sizes")
            if isinstance(sizes, dict) and "sizes" not in found:
                found["sizes"] = sizes
    seed = _int(found.get("seed"))
    sizes = found.get("sizes") or {}
    return {
        # `tvnet synth`'s defaults: the recipe of data/synthref when a dump records none
        "seed": SYNTHREF_DEFAULTS["seed"] if seed is None else seed,
        **{k: (_int(sizes.get(k)) or 0) if sizes else SYNTHREF_DEFAULTS[k] for k in SPLIT_KEYS},
        "recorded": seed is not None,
    }


SPLIT_KEYS = ("train", "val", "test")
FOLDER_MISSING = "its dataset folder is not here"  # the reason the failure page notes once


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
        "typed": False,  # whether any row records its expression type (see type_tables)
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
        out["typed"] = out["typed"] or tables.records_types(g)
        out["curve"][(dataset, split)] = g[["variant", "iou"]]
    out["table3"] = tables.table3(samples) if not samples.empty else pd.DataFrame()
    per_expr = samples.drop_duplicates(["dataset", "split", "sample_id"])
    if per_expr["dataset"].nunique() > 1:
        per_expr = per_expr.assign(split=per_expr["dataset"] + "/" + per_expr["split"])
    out["fig7_rows"] = per_expr[["split", "size_bin"]]
    out["fig7"] = tables.size_distribution(per_expr[["split", "size_bin"]])
    return out


@st.cache_data(max_entries=16)
def type_tables(root: str, stamp: tuple, datasets, splits, variants) -> dict:
    """Metrics per expression type, per (dataset, split) whose rows record the type."""
    samples = selection(load_all(root, stamp)[0], datasets, splits, variants)
    return {
        key: tables.type_table(g)
        for key, g in samples.groupby(["dataset", "split"], sort=True)
        if tables.records_types(g)
    }


def dataset_folder(data_dir: str | os.PathLike) -> Path:
    """The refer-format folder of a dump's ``data_dir``: the folder itself, or the folder of a
    refs file, which is what a dump records when its folder holds several split schemes
    (``refer/data/refcocog/refs(umd).p``; docs/data.md). The reading is tvnet's own."""
    return refer_location(data_dir)[0]


def data_stamp(data_dir: str) -> tuple:
    """(name, mtime_ns, size) of a refer-format folder's top-level files: part of the cache key
    of :func:`run_analysis`, so a regenerated or repaired dataset is read again."""
    try:
        entries = sorted(os.scandir(dataset_folder(data_dir)), key=lambda e: e.name)
        return tuple(
            (e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in entries if e.is_file()
        )
    except OSError:
        return ()


def _analysis(kind: str):
    """The per-run analyses that need the dump's dataset folder, imported when first asked."""
    if kind == "failure modes":
        from analysis import failures

        return failures.classes_in  # a mode per row (Series)
    if kind == "word use":
        from analysis import cues

        return cues.cues_in  # word-use rows of the attribute expressions (DataFrame)
    raise KeyError(kind)


ANALYSES = ("failure modes", "word use")


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
    fingerprint: str = "",
) -> pd.Series | pd.DataFrame | str:
    """Analysis ``kind`` (one of ``ANALYSES``) of dump ``run``'s rows (indexed like ``load_all``'s), or why it
    cannot be had (a one-line reason)."""
    del data_key  # only the cache key
    samples = load_all(root, stamp)[0]
    rows = samples[samples["run"] == run]
    try:
        return _analysis(kind)(rows, data_dir, dataset, fingerprint)
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
        if not (dataset_folder(data_dir) / "instances.json").is_file():
            missing[d["run"]] = FOLDER_MISSING
            continue
        name = None if d["dataset_recorded"] == "unknown" else d["dataset_recorded"]
        r = run_analysis(
            root, stamp, d["run"], data_dir, name, data_stamp(data_dir), kind, d["fingerprint"]
        )
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


def resolve_data_dir(data_dir: str | None, dump_path: Path) -> str | None:
    """run.json's ``dataset.data_dir``; a relative one is tried against the dump folder, the
    working directory and the repository root, in that order, and is taken against the
    repository root (where ``tvnet synth`` would write it) when it is in none of them."""
    if not data_dir:
        return None
    try:
        p = Path(data_dir).expanduser()
    except RuntimeError:  # "~nosuchuser/…": a home folder this machine does not have
        p = Path(data_dir)
    if p.is_absolute():
        return str(p)
    for base in (Path(dump_path), Path.cwd(), REPO):
        if dataset_folder(base / p).is_dir() and (base / p).exists():
            return str((base / p).resolve())
    return str(REPO / p)


def has_dataset(data_dir: str | None) -> bool:
    return bool(data_dir) and (dataset_folder(data_dir) / "instances.json").is_file()


@st.cache_data(max_entries=8)
def image_index(data_dir: str, mtime_ns: int) -> dict[int, str]:
    """image_id → file_name from ``<data_dir>/instances.json`` (COCO style)."""
    del mtime_ns
    with open(dataset_folder(data_dir) / "instances.json", encoding="utf-8") as f:
        data = json.load(f)
    return {int(im["id"]): str(im["file_name"]) for im in data.get("images", [])}


def load_image(data_dir: str | None, image_id) -> tuple[np.ndarray | None, str]:
    """The RGB image of ``image_id`` from a refer-format folder, or (None, why not)."""
    if not data_dir:
        return None, "the dump's run.json names no dataset data_dir"
    inst = dataset_folder(data_dir) / "instances.json"
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
    rel = PurePosixPath(name.replace("\\", "/"))
    if rel.is_absolute() or ".." in rel.parts:  # a file name names a file of images/ only
        return None, f"{inst} names image {int(image_id)} outside its images folder ({name})"
    path = dataset_folder(data_dir) / "images" / name
    if not path.is_file():
        return None, f"{path} not found"
    try:
        return read_image(path, exif=False), ""  # the stored pixels, as the masks were drawn
    except InputError as e:
        return None, str(e)
