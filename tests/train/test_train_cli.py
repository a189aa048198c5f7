"""`tvnet train` configuration: preset → --config file → --set → dedicated flags, with clear
errors for misspelt fields, wrong types and malformed files."""

import json

import pytest

from tests.conftest import TINY_MODEL
from tvnet.cli import build_parser
from tvnet.cli import main as cli_main
from tvnet.cli.train import load_config, parse_overrides


def _args(*extra):
    return build_parser().parse_args(["train", "--data", "d", "--out", "o", *extra])


def test_parse_overrides_reads_json_values_and_keeps_text():
    got = parse_overrides(
        [
            "model.fusion_heads=5",
            "train.lr=1e-3",
            "train.amp=false",
            "model.word_vectors=null",
            "model.backbone=resnet50",
            "train.max_minutes=2.5",
        ]
    )
    assert got == {
        "model": {"fusion_heads": 5, "word_vectors": None, "backbone": "resnet50"},
        "train": {"lr": 0.001, "amp": False, "max_minutes": 2.5},
    }
    for bad in ["fusion_heads=5", "model.fusion_heads", "optim.lr=1", "model.=3"]:
        with pytest.raises(ValueError, match="SECTION.FIELD=VALUE"):
            parse_overrides([bad])


def test_precedence_preset_file_set_flags(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text(
        json.dumps(
            {
                "model": {"preset": "cpu", "d_m": 96, "gate_rounds": 2},
                "train": {"lr": 0.01, "steps": 50, "loss_dice": 1.0},
            }
        )
    )
    m, t = load_config(
        _args(
            "--config",
            str(cfg),
            "--set",
            "model.d_m=64",
            "--set",
            "train.lr=0.02",
            "--set",
            "train.steps=70",
            "--lr",
            "0.03",
        )
    )
    assert m.preset == "cpu" and m.variant == "full"
    assert m.d_m == 64  # --set beats the file
    assert m.gate_rounds == 2 and m.d_s == 256  # file beats the preset; preset fills the rest
    assert t.lr == 0.03  # the dedicated flag beats --set
    assert t.steps == 70 and t.loss_dice == 1.0
    # the last --set of a field wins; --variant beats the file's variant
    m, _ = load_config(_args("--variant", "res", "--set", "model.d_m=8", "--set", "model.d_m=16"))
    assert m.d_m == 16 and m.variant == "res"


def test_without_a_config_the_presets_recipe_file_is_read():
    """`tvnet train` alone trains as the preset's recipe (configs/<preset>.json), not with
    TrainConfig's bare defaults (batch 1, 100,000 steps, no Dice for the cpu preset)."""
    from pathlib import Path

    configs = Path(__file__).resolve().parents[2] / "configs"
    for preset in ("cpu", "paper"):
        want = json.loads((configs / f"{preset}.json").read_text())["train"]
        m, t = load_config(_args(*(["--preset", preset] if preset == "paper" else [])))
        assert m.preset == preset
        assert {k: getattr(t, k) for k in want} == want
    _, t = load_config(_args())
    assert (t.batch_size, t.lr, t.loss_dice) == (8, 0.001, 1.0)
    m, t = load_config(_args("--set", "model.preset=paper"))  # the preset however it is named
    assert m.preset == "paper" and t.steps == 700000 and t.batch_size == 1
    _, t = load_config(_args("--steps", "7"))  # the flags still win over the file
    assert t.steps == 7 and t.batch_size == 8


def test_a_resume_without_a_config_continues_the_recipe_its_run_recorded(tmp_path, capsys):
    """`tvnet train --resume` with no --config reads OUT/run.json's recipe (a run started with
    other settings than configs/<preset>.json holds now), not the preset's file; flags and
    --set still win; a damaged record is named."""
    out = tmp_path / "run"
    out.mkdir()
    record = {
        "model": {"preset": "cpu", "variant": "res", "d_m": 48, "no_such_field": 0},
        "train": {"batch_size": 3, "steps": 123, "lr": 0.004, "loss_dice": 0.0, "num_workers": 2},
    }
    (out / "run.json").write_text(json.dumps(record))

    def args(*extra):
        return build_parser().parse_args(["train", "--data", "d", "--out", str(out), *extra])

    with pytest.raises(ValueError, match=r"run\.json: unknown ModelConfig field.*no_such_field"):
        load_config(args("--resume"))  # an unknown field is named, as in a config file
    del record["model"]["no_such_field"]  # a retired one (num_workers) is dropped
    (out / "run.json").write_text(json.dumps(record))
    m, t = load_config(args("--resume"))
    assert (m.variant, m.d_m) == ("res", 48)
    assert (t.batch_size, t.steps, t.lr, t.loss_dice) == (3, 123, 0.004, 0.0)
    assert "resuming with the recipe" in capsys.readouterr().err
    m, t = load_config(args("--resume", "--set", "model.d_m=40", "--batch-size", "2"))
    assert (m.d_m, t.batch_size, t.steps) == (40, 2, 123)
    _, t = load_config(args())  # without --resume the preset's recipe, as for a new run
    assert (t.batch_size, t.loss_dice) == (8, 1.0)
    # another preset or variant than the record's would name a model the record's fields
    # do not build: refused; the same one said again is fine
    for extra in (["--preset", "paper"], ["--variant", "full"], ["--set", "model.preset=paper"]):
        with pytest.raises(ValueError, match=r"records (preset 'cpu'|variant 'res').* another"):
            load_config(args("--resume", *extra))
    assert load_config(args("--resume", "--variant", "res", "--preset", "cpu"))[0].variant == "res"
    # a session's time limit is that session's: not carried into the next
    record["train"]["max_minutes"] = 30.0
    (out / "run.json").write_text(json.dumps(record))
    assert load_config(args("--resume"))[1].max_minutes is None
    (out / "run.json").write_text('{"model": {}, "train": 5}')
    with pytest.raises(ValueError, match=r"run\.json is damaged .* give the run's --config"):
        load_config(args("--resume"))


@pytest.mark.parametrize(
    "content, extra, message",
    [
        ({"model": {"fusion_head": 5}}, [], r"unknown ModelConfig field\(s\) \['fusion_head'\]"),
        (
            {"train": {"learning_rate": 1}},
            [],
            r"unknown TrainConfig field\(s\) \['learning_rate'\]",
        ),
        ({"modle": {}}, [], "expected an object with 'model' and/or 'train'"),
        ({"model": 5}, [], "'model' is int, not an object of fields"),
        ({"train": ["lr", 1]}, [], "'train' is list, not an object of fields"),
        ({}, ["--set", "model.dm=3"], r"--set: unknown ModelConfig field\(s\) \['dm'\]"),
        ({}, ["--set", "train.steps=ten"], "steps must be int, got 'ten'"),
        ({}, ["--set", "train.steps=1e3"], "steps must be int, got 1000.0"),
        ({}, ["--set", "model.enrich_native=1"], "enrich_native must be bool"),
        ({"model": {"d_m": True}}, [], "d_m must be int"),
    ],
)
def test_bad_configs_are_clear_errors(tmp_path, capsys, content, extra, message):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps(content))
    with pytest.raises(ValueError, match=message):
        load_config(_args("--config", str(cfg), *extra))
    # through the CLI: exit code 2 and one line on stderr, nothing trained
    rc = cli_main(
        [
            "train",
            "--config",
            str(cfg),
            "--data",
            str(tmp_path),
            "--out",
            str(tmp_path / "run"),
            *extra,
        ]
    )
    assert rc == 2
    assert "tvnet train: error:" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_config_that_is_not_json(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text('{"model": {"d_m": 64,}}')
    with pytest.raises(ValueError, match="is not valid JSON"):
        load_config(_args("--config", str(cfg)))


def test_an_int_may_stand_for_a_float():
    _, t = load_config(_args("--set", "train.lr=1", "--set", "train.max_minutes=null"))
    assert t.lr == 1.0 and t.max_minutes is None


def test_set_reaches_the_trained_run(tiny_synthref, tmp_path):
    sets = [f"--set=model.{k}={json.dumps(v)}" for k, v in TINY_MODEL.items()]
    rc = cli_main(
        [
            "train",
            "--variant",
            "baseline",
            "--data",
            str(tiny_synthref["data"]),
            "--out",
            str(tmp_path / "run"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--steps",
            "2",
            "--batch-size",
            "2",
            "--val-samples",
            "0",
            "--quiet",
            *sets,
            "--set",
            "model.fusion_heads=3",
            "--set",
            "train.loss_dice=0.5",
            "--set",  # the cpu recipe's colour swap needs word pieces; TINY_MODEL reads GloVe
            "train.colour_swap=0",
        ]
    )
    assert rc == 0
    run = json.loads((tmp_path / "run" / "run.json").read_text())
    assert run["model"]["fusion_heads"] == 3 and run["train"]["loss_dice"] == 0.5
    assert run["train"]["steps"] == 2
    ckpt = json.loads((tmp_path / "run" / "last" / "config.json").read_text())
    assert ckpt["model"]["fusion_heads"] == 3
