"""Record in older evaluation dumps the fingerprint of the data they were scored on, once
their rows are checked against that data.

    python tools/fingerprint_dumps.py --data data/synthref assets/dumps/*-val assets/dumps/*-test

`tvnet eval` records ``dataset.fingerprint`` (the SHA-256 of the refs file) since 2026-12-07;
a dump written before keeps the bare dataset name. Loaded beside dumps of another seed of the
same name, the older dumps cannot be told apart and stay apart from the fingerprinted dumps of
their own data (docs/design.md §5). This checks every row of each dump against ``--data``: its
dataset name, and for every row a sample of the dump's split with the same ref, sentence and
image ids, the same sentence, and the referent's share of the image; in a dump scored at the
original resolution also the image's size and the ground-truth mask itself (its RLE, to the
bit). Only then does it record the fingerprint in run.json, with
``dataset.fingerprint_checked`` saying when and against which folder. The rows are one
split's; the fingerprint is the whole refs file's, so another folder with the same split but
other training expressions (``tvnet synth --train N``) would pass as well. A dump with a
fingerprint already is left as it is (another one: an error), one without rows is refused.
Nothing is written unless every dump given passes; run.json alone is rewritten (atomically),
the rows are not touched.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from tvnet.data.refer import ReferDataset, open_refer
from tvnet.eval.dump import RUN_FILE, load_dump
from tvnet.eval.rle import encode_rle
from tvnet.io import atomic_write_json


def mismatch(
    dump: Any,
    refer: ReferDataset,
    truth: dict[int, tuple[float, str]],
    splits: dict[str, dict[int, Any]] | None = None,
) -> str | None:
    """Why ``dump``'s rows are not ``refer``'s (the first difference found), else None.
    ``truth``: each referent's share of its image and its mask's RLE, filled as masks are
    read; ``splits``: each split's samples by id, filled as splits are read (both shared by
    the dumps of one call)."""
    if dump.recorded_dataset_name != refer.name:
        return f"it records dataset {dump.recorded_dataset_name!r}, {refer.name!r} is given"
    split = str(dump.run.get("split") or "")
    if split not in refer.splits():
        return f"its split {split!r} is not one of {refer.splits()}"
    splits = {} if splits is None else splits
    if split not in splits:
        splits[split] = {s.sample_id: s for s in refer.samples(split)}
    samples = splits[split]
    rows = dump.samples
    if rows.empty:
        return "it holds no rows to check"
    original = (dump.run.get("protocol") or {}).get("resolution", "original") == "original"
    for r in rows.itertuples(index=False):
        s = samples.get(int(r.sample_id))
        if s is None:
            return f"sample {r.sample_id} is not in {refer.name}'s {split} split"
        if (int(r.ref_id), int(r.sent_id), int(r.image_id)) != (s.ref_id, s.sent_id, s.image_id):
            return f"sample {r.sample_id}: other ref, sentence or image ids"
        if str(r.sentence) != s.sentence:
            return f"sample {r.sample_id}: the sentence {r.sentence!r} is {s.sentence!r} here"
        if s.ref_id not in truth:
            gt = refer.mask(s.ref_id)
            truth[s.ref_id] = float(np.count_nonzero(gt)) / float(gt.size), encode_rle(gt)[0]
        share, rle = truth[s.ref_id]
        if float(r.gt_area_frac) != share:
            return f"sample {r.sample_id}: its referent covers another share of the image here"
        if not original:  # rows at the network's input size: no image size or mask to compare
            continue
        if (int(r.height), int(r.width)) != refer.image_size(s.image_id):
            return f"sample {r.sample_id}: image {s.image_id} is of another size here"
        if str(r.gt_rle) != rle:
            return f"sample {r.sample_id}: its referent's mask differs here"
    return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0].replace("\n", " "),
        epilog="Example: python tools/fingerprint_dumps.py --data data/synthref "
        "assets/dumps/*-val assets/dumps/*-test",
    )
    p.add_argument("dumps", type=Path, nargs="+", help="dump folders (each with run.json)")
    p.add_argument(
        "--data", type=Path, required=True, help="the dataset folder they were scored on"
    )
    args = p.parse_args(argv)
    try:
        refer = open_refer(args.data)
        fingerprint = refer.fingerprint()
        dumps = [load_dump(d) for d in args.dumps]
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    truth: dict[int, tuple[float, str]] = {}
    splits: dict[str, dict[int, Any]] = {}
    todo, failed = [], []
    for d in dumps:
        if d.data_fingerprint:
            if d.data_fingerprint != fingerprint:
                failed.append(f"{d.path}: it records another fingerprint than {args.data}'s")
            continue
        why = mismatch(d, refer, truth, splits)
        if why:
            failed.append(f"{d.path}: {why}")
        else:
            todo.append(d)
    if failed:
        print("nothing written:\n  " + "\n  ".join(failed), file=sys.stderr)
        return 1
    today = dt.date.today().isoformat()
    for d in todo:
        run = json.loads((d.path / RUN_FILE).read_text(encoding="utf-8"))
        had = run.get("dataset")  # an object, or (older dumps) the name alone
        dataset = {"name": had} if isinstance(had, str) else dict(had or {})
        dataset["fingerprint"] = fingerprint
        dataset["fingerprint_checked"] = (
            f"{today}: all {len(d.samples)} rows matched {args.data} (tools/fingerprint_dumps.py)"
        )
        run["dataset"] = dataset
        atomic_write_json(d.path / RUN_FILE, run)
    print(f"{len(todo)} dumps fingerprinted, {len(dumps) - len(todo)} had it already")
    return 0


if __name__ == "__main__":
    sys.exit(main())
