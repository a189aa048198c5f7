"""``tvnet calibrate``: fit a checkpoint's confidence map on its own val dump (docs/design.md §7)."""

from __future__ import annotations

import argparse
from pathlib import Path

EPILOG = """examples:
  tvnet eval --checkpoint runs/full/last --data data/synthref --split val --pool runs/pool --out dumps/full-val
  tvnet calibrate --checkpoint runs/full/last --dump dumps/full-val
  tvnet calibrate --checkpoint runs/full/last --dump dumps/full-val --apply dumps/full-test

The map from each answer's raw score (SAM's stability score of its probability map) to
P(IoU ≥ 0.5) is fitted post hoc on the val dump's rows: Platt scaling or isotonic regression,
whichever has the lower 5-fold cross-validated log loss (--method to force one). With it,
CKPT/calibration.json stores the val distribution of the images' similarity to the pool and of
the referents' areas, which the Predictor's warnings compare against. --apply fills the
confidence column of other dumps of the same checkpoint (a test dump: the honest check)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate",
        help="fit the confidence of a checkpoint on its val dump",
        description="Fit the map from each answer's raw score to the probability that its mask "
        "is right (IoU ≥ 0.5) on the checkpoint's own val dump, and write it with the "
        "checkpoint as calibration.json (atomically). The Predictor and `tvnet eval` then "
        "report a confidence per answer.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--checkpoint", type=Path, required=True, help="checkpoint folder")
    p.add_argument(
        "--dump",
        type=Path,
        required=True,
        help="the checkpoint's val dump (`tvnet eval --split val --out DIR`, with the score column)",
    )
    p.add_argument(
        "--method",
        choices=["auto", "platt", "isotonic"],
        default="auto",
        help="auto (default): the lower cross-validated log loss",
    )
    p.add_argument(
        "--apply",
        type=Path,
        action="append",
        default=[],
        metavar="DUMP",
        help="also fill the confidence column of this dump of the same checkpoint, cut at the same "
        "threshold as --dump (repeatable; every dump is checked before anything is written)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="fit even on a test split or on a dump of other weights",
    )
    p.set_defaults(func=run)


UNFIT = 3  # the exit status of a dump that gives no calibration (tools/build_default.sh reads it)


def _unfit(dump, e: Exception) -> int:
    """The dump's answers give no usable calibration: said, and :data:`UNFIT` returned, so that
    a build tells this expected gap (a few test steps) from a failure."""
    import sys

    print(f"tvnet calibrate: {dump} gives no usable calibration: {e}", file=sys.stderr)
    return UNFIT


def _check_dump(dump, meta: dict, force: bool, fitting: bool = False) -> None:
    """ValueError (``--force`` passes all but the first) when ``dump`` is not of the checkpoint
    whose config is ``meta``: no scores, other weights, weights it does not record (a dump
    of another model's would calibrate this one silently), another variant; when
    ``fitting``, also answers of another protocol than the direct, original-size ones."""
    if "score" not in dump.samples or dump.samples["score"].isna().all():
        raise ValueError(
            f"{dump.path} has no score column: re-evaluate with this version of `tvnet eval`"
        )
    if force:
        return
    have, ckpt_hash = dump.checkpoint_hash, str(meta.get("weights_sha256") or "")
    if have and ckpt_hash and have != ckpt_hash:
        raise ValueError(
            f"{dump.path} was evaluated from other weights (checkpoint_hash {str(have)[:12]}…, "
            f"the checkpoint has {ckpt_hash[:12]}…); --force to use it anyway"
        )
    if not have or not ckpt_hash:
        missing = (
            f"{dump.path} does not record the weights it was evaluated from"
            if not have
            else "the checkpoint records no hash of its weights"
        )
        raise ValueError(
            f"{missing}, so nothing says its answers are the checkpoint's; --force to use it anyway"
        )
    variant = str((meta.get("model") or {}).get("variant") or "")
    if variant and dump.variant and dump.variant != variant:
        raise ValueError(
            f"{dump.path} holds answers of {dump.variant}, the checkpoint is {variant}; "
            "--force to use it anyway"
        )
    protocol = dump.protocol
    if fitting and (protocol.get("mirror") or protocol.get("resolution", "original") != "original"):
        # the confidence of an answer is fitted on direct answers compared at the image's own
        # size (docs/design.md §7): another protocol's right and wrong would skew every later one
        raise ValueError(
            f"{dump.path} holds "
            + ("mirror-averaged answers" if protocol.get("mirror") else
               f"answers compared at resolution {protocol.get('resolution')!r}")
            + ": fit the confidence on a plain `tvnet eval` dump (direct answers, original "
            "resolution); --force to fit on it anyway"
        )  # fmt: skip


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from tvnet.checkpoint import read_checkpoint_config
    from tvnet.config import MASK_THRESHOLD
    from tvnet.eval.calibration import (
        CORRECT_IOU,
        Calibration,
        expected_calibration_error,
        fit_calibration,
    )
    from tvnet.eval.dump import load_dump
    from tvnet.eval.dump_writer import update_dump

    meta = read_checkpoint_config(args.checkpoint)
    ckpt_hash = meta.get("weights_sha256", "")
    dump = load_dump(args.dump)
    _check_dump(dump, meta, args.force, fitting=True)
    if (dump.split.startswith("test") or dump.split == "train") and not args.force:
        raise ValueError(
            f"{args.dump} is a {dump.split} dump: calibrate on val ("
            + ("answers on the expressions it trained on are surer than any other; "
               if dump.split == "train" else "")
            + "keep test for the honest check, --apply); --force to fit on it anyway"
        )  # fmt: skip
    df = dump.samples
    rows = df[df["score"].notna()]
    correct = rows["iou"].to_numpy() >= CORRECT_IOU
    try:
        cal = fit_calibration(rows["score"].to_numpy(), correct, args.method)
    except ValueError as e:  # too few answers, or only right (or wrong) ones: nothing to fit
        return _unfit(args.dump, e)
    protocol = dump.protocol
    threshold = protocol.get("threshold", MASK_THRESHOLD)
    cal.fitted_on = {
        "dump": str(args.dump),
        "split": dump.split,
        "n": int(len(rows)),
        "variant": dump.variant,
        "threshold": threshold,
        "resolution": protocol.get("resolution", "original"),
        "mirror": dump.mirror,
        "correct": f"IoU >= {CORRECT_IOU}",
    }
    cal.checkpoint_hash = ckpt_hash
    sims = df.drop_duplicates("image_id")["image_similarity"].astype(float).dropna()
    if len(sims):  # one value per image: a property of the picture, not of the expression
        cal.image_similarity = {
            "q01": float(np.quantile(sims, 0.01)),
            "q05": float(np.quantile(sims, 0.05)),
            "median": float(np.median(sims)),
            "n_images": int(len(sims)),
        }
    areas = df["gt_area_frac"].astype(float)
    cal.mask_area = {"q01": float(np.quantile(areas, 0.01)), "min": float(areas.min())}
    try:  # what load_calibration will check, before anything is written
        Calibration.from_dict(cal.to_dict())
    except ValueError as e:
        return _unfit(args.dump, e)
    targets = [dump]  # every dump to fill, checked before anything is written
    for extra in args.apply:
        d = load_dump(extra)
        _check_dump(d, meta, args.force)
        if not cal.applies_to(d.protocol.get("threshold", MASK_THRESHOLD)):
            raise ValueError(
                f"{extra} cuts its masks at another threshold than {args.dump} ({threshold:g}): "
                "a confidence fitted at one does not hold at the other"
            )
        targets.append(d)
    path = cal.save(args.checkpoint)
    cv = cal.selection["cross_validated"]
    print(
        f"{dump.variant}: {cal.method} on {len(rows)} {dump.split} answers "
        f"({correct.mean():.1%} right); ECE {cal.ece_before:.3f} → {cal.ece_after:.3f}"
    )
    for m, v in cv.items():
        print(
            f"  {m:9s} 5-fold: log loss {v['log_loss']:.4f}, Brier {v['brier']:.4f}, "
            f"ECE {v['ece']:.3f}"
        )
    if cal.image_similarity:
        s = cal.image_similarity
        print(
            f"  image similarity q01 {s['q01']:.3f}, q05 {s['q05']:.3f}, median {s['median']:.3f}"
        )
    print(f"  referent area q01 {cal.mask_area['q01']:.4f}; written {path}")
    for d in targets:
        target = d.path
        conf = [None if s != s else float(cal(s)) for s in d.samples["score"].astype(float)]
        update_dump(
            target,
            {"confidence": conf},
            {"calibration": {"method": cal.method, "fitted_on": cal.fitted_on}},
        )
        c = np.array([np.nan if v is None else v for v in conf], float)
        ok = ~np.isnan(c)
        ece = expected_calibration_error(c[ok], d.samples["iou"].to_numpy()[ok] >= CORRECT_IOU)
        print(f"  confidence written to {target} ({d.split}: ECE {ece:.3f})")
    return 0
