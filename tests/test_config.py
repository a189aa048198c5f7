"""tvnet/config.py: one variant list; configs recorded with since-retired fields still load."""

import json
import re
from pathlib import Path

import pytest

from tvnet.config import (
    RETIRED_FIELDS,
    VARIANTS,
    ModelConfig,
    TrainConfig,
    known_fields,
    preset_config,
)

ROOT = Path(__file__).resolve().parents[1]


def _recorded() -> list[tuple[Path, dict, dict]]:
    """(file, model section, train section) of every config the repository ships."""
    out = []
    for f in sorted((ROOT / "assets" / "checkpoints").glob("*/config.json")):
        d = json.loads(f.read_text())
        out.append((f, d["model"], d.get("train") or {}))
    for f in sorted((ROOT / "assets" / "dumps").rglob("run.json")):
        d = json.loads(f.read_text())
        out.append((f, d.get("config") or {}, d.get("train") or {}))
    for f in sorted((ROOT / "configs").glob("*.json")):
        d = json.loads(f.read_text())
        out.append((f, {}, d.get("train") or {}))
    return out


def test_every_shipped_config_loads_and_drops_its_retired_fields():
    recorded = _recorded()
    assert len(recorded) >= 5 + 12 + 2
    retired = {k for names in RETIRED_FIELDS.values() for k in names}
    assert any(retired & set(m) or retired & set(t) for _, m, t in recorded)  # still exercised
    for f, model, train in recorded:
        if model:
            cfg = ModelConfig.from_dict(model)
            assert cfg.variant in VARIANTS, f
            assert not retired & set(cfg.to_dict()), f
        tcfg = TrainConfig.from_dict(train)
        assert not retired & set(tcfg.to_dict()), f


def test_retired_fields_are_gone_and_unknown_ones_still_errors():
    for cls in (ModelConfig, TrainConfig):
        for name in RETIRED_FIELDS[cls.__name__]:
            assert name not in cls.__dataclass_fields__
    assert known_fields(TrainConfig, {"lr": 1e-3, "val_every": 5}) == {"lr": 1e-3}
    with pytest.raises(
        ValueError, match=r"config x: unknown TrainConfig field\(s\) \['val_evry'\]"
    ):
        known_fields(TrainConfig, {"val_evry": 5}, "config x")
    # typed now (--set), a retired field is an unknown one, not silently dropped
    with pytest.raises(ValueError, match=r"--set: unknown TrainConfig field\(s\) \['val_every'\]"):
        known_fields(TrainConfig, {"val_every": 5}, "--set", recorded=False)
    full = preset_config("cpu", "full").to_dict()
    assert ModelConfig.from_dict({**full, "retrieval_text_model": "any"}) == preset_config("cpu")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"seed": -1}, "seed must be a whole number ≥ 0, got -1"),
        ({"seed": 1.5}, "seed must be a whole number"),
        ({"lr": 0.0}, "lr must be a finite number > 0, got 0.0"),
        ({"lr": -1e-3}, "lr must be a finite number > 0"),
        ({"lr": float("nan")}, "lr must be a finite number > 0, got nan"),
        ({"poly_power": -0.9}, "poly_power must be a finite number ≥ 0"),
        ({"weight_decay": float("inf")}, "weight_decay must be a finite number ≥ 0"),
        ({"max_minutes": "30m"}, "max_minutes must be a finite number > 0, got '30m'"),
        ({"max_minutes": 0}, "max_minutes must be a finite number > 0, got 0"),
    ],
)
def test_a_training_recipe_that_cannot_train_is_refused_before_any_work(change, words):
    """Checked when the config is made, not at the first step (after a feature cache that may
    take half an hour, or with a traceback: "30m" × 60 is a string)."""
    with pytest.raises(ValueError, match=re.escape(words)):
        TrainConfig(**change)
    assert TrainConfig(max_minutes=None).max_minutes is None  # no budget is the default
    assert TrainConfig(max_minutes=90, weight_decay=0, poly_power=0).max_minutes == 90
