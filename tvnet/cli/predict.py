"""``tvnet predict``: segment one image with one expression."""

from __future__ import annotations

import argparse
from pathlib import Path

from tvnet.assets import DEFAULT_MODEL
from tvnet.cli import probability
from tvnet.config import MASK_THRESHOLD, RUNTIMES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="segment IMAGE by EXPRESSION and save the mask",
        description="Run the full TV-Net pipeline (retrieval, enrichment, fusion, AMF, head) on one image. "
        "Defaults to the bundled model and pool in assets/.",
        epilog='example:\n  tvnet predict assets/examples/synthref_test_0003.png "the large hexagon" --out mask.png',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("image", type=Path, help="input image file")
    p.add_argument("expression", help="the referring expression (quote it)")
    p.add_argument(
        "--checkpoint",
        type=Path,
        help=f"checkpoint folder (default: the bundled default, assets/checkpoints/{DEFAULT_MODEL})",
    )
    p.add_argument("--pool", type=Path, help="retrieval pool folder (default: bundled pool)")
    p.add_argument(
        "--pool-images",
        type=Path,
        help="folder of the pool's images (default: POOL/images, else the training data's "
        "images folder, else regenerated from the SynthRef seed)",
    )
    p.add_argument(
        "--out", type=Path, default=Path("mask.png"), help="output mask PNG (default mask.png)"
    )
    p.add_argument("--prob", type=Path, help="also save the probability map as an 8-bit PNG")
    p.add_argument(
        "--literal",
        action="store_true",
        help="read the expression as written: no WordNet rewriting of words the model never "
        "saw (by default 'huge' is read as 'large' for a model that knows only 'large')",
    )
    p.add_argument(
        "--threshold",
        type=probability,
        default=MASK_THRESHOLD,
        help="probability at or above which a pixel belongs to the mask, in (0, 1) "
        f"(default {MASK_THRESHOLD:g})",
    )
    p.add_argument(
        "--mirror",
        action="store_true",
        help="average the answer with the one for the mirror image, left and right swapped in "
        "the expression (about +1 oIoU on SynthRef at twice the time)",
    )
    p.add_argument("--device", help="cpu, cuda … (default: cuda when present)")
    p.add_argument(
        "--runtime",
        choices=RUNTIMES,
        help="where the frozen backbone and retrieval encoders run (default: $TVNET_RUNTIME or "
        "auto = onnxruntime on CPUs without bf16, and for the sentence encoder on any CPU; "
        "exported once per weights and cached in ~/.cache/tvnet)",
    )
    p.set_defaults(func=run)


def _is_png(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(8) == b"\x89PNG\r\n\x1a\n"
    except OSError:
        return False


def _check_outputs(image: Path, out: Path, prob: Path | None) -> None:
    """InputError when a file written would be the input image or the other output
    (``tvnet predict mask.png …`` would replace its input with its own mask)."""
    import os

    from tvnet.image import InputError

    def same(a: Path, b: Path) -> bool:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()

    written = [("--out", out)] + ([("--prob", prob)] if prob is not None else [])
    for flag, path in written:
        if same(path, Path(image)):
            raise InputError(f"{flag} {path} is the input image: name another file to write")
        if Path(path).is_dir():  # checked before the model loads, and before either is written
            raise InputError(f"{flag} {path} is a folder: name the file to write")
        if Path(path).parent.exists() and not Path(path).parent.is_dir():
            raise InputError(f"{flag} {path}: {Path(path).parent} is not a folder")
        if Path(path).suffix.lower() != ".png":  # written as PNG: keep.jpg would hold a PNG
            raise InputError(f"{flag} {path}: masks are written as PNG: name a .png file")
        if Path(path).is_file() and not _is_png(Path(path)):
            raise InputError(
                f"{flag} {path} exists and is not a PNG (a mask written earlier): it would be "
                "replaced; name another file"
            )
    if prob is not None and same(out, prob):
        raise InputError(f"--out and --prob are the same file ({out}): name two files")


def run(args: argparse.Namespace) -> int:
    import io

    import numpy as np
    from PIL import Image

    from tvnet.image import read_image
    from tvnet.inference.expression import require_expression
    from tvnet.inference.predictor import Predictor
    from tvnet.io import atomic_write_bytes

    # check what is cheap to check before the model load (seconds): a bad image or a blank
    # expression fails at once
    image = read_image(args.image)
    require_expression(args.expression)
    _check_outputs(args.image, args.out, args.prob)
    predictor = Predictor.from_checkpoint(
        args.checkpoint,
        args.pool,
        device=args.device,
        pool_images=args.pool_images,
        runtime=args.runtime,
        read_synonyms=not args.literal,
    )
    pred = predictor(
        image, args.expression, threshold=args.threshold, attention=False, mirror=args.mirror
    )

    def save(arr: np.ndarray, path: Path) -> None:
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="PNG")
        atomic_write_bytes(path, buf.getvalue())

    save(pred.mask.astype(np.uint8) * 255, args.out)
    if args.prob:
        save((pred.prob * 255).round().astype(np.uint8), args.prob)
    area = pred.mask.mean() * 100
    mirror = ", averaged with the mirror image's" if pred.mirror else ""
    print(
        f"mask: {args.out} ({pred.mask.shape[1]}×{pred.mask.shape[0]}, {area:.1f}% foreground"
        f"{mirror})"
    )
    if pred.neighbour is not None:
        n = pred.neighbour
        print(
            f"retrieved: image {n.image_id} “{n.sentence}” (text {n.text_score:.3f}, image {n.image_score:.3f})"
        )
    if pred.confidence is not None:
        verdict = "✔ confident" if pred.confident else "not confident"
        print(f"confidence: {pred.confidence:.0%} that the mask is right (IoU ≥ 0.5); {verdict}")
    else:
        print(
            "confidence: unknown (no calibration.json fitted on these weights at this "
            "threshold: `tvnet calibrate`; see the notes)"
        )
    for warning in pred.warnings:
        print(f"warning: {warning}")
    for note in pred.notes:
        print(f"note: {note}")
    print("timings (ms): " + ", ".join(f"{k} {v:.0f}" for k, v in pred.timings.items()))
    return 0
