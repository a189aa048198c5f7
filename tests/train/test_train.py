import dataclasses
import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import torch
from browser import free_port
from safetensors.torch import load_file

from tests.conftest import TINY_MODEL
from tvnet.amp import cpu_bf16_supported
from tvnet.config import TrainConfig, preset_config
from tvnet.record import cpu_model
from tvnet.train.loop import process_device, train
from tvnet.train.optim import make_optimizer


def _cfg(variant="full"):
    return preset_config("cpu", variant, **TINY_MODEL)


def _weights(run):
    return load_file(str(run / "last" / "model.safetensors"))


def test_resume_continues_bit_for_bit(tiny_synthref, tmp_path):
    tc = TrainConfig(steps=4, batch_size=4, checkpoint_every=2, seed=1)
    kw = dict(
        pool_dir=tiny_synthref["pool"], cache_dir=tmp_path / "cache", progress=False, val_samples=0
    )
    train(_cfg(), tc, tiny_synthref["data"], tmp_path / "straight", **kw)
    train(_cfg(), tc, tiny_synthref["data"], tmp_path / "paused", stop_at=2, **kw)
    res = train(_cfg(), tc, tiny_synthref["data"], tmp_path / "paused", resume=True, **kw)
    assert res.steps == 4
    a, b = _weights(tmp_path / "straight"), _weights(tmp_path / "paused")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    # a checkpoint swap cut off between its renames (no atomic exchange) left the checkpoint
    # aside: the resume puts it back and goes on from it, not from step 0
    train(_cfg(), tc, tiny_synthref["data"], tmp_path / "cut", stop_at=2, **kw)
    (tmp_path / "cut" / "last").rename(tmp_path / "cut" / ".last.x1y2.old")
    with pytest.raises(ValueError, match=r"set aside as \.last\.x1y2\.old .* --resume puts it"):
        train(_cfg(), tc, tiny_synthref["data"], tmp_path / "cut", **kw)  # not over it
    with pytest.warns(UserWarning, match=r"\.last\.x1y2\.old\) restored"):
        res = train(_cfg(), tc, tiny_synthref["data"], tmp_path / "cut", resume=True, **kw)
    d = _weights(tmp_path / "cut")
    assert res.steps == 4 and all(torch.equal(a[k], d[k]) for k in a)
    cut = json.loads((tmp_path / "cut" / "last" / "config.json").read_text())["training_time"]
    assert [(r["from_step"], r["to_step"]) for r in cut["runs"]] == [(0, 2), (2, 4)]
    # beside a whole checkpoint, what writes cut off left behind goes: an old folder a finished
    # swap failed to remove, a temporary folder never swapped in
    import shutil

    shutil.copytree(tmp_path / "cut" / "last", tmp_path / "cut" / ".last.stale.old")
    (tmp_path / "cut" / ".last.half.tmp").mkdir()
    (tmp_path / "cut" / ".last.previous").mkdir()  # a user's: not ours to delete
    train(_cfg(), tc, tiny_synthref["data"], tmp_path / "cut", resume=True, **kw)  # at its end
    assert [p.name for p in (tmp_path / "cut").glob(".last.*")] == [".last.previous"]
    assert torch.equal(next(iter(_weights(tmp_path / "cut").values())), next(iter(d.values())))
    # batches made ahead in a thread (the default) are the batches made in turn
    train(_cfg(), tc, tiny_synthref["data"], tmp_path / "inline", prefetch=False, **kw)
    c = _weights(tmp_path / "inline")
    assert all(torch.equal(a[k], c[k]) for k in a)
    # the run folder records what was trained, the log the loss per step
    run = json.loads((tmp_path / "paused" / "run.json").read_text())
    assert run["model"]["variant"] == "full" and run["train"]["steps"] == 4
    assert not any(p.name.startswith(".") for p in (tmp_path / "paused").iterdir())
    # the checkpoint records both runs of the paused one: steps, wall time, machine, totals
    tt = json.loads((tmp_path / "paused" / "last" / "config.json").read_text())["training_time"]
    assert [(r["from_step"], r["to_step"]) for r in tt["runs"]] == [(0, 2), (2, 4)]
    assert tt["samples"] == 4 * 4 and all(r["batch_size"] == 4 for r in tt["runs"])
    assert tt["wall_s"] == pytest.approx(sum(r["wall_s"] for r in tt["runs"])) and tt["wall_s"] > 0
    assert tt["samples_per_s"] == pytest.approx(16 / tt["wall_s"])
    run0 = tt["runs"][0]
    assert run0["device"] == "cpu" and run0["world_size"] == 1 and run0["threads"] >= 1
    # Linux, as here and in CI: the CPU named from /proc/cpuinfo (tests/test_record.py)
    assert run0["processor"] == cpu_model(Path("/proc/cpuinfo").read_text())
    assert run0["precision"] == (
        "bf16 autocast" if cpu_bf16_supported() else "fp32 (no bf16 on this CPU)"
    )
    straight = json.loads((tmp_path / "straight" / "last" / "config.json").read_text())
    assert [(r["from_step"], r["to_step"]) for r in straight["training_time"]["runs"]] == [(0, 4)]


@pytest.mark.slow
def test_resume_with_the_cpu_recipe_continues_bit_for_bit(tiny_synthref, tmp_path):
    """The `cpu` recipe's own parts on a resume: MiniLM tokens, colour and word swaps, mirror
    samples, the
    loss at the head's grid with Dice, autocast as configs/cpu.json sets it, the mid-run
    validation at each epoch's end (24 expressions at batch 4: an epoch is 6 steps). Runs
    cut at step 5 (resumed across the epoch boundary) and at step 6 (on it) end with the
    straight run's weights bit for bit, and log the same losses."""
    recipe = json.loads((Path(__file__).resolve().parents[2] / "configs/cpu.json").read_text())
    model = preset_config("cpu", "full", **{**TINY_MODEL, "text_encoder": "hf_tokens"})
    tc = TrainConfig(**{**recipe["train"], "steps": 8, "batch_size": 4, "checkpoint_every": 4,
                        "seed": 2, "colour_swap": 0.5, "word_swap": 0.5,
                        "mirror": 0.5})  # fmt: skip
    assert tc.loss_grid == "head" and tc.loss_dice > 0 and tc.cache_features
    kw = dict(pool_dir=tiny_synthref["pool"], cache_dir=tmp_path / "cache", progress=False,
              val_samples=4, log_every=1)  # fmt: skip
    train(model, tc, tiny_synthref["data"], tmp_path / "straight", **kw)
    a = _weights(tmp_path / "straight")

    def losses(run):
        lines = (tmp_path / run / "log.jsonl").read_text().splitlines()
        return [(r["step"], r["loss"]) for r in map(json.loads, lines) if "loss" in r]

    for cut in (5, 6):
        run = tmp_path / f"cut{cut}"
        train(model, tc, tiny_synthref["data"], run, stop_at=cut, **kw)
        res = train(model, tc, tiny_synthref["data"], run, resume=True, **kw)
        assert res.steps == 8
        b = _weights(run)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), cut
        assert losses(run.name) == losses("straight") and len(losses("straight")) == 8
    # the epoch-end validation and the final one; a run stopped early validates where it
    # stopped, once
    for run, want in (("straight", [6, 8]), ("cut5", [5, 6, 8]), ("cut6", [6, 8])):
        lines = map(json.loads, (tmp_path / run / "log.jsonl").read_text().splitlines())
        assert [r["step"] for r in lines if "val" in r] == want, run


@pytest.mark.slow
def test_a_run_suspended_mid_training_records_the_pause_apart(tiny_synthref, tmp_path):
    """A real training process stopped (SIGSTOP) twice for 3 s and continued: its checkpoint
    counts the pauses as suspended, not training, and its samples/s is the rate of the time it
    ran. The thresholds of real use (30 s, 20 × the typical step) are shortened for the test."""
    import signal
    import time

    script = tmp_path / "run.py"
    script.write_text(
        "import sys\n"
        "from pathlib import Path\n"
        "import tvnet.record as record\n"
        "record.STALL_MIN_S, record.STALL_FACTOR = 1.0, 5.0\n"
        "import torch\n"
        "from tests.conftest import TINY_MODEL\n"
        "torch.set_num_threads(1)  # after conftest's own setting\n"
        "from tvnet.config import TrainConfig, preset_config\n"
        "from tvnet.train.loop import train\n"
        "tc = TrainConfig(steps=300, batch_size=2, checkpoint_every=1000, seed=1, amp=False)\n"
        "train(preset_config('cpu', 'baseline', **TINY_MODEL), tc, Path(sys.argv[1]),\n"
        "      Path(sys.argv[2]), pool_dir=Path(sys.argv[3]), progress=False, val_samples=0,\n"
        "      log_every=1)\n"
    )
    out = tmp_path / "run"
    args = [sys.executable, str(script), str(tiny_synthref["data"]), str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parents[2])}
    proc = subprocess.Popen([*args, str(tiny_synthref["pool"])], env=env)
    try:
        deadline = time.monotonic() + 240

        def wait_for_steps(n: int) -> None:
            log = out / "log.jsonl"
            while not log.is_file() or len(log.read_text().splitlines()) < n:
                assert proc.poll() is None and time.monotonic() < deadline, "no training steps"
                time.sleep(0.05)

        # two pauses: one that lands between two steps (a log write) is not seen; both would
        # be bad luck (the step is nearly all of the loop's time)
        for steps in (20, 60):
            wait_for_steps(steps)
            os.kill(proc.pid, signal.SIGSTOP)
            time.sleep(3.0)
            os.kill(proc.pid, signal.SIGCONT)
        assert proc.wait(timeout=300) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    tt = json.loads((out / "last" / "config.json").read_text())["training_time"]
    assert tt["samples"] == 300 * 2
    assert 2.0 <= tt["stalled_s"] <= 9.0 and tt["stalled_s"] < tt["wall_s"]
    assert tt["runs"][0]["stalled_s"] == tt["stalled_s"]
    assert tt["samples_per_s"] == pytest.approx(600 / (tt["wall_s"] - tt["stalled_s"]))
    last = json.loads((out / "log.jsonl").read_text().splitlines()[-2])  # before "done"
    assert last["step"] == 300 and last["stalled_s"] == pytest.approx(tt["stalled_s"])
    running = last["elapsed_s"] - last["stalled_s"]  # the log's rate is of that time too
    assert last["samples_per_s"] == pytest.approx(600 / running)


def test_a_resumed_log_holds_each_step_once_with_the_smoothed_loss_going_on(
    tiny_synthref, tmp_path
):
    """Resumed after a crash that lost steps past its last checkpoint: the log keeps each step
    once, and the smoothed loss goes on from the checkpoint's, as in an uninterrupted run."""
    tc = TrainConfig(steps=4, batch_size=4, checkpoint_every=2, seed=1)
    kw = dict(pool_dir=tiny_synthref["pool"], cache_dir=tmp_path / "cache", progress=False,
              val_samples=0, log_every=1)  # fmt: skip
    train(_cfg(), tc, tiny_synthref["data"], tmp_path / "straight", **kw)
    run = tmp_path / "paused"
    train(_cfg(), tc, tiny_synthref["data"], run, stop_at=2, **kw)
    shutil.copytree(run / "last", tmp_path / "step2")
    train(_cfg(), tc, tiny_synthref["data"], run, stop_at=3, resume=True, **kw)
    # a crash after step 3 was logged, before its checkpoint: the last one is of step 2
    shutil.rmtree(run / "last")
    shutil.copytree(tmp_path / "step2", run / "last")
    logged = [json.loads(x).get("step") for x in (run / "log.jsonl").read_text().splitlines()]
    assert logged == [1, 2, 3, None]  # a resume drops the earlier run's "done" line
    train(_cfg(), tc, tiny_synthref["data"], run, resume=True, **kw)

    def steps(run):
        lines = (tmp_path / run / "log.jsonl").read_text().splitlines()
        return [json.loads(x) for x in lines if '"step"' in x]

    a, b = steps("straight"), steps("paused")
    assert [r["step"] for r in b] == [1, 2, 3, 4]
    assert [(r["loss"], r["loss_ema"]) for r in a] == [(r["loss"], r["loss_ema"]) for r in b]
    # killed before its first checkpoint, then started again (--resume finds nothing to
    # resume): the steps of the lost start are not logged twice
    shutil.rmtree(run / "last")
    train(_cfg(), tc, tiny_synthref["data"], run, resume=True, **kw)
    assert [r["step"] for r in steps("paused")] == [1, 2, 3, 4]


def test_a_resume_with_another_recipe_is_refused(tiny_synthref, tmp_path):
    """--resume continues the run as it was started: another --steps would move the poly
    schedule, another seed the data; the budget (max_minutes) may change."""
    tc = TrainConfig(steps=4, batch_size=4, checkpoint_every=2, seed=1)
    kw = dict(pool_dir=tiny_synthref["pool"], cache_dir=tmp_path / "cache", progress=False,
              val_samples=0)  # fmt: skip
    train(_cfg(), tc, tiny_synthref["data"], tmp_path / "run", stop_at=2, **kw)
    for change in (dict(steps=8), dict(seed=2), dict(lr=1e-2)):
        other = dataclasses.replace(tc, **change)
        with pytest.raises(ValueError, match=f"another recipe \\({next(iter(change))} "):
            train(_cfg(), other, tiny_synthref["data"], tmp_path / "run", resume=True, **kw)
    # a new run into its folder without --resume would mix two runs' logs and checkpoints
    with pytest.raises(ValueError, match="holds a run already"):
        train(_cfg(), tc, tiny_synthref["data"], tmp_path / "run", **kw)
    # nor into an evaluation dump's folder (its run.json), nor with a wrong --data leave one
    (tmp_path / "dump").mkdir()
    (tmp_path / "dump" / "samples.parquet").write_bytes(b"rows")
    with pytest.raises(ValueError, match="holds an evaluation dump"):
        train(_cfg(), tc, tiny_synthref["data"], tmp_path / "dump", **kw)
    with pytest.raises((OSError, ValueError)):
        train(_cfg(), tc, tmp_path / "no-data", tmp_path / "fresh-out", **kw)
    assert not (tmp_path / "fresh-out").exists()
    # nor on other training data (the checkpoint's record says which: name and size)
    config = tmp_path / "run" / "last" / "config.json"
    meta = json.loads(config.read_text())
    config.write_text(json.dumps({**meta, "data": {**meta["data"], "train_samples": 10**6}}))
    with pytest.raises(ValueError, match="was trained on synthref \\(1000000 training samples"):
        train(_cfg(), tc, tiny_synthref["data"], tmp_path / "run", resume=True, **kw)
    # nor on other data of that name and size (another seed): the refs file's fingerprint
    assert meta["data"]["fingerprint"] == tiny_synthref["refer"].fingerprint()
    config.write_text(json.dumps({**meta, "data": {**meta["data"], "fingerprint": "0" * 64}}))
    with pytest.raises(ValueError, match="trained on other synthref data than this --data holds"):
        train(_cfg(), tc, tiny_synthref["data"], tmp_path / "run", resume=True, **kw)
    config.write_text(json.dumps(meta))
    res = train(_cfg(), dataclasses.replace(tc, max_minutes=60.0), tiny_synthref["data"],
                tmp_path / "run", resume=True, **kw)  # fmt: skip
    assert res.steps == 4


def test_a_field_the_checkpoints_code_lacked_is_read_as_its_default_on_resume():
    """A checkpoint written before a recipe field existed trained as its default: a resume
    that asks for another value is another recipe (train.colour_swap_names 2 on a run of
    the table before it), the default itself is not; a field of newer code is not compared."""
    from tvnet.train.resume import check_same_recipe

    old = {k: v for k, v in TrainConfig(steps=4).to_dict().items() if k != "colour_swap_names"}
    check_same_recipe(old, TrainConfig(steps=4).to_dict(), Path("last"))
    # a value an older version accepted and this one refuses (max_minutes 0 read as "no
    # budget") still reads as recorded: the record is compared, not validated again
    check_same_recipe({**old, "max_minutes": 0}, TrainConfig(steps=4).to_dict(), Path("last"))
    with pytest.raises(ValueError, match=r"another recipe \(colour_swap_names 1 → 2\)"):
        check_same_recipe(old, TrainConfig(steps=4, colour_swap_names=2).to_dict(), Path("last"))
    check_same_recipe({**old, "a_later_field": 3}, TrainConfig(steps=4).to_dict(), Path("last"))


def test_non_finite_weights_are_an_error_before_a_checkpoint(tmp_path):
    """A finite loss can come with non-finite gradients: the checkpoint step refuses weights
    that became NaN or inf, so the last good checkpoint is never written over."""
    from tvnet.train.resume import check_finite

    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    check_finite(net, 7, tmp_path / "last")  # finite: nothing to say
    with torch.no_grad():
        net[1].weight[0, 1] = float("nan")
    with pytest.raises(FloatingPointError, match=r"by step 7 \(1\.weight\); .*last keeps"):
        check_finite(net, 7, tmp_path / "last")
    with torch.no_grad():
        net[1].weight[0, 1], net[0].bias[0] = 1.0, float("inf")
    with pytest.raises(FloatingPointError, match=r"\(0\.bias\)"):
        check_finite(net, 7, tmp_path / "last")


def _finite_check_on_rank(rank: int, init: str, out: str) -> None:
    """One of two gloo processes: rank 1's weights are NaN, rank 0's finite."""
    from tvnet.train.resume import check_finite

    torch.distributed.init_process_group(  # a rank left alone fails in a minute, not 30
        "gloo", init_method=init, rank=rank, world_size=2, timeout=timedelta(seconds=60)
    )
    net = torch.nn.Linear(3, 2)
    if rank == 1:
        with torch.no_grad():
            net.bias[0] = float("nan")
    try:
        check_finite(net, 5, Path("last"), world=2)
        said = "went on"
    except FloatingPointError as e:
        said = str(e)
    Path(out, f"rank{rank}").write_text(said)
    torch.distributed.destroy_process_group()


def test_non_finite_weights_on_one_process_stop_every_process(tmp_path):
    """Under torchrun each process checks the weights and they agree through an all-reduce:
    a process that raised alone would leave the other waiting in the next gradient all-reduce
    until the group's timeout (two real gloo processes)."""
    init = f"file://{tmp_path / 'rendezvous'}"
    torch.multiprocessing.spawn(_finite_check_on_rank, args=(init, str(tmp_path)), nprocs=2)
    said = {r: (tmp_path / f"rank{r}").read_text() for r in (0, 1)}
    assert "by step 5 (bias)" in said[1]
    assert "by step 5 (on another process)" in said[0]


def test_a_failed_run_closes_its_log(tiny_synthref, tmp_path):
    """A run that stops on an error (here the loss of a learning rate of 1e12 goes
    non-finite) leaves no file of its own open: its log is closed on the way out."""
    tc = TrainConfig(steps=30, batch_size=4, checkpoint_every=1000, seed=1, lr=1e12)
    kw = dict(pool_dir=tiny_synthref["pool"], cache_dir=tmp_path / "cache", progress=False,
              val_samples=0)  # fmt: skip
    with pytest.raises(FloatingPointError, match="became") as failed:
        train(_cfg("baseline"), tc, tiny_synthref["data"], tmp_path / "run", **kw)
    assert failed.tb is not None  # its frames, and what they hold, are still alive here
    log = (tmp_path / "run" / "log.jsonl").resolve()
    assert log.is_file()
    open_files = {Path(os.readlink(f)) for f in Path("/proc/self/fd").iterdir() if f.is_symlink()}
    assert log not in open_files


def _first_process_work(rank: int, init: str, out: str) -> None:
    """One of two gloo processes: process 0's work succeeds once, then fails."""
    from tvnet.train.resume import on_first_process

    torch.distributed.init_process_group(
        "gloo", init_method=init, rank=rank, world_size=2, timeout=timedelta(seconds=60)
    )
    said = [repr(on_first_process(lambda: 42, rank, 2, "cpu", "the work"))]

    def broken():
        raise OSError("No space left on device")

    try:
        on_first_process(broken, rank, 2, "cpu", "writing the checkpoint")
        said.append("went on")
    except (OSError, RuntimeError) as e:
        said.append(f"{type(e).__name__}: {e}")
    torch.distributed.barrier()  # both still talk: neither is left in a collective
    Path(out, f"rank{rank}").write_text("\n".join(said))
    torch.distributed.destroy_process_group()


def test_work_of_process_0_that_fails_stops_every_process(tmp_path):
    """The checkpoint write and the validation run on process 0 alone; when they fail (a full
    disk) the others are told and raise too, rather than wait in the next gradient all-reduce
    until the group's timeout (two real gloo processes)."""
    init = f"file://{tmp_path / 'rendezvous'}"
    torch.multiprocessing.spawn(_first_process_work, args=(init, str(tmp_path)), nprocs=2)
    said = {r: (tmp_path / f"rank{r}").read_text().splitlines() for r in (0, 1)}
    assert said[0] == ["42", "OSError: No space left on device"]
    assert said[1] == [
        "None",
        "RuntimeError: process 0 failed writing the checkpoint; its error says why",
    ]


def test_resume_refuses_a_checkpoint_without_its_optimizer_state(tiny_synthref, tmp_path):
    """The optimiser state is written inside the checkpoint's atomic folder, so last/ always
    holds both; a folder that lacks it (an interrupted save of an earlier version) or holds a
    damaged one stops the resume instead of silently restarting the schedule at step 0."""
    from tvnet.checkpoint import CheckpointError

    tc = TrainConfig(steps=4, batch_size=4, checkpoint_every=2, seed=1)
    kw = dict(
        pool_dir=tiny_synthref["pool"], cache_dir=tmp_path / "cache", progress=False, val_samples=0
    )
    out = tmp_path / "run"
    train(_cfg(), tc, tiny_synthref["data"], out, stop_at=2, **kw)
    last = out / "last"
    assert json.loads((last / "optimizer.json").read_text())["step"] == 2
    assert json.loads((last / "config.json").read_text())["step"] == 2
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []
    good = (last / "optimizer.safetensors").read_bytes()
    (last / "optimizer.safetensors").write_bytes(good[: len(good) // 2])
    with pytest.raises(CheckpointError, match="optimizer state .* is corrupt"):
        train(_cfg(), tc, tiny_synthref["data"], out, resume=True, **kw)
    (last / "optimizer.safetensors").write_bytes(good)
    (last / "optimizer.json").unlink()
    with pytest.raises(CheckpointError, match="no optimizer state"):
        train(_cfg(), tc, tiny_synthref["data"], out, resume=True, **kw)


def test_a_damaged_time_record_or_a_foreign_last_folder_loses_no_work(
    tiny_synthref, tmp_path, capsys
):
    """The checkpoint's training_time record is extended at every checkpoint: a damaged one
    used to fail the first checkpoint after a resume, with a traceback, losing the steps
    trained since. It is left out with a warning now, and the weights go on. A --resume
    that finds no checkpoint says the run starts from step 0 (a mistyped --out looks so);
    a last/ that is no whole checkpoint is refused before its content is replaced."""
    tc = TrainConfig(steps=4, batch_size=4, checkpoint_every=2, seed=1)
    kw = dict(
        pool_dir=tiny_synthref["pool"], cache_dir=tmp_path / "cache", progress=False, val_samples=0
    )
    out = tmp_path / "run"
    train(_cfg(), tc, tiny_synthref["data"], out, stop_at=2, resume=True, **kw)
    assert "holds no checkpoint yet, so the run starts from step 0" in capsys.readouterr().out
    config = out / "last" / "config.json"
    cfg = json.loads(config.read_text())
    cfg["training_time"] = {"runs": [{"wall_s": 1.0}]}  # no steps: a KeyError when extended
    config.write_text(json.dumps(cfg))
    with pytest.warns(UserWarning, match="training_time record is damaged"):
        train(_cfg(), tc, tiny_synthref["data"], out, resume=True, **kw)
    done = json.loads(config.read_text())
    assert done["step"] == 4
    assert [(r["from_step"], r["to_step"]) for r in done["training_time"]["runs"]] == [(2, 4)]
    other = tmp_path / "other"
    (other / "last").mkdir(parents=True)
    (other / "last" / "notes.txt").write_text("mine")
    for resume in (False, True):
        with pytest.raises(ValueError, match="not a whole checkpoint"):
            train(_cfg(), tc, tiny_synthref["data"], other, resume=resume, **kw)
    assert (other / "last" / "notes.txt").read_text() == "mine"


def test_resume_refuses_a_rebuilt_neighbour_table(tiny_synthref, tmp_path):
    """A retrieval run records its training neighbour table's digest; resuming it after the
    pool was rebuilt (another table) stops with the reason instead of mixing neighbours."""
    import shutil

    import pandas as pd

    from tvnet.retrieval.neighbours import neighbours_path, table_digest

    pool = tmp_path / "pool"
    shutil.copytree(tiny_synthref["pool"], pool)
    tc = TrainConfig(steps=4, batch_size=4, checkpoint_every=2, seed=1)
    kw = dict(pool_dir=pool, cache_dir=tmp_path / "cache", progress=False, val_samples=0)
    out = tmp_path / "run"
    train(_cfg(), tc, tiny_synthref["data"], out, stop_at=2, **kw)
    table = neighbours_path(pool, "synthref", "train")
    digest = table_digest(table)
    assert json.loads((out / "run.json").read_text())["neighbours"] == digest
    assert json.loads((out / "last" / "config.json").read_text())["neighbours"] == digest
    df = pd.read_parquet(table)
    df.iloc[::-1].reset_index(drop=True).to_parquet(table, index=False)  # "rebuilt"
    assert table_digest(table) != digest
    with pytest.raises(ValueError, match="changed since"):
        train(_cfg(), tc, tiny_synthref["data"], out, resume=True, **kw)


@pytest.mark.parametrize("text_encoder,loss_grid", [("glove_lstm", "input"), ("hf_tokens", "head")])
def test_training_fits_a_tiny_set(tiny_synthref, tmp_path, text_encoder, loss_grid):
    # 4 samples seen over and over: the loss must fall well below its start
    # hf_tokens also with word and colour swaps: the swapped words never count as known
    swaps = 0.5 if text_encoder == "hf_tokens" else 0.0
    tc = TrainConfig(
        steps=40, batch_size=4, lr=3e-3, checkpoint_every=1000, seed=0, loss_grid=loss_grid,
        colour_swap=swaps, word_swap=swaps,
    )  # fmt: skip
    res = train(
        _cfg("baseline").replace(text_encoder=text_encoder),
        tc,
        tiny_synthref["data"],
        tmp_path / "fit",
        cache_dir=tmp_path / "cache",
        progress=False,
        val_samples=8,
        log_every=1,
    )
    log = [json.loads(line) for line in (tmp_path / "fit" / "log.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in log if "loss" in r]
    assert len(losses) == 40
    assert sum(losses[-5:]) / 5 < 0.6 * sum(losses[:5]) / 5
    assert res.val is not None and 0.0 <= res.val["overall_iou"] <= 1.0
    assert any("val" in r for r in log)
    if text_encoder == "hf_tokens":  # the run's checkpoint reads any word, and resumes as one
        from tvnet.checkpoint import load_checkpoint, read_checkpoint_config
        from tvnet.data.model_words import training_words

        model = load_checkpoint(tmp_path / "fit" / "last")
        assert model.cfg.text_encoder == "hf_tokens" and model.vocab.unknown("a crimson cat") == []
        # it records the words it was trained on, for the Predictor's lexicon
        words = training_words(s.sentence for s in tiny_synthref["refer"].samples("train"))
        assert read_checkpoint_config(tmp_path / "fit" / "last")["known_words"] == words
        # and the word-swap table it trained with (the colour terms left to the colour swap)
        from tvnet.data.colour_names import BASIC_TERMS, SPELLINGS
        from tvnet.data.word_swaps import WordSwap

        record = json.loads((tmp_path / "fit" / "run.json").read_text())["word_swaps"]
        from tvnet.data.synthref.vocabulary import WORD_SENSES

        # read through the senses SynthRef uses its words in, as the checkpoint's lexicon does
        swap = WordSwap(0.5, words, exclude={*BASIC_TERMS, *SPELLINGS}, senses=WORD_SENSES)
        assert record == swap.record() and record["words"] > 0
        # (this set's "plain", "bottom" and "one" have swaps only through foreign senses)
        assert record != WordSwap(0.5, words, exclude={*BASIC_TERMS, *SPELLINGS}).record()
        assert not set(swap.table) & {*BASIC_TERMS, *SPELLINGS}
        # and the colour names: a resume under other names (the survey data or its rules
        # changed) says so
        from tvnet.data.colour_names import ColourSwap

        run = json.loads((tmp_path / "fit" / "run.json").read_text())
        assert run["colour_swaps"] == ColourSwap(0.5).record() and run["colour_swaps"]["names"]
        run["colour_swaps"] = {**run["colour_swaps"], "sha256": "0" * 16}
        (tmp_path / "fit" / "run.json").write_text(json.dumps(run))
        with pytest.warns(UserWarning, match="the colour-name table differs from the one"):
            train(
                _cfg("baseline").replace(text_encoder=text_encoder), tc, tiny_synthref["data"],
                tmp_path / "fit", cache_dir=tmp_path / "cache", progress=False, resume=True,
            )  # fmt: skip
        # a resume reads that table back: a damaged record is named, not a JSON traceback
        (tmp_path / "fit" / "run.json").write_text("{cut")
        with pytest.raises(ValueError, match=r"the run's record .*fit/run\.json is corrupt"):
            train(
                _cfg("baseline").replace(text_encoder=text_encoder), tc, tiny_synthref["data"],
                tmp_path / "fit", cache_dir=tmp_path / "cache", progress=False, resume=True,
            )  # fmt: skip


def test_retrieval_variant_needs_a_pool(tiny_synthref, tmp_path):
    with pytest.raises(ValueError, match="--pool"):
        train(
            _cfg("res"),
            TrainConfig(steps=1, batch_size=2),
            tiny_synthref["data"],
            tmp_path / "r",
            progress=False,
        )


@pytest.mark.slow
def test_ddp_two_processes_match_one_process(tiny_synthref, tmp_path):
    # every colour word swapped for a survey name, half the samples mirrored: each process's
    # slice of the global batch is rewritten and flipped as in the whole batch, so the two
    # processes see what the one sees
    cfg = {
        "model": {"preset": "cpu", **TINY_MODEL, "text_encoder": "hf_tokens"},
        "train": {"amp": False, "checkpoint_every": 1000, "colour_swap": 1.0, "mirror": 0.5},
    }
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    common = [
        "--config",
        str(tmp_path / "cfg.json"),
        "--variant",
        "res",
        "--data",
        str(tiny_synthref["data"]),
        "--pool",
        str(tiny_synthref["pool"]),
        "--steps",
        "3",
        "--batch-size",
        "4",
        "--seed",
        "5",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--val-samples",
        "0",
        "--quiet",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run(
        [sys.executable, "-m", "tvnet", "train", *common, "--out", str(tmp_path / "one")],
        check=True,
        env=env,
        timeout=600,
    )
    two_run = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            str(free_port()),
            "-m",
            "tvnet",
            "train",
            *common,
            "--out",
            str(tmp_path / "two"),
        ],
        env=env,
        timeout=600,
        capture_output=True,
        text=True,
    )
    assert two_run.returncode == 0, two_run.stderr[-12000:]
    assert two_run.stdout.count("trained res: 3 steps") == 1, two_run.stdout  # rank 0's only

    def losses(run):
        return [
            json.loads(line)["loss"]
            for line in (tmp_path / run / "log.jsonl").read_text().splitlines()
            if '"loss"' in line
        ]

    one, two = losses("one"), losses("two")
    assert len(one) == len(two) >= 1  # not two empty logs
    assert two == pytest.approx(one, rel=1e-4, abs=1e-5)
    a, b = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    assert max(float((a[k] - b[k]).abs().max()) for k in a if a[k].is_floating_point()) < 1e-4


class _Text(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(10, 4)


class _Net(torch.nn.Module):
    """Named like TV-Net's parts: word embeddings under text.embed, a weight matrix, a bias."""

    def __init__(self):
        super().__init__()
        self.text = _Text()
        self.fc = torch.nn.Linear(4, 4)


def _decay_only(mode: str, steps: int = 100, lr: float = 1e-2, wd: float = 0.1):
    """Run the optimizer with an all-zero loss gradient: only weight decay moves anything."""
    torch.manual_seed(0)
    net = _Net()
    before = {k: v.detach().clone() for k, v in net.state_dict().items()}
    opt = make_optimizer(net, TrainConfig(lr=lr, weight_decay=wd, weight_decay_mode=mode))
    for _ in range(steps):
        opt.zero_grad()
        sum((p * 0).sum() for p in net.parameters()).backward()
        opt.step()
    return before, net.state_dict()


def test_decoupled_weight_decay_shrinks_weights_by_lr_times_wd_per_step():
    before, after = _decay_only("decoupled")
    factor = (1 - 1e-2 * 0.1) ** 100
    torch.testing.assert_close(after["fc.weight"], before["fc.weight"] * factor)
    # biases and word embeddings are never decayed
    assert torch.equal(after["fc.bias"], before["fc.bias"])
    assert torch.equal(after["text.embed.weight"], before["text.embed.weight"])


def test_l2_decay_under_adam_erases_weights_with_no_loss_gradient():
    # the failure mode that made the default model ignore the expression: Adam normalises the
    # L2 term, so every weight moves ~lr per step toward 0 however small its loss gradient
    before, after = _decay_only("l2")
    assert after["fc.weight"].abs().max() < 0.1 * before["fc.weight"].abs().max()
    assert torch.equal(after["fc.bias"], before["fc.bias"])
    with pytest.raises(ValueError, match="weight_decay_mode"):  # refused before any work
        TrainConfig(weight_decay_mode="adamw")


def test_init_starts_a_new_schedule_from_another_runs_weights(tiny_synthref, tmp_path):
    from tvnet.checkpoint import CheckpointError

    data = tiny_synthref["data"]
    kw = dict(cache_dir=tmp_path / "cache", progress=False, val_samples=0, log_every=1)
    train(_cfg("baseline"), TrainConfig(steps=3, batch_size=4, lr=3e-3), data, tmp_path / "a", **kw)
    a = _weights(tmp_path / "a")
    more = TrainConfig(steps=2, batch_size=4, lr=1e-3, seed=1)
    init = tmp_path / "a" / "last"
    # before its first step the new run holds the trained weights exactly; a fresh run does not
    train(_cfg("baseline"), more, data, tmp_path / "b0", init=init, stop_at=0, **kw)
    train(_cfg("baseline"), more, data, tmp_path / "fresh", stop_at=0, **kw)
    b0, fresh = _weights(tmp_path / "b0"), _weights(tmp_path / "fresh")
    assert all(torch.equal(a[k], b0[k]) for k in a)
    assert not all(torch.equal(a[k], fresh[k]) for k in a)
    # a new schedule and optimiser: step 1 at the full new lr, the optimiser counts 2 steps;
    # paused and resumed without --init, the run keeps its source
    train(_cfg("baseline"), more, data, tmp_path / "b", init=init, stop_at=1, **kw)
    res = train(_cfg("baseline"), more, data, tmp_path / "b", resume=True, **kw)
    assert res.steps == 2
    log = [json.loads(line) for line in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert log[0]["step"] == 1 and log[0]["lr"] == pytest.approx(1e-3)
    assert json.loads((tmp_path / "b" / "last" / "optimizer.json").read_text())["step"] == 2
    assert not all(torch.equal(a[k], v) for k, v in _weights(tmp_path / "b").items())
    run = json.loads((tmp_path / "b" / "run.json").read_text())
    assert run["init"]["checkpoint"] == str(init.resolve()) and run["init"]["step"] == 3
    # the checkpoint keeps its lineage too (a warm start of a warm start nests the records)
    meta = json.loads((tmp_path / "b" / "last" / "config.json").read_text())
    assert meta["init"]["step"] == 3 and meta["init"]["init"] is None
    train(
        _cfg("baseline"), more, data, tmp_path / "b2", init=tmp_path / "b" / "last", stop_at=0, **kw
    )
    chain = json.loads((tmp_path / "b2" / "last" / "config.json").read_text())["init"]
    assert chain["step"] == 2 and chain["init"]["step"] == 3 and chain["batch_size"] == 4
    # a run from scratch resumed with --init stays from scratch: its weights are its own
    train(_cfg("baseline"), more, data, tmp_path / "s", stop_at=1, **kw)
    train(_cfg("baseline"), more, data, tmp_path / "s", init=init, resume=True, **kw)
    assert json.loads((tmp_path / "s" / "run.json").read_text())["init"] is None
    assert json.loads((tmp_path / "s" / "last" / "config.json").read_text())["init"] is None
    # the requested model must be the checkpoint's: the message names the differing field
    with pytest.raises(CheckpointError, match="fusion_heads=1 .checkpoint. vs 2"):
        train(_cfg("baseline").replace(fusion_heads=2), more, data, tmp_path / "c", init=init, **kw)
    assert not (tmp_path / "c").exists()


def test_init_grows_a_smaller_variant_into_a_larger_one(tiny_synthref, tmp_path):
    from tvnet.checkpoint import CheckpointError

    data, pool = tiny_synthref["data"], tiny_synthref["pool"]
    kw = dict(cache_dir=tmp_path / "cache", progress=False, val_samples=0, log_every=1)
    train(_cfg("baseline"), TrainConfig(steps=2, batch_size=4), data, tmp_path / "a", **kw)
    a, init = _weights(tmp_path / "a"), tmp_path / "a" / "last"
    more = TrainConfig(steps=2, batch_size=4, lr=1e-3, seed=1)
    # before its first step the grown run holds every baseline weight, and zero where the
    # added modules write back (enrichment's W_o, AMF's V2' half of its last conv)
    train(_cfg("full"), more, data, tmp_path / "g0", init=init, pool_dir=pool, stop_at=0, **kw)
    g0 = _weights(tmp_path / "g0")
    assert all(torch.equal(a[k], g0[k]) for k in a)
    assert all(not g0[f"enrich.{i}.proj.weight"].any() for i in range(3))
    d_m = TINY_MODEL["d_m"]
    assert torch.equal(g0["amf.out.weight"][:, :d_m, 0, 0], torch.eye(d_m))
    assert not g0["amf.out.weight"][:, d_m:].any()
    run = json.loads((tmp_path / "g0" / "run.json").read_text())
    assert run["model"]["variant"] == "full"
    assert run["init"]["variant"] == run["init"]["grown_from"] == "baseline"
    # the frozen packaged backbone stays out of the grown checkpoint, as out of its source's
    meta_a = json.loads((init / "config.json").read_text())
    meta_g = json.loads((tmp_path / "g0" / "last" / "config.json").read_text())
    assert meta_g["backbone"] == meta_a["backbone"] != "included"
    assert not any(k.startswith("backbone.") for k in g0)
    # and then trains every part: the added modules leave their start; paused and resumed
    # (--init and --resume, as tools/build_grown_default.sh runs it), it keeps its lineage
    train(_cfg("full"), more, data, tmp_path / "g", init=init, pool_dir=pool, stop_at=1, **kw)
    train(_cfg("full"), more, data, tmp_path / "g", init=init, pool_dir=pool, resume=True, **kw)
    g = _weights(tmp_path / "g")
    assert all(g[f"enrich.{i}.proj.weight"].any() for i in range(3))
    assert g["amf.out.weight"][:, d_m:].any()
    assert json.loads((tmp_path / "g" / "run.json").read_text())["init"]["grown_from"] == "baseline"
    # its evaluation dump carries the lineage: tables name it apart from a full from scratch
    from tvnet.cli import main as cli_main
    from tvnet.eval.dump import load_dump

    args = ["eval", "--checkpoint", str(tmp_path / "g" / "last"), "--data", str(data)]
    args += ["--split", "val", "--pool", str(pool), "--out", str(tmp_path / "d"), "--quiet"]
    assert cli_main([*args, "--limit", "4", "--cache-dir", str(tmp_path / "cache")]) == 0
    dump = load_dump(tmp_path / "d")
    assert dump.run["init"]["variant"] == "baseline" and dump.run["init"]["step"] == 2
    assert dump.name == "full (grown from baseline, first 4 of 8 samples)"  # --limit 4
    # a larger variant does not shrink, and nothing is left behind
    with pytest.raises(CheckpointError, match="cannot start a 'baseline' run"):
        train(_cfg("baseline"), more, data, tmp_path / "s", init=tmp_path / "g" / "last", **kw)
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("swap", ["colour_swap", "word_swap"])
def test_swaps_need_an_open_vocabulary(tiny_synthref, tmp_path, swap):
    tc = TrainConfig(steps=1, batch_size=2, **{swap: 0.5})
    with pytest.raises(ValueError, match="hf_tokens"):
        train(_cfg("baseline"), tc, tiny_synthref["data"], tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_each_torchrun_process_trains_on_its_own_gpu(monkeypatch):
    """``--device cuda`` under torchrun means this process's GPU (``LOCAL_RANK``), not GPU 0
    for every process; the CPU and a single process keep what was asked, and an index that is
    not this process's own is refused (the same argument reaches every process)."""
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert process_device("cuda", 4) == "cuda:3"
    assert process_device("cuda:3", 4) == "cuda:3"  # one GPU per node, say: its own
    with pytest.raises(ValueError, match="all 4 processes on GPU 1: pass --device cuda"):
        process_device("cuda:1", 4)
    assert process_device("cuda:1", 1) == "cuda:1"
    assert process_device("cuda", 1) == "cuda"
    assert process_device("cpu", 4) == "cpu"
    if not torch.cuda.is_available():
        assert process_device(None, 4) == "cpu"


def test_a_resume_in_another_precision_is_said(tmp_path):
    """A bf16 run resumed on a CPU without bf16 (or with TVNET_CPU_BF16=0, or on a GPU) goes on
    by the same flags in other numbers: said, from the precision its last run recorded."""
    import warnings

    from tvnet.train.resume import warn_other_precision

    earlier = {"runs": [{"precision": "bf16 autocast", "device": "cpu"}]}
    with pytest.warns(UserWarning, match="trained in bf16 autocast on cpu and goes on in fp32"):
        warn_other_precision(earlier, {"precision": "fp32", "device": "cpu"}, tmp_path)
    with pytest.warns(UserWarning, match="on cpu and goes on in bf16 autocast on cuda"):
        warn_other_precision(earlier, {"precision": "bf16 autocast", "device": "cuda:0"}, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_other_precision(earlier, {"precision": "bf16 autocast", "device": "cpu"}, tmp_path)
        warn_other_precision(None, {"precision": "fp32", "device": "cpu"}, tmp_path)  # fresh
        warn_other_precision({"runs": [{}]}, {"precision": "fp32", "device": "cpu"}, tmp_path)
