"""The SynthRef data card matches the written files (docs/design.md §4)."""

from __future__ import annotations

import json
from pathlib import Path

from tvnet.data.synthref import synth_stats
from tvnet.data.tokenize import tokenize


def test_stats_match_the_files(synth_dir: Path) -> None:
    st = synth_stats(synth_dir)
    val = st["splits"]["val"]
    assert val["samples"] == 200
    assert abs(sum(val["size_bins"].values()) - 1) < 1e-3
    assert abs(sum(val["expression_types"].values()) - 1) < 1e-3
    assert sum(val["objects_per_scene"].values()) == val["scenes"]
    assert set(val["objects_per_scene"]) <= {str(k) for k in range(2, 9)}
    words = {
        t
        for r in json.loads((synth_dir / "refs(synth).json").read_text())
        for s in r["sentences"]
        for t in tokenize(s["raw"])
    }
    assert st["vocabulary_size"] == len(words)


def test_a_folder_that_is_not_synthref_is_named_not_a_traceback(tmp_path: Path, capsys) -> None:
    """`tvnet synth DIR --stats` on a refer-format folder of another layout (valid JSON, other
    fields): a message naming the folder, exit code 2."""
    from tvnet.cli import main

    (tmp_path / "instances.json").write_text("{}")
    (tmp_path / "refs(synth).json").write_text("[]")
    assert main(["synth", str(tmp_path), "--stats"]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path} is not a SynthRef dataset" in err
    assert "already exists" not in err and "Traceback" not in err


def test_stats_on_a_folder_without_a_dataset_says_so(tmp_path: Path, capsys) -> None:
    """An existing folder with no instances.json: --stats was asked for, so the message must
    not suggest it; nothing is generated there."""
    from tvnet.cli import main

    (tmp_path / "mine.txt").write_text("x")
    assert main(["synth", str(tmp_path), "--stats"]) == 2
    err = capsys.readouterr().err
    assert "holds no dataset to describe (no instances.json)" in err and "--stats" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]
