"""tvnet/retrieval/pool.py (with text_index, image_store, pool_files): two-stage search,
own-image exclusion, persistence, approximation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tvnet.retrieval.pool import DataPool, PoolMismatchError, pool_manifest


def _unit(x):
    x = np.asarray(x, dtype=np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _meta(image_ids):
    n = len(image_ids)
    return pd.DataFrame(
        {
            "sample_id": np.arange(100, 100 + n),
            "image_id": np.asarray(image_ids),
            "sentence": [f"sentence {i}" for i in range(n)],
        }
    )


def _random_pool(n, image_ids=None, d_t=16, d_i=8, seed=0, **kw):
    rng = np.random.default_rng(seed)
    if image_ids is None:
        image_ids = rng.integers(0, max(2, n // 3), n)
    text = _unit(rng.normal(size=(n, d_t)))
    # one vector per image, shared by its entries
    uniq = np.unique(image_ids)
    per_image = {i: v for i, v in zip(uniq, _unit(rng.normal(size=(len(uniq), d_i))))}
    image = np.stack([per_image[i] for i in image_ids])
    pool = DataPool.from_embeddings(text, image, image_ids, _meta(image_ids), **kw)
    return pool, text, image, np.asarray(image_ids)


def _brute_force(text, image, image_ids, tq, iq, exclude, k_text=20):
    """Straight from the paper: text top-k (own image out), then best image cosine."""
    out = []
    for t, v, ex in zip(tq, iq, exclude):
        ts = text @ t
        order = [j for j in np.argsort(-ts, kind="stable") if image_ids[j] != ex][:k_text]
        if not order:
            out.append(-1)
            continue
        im = image[order] @ v
        out.append(order[int(np.argmax(im))])
    return np.array(out)


def test_two_stage_ranking_matches_hand_computed():
    # 2-d text, 2-d image; query text (1, 0), query image (0, 1), k_text = 3.
    text = _unit([[1, 0], [0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0, 1]])
    image = _unit([[1, 0], [1, 0.2], [0.1, 1], [0, 1], [0, 1]])
    ids = np.array([10, 11, 12, 13, 14])
    pool = DataPool.from_embeddings(text, image, ids, _meta(ids), index="exact")
    # text ranking: 0 > 1 > 2 > 3 > 4; top-3 = {0, 1, 2}; by image cosine with (0, 1): 2 wins,
    # although 3 and 4 have an even better image (they are not in the text top-3).
    idx, score = pool.search(_unit([[1, 0]]), _unit([[0, 1]]), [99], k_text=3)
    assert idx.tolist() == [2]
    assert score[0] == pytest.approx(float(image[2] @ [0, 1]), abs=1e-6)
    # excluding image 12 pushes entry 3 into the text top-3, and it wins
    idx, _ = pool.search(_unit([[1, 0]]), _unit([[0, 1]]), [12], k_text=3)
    assert idx.tolist() == [3]
    # k_text = 1 is pure text retrieval
    idx, _ = pool.search(_unit([[1, 0]]), _unit([[0, 1]]), [99], k_text=1)
    assert idx.tolist() == [0]

    cands = pool.search_candidates(_unit([1, 0]), _unit([0, 1]), exclude_image_id=99, k_text=3)
    assert cands["index"].tolist() == [2, 1, 0]  # final rank order
    assert cands["text_rank"].tolist() == [3, 2, 1]
    assert cands["rank"].tolist() == [1, 2, 3]
    assert cands["chosen"].tolist() == [True, False, False]
    assert cands["sample_id"].tolist() == [102, 101, 100]
    np.testing.assert_allclose(cands["text_score"], text[[2, 1, 0]] @ [1, 0], atol=1e-6)


def test_matches_brute_force_on_random_pool():
    pool, text, image, ids = _random_pool(300, d_t=8, d_i=8)
    rng = np.random.default_rng(1)
    tq, iq = _unit(rng.normal(size=(50, 8))), _unit(rng.normal(size=(50, 8)))
    exclude = ids[:50]
    idx, _ = pool.search(tq, iq, exclude)
    np.testing.assert_array_equal(idx, _brute_force(text, image, ids, tq, iq, exclude))


def test_own_image_never_returned_even_when_it_owns_every_text_neighbour():
    # Entries 0..29 all belong to image 7 and are the closest texts to the query; the query's
    # own image must be skipped and the search must go deeper to the other images.
    rng = np.random.default_rng(0)
    n_own, n_other = 30, 40
    q = _unit(rng.normal(size=16))
    own = _unit(q + 0.05 * rng.normal(size=(n_own, 16)))
    other = _unit(rng.normal(size=(n_other, 16)))
    text = np.concatenate([own, other])
    ids = np.concatenate([np.full(n_own, 7), 100 + np.arange(n_other)])
    image = _unit(rng.normal(size=(len(ids), 4)))
    image[:n_own] = image[0]  # one image, one vector
    pool = DataPool.from_embeddings(text, image, ids, _meta(ids), index="exact")

    qi = image[0:1]  # the query's image is image 7 itself: best image score if allowed
    idx, _ = pool.search(q[None], qi, [7], k_text=20)
    assert ids[idx[0]] != 7
    assert idx[0] == _brute_force(text, image, ids, q[None], qi, [7])[0]
    cands = pool.search_candidates(q, qi[0], exclude_image_id=7, k_text=20)
    assert len(cands) == 20 and (cands["image_id"] != 7).all()
    # without exclusion the own image wins, as a sanity check of the setup
    idx, _ = pool.search(q[None], qi, None, k_text=20)
    assert ids[idx[0]] == 7


def test_no_eligible_entry_gives_minus_one():
    ids = np.array([5, 5, 5])
    pool, *_ = _random_pool(3, image_ids=ids, index="exact")
    idx, score = pool.search(np.ones((1, 16)), np.ones((1, 8)), [5])
    assert idx.tolist() == [-1] and np.isnan(score[0])
    assert pool.search_candidates(np.ones(16), np.ones(8), 5).empty


def test_images_stored_once_per_image():
    ids = np.array([1, 1, 2, 2, 2, 3])
    pool, *_ = _random_pool(6, image_ids=ids, index="exact")
    assert len(pool.images) == 3 and pool.manifest["images"] == 3


def test_save_load_round_trip_identical(tmp_path):
    for kind in ("exact", "ivf"):
        pool, _, _, ids = _random_pool(
            2000, d_t=16, d_i=8, index=kind, manifest=pool_manifest(dataset="toy", split="train")
        )
        rng = np.random.default_rng(3)
        tq, iq = rng.normal(size=(64, 16)), rng.normal(size=(64, 8))
        before = pool.search_detailed(tq, iq, ids[:64])
        path = pool.save(tmp_path / f"pool_{kind}")
        loaded = DataPool.load(path)
        after = loaded.search_detailed(tq, iq, ids[:64])
        np.testing.assert_array_equal(before.indices, after.indices)
        np.testing.assert_array_equal(before.text_scores, after.text_scores)
        np.testing.assert_array_equal(before.image_scores, after.image_scores)
        pd.testing.assert_frame_equal(pool.meta, loaded.meta)
        assert loaded.manifest["dataset"] == {"name": "toy", "split": "train"}
        assert loaded.index_type == kind
    # saving again replaces the folder atomically; no temp folders left behind
    pool.save(tmp_path / "pool_ivf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pool_exact", "pool_ivf"]


class _Enc:
    def __init__(self, name, dim):
        self.name, self.dim = name, dim


def test_mismatched_manifest_refused(tmp_path):
    man = pool_manifest(_Enc("all-MiniLM-L6-v2", 16), _Enc("timm:lite0", 8), "toy", "train")
    pool, *_ = _random_pool(50, manifest=man, index="exact")
    pool.save(tmp_path / "p")
    DataPool.load(tmp_path / "p", expect_manifest=man)  # same encoders: fine
    other = pool_manifest(_Enc("hf:distilbert-base-uncased", 16), _Enc("timm:lite0", 8))
    with pytest.raises(PoolMismatchError, match="text_encoder.name.*distilbert"):
        DataPool.load(tmp_path / "p", expect_manifest=other)
    with pytest.raises(PoolMismatchError, match="image_encoder.dim"):
        DataPool.load(tmp_path / "p", expect_manifest=pool_manifest(None, _Enc("timm:lite0", 1280)))
    with pytest.raises(ValueError, match="dim"):  # manifest and embeddings disagree
        _random_pool(10, manifest=pool_manifest(_Enc("t", 384)), index="exact")


def test_missing_and_corrupt_files_are_clear_errors(tmp_path):
    pool, *_ = _random_pool(50, index="exact")
    with pytest.raises(FileNotFoundError, match="pool folder not found"):
        DataPool.load(tmp_path / "nope")
    path = pool.save(tmp_path / "p")
    (path / "meta.parquet").unlink()
    with pytest.raises(FileNotFoundError, match="meta.parquet"):
        DataPool.load(path)
    path = pool.save(tmp_path / "p")
    data = (path / "text.faiss").read_bytes()
    (path / "text.faiss").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="text.faiss.*corrupt"):
        DataPool.load(path)
    path = pool.save(tmp_path / "p")
    man = json.loads((path / "manifest.json").read_text())
    (path / "image_store.npz").write_bytes(b"x" * man["files"]["image_store.npz"])
    with pytest.raises(ValueError, match="image_store.npz.*corrupt"):
        DataPool.load(path)
    (path / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match="manifest.*corrupt"):
        DataPool.load(path)
    # one byte flipped inside an array (the size still matches the manifest): zip's CRC
    # fails only when the array is read, which must happen inside the check
    path = pool.save(tmp_path / "p")
    raw = bytearray((path / "entries.npz").read_bytes())
    raw[len(raw) // 3] ^= 0xFF
    (path / "entries.npz").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="entries.npz.*corrupt"):
        DataPool.load(path)
    # random bytes of the same size in the text index: faiss reads them as an index whose
    # scores are nonsense; the manifest's digest tells (older pools record sizes only)
    path = pool.save(tmp_path / "p")
    size = (path / "text.faiss").stat().st_size
    good = (path / "text.faiss").read_bytes()
    (path / "text.faiss").write_bytes(good[:64] + bytes(reversed(good[64:])))
    assert (path / "text.faiss").stat().st_size == size
    with pytest.raises(ValueError, match="text.faiss is corrupt: its SHA-256"):
        DataPool.load(path)
    man = json.loads((path / "manifest.json").read_text())
    assert sorted(man["sha256"]) == sorted(man["files"])
    (path / "text.faiss").write_bytes(good)
    del man["sha256"]
    (path / "manifest.json").write_text(json.dumps(man))
    assert len(DataPool.load(path).meta) == len(pool.meta)  # a pool of before the digests
    path = pool.save(tmp_path / "p")
    man = json.loads((path / "manifest.json").read_text())
    del man["count"]
    (path / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(ValueError, match="manifest.*corrupt.*count"):
        DataPool.load(path)
    for key, bad in (("text_encoder", "x"), ("dataset", "synthref"), ("image_encoder", [1])):
        path = pool.save(tmp_path / "p")
        man = json.loads((path / "manifest.json").read_text())
        (path / "manifest.json").write_text(json.dumps({**man, key: bad}))
        with pytest.raises(ValueError, match=f"manifest.json: its {key} entry is damaged"):
            DataPool.load(path)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "precious.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a pool folder"):
        pool.save(tmp_path / "other")
    assert (tmp_path / "other" / "precious.txt").read_text() == "keep me"
    # a pool's own files (neighbour tables too) are replaced; the images and regenerate.json
    # kept beside a pool are the user's, so a pool holding them is refused, both kept
    (path / "neighbours_synthref_val.parquet").write_bytes(b"old table")
    pool.save(path)
    assert not (path / "neighbours_synthref_val.parquet").exists()
    (path / "images").mkdir()
    (path / "images" / "7.png").write_bytes(b"png")
    (path / "regenerate.json").write_text("{}")
    with pytest.raises(FileExistsError, match=r"holds images, regenerate\.json, which a pool does"):
        pool.save(path)
    assert (path / "images" / "7.png").read_bytes() == b"png"
    assert (path / "regenerate.json").read_text() == "{}"


def test_bad_inputs_are_clear_errors():
    ids = np.arange(4)
    with pytest.raises(ValueError, match="disagree"):
        DataPool.from_embeddings(np.ones((4, 3)), np.ones((4, 2)), ids, _meta(np.arange(5)))
    with pytest.raises(ValueError, match="lacks columns"):
        DataPool.from_embeddings(
            np.ones((4, 3)), np.ones((4, 2)), ids, _meta(ids).drop(columns="sentence")
        )
    with pytest.raises(ValueError, match="unknown index"):
        DataPool.from_embeddings(np.ones((4, 3)), np.ones((4, 2)), ids, _meta(ids), index="lsh")
    pool = DataPool.from_embeddings(np.eye(4, 3), np.eye(4, 2), ids, _meta(ids))
    with pytest.raises(ValueError, match="3-d"):
        pool.search(np.ones((1, 5)), np.ones((1, 2)))


def _clustered(n, d, n_clusters, spread, rng):
    centers = _unit(rng.normal(size=(n_clusters, d)))
    labels = rng.integers(0, n_clusters, n)
    return _unit(centers[labels] + spread * rng.normal(size=(n, d)) / np.sqrt(d)), centers


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_approximate_index_agrees_with_exact(kind):
    rng = np.random.default_rng(0)
    n = 4000
    text, t_centers = _clustered(n, 32, 40, 0.8, rng)
    ids = np.arange(n) // 2  # two expressions per image
    image = _clustered(n // 2, 24, 40, 0.8, rng)[0][ids]
    meta = _meta(ids)
    exact = DataPool.from_embeddings(text, image, ids, meta, index="exact")
    approx = DataPool.from_embeddings(text, image, ids, meta, index=kind)
    assert approx.images.kind == "sq8" and approx.images.nbytes < exact.images.nbytes / 3
    q = rng.choice(n, 300, replace=False)  # pool members as queries, own image excluded
    a, _ = exact.search(text[q], image[q], ids[q])
    r = approx.search_detailed(text[q], image[q], ids[q])
    b = r.indices
    assert (ids[b] != ids[q]).all()
    assert (a == b).mean() >= 0.95
    # 8-bit codes + 2-bit refinement, 32-d: text scores close to the exact cosine
    err = np.abs(r.text_scores - np.einsum("qd,qd->q", text[q], text[b]))
    assert err.mean() < 5e-4 and err.max() < 3e-3
    exact_image = np.einsum("qd,qd->q", image[q], image[b])
    assert np.abs(r.image_scores - exact_image).max() < 1e-2  # 8-bit codes, 24-d


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_refinement_codes_make_text_scores_more_precise(kind):
    rng = np.random.default_rng(1)
    text, _ = _clustered(3000, 64, 30, 0.8, rng)
    ids = np.arange(3000)
    pool = DataPool.from_embeddings(text, text[:, :8], ids, _meta(ids), index=kind)
    q = _unit(rng.normal(size=(50, 64)))
    nbr = np.tile(np.arange(0, 3000, 10), (50, 1))  # 300 entries per query
    exact = q @ text[nbr[0]].T
    codec = pool.text_refine._codec(pool.text_index)
    decoded = codec.sa_decode(codec.sa_encode(text))
    raw = q @ decoded[nbr[0]].T  # what faiss scores with its 8-bit codes
    refined = raw + pool.text_refine.correction(q, nbr)
    assert np.abs(refined - exact).mean() < np.abs(raw - exact).mean() / 2.5  # 2 bits: ~4×


@pytest.mark.parametrize("storage", ["fp32", "sq8"])
def test_image_similarity_is_the_best_cosine_over_every_pool_image(storage):
    """Not limited to the text top-k: the most similar image of the whole pool, the query's
    own image left out when named (the warning of an image unlike the pool, docs/design.md §7)."""
    pool, _, image, image_ids = _random_pool(300, seed=4, image_storage=storage)
    rng = np.random.default_rng(5)
    q = _unit(rng.normal(size=(6, image.shape[1])))
    want = (q @ image.T).max(1)  # brute force over every entry's image
    tol = 1e-5 if storage == "fp32" else 0.02  # 8-bit codes approximate the cosine
    np.testing.assert_allclose(pool.image_similarity(q), want, atol=tol)
    # a pool image finds itself (cosine 1) unless its id is excluded
    own = image[:2]
    np.testing.assert_allclose(pool.image_similarity(own), 1.0, atol=tol)
    others = image_ids[:2]
    got = pool.image_similarity(own, exclude_image_ids=others)
    for k in range(2):
        keep = image_ids != others[k]
        assert got[k] == pytest.approx((image[keep] @ own[k]).max(), abs=tol)
        assert got[k] < 1 - 1e-3
    with pytest.raises(ValueError, match="3-d"):
        pool.image_similarity(np.ones((1, 3)))


def test_image_similarity_excludes_own_images_across_row_chunks():
    """More images than one scoring chunk (ImageStore scores 4096 rows at a time and builds
    the exclusion mask per chunk, never query × pool at once): each query's own image is
    left out wherever its row falls, and the best of the other images is found in any chunk;
    brute force in float64."""
    n_img = 9000
    pool, _, image, image_ids = _random_pool(n_img, image_ids=np.arange(n_img), d_i=8, seed=11)
    assert len(pool.images) == n_img > 2 * 4096
    picks = np.array([3, 4100, 8999, 5000])  # in the first, second and third chunk
    own = image[picks]
    got = pool.image_similarity(own, exclude_image_ids=image_ids[picks])
    full = own.astype(np.float64) @ image.T.astype(np.float64)
    full[np.arange(len(picks)), picks] = -np.inf
    np.testing.assert_allclose(got, full.max(1), atol=1e-5)
    assert (got < 1 - 1e-4).all()  # not themselves
    with pytest.raises(ValueError, match="exclude labels 9000 rows and 1 queries"):
        pool.images.best(own, (np.arange(n_img), np.array([1])))


@pytest.mark.parametrize("storage", ["fp32", "sq8"])
def test_an_upload_is_recognised_as_the_pool_image_it_is(storage):
    """same_image: a vector within SAME_IMAGE_COSINE of a pool image (that image re-encoded by
    another runtime or precision) names its image id; a vector of no pool image names none.
    ImageStore.nearest's row is the brute-force argmax."""
    from tvnet.retrieval.pool import SAME_IMAGE_COSINE

    pool, _, image, image_ids = _random_pool(300, seed=6, d_i=64, image_storage=storage)
    rng = np.random.default_rng(7)
    q = _unit(rng.normal(size=(5, 64)))
    rows = pool.entry_image_row[np.arange(300)]
    score, where = pool.images.nearest(q)
    for k in range(5):
        entry = int(np.argmax(image @ q[k]))  # brute force over the entries' images
        assert where[k] == rows[entry]
        assert score[k] == pytest.approx(
            image[entry] @ q[k], abs=1e-5 if storage == "fp32" else 0.02
        )
    assert all(pool.same_image(v) is None for v in q)  # random: cosine ≈ 0.1 with any image
    for entry in (0, 17, 299):
        noisy = _unit(image[entry] + 0.02 * rng.normal(size=64))  # re-encoded: cosine ≈ 0.99
        assert image[entry] @ noisy > SAME_IMAGE_COSINE + 0.005
        assert pool.same_image(noisy) == image_ids[entry]
    far = _unit(image[0] + 0.5 * rng.normal(size=64))  # cosine ≈ 0.25: another image
    assert image[0] @ far < SAME_IMAGE_COSINE and pool.same_image(far) is None


def test_image_similarity_is_fp32_inside_a_bf16_autocast_region():
    """The Predictor scores images inside its autocast region; the product runs on PyTorch's
    thread pool (image_store.matmul_t), and must stay an fp32 product there: bf16 would keep
    only ≈ 3 significant digits, and a bf16 tensor cannot become a numpy array at all."""
    import torch

    pool, _, image, _ = _random_pool(300, seed=6, d_i=64)
    q = _unit(np.random.default_rng(7).normal(size=(3, 64)))
    want = (q.astype(np.float64) @ image.T.astype(np.float64)).max(1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = pool.image_similarity(q)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_tied_text_scores_give_the_same_candidates_with_and_without_an_exclusion():
    """Repeated sentences (SynthRef's templates) tie on their text score: the candidates a
    query gets must not depend on whether an image id (outside the pool) is excluded, as the
    neighbour tables do, or none is, as the Predictor does for an upload."""
    rng = np.random.default_rng(3)
    n, image_ids = 60, np.repeat(np.arange(20), 3)  # three entries per image
    text = _unit(rng.normal(size=(n, 8)))
    text[::2] = text[0]  # thirty entries share one sentence
    image = _unit(rng.normal(size=(n, 4)))
    pool = DataPool.from_embeddings(text, image, image_ids, _meta(image_ids))
    q_text, q_image = text[0], _unit(rng.normal(size=4))
    with_none = pool.search_candidates(q_text, q_image, None, k_text=20)["index"].tolist()
    outside = pool.search_candidates(q_text, q_image, 10_000, k_text=20)["index"].tolist()
    assert with_none == outside
    table, _ = pool.search(q_text[None], q_image[None], np.array([10_000]), k_text=20)
    assert table[0] == with_none[0]


def test_a_query_that_is_not_finite_is_refused():
    pool, text, image, ids = _random_pool(30)
    bad = image[0].copy()
    bad[1] = np.nan
    with pytest.raises(ValueError, match="image queries hold NaN or infinite"):
        pool.search(text[:1], bad[None])
    with pytest.raises(ValueError, match="text queries hold NaN or infinite"):
        pool.search_candidates(np.full_like(text[0], np.inf), image[0])
