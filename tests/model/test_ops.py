import torch
import torch.nn.functional as F

from tvnet.model.ops import l2_normalize


def test_l2_normalize_is_f_normalize():
    torch.manual_seed(0)
    x = torch.randn(2, 24, 5, 7) * 3
    x[0, :, 0, 0] = 0  # a zero vector stays zero (eps), as F.normalize leaves it
    got = l2_normalize(x)
    torch.testing.assert_close(got, F.normalize(x, dim=1), atol=1e-6, rtol=1e-5)
    assert torch.equal(got[0, :, 0, 0], torch.zeros(24))
    torch.testing.assert_close(got.norm(dim=1)[1], torch.ones(5, 7))
    # along another axis
    torch.testing.assert_close(
        l2_normalize(x, dim=-1), F.normalize(x, dim=-1), atol=1e-6, rtol=1e-5
    )


def test_l2_normalize_in_fp16_neither_saturates_nor_divides_by_zero():
    """fp16 (autocast on GPUs without bf16): Σx² of a 2048-channel cell of 6s is 73,728, past
    fp16's 65,504, and eps² is 0 there; the norm is taken in fp32, the result stays fp16."""
    big = torch.full((1, 2048, 1, 1), 6.0)
    got = l2_normalize(big.half())
    assert got.dtype == torch.float16
    torch.testing.assert_close(got.float(), F.normalize(big, dim=1), atol=1e-4, rtol=1e-3)
    zero = l2_normalize(torch.zeros(1, 8, 1, 1).half())
    assert torch.equal(zero, torch.zeros_like(zero))  # not NaN
    tiny = l2_normalize(torch.full((1, 8, 1, 1), 1e-4).half())
    assert torch.isfinite(tiny).all()
    torch.testing.assert_close(tiny.float().norm(dim=1), torch.ones(1, 1, 1), atol=2e-3, rtol=0)
