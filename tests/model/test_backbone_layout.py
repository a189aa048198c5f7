"""The paper's backbone, DeepLab-v2's Caffe ResNet-101, computed as it was trained
(tvnet/model/backbone.py deeplab_v2_layout): strides, dilations and its BGR 0–255 input."""

from __future__ import annotations

import pytest
import torch

from tvnet.config import preset_config
from tvnet.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from tvnet.model.backbone import CAFFE_MEAN_BGR, Backbone


def _backbone(layout: str, backbone: str = "resnet50", output_stride: int = 8) -> Backbone:
    cfg = preset_config("paper", "full").replace(
        backbone=backbone, backbone_layout=layout, output_stride=output_stride, input_size=64
    )
    return Backbone(cfg, pretrained=False).eval()


def test_the_caffe_layout_strides_in_the_1x1_and_dilates_whole_stages():
    caffe, timm = _backbone("caffe"), _backbone("timm")
    b = caffe.body
    # layer2 strides: in its first 1×1 conv (Caffe's res3a_branch2a), not in the 3×3
    assert b.layer2[0].conv1.stride == (2, 2) and b.layer2[0].conv2.stride == (1, 1)
    assert timm.body.layer2[0].conv1.stride == (1, 1) and timm.body.layer2[0].conv2.stride == (2, 2)
    # at output stride 8 layer3 and layer4 are dilated 2 and 4 in every block, the first too
    assert b.layer3[0].conv2.dilation == b.layer3[0].conv2.padding == (2, 2)
    assert b.layer4[0].conv2.dilation == b.layer4[0].conv2.padding == (4, 4)
    assert timm.body.layer3[0].conv2.dilation == (1, 1)  # timm's: the previous stage's
    # the same tensors, the same feature shapes: weights load either way
    assert caffe.state_dict().keys() == timm.state_dict().keys()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert [f.shape for f in caffe.extract(x)] == [f.shape for f in timm.extract(x)]
    # at output stride 16 only layer4 is dilated; layer3 strides in its 1×1
    b16 = _backbone("caffe", output_stride=16).body
    assert b16.layer3[0].conv1.stride == (2, 2) and b16.layer4[0].conv2.dilation == (2, 2)


@pytest.mark.parametrize("size", [8, 9])
def test_the_caffe_layout_pads_the_stem_as_tensorflow_same(size):
    """conv1 (7×7, stride 2) and pool1 (3×3, stride 2) pad as TensorFlow's "SAME": the total a
    window needs, its smaller half first. By hand on a map of distinct values: on an even map
    conv1 pads 2 before and 3 after and pool1 0 before and 1 after (timm: 3 and 1 on both
    sides, windows a pixel earlier); on an odd one (DeepLab's 321) both are Caffe's, 3 and 1
    on both sides, which timm's are too."""
    caffe, timm = _backbone("caffe").body, _backbone("timm").body
    x = torch.arange(float(size * size)).view(1, 1, size, size).flip(-1)  # max: top-right
    pool = caffe.maxpool(x)
    out = -(-size // 2)  # ceil(size / 2)
    assert pool.shape == (1, 1, out, out)
    before = 0 if size % 2 == 0 else 1
    for i in range(out):
        for j in range(out):
            r0, c0 = max(2 * i - before, 0), max(2 * j - before, 0)
            want = x[0, 0, r0 : 2 * i - before + 3, c0 : 2 * j - before + 3].max()
            assert pool[0, 0, i, j] == want
    if size % 2 == 0:
        assert timm.maxpool(x)[0, 0, 1, 1] == x[0, 0, 1:4, 1:4].max() != pool[0, 0, 1, 1]
    else:
        assert torch.equal(timm.maxpool(x), pool)
    # conv1: one output pixel is one 7×7 window; a kernel with a single 1 at its top-left
    # corner reads the window's first pixel, input row and column 2i − before
    conv = caffe.conv1
    w = torch.zeros_like(conv.weight)
    w[:, :, 0, 0] = 1
    with torch.no_grad():
        conv.weight.copy_(w)
        y = conv(torch.arange(float(3 * size * size)).view(1, 3, size, size) + 1)
    before = 2 if size % 2 == 0 else 3
    assert y.shape[-2:] == (out, out)
    img = torch.arange(float(3 * size * size)).view(3, size, size) + 1
    for i in range(out):
        r = 2 * i - before
        want = img[:, r, 2 * i - before].sum() if r >= 0 else torch.tensor(0.0)
        assert y[0, 0, i, i] == want  # the corner in the padding reads 0
    assert conv.weight.shape == timm.conv1.weight.shape and "conv1.weight" in caffe.state_dict()


def test_the_caffe_layout_keeps_the_feature_sizes():
    full, plain = _backbone("caffe"), _backbone("timm")
    with torch.no_grad():
        for s in (64, 65):
            y = torch.randn(1, 3, s, s)
            assert [f.shape for f in full.extract(y)] == [f.shape for f in plain.extract(y)]


def test_the_caffe_layout_folds_and_runs_on_onnxruntime_as_it_computes(tmp_path, monkeypatch):
    """BatchNorm folded (torch) and the exported graph (onnxruntime, the stem's "SAME"
    padding) give the features the layout computes."""
    import copy

    monkeypatch.setenv("TVNET_CACHE", str(tmp_path))  # the exported graph's cache
    torch.manual_seed(0)
    b = _backbone("caffe")
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        want = b.extract(x)
        for runtime in ("torch", "onnxruntime"):
            fast = copy.deepcopy(b).optimize_for_inference(runtime, amp=False)
            assert (fast.onnx is not None) == (runtime == "onnxruntime")
            for got, w in zip(fast.extract(x), want):
                torch.testing.assert_close(got, w, rtol=1e-4, atol=1e-4 * w.abs().max().item())


def test_the_caffe_layout_feeds_bgr_pixels_minus_the_mean():
    """What reaches the first conv: the image's BGR pixels on 0–255 minus DeepLab's mean, from
    the data convention's ImageNet-normalised RGB."""
    caffe = _backbone("caffe")
    seen = {}
    caffe.body.conv1.register_forward_pre_hook(lambda m, a: seen.setdefault("x", a[0]))
    rgb = torch.tensor([0.2, 0.5, 0.9]).view(1, 3, 1, 1).expand(1, 3, 64, 64)
    x = (rgb - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(
        1, 3, 1, 1
    )
    with torch.no_grad():
        caffe.extract(x)
    got = seen["x"][0, :, 0, 0]
    # by hand: B = 0.9·255 − 104.007, G = 0.5·255 − 116.669, R = 0.2·255 − 122.679
    want = torch.tensor([229.5, 127.5, 51.0]) - torch.tensor(CAFFE_MEAN_BGR)
    torch.testing.assert_close(got, want, atol=1e-3, rtol=0)


def test_the_caffe_layout_is_refused_where_it_has_no_meaning():
    with pytest.raises(ValueError, match="backbone_layout must be 'timm' or 'caffe'"):
        preset_config("paper", "full").replace(backbone_layout="pytorch")
    with pytest.raises(ValueError, match="needs a ResNet of bottleneck blocks"):
        _backbone("caffe", backbone="tf_efficientnet_lite0", output_stride=16)
    with pytest.raises(ValueError, match=r"needs bottleneck blocks \(1×1, 3×3, 1×1\)"):
        _backbone("caffe", backbone="resnet18")  # basic blocks: 3×3, 3×3
    assert preset_config("paper", "full").backbone_layout == "caffe"
    assert preset_config("cpu", "full").backbone_layout == "timm"


def test_a_feature_cache_tells_the_two_layouts_apart():
    """The same tensors computed two ways are two sets of features: cached apart."""
    from tvnet.loader.features import backbone_fingerprint

    caffe, timm = _backbone("caffe"), _backbone("timm")
    timm.load_state_dict(caffe.state_dict())
    assert backbone_fingerprint(caffe, 64, 8) != backbone_fingerprint(timm, 64, 8)
    twin = _backbone("timm")
    twin.load_state_dict(caffe.state_dict())
    assert backbone_fingerprint(twin, 64, 8) == backbone_fingerprint(timm, 64, 8)
