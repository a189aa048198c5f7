"""tools/convert_deeplab.py: the paper's DeepLab-v2 ResNet-101 from its ports' names to timm's
resnet101, exactly, for the paper preset's backbone_weights."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import timm
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import convert_deeplab  # noqa: E402

BLOCKS = {1: 3, 2: 4, 3: 23, 4: 3}  # ResNet-101: timm's layer1…layer4


@pytest.fixture(scope="module")
def reference():
    """A resnet101 with distinct values in every tensor (BatchNorm statistics included)."""
    torch.manual_seed(0)
    sd = timm.create_model("resnet101", pretrained=False).state_dict()
    return {
        k: (torch.rand_like(v) + 0.5 if "running_var" in k else torch.randn_like(v))
        for k, v in sd.items()
        if not k.endswith("num_batches_tracked") and not k.startswith("fc.")
    }


def _bn(
    prefix: str, timm_bn: str, ref: dict, names=("weight", "bias", "running_mean", "running_var")
):
    return {f"{prefix}.{f}": ref[f"{timm_bn}.{n}"] for f, n in zip(names, ("weight", "bias", "running_mean", "running_var"))}  # fmt: skip


def _kazuto(ref: dict) -> dict:
    """The layout of kazuto1011/deeplab-pytorch's DeepLabV2 inside its MSC wrapper
    ("base."): layer1 the stem, layer2…5 the stages, block1… and reduce/conv3x3/increase/
    shortcut, each a conv and a bn; plus its ASPP classifier."""
    sd = {"base.layer1.conv1.conv.weight": ref["conv1.weight"]}
    sd |= _bn("base.layer1.conv1.bn", "bn1", ref)
    sd["base.layer1.conv1.bn.num_batches_tracked"] = torch.tensor(0)  # a step counter: skipped
    for stage, n in BLOCKS.items():
        for b in range(n):
            at, t = f"base.layer{stage + 1}.block{b + 1}", f"layer{stage}.{b}"
            for part, k in (("reduce", 1), ("conv3x3", 2), ("increase", 3)):
                sd[f"{at}.{part}.conv.weight"] = ref[f"{t}.conv{k}.weight"]
                sd |= _bn(f"{at}.{part}.bn", f"{t}.bn{k}", ref)
            if b == 0:
                sd[f"{at}.shortcut.conv.weight"] = ref[f"{t}.downsample.0.weight"]
                sd |= _bn(f"{at}.shortcut.bn", f"{t}.downsample.1", ref)
    sd["base.aspp.c0.weight"] = torch.zeros(21, 2048, 3, 3)
    sd["base.aspp.c0.bias"] = torch.zeros(21)
    return sd


def _caffe_block(stage: int, b: int) -> str:
    """Caffe's names: res2a, res2b, res2c; res3a, res3b1…b3; res4a, res4b1…b22; res5a…c."""
    if BLOCKS[stage] == 3:
        return f"{stage + 1}{'abc'[b]}"
    return f"{stage + 1}a" if b == 0 else f"{stage + 1}b{b}"


def _tensorflow(
    ref: dict, hwio: bool = True, bn_names: tuple[str, str] = ("gamma", "beta")
) -> dict:
    """DrSleep's TensorFlow port, Caffe's names: kernels H×W×in×out, BatchNorm as slim's
    gamma/beta/moving_mean/moving_variance (``bn_names`` for the affine pair), its statistics
    Caffe's unchanged (kaffe copies them; TensorFlow then normalises with slim's 0.001)."""
    layout = (lambda w: w.permute(2, 3, 1, 0).contiguous()) if hwio else (lambda w: w)
    weight, bias = bn_names

    def bn(name: str, t: str) -> dict:
        return {f"{name}/{weight}": ref[f"{t}.weight"], f"{name}/{bias}": ref[f"{t}.bias"],
                f"{name}/moving_mean": ref[f"{t}.running_mean"],
                f"{name}/moving_variance": ref[f"{t}.running_var"]}  # fmt: skip

    sd = {"conv1/weights": layout(ref["conv1.weight"])} | bn("bn_conv1", "bn1")
    for stage, n in BLOCKS.items():
        for b in range(n):
            c, t = _caffe_block(stage, b), f"layer{stage}.{b}"
            for branch, k in (("2a", 1), ("2b", 2), ("2c", 3)):
                sd[f"res{c}_branch{branch}/weights"] = layout(ref[f"{t}.conv{k}.weight"])
                sd |= bn(f"bn{c}_branch{branch}", f"{t}.bn{k}")
            if b == 0:
                sd[f"res{c}_branch1/weights"] = layout(ref[f"{t}.downsample.0.weight"])
                sd |= bn(f"bn{c}_branch1", f"{t}.downsample.1")
    sd["fc1_voc12_c0/weights"] = torch.zeros(3, 3, 2048, 21)
    return sd


def _assert_same(got: dict, ref: dict, atol: float = 0.0) -> None:
    assert got.keys() == ref.keys()
    for k in ref:
        torch.testing.assert_close(got[k], ref[k], rtol=0, atol=atol, msg=k)


def test_the_pytorch_ports_are_renamed_exactly(reference):
    sd, layout = convert_deeplab.convert(_kazuto(reference))
    assert layout == "kazuto1011/deeplab-pytorch"
    _assert_same(sd, reference)
    # a few names by hand: timm's layer1 is the port's layer2, its block 1 timm's block 0
    k = _kazuto(reference)
    assert torch.equal(sd["layer1.0.conv1.weight"], k["base.layer2.block1.reduce.conv.weight"])
    assert torch.equal(sd["layer4.2.bn3.running_var"], k["base.layer5.block3.increase.bn.running_var"])  # fmt: skip
    assert torch.equal(sd["layer3.22.conv2.weight"], k["base.layer4.block23.conv3x3.conv.weight"])
    assert torch.equal(sd["layer2.0.downsample.1.bias"], k["base.layer3.block1.shortcut.bn.bias"])
    # torchvision's names (isht7's "Scale." port, its layer5 the classifier)
    tv = {f"Scale.{k}": v for k, v in reference.items()} | {"Scale.layer5.conv2d_list.0.weight": torch.zeros(1)}  # fmt: skip
    sd, layout = convert_deeplab.convert(tv)
    assert layout == "torchvision"
    _assert_same(sd, reference)


def _folded(ref: dict, by: float) -> dict:
    return {k: v + by if k.endswith("running_var") else v for k, v in ref.items()}


def test_the_tensorflow_port_is_transposed_and_its_epsilon_folded(reference):
    tf = _tensorflow(reference)
    sd, layout = convert_deeplab.convert(tf)  # TensorFlow's kernels: slim's epsilon, folded
    assert layout == "caffe/tensorflow"
    _assert_same(sd, _folded(reference, 1e-3 - 1e-5), atol=1e-6)  # rounded in fp32
    assert torch.equal(sd["layer3.22.conv1.weight"], tf["res4b22_branch2a/weights"].permute(3, 2, 0, 1))  # fmt: skip
    assert torch.equal(sd["layer2.3.bn2.weight"], tf["bn3b3_branch2b/gamma"])
    # by hand: TensorFlow's normalisation (epsilon 0.001 over the port's statistics) is
    # PyTorch's at 1e-5 over the folded variance
    x = torch.randn(2, 64, 5, 5)
    mean, var = tf["bn_conv1/moving_mean"], tf["bn_conv1/moving_variance"]
    gamma, beta = tf["bn_conv1/gamma"], tf["bn_conv1/beta"]
    want = (x - mean[:, None, None]) / torch.sqrt(var[:, None, None] + 1e-3) * gamma[:, None, None] + beta[:, None, None]  # fmt: skip
    got = F.batch_norm(x, sd["bn1.running_mean"], sd["bn1.running_var"], sd["bn1.weight"], sd["bn1.bias"], eps=1e-5)  # fmt: skip
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    # scale/offset, as other exports name the affine pair, read the same
    sd2, _ = convert_deeplab.convert(_tensorflow(reference, bn_names=("scale", "offset")))
    _assert_same(sd2, sd)


def test_caffe_names_with_pytorch_kernels_keep_their_variance(reference):
    """Caffe's names over O×I×H×W kernels (a hand-made dict, not a port's file): nothing to
    transpose and nothing to fold, Caffe's own epsilon being PyTorch's 1e-5, unless --bn-eps
    says otherwise."""
    caffe = _tensorflow(reference, hwio=False)
    sd, layout = convert_deeplab.convert(caffe)
    assert layout == "caffe/tensorflow"
    _assert_same(sd, reference)
    sd, _ = convert_deeplab.convert(caffe, bn_eps=2e-5)  # said: folded
    torch.testing.assert_close(sd["bn1.running_var"], reference["bn1.running_var"] + 1e-5)


def test_the_cli_writes_weights_the_paper_preset_loads(reference, tmp_path, capsys):
    from tvnet.config import preset_config
    from tvnet.model.backbone import Backbone

    tf = _tensorflow(reference)
    src = tmp_path / "deeplab_resnet.npz"
    np.savez(src, **{k: v.numpy() for k, v in tf.items()})
    out = tmp_path / "weights" / "deeplab_resnet101_voc_timm.safetensors"
    assert convert_deeplab.main([str(src), str(out)]) == 0
    assert "(caffe/tensorflow)" in capsys.readouterr().out
    assert not list(out.parent.glob(".*"))  # written through a temporary name
    cfg = preset_config("paper", "full").replace(backbone_weights=str(out), input_size=64)
    body = Backbone(cfg, pretrained=True).body  # _load_user_weights: every tensor or an error
    assert torch.equal(body.layer3[22].conv1.weight, reference["layer3.22.conv1.weight"])
    torch.testing.assert_close(  # slim's epsilon folded in
        body.bn1.running_var, reference["bn1.running_var"] + (1e-3 - 1e-5), rtol=0, atol=1e-6
    )


def test_what_is_not_the_network_is_refused_and_nothing_written(reference, tmp_path, capsys):
    part = {k: v for k, v in _kazuto(reference).items() if ".layer5.block3." not in k}
    with pytest.raises(ValueError, match=r"15 of timm resnet101's \d+ tensors not found"):
        convert_deeplab.convert(part)
    bad = {**_kazuto(reference), "base.layer2.block1.reduce.conv.weight": torch.zeros(3, 3)}
    with pytest.raises(ValueError, match=r"is \(3, 3\); timm's layer1\.0\.conv1\.weight is \(64, 64, 1, 1\)"):  # fmt: skip
        convert_deeplab.convert(bad)
    deeper = {**_kazuto(reference), "base.layer4.block24.reduce.conv.weight": torch.zeros(256, 1024, 1, 1)}  # fmt: skip
    with pytest.raises(ValueError, match=r"block24\.reduce\.conv\.weight has no place in ResNet-101 \(layer3\.23\.conv1\.weight\)"):  # fmt: skip
        convert_deeplab.convert(deeper)  # a ResNet-152's 24th block: not cut off unsaid
    mixed = {**{k: v for k, v in _kazuto(reference).items() if "layer1.conv1" not in k},
             "conv1/weights": reference["conv1.weight"]} | {f"bn_conv1/{n}": reference[f"bn1.{m}"] for n, m in (("scale", "weight"), ("offset", "bias"), ("moving_mean", "running_mean"), ("moving_variance", "running_var"))}  # fmt: skip
    with pytest.raises(ValueError, match="several layouts mixed"):
        convert_deeplab.convert(mixed)
    torch.save({"state_dict": part}, tmp_path / "part.pth")
    out = tmp_path / "out.safetensors"
    assert convert_deeplab.main([str(tmp_path / "part.pth"), str(out)]) == 2
    assert "tensors not found" in capsys.readouterr().err and not out.exists()
    assert convert_deeplab.main([str(tmp_path / "none.pth"), str(out)]) == 2
    assert "not found" in capsys.readouterr().err
