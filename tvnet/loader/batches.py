"""Batches of referring expressions for training and evaluation (docs/design.md §6).

Two sources of visual input, same maths: backbone features from a :class:`FeatureCache`
(frozen backbone, the CPU default) or letterboxed images through the backbone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from tvnet.config import MAX_TOKENS
from tvnet.data.mirror import flip_content, mirrored
from tvnet.data.refer import ReferDataset, Sample
from tvnet.data.tokenize import Vocab
from tvnet.data.transforms import Letterbox, decode_pool, each, letterbox_mask, load_letterboxed
from tvnet.loader.features import FeatureCache, cached_rows


@dataclass
class SplitTable:
    """A split's samples with their tokens and retrieved neighbours, as arrays. ``read_as``:
    sample id → the text the tokens were made from, where that is not the sample's own
    sentence (an evaluation that reads as the Predictor does, :mod:`tvnet.eval.reading`)."""

    samples: list[Sample]
    tokens: np.ndarray  # N×T int64
    lengths: np.ndarray  # N
    neighbour_image: np.ndarray  # N (−1: none)
    neighbours: pd.DataFrame | None
    read_as: dict[int, str] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        refer: ReferDataset,
        split: str,
        vocab: Vocab,
        max_tokens: int,
        neighbours: pd.DataFrame | None,
        read_as: dict[int, str] | None = None,
    ) -> SplitTable:
        samples = refer.samples(split)
        if not samples:
            raise ValueError(f"split {split!r} of {refer.name} has no samples")
        read_as = dict(read_as or {})
        texts = [read_as.get(int(s.sample_id), s.sentence) for s in samples]
        tokens, lengths = vocab.encode_batch(texts, max_tokens)
        nb = np.full(len(samples), -1, dtype=np.int64)
        if neighbours is not None:
            table = neighbours.set_index("sample_id")
            if not table.index.is_unique:  # .loc would give such a sample two rows, and every
                dup = table.index[table.index.duplicated()][0]  # later sample another's
                raise ValueError(
                    f"the neighbour table of {refer.name}/{split} holds sample {dup} more "
                    "than once; rebuild it with `tvnet pool neighbours`"
                )
            missing = [s.sample_id for s in samples if s.sample_id not in table.index]
            if missing:
                raise ValueError(
                    f"the neighbour table lacks {len(missing)} samples of {refer.name}/{split} "
                    f"(e.g. {missing[:3]}); rebuild it with `tvnet pool neighbours`"
                )
            from tvnet.retrieval.neighbours import check_neighbour_table

            rows = table.loc[[s.sample_id for s in samples]]
            check_neighbour_table(rows, refer, split)
            nb = _neighbour_images(rows)
            neighbours = rows.reset_index()
        return cls(samples, tokens, lengths, nb, neighbours, read_as)

    @classmethod
    def for_model(
        cls,
        refer: ReferDataset,
        split: str,
        model: torch.nn.Module,
        pool_dir: str | Path | None,
        read_as: dict[int, str] | None = None,
    ) -> SplitTable:
        """The split as ``model`` reads it: its vocabulary, and neighbours if it retrieves."""
        k_text = model.cfg.retrieval_k_text
        nb = load_neighbours(pool_dir, refer.name, split, model.uses_retrieval, k_text)
        return cls.build(refer, split, model.vocab, model.cfg.max_tokens, nb, read_as)

    def replace_neighbours(self, rows: pd.DataFrame) -> None:
        """Put the neighbour table ``rows`` (same columns, keyed by ``sample_id``) in place of
        those samples' rows, e.g. neighbours retrieved again for rewritten expressions."""
        if self.neighbours is None:
            raise ValueError("this table has no neighbours to replace")
        if rows.empty:
            return
        order = self.neighbours["sample_id"]
        if not rows["sample_id"].isin(order).all():
            raise ValueError("rows for samples that are not in this table")
        if rows["sample_id"].duplicated().any():
            raise ValueError("rows that name a sample more than once")
        kept = self.neighbours[~order.isin(rows["sample_id"])]
        table = pd.concat([kept, rows.reindex(columns=self.neighbours.columns)], ignore_index=True)
        table = table.set_index("sample_id").loc[order.to_numpy()].reset_index()
        self.neighbours = table
        self.neighbour_image = _neighbour_images(table)

    def __len__(self) -> int:
        return len(self.samples)


def _neighbour_images(table: pd.DataFrame) -> np.ndarray:
    """A neighbour table's ``neighbour_image_id`` column as int64, -1 where there is no
    neighbour (a pool with no other image): :class:`BatchLoader` refuses to use those."""
    return table["neighbour_image_id"].astype("Int64").fillna(-1).to_numpy(dtype=np.int64)


def load_neighbours(
    pool_dir: str | Path | None,
    dataset: str,
    split: str,
    needed: bool,
    k_text: int | None = None,
):
    """The offline neighbour table of ``dataset``/``split`` in ``pool_dir`` (None if not needed),
    retrieved with ``k_text`` text candidates when the table records its number."""
    if not needed:
        return None
    if pool_dir is None:
        raise ValueError("this variant uses retrieval: pass --pool (built with `tvnet pool build`)")
    from tvnet.retrieval.neighbours import neighbours_path, read_neighbours

    path = neighbours_path(pool_dir, dataset, split)
    if not path.is_file():
        raise FileNotFoundError(
            f"neighbour table {path} not found; run `tvnet pool neighbours --data DIR --split {split} --pool {pool_dir}`"
        )
    return read_neighbours(path, k_text)


class BatchLoader:
    """Makes model inputs for a list of sample indices of a :class:`SplitTable`."""

    def __init__(
        self,
        refer: ReferDataset,
        table: SplitTable,
        input_size: int,
        use_neighbours: bool,
        cache: FeatureCache | None,
        device: str | torch.device = "cpu",
        augment: Callable[[str, np.random.Generator], str] | None = None,
        vocab: Vocab | None = None,
        max_tokens: int = MAX_TOKENS,
        widen: bool = True,
        workers: int | None = None,
        mirror: float = 0.0,
    ):
        """``augment`` (with the ``vocab`` and ``max_tokens`` that encode its output) rewrites
        each expression of a batch made with a seed (:meth:`inputs`), e.g.
        :class:`tvnet.data.colour_names.ColourSwap`. ``widen=False``: cached features stay
        in their stored fp16, for :func:`widen` in the thread that runs the model
        (:meth:`FeatureCache.get`). ``workers``: threads that read images and masks
        (:func:`tvnet.data.transforms.decode_pool`; default: several on CUDA, one on a CPU).
        ``mirror``: the probability with which :meth:`flips` draws a sample to be read as its
        mirror image (``train.mirror``)."""
        self.refer, self.table, self.size = refer, table, input_size
        self.use_neighbours, self.cache, self.device = use_neighbours, cache, device
        if (augment is not None or mirror) and vocab is None:
            raise ValueError("an augmenting BatchLoader needs the vocab that encodes its text")
        if not 0.0 <= mirror <= 1.0:
            raise ValueError(f"mirror must be in [0, 1], got {mirror}")
        self.augment, self.vocab, self.max_tokens = augment, vocab, max_tokens
        self.mirror = mirror
        self.widen = widen
        self.pool = decode_pool(device, workers)

    def _images(self, image_ids: list[int]) -> torch.Tensor:
        def image(i: int) -> torch.Tensor:
            return load_letterboxed(self.refer, i, self.size)

        images = each(image, image_ids, self.pool)
        if torch.device(self.device).type == "cpu":  # numpy: no OpenMP team in this thread
            return torch.from_numpy(np.stack([t.numpy() for t in images]))
        return torch.stack(images).to(self.device)

    def flips(self, n: int, seed: Sequence[int] | None) -> np.ndarray:
        """Which of a batch's ``n`` samples are read as their mirror image: each with
        probability ``mirror``, drawn from ``seed`` (the batch's, as :meth:`inputs` takes it)
        in a stream of its own, so that the expression rewrites draw what they draw without
        it; none without a seed or with ``mirror`` 0."""
        if not self.mirror or seed is None:
            return np.zeros(n, dtype=bool)
        return np.random.default_rng([*seed, _MIRROR_STREAM]).random(n) < self.mirror

    def inputs(
        self,
        idx: list[int] | np.ndarray,
        seed: Sequence[int] | None = None,
        part: tuple[int, int] | None = None,
        flips: np.ndarray | None = None,
    ) -> dict[str, object]:
        """Model inputs of samples ``idx``; with ``seed`` (e.g. (run seed, step): the same
        batch on a resume) and an ``augment``, the expressions rewritten by it. ``part``:
        (start, stop), the inputs of ``idx[start:stop]`` only (one process's slice of a global
        batch under DDP), rewritten as they are in the whole batch, so that the processes
        together see what one process sees. ``flips`` (one per sample of ``idx``, e.g.
        :meth:`flips`): the samples read as their mirror image, the query flipped left to
        right and the expression's horizontal words swapped after any rewrite; the neighbour
        is read as it is, as the mirror pass of an answer reads it
        (:mod:`tvnet.inference.mirror`). With a cache, which holds unflipped images, those
        samples' cached features come with their flipped images (``mirror_images``, at
        ``mirror_rows``) for :func:`mirror_features` to replace in the step's thread."""
        t = self.table
        text = None
        if self.augment is not None and seed is not None:
            rng = np.random.default_rng(list(seed))
            text = [self.augment(t.samples[i].sentence, rng) for i in idx]
        if flips is not None and len(flips) != len(idx):
            raise ValueError(f"{len(flips)} flips for a batch of {len(idx)}")
        if flips is not None and flips.any():
            if self.vocab is None:
                raise ValueError("a mirroring BatchLoader needs the vocab that encodes its text")
            text = text or [t.samples[i].sentence for i in idx]
            text = [mirrored(x) if f else x for x, f in zip(text, flips)]
        else:
            flips = None
        if part is not None:
            idx = idx[part[0] : part[1]]
            text = None if text is None else text[part[0] : part[1]]
            flips = None if flips is None else flips[part[0] : part[1]]
            if flips is not None and not flips.any():  # none in this process's slice
                flips = None
        image_ids = [t.samples[i].image_id for i in idx]
        tokens, lengths = t.tokens[idx], t.lengths[idx]
        if text is not None:
            tokens, lengths = self.vocab.encode_batch(text, self.max_tokens)
        out: dict[str, object] = {
            "tokens": torch.from_numpy(tokens).to(self.device),
            "lengths": torch.from_numpy(lengths),
        }
        if self.cache is not None:
            out["feats"] = self.cache.get(image_ids, self.device, widen=self.widen)
            if flips is not None:  # the cache holds unflipped images: the backbone reads these
                rows = np.flatnonzero(flips)
                mirrored_ids = [image_ids[r] for r in rows]
                out[MIRROR_ROWS] = torch.from_numpy(rows)
                out[MIRROR_IMAGES] = self._flip(
                    self._images(mirrored_ids), np.ones(len(rows), dtype=bool), mirrored_ids
                )
        else:
            out["image"] = self._images(image_ids)
            if flips is not None:
                out["image"] = self._flip(out["image"], flips, image_ids)
        if self.use_neighbours:
            ref_ids = [int(t.neighbour_image[i]) for i in idx]
            if min(ref_ids) < 0:
                raise ValueError("this variant needs retrieved neighbours; pass a neighbour table")
            if self.cache is not None:
                # the retrieved image's V2 is unread
                out["ref_feats"] = self.cache.get(ref_ids, self.device, v2=False, widen=self.widen)
            else:
                out["ref_image"] = self._images(ref_ids)
        return out

    def images(self, image_ids: list[int]) -> torch.Tensor:
        """Letterboxed images B×3×S×S of any images of the dataset (e.g. pool images the
        evaluator picks at random as neighbours)."""
        return self._images(image_ids)

    def masks(self, idx: list[int] | np.ndarray, flips: np.ndarray | None = None) -> torch.Tensor:
        """Letterboxed ground truth B×1×S×S in {0, 1}; ``flips``: as :meth:`inputs` takes
        them, those samples' masks flipped as their images are."""
        samples = [self.table.samples[i] for i in idx]
        m = each(lambda s: letterbox_mask(self.refer.mask(s.ref_id), self.size), samples, self.pool)
        out = torch.from_numpy(np.stack(m)[:, None].astype(np.float32))
        if flips is not None:
            out = self._flip(out, flips, [s.image_id for s in samples])
        return out.to(self.device)

    def _flip(self, x: torch.Tensor, flips: np.ndarray, image_ids: list[int]) -> torch.Tensor:
        """``x`` (B×C×S×S over the letterboxed images ``image_ids``: images or masks) with the
        rows that ``flips`` marks mirrored: each image's content flipped left to right, its
        padding kept (:func:`tvnet.data.mirror.flip_content`, as the evaluator's mirror pass
        flips an image). On a CPU in numpy: this runs in the prefetcher's thread, where a
        PyTorch op would start a second OpenMP team beside the step's
        (:meth:`FeatureCache.get`)."""
        if not flips.any():
            return x
        rows = np.flatnonzero(flips)
        lbs = [Letterbox.for_shape(*self.refer.image_size(image_ids[r]), self.size) for r in rows]
        boxes = [(lb.new_h, lb.new_w) for lb in lbs]
        if x.device.type == "cpu":
            a = x.numpy().copy()
            a[rows] = flip_content(a[rows], boxes)
            return torch.from_numpy(a)
        x = x.clone()
        t = torch.from_numpy(rows).to(x.device)
        x[t] = flip_content(x[t], boxes)
        return x


MIRROR_ROWS, MIRROR_IMAGES = "mirror_rows", "mirror_images"


def mirror_features(inputs: dict[str, Any], backbone: torch.nn.Module) -> dict[str, Any]:
    """``inputs`` with the cached features of its mirrored samples (:meth:`BatchLoader.inputs`
    with ``flips`` and a cache) replaced by the backbone's features of their flipped images,
    computed here, in the calling thread and its autocast (the training step's, the precision
    the cache was built in) as the cache computes its rows (:func:`cached_rows`): the rows a
    cache of the flipped images would hold. A flipped feature map is
    no stand-in for them (docs/design.md §6, "Mirror training"). Other inputs as they are."""
    if MIRROR_IMAGES not in inputs:
        return inputs
    out = dict(inputs)
    rows, images = out.pop(MIRROR_ROWS), out.pop(MIRROR_IMAGES)
    live = cached_rows(backbone, images.to(backbone.in_scale.device))
    feats = []
    for f, g in zip(out["feats"], live):
        if f is not None:
            f = f.clone()
            f[rows.to(f.device)] = g.to(f.dtype)  # widened as the cached rows beside it
        feats.append(f)
    out["feats"] = feats
    return out


# the flips' own random stream beside the rewrites' (BatchLoader.flips): "mir"
_MIRROR_STREAM = 0x6D6972


def widen(inputs: dict[str, Any]) -> dict[str, Any]:
    """``inputs`` with cached features kept in fp16 (``BatchLoader(widen=False)``) widened to
    float32, exactly, by PyTorch in the calling thread; other inputs as they are."""
    out = dict(inputs)
    for key in ("feats", "ref_feats"):
        if out.get(key) is not None:
            out[key] = [
                f.float() if f is not None and f.dtype == torch.float16 else f for f in out[key]
            ]
    return out


class Prefetcher:
    """Makes the batch of step ``s + 1`` in a background thread while step ``s`` trains.

    ``make(step)`` must depend on ``step`` alone (the sample order and the augmentation seed
    are functions of it, :meth:`BatchLoader.inputs`), so the batches, and a resumed run, are
    the same with or without it. Reading cached features (page faults on a cold cache),
    decoding images and building masks then overlap the forward and backward pass instead of
    stalling it. One thread, one batch ahead; :meth:`get` of another step than the one made
    ahead makes that step in the caller's thread. An error in ``make`` is raised by the
    :meth:`get` of its step."""

    def __init__(self, make: Callable[[int], Any], start: int, stop: int):
        from concurrent.futures import ThreadPoolExecutor

        self._make, self._stop = make, stop
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="tvnet-batches")
        self._ahead: tuple[int, Any] | None = None
        self._submit(start)

    def _submit(self, step: int) -> None:
        self._ahead = (step, self._pool.submit(self._make, step)) if step < self._stop else None

    def get(self, step: int) -> Any:
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == step:
            batch = ahead[1].result()
        else:
            if ahead is not None:
                ahead[1].cancel()
            batch = self._make(step)
        self._submit(step + 1)
        return batch

    def close(self) -> None:
        if self._ahead is not None:
            self._ahead[1].cancel()
        self._pool.shutdown(wait=True)

    def __enter__(self) -> Prefetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
