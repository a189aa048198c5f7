"""What a checkpoint records of how long it trained and where: each run's steps, wall time,
the part of it the process spent suspended (:class:`StallClock`), processor, threads and
precision, summed over resumed runs (docs/design.md §6, "Training time"). ``tvnet train``
writes it into every checkpoint's config.json as ``training_time``; :func:`summary`
(``tvnet.training_time_summary``) says it in a line. Imports torch only when called."""

from __future__ import annotations

import platform
from typing import Any


def cpu_model(cpuinfo: str | None = None) -> str:
    """The CPU's model name with what tells this project's machines apart (Linux's
    /proc/cpuinfo, or the text ``cpuinfo``): on x86 the family and model and the widest of bf16
    (AVX512-BF16 or AMX), AVX-512 and AVX2, e.g. "AMD EPYC (family 25 model 17; AVX512-BF16)";
    on Arm, which names no model there, the implementer and part and whether it has bf16 or
    SVE; where there is no /proc/cpuinfo, what ``platform`` knows."""
    here = cpuinfo is None
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8") as f:
                cpuinfo = f.read(1 << 16)  # the first processor's block is enough
        except OSError:
            return platform.processor() or platform.machine()
    fields: dict[str, str] = {}
    for line in cpuinfo.split("\n\n", 1)[0].splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    name = fields.get("model name")
    if name is None and "CPU implementer" in fields:
        name = f"Arm CPU (implementer {fields['CPU implementer']}, part {fields.get('CPU part')})"
    if name is None:
        name = (platform.processor() or platform.machine()) if here else "unknown CPU"
    extra = []
    if "cpu family" in fields and "model" in fields:
        extra.append(f"family {fields['cpu family']} model {fields['model']}")
    for key, table, none in (("flags", _X86, "no AVX2"), ("Features", _ARM, "no SVE or bf16")):
        if key in fields:
            have = set(fields[key].split())
            extra.append(next((label for flag, label in table if flag in have), none))
            break
    return f"{name} ({'; '.join(extra)})" if extra else name


# the widest vector extension first: what the speed of bf16 autocast and fp32 kernels follows
_X86 = (
    ("avx512_bf16", "AVX512-BF16"),
    ("amx_bf16", "AMX-BF16"),
    ("avx512f", "AVX-512, no bf16"),
    ("avx2", "AVX2, no AVX-512"),
)
_ARM = (("bf16", "BF16"), ("sve", "SVE, no bf16"))


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


# A step counts as suspended beyond its typical time when it takes longer than both of these
# (SIGSTOP, a frozen container, a debugger's breakpoint; not a load spike: 20× is no spike).
# A machine's own sleep is in neither: the monotonic clock stops with it.
STALL_MIN_S = 30.0
STALL_FACTOR = 20.0
NEW_NORMAL = 3  # this many long steps in a row: the steps got slower (swapping), not suspended


class StallClock:
    """The time a training run spent suspended rather than training, from its steps' own
    durations: a step that takes longer than :data:`STALL_MIN_S` and :data:`STALL_FACTOR` × the
    typical step (a moving average of the steps before it) counts, beyond the typical time, as
    suspended; :data:`NEW_NORMAL` such steps in a row are a slower machine instead, and become
    the typical time. A suspension outside a step (a checkpoint write, a validation pass) is
    not seen, so :attr:`stalled_s` is a lower bound; the first step only sets the typical
    time."""

    def __init__(self) -> None:
        self._counted = 0.0
        self._pending: list[float] = []  # long steps in a row, not yet told from a slowdown
        self._typical: float | None = None

    @property
    def stalled_s(self) -> float:
        return self._counted + sum(self._pending)

    def step(self, seconds: float) -> None:
        typical = self._typical
        if typical is not None and seconds > max(STALL_MIN_S, STALL_FACTOR * typical):
            self._pending.append(seconds - typical)  # teaches nothing of the typical time
            if len(self._pending) == NEW_NORMAL:  # a slowdown: the new typical time
                self._pending.clear()
                self._typical = seconds
            return
        self._counted += sum(self._pending)
        self._pending.clear()
        self._typical = seconds if typical is None else 0.9 * typical + 0.1 * seconds


def _seconds(v: Any) -> float:
    """A run's recorded ``stalled_s``; 0 where it is missing (runs recorded before it) or not
    a number (a hand-edited record: a resume must not fail on it)."""
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else 0.0


def training_time(earlier: dict[str, Any] | None, run: dict[str, Any]) -> dict[str, Any]:
    """``earlier``'s runs (the resumed checkpoint's record; None from scratch) and ``run``
    (``from_step``, ``to_step``, ``wall_s``, ``batch_size``, ``stalled_s`` and :func:`machine`'s
    fields), with their totals: wall seconds, of them suspended seconds (:class:`StallClock`;
    a lower bound, 0 for runs recorded before it), samples, and samples per second of the
    time not suspended."""
    runs = [*(earlier or {}).get("runs", []), run]
    wall = sum(float(r["wall_s"]) for r in runs)
    stalled = sum(_seconds(r.get("stalled_s")) for r in runs)
    samples = sum((int(r["to_step"]) - int(r["from_step"])) * int(r["batch_size"]) for r in runs)
    running = wall - stalled
    return {
        "runs": runs,
        "wall_s": wall,
        "stalled_s": stalled,
        "samples": samples,
        "samples_per_s": samples / running if running > 0 else None,
    }


def totals(record: Any) -> dict[str, Any] | None:
    """A record's figures, checked: ``wall_s``, ``stalled_s`` (None when not recorded: a record
    older than :class:`StallClock`), ``samples_per_s`` (None when not recorded),
    ``processor`` and ``precision`` (all runs' in order, " / "-joined when they differ), the
    first run's ``from_step`` and the last run's ``to_step``. None without a record, or with
    one it cannot read: a damaged run.json must not stop a page that lists it."""
    try:
        return _totals(record)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError):
        return None


def _totals(record: Any) -> dict[str, Any] | None:
    if not isinstance(record, dict) or not record.get("runs"):
        return None
    runs = record["runs"]

    def kinds(key: str) -> str:
        return " / ".join(dict.fromkeys(str(r.get(key, "?")) for r in runs))

    rate = record.get("samples_per_s")
    first, last = runs[0].get("from_step", 0), runs[-1].get("to_step")
    return {
        "wall_s": _number(record["wall_s"]),
        "stalled_s": None if record.get("stalled_s") is None else _number(record["stalled_s"]),
        "samples_per_s": _number(rate) if rate else None,
        "processor": kinds("processor"),
        "precision": kinds("precision"),
        "from_step": _number(first, int),
        "to_step": None if last is None else _number(last, int),
    }


def _number(v: Any, kind: type | tuple[type, ...] = (int, float)) -> Any:
    """``v`` when it is a number of ``kind`` (JSON's), else TypeError: a record written as
    text is damaged, not read."""
    if not isinstance(v, kind):
        raise TypeError(f"not a number: {v!r}")
    return v


def summary(record: Any) -> str:
    """One line: "57 min at 46.8 samples/s, AMD EPYC, bf16 autocast" ("" without a record, or
    with one it cannot read, see :func:`totals`; the processors and precisions of all runs
    when they differ; "steps 400–20,000: …" when the first recorded run did not start at
    step 0; "355 min, 190 of them suspended, at …" when it was suspended a minute or more)."""
    t = totals(record)
    if t is None:
        return ""
    first, last, rate = t["from_step"], t["to_step"], t["samples_per_s"]
    # resumed from a checkpoint written before the record existed: say what it covers
    covers = f"steps {first:,}–{last:,}: " if first and last else ""
    stalled = (t["stalled_s"] or 0) / 60
    took = f"{t['wall_s'] / 60:.0f} min" + (
        f", {stalled:.0f} of them suspended" if stalled >= 1 else ""
    )
    if rate:
        took += ("," if stalled >= 1 else "") + f" at {rate:.1f} samples/s"
    return covers + took + f", {t['processor']}, {t['precision']}"
