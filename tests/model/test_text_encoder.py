import numpy as np
import torch

from tvnet.data.tokenize import Vocab
from tvnet.model.text_encoder import TextEncoder, glove_init
from tvnet.model.weights import PACKAGE_GLOVE, load_glove


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
