"""Pictures into the page and out of it.

In: :func:`read_upload` unpacks Gradio's payload and reads it with :func:`tvnet.read_image`,
the reader the CLI and the Predictor use too. Out: :class:`ImageFiles` writes each drawn
picture once under its content hash. Between the two, :func:`working` brings the upload and
its prediction to the size the model read. The drawing itself is :mod:`tvnet.draw`'s.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import io
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tvnet import InputError, read_image


def working(image: np.ndarray, pred) -> tuple[np.ndarray, Any]:
    """The upload and its prediction at the size the model read (a huge upload is
    downscaled): what the page draws."""
    shown = fit(image, pred.work_shape)
    return shown, pred.resized(shown.shape[:2])


def fit(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``image`` resized to ``shape`` (H, W) when it differs (the predictor downscaled it)."""
    if image.shape[:2] == tuple(shape):
        return image
    return np.asarray(Image.fromarray(image).resize((shape[1], shape[0]), Image.BILINEAR))


class ImageFiles:
    """Pictures handed to Gradio as files, each written once under its content hash.

    Gradio saves an array output by re-writing, in place, a file named by its hash; when two
    users get the same picture (the same neighbour, say) one can download it half-written. A
    path output is copied into Gradio's cache once, atomically, so outputs go out as paths."""

    def __init__(self, root: str | Path | None = None, max_age_s: float = 3600):
        if root is None:
            root = tempfile.mkdtemp(prefix="tvnet-demo-")
            atexit.register(shutil.rmtree, root, True)
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_age_s, self._written = max_age_s, 0

    def __call__(self, image: np.ndarray, fmt: str = "jpeg") -> str:
        buf = io.BytesIO()
        Image.fromarray(image).save(
            buf, format=fmt.upper(), **({"quality": 90} if fmt == "jpeg" else {})
        )
        data = buf.getvalue()
        path = self.root / f"{hashlib.sha256(data).hexdigest()[:40]}.{fmt}"
        try:
            os.utime(path)  # handed out again: young again, so prune() leaves it
        except FileNotFoundError:
            tmp = path.with_name(f".{uuid.uuid4().hex}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
            self._written += 1
            if self._written % 500 == 0:
                self.prune()
        return str(path)

    def prune(self) -> None:
        """Forget pictures older than ``max_age_s`` (Gradio holds its own copies)."""
        old = time.time() - self.max_age_s
        for f in self.root.iterdir():
            try:
                if f.stat().st_mtime < old:
                    f.unlink()
            except OSError:
                pass


def read_upload(payload: Any) -> np.ndarray:
    """The uploaded image (a Gradio file payload, a path or an array) → H×W×3 uint8, through
    :func:`tvnet.read_image`, the reader the CLI and the Predictor use too.

    Reading it here rather than in Gradio's preprocessing is what lets a non-image file
    become a message in the page instead of an error."""
    if payload is None:
        raise InputError("no image: upload one (or click an example below)")
    if isinstance(payload, np.ndarray):
        return read_image(payload)
    name, source = "the upload", payload
    if isinstance(payload, dict):
        url, path = payload.get("url") or "", payload.get("path")
        name = payload.get("orig_name") or (Path(path).name if path else name)
        if path and not Path(path).is_file():  # Gradio's cache clean-up took it
            raise InputError(
                f"{name} is no longer on the server (it clears uploads older than an hour): "
                "upload it again"
            )
        if path:
            source = path
        elif url.startswith("data:") and "," in url:
            try:
                source = io.BytesIO(
                    base64.b64decode("".join(url.split(",", 1)[1].split()), validate=True)
                )
            except ValueError as e:  # binascii.Error is a ValueError
                raise InputError(f"{name} arrived damaged (not base64 data: {e})") from e
        else:
            raise InputError("no image: upload one (or click an example below)")
    return read_image(source, name)
