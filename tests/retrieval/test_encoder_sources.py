"""A pool built with encoders other than the bundled ones (the `paper` preset's DistilBERT, a
VGG16 weights file) records where they came from, and the Predictor and `tvnet eval` load them
again from there (tvnet.retrieval.encoders: encoder_sources, pool_encoders)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import timm
import torch

from tests.conftest import save_tiny_model
from tvnet import Predictor
from tvnet.retrieval.encoders import EncodersUnavailable, pool_encoders, probe_image
from tvnet.retrieval.image_encoder import ImageEncoder
from tvnet.retrieval.neighbours import build_pool
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
    blob = root / "blobs" / "9f3ab"  # a hub cache's layout: the file name is a symlink's
    blob.parent.mkdir()
    generator = torch.Generator().manual_seed(0)
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=0)
    with torch.no_grad():
        for t in model.parameters():
            t.copy_(torch.randn(t.shape, generator=generator) * 0.05)
    torch.save(model.state_dict(), blob)
    weights = root / "lite0-mine.pth"
    weights.symlink_to(blob)
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
        "weights": str(local_pool["weights"].absolute()),  # the symlink, not its target
        "input_size": 224,
    }
    text, image = pool_encoders(man)
    assert (text.name, image.name) == (local_pool["te"].name, local_pool["ie"].name)
    assert image.name == "timm:tf_efficientnet_lite0@lite0-mine.pth@224px"
    img = np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    np.testing.assert_allclose(image.encode([img]), local_pool["ie"].encode([img]), atol=1e-5)
    np.testing.assert_allclose(
        text.encode(["the red circle"]), local_pool["te"].encode(["the red circle"]), atol=1e-5
    )
    # and what each made of the probes: the weights' identity, which a name does not pin
    assert len(man["text_encoder"]["probe"]) == local_pool["te"].dim
    assert len(man["image_encoder"]["probe"]) == local_pool["ie"].dim
    np.testing.assert_allclose(
        man["image_encoder"]["probe"], image.encode([probe_image()])[0], atol=1e-4
    )
    # the bundled encoders record nothing: they load by name on any machine
    bundled = DataPool.load(tiny_synthref["pool"]).manifest
    for key in ("text_encoder", "image_encoder"):
        assert "source" not in bundled[key] and "probe" not in bundled[key]


def test_other_weights_under_the_same_name_are_refused(local_pool, tmp_path):
    """A weights file replaced in place keeps the encoder's name; the probe tells it apart."""
    man = json.loads((local_pool["pool"] / "manifest.json").read_text())
    generator = torch.Generator().manual_seed(1)
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False, num_classes=0)
    with torch.no_grad():
        for t in model.parameters():
            t.copy_(torch.randn(t.shape, generator=generator) * 0.05)
    other = tmp_path / "lite0-mine.pth"  # the same file name: the same encoder name
    torch.save(model.state_dict(), other)
    moved = json.loads(json.dumps(man))
    moved["image_encoder"]["source"]["weights"] = str(other)
    with pytest.raises(EncodersUnavailable, match="not those the pool was built with"):
        pool_encoders(moved)
    # a text probe that another sentence made: the folder's model makes another vector
    swapped = json.loads(json.dumps(man))
    swapped["text_encoder"]["probe"] = (
        local_pool["te"].encode(["a yellow striped star"])[0].tolist()
    )
    with pytest.raises(EncodersUnavailable, match="other weights than the pool"):
        pool_encoders(swapped)
    # a pool written before probes were recorded still loads, by name alone
    old = json.loads(json.dumps(man))
    del old["text_encoder"]["probe"], old["image_encoder"]["probe"]
    text, image = pool_encoders(old)
    assert image.name == local_pool["ie"].name


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


def test_corrupt_weights_at_the_recorded_path_say_so(local_pool, tmp_path):
    man = json.loads((local_pool["pool"] / "manifest.json").read_text())
    bad = tmp_path / "lite0-mine.pth"
    bad.write_bytes(b"not a state dict")
    man["image_encoder"]["source"]["weights"] = str(bad)
    with pytest.raises(EncodersUnavailable, match="cannot be used"):
        pool_encoders(man, text=False)


def test_neighbours_and_eval_use_the_pools_own_encoders(local_pool, tiny_synthref, tmp_path):
    """`tvnet pool neighbours` without encoder options writes the table with the pool's own
    encoders (the default ones would not fit this pool), and `tvnet eval` fills the
    image_similarity column with its image encoder."""
    from tvnet.cli import main as cli_main
    from tvnet.eval.dump import load_dump

    data = str(tiny_synthref["data"])
    pool = str(local_pool["pool"])
    assert cli_main(["pool", "neighbours", "--data", data, "--split", "val", "--pool", pool]) == 0
    ckpt = save_tiny_model(tiny_synthref["refer"], "full", tmp_path / "ckpt")
    out = tmp_path / "dump"
    args = ["eval", "--checkpoint", str(ckpt), "--data", data, "--split", "val", "--pool", pool]
    assert cli_main(args + ["--out", str(out), "--quiet", "--no-influence"]) == 0
    dump = load_dump(out)
    assert dump.samples["image_similarity"].notna().all()
    assert dump.run["image_similarity_note"] is None


def test_neighbours_with_other_encoders_than_the_pools_is_an_error(
    local_pool, tiny_synthref, capsys
):
    """Encoder options that make other encoders than the pool's (here only the image weights
    given: the text encoder falls back to the bundled MiniLM) would rank the pool's vectors by a
    foreign scale; the command says so and writes nothing."""
    from tvnet.cli import main as cli_main

    argv = ["pool", "neighbours", "--data", str(tiny_synthref["data"]), "--split", "test",
            "--pool", str(local_pool["pool"])]  # fmt: skip
    table = local_pool["pool"] / "neighbours_synthref_test.parquet"
    assert not table.exists()
    assert cli_main(argv + ["--image-weights", str(local_pool["weights"])]) == 2
    err = capsys.readouterr().err
    assert "'hf:my-text-model'" in err and "'all-MiniLM-L6-v2'" in err
    assert not table.exists()
    # both given as the pool was built: the table is written
    both = [
        "--image-weights",
        str(local_pool["weights"]),
        "--text-model",
        str(local_pool["text_dir"]),
    ]
    assert cli_main(argv + both) == 0
    assert table.is_file()
