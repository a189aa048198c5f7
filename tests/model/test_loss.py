import math

import torch
import torch.nn.functional as F

from tvnet.model.head import dice_loss, tvnet_loss


def _mask(n_on: int, side: int = 8) -> torch.Tensor:
    m = torch.zeros(1, 1, side, side)
    m.view(-1)[:n_on] = 1
    return m


def test_dice_loss_at_half_probability_matches_the_hand_computed_value():
    # p = 0.5 everywhere over 64 cells, 10 of them foreground:
    # Dice = (2·0.5·10 + 1) / (0.5·64 + 10 + 1) = 11 / 43
    loss = dice_loss(torch.zeros(1, 1, 8, 8), _mask(10))
    assert math.isclose(float(loss), 1 - 11 / 43, rel_tol=1e-6)


def test_dice_loss_is_zero_for_a_confident_exact_mask_and_one_for_its_complement():
    m = _mask(20)
    exact = (m * 2 - 1) * 50  # ±50 logits
    assert float(dice_loss(exact, m)) < 1e-6
    assert float(dice_loss(-exact, m)) > 0.97  # only eps keeps it below 1


def test_dice_loss_weighs_each_sample_alike_whatever_its_size():
    # the same miss (every foreground cell predicted 0) costs a 2-cell and a 40-cell sample
    # the same Dice loss, where pixel-mean BCE charges the big one 20× more
    small, big = _mask(2), _mask(40)
    miss = torch.full((1, 1, 8, 8), -50.0)
    d_small, d_big = dice_loss(miss, small), dice_loss(miss, big)
    # p = σ(−50) ≈ 0: Dice = eps / (n + eps), the loss 1 − 1/(n + 1)
    assert math.isclose(float(d_small), 2 / 3, rel_tol=1e-6)
    assert math.isclose(float(d_big), 40 / 41, rel_tol=1e-6)
    # in one batch: the mean of the two, not Dice pooled over the batch (1 − 1/43)
    both = dice_loss(miss.repeat(2, 1, 1, 1), torch.cat([small, big]))
    assert math.isclose(float(both), (2 / 3 + 40 / 41) / 2, rel_tol=1e-6)
    b_small = F.binary_cross_entropy_with_logits(miss, small)
    b_big = F.binary_cross_entropy_with_logits(miss, big)
    assert math.isclose(float(b_big / b_small), 20, rel_tol=1e-4)


def test_tvnet_loss_adds_the_dice_term_only_when_weighted():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 1, 16, 16, generator=g)
    aux = [torch.randn(2, 1, 4, 4, generator=g) for _ in range(3)]
    mask = (torch.rand(2, 1, 16, 16, generator=g) > 0.7).float()
    spec = tvnet_loss(logits, aux, mask)
    by_hand = 0.7 * F.binary_cross_entropy_with_logits(logits, mask) + sum(
        0.1
        * F.binary_cross_entropy_with_logits(F.interpolate(a, size=(16, 16), mode="bilinear"), mask)
        for a in aux
    )
    assert torch.allclose(spec, by_hand)
    with_dice = tvnet_loss(logits, aux, mask, w_dice=0.5)
    assert torch.allclose(with_dice - spec, 0.5 * dice_loss(logits, mask))


def test_loss_at_the_logits_grid_uses_the_masks_cover_as_soft_targets():
    """at_logits_grid: the 4×4 mask becomes the 2×2 share of each cell it covers, and BCE with
    logits is softplus(l) − t·l per cell, by hand; aux heads likewise at their own grid."""
    mask = torch.zeros(1, 1, 4, 4)
    mask[0, 0, :2, :2] = 1  # top-left cell fully covered
    mask[0, 0, 2, 2:] = 1  # bottom-right cell half covered
    logits = torch.tensor([[[[2.0, -1.0], [0.5, 1.0]]]])
    t = torch.tensor([1.0, 0.0, 0.0, 0.5])
    bce = (F.softplus(logits.flatten()) - t * logits.flatten()).mean()
    got = tvnet_loss(logits, [logits.clone()], mask, 0.7, 0.1, at_logits_grid=True)
    assert math.isclose(float(got), 0.8 * float(bce), rel_tol=1e-6)
