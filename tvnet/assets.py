"""Where the embedded default lives (``assets/`` at the repository root)."""

from __future__ import annotations

import os
from pathlib import Path

from tvnet.config import CHECKPOINT_CONFIG

ROOT = Path(os.environ.get("TVNET_ASSETS", Path(__file__).resolve().parent.parent / "assets"))


DEFAULT_MODEL = "full-480k"  # the code's one mention of it (tvnet predict's help reads it)


def default_checkpoint() -> Path:
    """The bundled default model, ``assets/checkpoints/`` + :data:`DEFAULT_MODEL`: Table 1's
    ``full`` with the ``cpu`` recipe (docs/design.md §6) when it is there, else Table 1's
    ``full`` at 72k (``assets/checkpoints/full``, which ``TRAIN_SIZE=30000 STEPS=9000 bash
    tools/build_default.sh`` rebuilds)."""
    main = ROOT / "checkpoints" / DEFAULT_MODEL
    return main if (main / CHECKPOINT_CONFIG).is_file() else ROOT / "checkpoints" / "full"


def default_assets() -> dict[str, Path]:
    """The bundled assets' folders (under ``$TVNET_ASSETS`` when set, else the repository's
    ``assets/``): the default checkpoint, all checkpoints, the pool, the examples, the dumps.
    The demo and the dashboard read their defaults here."""
    return {
        "checkpoint": default_checkpoint(),
        "checkpoints": ROOT / "checkpoints",
        "pool": ROOT / "pool",
        "examples": ROOT / "examples",
        "dumps": ROOT / "dumps",
    }
