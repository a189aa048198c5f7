import json
import os
import re
from pathlib import Path

import pytest
import torch

from tvnet import build_model
from tvnet.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from tvnet.config import preset_config


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from tvnet.data.tokenize import Vocab

    torch.manual_seed(0)
    return build_model(
        "cpu",
        "full",
        vocab=Vocab.build(["the red circle", "a blue star"]),
        pretrained=False,
        text_encoder="glove_lstm",
    ).eval()


def _run(m):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(1, 3, 128, 128, generator=g)
    with torch.no_grad():
        return m(torch.tensor([[2, 3, 4]]), torch.tensor([3]), image=x, ref_image=x.flip(-1)).logits


def test_round_trip_identical_logits(model, tmp_path):
    path = save_checkpoint(model, tmp_path / "ckpt", extra={"data": {"name": "unit"}})
    loaded = load_checkpoint(path)
    assert loaded.vocab.words == model.vocab.words
    torch.testing.assert_close(_run(loaded), _run(model), rtol=0, atol=0)
    assert json.loads((path / "config.json").read_text())["data"] == {"name": "unit"}
    # overwrite in place keeps a valid checkpoint; it is written in a hidden .tmp sibling, the
    # only name tools/build_default.sh clears after a cut-off write
    seen = []
    save_checkpoint(model, path, write_more=lambda d: seen.append(d))
    assert seen[0].parent == tmp_path and re.fullmatch(r"\.ckpt\..+\.tmp", seen[0].name)
    torch.testing.assert_close(_run(load_checkpoint(path)), _run(model), rtol=0, atol=0)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())
    # through a link (runs/latest → a run's checkpoint): the target is replaced, the link kept
    (tmp_path / "latest").symlink_to(path)
    save_checkpoint(model, tmp_path / "latest", extra={"data": {"name": "again"}})
    assert (tmp_path / "latest").is_symlink()
    assert json.loads((path / "config.json").read_text())["data"] == {"name": "again"}
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_fp16_checkpoint_is_close(model, tmp_path):
    path = save_checkpoint(model, tmp_path / "half", dtype=torch.float16)
    assert (path / "model.safetensors").stat().st_size < (
        save_checkpoint(model, tmp_path / "f").joinpath("model.safetensors")
    ).stat().st_size * 0.6
    torch.testing.assert_close(_run(load_checkpoint(path)), _run(model), atol=0.05, rtol=0.05)


def test_mismatched_config_is_refused(model, tmp_path):
    path = save_checkpoint(model, tmp_path / "ckpt")
    with pytest.raises(CheckpointError, match="variant='full'.*'baseline'"):
        load_checkpoint(path, expect=preset_config("cpu", "baseline"))


def test_corrupt_and_missing_checkpoints(model, tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "nothing")
    run = save_checkpoint(model, tmp_path / "run" / "last").parent  # a training run's folder
    with pytest.raises(CheckpointError, match=r"is a training run: its checkpoint is .*run/last"):
        load_checkpoint(run)
    path = save_checkpoint(model, tmp_path / "ckpt")
    (path / "model.safetensors").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(path)
    (path / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(path)
    # the same size, other bytes: a readable file of other weights than config.json records
    path = save_checkpoint(model, tmp_path / "ckpt")
    weights = bytearray((path / "model.safetensors").read_bytes())
    weights[-64:] = bytes(64)  # inside the last tensor's data: safetensors reads it fine
    (path / "model.safetensors").write_bytes(bytes(weights))
    with pytest.raises(CheckpointError, match="SHA-256 is not the one config.json records"):
        load_checkpoint(path)
    path = save_checkpoint(model, tmp_path / "ckpt")
    cfg = json.loads((path / "config.json").read_text())
    # fields out of range: a message naming the field, not a tensor error from deep inside
    for field, value in (("amf_channels", -1), ("max_tokens", 0), ("d_m", "64"), ("d_s", True)):
        (path / "config.json").write_text(
            json.dumps({**cfg, "model": {**cfg["model"], field: value}})
        )
        with pytest.raises(CheckpointError, match=rf"invalid.*{field} must be a whole number"):
            load_checkpoint(path)
    for bad in (None, [1], "full"):  # valid JSON, the wrong shape
        (path / "config.json").write_text(json.dumps({**cfg, "model": bad}))
        with pytest.raises(CheckpointError, match="invalid" if bad is None else "damaged"):
            load_checkpoint(path)
    # every reader of the config meets the same error, a warm start's record among them
    from tvnet.warmstart import init_record

    for key in ("model", "train", "data", "init"):
        (path / "config.json").write_text(json.dumps({**cfg, key: [1]}))
        with pytest.raises(
            CheckpointError, match=f"its '{key}' must be a JSON object, got \\[1\\]"
        ):
            init_record(path, "full")


def test_checkpoint_of_another_shape_is_refused(model, tmp_path):
    path = save_checkpoint(model, tmp_path / "ckpt")
    cfg = json.loads((path / "config.json").read_text())
    cfg["model"]["d_m"] = 2 * cfg["model"]["d_m"]  # not the shape of the stored weights
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="does not fit"):
        load_checkpoint(path)


def test_frozen_packaged_backbone_is_not_stored_but_restored(tmp_path):
    from tvnet.data.tokenize import Vocab

    torch.manual_seed(0)
    m = build_model(
        "cpu", "res", vocab=Vocab.build(["a red star"]), pretrained=True, text_encoder="glove_lstm"
    ).eval()
    path = save_checkpoint(m, tmp_path / "small")
    from safetensors.torch import load_file

    assert not any(k.startswith("backbone.") for k in load_file(str(path / "model.safetensors")))
    torch.testing.assert_close(_run(load_checkpoint(path)), _run(m), rtol=0, atol=0)


def test_configs_from_before_feature_norm_load_without_it():
    from tvnet.config import ModelConfig, preset_config

    cfg = preset_config("cpu", "full")
    assert cfg.feature_norm  # new models normalise their backbone features
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    old = {k: v for k, v in cfg.to_dict().items() if k != "feature_norm"}
    assert ModelConfig.from_dict(old).feature_norm is False


def test_default_checkpoint_is_the_default_model_when_shipped(tmp_path):
    import subprocess
    import sys

    import tvnet.assets as assets

    # the shipped default (the repository's assets/, whatever $TVNET_ASSETS says) is Table 1's
    # full (issue 23), calibrated
    repo_assets = Path(assets.__file__).resolve().parents[1] / "assets"
    shipped = repo_assets / "checkpoints" / assets.DEFAULT_MODEL
    assert json.loads((shipped / "config.json").read_text())["model"]["variant"] == "full"
    assert (shipped / "calibration.json").is_file()
    name = assets.DEFAULT_MODEL

    def found() -> tuple[Path, Path]:  # a fresh process under $TVNET_ASSETS=tmp_path
        code = "import tvnet; print(tvnet.default_checkpoint()); print(tvnet.default_assets()['checkpoint'])"
        env = {**os.environ, "TVNET_ASSETS": str(tmp_path)}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        a, b = out.stdout.split()
        return Path(a), Path(b)

    assert found()[0] == tmp_path / "checkpoints" / "full"
    (tmp_path / "checkpoints" / name).mkdir(parents=True)
    assert found()[0] == tmp_path / "checkpoints" / "full"  # no config: absent
    (tmp_path / "checkpoints" / name / "config.json").write_text("{}")
    assert found() == (tmp_path / "checkpoints" / name,) * 2
