import numpy as np
import pytest
import torch

from tests.conftest import give_content, save_tiny_model
from tvnet import Predictor
from tvnet.inference.recent import RecentImages, digest


class Extract:
    """A real two-level 'backbone' (mean over channels; every other pixel) that records the
    batches it was given."""

    def __init__(self):
        self.batches: list[torch.Tensor] = []

    def __call__(self, x: torch.Tensor) -> list[torch.Tensor]:
        self.batches.append(x.clone())
        return [x.mean(1, keepdim=True), x[:, :, ::2, ::2] * 2]


def images(n: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, 8, 8, generator=torch.Generator().manual_seed(seed))


def test_digest_reads_pixels_dtype_and_shape():
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert digest(a) == digest(a.copy()) == digest(torch.from_numpy(a.copy()))
    b = a.copy()
    b[2, 3] += 1
    assert digest(b) != digest(a)
    assert digest(a.reshape(4, 3)) != digest(a)
    assert digest(a.astype(np.int16)) != digest(a)
    assert digest(a.T) == digest(np.ascontiguousarray(a.T))  # strides do not matter


def test_backbone_rows_are_served_again_and_only_new_rows_computed():
    cache, ex = RecentImages(8), Extract()
    x = images(2)
    first = cache.backbone(x, ex)
    assert len(ex.batches) == 1 and ex.batches[0].shape[0] == 2
    again = cache.backbone(x.clone(), ex)
    assert len(ex.batches) == 1 and (cache.hits, cache.misses) == (2, 2)
    for f, g in zip(first, again):
        assert torch.equal(f, g)
    # one row seen, one new: only the new row is computed, and the rows keep their order
    y = torch.cat([images(1, seed=5), x[1:]])
    out = cache.backbone(y, ex)
    assert len(ex.batches) == 2 and torch.equal(ex.batches[1], y[:1])
    for f, g in zip(out, ex.__call__(y)):
        assert torch.equal(f, g)
    # a single changed value is another image
    z = x[:1].clone()
    z[0, 1, 2, 3] += 1e-3
    cache.backbone(z, ex)
    assert torch.equal(ex.batches[-1], z)


def test_least_recently_used_rows_go_first_and_zero_entries_cache_nothing():
    cache, ex = RecentImages(2), Extract()
    a, b, c = images(1, 1), images(1, 2), images(1, 3)
    for x in (a, b, a, c):  # a was used after b, so c evicts b
        cache.backbone(x, ex)
    assert len(cache) == 2 and len(ex.batches) == 3
    cache.backbone(a, ex)
    assert len(ex.batches) == 3
    cache.backbone(b, ex)
    assert len(ex.batches) == 4
    off, ex0 = RecentImages(0), Extract()
    for _ in range(3):
        off.backbone(a, ex0)
        assert off.value("v", a.numpy(), lambda: 1) == 1
    assert len(ex0.batches) == 3 and len(off) == 0
    with pytest.raises(ValueError, match="≥ 0"):
        RecentImages(-1)


def test_the_byte_budget_drops_the_oldest_first():
    cache, ex = RecentImages(32, max_bytes=600), Extract()  # room for one image (448 bytes)
    a, b = images(1, 1), images(1, 2)
    cache.backbone(a, ex)
    per_image = cache.nbytes
    assert per_image == (8 * 8 + 3 * 4 * 4) * 4  # the two levels of Extract, fp32
    cache.backbone(b, ex)
    assert len(cache) == 1 and cache.nbytes == per_image  # a went
    cache.backbone(b, ex)
    assert len(ex.batches) == 2
    cache.backbone(a, ex)
    assert len(ex.batches) == 3
    cache.clear()
    assert cache.nbytes == 0 and len(cache) == 0


def test_value_computes_once_per_pixels():
    cache, calls = RecentImages(4), []
    img = np.zeros((5, 7, 3), np.uint8)
    for _ in range(3):
        assert cache.value("vec", img, lambda: calls.append(1) or np.ones(3)).sum() == 3
    assert len(calls) == 1
    cache.value("other kind", img, lambda: calls.append(1) or 0)
    assert len(calls) == 2


@pytest.fixture(scope="module")
def pair(tiny_synthref, tmp_path_factory):
    """Two fp32 predictors of one checkpoint and pool: remembering recent images and not."""
    ckpt = save_tiny_model(tiny_synthref["refer"], "full", tmp_path_factory.mktemp("fc") / "full")
    kw = dict(device="cpu", pool_images=tiny_synthref["data"] / "images", amp=False)
    cached = Predictor.from_checkpoint(ckpt, tiny_synthref["pool"], **kw)
    plain = Predictor.from_checkpoint(
        ckpt, tiny_synthref["pool"], retriever=cached.retriever, recent_images=0, **kw
    )
    s = tiny_synthref["refer"].samples("test")[2]
    give_content([plain, cached], tiny_synthref["refer"].load_image(s.image_id), s.sentence)
    return cached, plain


def test_a_repeated_image_gives_the_same_answer_without_a_backbone_pass(pair, tiny_synthref):
    cached, plain = pair
    refer = tiny_synthref["refer"]
    s0, s1 = refer.samples("test")[:2]
    img = refer.load_image(s0.image_id)
    cached.recent_images.clear()
    first = cached(img, s0.sentence)
    misses = cached.recent_images.misses
    second = cached(img.copy(), s0.sentence)
    assert cached.recent_images.misses == misses  # query, neighbour and image vector all served
    assert np.array_equal(first.prob, second.prob)
    assert second.neighbour.index == first.neighbour.index
    assert "backbone" in second.timings
    # the first call computed exactly what a predictor without a cache computes
    assert np.array_equal(first.prob, plain(img, s0.sentence).prob)
    # another expression of the same image: its neighbour may be new, the query is served;
    # rows computed in a batch of 1 instead of 2 agree to fp32 rounding
    other = cached(img, s1.sentence)
    np.testing.assert_allclose(other.prob, plain(img, s1.sentence).prob, atol=1e-4)


def test_influence_reruns_reuse_the_answers_backbone_maps(pair, tiny_synthref):
    cached, plain = pair
    refer = tiny_synthref["refer"]
    s = refer.samples("test")[2]
    img = refer.load_image(s.image_id)
    cached.recent_images.clear()
    pred = cached(img, s.sentence)
    misses = cached.recent_images.misses
    words = cached.word_influence(img, s.sentence, neighbour=pred.neighbour.index)
    gate = cached.neighbour_influence(img, s.sentence, pred=pred)
    assert cached.recent_images.misses == misses
    ref_words = plain.word_influence(img, s.sentence, neighbour=pred.neighbour.index)
    assert [w.word for w in words] == [w.word for w in ref_words]
    np.testing.assert_allclose(
        [w.influence for w in words], [w.influence for w in ref_words], atol=1e-6
    )
    assert max(w.influence for w in ref_words) > 0  # not 0 against 0
    assert 0 <= gate.iou < 0.98  # the neighbour moves this answer
