import numpy as np
import pandas as pd
import pytest
import skimage.data
import torch
from PIL import Image

from tvnet.weights import (
    PACKAGE_GLOVE,
    glove_files,
    load_efficientnet_lite0_imagenet,
    load_glove,
)


@pytest.fixture(scope="module")
def lite0():
    return load_efficientnet_lite0_imagenet().eval()


@pytest.mark.parametrize("name,cls", [("chelsea", 285), ("coffee", 967)])
def test_converted_lite0_classifies_imagenet(lite0, name, cls):
    img = Image.fromarray(getattr(skimage.data, name)()).resize((224, 224), Image.BICUBIC)
    x = torch.from_numpy(np.array(img)).permute(2, 0, 1).float() / 255
    x = (x - 0.5) / 0.5
    with torch.no_grad():
        assert lite0(x[None]).argmax().item() == cls


def test_features_only_gets_the_same_weights(lite0):
    feat = load_efficientnet_lite0_imagenet(features_only=True, out_indices=(1, 2, 3, 4))
    assert torch.equal(
        feat.state_dict()["conv_stem.weight"], lite0.state_dict()["conv_stem.weight"]
    )
    assert torch.equal(
        feat.state_dict()["blocks.6.0.conv_pwl.weight"],
        lite0.state_dict()["blocks.6.0.conv_pwl.weight"],
    )


def test_glove_rows_equal_package_vectors():
    emb_path, idx_path = glove_files()
    table = np.load(emb_path)
    words = pd.read_parquet(idx_path).iloc[:, 0].astype(str).tolist()
    pick = ["the", "cat", "left", "zebra"]
    vecs, found = load_glove(PACKAGE_GLOVE, pick + ["qwxzv-not-a-word"])
    assert found.tolist() == [True] * 4 + [False]
    for i, w in enumerate(pick):
        np.testing.assert_array_equal(vecs[i], table[words.index(w)])
    assert np.isnan(vecs[-1]).all()


def test_glove_text_file(tmp_path):
    f = tmp_path / "g.txt"
    f.write_text("red 1 2 3\nblue 4 5 6\n")
    vecs, found = load_glove(str(f), ["blue", "green"])
    np.testing.assert_array_equal(vecs[0], [4, 5, 6])
    assert found.tolist() == [True, False]
    with pytest.raises(FileNotFoundError, match="GloVe file"):
        load_glove(str(tmp_path / "missing.txt"), ["a"])


def test_user_backbone_weights_must_cover_the_whole_network(tmp_path):
    """The `paper` preset's user-supplied backbone is frozen: a converted checkpoint that lacks
    some layers would leave them random for the whole run, so it is refused, as one that
    shares no name is; one that covers everything (running counts aside) loads exactly."""
    from safetensors.torch import save_file

    from tvnet.model.backbone import _load_user_weights

    def body():
        return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))

    full = {k: torch.randn_like(v.float()) for k, v in body().state_dict().items()}
    full = {k: v for k, v in full.items() if not k.endswith("num_batches_tracked")}
    save_file(full, str(tmp_path / "all.safetensors"))
    net = body()
    _load_user_weights(net, str(tmp_path / "all.safetensors"))
    assert torch.equal(net[0].weight, full["0.weight"])
    part = {k: v for k, v in full.items() if not k.startswith("1.")}
    save_file(part, str(tmp_path / "part.safetensors"))
    with pytest.raises(ValueError, match=r"lack 4 of .* tensors \(e\.g\. 1\.weight"):
        _load_user_weights(body(), str(tmp_path / "part.safetensors"))
    save_file({"x.weight": torch.ones(1)}, str(tmp_path / "none.safetensors"))
    with pytest.raises(ValueError, match="share no parameter name"):
        _load_user_weights(body(), str(tmp_path / "none.safetensors"))
