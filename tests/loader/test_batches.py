"""The training/evaluation batches (tvnet/loader/batches.py): letterboxed images, tokens, masks
and, with a neighbour table, the retrieved image — on a small SynthRef."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from tvnet.data.refer import ReferDataset, open_refer
from tvnet.data.synthref import generate
from tvnet.data.tokenize import Vocab
from tvnet.data.transforms import Letterbox, letterbox, letterbox_mask, to_tensor
from tvnet.loader.batches import BatchLoader, SplitTable, load_neighbours
from tvnet.retrieval.neighbours import neighbours_path


@pytest.fixture(scope="module")
def refer(tmp_path_factory: pytest.TempPathFactory) -> ReferDataset:
    out = tmp_path_factory.mktemp("batches") / "synthref"
    generate(out, seed=5, train=6, val=4, test=2, workers=1, progress=False)
    return open_refer(out)


def _vocab(refer: ReferDataset) -> Vocab:
    return Vocab.build(s.sentence for s in refer.samples("train"))


def _neighbours(refer: ReferDataset, split: str) -> pd.DataFrame:
    """A hand-made neighbour table: sample k of ``split`` retrieves train sample k."""
    samples, train = refer.samples(split), refer.samples("train")
    nb = [train[k % len(train)] for k in range(len(samples))]
    return pd.DataFrame(
        {
            "sample_id": [s.sample_id for s in samples],
            "neighbour_sample_id": [t.sample_id for t in nb],
            "neighbour_image_id": [t.image_id for t in nb],
            "neighbour_sentence": [t.sentence for t in nb],
            "text_score": np.linspace(0.5, 0.4, len(samples)),
            "image_score": np.linspace(0.9, 0.8, len(samples)),
        }
    )


def test_inputs_and_masks(refer: ReferDataset) -> None:
    vocab = _vocab(refer)
    table = SplitTable.build(refer, "val", vocab, max_tokens=6, neighbours=None)
    assert len(table) == 4 and table.samples == refer.samples("val")  # index i ↔ sample i
    loader = BatchLoader(refer, table, 64, use_neighbours=False, cache=None)
    inputs = loader.inputs([1, 2])
    assert set(inputs) == {"tokens", "lengths", "image"}
    for b, i in enumerate((1, 2)):
        s = refer.samples("val")[i]
        image = inputs["image"][b]
        assert image.shape == (3, 64, 64) and image.dtype == torch.float32
        assert torch.equal(image, to_tensor(letterbox(refer.load_image(s.image_id), 64)[0]))
        tokens, length = vocab.encode(s.sentence, 6)
        assert inputs["tokens"].dtype == torch.int64 and inputs["tokens"].shape == (2, 6)
        assert inputs["tokens"][b].tolist() == tokens.tolist()
        assert int(inputs["lengths"][b]) == length >= 1
        assert inputs["tokens"][b, length:].eq(0).all()  # padded with 0
    masks = loader.masks([1, 2])
    assert masks.shape == (2, 1, 64, 64) and masks.dtype == torch.float32
    assert set(masks.unique().tolist()) <= {0.0, 1.0}
    for b, i in enumerate((1, 2)):
        s = refer.samples("val")[i]
        assert np.array_equal(masks[b, 0].numpy() > 0, letterbox_mask(refer.mask(s.ref_id), 64))
    with pytest.raises(IndexError):
        loader.inputs([len(table)])


def test_mask_follows_the_letterbox(refer: ReferDataset) -> None:
    samples = refer.samples("val")
    # the largest referent on a non-square image: padding exists, and the inverse is stable
    shapes = [refer.image_size(s.image_id) for s in samples]
    cands = [i for i, (h, w) in enumerate(shapes) if h != w]
    assert cands
    i = max(cands, key=lambda i: refer.mask(samples[i].ref_id).sum())
    table = SplitTable.build(refer, "val", _vocab(refer), max_tokens=20, neighbours=None)
    mask = BatchLoader(refer, table, 96, use_neighbours=False, cache=None).masks([i])[0, 0]
    lb = Letterbox.for_shape(*shapes[i], 96)
    assert lb == letterbox(refer.load_image(samples[i].image_id), 96)[1]
    gt = refer.mask(samples[i].ref_id)
    back = lb.invert(mask.numpy()) >= 0.5
    assert (back & gt).sum() / (back | gt).sum() > 0.85
    assert mask[lb.new_h :].sum() == 0 and mask[:, lb.new_w :].sum() == 0  # nothing in the padding


def test_neighbours_add_the_retrieved_image(refer: ReferDataset, tmp_path: Path) -> None:
    nb = _neighbours(refer, "val")
    table = SplitTable.build(refer, "val", _vocab(refer), max_tokens=20, neighbours=nb)
    assert table.neighbour_image.tolist() == nb["neighbour_image_id"].tolist()
    loader = BatchLoader(refer, table, 64, use_neighbours=True, cache=None)
    inputs = loader.inputs([0, 1])
    assert inputs["ref_image"].shape == (2, 3, 64, 64) and inputs["tokens"].shape == (2, 20)
    assert loader.masks([0, 1]).shape == (2, 1, 64, 64)
    for b in (0, 1):
        nid = int(nb["neighbour_image_id"][b])
        expected = to_tensor(letterbox(refer.load_image(nid), 64)[0])
        assert torch.equal(inputs["ref_image"][b], expected)
    with pytest.raises(ValueError, match=r"lacks 1 samples"):
        SplitTable.build(refer, "val", _vocab(refer), max_tokens=20, neighbours=nb.iloc[1:])
    # a sample twice: .loc gave it two rows, and every later sample another's neighbour
    twice = pd.concat([nb, nb.iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError, match=r"holds sample \d+ more than once"):
        SplitTable.build(refer, "val", _vocab(refer), max_tokens=20, neighbours=twice)
    table2 = SplitTable.build(refer, "val", _vocab(refer), max_tokens=20, neighbours=nb)
    with pytest.raises(ValueError, match="more than once"):
        table2.replace_neighbours(nb.iloc[[0, 0]])
    # a sample whose pool held no other image has a null neighbour (neighbour_table): the
    # table builds, and a batch that would need that neighbour is refused
    none = nb.astype({"neighbour_sample_id": "Int64", "neighbour_image_id": "Int64"})
    none.loc[2, ["neighbour_sample_id", "neighbour_image_id", "neighbour_sentence"]] = pd.NA
    holes = SplitTable.build(refer, "val", _vocab(refer), max_tokens=20, neighbours=none)
    assert holes.neighbour_image.tolist()[2] == -1
    holed = BatchLoader(refer, holes, 64, use_neighbours=True, cache=None)
    assert holed.inputs([0, 1])["ref_image"].shape == (2, 3, 64, 64)
    with pytest.raises(ValueError, match="needs retrieved neighbours"):
        holed.inputs([1, 2])
    no_nb = SplitTable.build(refer, "val", _vocab(refer), max_tokens=20, neighbours=None)
    with pytest.raises(ValueError, match="needs retrieved neighbours"):
        BatchLoader(refer, no_nb, 64, use_neighbours=True, cache=None).inputs([0])
    # the table on disk: read back with its columns checked
    path = neighbours_path(tmp_path, refer.name, "val")
    nb.drop(columns="image_score").to_parquet(path, index=False)
    with pytest.raises(ValueError, match="image_score"):
        load_neighbours(tmp_path, refer.name, "val", needed=True)
    nb.to_parquet(path, index=False)
    pd.testing.assert_frame_equal(load_neighbours(tmp_path, refer.name, "val", needed=True), nb)
    assert load_neighbours(tmp_path, refer.name, "val", needed=False) is None


def test_images_and_masks_read_by_several_threads_are_the_same(refer: ReferDataset) -> None:
    """A GPU's loader reads a batch's images and masks side by side (decode_pool): the same
    tensors, in the same order, as one by one; a CPU's reads them one by one."""
    nb = _neighbours(refer, "val")
    table = SplitTable.build(refer, "val", _vocab(refer), max_tokens=20, neighbours=nb)
    one = BatchLoader(refer, table, 64, use_neighbours=True, cache=None)
    many = BatchLoader(refer, table, 64, use_neighbours=True, cache=None, workers=3)
    assert one.pool is None and many.pool is not None
    idx = [3, 0, 2, 1, 0]
    a, b = one.inputs(idx), many.inputs(idx)
    for key in ("image", "ref_image", "tokens"):
        assert torch.equal(a[key], b[key]), key
    assert torch.equal(one.masks(idx), many.masks(idx))
    assert not torch.equal(a["image"][0], a["image"][1])  # the order is kept, not one image


def test_a_table_of_another_folder_is_refused(
    refer: ReferDataset, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Tables are named by dataset name and split only: one whose neighbours are the samples
    of another SynthRef (same name, another seed, the same ids and image ids) must be
    refused, not paired silently with this folder's images of those ids."""
    out = tmp_path_factory.mktemp("other") / "synthref"
    generate(out, seed=6, train=6, val=4, test=2, workers=1, progress=False)
    other = open_refer(out)
    assert other.name == refer.name
    vocab = _vocab(refer)
    theirs = _neighbours(other, "val")
    assert theirs["sample_id"].tolist() == [s.sample_id for s in refer.samples("val")]
    here = {s.sample_id: s.image_id for s in refer.samples("train")}
    assert all(
        here[int(n)] == i for n, i in zip(theirs.neighbour_sample_id, theirs.neighbour_image_id)
    )
    with pytest.raises(ValueError, match=r"\(sample \d+, image \d+, “.+”\) is not a sample of"):
        SplitTable.build(refer, "val", vocab, max_tokens=20, neighbours=theirs)
    # this folder's own table passes
    own = _neighbours(refer, "val")
    SplitTable.build(refer, "val", vocab, max_tokens=20, neighbours=own)
    # so does a copy of its val split alone, images and instances linked (research/
    # paraphrase.py's layout): the neighbours' samples are not there, their images are
    copy = tmp_path_factory.mktemp("copy")
    refs = json.loads((refer.root / "refs(synth).json").read_text())
    (copy / "refs(synth).json").write_text(json.dumps([r for r in refs if r["split"] == "val"]))
    for name in ("images", "instances.json"):
        (copy / name).symlink_to((refer.root / name).resolve())
    single = open_refer(copy)
    assert single.splits() == ["val"]
    table = SplitTable.build(single, "val", vocab, max_tokens=20, neighbours=own)
    assert table.neighbour_image.tolist() == own["neighbour_image_id"].tolist()
    # … unless a neighbour's image is not there either
    lost = own.copy()
    lost.loc[1, "neighbour_image_id"] = max(refer.image_ids()) + 1
    with pytest.raises(ValueError, match=rf"the neighbour of sample {own.sample_id[1]} of"):
        SplitTable.build(single, "val", vocab, max_tokens=20, neighbours=lost)


def test_augmented_batches_rewrite_the_text_reproducibly(refer: ReferDataset) -> None:
    """With an ``augment`` and a seed the expressions are rewritten and re-encoded; the same
    seed gives the same batch (a resumed run sees what the straight one saw), no seed the
    table's own tokens."""

    def shout(sentence: str, rng: np.random.Generator) -> str:
        return sentence + (" now" if rng.random() < 0.5 else " later")

    vocab = Vocab.build([s.sentence for s in refer.samples("train")] + ["now later"])
    table = SplitTable.build(refer, "train", vocab, max_tokens=24, neighbours=None)
    loader = BatchLoader(refer, table, 64, False, None, augment=shout, vocab=vocab, max_tokens=24)
    idx = [0, 1, 2, 3]
    a, b = loader.inputs(idx, seed=(0, 7)), loader.inputs(idx, seed=(0, 7))
    assert torch.equal(a["tokens"], b["tokens"]) and torch.equal(a["lengths"], b["lengths"])
    assert (a["lengths"] == torch.from_numpy(table.lengths[idx]) + 1).all()
    last = {vocab.words[int(t[n - 1])] for t, n in zip(a["tokens"], a["lengths"])}
    assert last <= {"now", "later"}
    plain = loader.inputs(idx)
    assert torch.equal(plain["tokens"], torch.from_numpy(table.tokens[idx]))
    with pytest.raises(ValueError, match="vocab"):
        BatchLoader(refer, table, 64, False, None, augment=shout)


def test_prefetcher_gives_each_step_its_own_batch() -> None:
    import threading

    from tvnet.loader.batches import Prefetcher

    threads: list[str] = []
    made: list[tuple[int, str]] = []  # (step, thread): the worker may append concurrently

    def make(step: int) -> int:
        threads.append(threading.current_thread().name)
        made.append((step, threading.current_thread().name))
        if step == 4:
            raise RuntimeError("bad batch 4")
        return step * 10

    with Prefetcher(make, start=1, stop=6) as pf:
        assert [pf.get(s) for s in (1, 2, 3)] == [10, 20, 30]
        assert all(t.startswith("tvnet-batches") for t in threads)  # made ahead, in the thread
        with pytest.raises(RuntimeError, match="bad batch 4"):
            pf.get(4)  # an error reaches the step it belongs to
        assert pf.get(2) == 20  # another step than the one made ahead: made in the caller
        assert [t for s, t in made if s == 2][-1] == threading.current_thread().name
        assert pf.get(3) == 30


def test_mirrored_samples_read_the_flipped_image_mask_and_swapped_words(
    refer: ReferDataset,
) -> None:
    """``train.mirror``: a flipped sample reads its letterboxed image with the content
    flipped (as the flipped image letterboxed, up to the resize's rounding), its mask flipped
    alike and the expression with left and right swapped; its neighbour as it is. The draws
    follow the seed in a stream of their own: the expression rewrites do not move."""
    from tvnet.data.mirror import mirrored

    vocab = Vocab.build([s.sentence for s in refer.samples("train")] + ["left right"])
    nb = _neighbours(refer, "val")
    table = SplitTable.build(refer, "val", vocab, max_tokens=24, neighbours=nb)
    loader = BatchLoader(refer, table, 64, True, None, vocab=vocab, max_tokens=24, mirror=0.5)
    idx = [0, 1, 2, 3]
    flips = np.array([True, False, True, False])
    plain, m = loader.inputs(idx), loader.inputs(idx, flips=flips)
    assert torch.equal(plain["ref_image"], m["ref_image"])  # the neighbour is not flipped
    masks, mmasks = loader.masks(idx), loader.masks(idx, flips)
    samples = refer.samples("val")
    swapped = 0
    for b, i in enumerate(idx):
        s = samples[i]
        if not flips[b]:
            assert torch.equal(m["image"][b], plain["image"][b])
            assert torch.equal(m["tokens"][b], plain["tokens"][b])
            assert torch.equal(mmasks[b], masks[b])
            continue
        image = refer.load_image(s.image_id)
        want = to_tensor(letterbox(np.ascontiguousarray(image[:, ::-1]), 64)[0])
        assert (m["image"][b] - want).abs().max() <= 2 / 255  # PIL's resize rounds per side
        flipped = letterbox_mask(np.ascontiguousarray(refer.mask(s.ref_id)[:, ::-1]), 64)
        assert (mmasks[b, 0].numpy() > 0).tolist() == flipped.tolist()
        swapped += mirrored(s.sentence) != s.sentence
        tokens, n = vocab.encode(mirrored(s.sentence), 24)
        assert m["tokens"][b].tolist() == tokens.tolist() and int(m["lengths"][b]) == n
    assert swapped  # a flipped expression had a horizontal word to swap
    # a part of the batch (one torchrun process) reads what the whole batch has there
    # (a slice without a flipped sample included)
    assert torch.equal(loader.inputs(idx, part=(1, 2), flips=flips)["image"], m["image"][1:2])
    part = loader.inputs(idx, part=(2, 4), flips=flips)
    assert torch.equal(part["image"], m["image"][2:]) and torch.equal(
        part["tokens"], m["tokens"][2:]
    )
    # the draws: reproducible, about half, and other for another step
    draws = np.stack([loader.flips(8, (0, step)) for step in range(200)])
    assert np.array_equal(draws, np.stack([loader.flips(8, (0, s)) for s in range(200)]))
    assert 0.45 < draws.mean() < 0.55 and len({d.tobytes() for d in draws}) > 100
    assert not loader.flips(8, None).any()
    assert not BatchLoader(refer, table, 64, True, None, vocab=vocab).flips(8, (0, 1)).any()
    assert BatchLoader(refer, table, 64, True, None, vocab=vocab, mirror=1.0).flips(8, (0, 1)).all()

    def tag(sentence: str, rng: np.random.Generator) -> str:
        return sentence + (" left" if rng.random() < 0.5 else " right")

    args = (refer, table, 64, True, None)
    a = BatchLoader(*args, augment=tag, vocab=vocab, max_tokens=24)
    b_ = BatchLoader(*args, augment=tag, vocab=vocab, max_tokens=24, mirror=0.5)
    kept = 0
    for step in range(20):
        seed = (3, step)
        f = b_.flips(4, seed)
        ta, tb = a.inputs(idx, seed=seed)["tokens"], b_.inputs(idx, seed=seed, flips=f)["tokens"]
        assert torch.equal(tb[~torch.from_numpy(f)], ta[~torch.from_numpy(f)])  # the same draws
        kept += int((~f).sum())
    assert 20 < kept < 60
    with pytest.raises(ValueError, match="vocab"):
        BatchLoader(*args, mirror=0.5)
    with pytest.raises(ValueError, match=r"mirror must be in \[0, 1\]"):
        BatchLoader(*args, vocab=vocab, mirror=1.5)
    with pytest.raises(ValueError, match="3 flips for a batch of 4"):
        loader.inputs(idx, flips=flips[:3])
    with pytest.raises(ValueError, match="3 flips for a batch of 4"):
        loader.inputs(idx, flips=np.zeros(3, dtype=bool))
