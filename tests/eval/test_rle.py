"""tvnet/eval/rle.py: COCO RLE of boolean masks round-trips."""

from __future__ import annotations

import numpy as np
import pytest

from tvnet.eval.rle import decode_rle, encode_rle, run_lengths


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


def test_run_lengths_by_hand_and_damaged_strings_are_refused():
    # a 2×3 mask, column-major: 0 0 | 1 1 | 0 1 → runs 2 zeros, 2 ones, 1 zero, 1 one
    m = np.array([[0, 1, 0], [0, 1, 1]], bool)
    counts, h, w = encode_rle(m)
    assert run_lengths(counts) == [2, 2, 1, 1]
    rng = np.random.default_rng(0)
    for _ in range(50):
        a = rng.random(tuple(rng.integers(1, 40, 2))) < rng.random()
        c, hh, ww = encode_rle(a)
        assert sum(run_lengths(c)) == a.size and np.array_equal(decode_rle(c, hh, ww), a)
    for bad in ("garbage!!", None, 3, "é"):
        with pytest.raises(ValueError):
            decode_rle(bad, h, w)
    with pytest.raises(ValueError, match="cover 6 pixels"):
        decode_rle(counts, 4, 3)  # a row of another size
