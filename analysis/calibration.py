"""How far each variant's confidence can be trusted, from dump rows (docs/design.md §7).

An answer is *right* when its IoU with the referent is at least 0.5
(:data:`tvnet.eval.calibration.CORRECT_IOU`). Per variant and split:

- :func:`reliability_table`: bins of confidence (equal width over [0, 1]) with their number
  of answers, mean confidence and accuracy (the share of right answers): the reliability
  diagram;
- :func:`calibration_summary`: accuracy, mean confidence, the expected calibration error
  (ECE) of the calibrated ``confidence`` and of the raw ``score`` read as a probability
  (before calibration), and the Brier score.

Probabilities are fractions in [0, 1] (not %). Rows without a confidence (dumps written
before the column existed, or of a checkpoint without calibration) are left out; a variant
with none has NaN figures. Torch-free, like every module here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from analysis.tables import concat_samples, variant_key
from tvnet.eval.calibration import BINS, CORRECT_IOU, expected_calibration_error, reliability

__all__ = [
    "RELIABILITY_COLUMNS",
    "SUMMARY_COLUMNS",
    "SUMMARY_NAMES",
    "calibration_summary",
    "reliability_table",
]

NEEDED = ("iou", "score", "confidence", "variant", "split")
RELIABILITY_COLUMNS = (
    "variant",
    "split",
    "bin",
    "lo",
    "hi",
    "n",
    "mean_confidence",
    "accuracy",
)
SUMMARY_COLUMNS = (
    "variant",
    "split",
    "n",
    "n_confidence",
    "accuracy",
    "mean_confidence",
    "ece",
    "ece_score",
    "brier",
)


def _rows(data: Any) -> pd.DataFrame:
    """Dump rows with the columns needed: from dumps (:func:`concat_samples`) or a frame."""
    if isinstance(data, pd.DataFrame):
        df = data
    else:
        df = concat_samples(list(data))
    df = df.copy()
    for c in ("score", "confidence"):
        df[c] = pd.to_numeric(df[c], errors="coerce") if c in df else np.nan
    return df


def variant_groups(df: pd.DataFrame) -> Iterable[tuple[str, str, pd.DataFrame]]:
    """(variant, split, rows) in Table 1's order, then by name with its numbers compared as
    numbers (budgets: 72k before 160k; :func:`analysis.tables.variant_key`); val before
    test. Rows of different datasets never merge: with several datasets loaded, the variant
    reads ``"full (refcoco)"``."""
    if "dataset" in df.columns and df["dataset"].nunique() > 1:
        df = df.assign(variant=df["variant"].astype(str) + " (" + df["dataset"].astype(str) + ")")

    def key(k):
        variant, split = k
        return (variant_key(variant), split != "val", split)

    groups = dict(tuple(df.groupby(["variant", "split"], sort=False)))
    for variant, split in sorted(groups, key=key):
        yield str(variant), str(split), groups[(variant, split)]


def reliability_table(data: Any, bins: int = BINS) -> pd.DataFrame:
    """One row per variant, split and confidence bin (``bins`` equal-width bins, the last
    closed): ``lo``, ``hi``, ``n``, ``mean_confidence``, ``accuracy`` (NaN for an empty bin).
    ``data``: dumps (:class:`tvnet.eval.dump.Dump`) or their concatenated rows."""
    out = []
    for variant, split, g in variant_groups(_rows(data)):
        g = g[g["confidence"].notna()]
        if g.empty:
            continue
        right = g["iou"].to_numpy() >= CORRECT_IOU
        for b, r in enumerate(reliability(g["confidence"].to_numpy(), right, bins)):
            out.append({"variant": variant, "split": split, "bin": b, **r})
    return pd.DataFrame(out, columns=list(RELIABILITY_COLUMNS)).astype(
        {"mean_confidence": float, "accuracy": float}
    )


def calibration_summary(data: Any, bins: int = BINS) -> pd.DataFrame:
    """One row per variant and split: ``n`` answers, ``n_confidence`` of them with a
    confidence, ``accuracy`` (share right, of those with a confidence where any has one, so
    that it compares with ``mean_confidence``), ``mean_confidence``, ``ece`` (of the confidence),
    ``ece_score`` (of the raw score read as a probability: the ECE before calibration) and
    ``brier`` (mean squared error of the confidence)."""
    out = []
    for variant, split, g in variant_groups(_rows(data)):
        right = g["iou"].to_numpy() >= CORRECT_IOU
        conf = g["confidence"].to_numpy(float)
        has = ~np.isnan(conf)
        score = g["score"].to_numpy(float)
        has_score = ~np.isnan(score)
        out.append(
            {
                "variant": variant,
                "split": split,
                "n": int(len(g)),
                "n_confidence": int(has.sum()),
                # of the rows with a confidence where some have one: what it is set against
                "accuracy": float(right[has].mean() if has.any() else right.mean())
                if len(g)
                else np.nan,
                "mean_confidence": float(conf[has].mean()) if has.any() else np.nan,
                "ece": expected_calibration_error(conf[has], right[has], bins)
                if has.any()
                else np.nan,
                "ece_score": expected_calibration_error(score[has_score], right[has_score], bins)
                if has_score.any()
                else np.nan,
                "brier": float(np.mean((conf[has] - right[has]) ** 2)) if has.any() else np.nan,
            }
        )
    return pd.DataFrame(out, columns=list(SUMMARY_COLUMNS))


# the summary's columns as pages and reports name them
SUMMARY_NAMES = {
    "n": "n",
    "n_confidence": "with confidence",
    "accuracy": "accuracy (%)",
    "mean_confidence": "mean confidence (%)",
    "ece": "ECE (%)",
    "ece_score": "ECE before calibration (%)",
    "brier": "Brier",
}
