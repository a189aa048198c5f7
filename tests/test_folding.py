"""BatchNorm folding for inference (tvnet.folding) and the one-call siamese pass."""

import copy

import pytest
import torch
from torch import nn

from tvnet import build_model
from tvnet.checkpoint import CheckpointError, save_checkpoint
from tvnet.folding import FoldedActivation, fold_batchnorm
from tvnet.weights import load_efficientnet_lite0_imagenet


def _randomise_bn(model: nn.Module, seed: int = 0) -> None:
    """Non-trivial running statistics and affine parameters, so folding has work to do."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.5)
                m.running_var.copy_(torch.rand(n, generator=g) * 2 + 0.1)
                m.weight.copy_(torch.randn(n, generator=g))
                m.bias.copy_(torch.randn(n, generator=g) * 0.2)


def test_hand_computed_fold():
    """conv(x) = 2x + 1, BN with μ=3, σ²=4−ε, γ=5, β=7: y = (2x+1−3)/2·5+7 = 5x + 2."""
    conv = nn.Conv2d(1, 1, 1)
    bn = nn.BatchNorm2d(1)
    with torch.no_grad():
        conv.weight.fill_(2.0)
        conv.bias.fill_(1.0)
        bn.running_mean.fill_(3.0)
        bn.running_var.fill_(4.0 - bn.eps)
        bn.weight.fill_(5.0)
        bn.bias.fill_(7.0)
    seq = nn.Sequential(conv, bn, nn.ReLU()).eval()
    assert fold_batchnorm(seq) == 1
    assert isinstance(seq[1], nn.Identity)
    assert seq[0].weight.item() == pytest.approx(5.0) and seq[0].bias.item() == pytest.approx(2.0)
    x = torch.tensor([-1.0, 0.0, 2.0]).view(3, 1, 1, 1)
    torch.testing.assert_close(seq(x).flatten(), torch.tensor([0.0, 2.0, 12.0]))


def test_a_batchnorm_after_no_conv_is_left_alone():
    seq = nn.Sequential(nn.ReLU(), nn.BatchNorm2d(3)).eval()
    assert fold_batchnorm(seq) == 0
    assert isinstance(seq[1], nn.BatchNorm2d)


def test_folding_needs_eval_mode():
    with pytest.raises(RuntimeError, match="eval mode"):
        fold_batchnorm(nn.Sequential(nn.Conv2d(1, 1, 1), nn.BatchNorm2d(1)).train())


def test_folded_lite0_gives_the_same_features():
    body = load_efficientnet_lite0_imagenet(
        features_only=True, output_stride=16, out_indices=(1, 2, 3, 4)
    )
    _randomise_bn(body)
    body.eval()
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in body.modules())
    folded = copy.deepcopy(body)
    assert fold_batchnorm(folded) == n_bn  # every BN of EfficientNet follows its conv
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert sum(isinstance(m, FoldedActivation) for m in folded.modules()) == n_bn
    x = torch.randn(2, 3, 160, 160, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for a, b in zip(body(x), folded(x)):
            assert a.shape == b.shape
            torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4 * a.abs().max().item())


@pytest.fixture(scope="module")
def full_model():
    from tvnet.data.tokenize import Vocab

    torch.manual_seed(0)
    vocab = Vocab(["<pad>", "<unk>"] + [f"w{i}" for i in range(30)])
    m = build_model("cpu", "full", vocab=vocab, pretrained=False, text_encoder="glove_lstm")
    _randomise_bn(m.backbone.body, seed=1)
    return m.eval()


def _inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    return dict(
        tokens=torch.randint(2, 20, (1, 6), generator=g),
        lengths=torch.tensor([6]),
        image=torch.randn(1, 3, 320, 320, generator=g),
        ref_image=torch.randn(1, 3, 320, 320, generator=g),
    )


def test_one_backbone_call_for_query_and_neighbour_is_exact(full_model):
    """The batched siamese pass gives what two separate passes give."""
    x = _inputs()
    with torch.no_grad():
        batched = full_model(**x)
        feats = full_model.backbone.extract(x["image"])
        ref_feats = full_model.backbone.extract(x["ref_image"])
        separate = full_model(x["tokens"], x["lengths"], feats=feats, ref_feats=ref_feats)
    torch.testing.assert_close(batched.logits, separate.logits, rtol=1e-5, atol=1e-5)
    for a, b in zip(batched.attention, separate.attention):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_optimised_backbone_matches_and_cannot_train_or_be_saved(full_model, tmp_path):
    fast = copy.deepcopy(full_model)
    fast.backbone.optimize_for_inference()
    x = _inputs(seed=3)
    with torch.no_grad():
        ref = full_model(**x)
        out = fast(**x)
    torch.testing.assert_close(out.logits, ref.logits, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(out.a2, ref.a2, rtol=1e-4, atol=1e-4)
    with pytest.raises(RuntimeError, match="optimised for inference"):
        fast.train()
    with pytest.raises(CheckpointError, match="optimised for inference"):
        save_checkpoint(fast, tmp_path / "ckpt")
    assert not (tmp_path / "ckpt").exists()
