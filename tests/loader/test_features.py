"""The backbone feature cache: what it stores, and an interrupted build that resumes."""

import json

import numpy as np
import pytest
import torch

from tests.conftest import TINY_MODEL
from tvnet import build_model
from tvnet.amp import cpu_bf16_supported, cpu_has_bf16
from tvnet.data.refer import open_refer
from tvnet.data.tokenize import Vocab
from tvnet.data.transforms import letterbox, to_tensor
from tvnet.loader import features
from tvnet.loader.batches import widen
from tvnet.loader.features import LEVELS, FeatureCache, cache_precision


@pytest.fixture(scope="module")
def backbone(tiny_synthref):
    torch.manual_seed(0)
    vocab = Vocab.build(s.sentence for s in tiny_synthref["refer"].samples("train"))
    model = build_model("cpu", "baseline", vocab=vocab, pretrained=False, **TINY_MODEL)
    return model.backbone.eval()


def _cache(root, backbone, refer):
    size = TINY_MODEL["input_size"]
    return FeatureCache(root, backbone, refer, size, 8, progress=False, amp=False, batch_size=4)


class Interrupted(Exception):
    pass


def test_cached_rows_are_the_backbone_of_each_image(tiny_synthref, backbone, tmp_path):
    refer = tiny_synthref["refer"]
    cache = _cache(tmp_path, backbone, refer)
    cache.ensure("val")
    ids = refer.image_ids("val")
    i = ids[-1]
    x = to_tensor(letterbox(refer.load_image(i), cache.input_size)[0])[None]
    with torch.inference_mode():
        want = backbone.extract(x)
    got = cache.get([i])
    for g, w in zip(got, want):
        assert g.shape == w.shape
        # stored as fp16: the tolerance is fp16's relative step
        assert torch.allclose(g, w, rtol=2e-3, atol=2e-3)
    assert sorted(p.name for p in cache.dir.glob(".val.partial*")) == []  # renamed when whole


def test_an_interrupted_build_resumes_where_it_stopped(
    tiny_synthref, backbone, tmp_path, monkeypatch
):
    refer = tiny_synthref["refer"]
    ids = refer.image_ids("train")
    assert len(ids) > 10
    monkeypatch.setattr(features, "SAVE_EVERY", 1)  # a progress record after every batch

    loaded: list[int] = []
    real_load = refer.load_image

    def failing_load(i):
        if len(loaded) == 10:  # the third batch of four: two batches (8 images) are recorded
            raise Interrupted
        loaded.append(i)
        return real_load(i)

    monkeypatch.setattr(refer, "load_image", failing_load)
    cache = _cache(tmp_path / "a", backbone, refer)
    with pytest.raises(Interrupted):
        cache.ensure("train")
    part = cache.dir / ".train.partial"
    assert json.loads((part / "progress.json").read_text())["done"] == 8
    assert not (cache.dir / "train").exists()

    monkeypatch.setattr(refer, "load_image", lambda i: (loaded.append(i), real_load(i))[1])
    loaded.clear()
    resumed = _cache(tmp_path / "a", backbone, refer)
    resumed.ensure("train")
    assert loaded == ids[8:]  # only the images after the recorded ones were read again
    assert not part.exists() and (resumed.dir / "train" / "index.json").is_file()

    fresh = _cache(tmp_path / "b", backbone, refer)
    fresh.ensure("train")
    for lvl in LEVELS:
        a = np.load(resumed.dir / "train" / f"{lvl}.npy")
        b = np.load(fresh.dir / "train" / f"{lvl}.npy")
        assert np.array_equal(a, b), lvl  # the same batches, so the same bits


def test_a_partial_build_of_other_images_is_started_again(tiny_synthref, backbone, tmp_path):
    refer = tiny_synthref["refer"]
    cache = _cache(tmp_path, backbone, refer)
    part = cache.dir / ".val.partial"
    part.mkdir(parents=True)
    old_tmp = cache.dir / ".val.k0hlwzxq"  # an interrupted build of an earlier version
    old_tmp.mkdir()
    (old_tmp / "v2.npy").write_bytes(b"x")
    (part / "progress.json").write_text(json.dumps({"images": "0" * 16, "n": 3, "done": 3}))
    (part / "v2.npy").write_bytes(b"not an array")
    cache.ensure("val")
    n = len(refer.image_ids("val"))
    assert all(np.load(cache.dir / "val" / f"{lvl}.npy").shape[0] == n for lvl in LEVELS)
    assert not np.isnan(cache.get(refer.image_ids("val"))[0]).any()
    assert not part.exists() and not old_tmp.exists()


def test_a_split_without_images_is_named(backbone, tmp_path):
    from tvnet.data.synthref import generate

    generate(tmp_path / "d", seed=0, train=2, val=0, test=1, workers=1, progress=False)
    refer = open_refer(tmp_path / "d")  # a real dataset whose val split is empty
    with pytest.raises(ValueError, match=r"has no split 'val'; it has \['train', 'test'\]"):
        _cache(tmp_path / "cache", backbone, refer).ensure("val")


def test_a_damaged_cache_is_named_with_what_to_do(tiny_synthref, backbone, tmp_path):
    refer = tiny_synthref["refer"]
    _cache(tmp_path, backbone, refer).ensure("val")
    folder = _cache(tmp_path, backbone, refer).dir / "val"
    index = json.loads((folder / "index.json").read_text())
    (folder / "index.json").write_text(json.dumps({"image_ids": index["image_ids"][:-1]}))
    with pytest.raises(ValueError, match="damaged.*delete that folder"):
        _cache(tmp_path, backbone, refer).ensure("val")
    (folder / "index.json").write_text("{not json")
    with pytest.raises(ValueError, match="damaged"):
        _cache(tmp_path, backbone, refer).ensure("val")


def test_rows_of_two_splits_are_read_exactly_and_v2_only_when_asked(
    tiny_synthref, backbone, tmp_path
):
    refer = tiny_synthref["refer"]
    cache = _cache(tmp_path, backbone, refer)
    cache.ensure("val")
    cache.ensure("test")
    ids = [refer.image_ids("test")[0], refer.image_ids("val")[1], refer.image_ids("test")[0]]
    stored = {s: [np.load(cache.dir / s / f"{lvl}.npy") for lvl in LEVELS] for s in ("val", "test")}
    rows = {s: json.loads((cache.dir / s / "index.json").read_text())["image_ids"] for s in stored}
    got = cache.get(ids)
    for lvl, g in enumerate(got):
        assert g.dtype == torch.float32 and g.shape[0] == 3
        for b, i in enumerate(ids):
            split = "test" if i in rows["test"] else "val"
            want = stored[split][lvl][rows[split].index(i)].astype(np.float32)  # fp16 widened
            assert np.array_equal(g[b].numpy(), want)
    # a retrieved image's V2 is never read (TVNet.visual keeps only V3–V5 of it)
    no_v2 = cache.get(ids, v2=False)
    assert no_v2[0] is None
    assert all(torch.equal(a, b) for a, b in zip(no_v2[1:], got[1:]))
    # kept in fp16 for the caller's thread (the training loop's), then widened there exactly
    half = cache.get(ids, v2=False, widen=False)
    assert half[0] is None and all(h.dtype == torch.float16 for h in half[1:])
    inputs = widen({"feats": half, "tokens": torch.zeros(3, 2, dtype=torch.long)})
    assert inputs["feats"][0] is None and inputs["tokens"].dtype == torch.long
    assert all(torch.equal(a, b) for a, b in zip(inputs["feats"][1:], got[1:]))
    assert all(h.dtype == torch.float16 for h in half[1:])  # the caller's dict is not changed
    with pytest.raises(KeyError, match="not in the feature cache"):
        cache.get([10**9])
    with pytest.raises(ValueError, match="no image ids"):
        cache.get([])


def test_the_cache_key_names_the_precision_its_features_are_computed_in(
    tiny_synthref, backbone, tmp_path
):
    """bf16 features and fp32 ones never share a folder: without bf16 autocast (off, or a CPU
    without it) the key says fp32 whatever was asked; bf16 caches keep the name "amp"."""
    refer, size = tiny_synthref["refer"], TINY_MODEL["input_size"]
    off = FeatureCache(tmp_path, backbone, refer, size, 8, progress=False, amp=False)
    on = FeatureCache(tmp_path, backbone, refer, size, 8, progress=False, amp=True)
    assert off.dir.name.endswith("-fp32")
    assert on.dir.name.endswith("-amp" if cpu_bf16_supported() else "-fp32")
    assert off.dir.name.rsplit("-", 1)[0] == on.dir.name.rsplit("-", 1)[0]


def test_the_cache_key_follows_the_precision_not_the_flag_on_either_kind_of_cpu(monkeypatch):
    """Both branches on one machine: TVNET_CPU_BF16=0 makes any CPU an fp32 one, and a CPU
    with bf16 names its autocast caches "amp"; a GPU without bf16 (here: none) would be fp16."""
    assert cache_precision("cpu", False) == "fp32"
    if not torch.cuda.is_available():  # a GPU's caches are never a CPU's, at any precision
        assert cache_precision("cuda", True) == "fp16-cuda"
    assert cache_precision("cuda", False) == "fp32-cuda"
    try:
        monkeypatch.setenv("TVNET_CPU_BF16", "0")
        cpu_bf16_supported.cache_clear()
        assert cache_precision("cpu", True) == "fp32"
        if cpu_has_bf16():
            monkeypatch.delenv("TVNET_CPU_BF16")
            cpu_bf16_supported.cache_clear()
            assert cache_precision("cpu", True) == "amp"
    finally:
        monkeypatch.undo()
        cpu_bf16_supported.cache_clear()


def test_a_mirrored_sample_reads_its_flipped_images_features_beside_the_cache(
    tiny_synthref, backbone, tmp_path
):
    """``train.mirror`` with a feature cache: the cache holds unflipped images, so a flipped
    sample comes with its flipped letterboxed image (content flipped, padding kept), and
    :func:`mirror_features` puts the backbone's features of that image in its rows; the other
    samples keep their cached rows, the inputs' other keys stay."""
    from tvnet.data.mirror import flip_content
    from tvnet.data.transforms import Letterbox
    from tvnet.loader.batches import BatchLoader, SplitTable, mirror_features

    refer = tiny_synthref["refer"]
    size = TINY_MODEL["input_size"]
    cache = _cache(tmp_path, backbone, refer)
    cache.ensure("val")
    vocab = Vocab.build(s.sentence for s in refer.samples("val"))
    table = SplitTable.build(refer, "val", vocab, max_tokens=20, neighbours=None)
    loader = BatchLoader(refer, table, size, False, cache, vocab=vocab, max_tokens=20)
    samples = refer.samples("val")
    shapes = [refer.image_size(s.image_id) for s in samples]
    idx = [i for i, (h, w) in enumerate(shapes) if h != w][:2] + [0]
    assert len(idx) == 3  # two non-square images: padding on the right or below
    flips = np.array([True, False, True])
    plain, m = loader.inputs(idx), loader.inputs(idx, flips=flips)
    assert m["mirror_rows"].tolist() == [0, 2]

    def plain_image(b: int) -> torch.Tensor:
        return to_tensor(letterbox(refer.load_image(samples[idx[b]].image_id), size)[0])

    for k, b in enumerate((0, 2)):
        image = plain_image(b)
        lb = Letterbox.for_shape(*shapes[idx[b]], size)
        assert torch.equal(
            m["mirror_images"][k], flip_content(image[None], [(lb.new_h, lb.new_w)])[0]
        )
    assert all(torch.equal(a, c) for a, c in zip(m["feats"], plain["feats"]))  # not yet replaced
    out = mirror_features(m, backbone)
    assert set(out) == set(plain) and torch.equal(out["tokens"], m["tokens"])
    with torch.no_grad():  # as the cache computes its rows: channels-last, stored in fp16
        x = m["mirror_images"].contiguous(memory_format=torch.channels_last)
        live = [g.half().float() for g in backbone.extract(x)]
    for lvl, (p, f, g) in enumerate(zip(plain["feats"], out["feats"], live)):
        assert torch.equal(f[1], p[1]), lvl  # an unflipped sample: its cached rows
        assert torch.equal(f[0], g[0]) and torch.equal(f[2], g[1]), lvl
        assert not torch.equal(f[0], p[0]), lvl
    assert mirror_features(plain, backbone) is plain  # nothing mirrored: nothing computed
    # fed the unflipped images, the step's features are the cached rows: the same input
    # layout and precision, rounded to fp16 as stored (the cache was built in fp32 here)
    same = dict(m, mirror_images=torch.stack([plain_image(b) for b in (0, 2)]))
    for f, p in zip(mirror_features(same, backbone)["feats"], plain["feats"]):
        assert torch.allclose(f, p, rtol=2e-3, atol=1e-3)
    # one torchrun process's slice without a flipped sample reads the cache alone
    alone = loader.inputs(idx, part=(1, 2), flips=flips)
    assert "mirror_images" not in alone and torch.equal(alone["feats"][1], plain["feats"][1][1:2])
    # a slice whose flipped sample is not the batch's first: its rows count within the slice
    last = mirror_features(loader.inputs(idx, part=(1, 3), flips=flips), backbone)
    with torch.no_grad():  # a batch of one, as the slice computes it
        x = m["mirror_images"][1:].contiguous(memory_format=torch.channels_last)
        live_last = [g.half().float() for g in backbone.extract(x)]
    for f, p, g in zip(last["feats"], plain["feats"], live_last):
        assert torch.equal(f[0], p[1]) and torch.equal(f[1], g[0])


@pytest.mark.skipif(not cpu_bf16_supported(), reason="needs a CPU with bf16 autocast")
def test_a_mirrored_samples_features_are_computed_in_the_precision_of_a_bf16_cache(
    tiny_synthref, backbone, tmp_path
):
    """A cache built under bf16 autocast: :func:`mirror_features` under the training step's
    autocast, fed the unflipped images, gives the cached rows up to bf16's run-to-run
    differences, far closer than the same call without autocast (fp32 features)."""
    from tvnet.amp import autocast_context
    from tvnet.loader.batches import BatchLoader, SplitTable, mirror_features

    refer, size = tiny_synthref["refer"], TINY_MODEL["input_size"]
    cache = FeatureCache(tmp_path, backbone, refer, size, 8, progress=False, amp=True)
    cache.ensure("val")
    vocab = Vocab.build(s.sentence for s in refer.samples("val"))
    table = SplitTable.build(refer, "val", vocab, max_tokens=20, neighbours=None)
    loader = BatchLoader(refer, table, size, False, cache, vocab=vocab, max_tokens=20)
    idx, samples = [0, 1], refer.samples("val")
    m = loader.inputs(idx, flips=np.array([True, True]))
    m["mirror_images"] = torch.stack(
        [to_tensor(letterbox(refer.load_image(samples[i].image_id), size)[0]) for i in idx]
    )
    with autocast_context("cpu", True):
        amp = mirror_features(m, backbone)["feats"]
    fp32 = mirror_features(m, backbone)["feats"]
    for f, a, c in zip(m["feats"], amp, fp32):
        err_amp, err_fp32 = (a - f).abs().max(), (c - f).abs().max()
        assert err_amp * 4 < err_fp32, (err_amp, err_fp32)


def test_a_cache_that_would_not_fit_on_the_disk_is_refused_before_it_is_made(tmp_path):
    """The arrays are sparse memory maps: a disk that fills while they are written kills the
    process with SIGBUS and no message. The room is checked first, and said."""
    from tvnet.loader.features import _check_room

    feats = [torch.zeros(4, 8, 10, 10)]  # 800 values a row, 1,600 bytes in float16
    _check_room(tmp_path, 10, feats)  # 16 kB: fits anywhere
    with pytest.raises(OSError, match=r"needs .* GiB in .*, .* GiB are free"):
        _check_room(tmp_path, 10**12, feats)
