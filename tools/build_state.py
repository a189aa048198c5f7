"""Is a step of tools/build_default.sh already done? One question per call; the exit status
answers it, and a line on stderr says why when the answer is not "done".

    python tools/build_state.py data DATA TRAIN VAL TEST SEED
    python tools/build_state.py pool POOL DATA
    python tools/build_state.py neighbours POOL DATA SPLIT
    python tools/build_state.py steps -- train --config C ...   # prints the schedule's steps
    python tools/build_state.py trained -- train --config C --variant V --out RUN ...
    python tools/build_state.py dumped DUMP CHECKPOINT
    python tools/build_state.py calibrated CHECKPOINT VAL_DUMP [DUMP ...]

Exit status: 0 done (skip the step), 10 not done or not whole (run it: interrupted outputs are
never trusted), 11 present but made differently (another seed, size or recipe): the build
stops rather than overwrite or mix it. Any other status is an error of this script. ``trained`` and ``steps`` read the arguments of
``tvnet train`` exactly as that command does (preset, --config, --set, then --steps …), so the
recipe lives in the config file alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DONE, TODO, CONFLICT = 0, 10, 11
# fields of the train config a resumed run may differ in without being another recipe: what
# `tvnet train --resume` allows. (``steps`` defines the poly schedule: a run made for another
# number of steps is another recipe.)
from tvnet.config import CHECKPOINT_CONFIG, TRAINING_LOG  # noqa: E402
from tvnet.config import RESUME_MAY_CHANGE as RUN_ONLY_FIELDS  # noqa: E402


def _say(code: int, msg: str) -> int:
    print(msg, file=sys.stderr)
    return code


def _json(path: Path) -> dict[str, Any] | None:
    try:
        d = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return d if isinstance(d, dict) else None


def dataset_name(data: Path) -> str:
    """The name `tvnet` gives the dataset (:func:`tvnet.data.refer.open_refer`'s ``name``);
    the folder's name where there is no dataset to open yet (as tvnet would name it)."""
    from tvnet.data.refer import open_refer

    try:
        return open_refer(data).name
    except (OSError, ValueError):
        return data.resolve().name


def check_data(data: Path, train: int, val: int, test: int, seed: int) -> int:
    inst = data / "instances.json"
    if not data.exists():
        return _say(TODO, f"{data}: no dataset yet")
    info = (_json(inst) or {}).get("info")
    if not isinstance(info, dict):
        return _say(CONFLICT, f"{data} exists but {inst} is missing or unreadable")
    want = {"seed": seed, "sizes": {"train": train, "val": val, "test": test}}
    have = {"seed": info.get("seed"), "sizes": info.get("sizes")}
    if have != want:
        return _say(CONFLICT, f"{data} was generated with {have}, this build asks for {want}")
    return DONE


def check_pool(pool: Path, data: Path) -> int:
    from tvnet.retrieval.pool_files import MANIFEST  # here: the module imports faiss (≈ 1 s)

    man = _json(pool / MANIFEST)
    if man is None:
        return _say(TODO, f"{pool}: no pool yet")
    inst = _json(data / "instances.json") or {}
    n_train = ((inst.get("info") or {}).get("sizes") or {}).get("train")
    ds = man.get("dataset") or {}
    if ds.get("name") != dataset_name(data) or ds.get("split") != "train":
        return _say(TODO, f"{pool} pools {ds}, not the train split of {data}: rebuilt")
    if n_train is not None and man.get("count") != n_train:
        return _say(TODO, f"{pool} holds {man.get('count')} entries, {data} {n_train}: rebuilt")
    # the name is "synthref" for every seed and size: the entries must be this folder's
    foreign = _foreign_entry(pool, data)
    if foreign:
        return _say(TODO, f"{foreign}: rebuilt")
    return DONE


def _foreign_entry(pool: Path, data: Path) -> str | None:
    """Why ``pool`` is not a pool of ``data``'s folder, as ``tvnet`` itself decides before it
    writes a neighbour table (:func:`tvnet.retrieval.neighbours.check_pool_source`); None
    when every entry is one of the folder's samples."""
    from tvnet.data.refer import open_refer
    from tvnet.retrieval.neighbours import check_pool_source
    from tvnet.retrieval.pool import DataPool

    try:
        check_pool_source(DataPool.load(pool), open_refer(data), pool)
    except Exception as e:  # a probe: any unreadable pool or folder means "build it again"
        return f"{type(e).__name__}: {e}" if not isinstance(e, ValueError) else str(e)
    return None


def check_neighbours(pool: Path, data: Path, split: str) -> int:
    from tvnet.retrieval.neighbours import neighbours_path

    path = neighbours_path(pool, dataset_name(data), split)  # written atomically
    return DONE if path.is_file() else _say(TODO, f"{path}: not written yet")


def train_configs(argv: list[str]):
    """(args, ModelConfig, TrainConfig) of these ``tvnet train`` arguments."""
    from tvnet.cli import build_parser
    from tvnet.cli.train import load_config

    args = build_parser().parse_args(argv)
    if args.command != "train":
        raise SystemExit(f"expected the arguments of `tvnet train`, got {argv[:1]}")
    mcfg, tcfg = load_config(args)
    return args, mcfg, tcfg


def check_trained(argv: list[str]) -> int:
    """Done when OUT/last holds the requested recipe at the schedule's last step and the log
    closed the run; to resume when it stopped before; a conflict when OUT holds another
    recipe (a model config `--resume` would refuse, other training settings, a schedule of
    another number of steps, another training split, or neighbours from a pool rebuilt
    since: the checkpoint records its training table's digest)."""
    from tvnet.config import ModelConfig, TrainConfig

    args, mcfg, tcfg = train_configs(argv)
    out = Path(args.out)
    meta = _json(out / "last" / CHECKPOINT_CONFIG)
    if meta is None:
        return _say(TODO, f"{out}: no checkpoint yet")
    have_m = ModelConfig.from_dict(dict(meta.get("model") or {}))
    if have_m != mcfg:
        diff = sorted(k for k, v in mcfg.to_dict().items() if have_m.to_dict().get(k) != v)
        return _say(CONFLICT, f"{out} holds another model (fields {diff}); move it aside")
    # read as `tvnet train --resume` reads a recorded recipe (TrainConfig.as_recorded)
    have_t = TrainConfig.as_recorded(dict(meta.get("train") or {}))
    want_t = tcfg.to_dict()
    diff = sorted(k for k in want_t if k not in RUN_ONLY_FIELDS and have_t.get(k) != want_t[k])
    if diff:
        what = ", ".join(f"{k} {have_t.get(k)!r}, asked {want_t[k]!r}" for k in diff)
        return _say(CONFLICT, f"{out} was trained with other settings ({what}); move it aside")
    # trained on another split (TRAIN_SIZE changed between builds): the check `tvnet train
    # --resume` makes (the dataset's name and count of training samples, wherever the folders
    # now lie)
    refer = None
    if Path(args.data).is_dir():
        from tvnet.data.refer import open_refer
        from tvnet.train.resume import check_same_data

        refer = open_refer(args.data)
        try:
            check_same_data(
                meta.get("data"), refer.name, len(refer.samples("train")), out, refer.fingerprint()
            )
        except ValueError as e:
            return _say(CONFLICT, f"{e}; or move it aside")
    had = meta.get("neighbours")  # the training neighbour table it was started with
    if had and args.pool:
        from tvnet.retrieval.neighbours import neighbours_path, table_digest

        name = refer.name if refer is not None else dataset_name(Path(args.data))
        table = neighbours_path(args.pool, name, "train")
        now = table_digest(table) if table.is_file() else None
        if now != had:
            return _say(
                CONFLICT,
                f"{out} was trained on another neighbour table than {table} (the pool was "
                "rebuilt since); move it aside",
            )
    step = int(meta.get("step") or 0)
    closed = False
    try:
        lines = (out / TRAINING_LOG).read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:  # a line cut short by a killed run spoils only itself
        try:
            rec = json.loads(line) if line.startswith("{") else {}
        except ValueError:
            continue
        closed = closed or (
            isinstance(rec, dict) and rec.get("done") is True and rec.get("steps") == tcfg.steps
        )
    if step < tcfg.steps or not closed:
        return _say(TODO, f"{out}: step {step} of {tcfg.steps}, run not closed: resumed")
    return DONE


def weights_hash(checkpoint: Path) -> str | None:
    return (_json(checkpoint / CHECKPOINT_CONFIG) or {}).get("weights_sha256")


def check_dumped(dump: Path, checkpoint: Path) -> int:
    """Done when DUMP is whole (run.json is written last, then the folder is swapped in), was
    evaluated from the checkpoint's present weights, and as the build evaluates: the whole
    split, the default protocol (threshold, original resolution, no mirror averaging), the
    expressions read through the lexicon. A hand-made dump saved under the build's name
    (`--limit`, `--mirror`, `--literal`, another threshold) is redone, not shipped as its."""
    import pyarrow.parquet as pq

    from tvnet.config import MASK_THRESHOLD
    from tvnet.eval.dump import RUN_FILE, SAMPLES_FILE

    run = _json(dump / RUN_FILE)
    if run is None:
        return _say(TODO, f"{dump}: no dump yet")
    want = weights_hash(checkpoint)
    if not want or run.get("checkpoint_hash") != want:
        return _say(TODO, f"{dump} was evaluated from other weights than {checkpoint}: redone")
    proto = run.get("protocol") or {}
    other = [
        what
        for what, differs in (
            ("mirror averaged", bool(proto.get("mirror"))),
            (
                f"threshold {proto.get('threshold')}",
                proto.get("threshold", MASK_THRESHOLD) != MASK_THRESHOLD,
            ),
            (
                f"{proto.get('resolution')} resolution",
                proto.get("resolution", "original") != "original",
            ),
            ("words as written", bool((run.get("reading") or {}).get("literal"))),
            (
                "no influence reruns",  # --no-influence; the baseline has none to run
                run.get("variant") != "baseline"
                and (run.get("influence") or {}).get("gate_closed") is False,
            ),
            (
                f"{run.get('n_samples')} of {run.get('split_size')} samples",
                run.get("split_size") is not None and run.get("split_size") != run.get("n_samples"),
            ),
            (  # the build names its dumps VARIANT-SPLIT
                f"split {run.get('split')!r}",
                dump.name.rsplit("-", 1)[-1] in ("val", "test")
                and run.get("split") != dump.name.rsplit("-", 1)[-1],
            ),
            ("fp32 (--no-amp)", run.get("amp") is False),  # the build's evaluations autocast
        )
        if differs
    ]
    if other:
        return _say(TODO, f"{dump} is not the build's evaluation ({', '.join(other)}): redone")
    try:
        rows = pq.ParquetFile(dump / SAMPLES_FILE).metadata.num_rows
    except (OSError, ValueError) as e:
        return _say(TODO, f"{dump}: samples unreadable ({e}): redone")
    if rows != run.get("n_samples"):
        return _say(TODO, f"{dump}: {rows} rows, run.json says {run.get('n_samples')}: redone")
    return DONE


def check_calibrated(checkpoint: Path, dumps: list[Path]) -> int:
    """Done when CHECKPOINT/calibration.json belongs to its present weights, was fitted on the
    whole first dump's split (the build's val dump), and every dump's run.json names that
    calibration (its confidence column was filled from it)."""
    from tvnet.eval.calibration import CALIBRATION_FILE
    from tvnet.eval.dump import RUN_FILE

    cal = _json(checkpoint / CALIBRATION_FILE)
    if cal is None:
        return _say(TODO, f"{checkpoint}: not calibrated yet")
    if cal.get("checkpoint_hash") != weights_hash(checkpoint):
        return _say(TODO, f"{checkpoint}/calibration.json belongs to other weights: redone")
    fitted = cal.get("fitted_on") or {}
    val = _json(dumps[0] / RUN_FILE) if dumps else None
    if val is not None and (
        fitted.get("split") != val.get("split") or fitted.get("n") != val.get("n_samples")
    ):  # fitted by hand on another split or a part of it (--limit): the build fits on val
        return _say(
            TODO,
            f"{checkpoint}/calibration.json was fitted on {fitted.get('n')} "
            f"{fitted.get('split')} answers, not {dumps[0]}'s {val.get('n_samples')}: redone",
        )
    for d in dumps:
        got = ((_json(d / RUN_FILE) or {}).get("calibration")) or {}
        if got.get("fitted_on") != cal.get("fitted_on"):
            return _say(TODO, f"{d}: confidence not from {checkpoint}'s calibration: redone")
    return DONE


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    what, rest = argv[0], argv[1:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    if what == "data":
        data, train, val, test, seed = rest
        return check_data(Path(data), int(train), int(val), int(test), int(seed))
    if what == "pool":
        return check_pool(Path(rest[0]), Path(rest[1]))
    if what == "neighbours":
        return check_neighbours(Path(rest[0]), Path(rest[1]), rest[2])
    if what == "steps":
        print(train_configs(rest)[2].steps)
        return 0
    if what == "trained":
        return check_trained(rest)
    if what == "dumped":
        return check_dumped(Path(rest[0]), Path(rest[1]))
    if what == "calibrated":
        return check_calibrated(Path(rest[0]), [Path(p) for p in rest[1:]])
    raise SystemExit(f"unknown question {what!r}; see --help")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
