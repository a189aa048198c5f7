"""The apps use the package only through its public API (``tvnet.__all__``)."""

from __future__ import annotations

import ast
from pathlib import Path

import tvnet

REPO = Path(__file__).resolve().parents[2]
APPS = sorted((REPO / "apps").rglob("*.py"))


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


def test_both_apps_take_their_default_assets_from_tvnet_assets_env(tmp_path):
    """$TVNET_ASSETS moves the demo's examples and the dashboard's dumps with the Predictor's
    checkpoint and pool: one source (tvnet.default_assets), read in a fresh process."""
    import os
    import subprocess
    import sys

    probe = (
        "import tvnet, apps.demo.layout as layout, apps.dashboard.app as dashboard\n"
        "a = tvnet.default_assets()\n"
        "print(a['dumps']); print(a['checkpoints']); print(layout.EXAMPLES)\n"
        "print(dashboard.DEFAULT_DUMPS)\n"
    )
    env = {**os.environ, "TVNET_ASSETS": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    names = ("dumps", "checkpoints", "examples", "dumps")  # the last: the dashboard's default
    assert out.stdout.split() == [str(tmp_path / p) for p in names]
