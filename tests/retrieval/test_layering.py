"""tvnet/retrieval sits below the model, training, evaluation and the Predictor
(docs/design.md §8): none of its modules imports those layers."""

from __future__ import annotations

import ast
from pathlib import Path

import tvnet.retrieval

HIGHER = ("tvnet.train", "tvnet.eval", "tvnet.engine", "tvnet.inference", "tvnet.predictor")
# Leaves that only make a frozen network fast (no dependency on the Predictor): the backbone
# and the retrieval encoders share them (tvnet/inference/__init__.py).
LEAVES = ("tvnet.inference.folding", "tvnet.inference.runtime")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return names


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_retrieval_imports_no_higher_layer():
    root = Path(tvnet.retrieval.__file__).parent
    bad = {
        f"{f.name}: {name}"
        for f in sorted(root.glob("*.py"))
        for name in _imports(f)
        if _within(name, HIGHER) and not _within(name, LEAVES)
    }
    assert not bad, f"tvnet/retrieval imports a higher layer: {sorted(bad)}"
