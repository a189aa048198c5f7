"""analysis/influence.py on hand-made dumps with known numbers (tests/analysis/conftest.py:
``trust_dumps``). Named apart from tests/inference/test_influence.py: test basenames are unique."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.influence import influence_table, retrieving


def test_influence_table_by_hand(trust_dumps):
    t = influence_table(trust_dumps).set_index(["variant", "split"])
    f = t.loc[("full", "val")]
    assert bool(f["has_influence"]) and f["n"] == 7
    # answers: 4 right (I 20, U 20), 3 wrong (I 0, U 40) → oIoU 80/200
    assert f["oiou"] == pytest.approx(40.0)
    assert f["oiou_nogate"] == pytest.approx(100 * 40 / 200)
    assert f["effect_nogate"] == pytest.approx(20.0)
    # random: I 4×15 over U 200; the answer's oIoU minus the random neighbour's
    assert f["oiou_random"] == pytest.approx(30.0) and f["effect_random"] == pytest.approx(10.0)
    assert f["iou_nogate"] == pytest.approx(100 * (4 * 0.5 + 3 * 1.0) / 7)
    assert f["iou_random"] == pytest.approx(100 * (4 * 0.75 + 3 * 1.0) / 7)
    assert f["changed_nogate"] == pytest.approx(100 * 4 / 7)
    for key in (("baseline", "val"), ("res", "test")):  # no retrieval / an older dump
        row = t.loc[key]
        assert not row["has_influence"] and np.isnan(row["oiou_nogate"])
        assert row["oiou"] == pytest.approx(100.0)
    # what the report and the dashboard show: the variants that retrieve, the older res dump too
    shown = retrieving(t.reset_index()).set_index(["variant", "split"])
    assert list(shown.index) == [("res", "test"), ("full", "val")]


def test_oiou_of_empty_on_empty_rows_is_100_as_in_the_main_metrics():
    import math

    import pandas as pd

    from analysis.influence import _oiou
    from tvnet import ris_metrics

    assert _oiou(pd.Series([0, 0]), pd.Series([0, 0])) == 100.0
    import numpy as np

    empty = np.zeros((2, 2), bool)
    assert ris_metrics([empty, empty], [empty, empty])["overall_iou"] == 1.0
    assert _oiou(pd.Series([3, None]), pd.Series([4, 9])) == 75.0  # rows with both sums only
    assert math.isnan(_oiou(pd.Series([None]), pd.Series([None])))
    # a damaged row (I > U, a negative count) is left out, not the whole table lost
    assert _oiou(pd.Series([3, 9, -1]), pd.Series([4, 5, 2])) == 75.0
