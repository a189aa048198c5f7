"""Calibrated confidence (docs/design.md §7): a raw mask-quality score per answer, and its map
onto P(IoU ≥ 0.5 | score) fitted post hoc on the model's own val dump.

Torch-free (numpy only), so the evaluator, the Predictor, ``tvnet calibrate`` and the
analysis code share it:

- :func:`mask_score`: the raw score of one probability map (SAM's stability score, the anchor
  that segment-anything's predicted IoU is filtered by; chosen by measurement, §7);
- :func:`fit_platt`, :func:`fit_isotonic` and :func:`fit_calibration` (which picks between them
  by cross-validation on val): a :class:`Calibration`, saved as ``CKPT/calibration.json``;
- :func:`reliability` and :func:`expected_calibration_error`: the reliability table and ECE
  of any confidences against outcomes.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tvnet.config import MASK_THRESHOLD

CALIBRATION_FILE = "calibration.json"
CORRECT_IOU = 0.5  # an answer is "right" when its IoU with the referent is at least this
STABILITY_OFFSET = 1.0  # logits either side of the threshold (segment-anything's value)
BINS = 10
METHODS = ("platt", "isotonic")
_EPS = 1e-6

__all__ = [
    "BINS",
    "CALIBRATION_FILE",
    "CORRECT_IOU",
    "Calibration",
    "expected_calibration_error",
    "fit_calibration",
    "fit_isotonic",
    "fit_platt",
    "load_calibration",
    "mask_score",
    "reliability",
]


def mask_score(
    prob: np.ndarray, threshold: float = MASK_THRESHOLD, offset: float = STABILITY_OFFSET
) -> float:
    """The raw quality score of one answer: SAM's stability score, the IoU of the masks at
    logit ≥ t + ``offset`` and at logit ≥ t − ``offset`` (t the threshold's logit; the first
    lies inside the second, so the IoU is the ratio of their areas). 1 when the map is sharp
    around the mask, near 0 when its outline moves with the threshold; 0 for an empty answer
    (the wider mask empty)."""
    p = np.asarray(prob, np.float32)
    threshold = min(max(float(threshold), 1e-6), 1 - 1e-6)  # a logit exists at 0 and 1 too
    t = math.log(threshold / (1 - threshold))
    hi = float(np.count_nonzero(p >= 1 / (1 + math.exp(-(t + offset)))))
    lo = float(np.count_nonzero(p >= 1 / (1 + math.exp(-(t - offset)))))
    return hi / lo if lo else 0.0


def _logit(x: np.ndarray) -> np.ndarray:
    x = np.clip(np.asarray(x, np.float64), _EPS, 1 - _EPS)
    return np.log(x / (1 - x))


def fit_platt(score: np.ndarray, correct: np.ndarray) -> tuple[float, float]:
    """Platt scaling: P(correct) = σ(a · score + b), fitted by Newton's method (with step
    halving) on the log loss with Platt's smoothed targets ((N₊+1)/(N₊+2) and 1/(N₋+2)),
    which keep a and b finite on separable data. The score enters as it is, bounded in
    [0, 1], not through its logit: empty answers (0) and perfectly stable ones (1) would
    otherwise sit at ±∞. Returns (a, b)."""
    x = np.asarray(score, np.float64)
    y = np.asarray(correct, bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    t = np.where(y, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    X = np.stack([x, np.ones_like(x)], 1)

    def loss(w: np.ndarray) -> float:
        z = X @ w  # log(1 + e^z) − t·z, computed stably
        return float(np.sum(np.logaddexp(0, z) - t * z))

    w = np.array([0.0, math.log((n_pos + 1) / (n_neg + 1))])
    current = loss(w)
    for _ in range(100):
        p = 1 / (1 + np.exp(-np.clip(X @ w, -500, 500)))
        grad = X.T @ (p - t)
        hess = X.T @ (X * (p * (1 - p))[:, None]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        lr = 1.0
        while lr > 1e-6 and loss(w - lr * step) > current:
            lr /= 2
        w = w - lr * step
        new = loss(w)
        if abs(current - new) < 1e-12 * max(1.0, abs(current)):
            break
        current = new
    return float(w[0]), float(w[1])


def fit_isotonic(score: np.ndarray, correct: np.ndarray) -> tuple[list[float], list[float]]:
    """Isotonic regression (pool adjacent violators) of the outcome on the score: a
    non-decreasing step map, returned as knots (x, y) that :class:`Calibration` interpolates
    linearly between (flat beyond the ends), as scikit-learn's ``IsotonicRegression`` does."""
    x = np.asarray(score, np.float64)
    y = np.asarray(correct, np.float64)
    order = np.lexsort((y, x))
    x, y = x[order], y[order]
    # merge equal scores first: one block each, weighted by its count
    ux, start = np.unique(x, return_index=True)
    w = np.diff(np.append(start, len(x))).astype(np.float64)
    v = np.add.reduceat(y, start) / w
    vals, wts, lo, hi = [], [], [], []
    for i in range(len(ux)):
        vals.append(v[i])
        wts.append(w[i])
        lo.append(ux[i])
        hi.append(ux[i])
        while len(vals) > 1 and vals[-2] >= vals[-1]:
            wsum = wts[-2] + wts[-1]
            vals[-2] = (vals[-2] * wts[-2] + vals[-1] * wts[-1]) / wsum
            wts[-2] = wsum
            hi[-2] = hi[-1]
            del vals[-1], wts[-1], lo[-1], hi[-1]
    # each block is flat from its lowest to its highest score
    kx, ky = [], []
    for a, b, val in zip(lo, hi, vals):
        kx.append(float(a))
        ky.append(float(val))
        if b > a:
            kx.append(float(b))
            ky.append(float(val))
    return kx, ky


@dataclass
class Calibration:
    """A fitted map score → P(IoU ≥ 0.5), with what it was fitted on and the warning
    thresholds measured on the same val dump (docs/design.md §7). ``params``: ``{"a", "b"}``
    for Platt scaling, ``{"x", "y"}`` (knots) for isotonic regression."""

    method: str
    params: dict[str, Any]
    feature: str = "stability"
    fitted_on: dict[str, Any] = field(default_factory=dict)
    ece_before: float | None = None
    ece_after: float | None = None
    reliability: list[dict[str, Any]] = field(default_factory=list)
    image_similarity: dict[str, float] | None = None  # q01, q05, median on val
    mask_area: dict[str, float] | None = None  # referent area / image area on val: q01, min
    selection: dict[str, Any] = field(default_factory=dict)  # cross-validated scores
    checkpoint_hash: str = ""  # weights_sha256 of the checkpoint it belongs to
    written_by: str = "tvnet calibrate"

    def __post_init__(self) -> None:
        """Check what use relies on, so that a damaged file fails when it is loaded, with the
        reason, and not at every answer."""
        if self.method not in METHODS:
            raise ValueError(f"unknown calibration method {self.method!r}; one of {METHODS}")
        if self.method == "platt":
            for k in ("a", "b"):
                if not _is_number(self.params.get(k)):
                    raise ValueError(
                        f"platt parameter {k!r} is {self.params.get(k)!r}, not a number"
                    )
        else:
            x, y = self.params.get("x"), self.params.get("y")
            if not (isinstance(x, list) and isinstance(y, list) and len(x) == len(y) >= 1):
                raise ValueError("isotonic parameters x and y must be lists of one length ≥ 1")
            if not all(map(_is_number, x + y)) or any(b < a for a, b in zip(x, x[1:])):
                raise ValueError("isotonic x must be non-decreasing numbers, y numbers")
        t = self.threshold
        if not (_is_number(t) and 0 < t < 1):
            raise ValueError(f"fitted_on.threshold is {t!r}, not a number in (0, 1)")
        for name in ("image_similarity", "mask_area"):
            v = getattr(self, name)
            if v is not None and not (
                isinstance(v, dict) and all(_is_number(q) or q is None for q in v.values())
            ):
                raise ValueError(f"{name} must be a mapping of numbers or null, not {v!r}")

    @property
    def threshold(self) -> Any:
        """The mask threshold the map was fitted at (as recorded; the protocol's when absent)."""
        return self.fitted_on.get("threshold", MASK_THRESHOLD)

    def not_of(self, weights_sha256: str | None) -> str | None:
        """Why this map is not the one of the weights ``weights_sha256`` (a checkpoint's
        ``weights_sha256``), or None when it is: fitted on other weights, or recording none
        (hand-made, or older), so that it cannot be told to be of these."""
        if self.checkpoint_hash and self.checkpoint_hash == weights_sha256:
            return None
        return "belongs to other weights" if self.checkpoint_hash else "records no weights hash"

    def applies_to(self, threshold: float) -> bool:
        """Whether this map holds for masks cut at ``threshold``: the raw score depends on the
        threshold, so a confidence exists only at the one it was fitted at."""
        try:
            return abs(float(threshold) - float(self.threshold)) < 1e-9
        except (TypeError, ValueError):  # a damaged record (null, text): no threshold to match
            return False

    def __call__(self, score: float | np.ndarray) -> float | np.ndarray:
        """Confidence in [0, 1] for a raw score (scalar or array)."""
        s = np.asarray(score, np.float64)
        if self.method == "platt":
            z = np.clip(self.params["a"] * s + self.params["b"], -500, 500)
            out = 1 / (1 + np.exp(-z))
        else:
            out = np.interp(s, self.params["x"], self.params["y"])
        out = np.clip(out, 0.0, 1.0)
        return float(out) if out.ndim == 0 else out

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "feature": self.feature,
            "params": self.params,
            "fitted_on": self.fitted_on,
            "ece_before": self.ece_before,
            "ece_after": self.ece_after,
            "reliability": self.reliability,
            "image_similarity": self.image_similarity,
            "mask_area": self.mask_area,
            "selection": self.selection,
            "checkpoint_hash": self.checkpoint_hash,
            "written_by": self.written_by,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibration:
        try:
            return cls(
                method=d["method"],
                params=dict(d["params"]),
                feature=d.get("feature", "stability"),
                fitted_on=dict(d.get("fitted_on") or {}),
                ece_before=d.get("ece_before"),
                ece_after=d.get("ece_after"),
                reliability=list(d.get("reliability") or []),
                image_similarity=d.get("image_similarity"),
                mask_area=d.get("mask_area"),
                selection=dict(d.get("selection") or {}),
                checkpoint_hash=d.get("checkpoint_hash") or "",
                written_by=d.get("written_by", ""),
            )
        except (KeyError, TypeError) as e:
            raise ValueError(f"not a calibration record: {e}") from e

    def save(self, checkpoint: str | os.PathLike) -> Path:
        """Write ``CHECKPOINT/calibration.json`` atomically."""
        from tvnet.io import atomic_write_json

        path = Path(checkpoint) / CALIBRATION_FILE
        atomic_write_json(path, _finite(self.to_dict()))
        return path


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _finite(obj: Any) -> Any:
    """NaN/inf → None (JSON has neither)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def load_calibration(checkpoint: str | os.PathLike) -> Calibration | None:
    """The calibration stored with a checkpoint folder, or None when it has none. A file that
    cannot be read raises ValueError naming it."""
    from tvnet.io import read_json

    path = Path(checkpoint) / CALIBRATION_FILE
    if not path.is_file():
        return None
    try:
        return Calibration.from_dict(read_json(path, "calibration"))
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from e


# ---------------------------------------------------------------------------------------------
# reliability


def reliability(
    confidence: np.ndarray, correct: np.ndarray, bins: int = BINS
) -> list[dict[str, Any]]:
    """The reliability table: ``bins`` equal-width bins of confidence over [0, 1] (the last one
    closed), each with ``lo``, ``hi``, ``n``, ``mean_confidence`` and ``accuracy`` (the share
    of right answers; both None for an empty bin). NaN confidences are left out."""
    c = np.asarray(confidence, np.float64)
    y = np.asarray(correct, np.float64)
    keep = ~np.isnan(c)
    c, y = c[keep], y[keep]
    which = np.clip((c * bins).astype(int), 0, bins - 1)
    rows = []
    for b in range(bins):
        sel = which == b
        n = int(sel.sum())
        rows.append(
            {
                "lo": b / bins,
                "hi": (b + 1) / bins,
                "n": n,
                "mean_confidence": float(c[sel].mean()) if n else None,
                "accuracy": float(y[sel].mean()) if n else None,
            }
        )
    return rows


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = BINS
) -> float:
    """ECE = Σ_bins (n_b / N) · |accuracy_b − mean confidence_b| over :func:`reliability`'s
    bins; NaN when there is no confidence."""
    rows = reliability(confidence, correct, bins)
    n = sum(r["n"] for r in rows)
    if not n:
        return math.nan
    return float(
        sum(r["n"] / n * abs(r["accuracy"] - r["mean_confidence"]) for r in rows if r["n"])
    )


def brier(confidence: np.ndarray, correct: np.ndarray) -> float:
    c = np.asarray(confidence, np.float64)
    return float(np.mean((c - np.asarray(correct, np.float64)) ** 2))


def log_loss(confidence: np.ndarray, correct: np.ndarray) -> float:
    c = np.clip(np.asarray(confidence, np.float64), 1e-4, 1 - 1e-4)
    y = np.asarray(correct, bool)
    return float(-np.mean(np.where(y, np.log(c), np.log(1 - c))))


def _fit(method: str, score: np.ndarray, correct: np.ndarray) -> Calibration:
    if method == "platt":
        a, b = fit_platt(score, correct)
        return Calibration("platt", {"a": a, "b": b})
    x, y = fit_isotonic(score, correct)
    return Calibration("isotonic", {"x": x, "y": y})


def cross_validate(
    score: np.ndarray, correct: np.ndarray, folds: int = 5, seed: int = 0
) -> dict[str, dict[str, float]]:
    """Each method's out-of-fold log loss, Brier score and ECE (``folds`` folds of a seeded
    permutation): what :func:`fit_calibration` chooses by."""
    score = np.asarray(score, np.float64)
    correct = np.asarray(correct, bool)
    fold = np.random.default_rng(seed).permutation(len(score)) % folds
    out = {}
    for method in METHODS:
        pred = np.empty(len(score))
        for k in range(folds):
            test = fold == k
            pred[test] = _fit(method, score[~test], correct[~test])(score[test])
        out[method] = {
            "log_loss": log_loss(pred, correct),
            "brier": brier(pred, correct),
            "ece": expected_calibration_error(pred, correct),
        }
    return out


def fit_calibration(
    score: np.ndarray, correct: np.ndarray, method: str = "auto", folds: int = 5
) -> Calibration:
    """Fit the map score → P(correct) on all rows. ``method``: ``"platt"``, ``"isotonic"``,
    or ``"auto"``: the one with the lower cross-validated log loss (ties: Platt, the smoother
    map). The result records ECE before (the raw score read as a probability) and after (in
    sample), its reliability table and the cross-validation figures."""
    score = np.asarray(score, np.float64)
    correct = np.asarray(correct, bool)
    if len(score) < 2 * folds or correct.all() or not correct.any():
        raise ValueError(
            f"cannot calibrate on {len(score)} answers of which {int(correct.sum())} are right: "
            "need both right and wrong answers, and at least 10"
        )
    cv = cross_validate(score, correct, folds)
    if method == "auto":
        method = min(METHODS, key=lambda m: (round(cv[m]["log_loss"], 6), METHODS.index(m)))
    if method not in METHODS:
        raise ValueError(f"unknown calibration method {method!r}; one of auto, {METHODS}")
    cal = _fit(method, score, correct)
    conf = cal(score)
    cal.ece_before = expected_calibration_error(score, correct)
    cal.ece_after = expected_calibration_error(conf, correct)
    cal.reliability = reliability(conf, correct)
    cal.selection = {"folds": folds, "cross_validated": cv, "chosen": method}
    return cal
