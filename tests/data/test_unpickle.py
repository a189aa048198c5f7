"""The restricted unpickler admits builtin containers and scalars and nothing else."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from tvnet.data.unpickle import UnsafePickleError, safe_load, safe_loads


class _RunsShell:
    """What a malicious refs file would hold: unpickling it runs a shell command."""

    def __init__(self, cmd: str):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


REFS_LIKE = [
    {
        "ref_id": 7,
        "ann_id": 70,
        "image_id": 3,
        "split": "testA",
        "sent_ids": [1, 2],
        "sentences": [
            {"sent_id": 1, "tokens": ["man", "left"], "raw": "Man left.", "sent": "man left"}
        ],
        "bbox": (1.5, 2.0, 30.25, 40.0),
        "extra": {frozenset({1, 2}), None, True, b"\x00\xff", 2**70, -0.5, 1 + 2j},
    }
]


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_builtin_containers_round_trip(protocol: int) -> None:
    data = pickle.dumps(REFS_LIKE, protocol=protocol)
    assert safe_loads(data) == REFS_LIKE


def test_malicious_pickle_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    data = pickle.dumps([{"ref_id": 1}, _RunsShell(f"touch {marker}")], protocol=2)
    with pytest.raises(UnsafePickleError, match=r"(posix|os)\.system") as e:
        safe_loads(data, source="refs(unc).p")
    assert "refs(unc).p" in str(e.value) and "builtin containers" in str(e.value)
    assert not marker.exists()
    # the control: plain pickle would have run it
    pickle.loads(data)
    assert marker.exists()


@pytest.mark.parametrize(
    "payload",
    [
        b"cbuiltins\neval\n(S'1+1'\ntR.",  # a builtins name that is not a container
        b"c__builtin__\ngetattr\n(S'x'\nS'y'\ntR.",  # Python 2 module name, mapped
        b"ccollections\nOrderedDict\n)R.",  # a container outside builtins
        b"csubprocess\ncheck_output\n((S'id'\nltR.",
        b"c_codecs\nencode\n(S'x'\nS'rot13'\ntR.",  # only the latin1 bytes form is allowed
    ],
)
def test_other_globals_are_refused(payload: bytes) -> None:
    with pytest.raises(UnsafePickleError):
        safe_loads(payload)


def test_python2_byte_strings_become_text() -> None:
    # what Python 2's pickle.dumps([{'ref_id': 1, 'split': 'train', 'raw': 'caf\xc3\xa9'}], 2)
    # writes: SHORT_BINSTRING opcodes, UTF-8 bytes
    py2 = b"\x80\x02]q\x00}q\x01(U\x06ref_idq\x02K\x01U\x05splitq\x03U\x05trainq\x04U\x03rawq\x05U\x05caf\xc3\xa9q\x06ua."
    assert safe_loads(py2) == [{"ref_id": 1, "split": "train", "raw": "café"}]
    latin1 = py2.replace(b"U\x05caf\xc3\xa9", b"U\x04caf\xe9")  # not valid UTF-8
    assert safe_loads(latin1)[0]["raw"] == "café"


def test_safe_load_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing.p"):
        safe_load(tmp_path / "missing.p")
    bad = tmp_path / "truncated.p"
    bad.write_bytes(pickle.dumps(REFS_LIKE, protocol=2)[:20])
    with pytest.raises(ValueError, match="truncated.p"):
        safe_load(bad)
    good = tmp_path / "refs(unc).p"
    good.write_bytes(pickle.dumps(REFS_LIKE, protocol=2))
    assert safe_load(good) == REFS_LIKE


def test_a_memo_index_in_the_billions_costs_no_memory(tmp_path: Path) -> None:
    """A damaged file whose LONG_BINPUT names memo slot 2^31 − 1 (12 bytes): the C unpickler
    grows its memo table to that index (≈ 32 GB) and dies; this one reads it within a 1 GB
    address space, and a damaged length reads as a damaged file, naming it."""
    import subprocess
    import sys

    bombs = {"memo.p": b"\x80\x04]r\xff\xff\xff\x7f.", "length.p": b"\x80\x04X\xff\xff\xff\x7f"}
    for name, data in bombs.items():
        (tmp_path / name).write_bytes(data)
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from tvnet.data.unpickle import safe_load\n"
        "print(safe_load(sys.argv[1]))\n"
        "try:\n"
        "    safe_load(sys.argv[2])\n"
        "except ValueError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "memo.p"), str(tmp_path / "length.p")],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    first, second = out.stdout.splitlines()
    assert first == "[]"
    assert "length.p is not a readable pickle" in second
