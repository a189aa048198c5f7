"""Data flows one way (docs/design.md §8): data → retrieval → loader → model → eval → train →
inference → cli, and no package imports one after it. What several share (weights, BatchNorm
folding, the ONNX runtime, a run's record) sits beside them at the package's top."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import tvnet

ORDER = ("data", "retrieval", "loader", "model", "eval", "train", "inference", "cli")
LATER = {p: tuple(f"tvnet.{q}" for q in ORDER[i + 1 :]) for i, p in enumerate(ORDER[:-1])}
# the modules at the package's top (tvnet/__init__.py): below every layer, or above the model
BELOW_ALL = ("amp", "assets", "config", "draw", "folding", "image", "io", "record", "runtime",
             "weights")  # fmt: skip
ABOVE_MODEL = ("checkpoint", "warmstart")
SHARED = {m: tuple(f"tvnet.{q}" for q in ORDER) for m in BELOW_ALL} | {
    m: LATER["model"] for m in ABOVE_MODEL
}


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


def _home(name: str) -> str:
    """``tvnet.NAME`` of the package's lazy public names (``from tvnet import Predictor``) →
    the module that defines it (``tvnet.inference.…``); any other name as it is."""
    head, _, attr = name.partition(".")
    if head != "tvnet" or "." in attr or not attr:
        return name
    if (Path(tvnet.__file__).parent / f"{attr}.py").is_file():
        return name  # a top-level module
    obj = getattr(tvnet, attr, None)
    if obj is None:
        return name
    if getattr(obj, "__module__", None):
        return f"{obj.__module__}.{attr}"
    for mod_name, mod in list(sys.modules.items()):  # a constant: the module holding it
        if mod_name.startswith("tvnet.") and getattr(mod, attr, None) is obj:
            return f"{mod_name}.{attr}"
    return name


def later_imports(package: str) -> set[str]:
    """What ``tvnet/<package>`` (a layer, or a top-level module) imports of the layers it
    must not import."""
    root = Path(tvnet.__file__).parent
    files = (
        [root / f"{package}.py"] if package in SHARED else sorted((root / package).rglob("*.py"))
    )
    later = SHARED.get(package) or LATER[package]
    return {
        f"{f.name}: {name}" for f in files for name in _imports(f) if _within(_home(name), later)
    }


@pytest.mark.parametrize("package", sorted(LATER) + sorted(SHARED))
def test_a_layer_imports_no_later_one(package):
    bad = later_imports(package)
    assert not bad, f"tvnet/{package} imports a later layer: {sorted(bad)}"


def test_every_top_level_module_has_a_place():
    """A new module at the package's top is placed in BELOW_ALL or ABOVE_MODEL, so that the
    check above reads it."""
    top = {p.stem for p in Path(tvnet.__file__).parent.glob("*.py")} - {"__init__", "__main__"}
    assert top == set(SHARED)


def test_the_check_sees_a_lazy_import(tmp_path):
    """The walk finds an import inside a function, as the model's lazy ones were."""
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from tvnet.inference.predictor import Predictor\n")
    assert _within("tvnet.inference.predictor.Predictor", LATER["model"])
    assert "tvnet.inference.predictor" in _imports(f)
    # the package's lazy names are read where they live: Predictor is the inference layer's,
    # a constant too; a module at the top is itself
    assert _within(_home("tvnet.Predictor"), LATER["model"])
    assert _within(_home("tvnet.CONFIDENT"), LATER["model"])
    assert not _within(_home("tvnet.build_model"), LATER["model"])
    assert _home("tvnet.record") == "tvnet.record"
