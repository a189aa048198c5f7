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


def _amf_as_written(amf, m_fine, v2):
    """Eq. 4–5 literally: up(M_fine) concatenated at 2h×2w into both convs."""
    from tvnet.model.amf import up2

    c_hr = amf.ps(amf.lr(m_fine))
    if c_hr.shape[-2:] != v2.shape[-2:]:
        c_hr = up2(c_hr, v2.shape[-2:])
    v2p = amf.suppress(torch.cat([c_hr, v2], dim=1))
    m_up = up2(m_fine, v2.shape[-2:])
    a2 = torch.sigmoid(amf.intensity(torch.cat([v2p, m_up], dim=1)))
    return amf.out(torch.cat([m_up, a2 * v2p], dim=1)), a2


def _grads(module, loss):
    module.zero_grad()
    loss.backward()
    return {n: p.grad.clone() for n, p in module.named_parameters()}


def test_amf_equals_the_equations_as_written_with_the_same_gradients():
    """The commuted 1×1 maps and the tap sums are the same function (fp32, no autocast), at a
    grid whose high-res side is 2× (C_HR fits) and at one where it is not (C_HR upsampled)."""
    for hw, hr in (((5, 7), (10, 14)), ((5, 7), (11, 15))):
        torch.manual_seed(0)
        amf = AMF(d_m=16, c2=6, c=4)
        with torch.no_grad():  # biases away from 0, so that a dropped bias would show
            for p in amf.parameters():
                p.add_(0.1 * torch.randn_like(p))
        m_fine = torch.randn(3, 16, *hw)
        v2 = torch.randn(3, 6, *hr)
        w = torch.randn(3, 16, *hr)
        m, a2 = amf(m_fine, v2)
        m_ref, a2_ref = _amf_as_written(amf, m_fine, v2)
        assert m.shape == m_ref.shape == (3, 16, *hr) and a2.shape == (3, 1, *hr)
        torch.testing.assert_close(m, m_ref, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(a2, a2_ref, rtol=1e-5, atol=1e-6)
        g = _grads(amf, (m * w).sum() + a2.sum())
        g_ref = _grads(amf, (m_ref * w).sum() + a2_ref.sum())
        for name in g_ref:
            torch.testing.assert_close(g[name], g_ref[name], rtol=1e-4, atol=1e-4, msg=name)


def test_tap_sums_are_the_one_output_3x3_conv():
    from tvnet.model.ops import sum_taps, tap_weights

    torch.manual_seed(0)
    x = torch.randn(2, 5, 6, 9)
    conv = torch.nn.Conv2d(5, 1, 3, padding=1)
    got = sum_taps(torch.nn.functional.conv2d(x, tap_weights(conv.weight)), conv.bias)
    torch.testing.assert_close(got, conv(x), rtol=1e-5, atol=1e-6)
    # a corner reads only its in-image neighbours: hand-computed for one channel of ones
    w = torch.arange(9.0).view(1, 1, 3, 3)
    taps = torch.nn.functional.conv2d(torch.ones(1, 1, 4, 4), tap_weights(w))
    out = sum_taps(taps)[0, 0]
    assert out[0, 0] == 4 + 5 + 7 + 8 and out[1, 1] == sum(range(9)) and out[3, 3] == 0 + 1 + 3 + 4


def test_cct_equals_the_concatenation_as_written():
    from tvnet.model.amf import up2

    torch.manual_seed(0)
    cct = Cct(8, 3)
    m_fine, v2 = torch.randn(2, 8, 4, 5), torch.randn(2, 3, 8, 10)
    ref = cct.fuse(torch.cat([up2(m_fine, v2.shape[-2:]), v2], dim=1))
    torch.testing.assert_close(cct(m_fine, v2), ref, rtol=1e-5, atol=1e-6)
