"""A restricted unpickler for the refer-format ``refs(SPLITBY).p`` files (docs/design.md §4).

``pickle.load`` runs whatever a pickle asks for, so a downloaded ``.p`` file could execute
code. The refer pickles only hold lists, dicts, strings and numbers; this unpickler admits
exactly the builtin containers and scalars and refuses every other global with
:class:`UnsafePickleError`.

It is the pure-Python unpickler (``pickle._Unpickler``), not the C one: the C unpickler grows
its memo table to whatever index a ``LONG_BINPUT`` names, so a damaged 12-byte file asked for
2–32 GB (one random byte flip in a hundred of a real refs file did); the Python one keeps its
memo in a dict. It is about 3× slower (0.8 against 0.3 s for 50,000 refs, 7.6 MB).
"""

from __future__ import annotations

import _compat_pickle
import io
import os
import pickle
import struct
from pathlib import Path
from typing import IO, Any

# Builtin containers and scalars. Only names that a pickle *needs* as globals are listed
# (lists, dicts, str, int, float and tuples have their own opcodes); calling any of these
# with pickled arguments cannot reach the file system, a subprocess or eval.
_ALLOWED: frozenset[tuple[str, str]] = frozenset(
    ("builtins", name)
    for name in (
        "dict",
        "list",
        "tuple",
        "set",
        "frozenset",
        "str",
        "bytes",
        "bytearray",
        "int",
        "float",
        "complex",
        "bool",
    )
)


def _bytes_from_latin1(text: str, encoding: str = "latin1") -> bytes:
    """What Python 3 writes for ``bytes`` at protocol ≤ 2 (``_codecs.encode(s, 'latin1')``)."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError(f"unexpected _codecs.encode({type(text).__name__}, {encoding!r})")
    return text.encode("latin1")


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """The pickle asked for a global outside the builtin containers and scalars."""


class RestrictedUnpickler(pickle._Unpickler):  # the Python one: see the module docstring
    """An unpickler that resolves only builtin containers and scalars."""

    def __init__(self, file: IO[bytes], *, encoding: str = "utf-8", source: str = "pickle"):
        # Python 2 pickles (the original refer files) map __builtin__ → builtins by default.
        super().__init__(file, fix_imports=True, encoding=encoding, errors="strict")
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        # Python 2 names (__builtin__.unicode, __builtin__.set, …) as the default would map them
        mapped = _compat_pickle.NAME_MAPPING.get((module, name))
        if mapped is None:
            mapped = (_compat_pickle.IMPORT_MAPPING.get(module, module), name)
        if mapped in _ALLOWED:
            return super().find_class(module, name)
        if mapped == ("_codecs", "encode"):
            return _bytes_from_latin1
        raise UnsafePickleError(
            f"refusing to unpickle {self._source}: it asks for {module}.{name}, but only "
            "builtin containers and scalars (dict, list, tuple, set, str, bytes, int, float, "
            "bool) are allowed. A refer-format refs file never needs anything else; this file "
            "may be corrupt or malicious."
        )

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(
            f"refusing to unpickle {self._source}: persistent ids are not allowed"
        )


def safe_loads(data: bytes, source: str = "pickle") -> Any:
    """Unpickle ``data`` admitting only builtin containers and scalars.

    Python 2 byte strings are decoded as UTF-8, falling back to Latin-1 when that fails.
    """
    try:
        return RestrictedUnpickler(io.BytesIO(data), encoding="utf-8", source=source).load()
    except UnicodeDecodeError:
        return RestrictedUnpickler(io.BytesIO(data), encoding="latin1", source=source).load()


def safe_load(path: str | os.PathLike) -> Any:
    """Read a pickle file through :class:`RestrictedUnpickler` (see :func:`safe_loads`)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"pickle file not found: {path}")
    data = path.read_bytes()
    try:
        return safe_loads(data, source=str(path))
    except UnsafePickleError:
        raise
    except (
        pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, KeyError,
        IndexError, MemoryError, OverflowError, RecursionError, struct.error,
    ) as e:  # fmt: skip
        raise ValueError(f"{path} is not a readable pickle: {type(e).__name__}: {e}") from e
