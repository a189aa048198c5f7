"""Backbone feature cache for frozen-backbone training and evaluation (docs/design.md §6).

With a frozen backbone the features of an image never change, so they are computed once per
image and stored in fp16 memory-mapped arrays (one per backbone level) — the CPU budget then
goes to the trainable parts. The cache key hashes the backbone weights, the input size and
the dataset's annotation file, so changing any of them invalidates the cache.

Layout: ``ROOT/<key>/<split>/{v2,v3,v4,v5}.npy`` + ``index.json``, each split folder written
atomically (temporary folder, then rename).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from tvnet.amp import autocast_context
from tvnet.data.refer import ReferDataset
from tvnet.data.transforms import letterbox, to_tensor

LEVELS = ("v2", "v3", "v4", "v5")


def backbone_fingerprint(backbone: torch.nn.Module, input_size: int, output_stride: int) -> str:
    h = hashlib.sha256(f"{input_size}/{output_stride}".encode())
    for k, v in sorted(backbone.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def dataset_fingerprint(refer: ReferDataset) -> str:
    h = hashlib.sha256(refer.name.encode())
    inst = Path(refer.root) / "instances.json"
    if inst.is_file():
        st = inst.stat()
        h.update(f"{st.st_size}/{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


class FeatureCache:
    """Read (and build on first use) the cached backbone features of a dataset's images."""

    def __init__(
        self,
        root: str | Path,
        backbone,
        refer: ReferDataset,
        input_size: int,
        output_stride: int,
        device: str = "cpu",
        batch_size: int = 16,
        progress: bool = True,
        amp: bool = True,
    ):
        self.amp = amp
        self.backbone, self.refer, self.device = backbone, refer, device
        self.input_size, self.batch_size, self.progress = input_size, batch_size, progress
        fp = backbone_fingerprint(backbone, input_size, output_stride)
        key = f"{refer.name}-{dataset_fingerprint(refer)}-{fp}-{'amp' if amp else 'fp32'}"
        self.dir = Path(root) / key
        self._stores: dict[str, tuple[list[np.ndarray], dict[int, int]]] = {}
        self._where: dict[int, tuple[str, int]] = {}

    def ensure(self, split: str) -> None:
        """Build the cache of ``split``'s images unless it exists; then map it."""
        if split in self._stores:
            return
        folder = self.dir / split
        if not (folder / "index.json").is_file():
            self._build(split, folder)
        index = json.loads((folder / "index.json").read_text())
        arrays = [np.load(folder / f"{lvl}.npy", mmap_mode="r") for lvl in LEVELS]
        rows = {int(i): r for r, i in enumerate(index["image_ids"])}
        self._stores[split] = (arrays, rows)
        for i, r in rows.items():
            self._where.setdefault(i, (split, r))

    @torch.inference_mode()
    def _build(self, split: str, folder: Path) -> None:
        ids = self.refer.image_ids(split)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{split}.", dir=folder.parent))
        try:
            self.backbone.eval().to(self.device)
            body = self.backbone.to(memory_format=torch.channels_last)
            arrays = None
            for start in tqdm(
                range(0, len(ids), self.batch_size),
                desc=f"caching {split} features",
                disable=not self.progress,
                unit="batch",
            ):
                chunk = ids[start : start + self.batch_size]
                x = torch.stack(
                    [
                        to_tensor(letterbox(self.refer.load_image(i), self.input_size)[0])
                        for i in chunk
                    ]
                )
                x = x.to(self.device).contiguous(memory_format=torch.channels_last)
                with autocast_context(self.device, self.amp):
                    feats = body.extract(x)
                if arrays is None:
                    arrays = [
                        np.lib.format.open_memmap(
                            tmp / f"{lvl}.npy",
                            mode="w+",
                            dtype=np.float16,
                            shape=(len(ids), *f.shape[1:]),
                        )
                        for lvl, f in zip(LEVELS, feats)
                    ]
                for arr, f in zip(arrays, feats):
                    arr[start : start + len(chunk)] = f.float().cpu().numpy().astype(np.float16)
            for arr in arrays or []:
                arr.flush()
            (tmp / "index.json").write_text(
                json.dumps({"image_ids": [int(i) for i in ids], "split": split})
            )
            if folder.exists():
                shutil.rmtree(folder)
            tmp.rename(folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def __contains__(self, image_id: int) -> bool:
        return int(image_id) in self._where

    def get(self, image_ids: list[int], device: str | torch.device = "cpu") -> list[torch.Tensor]:
        """Features [V2..V5] of ``image_ids`` as float32 B×C×H×W tensors."""
        out: list[list[np.ndarray]] = [[] for _ in LEVELS]
        for i in image_ids:
            if int(i) not in self._where:
                raise KeyError(f"image {i} is not in the feature cache {self.dir}")
            split, r = self._where[int(i)]
            arrays, _ = self._stores[split]
            for lvl, arr in enumerate(arrays):
                out[lvl].append(arr[r])
        return [torch.from_numpy(np.stack(o).astype(np.float32)).to(device) for o in out]
