import numpy as np
import torch

from tvnet.data.tokenize import Vocab
from tvnet.model.text_encoder import TextEncoder, glove_init
from tvnet.weights import PACKAGE_GLOVE, load_glove


def test_padding_never_changes_the_sentence_vector():
    torch.manual_seed(0)
    enc = TextEncoder(30, 8, 16).eval()
    toks = torch.tensor([[5, 6, 7, 0, 0, 0]])
    longer = torch.tensor([[5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0]])
    _, s1, _ = enc(toks, torch.tensor([3]))
    _, s2, _ = enc(longer, torch.tensor([3]))
    torch.testing.assert_close(s1, s2)
    # garbage after the valid length is padding too
    _, s3, _ = enc(torch.tensor([[5, 6, 7, 9, 9, 9]]), torch.tensor([3]))
    torch.testing.assert_close(s1, s3)
    assert torch.allclose(s1.norm(dim=-1), torch.ones(1))
    # and the vector does depend on the words
    _, s4, _ = enc(torch.tensor([[5, 6, 8, 0, 0, 0]]), torch.tensor([3]))
    assert not torch.allclose(s1, s4)


def test_batch_mixed_lengths_equals_one_by_one():
    torch.manual_seed(0)
    enc = TextEncoder(30, 8, 16).eval()
    toks = torch.tensor([[5, 6, 7, 8], [9, 3, 0, 0]])
    _, s, mask = enc(toks, torch.tensor([4, 2]))
    _, a, _ = enc(toks[:1], torch.tensor([4]))
    _, b, _ = enc(toks[1:, :2], torch.tensor([2]))
    torch.testing.assert_close(s, torch.cat([a, b]))
    assert mask.tolist() == [[True] * 4, [True, True, False, False]]


def test_glove_init_known_rows_and_oov_scale():
    words = ["<pad>", "<unk>", "the", "red", "circle"] + [f"zzqx{i}" for i in range(400)]
    m, n_found = glove_init(words, PACKAGE_GLOVE, 50)
    vecs, found = load_glove(PACKAGE_GLOVE, words)
    assert n_found == 3
    np.testing.assert_array_equal(m[2:5], vecs[2:5])
    assert np.all(m[0] == 0)
    oov = m[5:]
    # N(0, 0.6·std of the found GloVe rows): 400×50 draws pin the std within a few %
    assert (
        abs(oov.std() - 0.6 * np.nanstd(vecs[found])) < 0.05 * 0.6 * np.nanstd(vecs[found]) + 0.02
    )


def test_vocab_encode_roundtrip():
    v = Vocab.build(["The red circle.", "a red square"])
    ids, n = v.encode("the red triangle.", 5)
    assert n == 3 and ids[3:].tolist() == [0, 0]
    assert ids[2] == 1  # triangle is unknown
    assert v.unknown("the red triangle") == ["triangle"]


def test_whiten_rows_hand_computed():
    """Rows ±e1 and ±0.1·e2: eigenvalues 0.5 and 0.005 (mean 0.2525, shrink 0.1 → +0.02525).
    Whitening scales e1 by 1/√0.52525 and e2 by 1/√0.03025, then restores the mean norm 0.55."""
    from tvnet.model.text_encoder import whiten_rows

    x = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.1], [0.0, -0.1]], np.float32)
    w = whiten_rows(x)
    s1, s2 = 1 / np.sqrt(0.52525), 0.1 / np.sqrt(0.03025)
    k = 0.55 / ((2 * s1 + 2 * s2) / 4)
    want = np.array([[s1, 0], [-s1, 0], [0, s2], [0, -s2]]) * k
    np.testing.assert_allclose(np.abs(w), np.abs(want), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(w, axis=1).mean(), 0.55, rtol=1e-5)


def test_whitened_glove_separates_the_colour_words():
    from tvnet.config import ModelConfig, preset_config

    words = ["<pad>", "<unk>", "red", "blue", "green", "yellow", "star", "circle", "left", "qzxv"]
    plain, n = glove_init(words, PACKAGE_GLOVE, 50)
    white, n_w = glove_init(words, PACKAGE_GLOVE, 50, whiten=True)
    assert n == n_w == 7
    assert (white[0] == 0).all()  # padding stays zero

    def cos(m, a, b):
        u, v = m[words.index(a)], m[words.index(b)]
        return float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))

    assert cos(plain, "red", "blue") > 0.8  # GloVe 6B 50d: colour words nearly parallel
    assert cos(white, "red", "blue") < 0.5
    found = slice(2, 9)
    np.testing.assert_allclose(
        np.linalg.norm(white[found], axis=1).mean(),
        np.linalg.norm(plain[found], axis=1).mean(),
        rtol=1e-5,
    )
    # the option is part of the model config, off for configs saved before it existed
    cfg = preset_config("cpu").replace(word_whiten=True, text_encoder="glove_lstm")
    assert ModelConfig.from_dict(cfg.to_dict()).word_whiten is True
    old = {k: v for k, v in cfg.to_dict().items() if k != "word_whiten"}
    assert ModelConfig.from_dict(old).word_whiten is False
