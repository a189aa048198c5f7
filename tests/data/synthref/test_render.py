"""SynthRef drawing: visible masks, centroids, colours, textures and occlusion agree with the
annotations (docs/design.md §4)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from pycocotools import mask as mask_utils

from tvnet.data.refer import open_refer


def test_masks_images_and_annotations_agree(synth_dir: Path) -> None:
    inst = json.loads((synth_dir / "instances.json").read_text())
    ds = open_refer(synth_dir)
    per_image: dict[int, list[dict]] = {}
    for a in inst["annotations"]:
        per_image.setdefault(a["image_id"], []).append(a)
    palette = {
        "red": (215, 35, 35), "orange": (245, 135, 20), "yellow": (245, 215, 35),
        "green": (40, 165, 55), "blue": (35, 85, 220), "purple": (135, 50, 185),
        "pink": (245, 125, 195), "white": (245, 245, 245),
    }  # fmt: skip
    names, rgb = list(palette), np.array(list(palette.values()), dtype=float)
    for image_id in list(per_image)[:40]:
        anns = per_image[image_id]
        h, w = ds.image_size(image_id)
        img = ds.load_image(image_id)
        assert img.shape == (h, w, 3) and 240 <= h <= 400 and 240 <= w <= 400
        assert 2 <= len(anns) <= 8
        union = np.zeros((h, w), dtype=np.int32)
        for a in anns:
            m = mask_utils.decode({"size": [h, w], "counts": a["segmentation"]["counts"].encode()})
            m = m.astype(bool)
            union += m
            assert m.sum() == a["area"] > 0
            ys, xs = np.nonzero(m)
            assert np.allclose([xs.mean(), ys.mean()], a["center"], atol=0.01)
            assert a["visible_fraction"] >= 0.5 and a["area"] <= a["full_area"]
            # painted in (at most) two colours: the named one, and a darker pattern colour
            colours, counts = np.unique(img[m].reshape(-1, 3), axis=0, return_counts=True)
            assert len(colours) <= 2
            nearest = [names[int(np.argmin(((rgb - c) ** 2).sum(1)))] for c in colours]
            assert a["colour"] in nearest
            assert (len(colours) == 1) == (a["texture"] == "plain")
        assert union.max() == 1  # visible masks never overlap: occlusion is resolved
