"""The apps use the package only through its public API (``tvnet.__all__``)."""

from __future__ import annotations

import ast
from pathlib import Path

import tvnet

APPS = sorted((Path(__file__).resolve().parents[2] / "apps").rglob("*.py"))


def _tvnet_imports(path: Path) -> list[tuple[str, list[str]]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "tvnet":
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.split(".")[0] == "tvnet"]
    return found


def test_apps_import_only_the_public_api():
    assert APPS, "no apps found"
    for path in APPS:
        for module, names in _tvnet_imports(path):
            assert module == "tvnet", f"{path} imports {module}, not the public tvnet API"
            assert set(names) <= set(tvnet.__all__), f"{path}: {names}"


def test_every_public_name_resolves():
    for name in tvnet.__all__:
        assert getattr(tvnet, name) is not None, name
