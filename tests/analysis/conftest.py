"""Fixtures: hand-made dumps with known numbers (see tests/dumps_fixture.py)."""

from __future__ import annotations

import numpy as np
import pytest
from dumps_fixture import make_dump_tree  # tests/ is on sys.path (tests/conftest.py)

from tvnet.eval.dump import load_dumps
from tvnet.eval.dump_writer import DumpWriter
from tvnet.eval.metrics import RISEvaluator


@pytest.fixture(scope="session")
def dump_root(tmp_path_factory):
    """root/{full_val, baseline_val, full_test}, images in root/../data."""
    return make_dump_tree(tmp_path_factory.mktemp("hand") / "dumps")


@pytest.fixture(scope="session")
def hand_dumps(dump_root):
    dumps, errors = load_dumps(dump_root)
    assert errors == []
    return dumps


@pytest.fixture()
def samples(hand_dumps):
    from analysis.tables import concat_samples

    return concat_samples(hand_dumps)


GT = np.zeros((10, 10), bool)
GT[0:4, 0:5] = True  # 20 pixels


def _pred(iou_kind: str) -> np.ndarray:
    """right: = gt (IoU 1); wrong: a disjoint 20-pixel block (IoU 0)."""
    return GT.copy() if iou_kind == "right" else np.roll(GT, 5, axis=0)


def _write(path, variant, split, rows):
    with DumpWriter(path, {"variant": variant, "split": split}) as w:
        ev = RISEvaluator(variant, split, dump=w)
        ev.process(
            [
                {"pred": _pred(kind), "gt": GT, "sample_id": k, **extra}
                for k, (kind, extra) in enumerate(rows)
            ]
        )
        w.close(metrics=ev.evaluate())
    return path


@pytest.fixture(scope="session")
def trust_dumps(tmp_path_factory):
    """full/val with confidences and neighbour influence, baseline/val with scores only, and
    an older res/test dump without any of those columns (numbers in the comments)."""
    root = tmp_path_factory.mktemp("trust")
    # full/val: confidences 0.95 ×4 (3 right), 0.15 ×2 (0 right), one without a confidence
    full = [("right", {"score": 0.9, "confidence": 0.95})] * 3
    full += [("wrong", {"score": 0.9, "confidence": 0.95})]
    full += [("wrong", {"score": 0.2, "confidence": 0.15})] * 2
    full += [("right", {"score": 0.5})]
    # the neighbour: gate closed keeps 10 of the 20 pixels (I 10, U 20 against gt) on the
    # right answers, a random neighbour 15 (IoU 0.75 with the answer); the wrong ones stay
    for k, (kind, extra) in enumerate(full):
        inter = 20 if kind == "right" else 0
        extra = dict(extra)
        extra.update(nogate_inter=inter // 2, nogate_union=20 if kind == "right" else 40)
        extra.update(nogate_iou=0.5 if kind == "right" else 1.0)
        extra.update(randnb_inter=inter * 3 // 4, randnb_union=20 if kind == "right" else 40)
        extra.update(randnb_iou=0.75 if kind == "right" else 1.0)
        full[k] = (kind, extra)
    _write(root / "full-val", "full", "val", full)
    _write(root / "baseline-val", "baseline", "val", [("right", {"score": 0.8})] * 2)
    # an older dump: no score, confidence or influence columns at all
    import pyarrow.parquet as pq

    old = _write(root / "res-test", "res", "test", [("right", {})] * 3)
    t = pq.read_table(old / "samples.parquet")
    keep = [
        c
        for c in t.schema.names
        if c not in ("score", "confidence") and "nogate" not in c and "randnb" not in c
    ]
    pq.write_table(t.select(keep), old / "samples.parquet")
    loaded, errors = load_dumps(root)
    assert errors == [] and len(loaded) == 3
    return loaded
