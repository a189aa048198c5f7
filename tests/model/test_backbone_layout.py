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


def test_the_caffe_layout_pools_the_stem_as_caffe_did():
    """pool1: 3×3, stride 2, no padding, output size rounded up: window i covers rows and
    columns 2i…2i+2 (timm's pads by one: 2i−1…2i+1). By hand on an 8×8 map of distinct values."""
    caffe, timm = _backbone("caffe").body.maxpool, _backbone("timm").body.maxpool
    x = torch.arange(64.0).view(1, 1, 8, 8).flip(-1)  # the maximum of a window: its top-right
    got = caffe(x)
    assert got.shape == timm(x).shape == (1, 1, 4, 4)  # the same size on an even map
    for i in range(4):
        for j in range(4):
            want = x[0, 0, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3].max()
            assert got[0, 0, i, j] == want
    assert timm(x)[0, 0, 1, 1] == x[0, 0, 1:4, 1:4].max() != got[0, 0, 1, 1]  # shifted
    # the features keep their sizes through the whole network
    full, plain = _backbone("caffe"), _backbone("timm")
    with torch.no_grad():
        y = torch.randn(1, 3, 64, 64)
        assert [f.shape for f in full.extract(y)] == [f.shape for f in plain.extract(y)]


def test_the_caffe_layout_folds_and_runs_on_onnxruntime_as_it_computes(tmp_path, monkeypatch):
    """BatchNorm folded (torch) and the exported graph (onnxruntime, Caffe's pooling with its
    rounded-up size) give the features the layout computes."""
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
