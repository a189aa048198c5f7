"""``tvnet --help`` and every ``tvnet <command> --help`` answer without importing torch (the
imports that take seconds happen inside each command's ``func``)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "torchvision", "timm", "transformers", "onnxruntime")

EVERY_HELP = """
import argparse, contextlib, io, sys

from tvnet.cli import build_parser, main

def commands(parser, prefix=()):
    yield prefix
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from commands(sub, (*prefix, name))

cmds = list(commands(build_parser()))
for cmd in cmds:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            main([*cmd, "--help"])
        except SystemExit as e:
            assert e.code == 0, (cmd, e.code)
    assert out.getvalue().startswith("usage: tvnet"), cmd
print(len(cmds), " ".join(sorted({m.split(".")[0] for m in sys.modules})))
"""


def _run(*args: str) -> subprocess.CompletedProcess:
    r = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert r.returncode == 0, r.stderr
    return r


def test_no_help_imports_torch():
    count, modules = _run("-c", EVERY_HELP).stdout.split(" ", 1)
    assert int(count) >= 8  # tvnet, its six commands, pool build / neighbours
    assert not set(HEAVY) & set(modules.split())


MODULE_HELP = """
import runpy, sys

sys.argv = ["tvnet", "eval", "--help"]
try:
    runpy.run_module("tvnet", run_name="__main__", alter_sys=True)  # = python -m tvnet eval --help
except SystemExit as e:
    assert e.code == 0, e.code
print(" ".join(sorted({m.split(".")[0] for m in sys.modules})), file=sys.stderr)
"""


def test_python_m_tvnet_eval_help_imports_no_torch():
    r = _run("-c", MODULE_HELP)
    assert r.stdout.startswith("usage: tvnet eval")
    assert "tvnet" in r.stderr.split()
    assert not set(HEAVY) & set(r.stderr.split())


def test_every_option_says_what_it_does_and_counts_must_be_positive():
    import argparse

    import pytest

    from tvnet.cli import build_parser, main

    def parsers(parser, prefix=()):
        yield prefix, parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from parsers(sub, (*prefix, name))

    silent = [
        (" ".join(cmd), a.option_strings[0])
        for cmd, p in parsers(build_parser())
        for a in p._actions
        if a.option_strings
        and not isinstance(a, argparse._HelpAction | argparse._VersionAction)
        and not a.help
    ]
    assert silent == []
    for argv in (
        ["eval", "--checkpoint", "c", "--data", "d", "--split", "val", "--batch-size", "0"],
        ["eval", "--checkpoint", "c", "--data", "d", "--split", "val", "--limit", "-3"],
        ["train", "--variant", "full", "--data", "d", "--out", "o", "--checkpoint-every", "0"],
        ["train", "--variant", "full", "--data", "d", "--out", "o", "--steps", "x"],
    ):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2, argv
