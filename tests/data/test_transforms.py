"""Letterbox (resize-and-pad) and its exact inverse, on odd sizes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tvnet.data.transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    Letterbox,
    letterbox,
    letterbox_mask,
    to_tensor,
)


def ramp(h: int, w: int) -> np.ndarray:
    """A smooth H×W×3 uint8 image (bilinear resampling of it is nearly lossless)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 30 + 200 * xx / (w - 1)
    g = 30 + 200 * yy / (h - 1)
    b = 128 + 60 * np.sin(xx / w * np.pi) * np.cos(yy / h * np.pi)
    return np.stack([r, g, b], axis=2).round().astype(np.uint8)


@pytest.mark.parametrize("hw", [(241, 397), (397, 241), (320, 320), (17, 600), (100, 101)])
def test_letterbox_geometry(hw: tuple[int, int]) -> None:
    h, w = hw
    out, lb = letterbox(ramp(h, w), 320)
    assert out.shape == (320, 320, 3) and out.dtype == np.uint8
    assert (lb.orig_h, lb.orig_w, lb.size) == (h, w, 320)
    assert max(lb.new_h, lb.new_w) == 320  # the long side fills the square
    assert lb.new_h == round(h * 320 / max(h, w)) and lb.new_w == round(w * 320 / max(h, w))
    assert abs(lb.scale - 320 / max(h, w)) < 1e-12
    assert out[lb.new_h :].max(initial=0) == 0 and out[:, lb.new_w :].max(initial=0) == 0
    assert out[: lb.new_h, : lb.new_w].min() > 0  # content everywhere, padding bottom/right only
    assert Letterbox.for_shape(h, w, 320) == lb


@pytest.mark.parametrize("hw", [(241, 397), (397, 241), (33, 47)])
def test_round_trip_recovers_the_image(hw: tuple[int, int]) -> None:
    h, w = hw
    img = ramp(h, w)
    out, lb = letterbox(img, 320)
    back = lb.invert(out.astype(np.float32).transpose(2, 0, 1))  # 3×H×W
    assert back.shape == (3, h, w) and isinstance(back, np.ndarray)
    err = np.abs(back.transpose(1, 2, 0) - img.astype(np.float32))
    assert err[2:-2, 2:-2].max() < 3.0  # interior exact up to resampling of a smooth ramp
    assert err.mean() < 1.5


def test_invert_crops_the_padding_exactly() -> None:
    lb = Letterbox.for_shape(241, 397, 320)
    prob = np.full((320, 320), 100.0, dtype=np.float32)
    prob[: lb.new_h, : lb.new_w] = 1.0
    back = lb.invert(prob)
    assert back.shape == (241, 397)
    assert np.array_equal(back, np.ones((241, 397), dtype=np.float32))  # no padding leaks in
    # one cell more or less of the crop would show: the last row/column map to the border
    prob[lb.new_h - 1, :] = 0.0
    assert lb.invert(prob)[-1].max() < 0.5 and lb.invert(prob)[0].min() == 1.0


def test_mask_round_trip_on_odd_sizes() -> None:
    h, w = 241, 397
    yy, xx = np.mgrid[0:h, 0:w]
    mask = ((xx - 300) ** 2 / 60**2 + (yy - 170) ** 2 / 40**2) <= 1
    small = letterbox_mask(mask, 320)
    lb = Letterbox.for_shape(h, w, 320)
    assert small.dtype == bool and small.shape == (320, 320)
    assert not small[lb.new_h :].any() and not small[:, lb.new_w :].any()
    assert abs(small.sum() / mask.sum() - lb.scale**2) < 0.03
    back = lb.invert(small.astype(np.float32)) >= 0.5
    iou = (back & mask).sum() / (back | mask).sum()
    assert iou > 0.97
    ys, xs = np.nonzero(back)
    assert abs(xs.mean() - 300) < 1.0 and abs(ys.mean() - 170) < 1.0  # no shift


def test_invert_torch_keeps_type_device_and_leading_dims() -> None:
    lb = Letterbox.for_shape(241, 397, 320)
    t = torch.rand(2, 1, 320, 320, dtype=torch.float64)
    out = lb.invert(t)
    assert isinstance(out, torch.Tensor) and out.shape == (2, 1, 241, 397)
    assert out.dtype == torch.float64
    single = lb.invert(t[1, 0].numpy())
    assert np.allclose(single, out[1, 0].numpy(), atol=1e-4)  # float32 vs float64
    with pytest.raises(ValueError, match="320×320"):
        lb.invert(torch.zeros(1, 300, 300))


def test_to_tensor_normalises() -> None:
    img = np.zeros((4, 5, 3), dtype=np.uint8)
    img[..., 0], img[..., 1], img[..., 2] = 124, 116, 104  # ≈ 255 × IMAGENET_MEAN
    x = to_tensor(img)
    assert x.shape == (3, 4, 5) and x.dtype == torch.float32
    assert x.abs().max() < 0.01
    white = to_tensor(np.full((2, 2, 3), 255, np.uint8))
    expected = [(1 - m) / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD)]
    assert torch.allclose(white[:, 0, 0], torch.tensor(expected))


def test_to_tensor_gives_the_values_of_the_pytorch_steps_bit_for_bit() -> None:
    """Every uint8 value in every channel, against the PyTorch steps the feature caches of
    earlier runs were computed with (so those caches stay valid), with a non-contiguous input
    and an image that is not square."""
    v = np.arange(256, dtype=np.uint8)
    img = np.stack([v, v[::-1], np.roll(v, 7)], -1).reshape(16, 16, 3)
    for image in (img, img[:, ::-1], np.ascontiguousarray(img[:12])):
        x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255.0)
        mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
        std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
        got = to_tensor(image)
        assert got.is_contiguous() and got.dtype == torch.float32
        assert torch.equal(got, (x - mean) / std)


def test_bad_inputs_are_errors() -> None:
    with pytest.raises(ValueError, match="uint8"):
        letterbox(np.zeros((10, 10, 3), np.float32), 32)
    with pytest.raises(ValueError, match="H×W×3"):
        letterbox(np.zeros((10, 10), np.uint8), 32)
    with pytest.raises(ValueError, match="empty"):
        Letterbox.for_shape(0, 10, 32)
    with pytest.raises(ValueError, match="H×W mask"):
        letterbox_mask(np.zeros((3, 4, 5), bool), 32)
