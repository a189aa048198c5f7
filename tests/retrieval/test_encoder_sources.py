"""A pool built with encoders other than the bundled ones (the `paper` preset's DistilBERT, a
VGG16 weights file) records where they came from, and the Predictor and `tvnet eval` load them
again from there (tvnet.retrieval.neighbours.encoder_sources, pool_encoders)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import timm
import torch

from tests.conftest import save_tiny_model
from tvnet import Predictor
from tvnet.retrieval.image_encoder import ImageEncoder
from tvnet.retrieval.neighbours import EncodersUnavailable, build_pool, pool_encoders
from tvnet.retrieval.pool import DataPool
from tvnet.retrieval.text_encoder import TextEncoder, minilm_model_dir


@pytest.fixture(scope="module")
def local_pool(tiny_synthref, tmp_path_factory):
    """tiny_synthref's training split pooled with a text model from a local folder (MiniLM's
    files under another name) and an image encoder from a weights file (random Lite0)."""
    root = tmp_path_factory.mktemp("local-encoders")
    text_dir = root / "my-text-model"
    text_dir.mkdir()
    for f in minilm_model_dir().iterdir():
        (text_dir / f.name).symlink_to(f)
    weights = root / "lite0-mine.pth"
    torch.manual_seed(0)
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=0)
    torch.save(model.state_dict(), weights)
    te, ie = TextEncoder(text_dir), ImageEncoder(weights=weights)
    pool = build_pool(tiny_synthref["refer"], "train", te, ie, progress=False)
    pool.save(root / "pool")
    return {"pool": root / "pool", "text_dir": text_dir, "weights": weights, "te": te, "ie": ie}


def test_the_manifest_records_where_local_encoders_came_from(local_pool, tiny_synthref):
    man = DataPool.load(local_pool["pool"]).manifest
    assert man["text_encoder"]["name"] == "hf:my-text-model"
    assert man["text_encoder"]["source"] == str(local_pool["text_dir"].resolve())
    assert man["image_encoder"]["source"] == {
        "backbone": "tf_efficientnet_lite0",
        "weights": str(local_pool["weights"].resolve()),
        "input_size": 224,
    }
    text, image = pool_encoders(man)
    assert (text.name, image.name) == (local_pool["te"].name, local_pool["ie"].name)
    img = np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    np.testing.assert_allclose(image.encode([img]), local_pool["ie"].encode([img]), atol=1e-5)
    np.testing.assert_allclose(
        text.encode(["the red circle"]), local_pool["te"].encode(["the red circle"]), atol=1e-5
    )
    # the bundled encoders record nothing: they load by name on any machine
    bundled = DataPool.load(tiny_synthref["pool"]).manifest
    assert "source" not in bundled["text_encoder"] and "source" not in bundled["image_encoder"]


def test_the_predictor_retrieves_with_them(local_pool, tiny_synthref, tmp_path):
    ckpt = save_tiny_model(tiny_synthref["refer"], "full", tmp_path / "ckpt")
    pred = Predictor.from_checkpoint(
        ckpt, local_pool["pool"], device="cpu", pool_images=tiny_synthref["data"] / "images"
    )
    assert pred.retriever.text_encoder.name == "hf:my-text-model"
    sample = tiny_synthref["refer"].samples("val")[0]
    answer = pred(tiny_synthref["refer"].load_image(sample.image_id), sample.sentence)
    assert answer.neighbour is not None and answer.neighbour.index >= 0


def test_missing_files_say_which(local_pool, tmp_path):
    man = json.loads((local_pool["pool"] / "manifest.json").read_text())
    gone = json.loads(json.dumps(man))
    gone["image_encoder"]["source"]["weights"] = str(tmp_path / "elsewhere.pth")
    with pytest.raises(EncodersUnavailable, match="elsewhere.pth.*not on this machine"):
        pool_encoders(gone)
    gone = json.loads(json.dumps(man))
    gone["text_encoder"]["source"] = str(tmp_path / "no-model")
    with pytest.raises(EncodersUnavailable, match="no-model.*not on this machine"):
        pool_encoders(gone)
    other = json.loads(json.dumps(man))  # a folder that holds another model than the name
    other["text_encoder"]["name"] = "hf:distilbert-base-uncased"
    with pytest.raises(EncodersUnavailable, match="holds 'hf:my-text-model'"):
        pool_encoders(other)
    random = json.loads(json.dumps(man))
    random["image_encoder"]["source"]["weights"] = None
    with pytest.raises(EncodersUnavailable, match="random weights"):
        pool_encoders(random)
