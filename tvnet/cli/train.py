"""``tvnet train``: train one variant on a refer-format dataset."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from tvnet.cli import non_negative_int, positive_int
from tvnet.config import VARIANTS

RECIPES = Path(__file__).resolve().parents[2] / "configs"  # the repository's recipe files

EPILOG = """examples:
  tvnet train --variant full --data data/synthref --pool runs/pool --out runs/full
  tvnet train --config configs/cpu.json --variant baseline --data data/synthref --out runs/baseline --steps 800
  tvnet train ... --resume                       # continue an interrupted run bit-for-bit
  tvnet train ... --init runs/baseline/last --steps 4000 --lr 5e-4 --out runs/baseline-more
                                                 # a new schedule from a finished run's weights
  tvnet train ... --variant full --init runs/baseline/last --out runs/full-grown
                                                 # grow a baseline into full (RES, AMF start as no-ops)
  torchrun --nproc_per_node 4 -m tvnet train --config configs/paper.json --variant full \\
      --data "refer/data/refcoco/refs(unc).p" --pool runs/refcoco-pool --out runs/refcoco-full \\
      --batch-size 4 --steps 175000
                                                 # multi-GPU (DDP); the refs file picks the split scheme
  tvnet train --config configs/cpu.json --variant baseline --data data/synthref --out runs/h5 \\
      --set model.fusion_heads=5 --set train.loss_dice=0    # one-off changes, no new config file

A config is a JSON file {"model": {...ModelConfig fields...}, "train": {...TrainConfig fields...}}
(see configs/; `tvnet info --preset cpu` lists the model fields). Without --config the
preset's recipe, configs/<preset>.json, is read, and with --resume the recipe that OUT/run.json
records (the one the run started with; a --max-minutes of its last session is not kept).
Precedence: the preset, then the file, then
each --set, then the dedicated flags (--steps, --lr, ...). Values of --set are
read as JSON (5, 1e-3, true, null) and otherwise as text. The run's run.json records the
result."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a TV-Net variant",
        description="Train TV-Net (Adam, poly decay, 0.7/0.1 BCE loss; configs/cpu.json adds "
        "soft Dice on the final mask, train.loss_dice) on a refer-format dataset. "
        "Variants that use retrieval read the offline neighbour tables in --pool.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--config",
        type=Path,
        help="JSON config with 'model' and 'train' sections (default: the preset's recipe, "
        "configs/<preset>.json; with --resume, the recipe OUT/run.json records)",
    )
    p.add_argument(
        "--preset",
        default=None,
        help="model preset, cpu or paper (overrides the config file's; default: the file's, "
        "else cpu)",
    )
    p.add_argument(
        "--variant",
        default=None,
        choices=list(VARIANTS),
        help="ablation variant (default: the config file's, else full)",
    )
    p.add_argument(
        "--data",
        type=Path,
        required=True,
        help="refer-format dataset folder (refs(*).p|json + instances.json), or its refs file where "
        "the folder holds several split schemes (refer/data/refcocog/refs(umd).p)",
    )
    p.add_argument(
        "--pool",
        type=Path,
        help="retrieval pool folder holding neighbours_<dataset>_<split>.parquet",
    )
    p.add_argument(
        "--out", type=Path, required=True, help="run folder (checkpoints, log.jsonl, run.json)"
    )
    p.add_argument(
        "--steps", type=positive_int, help="optimisation steps (defines the poly schedule)"
    )
    p.add_argument("--batch-size", type=positive_int, help="global batch size")
    p.add_argument("--lr", type=float, help="initial learning rate")
    p.add_argument(
        "--max-minutes", type=float, help="stop early after this wall time (schedule unchanged)"
    )
    p.add_argument(
        "--seed", type=non_negative_int, help="seed of the initialisation and sample order"
    )
    p.add_argument("--checkpoint-every", type=positive_int, help="steps between checkpoints")
    p.add_argument(
        "--cache-dir", type=Path, help="backbone feature cache folder (default: next to --out)"
    )
    p.add_argument(
        "--no-amp", action="store_true", help="disable mixed precision (bf16/fp16 autocast)"
    )
    p.add_argument(
        "--val-samples",
        type=int,
        default=200,
        help="val samples scored after each epoch and at the end, logged to log.jsonl (default: 200; 0: none)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.FIELD=VALUE",
        help="override one config field, e.g. model.fusion_heads=5 or train.loss_dice=0 "
        "(repeatable; SECTION is model or train)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue from OUT/last (weights and optimiser state of one step); a missing or "
        "damaged optimiser state is an error, not a restart at step 0",
    )
    p.add_argument(
        "--init",
        type=Path,
        metavar="CKPT",
        help="start from this checkpoint's weights (and, for a glove_lstm model, its word "
        "vocabulary): fine-tuning, or more steps after a finished run, with a fresh optimiser "
        "and schedule; its model config must "
        "match the requested one (same --config/--variant/--set model.*), except that a "
        "smaller variant grows into a larger one (baseline → res, res_cct, full; res → "
        "res_cct, full), and a visual adapter is added when --set model.visual_adapter=W "
        "asks for one that the checkpoint lacks: the added modules start as no-ops, so the "
        "run starts at the checkpoint's accuracy. --resume of OUT takes precedence once "
        "OUT/last exists (and keeps where OUT's weights started)",
    )
    p.add_argument("--device", help="cpu, cuda, cuda:1 … (default: cuda when present)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def parse_overrides(items: list[str]) -> dict[str, dict[str, Any]]:
    """``["model.d_m=64", "train.lr=1e-3"]`` → ``{"model": {"d_m": 64}, "train": {"lr": 0.001}}``;
    each value is read as JSON where it parses and kept as text otherwise."""
    out: dict[str, dict[str, Any]] = {"model": {}, "train": {}}
    for item in items:
        key, eq, raw = item.partition("=")
        section, dot, name = key.strip().partition(".")
        if not eq or not dot or section not in out or not name:
            raise ValueError(
                f"--set {item!r}: expected SECTION.FIELD=VALUE with SECTION model or train, "
                "e.g. --set model.fusion_heads=5"
            )
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[section][name] = value
    return out


def _check_types(default: Any, given: dict[str, Any], where: str) -> None:
    """A value must have its field's type where the default has one (an int may stand for a
    float; None is allowed where the default is None)."""
    for name, value in given.items():
        ref = getattr(default, name, None)
        if ref is None or name in ("preset", "variant"):
            continue
        ok = isinstance(value, type(ref)) and not (
            isinstance(value, bool) and not isinstance(ref, bool)
        )
        if isinstance(ref, float) and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            raise ValueError(
                f"{where}: {name} must be {type(ref).__name__}, got {value!r} ({type(value).__name__})"
            )


def _recorded_recipe(record: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The model and train sections of a run's run.json (``tvnet train --resume`` without
    --config), fields retired since dropped; a damaged record is named."""
    from tvnet.config import ModelConfig, TrainConfig, known_fields
    from tvnet.io import read_json

    d = read_json(record, "the run's record")
    if not isinstance(d, dict) or not all(isinstance(d.get(k), dict) for k in ("model", "train")):
        raise ValueError(
            f"the run's record {record} is damaged (no 'model' and 'train' objects): give the "
            "run's --config to resume it"
        )
    where = f"the run's record {record}"
    train = known_fields(TrainConfig, dict(d["train"]), where)
    train.pop("max_minutes", None)  # a limit on one session, not the recipe's
    return known_fields(ModelConfig, dict(d["model"]), where), train


def _check_same_model(
    args: argparse.Namespace, sets: dict[str, Any], recorded: dict[str, Any], record: Path
) -> None:
    """A resume read from the run's record trains the preset and variant it records: another
    one asked for (--preset, --variant, --set model.preset/variant: ``sets``, the model's
    --set fields) is refused, since the record's fields would build a model of that name with
    the recorded one's layers."""
    asked = {
        "preset": args.preset or sets.get("preset"),
        "variant": args.variant or sets.get("variant"),
    }
    for name, value in asked.items():
        if value is not None and recorded.get(name) is not None and value != recorded[name]:
            raise ValueError(
                f"{record} records {name} {recorded[name]!r}, and this resume asks for "
                f"{value!r}: resume it as it started, or train the other one into another "
                "--out (or give its --config)"
            )


def load_config(args: argparse.Namespace):
    """(ModelConfig, TrainConfig) from the preset, --config, --set and the dedicated flags."""
    from tvnet.config import ModelConfig, TrainConfig, known_fields, preset_config

    model, train = {}, {}
    sets = parse_overrides(args.overrides)  # read once: the recipe's choice and the overrides
    record = args.out / "run.json" if args.resume and args.config is None else None
    if record is not None and record.is_file():  # the recipe the run started with, whatever
        model, train = _recorded_recipe(record)  # configs/ holds now
        _check_same_model(args, sets["model"], model, record)
        if os.environ.get("RANK", "0") == "0":
            print(f"note: no --config: resuming with the recipe {record} records", file=sys.stderr)
    elif args.config is None:  # the preset's own recipe, as the paper's or the CPU's training ran
        named = sets["model"].get("preset")
        recipe = RECIPES / f"{args.preset or named or 'cpu'}.json"
        if recipe.is_file():
            args.config = recipe
        elif os.environ.get("RANK", "0") == "0":  # a package without the repository's configs/
            print(
                f"note: no --config and no {recipe}: TrainConfig's bare defaults (tvnet/config.py)",
                file=sys.stderr,
            )
    if args.config:
        if not args.config.is_file():
            raise FileNotFoundError(f"config {args.config} not found")
        try:
            d = json.loads(args.config.read_text())
        except json.JSONDecodeError as e:
            raise ValueError(f"config {args.config} is not valid JSON: {e}") from None
        if not isinstance(d, dict) or set(d) - {"model", "train"}:
            raise ValueError(
                f"config {args.config}: expected an object with 'model' and/or 'train' sections"
            )
        for section in ("model", "train"):
            if not isinstance(d.get(section) or {}, dict):
                raise ValueError(
                    f"config {args.config}: '{section}' is {type(d[section]).__name__}, not an "
                    "object of fields"
                )
        model = known_fields(ModelConfig, dict(d.get("model") or {}), f"config {args.config}")
        train = known_fields(TrainConfig, dict(d.get("train") or {}), f"config {args.config}")
    model.update(known_fields(ModelConfig, sets["model"], "--set", recorded=False))
    train.update(known_fields(TrainConfig, sets["train"], "--set", recorded=False))
    preset = args.preset or model.pop("preset", "cpu")
    variant = args.variant or model.pop("variant", "full")
    model.pop("preset", None)
    model.pop("variant", None)
    base = preset_config(preset, variant)
    _check_types(base, model, "model config")
    _check_types(TrainConfig(), train, "train config")
    mcfg: ModelConfig = base.replace(**model) if model else base
    over = {
        "steps": args.steps,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "max_minutes": args.max_minutes,
        "seed": args.seed,
        "checkpoint_every": args.checkpoint_every,
    }
    train.update({k: v for k, v in over.items() if v is not None})
    if args.no_amp:
        train["amp"] = False
    return mcfg, TrainConfig.from_dict(train)


def run(args: argparse.Namespace) -> int:
    from tvnet.train.loop import train

    mcfg, tcfg = load_config(args)
    res = train(
        mcfg,
        tcfg,
        args.data,
        args.out,
        pool_dir=args.pool,
        cache_dir=args.cache_dir,
        resume=args.resume,
        init=args.init,
        device=args.device,
        progress=not args.quiet,
        val_samples=args.val_samples,
    )
    if os.environ.get("RANK", "0") != "0":  # under torchrun the summary is rank 0's to say
        return 0
    paused = f", {res.stalled_s:.0f} s of them suspended" if res.stalled_s >= 1 else ""
    print(
        f"trained {mcfg.variant}: {res.steps} steps in {res.wall_s:.0f} s{paused} "
        f"({res.samples_per_s:.1f} samples/s); checkpoint {res.checkpoint}"
    )
    if res.val:
        print(
            "val (subset): "
            + ", ".join(
                f"{k}={v:.3f}" for k, v in res.val.items() if isinstance(v, float) and "/" not in k
            )
        )
    return 0
