"""Data flows one way (docs/design.md §8): data → retrieval → loader → model → eval → train →
inference → cli, and no package imports one after it. What several share (weights, BatchNorm
folding, the ONNX runtime, a run's record) sits beside them at the package's top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tvnet

ORDER = ("data", "retrieval", "loader", "model", "eval", "train", "inference", "cli")
LATER = {p: tuple(f"tvnet.{q}" for q in ORDER[i + 1 :]) for i, p in enumerate(ORDER[:-1])}


def _imports(path: Path) -> list[str]:
    """Every absolute import in ``path``, at any depth (a function's lazy import counts)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return names


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def later_imports(package: str) -> set[str]:
    root = Path(tvnet.__file__).parent / package
    return {
        f"{f.name}: {name}"
        for f in sorted(root.rglob("*.py"))
        for name in _imports(f)
        if _within(name, LATER[package])
    }


@pytest.mark.parametrize("package", sorted(LATER))
def test_a_layer_imports_no_later_one(package):
    bad = later_imports(package)
    assert not bad, f"tvnet/{package} imports a later layer: {sorted(bad)}"


def test_the_check_sees_a_lazy_import(tmp_path):
    """The walk finds an import inside a function, as the model's lazy ones were."""
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from tvnet.inference.predictor import Predictor\n")
    assert _within("tvnet.inference.predictor.Predictor", LATER["model"])
    assert "tvnet.inference.predictor" in _imports(f)
