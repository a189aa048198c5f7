"""tvnet/inference/influence.py: what an answer owes to its neighbour and to each word."""

import numpy as np
import pytest
import torch
from PIL import Image

from tests.conftest import give_content, save_tiny_model
from tvnet import Influence, Predictor, WordInfluence
from tvnet.inference.influence import NO_RETRIEVAL, mask_iou, word_spans


def _load(tiny, ckpt, **kw):
    return Predictor.from_checkpoint(
        ckpt, tiny["pool"], device="cpu", pool_images=tiny["data"] / "images", amp=False, **kw
    )


@pytest.fixture(scope="module")
def scene(tiny_synthref):
    refer = tiny_synthref["refer"]
    s = refer.samples("val")[2]
    return refer.load_image(s.image_id), s.sentence


@pytest.fixture(scope="module")
def full(tiny_synthref, tmp_path_factory, scene):
    """A tiny untrained `full` whose answers have content (tests.conftest.give_content)."""
    ckpt = save_tiny_model(tiny_synthref["refer"], "full", tmp_path_factory.mktemp("f") / "full")
    p = _load(tiny_synthref, ckpt)
    give_content([p], *scene)
    return p


def test_the_full_fixture_answers_with_content_that_words_and_neighbours_move(full, scene):
    """The guard of the tests below: masks of neither nothing nor everything, which the
    neighbour and the words change."""
    img, sentence = scene
    assert full.neighbour_influence(img, sentence).changed > 0.02
    assert max(w.influence for w in full.word_influence(img, "the red circle on the left")) > 0


def test_mask_iou_by_hand():
    a = np.zeros((4, 4), bool)
    b = a.copy()
    assert mask_iou(a, b) == 1.0  # both empty
    a[0, :2] = True
    b[0, 1:3] = True
    assert mask_iou(a, b) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="shapes"):
        mask_iou(a, np.zeros((2, 2), bool))


def test_word_spans_index_the_expression():
    e = "The RED-circle, left of 2 stars!"
    spans = word_spans(e)
    assert [w for w, _, _ in spans] == ["The", "RED", "circle", "left", "of", "2", "stars"]
    assert all(e[a:b] == w for w, a, b in spans)


def test_a_neighbour_that_adds_nothing_changes_nothing(tiny_synthref, tmp_path, scene):
    """Enrichment whose output projection W_o is zero adds gate ⊙ 0: closing the gate gives
    exactly the answer's mask."""
    ckpt = save_tiny_model(tiny_synthref["refer"], "res", tmp_path / "res", seed=2)
    p = _load(tiny_synthref, ckpt)
    with torch.no_grad():
        for e in p.model.enrich:
            e.proj.weight.zero_()
            e.proj.bias.zero_()
    img, sentence = scene
    inf = p.neighbour_influence(img, sentence)
    assert isinstance(inf, Influence)
    assert inf.iou == 1.0 and inf.changed == 0.0
    assert inf.label == "enrichment with the neighbour changed 0.0% of the mask"
    np.testing.assert_array_equal(inf.mask, p(img, sentence).mask)


def test_neighbour_influence_is_the_gate_closed_mask_against_the_answer(full, scene):
    img, sentence = scene
    pred = full(img, sentence)
    inf = full.neighbour_influence(img, sentence, pred=pred)
    # by hand: the same network with the enrichment switched off
    q = full._query(img, sentence)
    tokens, lengths = full._tokens(q.expression)
    with torch.no_grad():
        logits = full.model(tokens, lengths, image=q.x, close_gate=True).logits
    want = q.letterbox.invert(torch.sigmoid(logits)[0, 0]).numpy() >= 0.5
    assert mask_iou(inf.mask, want) > 0.99
    assert inf.iou == pytest.approx(mask_iou(inf.mask, pred.mask))
    assert inf.changed == pytest.approx(1 - inf.iou)
    # without pred it computes the answer itself (the same neighbour: RES stage 1's)
    alone = full.neighbour_influence(img, sentence)
    assert mask_iou(alone.mask, inf.mask) > 0.99
    with pytest.raises(ValueError, match="resized"):
        full.neighbour_influence(img, sentence, pred=pred.resized((10, 10)))


def test_the_answers_own_pass_gives_the_neighbour_influence(tiny_synthref, tmp_path, scene):
    """``gate_closed=True`` decodes the closed gate from the answer's backbone features: the
    answer is the same, and neighbour_influence of it reruns nothing yet agrees with a rerun.
    The enrichment's output projection is made large and the threshold set at the answer's
    median, so that closing the gate moves a real share of the mask."""
    ckpt = save_tiny_model(tiny_synthref["refer"], "full", tmp_path / "full", seed=3)
    p = _load(tiny_synthref, ckpt)
    with torch.no_grad():
        for e in p.model.enrich:
            e.proj.weight.normal_(0, 2.0, generator=torch.Generator().manual_seed(0))
    img, sentence = scene
    plain = p(img, sentence)
    t = float(np.median(plain.prob))
    plain = p(img, sentence, threshold=t)
    pred = p(img, sentence, threshold=t, gate_closed=True)
    np.testing.assert_array_equal(pred.prob, plain.prob)  # the answer itself is untouched
    assert plain.gate_closed_prob is None and "gate_closed" not in plain.timings
    assert pred.gate_closed_prob.shape == pred.prob.shape and "gate_closed" in pred.timings
    assert 0.2 < pred.mask.mean() < 0.8
    fast = p.neighbour_influence(img, sentence, pred=pred)
    rerun = p.neighbour_influence(img, sentence, pred=plain)  # the second backbone pass
    assert fast.changed > 0.05  # the gate matters here
    assert mask_iou(fast.mask, rerun.mask) > 0.99  # fp32 both; batch 2 against batch 1
    assert fast.changed == pytest.approx(rerun.changed, abs=0.01)
    # the demo draws a huge upload smaller: the map follows the answer to the image's size
    h, w = pred.mask.shape
    small_img = np.asarray(Image.fromarray(img).resize((w // 2, h // 2), Image.BILINEAR))
    small = pred.resized((h // 2, w // 2))
    assert small.gate_closed_prob.shape == small.mask.shape == (h // 2, w // 2)
    half = p.neighbour_influence(small_img, sentence, pred=small)
    assert half.mask.shape == (h // 2, w // 2)
    assert half.changed == pytest.approx(fast.changed, abs=0.05)
    with pytest.raises(ValueError, match="resized"):  # an answer for another image size
        p.neighbour_influence(img, sentence, pred=small)


def test_candidate_influence_is_each_candidate_as_the_neighbour(full, scene):
    img, sentence = scene
    pred = full(img, sentence)
    cands = pred.neighbour.candidates["index"].tolist()[:3]
    got = full.candidate_influence(img, sentence, cands)
    assert len(got) == 3 and all(isinstance(g, Influence) for g in got)
    for index, inf in zip(cands, got):
        forced = full(img, sentence, neighbour=index)
        assert mask_iou(inf.mask, forced.mask) > 0.99  # the mask with that neighbour
        assert inf.iou == pytest.approx(mask_iou(inf.mask, pred.mask), abs=0.01)
        assert f"pool #{index}" in inf.label
    # the answer's own neighbour as a candidate: (almost) no change
    own = full.candidate_influence(img, sentence, [pred.neighbour.index], pred=pred)[0]
    assert own.iou > 0.99
    with pytest.raises(Exception, match="outside the pool"):
        full.candidate_influence(img, sentence, [10**6])
    # a pool sentence holding braces (a user's own pool) is quoted as written
    meta = full.retriever.pool.meta
    col = meta.columns.get_loc("sentence")
    was = meta.iat[cands[0], col]
    meta.iat[cands[0], col] = "the {left} cup }"
    try:
        (odd,) = full.candidate_influence(img, sentence, cands[:1])
    finally:
        meta.iat[cands[0], col] = was
    assert f"pool #{cands[0]} “the {{left}} cup }}” would change " in odd.label
    assert odd.label.endswith(f"{1 - odd.iou:.1%}")


def test_word_influence_drops_each_word_in_turn(full, scene):
    img, _ = scene
    expression = "the red circle on the left"
    pred = full(img, expression)
    words = full.word_influence(img, expression)
    assert all(isinstance(w, WordInfluence) for w in words)
    assert [w.word for w in words] == expression.split()
    assert all(expression[w.start : w.end] == w.word for w in words)
    nb = pred.neighbour.index
    for k, w in enumerate(words):
        without = " ".join(expression.split()[:k] + expression.split()[k + 1 :])
        by_hand = full(img, without, neighbour=nb).mask
        assert mask_iou(w.mask, by_hand) > 0.99
        assert w.influence == pytest.approx(1 - mask_iou(w.mask, pred.mask), abs=0.01)
        assert 0 <= w.influence <= 1


def test_a_word_the_model_never_reads_has_no_influence(full, scene):
    """The model reads the first 20 words: dropping the 22nd changes nothing."""
    img, _ = scene
    expression = " ".join(["circle"] * 21 + ["zorblax", "star"])
    words = full.word_influence(img, expression)
    assert len(words) == 23
    again = full.word_influence(img, expression)[21].mask  # pure: the same again
    assert words[21].word == "zorblax" and words[21].influence == 0.0
    np.testing.assert_array_equal(words[21].mask, again)
    # one word: dropping it leaves no word at all, which is still an answer
    (only,) = full.word_influence(img, "circle")
    assert (only.word, only.start, only.end) == ("circle", 0, 6) and 0 <= only.influence <= 1


def test_a_mirror_averaged_answer_is_compared_with_alternatives_averaged_alike(
    tiny_synthref, tmp_path, scene
):
    """Each influence view of a mirror-averaged answer reruns both passes (the mirror image
    with left and right swapped, the same neighbour) and averages before the cut: each
    alternative equals the Predictor's own mirror-averaged answer for that input. The
    enrichment's output projection is made large (the neighbour matters) and the head's bias
    moved so that the 0.5 cut splits the answer near its median (the masks are not trivial)."""
    from tvnet.data.mirror import mirrored

    ckpt = save_tiny_model(tiny_synthref["refer"], "full", tmp_path / "full", seed=3)
    full = _load(tiny_synthref, ckpt)
    img, _ = scene
    expression = "the red circle on the left"
    give_content([full], img, expression)
    direct = full(img, expression, gate_closed=True)
    nb = direct.neighbour.index
    pred = full(img, expression, gate_closed=True, mirror=True)
    # the closed-gate map the answer carries is averaged with the mirror pass's, flipped back
    other = full(img[:, ::-1].copy(), mirrored(expression), neighbour=nb, gate_closed=True)
    np.testing.assert_allclose(
        pred.gate_closed_prob,
        (direct.gate_closed_prob + other.gate_closed_prob[:, ::-1]) / 2,
        atol=1e-6,
    )
    fast = full.neighbour_influence(img, expression, pred=pred)
    plain = full(img, expression, mirror=True)  # no closed-gate map: the reruns average it
    assert 0.2 < plain.mask.mean() < 0.8
    rerun = full.neighbour_influence(img, expression, pred=plain)
    assert mask_iou(fast.mask, rerun.mask) > 0.99
    assert fast.changed == pytest.approx(rerun.changed, abs=0.01)
    alone = full.neighbour_influence(img, expression, mirror=True)  # the answer computed too
    assert alone.changed == pytest.approx(rerun.changed, abs=0.01)
    # a candidate as the neighbour: the mirror-averaged answer with it forced
    cands = direct.neighbour.candidates["index"].tolist()[1:3]
    singles = []
    for index, inf in zip(cands, full.candidate_influence(img, expression, cands, pred=plain)):
        forced = full(img, expression, neighbour=index, mirror=True)
        assert mask_iou(inf.mask, forced.mask) > 0.99
        singles.append(mask_iou(inf.mask, full(img, expression, neighbour=index).mask))
    assert min(singles) < 0.99  # the single-pass answers would not have passed the check
    # each word dropped: the mirror-averaged answer without it (the mirror pass reads the
    # word swapped, so dropping "left" drops "right" there)
    words = full.word_influence(img, expression, mirror=True)
    single = full.word_influence(img, expression)
    for k, w in enumerate(words):
        without = " ".join(expression.split()[:k] + expression.split()[k + 1 :])
        by_hand = full(img, without, neighbour=nb, mirror=True)
        assert mask_iou(w.mask, by_hand.mask) > 0.99
        assert w.influence == pytest.approx(1 - mask_iou(w.mask, plain.mask), abs=0.01)
    # and the averaging is real: the single-pass views differ from the averaged ones
    assert any(mask_iou(a.mask, b.mask) < 0.99 for a, b in zip(words, single))


def test_a_huge_mirror_averaged_upload_is_compared_at_its_own_size(tiny_synthref, tmp_path, scene):
    """An upload over MAX_SIDE is read downscaled: the mirror pass's map comes back to the
    upload's size the way the answer's did (the work size, then bilinear to the upload), so
    the answer's own neighbour as a candidate, or the expression with no word dropped, gives
    back the answer's mask."""
    from tvnet.data.mirror import mirrored
    from tvnet.inference.influence import _Runner, _views
    from tvnet.inference.query import MAX_SIDE

    ckpt = save_tiny_model(tiny_synthref["refer"], "full", tmp_path / "full", seed=3)
    p = _load(tiny_synthref, ckpt)
    img, _ = scene
    expression = "the red circle on the left"
    big = np.asarray(Image.fromarray(img).resize((MAX_SIDE + 401, MAX_SIDE // 2), Image.BILINEAR))
    give_content([p], big, expression)  # a mask that splits the image, not a trivial one
    pred = p(big, expression, mirror=True)
    assert pred.mask.shape == big.shape[:2] and 0.2 < pred.mask.mean() < 0.8
    (own,) = p.candidate_influence(big, expression, [pred.neighbour.index], pred=pred)
    assert own.iou > 0.9999, own.iou
    # the mirror view's map for the answer's neighbour is the Predictor's mirror pass's,
    # brought to the upload's size the same way (not one bilinear step from the work size)
    q = p._query(big, expression)
    _, view = _views(p, q, mirror=True)
    run = _Runner(p)
    ref, _ = p._ref([p.pool_image(pred.neighbour.index)])
    with torch.no_grad():
        vis = run.visual(run.extract(view.x), run.extract(ref))
        (got,) = run.probs(vis, *p._tokens(view.expression), view)
    work = q.image[:, ::-1].copy()
    other = p(work, mirrored(pred.expression), neighbour=pred.neighbour.index, attention=False)
    np.testing.assert_allclose(got, other.resized(big.shape[:2]).prob[:, ::-1], atol=1e-5)
    closed = p.neighbour_influence(big, expression, pred=pred)
    fast = p.neighbour_influence(
        big, expression, pred=p(big, expression, mirror=True, gate_closed=True)
    )
    assert mask_iou(closed.mask, fast.mask) > 0.9999
    with pytest.raises(ValueError, match="made without it"):
        p.candidate_influence(big, expression, [0], pred=p(big, expression), mirror=True)


def test_baseline_says_it_has_no_retrieval(tiny_synthref, tmp_path, scene):
    ckpt = save_tiny_model(tiny_synthref["refer"], "baseline", tmp_path / "b")
    p = _load(tiny_synthref, ckpt)
    assert p.retriever is None  # the demo reads this as "no neighbour to choose"
    img, sentence = scene
    inf = p.neighbour_influence(img, sentence)
    assert (inf.iou, inf.changed, inf.label) == (1.0, 0.0, NO_RETRIEVAL)
    np.testing.assert_array_equal(inf.mask, p(img, sentence).mask)
    assert p(img, sentence, gate_closed=True).gate_closed_prob is None  # no gate to close
    with pytest.raises(ValueError, match="no retrieval"):
        p.candidate_influence(img, sentence, [0])
    words = p.word_influence(img, sentence)
    assert len(words) == len(word_spans(sentence))
