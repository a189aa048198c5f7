"""Failure modes (analysis.failures): hand-made scenes, then real dumps of a tiny SynthRef."""

from __future__ import annotations

import numpy as np
import pytest
from dumps_fixture import box_mask  # tests/ is on sys.path (tests/conftest.py)

from analysis import report
from analysis.failures import (
    CLASSES,
    COLUMNS,
    classes_in,
    classify,
    failure_table,
    sample_classes,
)
from tvnet import load_dump
from tvnet.eval.dump_writer import DumpWriter
from tvnet.eval.metrics import RISEvaluator

H = W = 20


def _box(r0: int, c0: int, size: int = 5) -> np.ndarray:
    return box_mask(r0, c0, size, (H, W))


# four 25-pixel objects; the referent is 1 (a red circle)
OBJECTS = [
    ({"id": 1, "shape": "circle", "colour": "red"}, _box(0, 0)),
    ({"id": 2, "shape": "circle", "colour": "blue"}, _box(0, 10)),
    ({"id": 3, "shape": "square", "colour": "red"}, _box(10, 0)),
    ({"id": 4, "shape": "star", "colour": "green"}, _box(10, 10)),
    ({"id": 5, "shape": "circle", "colour": "red"}, _box(14, 5)),
]


def test_classes_of_hand_made_predictions():
    obj = {a["id"]: m for a, m in OBJECTS}
    two_rows = np.zeros((H, W), bool)
    two_rows[0:2, 0:5] = True  # 10 of the referent's 25 pixels: lit (> 30 %), IoU 0.4
    speck = np.zeros((H, W), bool)
    speck[0, 0:3] = True  # 3 of 25 pixels: 12 %, nothing lit
    cases = {
        "correct": obj[1],
        "empty": np.zeros((H, W), bool),
        # A ∪ B alone is IoU 25/50 = 0.5, still correct; with C it is 25/75
        "referent + others lit": obj[1] | obj[2] | obj[3],
        "referent only, bad mask": two_rows,
        "wrong object: same shape": obj[2],
        "wrong object: same colour": obj[3],
        "wrong object: neither": obj[4],
        "wrong object: same shape and colour": obj[5],
        "nothing lit": speck,
    }
    for want, pred in cases.items():
        assert classify(pred, OBJECTS, referent=1) == want, want
    assert classify(obj[1] | obj[2], OBJECTS, 1) == "correct"
    # of two lit wrong objects the best by IoU decides: B 40 % lit (IoU 10/35) vs D (25/35)
    part_b = np.zeros((H, W), bool)
    part_b[0:2, 10:15] = True
    assert classify(part_b | obj[4], OBJECTS, 1) == "wrong object: neither"
    # without shape/colour attributes (RefCOCO) the category stands in for the shape
    coco = [({"id": 1, "category_id": 7}, obj[1]), ({"id": 2, "category_id": 7}, obj[2])]
    assert classify(obj[2], coco, 1) == "wrong object: same shape"
    with pytest.raises(ValueError, match="annotation 9"):
        classify(obj[1], OBJECTS, 9)


def _write_dump(out, refer, preds, variant=None, **run_extra):
    samples = refer.samples("val")
    run = {"variant": variant or out.name, "split": "val", "dataset": {"name": refer.name}}
    run.update(run_extra)
    with DumpWriter(out, run) as w:
        ev = RISEvaluator(run["variant"], "val", dump=w)  # the rows say what run.json says
        for s in samples:
            gt = refer.mask(s.ref_id)
            ev.process([{"pred": preds(s, gt), "gt": gt, "sample_id": s.sample_id,
                         "ref_id": s.ref_id, "sent_id": s.sent_id, "image_id": s.image_id}])  # fmt: skip
        w.close(metrics=ev.evaluate())
    return out


def test_failure_table_and_report_on_real_dumps(tiny_synthref, tmp_path):
    refer = tiny_synthref["refer"]
    from tvnet.data.refer import decode_segmentation

    def elsewhere(s, gt):  # another object that does not touch the referent, else nothing
        h, w = gt.shape
        for a in refer.image_annotations(s.image_id):
            m = decode_segmentation(a["segmentation"], h, w)
            if a["id"] != s.ann_id and m.any() and not (m & gt).any():
                return m
        return np.zeros_like(gt)

    dumps = tmp_path / "dumps"
    _write_dump(dumps / "oracle", refer, lambda s, gt: gt)
    _write_dump(dumps / "blank", refer, lambda s, gt: np.zeros_like(gt))
    _write_dump(dumps / "other", refer, elsewhere)
    loaded = [load_dump(dumps / n) for n in ("oracle", "blank", "other")]
    table = failure_table(loaded, refer)
    n = len(refer.samples("val"))
    assert list(table.columns) == ["n", *CLASSES]
    assert table.loc["oracle", "correct"] == 100.0 and table.loc["blank", "empty"] == 100.0
    assert (table["n"] == n).all()
    np.testing.assert_allclose(table[list(CLASSES)].sum(axis=1), 100.0)
    # row by row on a dump whose rows are not in image order and mix classes: every other
    # sample predicts the referent, the rest predict nothing
    mixed = _write_dump(
        dumps / "mixed", refer, lambda s, gt: gt if s.sample_id % 2 else np.zeros_like(gt)
    )
    rows = load_dump(mixed, columns=COLUMNS).samples.sample(frac=1.0, random_state=0)
    got = sample_classes(rows, refer)
    assert list(got.index) == list(rows.index)
    want = ["correct" if sid % 2 else "empty" for sid in rows["sample_id"]]
    assert got.tolist() == want and len(set(want)) == 2
    other = table.loc["other"]
    wrong = [c for c in CLASSES if c.startswith("wrong object")]
    assert other[wrong].sum() + other["empty"] == 100.0 and other[wrong].sum() > 0
    # the report adds the table only when asked, with the dataset
    assert report.main([str(dumps), "--out", str(tmp_path / "r0")]) == 0
    assert "Failure modes" not in (tmp_path / "r0" / "tables.md").read_text()
    data = str(tiny_synthref["data"])
    assert (
        report.main([str(dumps), "--out", str(tmp_path / "r"), "--data", data, "--failures"]) == 0
    )
    md = (tmp_path / "r" / "tables.md").read_text()
    assert f"Failure modes (% of samples) — {refer.name} / val" in md
    assert "| oracle | 8 | 100.00 |" in md
    assert report.main([str(dumps), "--out", str(tmp_path / "r2"), "--failures"]) == 2
    # one dump whose rows are not the dataset's (a mask at another size): left out of the
    # failure tables and named there; the others' tables, and the report, go on
    import pandas as pd

    odd = dumps / "odd"
    _write_dump(odd, refer, lambda s, gt: gt)
    bad = pd.read_parquet(odd / "samples.parquet")
    bad.loc[0, "height"] += 1
    bad.to_parquet(odd / "samples.parquet", index=False)
    out3 = tmp_path / "r3"
    assert report.main([str(dumps), "--out", str(out3), "--data", data, "--failures"]) == 0
    md = (out3 / "tables.md").read_text()
    assert f"Left out of the failure modes — {refer.name} / val" in md
    assert "odd: the dump does not match" in md
    assert "| oracle | 8 | 100.00 |" in md
    foreign = rows.assign(ref_id=rows["ref_id"] + 10_000)
    with pytest.raises(ValueError, match="not a ref of"):
        sample_classes(foreign, refer)


def test_dumps_of_another_dataset_version_are_refused(tiny_synthref, tmp_path):
    refer, data = tiny_synthref["refer"], str(tiny_synthref["data"])
    dump = _write_dump(tmp_path / "full", refer, lambda s, gt: gt)
    rows = load_dump(dump, columns=COLUMNS).samples
    assert (classes_in(rows, data, refer.name) == "correct").all()
    with pytest.raises(ValueError, match="evaluated on refcoco"):
        classes_in(rows, data, "refcoco")
    # the dump's data fingerprint (tvnet eval's) must be this folder's refs file, where recorded
    from analysis.failures import scored_on

    mine = refer.fingerprint()
    assert len(mine) == 64 and (classes_in(rows, data, refer.name, mine) == "correct").all()
    with pytest.raises(ValueError, match="other .* data than .* holds"):
        classes_in(rows, data, refer.name, "0" * 64)
    d = load_dump(dump)
    assert scored_on(d, refer)  # no fingerprint recorded: the name decides
    d.run["dataset"] = {"name": refer.name, "fingerprint": "0" * 64}
    assert not scored_on(d, refer) and scored_on(d, refer, "0" * 64)
    # another SynthRef seed: same ids, other images (sizes) — refused, not classed wrongly
    taller = rows.assign(height=rows["height"] + 1)
    with pytest.raises(ValueError, match=f"does not match {refer.name}: {len(rows)} of"):
        sample_classes(taller, refer)
    moved = rows.assign(image_id=rows["image_id"] + 1000)
    with pytest.raises(ValueError, match="another version of the dataset"):
        sample_classes(moved, refer)
    # two dumps of one variant (seeds) keep apart in the table
    twin = _write_dump(tmp_path / "seed1" / "full", refer, lambda s, gt: np.zeros_like(gt))
    table = failure_table([load_dump(dump), load_dump(twin)], refer)
    assert len(set(table.index)) == 2 and all(i.startswith("full [") for i in table.index)
    assert sorted(table["correct"]) == [0.0, 100.0]
    # runs of other budgets are named and ordered as in Table 1 (numbers as numbers)
    runs = [
        _write_dump(
            tmp_path / f"b{steps}",
            refer,
            lambda s, gt: gt,
            "full",
            train={"steps": steps, "batch_size": 8},
        )
        for steps in (60000, 9000)
    ]
    table = failure_table([load_dump(r) for r in runs], refer)
    assert list(table.index) == ["full (72k samples)", "full (480k samples)"]
