"""Refer-format fixtures written byte for byte as the refer toolkit lays them out.

``refer/data/{refcoco, refcoco+, refcocog, refclef}`` with pickled (or JSON) refs files,
COCO-style ``instances.json`` (polygons for refcoco*, RLE for refclef) and the images under
``refer/data/images/``. Expected masks are built here with plain numpy, independently of
pycocotools: an axis-aligned polygon (x0,y0)…(x1,y1) covers rows y0..y1-1, cols x0..x1-1.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def rect(x0: int, y0: int, x1: int, y1: int) -> list[float]:
    return [x0, y0, x1, y0, x1, y1, x0, y1]


def rect_mask(h: int, w: int, *rects: tuple[int, int, int, int]) -> np.ndarray:
    m = np.zeros((h, w), dtype=bool)
    for x0, y0, x1, y1 in rects:
        m[y0:y1, x0:x1] = True
    return m


def rle_uncompressed(mask: np.ndarray) -> dict:
    """COCO uncompressed RLE by hand: column-major runs, starting with a run of zeros."""
    flat = mask.T.reshape(-1).astype(np.uint8)
    counts, cur, run = [], 0, 0
    for v in flat:
        if v == cur:
            run += 1
        else:
            counts.append(run)
            cur, run = v, 1
    counts.append(run)
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": counts}


def disc(h: int, w: int, cx: float, cy: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


@dataclass
class ReferFixture:
    data: Path  # refer/data
    masks: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)  # dataset → ref → mask
    pixels: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)  # dataset → image


def _sent(sent_id: int, raw: str) -> dict:
    toks = raw.lower().rstrip(".").split()
    return {"sent_id": sent_id, "raw": raw, "tokens": toks, "sent": " ".join(toks)}


def _ref(ref_id, ann_id, image_id, cat, split, sents, file_name) -> dict:
    return {
        "ref_id": ref_id,
        "ann_id": ann_id,
        "image_id": image_id,
        "category_id": cat,
        "split": split,
        "sent_ids": [s["sent_id"] for s in sents],
        "sentences": sents,
        "file_name": file_name,
    }


def _image(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def _coco_fixture(fx: ReferFixture, rng: np.random.Generator) -> None:
    d = fx.data / "refcoco"
    img_dir = fx.data / "images" / "mscoco" / "images" / "train2014"
    img_dir.mkdir(parents=True)
    d.mkdir(parents=True)
    sizes = {1: (60, 80), 2: (50, 70), 3: (41, 97)}
    images = []
    for iid, (h, w) in sizes.items():
        name = f"COCO_train2014_{iid:012d}.jpg"
        Image.fromarray(_image(rng, h, w)).save(img_dir / name, format="JPEG")
        images.append({"id": iid, "file_name": name, "height": h, "width": w})
    anns = [
        # two disjoint parts
        {"id": 101, "image_id": 1, "category_id": 1, "bbox": [10, 10, 50, 35],
         "segmentation": [rect(10, 10, 30, 20), rect(40, 30, 60, 45)], "area": 500.0, "iscrowd": 0},
        # two overlapping parts: the union is 700 pixels, not 800
        {"id": 102, "image_id": 1, "category_id": 18, "bbox": [5, 5, 30, 30],
         "segmentation": [rect(5, 5, 25, 25), rect(15, 15, 35, 35)], "area": 700.0, "iscrowd": 0},
        {"id": 201, "image_id": 2, "category_id": 1, "bbox": [0, 0, 70, 50],
         "segmentation": [rect(0, 0, 70, 50)], "area": 3500.0, "iscrowd": 0},
        # a degenerate 2-point part (real RefCOCO has a few) next to a valid one
        {"id": 301, "image_id": 3, "category_id": 3, "bbox": [90, 35, 7, 6],
         "segmentation": [[1, 1, 2, 2], rect(90, 35, 97, 41)], "area": 42.0, "iscrowd": 0},
    ]  # fmt: skip
    refs = [
        _ref(1, 101, 1, 1, "train", [_sent(10, "Man on the left."), _sent(11, "left guy")],
             "COCO_train2014_000000000001_101.jpg"),
        _ref(2, 102, 1, 18, "val", [_sent(12, "dog")], "COCO_train2014_000000000001_102.jpg"),
        _ref(3, 201, 2, 1, "testA", [_sent(13, "whole thing"), _sent(14, "everything")],
             "COCO_train2014_000000000002_201.jpg"),
        _ref(4, 301, 3, 3, "testB", [_sent(15, "the car at the right")],
             "COCO_train2014_000000000003_301.jpg"),
    ]  # fmt: skip
    inst = {
        "info": {"description": "This is stable 1.0 version of the 2014 MS COCO dataset."},
        "images": images,
        "annotations": anns,
        "categories": [
            {"id": 1, "name": "person"},
            {"id": 3, "name": "car"},
            {"id": 18, "name": "dog"},
        ],
        "licenses": [],
    }
    (d / "instances.json").write_text(json.dumps(inst))
    (d / "refs(unc).p").write_bytes(pickle.dumps(refs, protocol=2))
    fx.masks["refcoco"] = {
        1: rect_mask(60, 80, (10, 10, 30, 20), (40, 30, 60, 45)),
        2: rect_mask(60, 80, (5, 5, 25, 25), (15, 15, 35, 35)),
        3: rect_mask(50, 70, (0, 0, 70, 50)),
        4: rect_mask(41, 97, (90, 35, 97, 41)),
    }
    # refcoco+: same annotations, refs as JSON (the JSON variant of the refs file)
    dp = fx.data / "refcoco+"
    dp.mkdir()
    (dp / "instances.json").write_text(json.dumps(inst))
    (dp / "refs(unc).json").write_text(json.dumps(refs))
    # refcocog: two split schemes side by side
    dg = fx.data / "refcocog"
    dg.mkdir()
    (dg / "instances.json").write_text(json.dumps(inst))
    umd = [dict(r, split=s) for r, s in zip(refs, ["train", "val", "test", "test"])]
    google = [dict(r, split=s) for r, s in zip(refs, ["train", "train", "val", "val"])]
    (dg / "refs(umd).p").write_bytes(pickle.dumps(umd, protocol=2))
    (dg / "refs(google).p").write_bytes(pickle.dumps(google, protocol=2))


def _clef_fixture(fx: ReferFixture, rng: np.random.Generator) -> None:
    from pycocotools import mask as mask_utils

    d = fx.data / "refclef"
    img_dir = fx.data / "images" / "saiapr_tc-12"
    d.mkdir(parents=True)
    img_dir.mkdir(parents=True)
    h, w = 37, 53
    pix = {25: _image(rng, h, w), 26: _image(rng, w, h)}
    Image.fromarray(pix[25]).save(img_dir / "25.png")
    Image.fromarray(pix[26].mean(axis=2).astype(np.uint8)).save(img_dir / "26.png")  # greyscale
    pix[26] = np.repeat(pix[26].mean(axis=2).astype(np.uint8)[:, :, None], 3, axis=2)
    a = disc(h, w, 20, 15, 9)
    b = disc(h, w, 30, 20, 8) | rect_mask(h, w, (2, 30, 10, 35))
    c1, c2 = disc(w, h, 10, 10, 6), disc(w, h, 14, 12, 6)  # overlapping RLE parts
    compressed = mask_utils.encode(np.asfortranarray(a.astype(np.uint8)))
    anns = [
        {"id": 1, "image_id": 25, "category_id": 7, "bbox": [11, 6, 19, 19],
         # as real refclef stores it: a list holding one compressed RLE, counts a string
         "segmentation": [{"size": [h, w], "counts": compressed["counts"].decode()}]},
        {"id": 2, "image_id": 25, "category_id": 9, "bbox": [2, 12, 36, 23],
         "segmentation": rle_uncompressed(b)},  # a bare RLE dict: read too
        {"id": 3, "image_id": 26, "category_id": 7, "bbox": [4, 4, 16, 14],
         "segmentation": [rle_uncompressed(c1), rle_uncompressed(c2)]},
    ]  # fmt: skip
    images = [
        {"id": 25, "file_name": "25.png", "height": h, "width": w},
        {"id": 26, "file_name": "26.png", "height": w, "width": h},
    ]
    refs = [
        _ref(1, 1, 25, 7, "train", [_sent(1, "sky")], "25.png"),
        _ref(2, 2, 25, 9, "val", [_sent(2, "water bottom")], "25.png"),
        _ref(3, 3, 26, 7, "test", [_sent(3, "sky top left")], "26.png"),
    ]
    inst = {"images": images, "annotations": anns, "categories": [{"id": 7, "name": "sky"}]}
    (d / "instances.json").write_text(json.dumps(inst))
    (d / "refs(berkeley).p").write_bytes(pickle.dumps(refs, protocol=2))
    fx.masks["refclef"] = {1: a, 2: b, 3: c1 | c2}
    fx.pixels["refclef"] = pix


@pytest.fixture
def refer_data(tmp_path: Path) -> ReferFixture:
    fx = ReferFixture(data=tmp_path / "refer" / "data")
    rng = np.random.default_rng(0)
    _coco_fixture(fx, rng)
    _clef_fixture(fx, rng)
    return fx
