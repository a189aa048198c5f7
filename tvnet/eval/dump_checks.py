"""What :func:`tvnet.eval.dump.load_dump` checks before anything reads a dump's numbers: the
JSON types of the run.json fields the readers use, and the rows' own consistency (docs/design.md
§5). A hand-edited, damaged or foreign dump is refused here, with its file named, instead of
showing wrong numbers in a table or a page far from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tvnet.eval.metrics import SIZE_BINS, _iou_array, size_bins
from tvnet.warmstart import recorded_count

# the columns every metric reads: numeric, never missing
NUMERIC = ("inter", "union", "iou", "gt_area_frac", "height", "width")
# columns that are fractions where present: null (not measured) or within [0, 1] (the
# cosines, image_similarity and neighbour_score, may be negative)
FRACTIONS = ("gt_area_frac", "score", "confidence")


class DumpError(ValueError):
    """A dump folder that cannot be read or written; the message names the file and what is
    wrong (a ValueError, so the CLI prints it as a message)."""


# run.json fields that the readers use, by path, and the JSON types each must have where it
# is present and not null: a hand-edited or damaged dump is refused with its file named
# instead of failing later, in a table or a page, far from it
_RUN_TYPES: dict[tuple[str, ...], tuple[type, ...]] = {
    ("variant",): (str,),
    ("split",): (str,),
    ("pool",): (str,),
    ("protocol",): (dict,),
    ("protocol", "name"): (str,),
    ("protocol", "threshold"): (int, float),
    ("protocol", "resolution"): (str,),
    ("dataset",): (dict, str),
    ("dataset", "name"): (str,),
    ("dataset", "data_dir"): (str,),
    ("dataset", "fingerprint"): (str,),
    ("train",): (dict,),
    ("init",): (dict,),
    ("scored_on",): (dict,),
}


def check_run_types(run: dict[str, Any], run_path: Path) -> None:
    """:class:`DumpError` naming ``run_path`` and the field when a field of
    :data:`_RUN_TYPES` has another type (a bool is no number)."""
    for keys, types in _RUN_TYPES.items():
        v: Any = run
        for k in keys:
            v = v.get(k) if isinstance(v, dict) else None
        if v is None:
            continue
        number = types == (int, float)
        if not isinstance(v, types) or (number and isinstance(v, bool)):
            want = "number" if number else " or ".join(_JSON_NAMES[t] for t in types)
            raise DumpError(
                f"{run_path}: run.json's {'.'.join(keys)} must be a {want}, got {json.dumps(v)[:60]}"
            )


_JSON_NAMES = {str: "string", dict: "JSON object"}


def check_init_steps(run: dict[str, Any], run_path: Path) -> None:
    """:class:`DumpError` when a link of run.json's ``init`` chain (a warm start's) records a
    ``step`` that is no count: training budgets and row names are summed from them."""
    r: Any = run.get("init")
    depth = 0
    while isinstance(r, dict):
        step = r.get("step")
        if step is not None and recorded_count(step) is None:
            raise DumpError(
                f"{run_path}: run.json's init{'.init' * depth}.step must be a count, "
                f"got {json.dumps(step)[:40]}"
            )
        r, depth = r.get("init"), depth + 1


def check_rows(samples: pd.DataFrame, run: dict[str, Any], samples_path: Path) -> None:
    """What the metrics take on trust, checked: each row's ``iou`` is its I / U (1 where U = 0:
    mIoU and Prec@X read it, oIoU the counts), its ``size_bin`` one of :data:`SIZE_BINS` (a
    row in none would count in "All" and in no bucket), the optional influence counts
    0 ≤ I ≤ U, the rows are the ``n_samples`` that run.json records, each sample once, and
    of the split and variant it records (tables group rows by theirs, name them by its).
    Also: the metric columns numeric and never missing, 0 ≤ inter ≤ union, each ``size_bin``
    the one its ``gt_area_frac`` falls in (Table 1's Small column counts the bins), the
    fractions of :data:`FRACTIONS` within [0, 1], every row with a ``sample_id``."""
    for c in NUMERIC:
        if not pd.api.types.is_numeric_dtype(samples[c]):
            raise DumpError(f"{samples_path}: column {c!r} must be numeric, got {samples[c].dtype}")
        if samples[c].isna().any():
            raise DumpError(f"{samples_path}: column {c!r} has missing values")
    if (samples["inter"] > samples["union"]).any() or (samples["inter"] < 0).any():
        raise DumpError(f"{samples_path}: some rows have inter > union or inter < 0")
    iou = samples["iou"].to_numpy(np.float64)
    expected = _iou_array(samples["inter"].to_numpy(), samples["union"].to_numpy())
    bad = np.flatnonzero(np.abs(iou - expected) > 1e-6)
    if bad.size:
        i = bad[0]
        raise DumpError(
            f"{samples_path}: {bad.size} row(s) have an iou that is not inter / union (row {i}: "
            f"iou {iou[i]:g}, inter {samples['inter'].iloc[i]}, union {samples['union'].iloc[i]}"
            "; 1 where union is 0)"
        )
    odd = ~samples["size_bin"].isin(SIZE_BINS)
    if odd.any():
        raise DumpError(
            f"{samples_path}: {int(odd.sum())} row(s) have a size_bin outside "
            f"{', '.join(SIZE_BINS)} (first: {samples['size_bin'][odd].iloc[0]!r})"
        )
    for c in FRACTIONS:
        if c not in samples.columns or not pd.api.types.is_numeric_dtype(samples[c]):
            continue  # absent, or all null (read as objects)
        v = samples[c].to_numpy(np.float64)
        out = np.flatnonzero((v < 0) | (v > 1))  # NaN (not measured) compares False
        if out.size:
            raise DumpError(
                f"{samples_path}: {out.size} row(s) have a {c} outside [0, 1] "
                f"(row {out[0]}: {v[out[0]]:g})"
            )
    wrong = np.flatnonzero(size_bins(samples["gt_area_frac"]) != samples["size_bin"].to_numpy())
    if wrong.size:
        i = wrong[0]
        raise DumpError(
            f"{samples_path}: {wrong.size} row(s) have a size_bin that their gt_area_frac does "
            f"not fall in (row {i}: {samples['size_bin'].iloc[i]!r} for "
            f"{samples['gt_area_frac'].iloc[i]:.4%} of the image)"
        )
    for alt in ("nogate", "randnb"):
        if f"{alt}_inter" not in samples.columns or f"{alt}_union" not in samples.columns:
            continue
        i_, u_ = samples[f"{alt}_inter"], samples[f"{alt}_union"]
        if ((i_ > u_) | (i_ < 0)).any():  # NaN (not measured) compares False
            raise DumpError(f"{samples_path}: some rows have {alt}_inter > {alt}_union or < 0")
    if "sample_id" in samples.columns:
        ids = samples["sample_id"]
        if ids.isna().any():
            raise DumpError(f"{samples_path}: {int(ids.isna().sum())} row(s) have no sample_id")
        if ids.duplicated().any():
            raise DumpError(
                f"{samples_path}: sample_id {ids[ids.duplicated()].iloc[0]} appears more than once"
            )
    for key in ("split", "variant"):
        said = run.get(key)
        if isinstance(said, str) and said and key in samples.columns:
            col = samples[key]
            other = col[col.notna() & (col != "") & (col != said)]  # "": not recorded
            if len(other):
                raise DumpError(
                    f"{samples_path}: {len(other):,} row(s) say {key} {other.iloc[0]!r}, "
                    f"run.json says {said!r}"
                )
    n = recorded_count(run.get("n_samples"))
    if n is None and run.get("n_samples") is not None:
        raise DumpError(
            f"{samples_path}: run.json's n_samples {json.dumps(run['n_samples'])[:40]} is no count"
        )
    if n is not None and n != len(samples):
        raise DumpError(
            f"{samples_path}: {len(samples):,} rows, but run.json records n_samples {n:,} "
            "(a truncated or replaced samples file)"
        )
