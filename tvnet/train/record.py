"""What a checkpoint records of how long it trained and where: each run's steps, wall time,
processor, threads and precision, summed over resumed runs (docs/design.md §6, "Training
time"). ``tvnet train`` writes it into every checkpoint's config.json as ``training_time``;
:func:`summary` (``tvnet.training_time_summary``) says it in a line. Imports torch only when
called."""

from __future__ import annotations

import platform
from typing import Any


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def processor(device: str) -> str:
    """The GPU's name, or the CPU's model name."""
    import torch

    if torch.device(device).type == "cuda":
        return torch.cuda.get_device_name(torch.device(device))
    return cpu_model()


def machine(device: str, amp: bool, world_size: int) -> dict[str, Any]:
    import torch

    from tvnet.amp import precision

    return {
        "device": str(device),
        "processor": processor(device),
        "threads": torch.get_num_threads(),
        "precision": precision(device, amp),  # what autocast_context runs in
        "world_size": world_size,
    }


def training_time(earlier: dict[str, Any] | None, run: dict[str, Any]) -> dict[str, Any]:
    """``earlier``'s runs (the resumed checkpoint's record; None from scratch) and ``run``
    (``from_step``, ``to_step``, ``wall_s``, ``batch_size`` and :func:`machine`'s fields),
    with their totals: wall seconds, samples and samples per second."""
    runs = [*(earlier or {}).get("runs", []), run]
    wall = sum(float(r["wall_s"]) for r in runs)
    samples = sum((int(r["to_step"]) - int(r["from_step"])) * int(r["batch_size"]) for r in runs)
    return {
        "runs": runs,
        "wall_s": wall,
        "samples": samples,
        "samples_per_s": samples / wall if wall > 0 else None,
    }


def summary(record: Any) -> str:
    """One line: "57 min at 46.8 samples/s, AMD EPYC, bf16 autocast" ("" without a record, or
    with one it cannot read: a damaged run.json must not stop a page that lists it; the
    processors and precisions of all runs when they differ; "steps 400–20,000: …" when the
    first recorded run did not start at step 0)."""
    try:
        return _summary(record)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError):
        return ""


def _summary(record: Any) -> str:
    if not isinstance(record, dict) or not record.get("runs"):
        return ""

    def kinds(key: str) -> str:
        return " / ".join(dict.fromkeys(str(r.get(key, "?")) for r in record["runs"]))

    rate = record.get("samples_per_s")
    first, last = record["runs"][0].get("from_step", 0), record["runs"][-1].get("to_step")
    # resumed from a checkpoint written before the record existed: say what it covers
    covers = f"steps {first:,}–{last:,}: " if first and last else ""
    return (
        covers
        + f"{record['wall_s'] / 60:.0f} min"
        + (f" at {rate:.1f} samples/s" if rate else "")
        + f", {kinds('processor')}, {kinds('precision')}"
    )
