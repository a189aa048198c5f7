"""RIS metrics of docs/design.md §5: oIoU, mIoU, Prec@X and size buckets, batch and streaming.

Per sample: I = |pred ∧ gt|, U = |pred ∨ gt|, IoU = I / U, and a sample with U = 0 (empty
prediction on an empty ground truth) has IoU 1. Over a set of samples:

- ``overall_iou`` (oIoU, a.k.a. cIoU) = ΣI / ΣU,
- ``mean_iou`` (mIoU, a.k.a. gIoU for single-target data) = mean of the per-sample IoU,
- ``prec@X`` for X in 0.5 … 0.9 = share of samples with IoU ≥ X,
- ``n`` = number of samples.

All rates are fractions in [0, 1]. An empty set of samples gives ``n = 0`` and NaN rates.

Every entry point (:func:`ris_metrics` on masks, :func:`aggregate` on dump rows and
:class:`RISEvaluator` streaming) goes through the same function on the same numbers — integer
I and U, float64 IoU = I / U, and ``math.fsum`` for the mean — so a dump's aggregates
recompute *exactly* from its rows.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from tvnet.config import (  # the protocol's size bins (design.md §5)
    MEDIUM_MAX,
    SIZE_BIN_RULE,
    SMALL_MAX,
    SMALL_RULE,
)
from tvnet.eval.rle import encode_rle

PREC_THRESHOLDS: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9)
PREC_KEYS: tuple[str, ...] = tuple(f"prec@{t:g}" for t in PREC_THRESHOLDS)
# the Prec@X points of a precision curve (the dashboard's and the report's figures)
CURVE_THRESHOLDS: tuple[float, ...] = tuple(
    float(t) for t in np.round(np.arange(0.05, 1.0001, 0.05), 2)
)
METRIC_KEYS: tuple[str, ...] = ("overall_iou", "mean_iou", *PREC_KEYS, "n")
SIZE_BINS: tuple[str, ...] = ("small", "medium", "big")

__all__ = [
    "PREC_THRESHOLDS",
    "CURVE_THRESHOLDS",
    "PREC_KEYS",
    "METRIC_KEYS",
    "SIZE_BINS",
    "SIZE_BIN_RULE",
    "SMALL_RULE",
    "iou_counts",
    "sample_iou",
    "ris_metrics",
    "metrics_from_counts",
    "size_bin",
    "size_bins",
    "aggregate",
    "RISEvaluator",
]


def _as_bool_mask(m: Any, what: str) -> np.ndarray:
    a = np.asarray(m)
    if a.ndim != 2:
        raise ValueError(f"{what} must be a 2-D mask (H×W), got shape {a.shape}")
    return a.astype(bool, copy=False)


def iou_counts(pred: Any, gt: Any) -> tuple[int, int]:
    """(I, U) of two H×W boolean masks (anything ``np.asarray`` turns into one)."""
    p = _as_bool_mask(pred, "pred")
    g = _as_bool_mask(gt, "gt")
    if p.shape != g.shape:
        raise ValueError(f"pred {p.shape} and gt {g.shape} masks differ in shape")
    inter = int(np.count_nonzero(p & g))
    union = int(np.count_nonzero(p | g))
    return inter, union


def sample_iou(inter: int, union: int) -> float:
    """I / U, and 1.0 where U = 0 (nothing predicted, nothing to find)."""
    return float(inter) / float(union) if union > 0 else 1.0


def _iou_array(inter: np.ndarray, union: np.ndarray) -> np.ndarray:
    inter = np.asarray(inter, dtype=np.float64)
    union = np.asarray(union, dtype=np.float64)
    out = np.ones_like(inter)
    np.divide(inter, union, out=out, where=union > 0)
    return out


def _metrics(inter: np.ndarray, union: np.ndarray, iou: np.ndarray) -> dict[str, float | int]:
    """The one place the metrics are computed (see module docstring)."""
    n = int(len(iou))
    if n == 0:
        return {**{k: math.nan for k in METRIC_KEYS if k != "n"}, "n": 0}
    sum_i = int(np.sum(np.asarray(inter, dtype=np.int64)))
    sum_u = int(np.sum(np.asarray(union, dtype=np.int64)))
    iou = np.asarray(iou, dtype=np.float64)
    out: dict[str, float | int] = {
        # ΣU = 0 only when every sample is empty-on-empty, each with IoU 1
        "overall_iou": sum_i / sum_u if sum_u > 0 else 1.0,
        "mean_iou": math.fsum(iou.tolist()) / n,
    }
    for key, t in zip(PREC_KEYS, PREC_THRESHOLDS):
        out[key] = int(np.count_nonzero(iou >= t)) / n
    out["n"] = n
    return out


def metrics_from_counts(inter: Iterable[int], union: Iterable[int]) -> dict[str, float | int]:
    """Metrics from per-sample I and U counts."""
    i = np.fromiter(inter, dtype=np.int64)
    u = np.fromiter(union, dtype=np.int64)
    if i.shape != u.shape:
        raise ValueError(f"{len(i)} inter counts but {len(u)} union counts")
    if np.any(i > u) or np.any(i < 0):
        raise ValueError("every count must satisfy 0 ≤ inter ≤ union")
    return _metrics(i, u, _iou_array(i, u))


def ris_metrics(preds: Iterable[Any], gts: Iterable[Any]) -> dict[str, float | int]:
    """oIoU, mIoU, Prec@0.5…0.9 and n for paired iterables of H×W boolean masks.

    >>> ris_metrics([np.ones((2, 2), bool)], [np.eye(2, dtype=bool)])["overall_iou"]
    0.5
    """
    inter: list[int] = []
    union: list[int] = []
    try:
        for p, g in zip(preds, gts, strict=True):
            i, u = iou_counts(p, g)
            inter.append(i)
            union.append(u)
    except ValueError as e:
        if "zip()" in str(e):
            raise ValueError(f"preds and gts differ in length (one ends after {len(inter)})") from e
        raise
    return metrics_from_counts(inter, union)


def size_bin(gt_area_frac: float) -> str:
    """ "small" (< 5 % of the image), "medium" (5–10 %) or "big" (≥ 10 %)."""
    if not (0.0 <= gt_area_frac <= 1.0):
        raise ValueError(f"gt_area_frac must be in [0, 1], got {gt_area_frac}")
    if gt_area_frac < SMALL_MAX:
        return "small"
    if gt_area_frac < MEDIUM_MAX:
        return "medium"
    return "big"


def size_bins(gt_area_frac: Iterable[float]) -> np.ndarray:
    """Vectorised :func:`size_bin` (an object array of bin names)."""
    if not hasattr(gt_area_frac, "__len__"):
        gt_area_frac = list(gt_area_frac)
    f = np.asarray(gt_area_frac, dtype=np.float64)
    bad = ~((f >= 0.0) & (f <= 1.0))  # NaN included, as size_bin refuses it
    if bad.any():
        raise ValueError(f"gt_area_frac must be in [0, 1], got {f[bad][0]}")
    codes = np.digitize(f, [SMALL_MAX, MEDIUM_MAX])
    return np.asarray(SIZE_BINS, dtype=object)[codes]


def _with_bins(
    inter: np.ndarray, union: np.ndarray, iou: np.ndarray, bins: np.ndarray | None
) -> dict[str, float | int]:
    out = _metrics(inter, union, iou)
    if bins is not None:
        for name in SIZE_BINS:
            sel = bins == name
            for key, value in _metrics(inter[sel], union[sel], iou[sel]).items():
                out[f"{name}/{key}"] = value
    return out


def aggregate(df: Any) -> dict[str, float | int]:
    """Recompute the metrics from dump rows (a DataFrame with ``inter``, ``union``, ``iou``).

    With a ``size_bin`` column the result also holds every metric per bucket, keyed
    ``"small/overall_iou"``, ``"medium/prec@0.5"``, … (``n = 0`` and NaN for an empty bucket).
    """
    missing = [c for c in ("inter", "union", "iou") if c not in df.columns]
    if missing:
        raise ValueError(f"rows lack the column(s) {missing} needed to aggregate")
    inter = df["inter"].to_numpy(dtype=np.int64)
    union = df["union"].to_numpy(dtype=np.int64)
    iou = df["iou"].to_numpy(dtype=np.float64)
    bins = df["size_bin"].to_numpy(dtype=object) if "size_bin" in df.columns else None
    return _with_bins(inter, union, iou, bins)


# Fields a dump may lack (written before they existed; read as null): the expression type, and
# how far to trust the answer and what it owes to the neighbour (docs/design.md §5, §7).
# What the answer owes to its neighbour: the mask with the gate closed and with a random pool
# image as neighbour, each as I and U against the ground truth and IoU with the answer.
INFLUENCE_FIELDS: tuple[str, ...] = (
    "nogate_inter",
    "nogate_union",
    "nogate_iou",
    "randnb_inter",
    "randnb_union",
    "randnb_iou",
)
OPTIONAL_FIELDS: tuple[str, ...] = (
    "expression_type",
    "read_as",
    "score",
    "confidence",
    "image_similarity",
    *INFLUENCE_FIELDS,
)
# Record fields copied into a dump row as they are (missing ones become null).
_META_FIELDS = (
    "sample_id",
    "ref_id",
    "sent_id",
    "image_id",
    "sentence",
    "neighbour_image_id",
    "neighbour_sentence",
    "neighbour_score",
    *OPTIONAL_FIELDS,
)


class RISEvaluator:
    """Streaming evaluator with detectron2's protocol: ``reset()``, ``process(records)``, ``evaluate()``.

    Each record is a mapping with the boolean masks ``pred`` and ``gt`` (H×W, at the original
    image resolution) and optionally the metadata of a dump row: ``sample_id``, ``ref_id``,
    ``sent_id``, ``image_id``, ``sentence``, ``neighbour_image_id``, ``neighbour_sentence``,
    ``neighbour_score``, ``expression_type``, ``read_as``, and the confidence and influence columns of
    :data:`tvnet.eval.dump.OPTIONAL_COLUMNS` (computed by the caller), and ``gt_area_frac``,
    the referent's share of the image at its own size when the masks are scored at another
    (without it, the share of ``gt``; it picks the size bin). The masks are reduced to I, U (and RLE strings
    when a dump is written) at once, so memory holds a few scalars per sample and never the
    masks.

    With ``dump`` (a :class:`tvnet.eval.dump_writer.DumpWriter`), every processed sample becomes a
    row of the dump, written in chunks as evaluation goes. The caller closes the writer (it
    records ``evaluate()``'s metrics in ``run.json``).
    """

    def __init__(self, variant: str = "", split: str = "", dump: Any | None = None) -> None:
        self.variant = variant
        self.split = split
        self.dump = dump
        self.reset()

    def reset(self) -> None:
        self._inter = array("q")
        self._union = array("q")
        self._bin = array("b")  # index into SIZE_BINS

    def __len__(self) -> int:
        return len(self._inter)

    def process(self, records: Iterable[Mapping[str, Any]]) -> None:
        rows = []
        for rec in records:
            if "pred" not in rec or "gt" not in rec:
                raise KeyError("each record needs boolean masks under 'pred' and 'gt'")
            pred = _as_bool_mask(rec["pred"], "pred")
            gt = _as_bool_mask(rec["gt"], "gt")
            inter, union = iou_counts(pred, gt)
            h, w = gt.shape
            frac = rec.get("gt_area_frac")  # the evaluator's, of the image at its own size
            if frac is None:
                frac = float(np.count_nonzero(gt)) / float(h * w)
            bin_name = size_bin(float(frac))
            self._inter.append(inter)
            self._union.append(union)
            self._bin.append(SIZE_BINS.index(bin_name))
            if self.dump is not None:
                row = {k: rec.get(k) for k in _META_FIELDS}
                if row["sample_id"] is None:
                    row["sample_id"] = len(self._inter) - 1
                row.update(
                    inter=inter,
                    union=union,
                    iou=sample_iou(inter, union),
                    gt_area_frac=frac,
                    size_bin=bin_name,
                    height=h,
                    width=w,
                    pred_rle=encode_rle(pred)[0],
                    gt_rle=encode_rle(gt)[0],
                    variant=rec.get("variant", self.variant),
                    split=rec.get("split", self.split),
                )
                rows.append(row)
        if rows:
            self.dump.write_rows(rows)

    def evaluate(self) -> dict[str, float | int]:
        """Metrics over everything processed since ``reset()``, overall and per size bucket."""
        inter = np.frombuffer(self._inter, dtype=np.int64) if len(self) else np.zeros(0, np.int64)
        union = np.frombuffer(self._union, dtype=np.int64) if len(self) else np.zeros(0, np.int64)
        codes = np.frombuffer(self._bin, dtype=np.int8) if len(self) else np.zeros(0, np.int8)
        bins = np.asarray(SIZE_BINS, dtype=object)[codes]
        return _with_bins(inter, union, _iou_array(inter, union), bins)
