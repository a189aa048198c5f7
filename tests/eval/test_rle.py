"""tvnet/eval/rle.py: COCO RLE of boolean masks round-trips."""

from __future__ import annotations

import numpy as np

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
