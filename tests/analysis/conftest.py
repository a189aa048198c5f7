"""Fixtures: hand-made dumps with known numbers (see tests/dumps_fixture.py)."""

from __future__ import annotations

import pytest
from dumps_fixture import make_dump_tree  # tests/ is on sys.path (tests/conftest.py)

from tvnet.eval.dump import load_dumps


@pytest.fixture(scope="session")
def dump_root(tmp_path_factory):
    """root/{full_val, baseline_val, full_test}, images in root/../data."""
    return make_dump_tree(tmp_path_factory.mktemp("hand") / "dumps")


@pytest.fixture(scope="session")
def hand_dumps(dump_root):
    dumps, errors = load_dumps(dump_root)
    assert errors == []
    return dumps


@pytest.fixture()
def samples(hand_dumps):
    from analysis.tables import concat_samples

    return concat_samples(hand_dumps)
