import torch

from tvnet.model.amf import AMF, Cct


def test_amf_shapes_and_gate_range():
    torch.manual_seed(0)
    amf = AMF(d_m=16, c2=6, c=4)
    m, a2 = amf(torch.randn(2, 16, 5, 5), torch.randn(2, 6, 10, 10))
    assert m.shape == (2, 16, 10, 10) and a2.shape == (2, 1, 10, 10)
    assert (a2 >= 0).all() and (a2 <= 1).all()


def test_amf_uses_the_high_resolution_detail():
    torch.manual_seed(0)
    amf = AMF(d_m=8, c2=3, c=4).eval()
    m_fine = torch.randn(1, 8, 4, 4)
    v2 = torch.randn(1, 3, 8, 8)
    a, _ = amf(m_fine, v2)
    v2b = v2.clone()
    v2b[..., 0, 0] += 5.0  # one high-res pixel changes …
    b, _ = amf(m_fine, v2b)
    diff = (a - b).abs().sum(1)[0]
    assert (
        diff[0, 0] > 10 * diff[7, 7]
    )  # … changes its neighbourhood most (GroupNorm: a little everywhere)


def test_cct_shape():
    assert Cct(8, 3)(torch.randn(1, 8, 4, 4), torch.randn(1, 3, 8, 8)).shape == (1, 8, 8, 8)
