import json
import math

import numpy as np
import pytest

from tvnet.eval.calibration import (
    CALIBRATION_FILE,
    Calibration,
    cross_validate,
    expected_calibration_error,
    fit_calibration,
    fit_isotonic,
    fit_platt,
    load_calibration,
    mask_score,
    reliability,
)


def _sigmoid(z):
    return 1 / (1 + math.exp(-z))


def test_mask_score_is_the_stability_iou_by_hand():
    # logit offsets ±1 around 0.5: masks at p ≥ σ(1) = 0.731 and p ≥ σ(−1) = 0.269
    p = np.array([[0.99, 0.8, 0.6, 0.4], [0.3, 0.2, 0.1, 0.0]], np.float32)
    # inner mask: 0.99, 0.8 → 2 pixels; outer: 0.99, 0.8, 0.6, 0.4, 0.3 → 5 pixels
    assert mask_score(p) == pytest.approx(2 / 5)
    assert mask_score(np.zeros((4, 4))) == 0.0  # nothing above either threshold: empty answer
    sharp = np.where(np.arange(16).reshape(4, 4) < 5, 0.999, 0.001)
    assert mask_score(sharp) == 1.0  # the outline does not move with the threshold
    # another threshold moves both cut-offs: t = 0.3 → σ(logit(0.3) ± 1)
    lo, hi = _sigmoid(math.log(0.3 / 0.7) - 1), _sigmoid(math.log(0.3 / 0.7) + 1)
    assert 0.1 < lo < 0.2 and 0.5 < hi < 0.6
    # the outer mask gains 0.2 (6 pixels), the inner one 0.6 (3 pixels)
    assert mask_score(p, threshold=0.3) == pytest.approx(3 / 6)


def test_reliability_and_ece_by_hand():
    conf = np.array([0.05, 0.15, 0.15, 0.95, 0.95, 0.95, 0.95, 1.0])
    right = np.array([0, 0, 1, 1, 1, 1, 0, 1], bool)
    rows = reliability(conf, right)
    assert len(rows) == 10 and rows[0]["lo"] == 0.0 and rows[-1]["hi"] == 1.0
    assert [r["n"] for r in rows] == [1, 2, 0, 0, 0, 0, 0, 0, 0, 5]  # 1.0 lands in the last bin
    assert rows[1]["accuracy"] == 0.5 and rows[1]["mean_confidence"] == pytest.approx(0.15)
    assert rows[2]["accuracy"] is None and rows[2]["mean_confidence"] is None
    assert rows[9]["accuracy"] == pytest.approx(0.8)
    want = (1 * 0.05 + 2 * abs(0.5 - 0.15) + 5 * abs(0.8 - 0.96)) / 8
    assert expected_calibration_error(conf, right) == pytest.approx(want)
    assert math.isnan(expected_calibration_error(np.array([np.nan]), np.array([True])))


def test_isotonic_is_the_pooled_adjacent_violators_solution():
    x = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    y = np.array([0, 1, 0, 0, 1, 1], bool)
    kx, ky = fit_isotonic(x, y)
    # 0 | (1, 0, 0) pooled to 1/3 | 1, 1
    cal = Calibration("isotonic", {"x": kx, "y": ky})
    np.testing.assert_allclose(cal(x), [0, 1 / 3, 1 / 3, 1 / 3, 1, 1])
    assert np.all(np.diff(cal(np.linspace(0, 1, 101))) >= 0)  # monotone everywhere
    assert cal(0.0) == 0.0 and cal(1.0) == 1.0  # flat beyond the ends
    # ties in the score are one block: the mean of their outcomes
    kx, ky = fit_isotonic(np.array([0.5, 0.5, 0.5, 0.9]), np.array([1, 0, 0, 1], bool))
    assert Calibration("isotonic", {"x": kx, "y": ky})(0.5) == pytest.approx(1 / 3)


def test_platt_recovers_a_logistic_truth():
    rng = np.random.default_rng(0)
    s = rng.uniform(0, 1, 20000)
    right = rng.uniform(0, 1, s.size) < 1 / (1 + np.exp(-(6 * s - 3)))
    a, b = fit_platt(s, right)
    assert a == pytest.approx(6, abs=0.3) and b == pytest.approx(-3, abs=0.2)
    # separable data: Platt's smoothed targets keep the parameters finite
    a, b = fit_platt(np.array([0.1, 0.2, 0.8, 0.9]), np.array([0, 0, 1, 1], bool))
    assert math.isfinite(a) and math.isfinite(b) and a > 0


def test_fit_chooses_by_cross_validation_and_records_it(tmp_path):
    rng = np.random.default_rng(1)
    s = rng.uniform(0, 1, 2000)
    right = rng.uniform(0, 1, s.size) < s**3  # a convex truth: neither map is exact
    cal = fit_calibration(s, right)
    cv = cross_validate(s, right)
    assert cal.selection["cross_validated"] == cv
    best = min(cv, key=lambda m: cv[m]["log_loss"])
    assert cal.method == cal.selection["chosen"] == best
    assert cal.ece_before == pytest.approx(expected_calibration_error(s, right))
    assert cal.ece_after < cal.ece_before  # s itself overstates a truth of s³
    assert fit_calibration(s, right, "platt").method == "platt"
    with pytest.raises(ValueError, match="right and wrong"):
        fit_calibration(s, np.ones(s.size, bool))

    cal.image_similarity = {"q01": 0.4, "q05": 0.5, "median": 0.7}
    cal.checkpoint_hash = "abc"
    path = cal.save(tmp_path)
    assert path == tmp_path / CALIBRATION_FILE
    raw = json.loads(path.read_text())
    assert {"method", "feature", "params", "fitted_on", "ece_before", "ece_after"} <= set(raw)
    assert raw["written_by"] == "tvnet calibrate" and len(raw["reliability"]) == 10
    back = load_calibration(tmp_path)
    np.testing.assert_allclose(back(s[:50]), cal(s[:50]))
    assert back.image_similarity == cal.image_similarity and back.checkpoint_hash == "abc"
    assert load_calibration(tmp_path / "nowhere") is None
    path.write_text('{"params": {}}')
    with pytest.raises(ValueError, match="calibration.json"):
        load_calibration(tmp_path)


def test_mask_score_at_the_extreme_thresholds_is_defined():
    from tvnet.eval.calibration import mask_score

    prob = np.array([[0.0, 0.2], [0.7, 1.0]], np.float32)
    # threshold 1: only p = 1 is in the mask at every offset → the masks agree, score 1
    assert mask_score(prob, threshold=1.0) == 1.0
    # threshold 0: every pixel is in both masks → score 1; and it never raises
    assert mask_score(prob, threshold=0.0) == 1.0


def test_random_neighbours_need_another_image_than_the_samples_own():
    from tvnet.eval.evaluator import random_neighbours

    out = random_neighbours(np.array([0, 1]), np.array([5, 6]), np.array([5, 6, 7]))
    assert out[0] != 5 and out[1] != 6  # never the sample's own image
    with pytest.raises(ValueError, match="no image but sample 3's own"):
        random_neighbours(np.array([3]), np.array([9]), np.array([9]))


@pytest.mark.parametrize(
    "record,why",
    [
        ({"method": "platt", "params": {}}, "platt parameter 'a'"),
        ({"method": "platt", "params": {"a": "x", "b": 0}}, "not a number"),
        ({"method": "platt", "params": {"a": 1.0, "b": float("nan")}}, "not a number"),
        ({"method": "isotonic", "params": {"x": [], "y": []}}, "length ≥ 1"),
        ({"method": "isotonic", "params": {"x": [0, 1], "y": [0.5]}}, "one length"),
        ({"method": "isotonic", "params": {"x": [1, 0], "y": [0, 1]}}, "non-decreasing"),
        (
            {"method": "platt", "params": {"a": 1, "b": 0}, "fitted_on": {"threshold": None}},
            "threshold",
        ),
        (
            {"method": "platt", "params": {"a": 1, "b": 0}, "image_similarity": 0.3},
            "image_similarity",
        ),
    ],
)
def test_a_damaged_calibration_file_fails_on_load_naming_it(tmp_path, record, why):
    (tmp_path / CALIBRATION_FILE).write_text(json.dumps(record))
    with pytest.raises(ValueError, match=why) as e:
        load_calibration(tmp_path)
    assert CALIBRATION_FILE in str(e.value)


def test_a_calibration_applies_only_at_the_threshold_it_was_fitted_at():
    cal = Calibration("platt", {"a": 2.0, "b": -1.0}, fitted_on={"threshold": 0.5})
    assert cal.applies_to(0.5) and not cal.applies_to(0.4)
    assert Calibration("platt", {"a": 2.0, "b": -1.0}).applies_to(0.5)  # the CMPC default
    assert cal(0.5) == pytest.approx(0.5)  # a·s + b = 0 → 0.5


def test_every_shipped_calibration_can_back_its_confidence():
    """Each bundled checkpoint's calibration records the val images' similarity to the pool,
    so its answers can be checked for pictures unlike the training ones (without it, the
    Predictor withholds the ✔ on every answer: tvnet.inference.checks)."""
    from pathlib import Path

    shipped = sorted((Path(__file__).parents[2] / "assets" / "checkpoints").glob("*/"))
    calibrated = [c for c in shipped if (c / CALIBRATION_FILE).is_file()]
    assert calibrated, "no calibrated checkpoint shipped"
    for ckpt in calibrated:
        cal = load_calibration(ckpt)
        floor = (cal.image_similarity or {}).get("q01")
        assert floor is not None and 0 < floor < 1, ckpt.name
        assert 0 < cal.mask_area["q01"] < 1, ckpt.name
