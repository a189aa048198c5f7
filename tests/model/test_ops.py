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
