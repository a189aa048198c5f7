"""tvnet/eval/metrics.py: hand-computed cases, size bins, and streaming = batch = from rows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tvnet.eval.metrics import (
    PREC_KEYS,
    RISEvaluator,
    aggregate,
    iou_counts,
    metrics_from_counts,
    ris_metrics,
    sample_iou,
    size_bin,
    size_bins,
)


def _mask(h, w, on=()):
    m = np.zeros((h, w), bool)
    for y, x in on:
        m[y, x] = True
    return m


def test_iou_counts_hand_computed():
    pred = _mask(2, 3, [(0, 0), (0, 1), (1, 1)])
    gt = _mask(2, 3, [(0, 1), (1, 1), (1, 2)])
    assert iou_counts(pred, gt) == (2, 4)
    assert iou_counts(pred.astype(np.uint8), gt.astype(np.float32)) == (2, 4)


def test_empty_union_has_iou_one_and_empty_prediction_zero():
    assert sample_iou(0, 0) == 1.0
    empty = np.zeros((4, 4), bool)
    gt = _mask(4, 4, [(1, 1), (2, 2)])
    m = ris_metrics([empty, empty], [empty, gt])
    # sample 1: U = 0 → IoU 1; sample 2: nothing predicted → I = 0, U = 2, IoU 0
    assert m["n"] == 2
    assert m["mean_iou"] == 0.5
    assert m["overall_iou"] == 0.0  # ΣI / ΣU = 0 / 2
    assert all(m[k] == 0.5 for k in PREC_KEYS)


def test_all_empty_is_perfect():
    e = np.zeros((3, 3), bool)
    m = ris_metrics([e, e], [e, e])
    assert m["overall_iou"] == 1.0 and m["mean_iou"] == 1.0 and m["prec@0.9"] == 1.0


def test_three_samples_hand_computed():
    # IoUs 1/4 (I=1,U=4), 3/4 (I=3,U=4), 9/10 (I=9,U=10)
    m = metrics_from_counts([1, 3, 9], [4, 4, 10])
    assert m["overall_iou"] == pytest.approx(13 / 18)
    assert m["mean_iou"] == pytest.approx((0.25 + 0.75 + 0.9) / 3)
    assert m["prec@0.5"] == pytest.approx(2 / 3)
    assert m["prec@0.6"] == pytest.approx(2 / 3)
    assert m["prec@0.7"] == pytest.approx(2 / 3)
    assert m["prec@0.8"] == pytest.approx(1 / 3)
    assert m["prec@0.9"] == pytest.approx(1 / 3)  # IoU = 0.9 counts: ≥, not >
    assert m["n"] == 3
    assert set(m) == {"overall_iou", "mean_iou", *PREC_KEYS, "n"}


def test_oiou_differs_from_miou():
    # a big object found well and a small one missed: oIoU high, mIoU 0.5
    m = metrics_from_counts([100, 0], [100, 1])
    assert m["overall_iou"] == pytest.approx(100 / 101)
    assert m["mean_iou"] == 0.5


def test_ris_metrics_on_masks_matches_counts():
    rng = np.random.default_rng(0)
    preds = [rng.random((7, 9)) > 0.5 for _ in range(20)]
    gts = [rng.random((7, 9)) > 0.6 for _ in range(20)]
    counts = [iou_counts(p, g) for p, g in zip(preds, gts)]
    inter = sum(c[0] for c in counts)
    union = sum(c[1] for c in counts)
    m = ris_metrics(iter(preds), iter(gts))
    assert m["overall_iou"] == inter / union
    assert m["mean_iou"] == pytest.approx(np.mean([i / u for i, u in counts]))


def test_empty_input_and_bad_input():
    m = ris_metrics([], [])
    assert m["n"] == 0 and math.isnan(m["overall_iou"])
    with pytest.raises(ValueError, match="differ in length"):
        ris_metrics([np.ones((2, 2))], [])
    with pytest.raises(ValueError, match="shape"):
        iou_counts(np.ones((2, 2)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="2-D"):
        iou_counts(np.ones((1, 2, 2)), np.ones((1, 2, 2)))


def test_size_bins_edges():
    assert size_bin(0.0) == "small"
    assert size_bin(0.0499) == "small"
    assert size_bin(0.05) == "medium"
    assert size_bin(0.0999) == "medium"
    assert size_bin(0.10) == "big"
    assert size_bin(1.0) == "big"
    with pytest.raises(ValueError):
        size_bin(1.5)
    assert list(size_bins([0.01, 0.07, 0.5])) == ["small", "medium", "big"]
    assert list(size_bins(pd.Series([0.05, 0.1]))) == ["medium", "big"]
    for bad in (float("nan"), -0.1, 1.5):  # refused as size_bin refuses them
        with pytest.raises(ValueError, match="in \\[0, 1\\]"):
            size_bins([0.5, bad])
    # the words every page, note and figure says are the edges just checked
    import tvnet

    assert tvnet.SIZE_BIN_RULE == "small < 5 %, medium 5–10 %, big ≥ 10 %"
    assert tvnet.SMALL_RULE == "under 5 %"


def test_aggregate_per_bin_hand_computed():
    df = pd.DataFrame(
        {
            "inter": [1, 3, 9, 0],
            "union": [4, 4, 10, 0],
            "iou": [0.25, 0.75, 0.9, 1.0],
            "size_bin": ["small", "small", "big", "big"],
        }
    )
    a = aggregate(df)
    assert a["n"] == 4
    assert a["overall_iou"] == 13 / 18
    assert a["small/n"] == 2 and a["small/overall_iou"] == 4 / 8 and a["small/prec@0.5"] == 0.5
    assert a["big/n"] == 2 and a["big/overall_iou"] == 0.9 and a["big/mean_iou"] == 0.95
    assert a["medium/n"] == 0 and math.isnan(a["medium/overall_iou"])
    with pytest.raises(ValueError, match="union"):
        aggregate(df.drop(columns="union"))


def _random_records(n, seed=0):
    rng = np.random.default_rng(seed)
    for k in range(n):
        h, w = rng.integers(5, 30, size=2)
        gt = np.zeros((h, w), bool)
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        gt[y0 : y0 + rng.integers(0, h), x0 : x0 + rng.integers(0, w)] = True
        pred = gt.copy() if k % 3 else rng.random((h, w)) > 0.8
        if k % 7 == 0:
            pred[:] = False
        yield {"pred": pred, "gt": gt, "sample_id": k, "sentence": f"thing {k}"}


def test_streaming_evaluator_equals_batch():
    records = list(_random_records(60))
    batch = ris_metrics([r["pred"] for r in records], [r["gt"] for r in records])
    ev = RISEvaluator(variant="full", split="val")
    for start in range(0, 60, 7):  # uneven batches
        ev.process(records[start : start + 7])
    streamed = ev.evaluate()
    for k, v in batch.items():
        assert streamed[k] == v, k
    # per-bin results match the batch metrics of each bin
    fracs = [r["gt"].mean() for r in records]
    for name in ("small", "medium", "big"):
        sel = [r for r, f in zip(records, fracs) if size_bin(f) == name]
        ref = ris_metrics([r["pred"] for r in sel], [r["gt"] for r in sel])
        assert streamed[f"{name}/n"] == ref["n"]
        if ref["n"]:
            assert streamed[f"{name}/overall_iou"] == ref["overall_iou"]
    ev.reset()
    assert ev.evaluate()["n"] == 0


def test_a_record_given_the_images_own_area_share_is_binned_by_it():
    """Masks scored at the model's input size (``--resolution input``) carry the referent's
    share of the full-size image: 20 of 400 pixels is 5 % (medium) here, but the record says
    4.9 % of the image itself, so it is small."""
    gt = np.zeros((20, 20), bool)
    gt[0, :20] = True
    ev = RISEvaluator()
    ev.process([{"pred": gt, "gt": gt}, {"pred": gt, "gt": gt, "gt_area_frac": 0.049}])
    out = ev.evaluate()
    assert out["medium/n"] == 1 and out["small/n"] == 1


def test_evaluator_requires_masks():
    with pytest.raises(KeyError, match="pred"):
        RISEvaluator().process([{"gt": np.ones((2, 2))}])
