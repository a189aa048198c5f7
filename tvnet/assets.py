"""Where the embedded default lives (``assets/`` at the repository root)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(os.environ.get("TVNET_ASSETS", Path(__file__).resolve().parent.parent / "assets"))


def default_assets() -> dict[str, Path]:
    return {
        "checkpoint": ROOT / "checkpoints" / "full",
        "checkpoints": ROOT / "checkpoints",
        "pool": ROOT / "pool",
        "examples": ROOT / "examples",
        "dumps": ROOT / "dumps",
    }


def default_checkpoint(variant: str = "full") -> Path:
    return ROOT / "checkpoints" / variant
