"""Where a model's weights started: warm starts, grown models and their lineage (docs/design.md §6).

``tvnet train --init CKPT`` starts a run from another checkpoint's weights. The run records
where they came from in an ``init`` record, kept in its ``run.json`` and in every checkpoint it
writes (``config.json``)::

    {"checkpoint": path, "variant": V, "step": N, "data": {...}, "batch_size": B,
     "grown_from": V,   # only when V is a smaller variant grown into the run's (tvnet.model.grow)
     "init": {...}}     # where *those* weights started: None from scratch, else the same record

so a chain of warm starts keeps its whole history. Evaluation copies the record into a dump's
``run.json`` (analysis keeps such runs apart from runs from scratch: :func:`start_label`), the
Predictor into its ``info`` (the demo tells it: :func:`lineage`).

Everything that reads or writes these records goes through here. Importing this module does
not import torch (reading a dump asks for :func:`start_label`); the functions that open a
checkpoint import it when called.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from tvnet.config import ModelConfig

__all__ = [
    "checkpoint_init",
    "run_init",
    "init_record",
    "load_init",
    "lineage",
    "start_label",
    "training_budget",
    "training_schedule",
]


def run_init(run_dir: str | Path) -> dict[str, Any] | None:
    """The ``init`` record of the run folder ``run_dir`` (its ``run.json``); None when the run
    started from scratch or there is no readable ``run.json``."""
    run = Path(run_dir) / "run.json"
    try:
        return json.loads(run.read_text()).get("init") if run.is_file() else None
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return None


def checkpoint_init(path: str | Path, meta: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Where the weights of the checkpoint at ``path`` started (``tvnet train --init``): its
    config's ``init`` record (``meta``: the config, read from ``path`` if not given), nested
    through a chain of warm starts; None from scratch. Checkpoints written before the record
    was kept there fall back to their run's run.json (``RUN/last`` → ``RUN/run.json``)."""
    path = Path(path)
    if meta is None:
        from tvnet.checkpoint import read_checkpoint_config

        meta = read_checkpoint_config(path)
    if "init" in meta:
        return meta["init"]
    return run_init(path.parent)


def init_record(path: str | Path, variant: str, adapter: int = 0) -> dict[str, Any]:
    """The ``init`` record of a ``variant`` run started from the checkpoint at ``path``: the
    checkpoint, its variant, step, data and batch size, ``grown_from`` when its variant is
    not ``variant``, ``adapter_added`` (the width) when the run has a visual ``adapter`` and
    the checkpoint none, and (``init``) where *its* weights came from."""
    from tvnet.checkpoint import read_checkpoint_config

    meta = read_checkpoint_config(Path(path))
    record = {
        "checkpoint": str(Path(path).resolve()),
        "variant": (meta.get("model") or {}).get("variant"),
        "step": meta.get("step"),
        "data": meta.get("data"),
        "batch_size": (meta.get("train") or {}).get("batch_size"),
        "init": checkpoint_init(path, meta),
    }
    if record["variant"] != variant:
        record["grown_from"] = record["variant"]
    if adapter and not (meta.get("model") or {}).get("visual_adapter"):
        record["adapter_added"] = adapter
    return record


def load_init(
    path: str | Path, model_cfg: ModelConfig, device: str | torch.device = "cpu"
) -> torch.nn.Module:
    """The checkpoint at ``path`` as the start of a ``model_cfg`` run: as it is when its config
    is ``model_cfg``; grown (:func:`tvnet.model.grow.grow`) when it is a smaller variant of it,
    and given a visual adapter (:func:`~tvnet.model.grow.add_adapter`) when ``model_cfg`` has
    one and it has none.
    :class:`~tvnet.checkpoint.CheckpointError` for anything else."""
    from tvnet.checkpoint import CheckpointError, load_checkpoint, read_checkpoint_config
    from tvnet.config import VARIANTS
    from tvnet.model.grow import add_adapter, can_grow, grow, growth_targets

    recorded = read_checkpoint_config(Path(path)).get("model") or {}
    if model_cfg.visual_adapter and not recorded.get("visual_adapter"):
        # a network without a visual adapter grows one that starts as the identity
        base = load_init(path, model_cfg.replace(visual_adapter=0), device)
        return add_adapter(base, model_cfg.visual_adapter).to(device)
    source = recorded.get("variant")
    if source in VARIANTS and source != model_cfg.variant:
        if not can_grow(source, model_cfg.variant):
            raise CheckpointError(
                f"checkpoint {path} is a {source!r} network and cannot start a "
                f"{model_cfg.variant!r} run: a checkpoint starts a run of its own variant or "
                f"grows into a larger one ({source!r} → {growth_targets(source) or 'none'})"
            )
        return grow(
            load_checkpoint(path, expect=model_cfg.replace(variant=source)), model_cfg.variant
        ).to(device)
    return load_checkpoint(path, expect=model_cfg, device=device)


def lineage(init: dict[str, Any] | None, variant: str) -> tuple[int, int, str | None]:
    """(runs, steps, grown_from) of a warm start's ``init`` record: how many earlier runs and
    steps its weights went through, and the first variant along the chain that is not
    ``variant`` (the network it was grown from), or None."""
    runs = steps = 0
    grown_from = None
    for r in _chain(init):
        runs += 1
        steps += recorded_count(r.get("step")) or 0  # load_dump refuses a damaged one
        if grown_from is None and r.get("variant") not in (None, variant):
            grown_from = str(r["variant"])
    return runs, steps, grown_from


def _chain(init: dict[str, Any] | None):
    """The ``init`` records of a warm start, newest first (each one's ``init`` the next)."""
    r: Any = init
    while isinstance(r, dict):
        yield r
        r = r.get("init")


def start_label(init: dict[str, Any] | None, variant: str) -> str:
    """How a run's weights started, for tables: ``""`` from scratch, ``"grown from V"``, or
    ``"warm start"`` (continued from a checkpoint of the same variant); ``", adapter added"``
    follows when a visual adapter was grown onto the network somewhere along the chain."""
    runs, _, grown_from = lineage(init, variant)
    if not runs:
        return ""
    label = f"grown from {grown_from}" if grown_from else "warm start"
    added = any(r.get("adapter_added") for r in _chain(init))
    return f"{label}, adapter added" if added else label


def recorded_count(v: Any) -> int | None:
    """A count as a run.json records it (9000, 9000.0, "9000"), else None (missing, damaged,
    or a bool, which is no count)."""
    if v is None or isinstance(v, bool):
        return None
    try:
        return int(v)
    except (TypeError, ValueError, OverflowError):  # OverflowError: Infinity, which json reads
        return None


def training_budget(run: dict[str, Any]) -> int | None:
    """Training samples the evaluated weights saw: the ``step`` the checkpoint reached (else
    ``train.steps``) × ``train.batch_size`` of a dump's ``run.json``, plus ``step ×
    batch_size`` of every warm start along its ``init`` chain (docs/design.md §8, "The variant
    diff pairs equal training budgets"); None when the run does not record its training."""
    train = run.get("train") if isinstance(run.get("train"), dict) else {}
    steps = recorded_count(run.get("step")) or recorded_count(train.get("steps"))
    batch = recorded_count(train.get("batch_size"))
    if not steps or not batch:
        return None
    init = run.get("init")
    return steps * batch + sum(
        (recorded_count(r.get("step")) or 0) * (recorded_count(r.get("batch_size")) or batch)
        for r in _chain(init if isinstance(init, dict) else None)
    )


def training_schedule(run: dict[str, Any]) -> str:
    """A dump's training schedule in words: ``"4,000 × 8"``, or ``"3,000 × 8 after 17,000 × 8
    (warm start)"`` when its weights went through warm starts (the steps of its ``init``
    chain); ``""`` when not recorded."""
    train = run.get("train") if isinstance(run.get("train"), dict) else {}
    steps, batch = recorded_count(train.get("steps")), recorded_count(train.get("batch_size"))
    if not steps or not batch:
        return ""
    init = run.get("init")
    chain = list(_chain(init if isinstance(init, dict) else None))
    before = sum(recorded_count(r.get("step")) or 0 for r in chain)
    b0 = (
        recorded_count(chain[0].get("batch_size")) if chain else None
    ) or batch  # as training_budget
    text = f"{steps:,} × {batch}"
    return f"{text} after {before:,} × {b0} (warm start)" if before else text
