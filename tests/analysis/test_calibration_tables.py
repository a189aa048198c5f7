"""analysis/calibration.py on hand-made dumps with known numbers (tests/analysis/conftest.py:
``trust_dumps``). Named apart from tests/eval/test_calibration.py: test basenames are unique."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.calibration import calibration_summary, reliability_table
from analysis.influence import influence_table
from tvnet.eval.dump import load_dump


def test_reliability_table_by_hand(trust_dumps):
    t = reliability_table(trust_dumps)
    assert set(t["variant"]) == {"full"}  # the others have no confidence
    full = t.set_index("bin")
    assert len(full) == 10 and full["n"].sum() == 6  # the row without a confidence is out
    assert full.loc[9, "n"] == 4 and full.loc[9, "accuracy"] == 0.75
    assert full.loc[9, "mean_confidence"] == pytest.approx(0.95)
    assert full.loc[1, "n"] == 2 and full.loc[1, "accuracy"] == 0.0
    assert np.isnan(full.loc[5, "accuracy"])  # an empty bin


def test_calibration_summary_by_hand(trust_dumps):
    s = calibration_summary(trust_dumps).set_index(["variant", "split"])
    assert list(s.index) == [("baseline", "val"), ("res", "test"), ("full", "val")]
    f = s.loc[("full", "val")]
    assert f["n"] == 7 and f["n_confidence"] == 6
    # of the six with a confidence, set against their mean confidence: 3 right (4 of all 7)
    assert f["accuracy"] == pytest.approx(3 / 6)
    assert f["mean_confidence"] == pytest.approx((4 * 0.95 + 2 * 0.15) / 6)
    # ECE: bin 9 (4 answers, |0.75 − 0.95|), bin 1 (2 answers, |0 − 0.15|)
    assert f["ece"] == pytest.approx((4 * 0.2 + 2 * 0.15) / 6)
    # before calibration, the scores: 0.9 ×4 (3 right), 0.2 ×2 (0 right), 0.5 (right)
    assert f["ece_score"] == pytest.approx((4 * 0.15 + 2 * 0.2 + 1 * 0.5) / 7)
    assert f["brier"] == pytest.approx((3 * 0.05**2 + 0.95**2 + 2 * 0.15**2) / 6)
    old = s.loc[("res", "test")]
    assert old["n"] == 3 and old["n_confidence"] == 0 and np.isnan(old["ece"])
    assert np.isnan(old["ece_score"])
    b = s.loc[("baseline", "val")]
    assert np.isnan(b["ece"]) and b["ece_score"] == pytest.approx(0.2)  # score 0.8, all right


def test_a_frame_of_rows_works_as_well_as_dumps(trust_dumps):
    from analysis.tables import concat_samples

    rows = concat_samples(trust_dumps)
    pd.testing.assert_frame_equal(calibration_summary(rows), calibration_summary(trust_dumps))
    pd.testing.assert_frame_equal(influence_table(rows), influence_table(trust_dumps))
    assert load_dump(trust_dumps[0].path).samples.shape[0] > 0


def test_analysis_of_trust_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, analysis.calibration, analysis.influence; print('torch' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "False"


def test_two_datasets_with_one_variant_never_merge(trust_dumps):
    from analysis.tables import concat_samples

    rows = concat_samples(trust_dumps)
    own = rows.loc[rows["variant"] == "full", "dataset"].iloc[0]
    other = rows[rows["variant"] == "full"].assign(dataset="refcoco")
    s = calibration_summary(pd.concat([rows, other], ignore_index=True))
    s = s.set_index(["variant", "split"])
    assert "full" not in s.index.get_level_values(0)  # no merged row …
    for name in (f"full ({own})", "full (refcoco)"):  # … each dataset keeps its own numbers
        assert s.loc[(name, "val"), "n"] == 7
        assert s.loc[(name, "val"), "ece"] == pytest.approx((4 * 0.2 + 2 * 0.15) / 6)


def test_budgets_in_numeric_order_in_the_trust_views(tmp_path):
    """The calibration and influence views list a name's budgets as numbers (72k, 480k,
    1000k), as Table 1 does, not as text ("1000k" < "480k" < "72k")."""
    from dumps_fixture import write_hand_dump

    from analysis.calibration import variant_groups
    from analysis.tables import concat_samples
    from tvnet.eval.dump import load_dumps

    root = tmp_path / "dumps"
    for steps in (125000, 60000, 9000):
        run = {"train": {"steps": steps, "batch_size": 8}}
        write_hand_dump(root / f"full_{steps}", "full", "val", run_extra=run)
    dumps, errors = load_dumps(root)
    assert errors == []
    names = [v for v, _, _ in variant_groups(concat_samples(dumps))]
    assert names == ["full (72k samples)", "full (480k samples)", "full (1000k samples)"]
    assert list(calibration_summary(dumps)["variant"]) == names
