"""Hand-made evaluation dumps with known numbers, written through the real pipeline
(RISEvaluator + DumpWriter), and deliberately broken ones.

The hand-made dataset: four 10×10 images (area 100), one expression each.

| sample | gt (rows × cols)        | area | bin    | full: pred → I/U, IoU     | baseline: pred → I/U, IoU |
|--------|-------------------------|------|--------|---------------------------|---------------------------|
| 0      | 2×2 at (0,0)            | 4 %  | small  | = gt        → 4/4, 1      | empty → 0/4, 0            |
| 1      | 2×2 at (5,5)            | 4 %  | small  | empty       → 0/4, 0      | = gt  → 4/4, 1            |
| 2      | 10×2 at cols 0–1        | 20 % | big    | 10×1 col 0  → 10/20, 0.5  | = gt  → 20/20, 1          |
| 3      | 3×2 rows 0–2, cols 4–5  | 6 %  | medium | cols 5–6    → 3/9, 1/3    | empty → 0/6, 0            |

full / val:     ΣI/ΣU = 17/37 → oIoU 45.945…%, mIoU 45.833…%, Prec@0.5 50 %, Prec@0.6…0.9 25 %;
                small: 4/8 → oIoU 50 %, mIoU 50 %, Prec@X 50 %.
baseline / val: ΣI/ΣU = 24/34 → oIoU 70.588…%, mIoU 50 %, Prec@X 50 %;
                small: 4/8 → oIoU 50 %, mIoU 50 %, Prec@X 50 %.
At IoU ≥ 0.5: full succeeds where baseline fails on sample 0; the reverse on sample 1;
both succeed on sample 2; both fail on sample 3.

``full/test`` holds two samples: sample 0 (small, IoU 1) and sample 2 (big, IoU 0.5).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tvnet.eval.dump_writer import DumpWriter
from tvnet.eval.metrics import RISEvaluator

H = W = 10
SENTENCES = [
    "the small red square top left",
    "the blue square in the middle",
    "the tall green bar",
    "the yellow block at the top",
]


def box_mask(r0: int, c0: int, size: int, shape: tuple[int, int]) -> np.ndarray:
    """A ``shape`` bool mask with a size×size square at row ``r0``, column ``c0`` (the objects
    of the hand-made scenes in tests/analysis)."""
    m = np.zeros(shape, bool)
    m[r0 : r0 + size, c0 : c0 + size] = True
    return m


def _gt(k: int) -> np.ndarray:
    m = np.zeros((H, W), bool)
    if k == 0:
        m[0:2, 0:2] = True
    elif k == 1:
        m[5:7, 5:7] = True
    elif k == 2:
        m[:, 0:2] = True
    elif k == 3:
        m[0:3, 4:6] = True
    return m


def _pred(variant: str, k: int) -> np.ndarray:
    gt = _gt(k)
    empty = np.zeros_like(gt)
    if variant == "full":
        if k == 0:
            return gt.copy()
        if k == 1:
            return empty
        if k == 2:
            m = empty.copy()
            m[:, 0] = True
            return m
        m = empty.copy()
        m[0:3, 5:7] = True
        return m
    # baseline
    return gt.copy() if k in (1, 2) else empty


EXPECTED = {
    ("full", "val"): {
        "all": {"oIoU": 100 * 17 / 37, "mIoU": 100 * (1 + 0 + 0.5 + 1 / 3) / 4,
                "prec": [50.0, 25.0, 25.0, 25.0, 25.0]},
        "small": {"oIoU": 50.0, "mIoU": 50.0, "prec": [50.0] * 5},
    },
    ("baseline", "val"): {
        "all": {"oIoU": 100 * 24 / 34, "mIoU": 50.0, "prec": [50.0] * 5},
        "small": {"oIoU": 50.0, "mIoU": 50.0, "prec": [50.0] * 5},
    },
}  # fmt: skip


def make_images(data_dir: Path) -> Path:
    """A refer-format folder with ``instances.json`` and ``images/`` for the four images."""
    from PIL import Image

    (data_dir / "images").mkdir(parents=True, exist_ok=True)
    images = []
    for k in range(4):
        rgb = np.zeros((H, W, 3), np.uint8)
        rgb[..., k % 3] = 60 + 40 * k
        name = f"img_{k}.png"
        Image.fromarray(rgb).save(data_dir / "images" / name)
        images.append({"id": k, "file_name": name, "height": H, "width": W})
    (data_dir / "instances.json").write_text(json.dumps({"images": images, "annotations": []}))
    return data_dir


def write_hand_dump(
    out: Path,
    variant: str,
    split: str,
    data_dir: Path | str | None = None,
    samples=(0, 1, 2, 3),
    types: dict[int, str] | None = None,
    preds: str | None = None,
    run_extra: dict | None = None,
) -> Path:
    """A dump of ``variant`` on ``split``; ``preds`` names whose predictions of the table above
    it holds (default: its own), e.g. a second "full" run that predicts like the baseline;
    ``run_extra`` adds run.json fields (e.g. ``init``, a warm start's source)."""
    run_info = {
        "config": {"preset": "cpu", "variant": variant},
        # another run's weights where it predicts otherwise: no repeat of the same evaluation
        "checkpoint_sha256": f"sha-{variant}" + (f"-as-{preds}" if preds else ""),
        "code_version": "test",
        "dataset": {"name": "handmade", "data_dir": str(data_dir) if data_dir else None},
        "split": split,
        "variant": variant,
        "protocol": {"threshold": 0.5, "resolution": "original"},
        **(run_extra or {}),
    }
    records = []
    for k in samples:
        rec = {
            "pred": _pred(preds or variant, k),
            "gt": _gt(k),
            "sample_id": k,
            "ref_id": 10 + k,
            "sent_id": 100 + k,
            "image_id": k,
            "sentence": SENTENCES[k],
        }
        if types is not None:
            rec["expression_type"] = types.get(k)
        if variant != "baseline":
            rec.update(
                neighbour_image_id=(k + 1) % 4,
                neighbour_sentence=SENTENCES[(k + 1) % 4],
                neighbour_score=0.9 - 0.1 * k,
            )
        records.append(rec)
    with DumpWriter(out, run_info) as w:
        ev = RISEvaluator(variant, split, dump=w)
        ev.process(records)
        # deliberately store *wrong* metrics in run.json: analysis must never read them
        w.close(metrics={"overall_iou": 0.123, "mean_iou": 0.456, "n": 999})
    return out


def make_dump_tree(root: Path, with_images: bool = True) -> Path:
    """root/{full_val, baseline_val, full_test} (+ root/../data when ``with_images``)."""
    data_dir = make_images(root.parent / "data") if with_images else None
    write_hand_dump(root / "full_val", "full", "val", data_dir)
    write_hand_dump(root / "baseline_val", "baseline", "val", data_dir)
    write_hand_dump(root / "full_test", "full", "test", data_dir, samples=(0, 2))
    return root


def add_broken_dumps(root: Path) -> list[str]:
    """Next to good dumps: a corrupt parquet, one with missing columns, one without run.json."""
    import pandas as pd

    good = root / "full_val"
    corrupt = root / "broken_corrupt"
    corrupt.mkdir()
    (corrupt / "run.json").write_text(json.dumps({"variant": "x"}))
    (corrupt / "samples.parquet").write_bytes(b"definitely not parquet")

    cols = root / "broken_columns"
    cols.mkdir()
    (cols / "run.json").write_text(json.dumps({"variant": "y"}))
    pd.read_parquet(good / "samples.parquet").drop(columns=["union"]).to_parquet(
        cols / "samples.parquet"
    )

    norun = root / "broken_norun"
    norun.mkdir()
    (norun / "samples.parquet").write_bytes((good / "samples.parquet").read_bytes())
    return ["broken_corrupt", "broken_columns", "broken_norun"]
