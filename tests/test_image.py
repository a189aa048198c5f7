"""The one image reader (tvnet.image.read_image): EXIF orientation, alpha on white, greyscale
to RGB, and a clear InputError for what cannot be read."""

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tvnet.image import MAX_PIXELS, InputError, read_image


def _png(im: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=kw.pop("format", "PNG"), **kw)
    return buf.getvalue()


def test_exif_orientation_is_applied(tmp_path):
    # a 4×2 landscape stored with "rotate 90° clockwise to display" (orientation 6): a phone's
    # portrait. Left half red, right half blue.
    arr = np.zeros((2, 4, 3), np.uint8)
    arr[:, :2, 0] = 255
    arr[:, 2:, 2] = 255
    exif = Image.Exif()
    exif[0x0112] = 6
    p = tmp_path / "phone.jpg"
    Image.fromarray(arr).save(p, exif=exif, quality=100)
    out = read_image(p)
    assert out.shape == (4, 2, 3)  # displayed as a portrait
    # rotated clockwise: the left (red) half is now on top
    assert out[0, :, 0].min() > 200 and out[0, :, 2].max() < 60
    assert out[-1, :, 2].min() > 200 and out[-1, :, 0].max() < 60
    # an image opened by the caller is read as its file is; exif=False keeps the stored pixels
    with Image.open(p) as im:
        np.testing.assert_array_equal(read_image(im), out)
        assert read_image(im, exif=False).shape == (2, 4, 3)


def test_alpha_is_composited_on_white_for_files_and_arrays(tmp_path):
    rgba = np.zeros((3, 5, 4), np.uint8)  # black, fully transparent …
    rgba[0, 0] = (10, 20, 30, 255)  # … except one opaque pixel
    rgba[1, 1] = (0, 0, 0, 128)  # and one half-transparent black pixel
    from_file = read_image(_png(Image.fromarray(rgba, "RGBA")))
    from_array = read_image(rgba)
    for out in (from_file, from_array):
        assert out.shape == (3, 5, 3) and out.dtype == np.uint8
        assert tuple(out[0, 0]) == (10, 20, 30)
        assert tuple(out[2, 4]) == (255, 255, 255)
        assert abs(int(out[1, 1, 0]) - 127) <= 1  # 255 · (1 − 128/255)
    np.testing.assert_array_equal(from_file, from_array)


def test_greyscale_and_palette_become_rgb(tmp_path):
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    for source in (grey, Image.fromarray(grey, "L"), _png(Image.fromarray(grey, "L"))):
        out = read_image(source)
        assert out.shape == (3, 4, 3)
        np.testing.assert_array_equal(out[:, :, 0], grey)
        np.testing.assert_array_equal(out[:, :, 2], grey)
    pal = Image.fromarray(np.full((2, 2, 3), (0, 204, 0), np.uint8)).convert("P")  # web palette
    assert tuple(read_image(_png(pal))[1, 1]) == (0, 204, 0)


def test_a_16_bit_greyscale_file_is_scaled_to_8_bits_not_clipped(tmp_path):
    """PIL's convert("RGB") clips 16-bit grey at 255, which read a 16-bit scan almost white."""
    ramp = (np.arange(256, dtype=np.uint16) * 257).reshape(16, 16)  # 0 … 65535
    Image.fromarray(ramp).save(tmp_path / "g16.png")
    assert Image.open(tmp_path / "g16.png").mode.startswith("I;16")
    img = read_image(tmp_path / "g16.png")
    assert img.dtype == np.uint8 and img.shape == (16, 16, 3)
    assert np.array_equal(img[..., 0], np.arange(256, dtype=np.uint8).reshape(16, 16))
    assert np.array_equal(img[..., 0], img[..., 2])
    assert np.array_equal(read_image(ramp), img)  # a 16-bit array alike


def test_float_arrays_in_unit_range_are_scaled_and_rounded():
    out = read_image(np.full((2, 2, 3), 0.5, np.float32))
    assert out.dtype == np.uint8 and int(out[0, 0, 0]) == 128  # 127.5, rounded half to even
    assert int(read_image(np.full((1, 1, 3), 0.2, np.float64))[0, 0, 0]) == 51
    assert int(read_image(np.full((1, 1, 3), np.nan, np.float32))[0, 0, 0]) == 0
    # 0…255 values that overshoot a little (a resampled image) or hold an inf stay bright
    over = read_image(np.array([[[100.0, 200.0, 255.6]], [[100.0, 200.0, np.inf]]]))
    assert over.tolist() == [[[100, 200, 255]], [[100, 200, 255]]]
    assert read_image(np.array([[[100, 256, 300]]], np.int32)).tolist() == [[[100, 255, 255]]]
    big_endian = np.full((1, 1, 3), 257 * 9, ">u2")  # 16-bit in either byte order
    assert read_image(big_endian).tolist() == [[[9, 9, 9]]]


def test_16_bit_rgba_arrays_and_32_bit_files_follow_the_same_rule(tmp_path):
    rgba = np.zeros((1, 2, 4), np.uint16)
    rgba[0, 0] = (65535, 0, 257 * 100, 65535)  # opaque
    rgba[0, 1] = (0, 0, 0, 0)  # transparent: white, as a file's
    assert read_image(rgba).tolist() == [[[255, 0, 100], [255, 255, 255]]]
    Image.fromarray(np.array([[257 * 10, 65535]], np.int32), mode="I").save(tmp_path / "i.tif")
    assert Image.open(tmp_path / "i.tif").mode == "I"
    assert read_image(tmp_path / "i.tif")[..., 1].tolist() == [[10, 255]]


def test_bad_inputs_are_input_errors_naming_the_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_image(tmp_path / "nowhere.png")
    with pytest.raises(InputError, match="is a folder: name an image file"):
        read_image(tmp_path)
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(InputError, match="cannot read notes.png"):
        read_image(bad)
    with pytest.raises(InputError, match="no image"):
        read_image(None)
    with pytest.raises(InputError, match="shape"):
        read_image(np.zeros((2, 2, 5), np.uint8))
    with pytest.raises(InputError, match="empty"):
        read_image(np.zeros((0, 3, 3), np.uint8))


def test_huge_images_are_refused_before_decoding(tmp_path):
    side = int(MAX_PIXELS**0.5) + 10
    p = tmp_path / "bomb.png"
    Image.new("1", (side, side)).save(p)  # 1 bit per pixel: small on disk, huge decoded
    with pytest.raises(InputError, match="the upload is 8954×8954 pixels: too large"):
        read_image(p, name="the upload")
    with Image.open(p) as im:  # opened by the caller: refused as its file is
        with pytest.raises(InputError, match="8954×8954 pixels: too large"):
            read_image(im)


def test_images_over_pils_warning_limit_get_only_our_error(tmp_path):
    """Between PIL's warning limit (Image.MAX_IMAGE_PIXELS) and its error limit PIL warns on
    opening; read_image says "too large" itself, so that warning must not be printed too. In a
    fresh process, as `tvnet predict` runs (pytest resets warning filters around each test)."""
    side = int(Image.MAX_IMAGE_PIXELS**0.5) + 10
    p = tmp_path / "bomb.png"
    Image.new("1", (side, side)).save(p)
    code = (
        "import sys, warnings; from tvnet.image import InputError, read_image\n"
        "try:\n    read_image(sys.argv[1], name='the upload')\n"
        "except InputError as e:\n    print(e)\n"
        "warnings.warn('other warnings still print')"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(p)], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert f"the upload is {side}×{side} pixels: too large" in r.stdout
    assert "DecompressionBomb" not in r.stderr and "other warnings still print" in r.stderr


def test_images_over_pils_own_limit_are_called_too_large(tmp_path):
    """PIL refuses a header over 2 × Image.MAX_IMAGE_PIXELS itself (DecompressionBombError)
    before read_image sees the size: the message must still say "too large", not "unreadable"."""
    side = int((2 * Image.MAX_IMAGE_PIXELS) ** 0.5) + 10
    p = tmp_path / "bomb.png"
    Image.new("1", (side, side)).save(p)
    # the header's own size, not PIL's limit (a 240-megapixel upload was called "over 179")
    mp = f"{side * side / 1e6:.0f}"
    with pytest.raises(InputError, match=f"the upload is {mp} megapixels: too large"):
        read_image(p, name="the upload")
