"""Writing SynthRef in the refer format, in parallel and deterministically (docs/design.md §4).

Output: ``refs(synth).json``, ``instances.json`` (RLE masks and the symbolic attributes of
every object) and ``images/*.png``, so :func:`tvnet.data.refer.open_refer` reads it
unchanged. Scenes are made in worker processes but consumed in index order, so the files are
byte-identical for one seed whatever the number of workers.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tvnet.config import SYNTHREF_DEFAULTS
from tvnet.data.synthref.scene import SPLITS, make_scene
from tvnet.data.synthref.vocabulary import SHAPES
from tvnet.data.tokenize import tokenize
from tvnet.io import check_replaceable_dir, replace_dir, resolve_link, sync_tree

# what a SynthRef folder holds: anything else in it is the user's, and --force refuses it
OWN_FILES = ("images", "instances.json", "refs(synth).json")

FORMAT_VERSION = 1


# -- serialisation -----------------------------------------------------------------------------
def _rle(mask: np.ndarray) -> str:
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return rle["counts"].decode("ascii")


def _scene_record(seed: int, split: str, index: int) -> dict[str, Any]:
    """Everything the writer needs from one scene, picklable (runs in worker processes)."""
    scene = make_scene(seed, split, index)
    buf = BytesIO()
    Image.fromarray(scene.image).save(buf, format="PNG", compress_level=1)
    h, w = scene.image.shape[:2]
    objects = []
    for o in scene.objects:
        assert o.mask is not None
        objects.append(
            {
                "shape": o.shape,
                "colour": o.colour,
                "texture": o.texture,
                "z": o.z,
                "area": o.area,
                "full_area": o.full_area,
                "visible_fraction": round(o.visible_fraction, 4),
                "center": [round(o.cx, 2), round(o.cy, 2)],
                "bbox": list(o.bbox),
                "referable": o.referable,
                "counts": _rle(o.mask),
            }
        )
    return {
        "index": index,
        "png": buf.getvalue(),
        "height": h,
        "width": w,
        "background": scene.background,
        "objects": objects,
        "expressions": [(x.obj, x.kind, x.raw) for x in scene.expressions],
    }


def _scene_batch(seed: int, split: str, indices: list[int]) -> list[dict[str, Any]]:
    return [_scene_record(seed, split, i) for i in indices]


def _iter_scenes(
    seed: int, split: str, pool: ProcessPoolExecutor | None, workers: int, batch: int = 8
) -> Iterator[dict[str, Any]]:
    """Scenes 0, 1, 2, … of a split, in order (in ``pool`` when given, a few batches ahead)."""
    if pool is None:
        i = 0
        while True:
            yield _scene_record(seed, split, i)
            i += 1
    futures = []
    nxt = 0
    try:
        while True:
            while len(futures) < 2 * workers:
                futures.append(
                    pool.submit(_scene_batch, seed, split, list(range(nxt, nxt + batch)))
                )
                nxt += batch
            yield from futures.pop(0).result()
    finally:
        for f in futures:
            f.cancel()


def generate(
    out_dir: str | os.PathLike,
    seed: int = SYNTHREF_DEFAULTS["seed"],
    train: int = SYNTHREF_DEFAULTS["train"],
    val: int = SYNTHREF_DEFAULTS["val"],
    test: int = SYNTHREF_DEFAULTS["test"],
    workers: int | None = None,
    progress: bool = True,
    overwrite: bool = False,
) -> Path:
    """Write SynthRef to ``out_dir`` (refer format). Sizes are numbers of expressions.

    Generated into a temporary sibling folder and renamed at the end, so an interrupted run
    never leaves a half dataset under ``out_dir``. ``overwrite`` replaces only a SynthRef
    folder (nothing but :data:`OWN_FILES` in it); a link's target is written, the link kept.
    """
    from tqdm import tqdm

    out = resolve_link(out_dir)  # through a link: its target is written, the link stays
    sizes = {"train": int(train), "val": int(val), "test": int(test)}
    if any(v < 0 for v in sizes.values()) or not any(sizes.values()):
        raise ValueError(f"split sizes must be ≥ 0 and not all 0, got {sizes}")
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} already exists; remove it or pass overwrite=True (--force)")
    # overwrite replaces only a SynthRef (or nothing): never a folder of the user's other files
    check_replaceable_dir(out, OWN_FILES[1:], "SynthRef dataset", only=OWN_FILES)
    if workers is None:
        workers = max(1, min(2, os.cpu_count() or 1))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        (tmp / "images").mkdir()
        with contextlib.ExitStack() as stack:
            images, annotations, refs = [], [], []
            image_id = ann_id = ref_id = sent_id = 0
            bar = tqdm(
                total=sum(sizes.values()), desc="synthref", unit="expr", disable=not progress
            )
            pool = None
            if workers > 1:
                import multiprocessing

                # fork where there is one: the workers run numpy/PIL code only, and unlike
                # spawn it does not re-import the caller's __main__ (a script without a main
                # guard would recurse)
                methods = multiprocessing.get_all_start_methods()
                ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
                pool = stack.enter_context(ProcessPoolExecutor(max_workers=workers, mp_context=ctx))
            for split in SPLITS:
                need = sizes[split]
                if need == 0:
                    continue
                scenes = _iter_scenes(seed, split, pool, workers)
                try:
                    for rec in scenes:
                        exprs = rec["expressions"][:need]
                        if not exprs:
                            continue
                        need -= len(exprs)
                        image_id += 1
                        file_name = f"{split}_{image_id:06d}.png"
                        (tmp / "images" / file_name).write_bytes(rec["png"])
                        h, w = rec["height"], rec["width"]
                        images.append(
                            {
                                "id": image_id,
                                "file_name": file_name,
                                "height": h,
                                "width": w,
                                "split": split,
                                "scene_index": rec["index"],
                                "background": rec["background"],
                            }
                        )
                        obj_ann = []
                        for o in rec["objects"]:
                            ann_id += 1
                            obj_ann.append(ann_id)
                            annotations.append(
                                {
                                    "id": ann_id,
                                    "image_id": image_id,
                                    "category_id": SHAPES.index(o["shape"]) + 1,
                                    "segmentation": {"size": [h, w], "counts": o["counts"]},
                                    "area": o["area"],
                                    "bbox": o["bbox"],
                                    "iscrowd": 0,
                                    "shape": o["shape"],
                                    "colour": o["colour"],
                                    "texture": o["texture"],
                                    "center": o["center"],
                                    "full_area": o["full_area"],
                                    "visible_fraction": o["visible_fraction"],
                                    "z": o["z"],
                                    "referable": o["referable"],
                                }
                            )
                        by_obj: dict[int, dict[str, Any]] = {}
                        for obj, kind, raw in exprs:
                            if obj not in by_obj:
                                ref_id += 1
                                by_obj[obj] = {
                                    "ref_id": ref_id,
                                    "ann_id": obj_ann[obj],
                                    "image_id": image_id,
                                    "category_id": SHAPES.index(rec["objects"][obj]["shape"]) + 1,
                                    "split": split,
                                    "file_name": file_name,
                                    "sent_ids": [],
                                    "sentences": [],
                                }
                                refs.append(by_obj[obj])
                            sent_id += 1
                            toks = tokenize(raw)
                            by_obj[obj]["sent_ids"].append(sent_id)
                            by_obj[obj]["sentences"].append(
                                {
                                    "sent_id": sent_id,
                                    "raw": raw,
                                    "tokens": toks,
                                    "sent": " ".join(toks),
                                    "type": kind,
                                }
                            )
                        bar.update(len(exprs))
                        if need <= 0:
                            break
                finally:
                    scenes.close()
            bar.close()
        instances = {
            "info": {
                "dataset": "synthref",
                "description": "SynthRef: synthetic referring expressions (tvnet synth)",
                "version": FORMAT_VERSION,
                "seed": int(seed),
                "sizes": sizes,
            },
            "licenses": [{"id": 1, "name": "CC0 (backgrounds: scikit-image sample photos, CC0)"}],
            "categories": [
                {"id": i + 1, "name": s, "supercategory": "shape"} for i, s in enumerate(SHAPES)
            ],
            "images": images,
            "annotations": annotations,
        }
        _write_json(tmp / "instances.json", instances)
        _write_json(tmp / "refs(synth).json", refs)
        sync_tree(tmp)  # on the disk before it is renamed into place
        replace_dir(tmp, out)  # an old dataset (overwrite) is swapped out in one step
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
