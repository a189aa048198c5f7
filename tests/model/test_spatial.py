import torch

from tvnet.model.spatial import spatial_features


def test_spatial_feature_values():
    o = spatial_features(2, 4, 5)
    assert o.shape == (2, 8, 4, 5)
    # top-left cell
    torch.testing.assert_close(
        o[0, :, 0, 0], torch.tensor([-1, -1, -0.6, -0.5, -0.8, -0.75, 1 / 5, 1 / 4])
    )
    # bottom-right cell
    torch.testing.assert_close(
        o[1, :, 3, 4], torch.tensor([0.6, 0.5, 1, 1, 0.8, 0.75, 1 / 5, 1 / 4])
    )
    assert o[:, :6].min() >= -1 and o[:, :6].max() <= 1
