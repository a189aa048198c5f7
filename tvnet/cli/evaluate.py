"""``tvnet eval``: evaluate a checkpoint on a split and write an evaluation dump."""

from __future__ import annotations

import argparse
from pathlib import Path

from tvnet.cli import non_negative_int, positive_int, probability
from tvnet.config import MASK_THRESHOLD, RUNTIMES

EPILOG = """examples:
  tvnet eval --checkpoint runs/full/last --data data/synthref --split val --pool runs/pool --out dumps/full-val
  tvnet eval --checkpoint runs/full/last --data data/synthref --split test --pool runs/pool --out dumps/full-test \\
      --threshold 0.4 --resolution input      # another protocol, labelled in run.json

Default protocol (CMPC): predict at S×S, undo the padding, resize to the original image size,
foreground where sigmoid ≥ 0.5. The dump is DIR/samples.parquet + DIR/run.json (docs/design.md §5).
Each row also gets the answer's raw score, its confidence (when the checkpoint has a
calibration.json fitted at this threshold, `tvnet calibrate`), the image's similarity to the pool (with --pool), and
for RES variants the masks with the gate closed and with a random neighbour (docs/design.md §7).
Expressions are read as tvnet.Predictor (and so `tvnet predict` and the demo) reads them: a
word the model never saw is rewritten into the known word WordNet relates it to, and for RES
variants the neighbour of a rewritten expression is retrieved again with the text as read
(the pool's table on disk is left as it is). --literal reads them as written."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate a checkpoint and write a dump",
        description="Evaluate a TV-Net checkpoint on one split: oIoU, mIoU, Prec@0.5…0.9, also per size bucket; "
        "writes an evaluation dump (samples.parquet + run.json) atomically.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--checkpoint",
        type=Path,
        required=True,
        help="checkpoint folder (model.safetensors + config.json)",
    )
    p.add_argument(
        "--data",
        type=Path,
        required=True,
        help="refer-format dataset folder, or its refs file where it holds several (refs(umd).p)",
    )
    p.add_argument("--split", required=True, help="split to evaluate (val, test, testA, …)")
    p.add_argument(
        "--pool",
        type=Path,
        help="pool folder (`tvnet pool build`): the neighbours of RES variants and, for every "
        "variant, the image-similarity column; with --out and without --mirror, for RES variants "
        "also the random-neighbour columns (a pool of the same dataset); a missing neighbour table "
        "of the split is written there first, as `tvnet pool neighbours` does",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="dump folder: new, empty or an earlier dump, which is replaced (a file or another "
        "folder is refused before any work); omit to print metrics only",
    )
    p.add_argument(
        "--threshold",
        type=probability,
        default=MASK_THRESHOLD,
        help=f"foreground threshold on sigmoid, in (0, 1) (default {MASK_THRESHOLD:g})",
    )
    p.add_argument(
        "--resolution",
        choices=["original", "input"],
        default="original",
        help="compare at the original image size (CMPC) or at the S×S input",
    )
    p.add_argument(
        "--batch-size", type=positive_int, default=16, help="samples per forward pass (default 16)"
    )
    p.add_argument("--limit", type=positive_int, help="evaluate the first N samples only")
    p.add_argument(
        "--cache-dir", type=Path, help="backbone feature cache (frozen backbones); default: none"
    )
    p.add_argument(
        "--no-amp",
        action="store_true",
        help="full fp32, the retrieval image encoder included (default: bf16 autocast where "
        "supported)",
    )
    p.add_argument("--device", help="cpu, cuda … (default: cuda when present)")
    p.add_argument(
        "--runtime",
        choices=RUNTIMES,
        help="where the backbone runs when no feature cache is used: BatchNorm folded, in "
        "PyTorch or onnxruntime (default: $TVNET_RUNTIME or auto = onnxruntime on CPUs "
        "without bf16 or with --no-amp; see tvnet.runtime)",
    )
    p.add_argument(
        "--no-influence",
        action="store_true",
        help="RES variants: skip the reruns with the gate closed and with a random neighbour "
        "(the nogate_* and randnb_* columns; about 1.5× the time)",
    )
    p.add_argument(
        "--mirror",
        action="store_true",
        help="score answers averaged with the mirror image's, left and right swapped in the "
        "expression, as a tvnet.Predictor call with mirror=True gives them (twice the time; "
        "no influence columns; run.json: protocol.mirror; the dashboard names the row 'mirror averaged')",
    )
    p.add_argument(
        "--literal",
        action="store_true",
        help="read the expressions as written: no WordNet rewriting of words the model never "
        "saw (by default they are read as tvnet.Predictor reads them; run.json and the "
        "read_as column say what was rewritten)",
    )
    p.add_argument(
        "--seed", type=non_negative_int, default=0, help="seed of the random neighbours (default 0)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _check_same_evaluation(out, variant: str, dataset: str, split: str) -> None:
    """ValueError when ``out`` holds the dump of another variant, dataset or split: a --out
    copied from another command would replace it (an earlier dump of this evaluation, by
    other weights or another protocol, is what --out replaces)."""
    import json

    from tvnet.eval.dump import RUN_FILE, recorded_dataset_name

    try:
        old = json.loads((Path(out) / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none, or damaged: nothing to keep
        return
    if not isinstance(old, dict):
        return
    name = recorded_dataset_name(old)  # "unknown" where none is recorded: not compared
    theirs = (
        str(old.get("variant") or ""),
        "" if name == "unknown" else name,
        str(old.get("split") or ""),
    )
    mine = (variant, dataset, split)
    if any(t and t != m for t, m in zip(theirs, mine)):
        raise ValueError(
            f"--out {out} holds the dump of {theirs[0] or '?'} on {theirs[1]}/{theirs[2] or '?'}; "
            f"this evaluation is {variant} on {dataset}/{split}: name another folder, or remove "
            "that one first"
        )


def run(args: argparse.Namespace) -> int:
    from tvnet.amp import cuda_fast_paths
    from tvnet.checkpoint import load_checkpoint, read_checkpoint_config
    from tvnet.data.refer import open_refer
    from tvnet.eval.calibration import load_calibration
    from tvnet.eval.dump_writer import check_dump_target
    from tvnet.eval.evaluator import evaluate
    from tvnet.eval.metrics import PREC_KEYS
    from tvnet.io import default_device
    from tvnet.loader.batches import SplitTable
    from tvnet.loader.features import FeatureCache
    from tvnet.runtime import resolve_runtime
    from tvnet.warmstart import checkpoint_init

    device = args.device or default_device()
    cuda_fast_paths(device)  # TF32 and cuDNN autotuning on a GPU
    if args.out is not None:
        check_dump_target(args.out)  # before any work: a wrong --out must lose nothing
    # --runtime onnxruntime on a GPU, or without onnxruntime installed: refused before any work
    resolve_runtime(args.runtime, device, not args.no_amp)
    model = load_checkpoint(args.checkpoint, device=device)
    calibration = load_calibration(args.checkpoint)  # a corrupt one stops here, not at the end
    refer = open_refer(args.data)
    if args.split not in refer.splits():
        raise ValueError(f"split {args.split!r} not in {refer.name}: {refer.splits()}")
    if args.out is not None:
        _check_same_evaluation(args.out, model.cfg.variant, refer.name, args.split)
    if model.uses_retrieval and args.pool is not None:
        from tvnet.retrieval.neighbours import ensure_neighbour_table, neighbours_path

        if not neighbours_path(args.pool, refer.name, args.split).is_file():
            print(f"no neighbour table of {refer.name}/{args.split} in {args.pool}: writing it")
            # the code path of `tvnet pool neighbours`, with the encoders the pool names
            path = ensure_neighbour_table(
                refer,
                args.split,
                args.pool,
                k_text=model.cfg.retrieval_k_text,
                device=device,
                progress=not args.quiet,
            )
            print(f"neighbours written to {path}")
    meta = read_checkpoint_config(args.checkpoint)
    n_split = len(refer.samples(args.split))
    n = n_split if args.limit is None else min(args.limit, n_split)
    reading = None
    if not args.literal:  # as tvnet.Predictor reads (tvnet.eval.reading); the first n only
        from tvnet.eval.reading import read_split

        reading = read_split(refer, args.split, model.vocab, meta, limit=n)
        if reading.note:
            print(f"expressions read as written: {reading.note}")
        elif reading.read_as:
            top = ", ".join(
                (f"“{a}” as “{b}” ({c})" if b else f"“{a}” left out ({c})")
                for (a, b), c in reading.rewrites.most_common(5)
            )
            print(f"{len(reading.read_as)} expressions read through the lexicon, e.g. {top}")
    read_as = reading.read_as if reading is not None else {}
    table = SplitTable.for_model(refer, args.split, model, args.pool, read_as=read_as)
    if read_as and model.uses_retrieval:
        from tvnet.eval.reading import neighbours_as_read
        from tvnet.retrieval.encoders import EncodersUnavailable

        # with the encoders' PyTorch runtime, as `tvnet pool neighbours` wrote the rest
        try:
            rows = neighbours_as_read(
                refer,
                args.split,
                read_as,
                args.pool,
                k_text=model.cfg.retrieval_k_text,
                device=device,
                progress=not args.quiet,
                amp=not args.no_amp,  # --no-amp: the image encoder in fp32 too
            )
        except EncodersUnavailable as e:  # e.g. a `paper` pool (DistilBERT): its own table
            reading.neighbours_note = f"neighbours as retrieved for the text as written: {e}"
            print(reading.neighbours_note)
        else:
            table.replace_neighbours(rows)
    similarity, pool_image_ids, similarity_note = None, None, None
    if args.pool is not None:
        from tvnet.retrieval.encoders import EncodersUnavailable, pool_encoders
        from tvnet.retrieval.neighbours import image_similarities
        from tvnet.retrieval.pool import DataPool

        pool = DataPool.load(args.pool)
        try:
            _, image_encoder = pool_encoders(
                pool.manifest, device=device, runtime=args.runtime, text=False, amp=not args.no_amp
            )
        except EncodersUnavailable as e:  # the neighbour tables are all the rows need
            similarity_note = f"no image_similarity column: {e}"
            print(similarity_note)
        else:
            similarity = image_similarities(
                refer,
                [s.image_id for s in table.samples[:n]],
                pool,
                image_encoder,
                progress=not args.quiet,
            )
        if (pool.manifest.get("dataset") or {}).get("name") == refer.name:
            pool_image_ids = pool.image_ids  # random neighbours come from the pool's images
    if calibration is not None and (why := calibration.not_of(meta.get("weights_sha256"))):
        print(f"{args.checkpoint}/calibration.json {why}: no confidence")
        calibration = None
    elif calibration is not None and not calibration.applies_to(args.threshold):
        print(
            f"{args.checkpoint}/calibration.json is fitted at threshold "
            f"{calibration.threshold:g}, not {args.threshold:g}: no confidence"
        )
        calibration = None  # nor a calibration record in run.json
    cache = None
    if args.cache_dir and model.cfg.freeze_backbone:
        cache = FeatureCache(
            args.cache_dir,
            model.backbone,
            refer,
            model.cfg.input_size,
            model.cfg.output_stride,
            device=device,
            progress=not args.quiet,
            amp=not args.no_amp,  # --no-amp: fp32 features too (the cache key says which)
        )
        cache.ensure(args.split)
        if model.uses_retrieval:
            cache.ensure("train")  # neighbours come from the training pool
    else:  # the backbone runs on every image: BN folded (exact in eval mode), maybe onnxruntime
        model.eval().backbone.optimize_for_inference(args.runtime, amp=not args.no_amp)
    from tvnet import __version__, record

    info = {
        "config": meta.get("model"),
        "train": meta.get("train"),
        "step": meta.get("step"),  # the step it reached (a run may stop before train.steps)
        # how long and where the weights trained (tvnet/record.py; None before it existed)
        "training_time": meta.get("training_time"),
        # a warm start's source: analysis keeps such runs apart from runs from scratch
        "init": checkpoint_init(args.checkpoint, meta),
        "checkpoint": str(args.checkpoint),
        "checkpoint_hash": meta.get("weights_sha256", ""),
        "split_size": n_split,  # with n_samples: a --limit run scored a part (Dump.scoring)
        "code_version": __version__,
        "dataset": {
            "name": refer.name,
            "data_dir": str(Path(args.data).resolve()),
            "split_by": refer.split_by,
            # the refs file's hash: two datasets of one name (SynthRef of two seeds) told apart
            "fingerprint": refer.fingerprint() or None,
        },
        "pool": str(args.pool) if args.pool else None,
        "image_similarity_note": similarity_note,
        # how the expressions reached the model (tvnet.eval.reading)
        "reading": {"lexicon": False, "literal": True}
        if reading is None
        else {**reading.summary(n), "literal": False},
        "amp": not args.no_amp,
        "device": device,
        # the processor and the precision the answers were computed in (tvnet/record.py)
        "scored_on": record.machine(device, not args.no_amp, 1),
        # where the backbone ran: precomputed features, or folded in PyTorch / onnxruntime
        "backbone_runtime": "feature cache"
        if cache is not None
        else ("onnxruntime" if model.backbone.onnx is not None else "torch"),
        "calibration": None
        if calibration is None
        else {"method": calibration.method, "fitted_on": calibration.fitted_on},
    }
    m = evaluate(
        model,
        refer,
        args.split,
        table,
        cache=cache,
        out=args.out,
        run_info=info,
        threshold=args.threshold,
        resolution=args.resolution,
        batch_size=args.batch_size,
        limit=args.limit,
        device=device,
        amp=not args.no_amp,
        progress=not args.quiet,
        calibration=calibration,
        image_similarity=similarity,
        influence=not args.no_influence,
        pool_image_ids=pool_image_ids,
        seed=args.seed,
        mirror=args.mirror,
    )
    keys = ["overall_iou", "mean_iou", *PREC_KEYS]
    how = ", mirror averaged" if args.mirror else ""
    print(f"{model.cfg.variant} on {refer.name}/{args.split} (n={m['n']}{how}):")
    for scope in ("", "small/"):
        if f"{scope}overall_iou" in m:
            print(
                f"  {scope or 'all/':7s}"
                + "  ".join(f"{k}={m[scope + k]:.4f}" for k in keys if scope + k in m)
            )
    print(
        f"  {m['timings']['samples_per_s']:.1f} samples/s"
        + (f"; dump: {args.out}" if args.out else "")
    )
    return 0
