"""Word use (analysis.cues): hand-made scenes with hand-counted lit objects, then real dumps."""

from __future__ import annotations

import numpy as np
import pytest
from dumps_fixture import box_mask  # tests/ is on sys.path (tests/conftest.py)

from analysis import cues
from analysis.cues import CUES, TABLE_COLUMNS, cue_rows, cue_summary, named_values, sample_cues
from tvnet import load_dump
from tvnet.eval.dump_writer import DumpWriter
from tvnet.eval.metrics import RISEvaluator

H = W = 20


def _box(r0: int, c0: int) -> np.ndarray:
    return box_mask(r0, c0, 5, (H, W))


# the referent is 1, a plain red circle
OBJECTS = [
    ({"id": 1, "shape": "circle", "colour": "red", "texture": "plain"}, _box(0, 0)),
    ({"id": 2, "shape": "circle", "colour": "blue", "texture": "plain"}, _box(0, 10)),
    ({"id": 3, "shape": "square", "colour": "red", "texture": "plain"}, _box(10, 0)),
    ({"id": 4, "shape": "star", "colour": "green", "texture": "dotted"}, _box(10, 10)),
    ({"id": 5, "shape": "circle", "colour": "red", "texture": "striped"}, _box(14, 5)),
]


@pytest.mark.parametrize(
    "sentence,cue,want",
    [
        ("the violet donut", "colour", {"purple"}),
        ("the violet donut", "shape", {"ring"}),
        ("a plus sign", "shape", {"cross"}),
        ("the string", "shape", set()),  # whole words only
        ("the big red disc.", "shape", {"circle"}),
        ("star with polka dots", "texture", {"dotted"}),
        ("the stripy one", "texture", {"striped"}),
        ("the leftmost one", "colour", set()),
    ],
)
def test_named_values(sentence, cue, want):
    assert named_values(sentence, CUES[cue]) == want


def test_hand_counted_cue_rows_and_summary():
    obj = {a["id"]: m for a, m in OBJECTS}
    # "the red circle" names colour and shape (not texture). Lit: 1, 2 (blue circle: ruled
    # out by colour alone) and 4 (green star: by colour and shape); not lit: 3 (red square:
    # by shape alone) and 5 (red circle: matches every named cue; only 12 of 25 pixels).
    pred = obj[1] | obj[2] | obj[4]
    pred[14:16, 5:10] = True  # 10 of 5's 25 pixels: 40 %, lit
    pred[14:15, 5:10] = False  # now 5 of 25: 20 %, not lit
    rows = cue_rows(pred, OBJECTS, 1, "the red circle")
    got = {(r["role"], r["differs"]): r["lit"] for r in rows}
    assert all(r["named"] == "colour,shape" for r in rows)
    assert got == {
        ("referent", ""): True,
        ("other", "colour"): True,
        ("other", "shape"): False,
        ("other", "colour,shape"): True,
        ("other", ""): False,
    }
    import pandas as pd

    table = cue_summary(pd.DataFrame([{"sample_id": 7, **r} for r in rows]))
    assert list(table.columns) == TABLE_COLUMNS
    assert list(table.index) == ["colour", "shape"]  # texture not named
    assert table.loc["colour"].tolist() == [1, 100.0, 1, 0.0, 1, 100.0, 1, 100.0]
    assert table.loc["shape"].tolist() == [1, 100.0, 1, 0.0, 1, 0.0, 1, 100.0]
    # an expression that names nothing the referent has gives no rows
    assert cue_rows(pred, OBJECTS, 1, "the leftmost one") == []
    assert cue_rows(pred, OBJECTS, 1, "the blue circle")[0]["named"] == "shape"
    with pytest.raises(ValueError, match="annotation 9"):
        cue_rows(pred, OBJECTS, 9, "the red circle")


def _write_dump(out, refer, split, preds):
    run = {"variant": out.name, "split": split, "dataset": {"name": refer.name}}
    with DumpWriter(out, run) as w:
        ev = RISEvaluator(out.name, split, dump=w)
        for s in refer.samples(split):
            gt = refer.mask(s.ref_id)
            ev.process([{"pred": preds(s, gt), "gt": gt, "sample_id": s.sample_id,
                         "ref_id": s.ref_id, "sent_id": s.sent_id, "image_id": s.image_id}])  # fmt: skip
        w.close(metrics=ev.evaluate())
    return out


def test_cue_table_on_real_dumps(tiny_synthref, tmp_path, capsys):
    refer, data = tiny_synthref["refer"], str(tiny_synthref["data"])
    attribute = [s for s in refer.samples("train") if s.expression_type == "attribute"]
    assert attribute  # the fixture's train split has attribute expressions
    oracle = _write_dump(tmp_path / "oracle", refer, "train", lambda s, gt: gt)
    everything = _write_dump(tmp_path / "all", refer, "train", lambda s, gt: np.ones_like(gt))
    rows = sample_cues(load_dump(oracle).samples, refer)
    assert set(rows["sample_id"]) <= {s.sample_id for s in attribute}
    table = cues.cue_table([load_dump(oracle), load_dump(everything)], refer)
    ora, alls = table.loc["oracle"], table.loc["all"]
    assert (ora["referent lit %"] == 100.0).all() and (alls["referent lit %"] == 100.0).all()
    # visible masks do not overlap: the oracle lights no other object, "all" lights every one
    col = "ruled out by this word alone: lit %"
    assert (ora[col].dropna() == 0.0).all() and (alls[col].dropna() == 100.0).all()
    assert ora["ruled out by this word alone: n"].sum() > 0
    # the report adds the table with the failure modes
    from analysis import report

    assert (
        report.main([str(tmp_path), "--out", str(tmp_path / "r"), "--data", data, "--failures"])
        == 0
    )
    md = (tmp_path / "r" / "tables.md").read_text()
    assert f"Word use on attribute expressions (objects lit, %) — {refer.name} / train" in md
    capsys.readouterr()
    assert cues.main([str(oracle), str(everything), "--data", data]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| variant | cue | expressions |") and "| oracle |" in out
    assert cues.main([str(oracle), "--data", str(tmp_path)]) == 1
    assert "error:" in capsys.readouterr().err
