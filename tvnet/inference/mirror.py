"""Mirror averaging (docs/design.md §7): an answer averaged with the answer for the mirror
image, a test-time augmentation that keeps the meaning.

The network reads the image flipped left to right with the expression's horizontal words
swapped (:func:`tvnet.data.mirror.mirrored`) and the direct answer's neighbour (the one it
shows; ``tvnet eval --mirror`` does the same); its probability map, flipped back, is averaged
with the direct answer's and the mask cut again; a closed-gate map decoded with the answer
(``gate_closed=True``) is averaged the same way, and the influence views compare a
mirror-averaged answer with alternatives averaged alike (:mod:`tvnet.inference.influence`).
Measured on the default (research/flip_tta.py; docs/experiments.md, 2026-12-06): +1.0 val
and test oIoU at twice the time. The maps that explain the answer (attention, gates, A_2) and
its confidence stay those of the direct pass.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from tvnet.data.mirror import mirrored
from tvnet.eval.calibration import mask_score
from tvnet.inference.prediction import Prediction


def mirror_input(image: np.ndarray, expression: str) -> tuple[np.ndarray, str]:
    """The mirror image of ``image`` (H×W×3, flipped left to right) and the expression that
    describes the same referent in it (horizontal words swapped): what the mirror pass reads,
    here and in the influence views' reruns (:mod:`tvnet.inference.influence`)."""
    return np.ascontiguousarray(image[:, ::-1]), mirrored(expression)


def average_with_mirror(predictor: Any, pred: Prediction, image: np.ndarray) -> float:
    """Average ``pred`` (the direct answer for ``image``, the array the model read) in place
    with ``predictor``'s answer for the mirror image, read with ``pred``'s neighbour. Returns
    the direct answer's raw score: the checkpoint's calibration was fitted on direct answers,
    and turns it into a confidence that the average is right about as often as it says
    (research/flip_tta.py), where the average's own score would not (its maps are softer where
    the two passes disagree)."""
    t = time.perf_counter()
    score = mask_score(pred.prob, pred.threshold)
    neighbour = None if pred.neighbour is None else pred.neighbour.index
    other = predictor(
        *mirror_input(image, pred.expression),
        neighbour=neighbour,
        threshold=pred.threshold,
        gate_closed=pred.gate_closed_prob is not None,
        attention=False,
    ).resized(pred.prob.shape)
    prob = (pred.prob + other.prob[:, ::-1]) / 2
    pred.prob = prob.astype(np.float32, copy=False)
    if pred.gate_closed_prob is not None:
        closed = (pred.gate_closed_prob + other.gate_closed_prob[:, ::-1]) / 2
        pred.gate_closed_prob = closed.astype(np.float32, copy=False)
    pred.mask = pred.prob >= pred.threshold
    pred.mirror = True
    pred.timings["mirror"] = (time.perf_counter() - t) * 1000
    return score
