"""A SynthRef written once for the tests of tvnet/data/synthref/ (seed 3: 120/200/200)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tvnet.data.synthref import generate


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "synthref"
    generate(out, seed=3, train=120, val=200, test=200, workers=1, progress=False)
    return out
