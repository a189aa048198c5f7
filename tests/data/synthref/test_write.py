"""Writing SynthRef: determinism (same seed, same bytes, any number of workers), split sizes,
the refer-format round trip, and the CLI's refusal to overwrite (docs/design.md §4)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tvnet.cli import main as cli_main
from tvnet.data.refer import open_refer
from tvnet.data.synthref import generate


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_serial_or_parallel(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, seed=11, train=30, val=12, test=12, workers=1, progress=False)
    generate(b, seed=11, train=30, val=12, test=12, workers=2, progress=False)
    generate(c, seed=12, train=30, val=12, test=12, workers=1, progress=False)
    da, db, dc = _tree_digest(a), _tree_digest(b), _tree_digest(c)
    assert len(da) > 10 and da == db
    assert da["instances.json"] != dc["instances.json"]
    # no leftover temporary folders next to the outputs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "c"]


def test_split_sizes_are_expression_counts(synth_dir: Path) -> None:
    ds = open_refer(synth_dir)
    assert (ds.name, ds.split_by) == ("synthref", "synth")
    assert ds.splits() == ["train", "val", "test"]
    assert [len(ds.samples(s)) for s in ds.splits()] == [120, 200, 200]
    per_scene: dict[int, int] = {}
    for s in ds.samples("val") + ds.samples("test"):
        per_scene[s.image_id] = per_scene.get(s.image_id, 0) + 1
    assert set(per_scene.values()) <= {1, 2, 3} and len(set(per_scene.values())) > 1


def test_cli_refuses_to_overwrite_and_prints_stats(
    synth_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["synth", str(synth_dir), "--quiet"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert cli_main(["synth", str(synth_dir), "--stats"]) == 0
    out = capsys.readouterr().out
    assert "| expressions (samples) | 120 | 200 | 200 |" in out


def test_generate_rejects_bad_sizes(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path / "x", train=0, val=0, test=0, workers=1, progress=False)
    with pytest.raises(ValueError):
        generate(tmp_path / "x", train=-1, workers=1, progress=False)
    assert not (tmp_path / "x").exists()


def test_overwrite_through_a_link_replaces_its_target_whole(tmp_path: Path) -> None:
    target = tmp_path / "datasets" / "synthref-v1"
    generate(target, seed=3, train=6, val=3, test=3, workers=1, progress=False)
    (target / "images" / "stale.png").write_bytes(b"not part of the new dataset")
    (tmp_path / "synthref").symlink_to(target)
    generate(tmp_path / "synthref", seed=4, train=6, val=3, test=3, workers=1, progress=False,
             overwrite=True)  # fmt: skip
    fresh = tmp_path / "fresh"
    generate(fresh, seed=4, train=6, val=3, test=3, workers=1, progress=False)
    assert (tmp_path / "synthref").is_symlink()
    assert _tree_digest(target) == _tree_digest(fresh)  # the new one whole, nothing of the old
    assert sorted(p.name for p in target.parent.iterdir()) == ["synthref-v1"]


def test_overwrite_refuses_what_is_not_a_synthref(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("the user's")
    (tmp_path / "file").write_text("the user's too")
    for out in (mine, tmp_path / "file"):
        with pytest.raises(FileExistsError):
            generate(out, seed=3, train=6, val=3, test=3, workers=1, progress=False,
                     overwrite=True)  # fmt: skip
    assert (mine / "thesis.tex").read_text() == "the user's"
    assert (tmp_path / "file").read_text() == "the user's too"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "mine"]  # no temp left
