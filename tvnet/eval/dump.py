"""The evaluation dump of docs/design.md §5: ``DIR/samples.parquet`` + ``DIR/run.json``.

``samples.parquet`` holds one row per expression, with the columns of :data:`COLUMNS` (types
in :data:`SCHEMA`). The ``neighbour_*``, ``nogate_*`` and ``randnb_*`` columns are null for
variants that retrieve nothing; ``expression_type`` is null where the refs file records no
sentence type (SynthRef records one, RefCOCO does not); ``read_as`` is null where the model read
the expression as written; ``confidence`` is null when the
checkpoint had no calibration fitted at the dump's threshold, ``image_similarity`` when no pool was given; and the columns of
:data:`OPTIONAL_COLUMNS` may be absent from older files, which read them as null. Masks are COCO RLE ``counts`` strings (pycocotools), decoded
with :func:`tvnet.eval.rle.decode_rle` and the row's ``height`` / ``width``.

``run.json`` holds what the run was: ``config``, ``checkpoint_hash`` (the weights' SHA-256), ``code_version``,
``dataset`` (``{"name", "data_dir"}``, the refer-format folder the images come from),
``split``, ``variant``, ``protocol`` (``threshold``, ``resolution``), ``timings`` and the
aggregate ``metrics`` — the latter only for a reader's convenience: analysis recomputes every
number from the rows (:func:`tvnet.eval.metrics.aggregate`).

:class:`tvnet.eval.dump_writer.DumpWriter` writes a dump atomically. :func:`load_dump` validates a dump and raises :class:`DumpError` naming the bad
file; :func:`load_dumps` finds every dump under a folder and keeps going past broken ones.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tvnet.config import TRAINING_LOG
from tvnet.eval.dump_checks import NUMERIC as _NUMERIC
from tvnet.eval.dump_checks import DumpError, check_init_steps, check_rows, check_run_types
from tvnet.eval.metrics import OPTIONAL_FIELDS
from tvnet.warmstart import recorded_count, start_label, training_budget, training_schedule

SAMPLES_FILE = "samples.parquet"
RUN_FILE = "run.json"
FORMAT_VERSION = 1

SCHEMA = pa.schema(
    [
        ("sample_id", pa.int64()),
        ("ref_id", pa.int64()),
        ("sent_id", pa.int64()),
        ("image_id", pa.int64()),
        ("sentence", pa.string()),
        ("inter", pa.int64()),
        ("union", pa.int64()),
        ("iou", pa.float64()),
        ("gt_area_frac", pa.float64()),
        ("size_bin", pa.string()),
        ("height", pa.int32()),
        ("width", pa.int32()),
        ("pred_rle", pa.string()),
        ("gt_rle", pa.string()),
        ("neighbour_image_id", pa.int64()),
        ("neighbour_sentence", pa.string()),
        ("neighbour_score", pa.float64()),
        ("variant", pa.string()),
        ("split", pa.string()),
        ("expression_type", pa.string()),
        # the expression as the model read it, where the lexicon rewrote words it never saw
        # (tvnet.eval.reading, as tvnet.Predictor reads); null: read as written
        ("read_as", pa.string()),
        # how far to trust each answer (docs/design.md §7): the raw score, its calibrated
        # confidence, the query image's similarity to the closest pool image
        ("score", pa.float64()),
        ("confidence", pa.float64()),
        ("image_similarity", pa.float64()),
        # what the answer owes to the neighbour (RES variants): the mask with the gate closed
        # and with a random pool image as neighbour, each against gt (I, U) and the answer (IoU)
        ("nogate_inter", pa.int64()),
        ("nogate_union", pa.int64()),
        ("nogate_iou", pa.float64()),
        ("randnb_inter", pa.int64()),
        ("randnb_union", pa.int64()),
        ("randnb_iou", pa.float64()),
    ]
)
COLUMNS: tuple[str, ...] = tuple(SCHEMA.names)
# may be absent from a file (dumps written before they existed): read as null
OPTIONAL_COLUMNS: tuple[str, ...] = OPTIONAL_FIELDS

__all__ = [
    "SCHEMA",
    "COLUMNS",
    "DumpError",
    "Dump",
    "nan_to_none",
    "load_dump",
    "load_dumps",
    "tag_datasets",
    "find_dumps",
]


def nan_to_none(obj: Any) -> Any:
    """``obj`` with every float NaN (nested in dicts and lists) as None: JSON's null."""
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {k: nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [nan_to_none(v) for v in obj]
    return obj


# ---------------------------------------------------------------------------------------------
# reading


@dataclass
class Dump:
    """One loaded dump: its rows, its ``run.json`` and its folder."""

    samples: pd.DataFrame
    run: dict[str, Any]
    path: Path
    label: str = field(default="")
    # what tells its data apart from another dataset of the same name among the dumps loaded
    # together (:func:`load_dumps`): "" when nothing needs to
    dataset_tag: str = field(default="")

    def __post_init__(self) -> None:
        if not self.label:
            self.label = self.path.name

    @property
    def variant(self) -> str:
        return str(self.run.get("variant") or _single(self.samples, "variant") or self.label)

    @property
    def start(self) -> str:
        """How the evaluated weights started: ``""`` from scratch, ``"grown from V"`` when
        ``tvnet train --init`` grew them from a smaller variant V, ``"warm start"`` when it
        continued a checkpoint of the same variant (run.json's ``init``, from the checkpoint)."""
        init = self.run.get("init")
        return start_label(init if isinstance(init, dict) else None, self.variant)

    @property
    def budget(self) -> int | None:
        """Training samples its weights saw (warm starts included), or None when not recorded
        (:func:`tvnet.warmstart.training_budget`)."""
        return training_budget(self.run)

    @property
    def schedule(self) -> str:
        """Its training schedule in words, e.g. ``"4,000 × 8"``, ``""`` when not recorded
        (:func:`tvnet.warmstart.training_schedule`)."""
        return training_schedule(self.run)

    @property
    def training(self) -> str:
        """How long and where its weights trained, in a line, e.g. "57 min at 46.8 samples/s,
        AMD EPYC, bf16 autocast"; ``""`` when the checkpoint recorded no training time
        (run.json's ``training_time``, from the checkpoint: :mod:`tvnet.record`)."""
        from tvnet.record import summary

        return summary(self.run.get("training_time"))  # "" for a damaged record too

    @property
    def scored_on(self) -> str:
        """The processor and precision its answers were computed in, e.g. "AMD EPYC (family
        26 model 2), bf16 autocast"; ``""`` for a dump written before run.json recorded them
        (2026-12-08) or with a damaged record."""
        m = self.run.get("scored_on")
        if not isinstance(m, dict) or not m.get("processor"):
            return ""
        return ", ".join(str(m[k]) for k in ("processor", "precision") if m.get(k))

    @property
    def protocol(self) -> dict[str, Any]:
        """run.json's ``protocol`` (threshold, resolution, name, mirror); {} where it is missing
        or not an object (a damaged dump)."""
        protocol = self.run.get("protocol")
        return protocol if isinstance(protocol, dict) else {}

    @property
    def mirror(self) -> bool:
        """Were its answers averaged with the mirror image's (``tvnet eval --mirror``)?"""
        return self.protocol.get("mirror") is True

    @property
    def name(self) -> str:
        """The row name of this run in tables: the variant, and how its weights started when
        they did not start from scratch, e.g. ``"full (grown from baseline)"``,
        ``"step 9,000 of 20,000"`` for the weights of a run stopped before its schedule
        ended, ``"mirror averaged"`` for answers averaged with the mirror image's, and a protocol
        other than CMPC's (``"threshold 0.4"``, ``"input resolution"``): none of them is
        another seed of the same recipe."""
        how = [self.start] if self.start else []
        train = self.run.get("train") if isinstance(self.run.get("train"), dict) else {}
        step, steps = recorded_count(self.run.get("step")), recorded_count(train.get("steps"))
        if step and steps and step < steps:
            # weights of a run stopped before its schedule ended: not a seed of finished runs
            how.append(f"step {step:,} of {steps:,}")
        how += self.scoring
        return f"{self.variant} ({', '.join(how)})" if how else self.variant

    @property
    def limit(self) -> int | None:
        """The samples scored when only the first of the split were (``tvnet eval --limit``;
        known since run.json records ``split_size``), else None."""
        n = recorded_count(self.run.get("n_samples"))
        size = recorded_count(self.run.get("split_size"))
        return n if n and size and n < size else None

    @property
    def literal(self) -> bool:
        """Were its expressions read as written (``tvnet eval --literal``), not through the
        lexicon?"""
        reading = self.run.get("reading")
        return isinstance(reading, dict) and reading.get("literal") is True

    @property
    def scoring(self) -> list[str]:
        """How its answers were scored where not as Table 1's (single answers, the CMPC
        protocol, the whole split, words read as the Predictor reads them): ``"mirror
        averaged"``, ``"threshold 0.4"``, ``"input resolution"``, ``"first 200 of 1,000
        samples"`` (``tvnet eval --limit``), ``"words as written"`` (``--literal``)."""
        from tvnet.config import MASK_THRESHOLD

        how = ["mirror averaged"] if self.mirror else []
        if self.limit is not None:
            how.append(
                f"first {self.limit:,} of {recorded_count(self.run['split_size']):,} samples"
            )
        if self.literal:
            how.append("words as written")
        protocol = self.protocol  # whatever its name says (hand-written or older dumps)
        if protocol.get("threshold") not in (None, MASK_THRESHOLD):
            how.append(f"threshold {protocol['threshold']:g}")
        if protocol.get("resolution") not in (None, "original"):
            how.append(f"{protocol['resolution']} resolution")
        return how

    @property
    def split(self) -> str:
        return str(self.run.get("split") or _single(self.samples, "split") or "")

    @property
    def dataset(self) -> dict[str, Any]:
        ds = self.run.get("dataset") or {}
        return ds if isinstance(ds, dict) else {"name": str(ds)}

    @property
    def dataset_name(self) -> str:
        """The dataset's name as run.json records it ("synthref", "refcoco+" …), else
        "unknown": the one reading of it that tables, reports and the dashboard share. Where
        dumps loaded together hold two datasets of one name (SynthRef of two seeds: other
        scenes, other expressions under the same sample ids), each says which in brackets
        ("synthref (synthref-seed1)"), so no table pools or pairs them."""
        name = self.recorded_dataset_name
        return f"{name} ({self.dataset_tag})" if self.dataset_tag else name

    @property
    def recorded_dataset_name(self) -> str:
        """The dataset's name as run.json records it, else "unknown", without the tag that
        :attr:`dataset_name` adds: what a dataset folder's own name is compared with."""
        return recorded_dataset_name(self.run)

    @property
    def data_fingerprint(self) -> str:
        """The SHA-256 of the refs file it was scored on (run.json's ``dataset.fingerprint``,
        since 2026-12-07), else ""."""
        return str(self.dataset.get("fingerprint") or "")

    @property
    def checkpoint_hash(self) -> str:
        """The hash of the weights this dump was scored with ("" when run.json records none;
        ``checkpoint_sha256`` is the name older dumps use)."""
        return str(self.run.get("checkpoint_hash") or self.run.get("checkpoint_sha256") or "")


def recorded_dataset_name(run: dict[str, Any]) -> str:
    """The dataset's name as a run.json records it (``dataset.name``, or an older run.json's
    plain ``dataset`` string), else "unknown"."""
    ds = run.get("dataset") or {}
    return str((ds if isinstance(ds, dict) else {"name": str(ds)}).get("name") or "unknown")


def _single(df: pd.DataFrame, col: str) -> str | None:
    if col not in df.columns or df.empty:
        return None
    values = df[col].dropna().unique()
    return str(values[0]) if len(values) == 1 else None


def load_dump(dir: str | os.PathLike, columns: list[str] | None = None) -> Dump:
    """Read and validate one dump folder; :class:`DumpError` names the file at fault.

    ``columns`` restricts the parquet columns read (the required metric columns are always
    read); by default all of :data:`COLUMNS`.
    """
    path = Path(dir)
    if not path.is_dir():
        raise DumpError(f"{path}: not a dump folder (no such directory)")
    run_path = path / RUN_FILE
    samples_path = path / SAMPLES_FILE
    if not run_path.is_file():
        raise DumpError(f"{run_path}: run.json is missing — not a complete evaluation dump")
    try:
        run = json.loads(run_path.read_text(encoding="utf-8"))
    except OSError as e:  # unreadable: permissions, an I/O error
        raise DumpError(f"{run_path}: run.json cannot be read ({e})") from e
    except ValueError as e:  # not JSON, not UTF-8, a number past Python's digit limit
        raise DumpError(f"{run_path}: run.json is not valid JSON ({e})") from e
    if not isinstance(run, dict):
        raise DumpError(f"{run_path}: run.json must hold a JSON object, got {type(run).__name__}")
    check_run_types(run, run_path)
    check_init_steps(run, run_path)
    if not samples_path.is_file():
        raise DumpError(f"{samples_path}: samples.parquet is missing")
    try:
        schema = pq.read_schema(samples_path)
    except (pa.ArrowException, OSError) as e:
        raise DumpError(f"{samples_path}: not a readable parquet file ({e})") from e
    missing = [c for c in COLUMNS if c not in schema.names and c not in OPTIONAL_COLUMNS]
    if missing:
        raise DumpError(f"{samples_path}: missing column(s) {', '.join(missing)}")
    wanted = (
        list(COLUMNS)
        if columns is None
        else list(dict.fromkeys([*_NUMERIC, "size_bin", "variant", "split", *columns]))
    )
    absent = [c for c in wanted if c not in schema.names]
    unknown = [c for c in absent if c not in OPTIONAL_COLUMNS]
    if unknown:
        raise DumpError(f"{samples_path}: no column(s) {', '.join(unknown)}")
    try:
        samples = pq.read_table(
            samples_path, columns=[c for c in wanted if c not in absent]
        ).to_pandas()
    except (pa.ArrowException, OSError) as e:
        raise DumpError(f"{samples_path}: corrupt parquet data ({e})") from e
    for c in absent:  # older dumps: null, as NaN where the column is numeric
        numeric = pa.types.is_integer(SCHEMA.field(c).type) or pa.types.is_floating(
            SCHEMA.field(c).type
        )
        samples[c] = (
            pd.Series(np.nan, index=samples.index, dtype="float64")
            if numeric
            else pd.Series([None] * len(samples), dtype=object)
        )
    samples = samples[wanted]  # the schema's order, wherever absent columns were filled in
    check_rows(samples, run, samples_path)
    return Dump(samples=samples, run=run, path=path)


def find_dumps(root: str | os.PathLike) -> list[Path]:
    """Every folder under ``root`` (itself included) that holds a samples.parquet or run.json.

    Hidden folders (an unfinished :class:`~tvnet.eval.dump_writer.DumpWriter`'s temporary folder) and training runs
    (a run.json beside a log.jsonl, no samples) are skipped.
    """
    root = Path(root)
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        training = TRAINING_LOG in filenames and SAMPLES_FILE not in filenames
        if (SAMPLES_FILE in filenames or RUN_FILE in filenames) and not training:
            found.append(Path(dirpath))
    return found


def load_dumps(
    root: str | os.PathLike, columns: list[str] | None = None
) -> tuple[list[Dump], list[tuple[Path, str]]]:
    """Load every dump under ``root``: (dumps, [(path, error message), ...]).

    A broken dump goes to the error list and the others still load. A missing ``root`` is
    one error; an empty folder gives two empty lists.
    """
    root = Path(root)
    if not root.is_dir():
        return [], [(root, f"{root}: dump folder not found")]
    dumps: list[Dump] = []
    errors: list[tuple[Path, str]] = []
    for d in find_dumps(root):
        try:
            dump = load_dump(d, columns=columns)
        except DumpError as e:
            errors.append((d, str(e)))
            continue
        rel = d.relative_to(root)
        dump.label = str(rel) if str(rel) != "." else d.name
        dumps.append(dump)
    tag_datasets(dumps)
    return dumps, errors


def tag_datasets(dumps: list[Dump]) -> None:
    """Set :attr:`Dump.dataset_tag` where dumps of one dataset name were scored on different
    data (their recorded fingerprints differ): the data folder's name where that tells them
    apart, else the fingerprint's first digits. A dump that records no fingerprint (written
    before it was recorded) cannot be told apart and keeps the bare name."""
    by_name: dict[str, list[Dump]] = {}
    for d in dumps:
        d.dataset_tag = ""
        if d.data_fingerprint:
            by_name.setdefault(d.recorded_dataset_name, []).append(d)
    for group in by_name.values():
        folders: dict[str, set[str]] = {}  # the data folders' names of each fingerprint
        for d in group:
            name = Path(str(d.dataset.get("data_dir") or "")).name
            folders.setdefault(d.data_fingerprint, set()).add(name)
        if len(folders) < 2:
            continue
        names = [next(iter(f)) if len(f) == 1 else "" for f in folders.values()]
        by_folder = all(names) and len(set(names)) == len(names)  # one each, all different
        tags = dict(zip(folders, names)) if by_folder else {fp: fp[:8] for fp in folders}
        for d in group:
            d.dataset_tag = tags[d.data_fingerprint]
