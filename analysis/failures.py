"""Failure modes: where a dump's misses go, against every object of each image.

An object is *lit* when more than 30 % of its pixels are predicted. A sample is
- *correct*: IoU ≥ 0.5 with the referent (Prec@0.5's success);
- *referent + others lit*: the referent and at least one other object are lit — the model
  narrowed the scene down to a few candidates but not to the one the expression names;
- *referent only, bad mask*: only the referent is lit, yet IoU < 0.5 (too little of it, or
  spill onto the background);
- *wrong object*: other objects are lit, the referent is not; split by what the best of them
  (highest IoU) shares with the referent where the annotations record attributes (SynthRef:
  ``shape`` and ``colour``; otherwise the category stands in for the shape);
- *nothing lit*: a prediction that covers no object's 30 %; *empty*: nothing predicted.

    python -m analysis.failures --data data/synthref assets/dumps/full-val assets/dumps/baseline-val

Also a table of ``python -m analysis.report … --data DIR --failures``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from analysis.naming import row_names
from analysis.tables import variant_key
from tvnet import DumpError, decode_rle, load_dump
from tvnet.eval.calibration import CORRECT_IOU
from tvnet.eval.dump import Dump

LIT = 0.3  # an object is lit when more than this share of its pixels is predicted
CLASSES = (
    "correct",
    "referent + others lit",
    "referent only, bad mask",
    "wrong object: same shape and colour",
    "wrong object: same shape",
    "wrong object: same colour",
    "wrong object: neither",
    "nothing lit",
    "empty",
)
COLUMNS = ["sample_id", "ref_id", "image_id", "height", "width", "pred_rle"]


def shares(a: dict[str, Any], b: dict[str, Any]) -> tuple[bool, bool]:
    """(same shape, same colour) of two annotations; the category stands in for the shape."""
    key = "shape" if "shape" in a and "shape" in b else "category_id"
    shape = key in a and key in b and a[key] == b[key]
    colour = "colour" in a and "colour" in b and a["colour"] == b["colour"]
    return shape, colour


def lit_objects(pred: np.ndarray, objects: Sequence[tuple[dict, np.ndarray]]) -> list[bool]:
    """Per object: is it *lit* (more than :data:`LIT` of its pixels predicted)?"""
    lit = []
    for _, m in objects:
        area = np.count_nonzero(m)
        lit.append(bool(area > 0 and np.count_nonzero(pred & m) > LIT * area))
    return lit


def classify(pred: np.ndarray, objects: Sequence[tuple[dict, np.ndarray]], referent: int) -> str:
    """The class (module doc) of one prediction; ``objects`` = (annotation, H×W bool mask) for
    every object of the image, ``referent`` the annotation id the expression refers to."""
    if not pred.any():
        return "empty"
    inter = [np.count_nonzero(pred & m) for _, m in objects]
    iou = [i / max(np.count_nonzero(pred | m), 1) for i, (_, m) in zip(inter, objects)]
    lit = lit_objects(pred, objects)
    ids = [int(a["id"]) for a, _ in objects]
    if referent not in ids:
        raise ValueError(f"the referent's annotation {referent} is not among the image's objects")
    ref = ids.index(referent)
    if iou[ref] >= CORRECT_IOU:
        return "correct"
    others = [k for k in range(len(objects)) if k != ref and lit[k]]
    if lit[ref]:
        return "referent + others lit" if others else "referent only, bad mask"
    if not others:
        return "nothing lit"
    best = max(others, key=lambda k: iou[k])
    shape, colour = shares(objects[best][0], objects[ref][0])
    if shape and colour:
        return "wrong object: same shape and colour"
    if shape:
        return "wrong object: same shape"
    if colour:
        return "wrong object: same colour"
    return "wrong object: neither"


def check_match(rows: pd.DataFrame, image_of: pd.Series, refer: Any) -> None:
    """ValueError unless the rows' images (where recorded) and mask sizes are the dataset's:
    a dump of another version of a dataset with the same name (another SynthRef seed) must
    not be classed against the wrong objects."""
    recorded = pd.to_numeric(rows["image_id"], errors="coerce")
    other = recorded.notna() & (recorded != image_of)
    sizes = {i: refer.image_size(int(i)) for i in image_of.unique()}
    want = image_of.map(sizes)
    got = pd.Series(list(zip(rows["height"].astype(int), rows["width"].astype(int))), rows.index)
    other |= got != want
    if other.any():
        i = other.idxmax()
        raise ValueError(
            f"the dump does not match {refer.name}: {int(other.sum())} of {len(rows)} rows "
            f"name another image or size (e.g. ref {int(rows.at[i, 'ref_id'])}: image "
            f"{rows.at[i, 'image_id']} at {got[i][1]}×{got[i][0]}, the dataset has image "
            f"{int(image_of[i])} at {want[i][1]}×{want[i][0]}); was it evaluated on another "
            "version of the dataset?"
        )


def check_columns(rows: pd.DataFrame, purpose: str) -> None:
    """ValueError naming ``purpose`` unless the dump ``rows`` have every column of
    :data:`COLUMNS`."""
    missing = [c for c in COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"{purpose} need the dump columns {missing}")


def predictions_by_image(
    rows: pd.DataFrame,
    refer: Any,
    purpose: str,
    only: Sequence[Any] | None = None,
    progress: bool = False,
) -> Iterator[tuple[Any, dict[str, Any], np.ndarray, list[tuple[dict, np.ndarray]]]]:
    """(row index, ref, H×W predicted mask, [(annotation, H×W mask) of every object of the
    image]) for the dump ``rows`` (columns :data:`COLUMNS`; ``only``: these indices of them),
    image by image so that each image's objects are decoded once. Every row is checked first
    (:func:`check_match`); ``purpose`` names the caller in the error for missing columns."""
    from tvnet.data.refer import decode_segmentation

    check_columns(rows, purpose)
    try:  # the dataset's refs decide image and referent, not the dump's (nullable) columns
        refs = pd.Series([refer.ref(int(r)) for r in rows["ref_id"]], index=rows.index)
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"a dump row's ref_id is not a ref of {refer.name}: {e}") from None
    image_of = refs.map(lambda r: int(r["image_id"]))
    check_match(rows, image_of, refer)
    image, objects = None, []
    order = (image_of if only is None else image_of.loc[list(only)]).sort_values(kind="stable")
    for idx in tqdm(order.index, disable=not progress, desc=purpose, unit="sample"):
        h, w = int(rows.at[idx, "height"]), int(rows.at[idx, "width"])
        if image_of[idx] != image:
            image = image_of[idx]
            objects = [
                (a, decode_segmentation(a.get("segmentation"), h, w))
                for a in refer.image_annotations(image)
            ]
        yield idx, refs[idx], decode_rle(rows.at[idx, "pred_rle"], h, w), objects


def sample_classes(rows: pd.DataFrame, refer: Any, progress: bool = False) -> pd.Series:
    """The class of every dump row (index kept); ``rows`` need :data:`COLUMNS`, ``refer`` is
    the :class:`tvnet.data.refer.ReferDataset` the dump was evaluated on."""
    out = pd.Series(index=rows.index, dtype=object)
    for idx, ref, pred, objects in predictions_by_image(
        rows, refer, "failure modes", progress=progress
    ):
        out[idx] = classify(pred, objects, int(ref["ann_id"]))
    return out


def same_data(d: Dump, name: str, fingerprint: str | Callable[[], str] = "") -> bool:
    """Was dump ``d`` scored on the dataset ``name`` whose refs file has ``fingerprint`` (a
    string, or a function that computes it, called only when ``d`` records one to compare;
    "": not known, the name decides). A dump written before fingerprints is judged by its
    name alone; SynthRef of another seed has the same name and other scenes."""
    if d.recorded_dataset_name != name:
        return False
    if not d.data_fingerprint:
        return True  # written before fingerprints: the name is all there is
    fp = fingerprint() if callable(fingerprint) else fingerprint
    return not fp or d.data_fingerprint == fp


def scored_on(d: Dump, refer: Any, fingerprint: str | None = None) -> bool:
    """:func:`same_data` for the dataset ``refer``; ``fingerprint``: ``refer.fingerprint()``,
    when the caller has it."""
    return same_data(d, refer.name, refer.fingerprint if fingerprint is None else fingerprint)


def open_dataset(data_dir: str, dataset: str | None = None, fingerprint: str = "") -> Any:
    """The refer-format folder ``data_dir`` as a dataset; ``dataset``, the name a dump
    records, must match it, and so must ``fingerprint``, its data's, where it records one."""
    from tvnet.data.refer import open_refer

    refer = open_refer(data_dir)
    if dataset is not None and dataset != refer.name:
        raise ValueError(f"the dump was evaluated on {dataset}, {data_dir} holds {refer.name}")
    if fingerprint and fingerprint != refer.fingerprint():
        raise ValueError(
            f"the dump was evaluated on other {refer.name} data than {data_dir} holds (its "
            "refs file differs: another seed or size?)"
        )
    return refer


def classes_in(
    rows: pd.DataFrame, data_dir: str, dataset: str | None = None, fingerprint: str = ""
) -> pd.Series:
    """:func:`sample_classes` of dump rows evaluated on the refer-format folder ``data_dir``
    (the dashboard's entry point; see :func:`open_dataset`)."""
    return sample_classes(rows, open_dataset(data_dir, dataset, fingerprint))


def shares_table(classes: Iterable[tuple[str, pd.Series]]) -> pd.DataFrame:
    """Rows: one per (variant, classes) pair; columns: n and the share (%) of each class in
    :data:`CLASSES`."""
    rows = []
    for variant, c in classes:
        share = c.value_counts(normalize=True).reindex(CLASSES, fill_value=0.0) * 100
        rows.append({"variant": variant, "n": len(c), **share.to_dict()})
    return pd.DataFrame(rows, columns=["variant", "n", *CLASSES]).set_index("variant")


def dump_rows(dumps: Iterable[Dump], names: Sequence[str] | None = None) -> list[tuple[str, Dump]]:
    """(row name, dump) in Table 1's order, for tables with a row per dump: ``names`` (one per
    dump, e.g. the report's, worked out over every dump it shows), else as Table 1 names them
    (:func:`analysis.naming.row_names`: budgets, seeds apart by their dump), with the split
    added when the dumps are of several ("full / test")."""
    dumps = list(dumps)
    names = list(names) if names is not None else row_names(dumps)
    if len({d.split for d in dumps}) > 1:
        names = [f"{n} / {d.split}" for n, d in zip(names, dumps)]
    return sorted(zip(names, dumps), key=lambda r: (variant_key(r[0]), r[1].split))


def failure_table(
    dumps: Iterable[Dump], refer: Any, progress: bool = False, names: Sequence[str] | None = None
) -> pd.DataFrame:
    """Rows: the dumps' variants (:func:`dump_rows`); columns: n and the share (%) of each
    class in :data:`CLASSES`."""
    return shares_table(
        (name, sample_classes(d.samples, refer, progress)) for name, d in dump_rows(dumps, names)
    )


def table_cli(
    prog: str,
    doc: str,
    make_table: Callable[[list[Dump], Any], pd.DataFrame],
    argv: Sequence[str] | None = None,
) -> int:
    """``prog DUMP... --data DIR``: the dumps (checked to be of DIR's dataset) and the dataset
    go to ``make_table``; its table is printed as Markdown. Shared by this module and
    :mod:`analysis.cues`."""
    ap = argparse.ArgumentParser(
        prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("dumps", nargs="+", metavar="DUMP", help="dump folders of one dataset")
    ap.add_argument("--data", required=True, metavar="DIR", help="the dumps' dataset")
    args = ap.parse_args(argv)
    from analysis.export import to_markdown
    from tvnet.data.refer import open_refer

    try:
        refer = open_refer(args.data)
        dumps = [load_dump(p, columns=COLUMNS) for p in args.dumps]
        fingerprint = refer.fingerprint()
        other = [str(d.path) for d in dumps if not scored_on(d, refer, fingerprint)]
        if other:
            raise ValueError(f"not evaluated on {args.data}'s {refer.name}: {', '.join(other)}")
        table = make_table(dumps, refer)
    except (OSError, ValueError, DumpError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(to_markdown(table, 1))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return table_cli(
        "python -m analysis.failures",
        __doc__,
        lambda dumps, refer: failure_table(dumps, refer, progress=True),
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
