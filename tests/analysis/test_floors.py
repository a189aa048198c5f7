"""analysis.floors: the language-blind reference rows, against hand-computed scenes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from analysis import floors as fl
from tvnet.data.refer import open_refer


def _rle(m: np.ndarray) -> dict:
    r = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
    return {"size": r["size"], "counts": r["counts"].decode()}


def _box(r0, c0, h, w, size=20):
    m = np.zeros((size, size), dtype=bool)
    m[r0 : r0 + h, c0 : c0 + w] = True
    return m


@pytest.fixture()
def scenes(tmp_path):
    """Image 1: A (10×10, the referent, 25 % of the image) and B (10×10), apart.
    Image 2: C (4×4, the referent, 4 %: small), D (10×10), E (5×5), apart."""
    objs = {
        1: (1, _box(0, 0, 10, 10)),
        2: (1, _box(10, 10, 10, 10)),
        3: (2, _box(0, 0, 4, 4)),
        4: (2, _box(8, 8, 10, 10)),
        5: (2, _box(0, 10, 5, 5)),
    }
    inst = {
        "images": [{"id": i, "file_name": f"{i}.png", "height": 20, "width": 20} for i in (1, 2)],
        "annotations": [
            {"id": a, "image_id": img, "category_id": 1, "segmentation": _rle(m)}
            for a, (img, m) in objs.items()
        ],
        "categories": [{"id": 1, "name": "shape"}],
    }
    refs = [
        {"ref_id": r, "ann_id": a, "image_id": img, "split": "val", "sent_ids": [r],
         "sentences": [{"sent_id": r, "sent": s, "tokens": s.split()}]}
        for r, a, img, s in ((1, 1, 1, "the left box"), (2, 3, 2, "the tiny box"))
    ]  # fmt: skip
    (tmp_path / "instances.json").write_text(json.dumps(inst))
    (tmp_path / "refs(hand).json").write_text(json.dumps(refs))
    return open_refer(tmp_path)


def test_floors_match_hand_computed_values(scenes):
    t = fl.floors(scenes, "val")
    every, rand = t.loc[fl.EVERY], t.loc[fl.RANDOM]
    # every object: I/U = 100/200 and 16/(16+100+25)
    assert every["overall_iou"] == pytest.approx(116 / 341)
    assert every["mean_iou"] == pytest.approx((0.5 + 16 / 141) / 2)
    assert every["prec@0.5"] == 0.5 and every["prec@0.6"] == 0.0
    assert every["small/overall_iou"] == pytest.approx(16 / 141) and every["small/n"] == 1
    # one object at random: image 1 E[I]=50, E[U]=(100+200)/2; image 2 E[I]=16/3,
    # E[U]=(16+116+41)/3; per-sample E[IoU] = 1/2 and 1/3 (only the referent itself hits)
    assert rand["overall_iou"] == pytest.approx((50 + 16 / 3) / (150 + 173 / 3))
    assert rand["mean_iou"] == pytest.approx((1 / 2 + 1 / 3) / 2)
    for x in ("0.5", "0.9"):
        assert rand[f"prec@{x}"] == pytest.approx((1 / 2 + 1 / 3) / 2)
        assert rand[f"small/prec@{x}"] == pytest.approx(1 / 3)
    assert rand["small/overall_iou"] == pytest.approx(16 / 173)
    assert rand["n"] == 2 and rand["small/n"] == 1


def test_cli_prints_both_rows_and_reports_errors(scenes, tmp_path, capsys):
    assert fl.main(["--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| every object | 34.02 |" in out and "| one object at random |" in out
    assert fl.main(["--data", str(tmp_path), "--split", "test"]) == 1
    assert "has no split 'test'" in capsys.readouterr().err
    assert fl.main(["--data", str(tmp_path / "missing")]) == 1
