"""The PyTorch dataset of referring expressions: image, tokens, mask, and the retrieved image.

With a neighbour table (the offline stage of RES, docs/design.md §1, written by ``tvnet pool``) each
item also carries the letterboxed image of the query's retrieved neighbour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch.utils.data import Dataset

from tvnet.data.refer import ReferDataset, Sample
from tvnet.data.tokenize import Vocab
from tvnet.data.transforms import Letterbox, letterbox, letterbox_mask, to_tensor

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

NEIGHBOUR_COLUMNS = (
    "sample_id",
    "neighbour_sample_id",
    "neighbour_image_id",
    "neighbour_sentence",
    "text_score",
    "image_score",
)


class RISDataset(Dataset):
    """Samples of one split of a refer-format dataset, letterboxed to ``input_size``.

    Item: ``image`` 3×S×S float32 (ImageNet-normalised), ``tokens`` (T,) int64, ``length``
    int, ``mask`` 1×S×S float32 in {0, 1}, ``index`` int, ``sample_id`` int; with
    ``neighbours`` also ``ref_image`` 3×S×S and ``ref_image_id`` int.
    """

    def __init__(
        self,
        refer: ReferDataset,
        split: str,
        vocab: Vocab,
        input_size: int = 320,
        max_tokens: int = 20,
        neighbours: pd.DataFrame | None = None,
    ):
        self.refer = refer
        self.split = split
        self.vocab = vocab
        self.input_size = int(input_size)
        self.max_tokens = int(max_tokens)
        self.samples: list[Sample] = refer.samples(split)
        self._neighbour: dict[int, int] | None = None
        if neighbours is not None:
            self._neighbour = self._index_neighbours(neighbours)

    def _index_neighbours(self, table: pd.DataFrame) -> dict[int, int]:
        missing_cols = [c for c in NEIGHBOUR_COLUMNS if c not in table.columns]
        if missing_cols:
            raise ValueError(
                f"neighbour table lacks columns {missing_cols}; expected {list(NEIGHBOUR_COLUMNS)}"
            )
        ids = table["sample_id"].to_numpy(dtype=np.int64)
        nimg = table["neighbour_image_id"].to_numpy(dtype=np.int64)
        if len(np.unique(ids)) != len(ids):
            raise ValueError("neighbour table has several rows for one sample_id")
        index = dict(zip(ids.tolist(), nimg.tolist()))
        absent = [s.sample_id for s in self.samples if s.sample_id not in index]
        if absent:
            raise ValueError(
                f"neighbour table has no row for {len(absent)} of {len(self.samples)} samples of "
                f"{self.refer.name}/{self.split} (first: {absent[:5]}); rebuild it with `tvnet pool`"
            )
        return index

    def __len__(self) -> int:
        return len(self.samples)

    def letterbox_meta(self, index: int) -> Letterbox:
        """The letterbox geometry of item ``index`` (from instances.json; no image read)."""
        s = self.samples[index]
        h, w = self.refer.image_size(s.image_id)
        return Letterbox.for_shape(h, w, self.input_size)

    def _image(self, image_id: int) -> torch.Tensor:
        img, _ = letterbox(self.refer.load_image(image_id), self.input_size)
        return to_tensor(img)  # 3×S×S

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < len(self.samples):
            raise IndexError(f"index {index} out of range for {len(self.samples)} samples")
        s = self.samples[index]
        tokens, length = self.vocab.encode(s.sentence, self.max_tokens)
        mask = letterbox_mask(self.refer.mask(s.ref_id), self.input_size)
        item: dict[str, Any] = {
            "image": self._image(s.image_id),
            "tokens": torch.from_numpy(tokens),
            "length": int(length),
            "mask": torch.from_numpy(mask.astype(np.float32))[None],  # 1×S×S
            "index": int(index),
            "sample_id": int(s.sample_id),
        }
        if self._neighbour is not None:
            nid = self._neighbour[s.sample_id]
            item["ref_image"] = self._image(nid)
            item["ref_image_id"] = int(nid)
        return item
