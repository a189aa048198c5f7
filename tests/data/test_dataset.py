"""RISDataset: letterboxed image, tokens, mask and, with a neighbour table, the retrieved image."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import DataLoader

from tvnet.data.dataset import RISDataset
from tvnet.data.refer import open_refer
from tvnet.data.tokenize import Vocab
from tvnet.data.transforms import letterbox, letterbox_mask, to_tensor

if TYPE_CHECKING:  # the fixture's type (tests/data/conftest.py)
    from conftest import ReferFixture


def _vocab(ds) -> Vocab:
    return Vocab.build(s.sentence for s in ds.samples("train"))


def test_items(refer_data: ReferFixture) -> None:
    refer = open_refer(refer_data.data / "refcoco")
    vocab = _vocab(refer)
    data = RISDataset(refer, "testA", vocab, input_size=64, max_tokens=6)
    assert len(data) == 2
    item = data[1]
    s = refer.samples("testA")[1]
    assert set(item) == {"image", "tokens", "length", "mask", "index", "sample_id"}
    assert item["sample_id"] == s.sample_id == 14 and item["index"] == 1
    assert item["image"].shape == (3, 64, 64) and item["image"].dtype == torch.float32
    assert torch.equal(item["image"], to_tensor(letterbox(refer.load_image(s.image_id), 64)[0]))
    assert item["tokens"].dtype == torch.int64 and item["tokens"].shape == (6,)
    assert item["length"] == 1 and item["tokens"][0] == 1 and item["tokens"][1:].eq(0).all()
    m = item["mask"]
    assert m.shape == (1, 64, 64) and m.dtype == torch.float32
    assert set(m.unique().tolist()) <= {0.0, 1.0}
    assert np.array_equal(m[0].numpy() > 0, letterbox_mask(refer.mask(s.ref_id), 64))


def test_mask_follows_the_letterbox(refer_data: ReferFixture) -> None:
    refer = open_refer(refer_data.data / "refcoco")
    data = RISDataset(refer, "val", _vocab(refer), input_size=96)
    item = data[0]
    lb = data.letterbox_meta(0)
    assert (lb.orig_h, lb.orig_w) == refer.image_size(refer.samples("val")[0].image_id)
    assert lb == letterbox(refer.load_image(1), 96)[1]
    gt = refer.mask(2)  # two overlapping squares
    back = lb.invert(item["mask"][0].numpy()) >= 0.5
    assert (back & gt).sum() / (back | gt).sum() > 0.85
    assert item["mask"][0, lb.new_h :].sum() == 0  # nothing in the padding


def test_neighbours_add_the_retrieved_image(refer_data: ReferFixture) -> None:
    refer = open_refer(refer_data.data / "refcoco")
    table = pd.DataFrame(
        {
            "sample_id": [13, 14],
            "neighbour_sample_id": [10, 15],
            "neighbour_image_id": [1, 3],
            "neighbour_sentence": ["man on the left", "the car at the right"],
            "text_score": [0.5, 0.4],
            "image_score": [0.9, 0.8],
        }
    )
    data = RISDataset(refer, "testA", _vocab(refer), input_size=64, neighbours=table)
    item = data[1]
    assert item["ref_image_id"] == 3
    assert torch.equal(item["ref_image"], to_tensor(letterbox(refer.load_image(3), 64)[0]))
    batch = next(iter(DataLoader(data, batch_size=2)))
    assert batch["ref_image"].shape == (2, 3, 64, 64) and batch["ref_image_id"].tolist() == [1, 3]
    assert batch["mask"].shape == (2, 1, 64, 64) and batch["tokens"].shape == (2, 20)
    with pytest.raises(ValueError, match=r"no row for 1 of 2"):
        RISDataset(refer, "testA", _vocab(refer), neighbours=table.iloc[:1])
    with pytest.raises(ValueError, match="image_score"):
        RISDataset(refer, "testA", _vocab(refer), neighbours=table.drop(columns="image_score"))


def test_index_out_of_range(refer_data: ReferFixture) -> None:
    refer = open_refer(refer_data.data / "refcoco")
    data = RISDataset(refer, "testB", _vocab(refer), input_size=32)
    with pytest.raises(IndexError):
        data[1]
    with pytest.raises(ValueError, match="no split"):
        RISDataset(refer, "test", _vocab(refer))
