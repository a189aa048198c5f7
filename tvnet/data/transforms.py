"""Resize-and-pad ("letterbox") to S×S and its exact inverse (docs/design.md §4; its inverse
is the CMPC protocol's, §5).

The image is resized keeping its aspect so the long side is S, then padded with zeros at the
bottom and right. :meth:`Letterbox.invert` undoes exactly that geometry: crop the padding,
resize bilinearly back to the original H×W.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Letterbox:
    """Geometry of one letterbox: an orig_h×orig_w image became new_h×new_w inside size×size."""

    orig_h: int
    orig_w: int
    scale: float  # size / max(orig_h, orig_w)
    new_h: int
    new_w: int
    size: int

    @classmethod
    def for_shape(cls, h: int, w: int, size: int) -> Letterbox:
        if h <= 0 or w <= 0:
            raise ValueError(f"cannot letterbox an empty image of shape {h}×{w}")
        if size <= 0:
            raise ValueError(f"letterbox size must be positive, got {size}")
        scale = size / max(h, w)
        new_h = min(size, max(1, round(h * scale)))
        new_w = min(size, max(1, round(w * scale)))
        return cls(orig_h=h, orig_w=w, scale=scale, new_h=new_h, new_w=new_w, size=size)

    def onto(self, h: int, w: int) -> Letterbox:
        """The same input (same content box ``new_h``×``new_w``) mapped onto an h×w copy of the
        image instead, e.g. the upload a downscaled copy was letterboxed from: :meth:`invert`
        then returns h×w maps, and ``scale`` takes h×w pixels to input pixels."""
        return replace(self, orig_h=int(h), orig_w=int(w), scale=self.size / max(h, w))

    def invert(self, prob: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
        """Map a size×size map (any leading dims) back to orig_h×orig_w.

        Crops the padding, then resizes bilinearly (align_corners=False). Returns the input's
        type (numpy float32 for numpy input), leading dims kept.
        """
        is_numpy = isinstance(prob, np.ndarray)
        t = torch.from_numpy(np.asarray(prob, dtype=np.float32)) if is_numpy else prob
        if t.shape[-2:] != (self.size, self.size):
            raise ValueError(
                f"expected a map ending in {self.size}×{self.size}, got shape {tuple(t.shape)}"
            )
        lead = t.shape[:-2]
        crop = t[..., : self.new_h, : self.new_w].reshape(-1, 1, self.new_h, self.new_w)
        dtype = crop.dtype if crop.is_floating_point() else torch.float32
        out = F.interpolate(
            crop.to(dtype), size=(self.orig_h, self.orig_w), mode="bilinear", align_corners=False
        )
        out = out.reshape(*lead, self.orig_h, self.orig_w)
        return out.numpy() if is_numpy else out


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, Letterbox]:
    """H×W×3 uint8 → size×size×3 uint8 (long side = size, zero padding bottom/right)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an H×W×3 uint8 image, got {image.shape} {image.dtype}")
    lb = Letterbox.for_shape(image.shape[0], image.shape[1], size)
    resized = Image.fromarray(image).resize((lb.new_w, lb.new_h), Image.BILINEAR)
    out = np.zeros((size, size, 3), dtype=np.uint8)
    out[: lb.new_h, : lb.new_w] = np.asarray(resized)
    return out, lb


def letterbox_mask(mask: np.ndarray, size: int) -> np.ndarray:
    """H×W bool → size×size bool with the geometry of :func:`letterbox`.

    Resized as a float map (PIL's bilinear filter averages over the source footprint when
    shrinking, i.e. area-like) and thresholded at 0.5.
    """
    if mask.ndim != 2:
        raise ValueError(f"expected an H×W mask, got shape {mask.shape}")
    lb = Letterbox.for_shape(mask.shape[0], mask.shape[1], size)
    m = Image.fromarray(mask.astype(np.float32))
    resized = np.asarray(m.resize((lb.new_w, lb.new_h), Image.BILINEAR))
    out = np.zeros((size, size), dtype=bool)
    out[: lb.new_h, : lb.new_w] = resized >= 0.5
    return out


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """S×S×3 uint8 → 3×S×S float32, ImageNet-normalised. In numpy, one thread: the decode
    threads of a GPU run (:func:`decode_pool`) call it side by side, and a PyTorch op there
    would start an OpenMP team in each; the values are those of the same steps in PyTorch,
    bit for bit (tested), so feature caches built before stay valid."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an H×W×3 uint8 image, got {image.shape} {image.dtype}")
    x = image.astype(np.float32)
    x /= np.float32(255.0)
    x -= np.asarray(IMAGENET_MEAN, np.float32)
    x /= np.asarray(IMAGENET_STD, np.float32)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))  # 3×S×S


def load_letterboxed(refer: Any, image_id: int, size: int) -> torch.Tensor:
    """Image ``image_id`` of ``refer`` (a refer-format dataset) read, letterboxed to size×size
    and normalised: one row of a model's input batch."""
    return to_tensor(letterbox(refer.load_image(image_id), size)[0])


def decode_pool(device: str | torch.device, workers: int | None = None) -> Executor | None:
    """Threads that read and letterbox a batch's images side by side, for a GPU, whose step is
    shorter than reading its 2×B images one by one (PIL's decoding and resizing let other
    threads run). None, one by one, on a CPU, where such threads would take the cores of the
    step's own OpenMP team (design.md §6). ``workers``: how many (default: up to 8 on CUDA,
    1 elsewhere; 1 = None)."""
    if workers is None:
        workers = min(8, os.cpu_count() or 1) if torch.device(device).type == "cuda" else 1
    if workers <= 1:
        return None
    return ThreadPoolExecutor(workers, thread_name_prefix="tvnet-decode")


def each(fn: Callable, items: Iterable, pool: Executor | None) -> list:
    """``[fn(x) for x in items]``, in order, over ``pool``'s threads when there is one."""
    return list(pool.map(fn, items)) if pool is not None else [fn(x) for x in items]
