"""The one image reader of the project: the CLI, the :class:`~tvnet.Predictor` and the demo all
see an upload through :func:`read_image`, so a phone photo reaches the model the same way
everywhere (docs/design.md §7); the dataset loaders and the dashboard read dataset images
through it too, without the EXIF step (their masks are drawn on the stored pixels).

What it does to a file, in order:
- refuses a missing or unreadable file, and one over :data:`MAX_PIXELS` (decompression bombs),
  with a message for a person (:class:`InputError`);
- applies the EXIF orientation (phones store portraits as rotated landscapes);
- composites any alpha channel onto white (a transparent PNG is not a black one);
- turns greyscale and palette images into RGB.
"""

from __future__ import annotations

import functools
import io
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

MAX_PIXELS = 80_000_000  # refuse decompression bombs outright
FORMATS = "PNG, JPEG, WebP, BMP or TIFF"


class InputError(ValueError):
    """Bad user input (no image, unreadable file, empty expression …): a message for a person."""


def read_image(image: Any, name: str | None = None, exif: bool = True) -> np.ndarray:
    """``image`` as a contiguous H×W×3 uint8 array.

    ``image``: a path, raw bytes or a binary file object, a PIL image, or an array (H×W,
    H×W×3/4, uint8 or float in [0, 1]). ``name`` names it in error messages (default: the file
    name, or "the image"). ``exif=False``: keep a file's stored orientation (dataset images,
    whose annotations are drawn on the stored pixels). Raises :class:`InputError` when it is
    missing, unreadable, too large or of the wrong shape."""
    from PIL import Image, UnidentifiedImageError

    if image is None:
        raise InputError("no image given: upload an image")
    if isinstance(image, (str, Path)):
        p = Path(image)
        name = name or p.name
        if p.is_dir():
            raise InputError(f"{p} is a folder: name an image file")
        if not p.is_file():
            raise InputError(f"image file not found: {p}")
    elif isinstance(image, (bytes, bytearray)):
        image = io.BytesIO(image)
    name = name or "the image"
    if isinstance(image, (str, Path)) or hasattr(image, "read"):
        try:
            _quiet_pil_size_warning()
            with Image.open(image) as im:
                return _opened_rgb(im, name, exif)
        except InputError:
            raise
        except Image.DecompressionBombError as e:  # PIL's own limit (2 × 89 MP) came first
            # its message names the header's size: "Image size (N pixels) exceeds limit …"
            found = re.search(r"\((\d+) pixels\)", str(e))
            limit = 2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6
            size = f"{int(found[1]) / 1e6:.0f}" if found else f"over {limit:.0f}"
            raise _too_large(name, f"{size} megapixels") from e
        except UnidentifiedImageError as e:
            raise InputError(
                f"cannot read {name} as an image ({type(e).__name__}): use a {FORMATS} file"
            ) from e
        except (OSError, SyntaxError, ValueError) as e:
            raise InputError(
                f"cannot read {name}: the file is damaged or not an image ({e})"
            ) from e
    if isinstance(image, Image.Image):  # an opened image: the same limit and rotation as a file's
        return _opened_rgb(image, name, exif)
    return _array_rgb(np.asarray(image))


@functools.cache
def _quiet_pil_size_warning() -> None:
    """PIL warns on opening an image over ``Image.MAX_IMAGE_PIXELS`` (89 MP); every such image
    is over :data:`MAX_PIXELS` too and gets our own "too large" error, so the warning would
    only repeat it. One narrow filter for the process: a ``catch_warnings`` block per call
    is not thread-safe and resets which warnings were already shown."""
    from PIL import Image

    if Image.MAX_IMAGE_PIXELS is None or MAX_PIXELS <= Image.MAX_IMAGE_PIXELS:
        warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def _opened_rgb(im: Any, name: str, exif: bool) -> np.ndarray:
    """An opened PIL image, refused over :data:`MAX_PIXELS` before its pixels are decoded,
    turned upright by its EXIF orientation when ``exif``: the file's path and a caller's
    opened image alike."""
    from PIL import ImageOps

    if im.width * im.height > MAX_PIXELS:
        raise _too_large(name, f"{im.width}×{im.height} pixels")
    return _pil_rgb(ImageOps.exif_transpose(im) if exif else im)


def _too_large(name: str, size: str) -> InputError:
    return InputError(
        f"{name} is {size}: too large to decode safely (limit {MAX_PIXELS / 1e6:.0f} "
        "megapixels); downscale it first"
    )


def _pil_rgb(im: Any) -> np.ndarray:
    from PIL import Image

    if im.mode.startswith("I;16") or im.mode in ("I", "F"):
        # 16-bit (or 32-bit) grey: PIL's convert("RGB") clips at 255 instead of scaling, so a
        # 16-bit scan would read almost white; the values go to _eight_bit's one rule instead
        grey = np.asarray(im)
        if im.mode.startswith("I;16") or (grey.size and np.nanmax(grey) > 255):
            # a 16-bit file (PIL reads some as 32-bit "I" or "F"): its 0…65535 range
            grey = np.clip(np.nan_to_num(grey), 0, 65535).astype(np.uint16)
        return _array_rgb(grey)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return _array_rgb(np.asarray(im.convert("RGB")))


def _array_rgb(arr: np.ndarray) -> np.ndarray:
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise InputError(f"expected an H×W×3 image, got an array of shape {arr.shape}")
    if min(arr.shape[:2]) < 1:
        raise InputError("the image is empty (0 pixels wide or high)")
    if arr.dtype != np.uint8:
        arr = _eight_bit(arr)
    if arr.shape[2] == 4:  # straight alpha, composited onto white like a file's
        a = arr[:, :, 3:].astype(np.float32) / 255.0
        arr = np.rint(arr[:, :, :3] * a + 255.0 * (1.0 - a)).astype(np.uint8)
    return np.ascontiguousarray(arr)


def _eight_bit(arr: np.ndarray) -> np.ndarray:
    """Channels of any other type as uint8, by one rule for files and arrays alike: 16-bit
    channels (uint16 of either byte order; 16-bit files arrive so) are divided by 257, so
    65535 is white rather than clipped; floats in [0, 1] are multiplied by 255; anything else
    counts in 8-bit units (a resampled image that overshoots 255 a little stays bright). Then
    values are rounded and clipped to 0…255 (NaN reads 0, ±inf the ends)."""
    sixteen = arr.dtype.kind == "u" and arr.dtype.itemsize == 2
    values = np.nan_to_num(arr.astype(np.float32), nan=0.0, posinf=255.0, neginf=0.0)
    if sixteen:
        values = values / np.float32(257.0)
    elif arr.dtype.kind == "f" and values.size and float(values.max()) <= 1.0:
        values = values * np.float32(255.0)
    return np.rint(np.clip(values, 0, 255)).astype(np.uint8)
