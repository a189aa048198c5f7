"""tvnet/eval/rle.py: COCO RLE of boolean masks round-trips."""

from __future__ import annotations

import numpy as np
import pytest

from tvnet.eval.rle import decode_rle, encode_rle


def test_rle_round_trip():
    rng = np.random.default_rng(1)
    for shape in [(1, 1), (5, 7), (33, 20)]:
        m = rng.random(shape) > 0.5
        counts, h, w = encode_rle(m)
        assert isinstance(counts, str) and (h, w) == shape
        back = decode_rle(counts, h, w)
        assert back.dtype == bool and np.array_equal(back, m)
    counts, h, w = encode_rle(np.zeros((4, 6), bool))
    assert not decode_rle(counts, h, w).any()


def test_damaged_strings_and_rows_of_another_size_are_refused():
    m = np.array([[0, 1, 0], [0, 1, 1]], bool)
    counts, h, w = encode_rle(m)
    rng = np.random.default_rng(0)
    for _ in range(50):
        a = rng.random(tuple(rng.integers(1, 40, 2))) < rng.random()
        c, hh, ww = encode_rle(a)
        assert np.array_equal(decode_rle(c, hh, ww), a)
    for bad in ("garbage!!", None, 3, "é", counts[:-1] + "~"):
        with pytest.raises(ValueError):
            decode_rle(bad, h, w)
    # a row of another size (the counts hold the number of pixels, not the shape: 3×2 or 1×6
    # would pass, as for any RLE)
    with pytest.raises(ValueError, match="does not describe|not an RLE"):
        decode_rle(counts, 4, 3)
    ones, _, _ = encode_rle(np.ones((8, 8), bool))
    with pytest.raises(ValueError):
        decode_rle(ones, 16, 16)
