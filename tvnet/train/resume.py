"""What keeps a run's checkpoints and records sound across a resume (docs/design.md §6):
a resume continues the recipe and the data the run started with, its log holds every step once, and a
step that broke the weights never overwrites the last good checkpoint."""

from __future__ import annotations

import json
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from tvnet.config import CHECKPOINT_CONFIG, RESUME_MAY_CHANGE, TrainConfig
from tvnet.io import atomic_write_text


def check_same_recipe(had: Any, now: dict[str, Any], last: Path) -> None:
    """ValueError when a resume asks for another training recipe than the run started with
    (another --steps moves the poly schedule, another seed the data): only
    :data:`RESUME_MAY_CHANGE` may differ. A field the checkpoint's code did not have yet takes
    its default, the behaviour that code had (as tools/build_state.py reads it); a field this
    code does not know is not compared (a checkpoint of a newer version)."""
    if not isinstance(had, dict):
        return
    had = TrainConfig.as_recorded(had)
    diff = sorted(k for k in had.keys() & now.keys()
                  if k not in RESUME_MAY_CHANGE and had[k] != now[k])  # fmt: skip
    if diff:
        said = ", ".join(f"{k} {had[k]!r} → {now[k]!r}" for k in diff)
        raise ValueError(
            f"{last} was trained with another recipe ({said}): --resume continues the run as "
            "it was started; give its settings again, or start a new run from its weights "
            "(--init, another --out)"
        )


def any_process(flag: bool, world: int, device: str) -> bool:
    """Whether ``flag`` holds on any process of a torchrun group (an all-reduced MAX; ``flag``
    itself without one): how the processes agree to stop together."""
    if world > 1:
        t = torch.tensor([float(flag)], device=device)
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
        flag = bool(t.item())
    return flag


def check_finite(
    model: torch.nn.Module, step: int, last: Path, world: int = 1, device: str = "cpu"
) -> None:
    """FloatingPointError when a weight of ``model`` is NaN or infinite, before it would be
    written over ``last``, the run's last good checkpoint (its loss was finite: the loss is
    computed before the step that broke the weights). Under torchrun (``world`` > 1) every
    process calls it and all raise together: one that stopped alone would leave the others
    waiting in the next step's gradient all-reduce until the group's timeout."""
    bad = [n for n, p in model.named_parameters() if not torch.isfinite(p).all()]
    # DDP keeps the weights equal on every process; agree rather than assume it
    if any_process(bool(bad), world, device):
        where = (
            f"({', '.join(bad[:3])}{' …' if len(bad) > 3 else ''})"
            if bad
            else "(on another process)"
        )
        raise FloatingPointError(
            f"the weights became non-finite by step {step} {where}; {last} keeps the last "
            "finite checkpoint"
        )


def on_first_process(work: Callable[[], Any], rank: int, world: int, device: str, what: str) -> Any:
    """``work()`` on process 0 alone (the checkpoint write, the validation), every process
    told whether it failed: under torchrun the others would otherwise wait in the next
    collective until the group's timeout (a full disk, a damaged val image). ``work``'s
    result on process 0, None on the others; process 0 raises its own error, the others
    say that process 0 failed ``what``."""
    failed: BaseException | None = None
    out = None
    if rank == 0:
        try:
            out = work()
        except BaseException as e:  # told to the others first (Ctrl-C too), then raised
            failed = e
    if any_process(failed is not None, world, device) and failed is None:
        raise RuntimeError(f"process 0 failed {what}; its error says why")
    if failed is not None:
        raise failed
    return out


def log_up_to(path: Path, step: int) -> None:
    """The log of a run resumed at ``step`` without what came after that checkpoint (steps a
    crash lost, trained again now) and without the earlier runs' "done" lines, so that every
    step is logged once; ``step`` 0 for a run started again before its first checkpoint
    (nothing kept). Written atomically."""
    if not path.is_file():
        return
    kept = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a line cut by a crash
        if isinstance(rec, dict) and isinstance(rec.get("step"), int) and rec["step"] <= step:
            kept.append(line)
    atomic_write_text(path, "".join(f"{line}\n" for line in kept))


def check_same_data(
    had: Any, name: str, train_samples: int, out: Any, fingerprint: str = ""
) -> None:
    """Refuse to resume a run on other training data than it started on: the dataset's name,
    its number of training samples and, where both record one, its refs file's fingerprint
    (:meth:`tvnet.data.refer.ReferDataset.fingerprint`: SynthRef of another seed has the same
    name and size) (``had``: the checkpoint's ``data`` record; a checkpoint without one is not
    checked, nor the name of one that records none). The folder may have moved.
    tools/build_state.py asks the same before a build resumes a run."""
    if not isinstance(had, dict) or "train_samples" not in had:
        return
    was = (had.get("name", name), had.get("train_samples"))
    if was != (name, train_samples):
        raise ValueError(
            f"{out} was trained on {was[0]} ({was[1]} training samples), and this run reads "
            f"{name} ({train_samples}): resuming would change the data mid-run; resume with "
            "the --data it started on, or start a new run (another --out)"
        )
    if fingerprint and had.get("fingerprint") and had["fingerprint"] != fingerprint:
        raise ValueError(
            f"{out} was trained on other {name} data than this --data holds (its refs file "
            "differs: another seed?): resuming would change the data mid-run; resume with the "
            "--data it started on, or start a new run (another --out)"
        )


def restore_set_aside(out: Path, last: Path, resume: bool, rank: int, world: int) -> None:
    """Put back the checkpoint that a swap cut off between its two renames (a file system
    without an atomic exchange, :func:`tvnet.io.replace_dir`) left aside as ``.last.*.old``:
    it is the run's. Without ``resume`` that is refused like a whole ``last`` (the run's log and
    checkpoint stay its own). Beside a whole ``last``, such folders are what a finished swap
    failed to remove: deleted, as are the ``.last.*.tmp`` folders of writes cut off (the
    unsuffixed ``.last.XXXXXXXX`` ones of versions before 2026-12-07 are left: their names
    cannot be told from a folder of the user's, ``.last.previous``). Rank 0
    alone looks and acts; under DDP every process learns its outcome (another rank looking
    while rank 0 renames would decide otherwise and miss the broadcast)."""
    failed = _restore_set_aside(out, last, resume) if rank == 0 else None
    if world > 1:  # every process sees the restored checkpoint, or the same error
        box = [failed]
        torch.distributed.broadcast_object_list(box, src=0)
        failed = box[0]
    if failed:
        raise ValueError(failed)


def _restore_set_aside(out: Path, last: Path, resume: bool) -> str | None:
    """:func:`restore_set_aside`'s work on rank 0: why the run cannot go on, else None."""
    for p in out.glob(f".{last.name}.*.tmp"):  # a checkpoint write cut off (or the old
        shutil.rmtree(p, ignore_errors=True)  # checkpoint an exchange swapped out)
    aside = sorted(out.glob(f".{last.name}.*.old"), key=lambda p: p.stat().st_mtime)
    if (last / CHECKPOINT_CONFIG).is_file():  # a swap that finished, its old folder's removal
        for p in aside:  # cut off: a whole checkpoint's worth of disk, never read again
            shutil.rmtree(p, ignore_errors=True)
        return None
    aside = [p for p in aside if (p / CHECKPOINT_CONFIG).is_file()] if not last.exists() else []
    if not aside:
        return None
    if not resume:
        return (
            f"{out} holds a run already (its checkpoint set aside as {aside[-1].name} by a "
            "cut-off write): --resume puts it back and continues it; to start over, remove "
            "that folder or give another --out"
        )
    try:
        aside[-1].rename(last)
    except OSError as e:
        return f"cannot put back the checkpoint {aside[-1]} as {last}: {e}"
    said = f"the checkpoint set aside by a cut-off write ({aside[-1].name}) restored"
    warnings.warn(f"{out}: {said}", stacklevel=4)
    return None


def check_last(out: Path, last: Path, resume: bool) -> str | None:
    """ValueError when ``last`` exists but is not a whole checkpoint (no config.json): the
    first checkpoint would replace what it holds, and checkpoints are written whole, so it is
    not this code's. With ``resume`` and no checkpoint yet, the note that the run starts from
    step 0 (a mistyped --out looks just so); else None."""
    if last.exists() and not (last / CHECKPOINT_CONFIG).is_file():
        raise ValueError(
            f"{last} is not a whole checkpoint (no {CHECKPOINT_CONFIG}); the run's first "
            "checkpoint would replace it: remove it, or give another --out"
        )
    if resume and not last.exists():
        return f"--resume: {out} holds no checkpoint yet, so the run starts from step 0"
    return None


def training_time_of(resumed: dict[str, Any], last: Path) -> dict[str, Any] | None:
    """The resumed checkpoint's ``training_time`` record, which every checkpoint of the run
    extends (:func:`tvnet.record.training_time`); None, with a warning, where it is damaged,
    so that it fails no checkpoint written after the work: the runs before are left out of
    the time the run reports, and the weights go on."""
    from tvnet import record

    earlier = resumed.get("training_time")
    if earlier is None:
        return None
    try:
        record.training_time(earlier, {"from_step": 0, "to_step": 0, "wall_s": 0.0,
                                       "batch_size": 1})  # fmt: skip
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        warnings.warn(
            f"{last}: its training_time record is damaged ({type(e).__name__}: {e}); the runs "
            "before this one are left out of the training time it reports",
            stacklevel=3,
        )
        return None
    return earlier


def warn_other_precision(earlier: dict[str, Any] | None, now: dict[str, Any], last: Path) -> None:
    """A warning when the run resumed computes in another precision or on another kind of
    device than its last run did (``training_time``'s runs record both): a bf16 run resumed
    on a CPU without bf16, or with ``TVNET_CPU_BF16=0``, goes on in fp32, the same recipe by
    its flags, other numbers (and its feature cache is built again under another key)."""
    runs = (earlier or {}).get("runs") or []
    before = runs[-1] if runs and isinstance(runs[-1], dict) else {}
    had = (before.get("precision"), str(before.get("device", "")).split(":")[0])
    got = (now.get("precision"), str(now.get("device", "")).split(":")[0])
    if had[0] and had != got:
        warnings.warn(
            f"{last}: the run trained in {had[0]} on {had[1] or '?'} and goes on in {got[0]} "
            f"on {got[1]}: the same recipe, other numbers",
            stacklevel=3,
        )
