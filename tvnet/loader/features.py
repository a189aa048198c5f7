"""Backbone feature cache for frozen-backbone training and evaluation (docs/design.md §6).

With a frozen backbone the features of an image never change, so they are computed once per
image and stored in fp16 memory-mapped arrays (one per backbone level) — the CPU budget then
goes to the trainable parts. The cache key hashes the backbone weights, the input size and
the dataset's annotation file, so changing any of them invalidates the cache.

Layout: ``ROOT/<key>/<split>/{v2,v3,v4,v5}.npy`` + ``index.json``, each split folder written
atomically (built in ``.<split>.partial``, then renamed); an interrupted build resumes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from tvnet.amp import autocast_context, autocast_dtype
from tvnet.data.refer import ReferDataset
from tvnet.data.transforms import decode_pool, each, load_letterboxed
from tvnet.io import replace_dir, sync_tree

LEVELS = ("v2", "v3", "v4", "v5")
SAVE_EVERY = 32  # batches between two progress records of a build (512 images at batch 16)
log = logging.getLogger(__name__)


def backbone_fingerprint(backbone: torch.nn.Module, input_size: int, output_stride: int) -> str:
    h = hashlib.sha256(f"{input_size}/{output_stride}".encode())
    if getattr(backbone, "bgr", False):  # the same tensors computed as Caffe did: other maps
        h.update(b"layout:caffe+same-stem")  # (timm's layout adds nothing: its caches keep
        # their keys; "+same-stem": the stem padded as TensorFlow's "SAME" since 2026-12-07,
        # fifth session, so caches of the layouts before are others')
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
    if getattr(refer, "missing_images", None):  # images left out now, back later: rebuilt
        h.update(json.dumps(refer.missing_images).encode())
    return h.hexdigest()[:16]


def cache_precision(device: str | torch.device, amp: bool) -> str:
    """The last part of a cache's key: the precision its features are computed in, not the
    flag asked for, so that caches of two precisions never mix in one folder: "amp" for bf16
    autocast (a CPU with bf16 or a GPU; the name older caches have), "fp16" for fp16 autocast
    (a GPU without bf16), "fp32" where no autocast runs (``amp`` off, or a CPU without bf16,
    whose caches said "amp" before 2026-12-06 and are built again once)."""
    dtype = autocast_dtype(device, amp)
    tag = {torch.bfloat16: "amp", torch.float16: "fp16", None: "fp32"}[dtype]
    # a GPU's features are other numbers (its kernels, TF32 in "fp32"): never a CPU run's cache
    return tag + ("-cuda" if torch.device(device).type == "cuda" else "")


def _check_room(folder: Path, n: int, feats: list[torch.Tensor]) -> None:
    """OSError before the arrays are made when ``folder``'s disk lacks room for ``n`` images'
    rows like ``feats``': the arrays are sparse memory maps, and a disk that fills while they
    are written kills the process (SIGBUS) without a word."""
    need = sum(n * int(np.prod(f.shape[1:])) * 2 for f in feats)  # float16
    free = shutil.disk_usage(folder).free
    if need > free:
        raise OSError(
            f"the feature cache needs {need / 2**30:.1f} GiB in {folder.parent}, "
            f"{free / 2**30:.1f} GiB are free: make room, or give another --cache-dir"
        )


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
        key = f"{refer.name}-{dataset_fingerprint(refer)}-{fp}-{cache_precision(device, amp)}"
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
        try:
            index = json.loads((folder / "index.json").read_text())
            arrays = [np.load(folder / f"{lvl}.npy", mmap_mode="r") for lvl in LEVELS]
            rows = {int(i): r for r, i in enumerate(index["image_ids"])}
            if any(len(a) != len(rows) for a in arrays):
                raise ValueError(
                    f"{len(rows)} images indexed, arrays of {[len(a) for a in arrays]} rows"
                )
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ValueError(
                f"the feature cache {folder} is damaged ({type(e).__name__}: {e}); delete that "
                "folder and it is built again"
            ) from e
        self._stores[split] = (arrays, rows)
        for i, r in rows.items():
            self._where.setdefault(i, (split, r))

    @torch.inference_mode()
    def _build(self, split: str, folder: Path) -> None:
        """Compute ``split``'s features into ``.<split>.partial`` and rename it when whole.

        The build resumes: every ``SAVE_EVERY`` batches the arrays are flushed and
        ``progress.json`` records how many rows are written, so an interrupted build (a session
        that ended, a killed job) continues from there. A lock file serialises builders of the
        same split (DDP ranks, a training and an evaluation started together); whoever comes
        second finds the finished folder and only maps it.
        """
        ids = [int(i) for i in self.refer.image_ids(split)]
        folder.parent.mkdir(parents=True, exist_ok=True)
        with _locked(folder.parent / f".{split}.lock"):
            if (folder / "index.json").is_file():
                return  # built by another process while this one waited
            part = folder.parent / f".{split}.partial"
            for stale in folder.parent.glob(f".{split}.*"):  # earlier versions' temporary folders
                if stale.is_dir() and stale != part:
                    shutil.rmtree(stale, ignore_errors=True)
            arrays, done = _reopen(part, ids)
            if done:
                log.info("resuming the %s feature cache at image %d of %d", split, done, len(ids))
            self.backbone.eval().to(self.device)

            def image(i: int) -> torch.Tensor:
                return load_letterboxed(self.refer, i, self.input_size)

            # a GPU's images read side by side; the threads end with the build, however it ends
            with decode_pool(self.device) or nullcontext() as pool:
                body = self.backbone.to(memory_format=torch.channels_last)
                starts = range(done, len(ids), self.batch_size)
                for n, start in enumerate(
                    tqdm(
                        starts,
                        desc=f"caching {split} features",
                        disable=not self.progress,
                        unit="batch",
                    )
                ):
                    chunk = ids[start : start + self.batch_size]
                    x = torch.stack(each(image, chunk, pool)).to(self.device)
                    with autocast_context(self.device, self.amp):
                        feats = cached_rows(body, x)
                    if arrays is None:
                        shutil.rmtree(part, ignore_errors=True)
                        part.mkdir()
                        _check_room(part, len(ids), feats)
                        arrays = [
                            np.lib.format.open_memmap(
                                part / f"{lvl}.npy",
                                mode="w+",
                                dtype=np.float16,
                                shape=(len(ids), *f.shape[1:]),
                            )
                            for lvl, f in zip(LEVELS, feats)
                        ]
                    for arr, f in zip(arrays, feats):
                        arr[start : start + len(chunk)] = f.cpu().numpy()
                    if (n + 1) % SAVE_EVERY == 0:
                        _save_progress(part, arrays, ids, start + len(chunk))
            if arrays is None:
                raise ValueError(f"split {split!r} of {self.refer.name} has no images to cache")
            for arr in arrays:
                arr.flush()
            (part / "progress.json").unlink(missing_ok=True)
            (part / "index.json").write_text(json.dumps({"image_ids": ids, "split": split}))
            sync_tree(part)  # on disk before the name: a power cut leaves the old cache or this
            replace_dir(part, folder)  # an old cache of the split swapped out in one step

    def __contains__(self, image_id: int) -> bool:
        return int(image_id) in self._where

    def get(
        self,
        image_ids: list[int],
        device: str | torch.device = "cpu",
        v2: bool = True,
        widen: bool = True,
    ) -> list[torch.Tensor | None]:
        """Features [V2..V5] of ``image_ids`` as B×C×H×W tensors: float32, or with
        ``widen=False`` the stored fp16 rows, for the caller to widen (exactly, with
        :func:`tvnet.loader.batches.widen`) in its own thread. ``v2=False``: None in V2's place,
        not read (a retrieved image's V2, which no variant reads:
        :meth:`tvnet.model.tvnet.TVNet.visual` keeps only its V3–V5; 39 % of an image's cached
        bytes; docs/experiments.md, "Reading the feature cache").

        The training loop reads batches in a prefetcher thread and widens them in the main
        one: numpy's single-threaded ``astype`` there (24–28 ms a `full` batch) took a core
        from the step's OpenMP team, and a PyTorch op there would start a second team beside
        it; PyTorch's widening in the main thread's team is ≈ 9 ms (docs/experiments.md,
        "Widening cached features in the step's own thread")."""
        if len(image_ids) == 0:
            raise ValueError("no image ids to read from the feature cache")
        where = []
        for i in image_ids:
            if int(i) not in self._where:
                raise KeyError(f"image {i} is not in the feature cache {self.dir}")
            where.append(self._where[int(i)])
        out: list[torch.Tensor | None] = []
        for lvl in range(len(LEVELS)):
            if lvl == 0 and not v2:
                out.append(None)
                continue
            rows = np.stack([self._stores[split][0][lvl][r] for split, r in where])
            out.append(torch.from_numpy(rows.astype(np.float32) if widen else rows).to(device))
        return out


def cached_rows(backbone: torch.nn.Module, images: torch.Tensor) -> list[torch.Tensor]:
    """[V2..V5] of letterboxed ``images`` as the cache stores them: the backbone read on
    channels-last input (under the caller's autocast, the cache's precision) and each level
    rounded to fp16 (through float32, as numpy's cast rounds). The cache's build and the live
    features of a mirrored training sample (:func:`tvnet.loader.batches.mirror_features`)
    both compute rows so."""
    x = images.contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        return [f.float().to(torch.float16) for f in backbone.extract(x)]


def _ids_digest(ids: list[int]) -> str:
    return hashlib.sha256(json.dumps(ids).encode()).hexdigest()[:16]


def _save_progress(part: Path, arrays: list[np.ndarray], ids: list[int], done: int) -> None:
    """Flush the arrays, then record (atomically) that their first ``done`` rows are written."""
    for arr in arrays:
        arr.flush()
    tmp = part / "progress.json.tmp"
    tmp.write_text(json.dumps({"images": _ids_digest(ids), "n": len(ids), "done": done}))
    os.replace(tmp, part / "progress.json")


def _reopen(part: Path, ids: list[int]) -> tuple[list[np.ndarray] | None, int]:
    """The arrays and row count of an interrupted build of the same images, or (None, 0)."""
    try:
        prog = json.loads((part / "progress.json").read_text())
        if prog["images"] != _ids_digest(ids) or prog["n"] != len(ids):
            return None, 0
        arrays = [np.load(part / f"{lvl}.npy", mmap_mode="r+") for lvl in LEVELS]
        done = int(prog["done"])
        if not 0 < done <= len(ids) or any(a.shape[0] != len(ids) for a in arrays):
            return None, 0
        return arrays, done
    except (OSError, ValueError, KeyError, TypeError):
        return None, 0  # no usable partial build: start again (the folder is replaced)


@contextmanager
def _locked(path: Path):
    """An exclusive advisory lock on ``path`` (POSIX; elsewhere no lock)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
