"""tools/build_default.sh and the questions it asks tools/build_state.py: when a step's output is
whole (skip), when it is to be (re)made (an interrupted run resumes, a cut-off dump is redone),
and when it was made differently (stop). Real checkpoints, dumps and calibrations, written by
tvnet's own writers; tools/package_assets.py ships a checkpoint's calibration with it."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from dumps_fixture import write_hand_dump

from tvnet import record

REPO = Path(__file__).resolve().parents[2]
DONE, TODO, CONFLICT = 0, 10, 11


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


state = _tool("build_state")


@pytest.mark.parametrize("script", ["build_default.sh", "gpu_check.sh"])
def test_scripts_parse(script):
    subprocess.run(["bash", "-n", str(REPO / "tools" / script)], check=True)


def test_build_default_help_and_bad_argument(tmp_path):
    out = subprocess.run(
        ["bash", "tools/build_default.sh", "--help"], cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    for word in ("OUT_ROOT", "DEVICE", "STEPS", "PACKAGE", "SYNTH_TRAIN", "TRAIN_SIZE", "--resume"):
        assert word in out.stdout
    bad = subprocess.run(["bash", "tools/build_default.sh", "--bogus"], cwd=REPO, text=True,
                         capture_output=True)  # fmt: skip
    assert bad.returncode == 2 and "--bogus" in bad.stderr
    # a training folder without a training size, or the evaluation data as the training data
    for env in ({"TRAIN_DATA": "data/x"}, {"TRAIN_SIZE": "9", "TRAIN_DATA": "data/synthref/"}):
        out = subprocess.run(["bash", "tools/build_default.sh"], cwd=REPO, text=True,
                             capture_output=True, env={**os.environ, **env})  # fmt: skip
        assert out.returncode == 2 and "TRAIN_DATA" in out.stderr, out.stderr
    # SynthRef's sizes default to tvnet's own (one source: tvnet.config.SYNTHREF_DEFAULTS),
    # read through a PY that reports other ones
    fake = tmp_path / "py"
    fake.write_text(
        '#!/bin/sh\necho "7 3 2 5"\n'  # train val test seed, as the script asks for them
    )
    fake.chmod(0o755)
    out = subprocess.run(["bash", "tools/build_default.sh"], cwd=REPO, text=True,
                         capture_output=True,
                         env={**os.environ, "TRAIN_DATA": "data/x", "PY": str(fake)})  # fmt: skip
    assert out.returncode == 2 and "SYNTH_TRAIN (7)" in out.stderr, out.stderr
    from tvnet.config import SYNTHREF_DEFAULTS

    out = subprocess.run(["bash", "tools/build_default.sh"], cwd=REPO, text=True,
                         capture_output=True, env={**os.environ, "TRAIN_DATA": "data/x"})  # fmt: skip
    assert f"SYNTH_TRAIN ({SYNTHREF_DEFAULTS['train']})" in out.stderr, out.stderr


def train_argv(out: Path, *extra: str) -> list[str]:
    return ["train", "--config", str(REPO / "configs/cpu.json"), "--data", "unused",
            "--out", str(out), "--resume", *extra]  # fmt: skip


def write_run(out: Path, steps: int, step: int, closed: bool, variant: str = "baseline") -> str:
    """A run folder as `tvnet train --steps STEPS` leaves it at ``step``: OUT/last (a real
    checkpoint of the configured model) and log.jsonl; returns the weights' hash."""
    from tvnet import build_model
    from tvnet.checkpoint import read_checkpoint_config, save_checkpoint
    from tvnet.data.tokenize import PAD, UNK, Vocab

    _, mcfg, tcfg = state.train_configs(
        train_argv(out, "--variant", variant, "--steps", str(steps))
    )
    vocab = None if mcfg.text_encoder == "hf_tokens" else Vocab([PAD, UNK, "red", "cube"])
    model = build_model(mcfg, vocab=vocab, pretrained=False)
    save_checkpoint(model, out / "last", extra={"train": tcfg.to_dict(), "step": step})
    lines = [{"step": step, "loss": 0.5}] + ([{"done": True, "steps": step}] if closed else [])
    (out / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    return read_checkpoint_config(out / "last")["weights_sha256"]


def test_trained_resume_and_conflicts(tmp_path, capsys):
    out = tmp_path / "baseline"
    argv = train_argv(out, "--variant", "baseline", "--steps", "3")
    assert state.main(["trained", "--", *argv]) == TODO  # nothing yet
    write_run(out, steps=3, step=3, closed=False)  # killed after its last checkpoint
    assert state.main(["trained", "--", *argv]) == TODO
    write_run(out, steps=3, step=2, closed=True)  # stopped early (--max-minutes): resumes
    assert state.main(["trained", "--", *argv]) == TODO
    write_run(out, steps=3, step=3, closed=True)
    assert state.main(["trained", "--", *argv]) == DONE
    # a line cut short by an earlier killed run, then the resumed run's close: still done
    log = (out / "log.jsonl").read_text()
    (out / "log.jsonl").write_text('{"step": 1, "lo\n' + log)
    assert state.main(["trained", "--", *argv]) == DONE
    # a field the run's code did not record yet reads as its default: still the same recipe
    meta = json.loads((out / "last/config.json").read_text())
    tdefaults = {f.name: f.default for f in dataclasses.fields(state.train_configs(argv)[2])}
    dropped = next(k for k, v in meta["train"].items() if k != "steps" and tdefaults[k] == v)
    del meta["train"][dropped]
    (out / "last/config.json").write_text(json.dumps(meta))
    assert state.main(["trained", "--", *argv]) == DONE
    capsys.readouterr()
    # another schedule, another variant, another setting: stop instead of mixing
    assert state.main(["trained", "--", *argv[:-1], "5"]) == CONFLICT
    assert "steps 3, asked 5" in capsys.readouterr().err
    other_variant = train_argv(out, "--variant", "res", "--steps", "3")
    assert state.main(["trained", "--", *other_variant]) == CONFLICT
    assert "variant" in capsys.readouterr().err
    assert state.main(["trained", "--", *argv, "--set", "train.lr=0.5"]) == CONFLICT
    # a retrieval run trained on a neighbour table that has been rebuilt since: a conflict
    pool = tmp_path / "pool"
    pool.mkdir()
    (pool / "neighbours_unused_train.parquet").write_bytes(b"table one")
    res_out = tmp_path / "res"
    res_argv = train_argv(res_out, "--variant", "res", "--steps", "3", "--pool", str(pool))
    write_run(res_out, steps=3, step=3, closed=True, variant="res")
    meta = json.loads((res_out / "last/config.json").read_text())
    from tvnet.retrieval.neighbours import table_digest

    meta["neighbours"] = table_digest(pool / "neighbours_unused_train.parquet")
    (res_out / "last/config.json").write_text(json.dumps(meta))
    assert state.main(["trained", "--", *res_argv]) == DONE
    (pool / "neighbours_unused_train.parquet").write_bytes(b"table two")
    capsys.readouterr()
    assert state.main(["trained", "--", *res_argv]) == CONFLICT
    assert "rebuilt" in capsys.readouterr().err
    # the steps question reads the schedule the way `tvnet train` does
    assert state.main(["steps", "--", *argv]) == 0
    assert capsys.readouterr().out.strip() == "3"


def test_dumped_and_calibrated(tmp_path):
    from tvnet.eval.calibration import fit_calibration
    from tvnet.eval.dump_writer import update_dump

    ckpt = tmp_path / "baseline" / "last"
    h = write_run(tmp_path / "baseline", steps=3, step=3, closed=True)
    dumps = tmp_path / "dumps"
    val, test = dumps / "baseline-val", dumps / "baseline-test"
    assert state.main(["dumped", str(val), str(ckpt)]) == TODO
    for d, split in ((val, "val"), (test, "test")):
        write_hand_dump(d, "baseline", split, run_extra={"checkpoint_hash": h})
    assert state.main(["dumped", str(val), str(ckpt)]) == DONE
    # evaluated from other weights (the run was trained further since): redone
    other = tmp_path / "other"
    write_hand_dump(other, "baseline", "val", run_extra={"checkpoint_hash": "0" * 64})
    assert state.main(["dumped", str(other), str(ckpt)]) == TODO
    # cut off: rows missing, or no run.json (what a kill leaves is a hidden .tmp folder)
    cut = tmp_path / "cut"
    shutil.copytree(val, cut)
    run = json.loads((cut / "run.json").read_text())
    (cut / "run.json").write_text(json.dumps({**run, "n_samples": run["n_samples"] + 1}))
    assert state.main(["dumped", str(cut), str(ckpt)]) == TODO
    (cut / "run.json").unlink()
    assert state.main(["dumped", str(cut), str(ckpt)]) == TODO
    # the right weights, but not the build's evaluation: a part of the split, mirror averaged,
    # another threshold or resolution, words as written (what tvnet eval records of each)
    for extra in ({"split_size": 10}, {"protocol": {"mirror": True}},
                  {"protocol": {"threshold": 0.4}}, {"protocol": {"resolution": "input"}},
                  {"reading": {"literal": True}},
                  {"variant": "full", "influence": {"gate_closed": False}}):  # fmt: skip
        made = write_hand_dump(tmp_path / "made", "baseline", "val",
                               run_extra={"checkpoint_hash": h, **extra})  # fmt: skip
        assert state.main(["dumped", str(made), str(ckpt)]) == TODO, extra
        shutil.rmtree(made)
    # under the build's name, another split's dump, or one computed in fp32 (--no-amp)
    for name, extra in (("baseline-val", {"split": "test"}), ("baseline-test", {"amp": False})):
        made = write_hand_dump(tmp_path / "named" / name, "baseline", "test",
                               run_extra={"checkpoint_hash": h, **extra})  # fmt: skip
        assert state.main(["dumped", str(made), str(ckpt)]) == TODO, extra
    whole = write_hand_dump(tmp_path / "whole", "baseline", "val",
                            run_extra={"checkpoint_hash": h, "split_size": 4,
                                       "reading": {"literal": False}})  # fmt: skip
    assert state.main(["dumped", str(whole), str(ckpt)]) == DONE

    assert state.main(["calibrated", str(ckpt), str(val), str(test)]) == TODO
    rng = np.random.default_rng(0)
    score = rng.random(40)
    cal = fit_calibration(score, score + 0.3 * rng.random(40) > 0.7)
    cal.fitted_on = {"dump": str(val), "split": "val", "n": 4}  # the val dump's 4 rows
    cal.checkpoint_hash = h
    cal.save(ckpt)
    update_dump(val, {"confidence": [0.5] * 4}, {"calibration": {"fitted_on": cal.fitted_on}})
    assert state.main(["calibrated", str(ckpt), str(val), str(test)]) == TODO  # test not yet
    update_dump(test, {"confidence": [0.5] * 4}, {"calibration": {"fitted_on": cal.fitted_on}})
    assert state.main(["calibrated", str(ckpt), str(val), str(test)]) == DONE
    # fitted by hand on a part of the split (tvnet eval --limit): not the build's calibration
    part = json.loads((ckpt / "calibration.json").read_text())
    (ckpt / "calibration.json").write_text(
        json.dumps({**part, "fitted_on": {**part["fitted_on"], "n": 2}})
    )
    assert state.main(["calibrated", str(ckpt), str(val), str(test)]) == TODO
    (ckpt / "calibration.json").write_text(json.dumps(part))
    assert state.main(["calibrated", str(ckpt), str(val), str(test)]) == DONE
    meta = json.loads((ckpt / "config.json").read_text())  # trained further: other weights
    meta["weights_sha256"] = "f" * 64
    (ckpt / "config.json").write_text(json.dumps(meta))
    assert state.main(["calibrated", str(ckpt), str(val), str(test)]) == TODO


def test_package_ships_the_calibration_bound_to_the_fp16_weights(tmp_path):
    from tvnet.checkpoint import read_checkpoint_config
    from tvnet.eval.calibration import fit_calibration, load_calibration

    h = write_run(tmp_path / "full", steps=3, step=3, closed=True, variant="full")
    src = tmp_path / "full" / "last"
    meta = json.loads((src / "config.json").read_text())
    meta["known_words"] = ["the", "red", "star"]  # what a word-piece model was trained on
    run = {"from_step": 0, "to_step": 3, "wall_s": 1.5, "batch_size": 8}
    meta["training_time"] = record.training_time(None, {**run, **record.machine("cpu", False, 1)})
    (src / "config.json").write_text(json.dumps(meta))
    score = np.linspace(0, 1, 20)
    cal = fit_calibration(score, score > 0.5, "platt")
    cal.checkpoint_hash = h
    cal.save(src)
    dst = tmp_path / "assets" / "checkpoints" / "full"
    _tool("package_assets").ship_checkpoint(src, dst, Path("data/synthref"))
    shipped = load_calibration(dst)
    assert read_checkpoint_config(dst)["dtype"] == "float16"
    assert shipped.checkpoint_hash == read_checkpoint_config(dst)["weights_sha256"] != h
    assert json.loads((dst / "calibration.json").read_text())["fitted_on_weights"] == h
    assert shipped.params == load_calibration(src).params
    assert read_checkpoint_config(dst)["known_words"] == ["the", "red", "star"]
    # shipped onto itself (packaged again in place): the calibration stays with its weights,
    # since it is read before the folder is replaced and written inside the new one
    _tool("package_assets").ship_checkpoint(dst, dst, Path("data/synthref"))
    assert load_calibration(dst).checkpoint_hash == read_checkpoint_config(dst)["weights_sha256"]
    # a calibration fitted on other weights than its folder's is not bound to new ones
    stale = tmp_path / "stale"
    shutil.copytree(src, stale)
    cal.checkpoint_hash = "0" * 64
    cal.save(stale)
    before = (dst / "config.json").read_bytes()
    with pytest.raises(SystemExit, match="fitted on other weights"):
        _tool("package_assets").ship_checkpoint(stale, dst, Path("data/synthref"))
    assert (dst / "config.json").read_bytes() == before  # the shipped one as it was
    # nor one that names no weights at all: shipped, it would look fitted on the fp16 ones
    cal.checkpoint_hash = ""
    cal.save(stale)
    with pytest.raises(SystemExit, match="cannot be tied to"):
        _tool("package_assets").ship_checkpoint(stale, dst, Path("data/synthref"))
    assert (dst / "config.json").read_bytes() == before
    # how long and where it trained travels with it (tvnet/record.py)
    assert read_checkpoint_config(dst)["training_time"] == meta["training_time"]
    assert meta["training_time"]["samples"] == 24 and meta["training_time"]["samples_per_s"] == 16
    # its dump, scored from the training weights, is bound to the shipped ones, the training
    # hash kept; a dump of no shipped checkpoint says so
    dump = write_hand_dump(tmp_path / "full-val", "full", "val", run_extra={"checkpoint_hash": h})
    pa = _tool("package_assets")
    pa.ship_dump(dump, tmp_path / "assets/dumps/full-val", Path("data/synthref"), dst, src)
    run = json.loads((tmp_path / "assets/dumps/full-val/run.json").read_text())
    assert run["checkpoint_hash"] == shipped.checkpoint_hash and run["scored_on_weights"] == h
    assert run["weights_note"] == pa.WEIGHTS_NOTE and run["checkpoint"] == str(dst)
    # and says how long its weights trained, where the dump predates tvnet eval copying it
    assert run["training_time"] == meta["training_time"]
    # a dump of other weights (an older run of the variant) keeps its own hash: still stale
    old = write_hand_dump(tmp_path / "old", "full", "val", run_extra={"checkpoint_hash": "0" * 64})
    pa.ship_dump(old, tmp_path / "assets/dumps/old", Path("data/synthref"), dst, src)
    run = json.loads((tmp_path / "assets/dumps/old/run.json").read_text())
    assert run["checkpoint_hash"] == "0" * 64 and "scored_on_weights" not in run
    assert "training_time" not in run  # not these weights' record
    assert run["checkpoint"].startswith("not shipped")  # nor these weights' dump
    # a folder of other dumps (assets/dumps/seed1) or of a checkpoint's name is no copy to
    # replace: refused before anything moves
    seeds = tmp_path / "assets/dumps/seed1"
    shutil.copytree(dump, seeds / "full-val")
    with pytest.raises(SystemExit, match="seed1 holds files but is not a dump folder"):
        pa.ship_dump(dump, seeds, Path("data/synthref"), dst, src)
    with pytest.raises(SystemExit, match="seed1 holds files but is not a checkpoint folder"):
        pa.ship_checkpoint(src, seeds, Path("data/synthref"))
    assert (seeds / "full-val" / "run.json").is_file()
    with pytest.raises(SystemExit, match="no shipped checkpoint"):
        pa.ship_dump(dump, tmp_path / "assets/dumps/x", Path("data/synthref"), tmp_path / "no")
    assert not (tmp_path / "assets/dumps/x").exists()
    pa.ship_dump(dump, tmp_path / "assets/dumps/other", Path("data/synthref"), None)
    run = json.loads((tmp_path / "assets/dumps/other/run.json").read_text())
    assert run["checkpoint_hash"] == h and "scored_on_weights" not in run
    assert run["checkpoint"].startswith("not shipped")
    # shipped again over itself: replaced whole (a stale file of the old copy gone), nothing
    # left beside it; a failure part-way leaves the old copy as it was
    (tmp_path / "assets/dumps/other/stale.txt").write_text("old")
    pa.ship_dump(dump, tmp_path / "assets/dumps/other", Path("data/synthref"), dst, src)
    assert not (tmp_path / "assets/dumps/other/stale.txt").exists()
    assert json.loads((tmp_path / "assets/dumps/other/run.json").read_text())["checkpoint"] == str(
        dst
    )
    before = sorted(p.name for p in (tmp_path / "assets/dumps/other").iterdir())
    (dump / "run.json").write_text("{not json")
    with pytest.raises(ValueError):
        pa.ship_dump(dump, tmp_path / "assets/dumps/other", Path("data/synthref"), dst, src)
    assert sorted(p.name for p in (tmp_path / "assets/dumps/other").iterdir()) == before
    assert json.loads((tmp_path / "assets/dumps/other/run.json").read_text())["checkpoint"] == str(
        dst
    )
    assert sorted(p.name for p in (tmp_path / "assets/dumps").iterdir()) == [
        "full-val",
        "old",
        "other",
        "seed1",
    ]


def test_trained_on_another_split_is_a_conflict(tmp_path, capsys):
    # TRAIN_SIZE changed between builds: a baseline records no neighbour table, so the
    # count of training samples is what tells the runs apart
    from tvnet.data.refer import open_refer
    from tvnet.data.synthref import generate

    data = generate(tmp_path / "data", seed=0, train=6, val=2, test=2, workers=1, progress=False)
    n = len(open_refer(data).samples("train"))
    out = tmp_path / "baseline"
    argv = train_argv(out, "--variant", "baseline", "--steps", "3")
    argv[argv.index("--data") + 1] = str(data)
    write_run(out, steps=3, step=3, closed=True)
    meta = json.loads((out / "last/config.json").read_text())
    for name, samples, want in (
        ("synthref", n, DONE),
        (None, n, DONE),  # a record from before the name was kept
        ("synthref", n * 5, CONFLICT),
        ("refcoco", n, CONFLICT),
    ):
        meta["data"] = {"data_dir": "/elsewhere/synthref", "train_samples": samples}
        if name:
            meta["data"]["name"] = name
        (out / "last/config.json").write_text(json.dumps(meta))
        assert state.main(["trained", "--", *argv]) == want
    err = capsys.readouterr().err
    assert f"synthref ({n * 5} training samples)" in err and f"refcoco ({n} training" in err


def test_package_refuses_an_unfinished_run_a_foreign_dump_and_a_taken_name(
    tmp_path, monkeypatch, capsys
):
    """--ship-checkpoint/--ship-dump are checked before anything is written: a run stopped
    before its last step, a dump scored from other weights than its source holds now, an
    existing name (without --replace, which names the shipped dumps bound to what it
    replaced); a dump's hidden leftovers (an interrupted rewrite) do not travel."""
    from tvnet.config import CHECKPOINT_WEIGHTS

    pa = _tool("package_assets")
    assets = tmp_path / "assets"

    def package(*argv: str) -> None:
        monkeypatch.setattr(sys, "argv", ["package_assets.py", "--assets", str(assets),
                                          "--only-shipped", *argv])  # fmt: skip
        pa.main()

    h = write_run(tmp_path / "res_cct", steps=3, step=3, closed=True, variant="res_cct")
    src = tmp_path / "res_cct" / "last"
    dump = write_hand_dump(tmp_path / "val", "res_cct", "val",
                           run_extra={"checkpoint": str(src), "checkpoint_hash": h})  # fmt: skip
    (dump / ".samples.parquet.x.tmp").write_text("left by a crash")
    write_run(tmp_path / "half", steps=3, step=2, closed=False, variant="res_cct")
    ship = ["--ship-checkpoint", str(src), "res_cct-x", "--ship-dump", str(dump), "res_cct-x-val"]
    with pytest.raises(SystemExit, match="stopped at step 2 of 3"):
        package("--ship-checkpoint", str(tmp_path / "half" / "last"), "half")
    stale = write_hand_dump(tmp_path / "stale", "res_cct", "val",
                            run_extra={"checkpoint": str(src), "checkpoint_hash": "0" * 64})  # fmt: skip
    with pytest.raises(SystemExit, match="scored from other weights"):
        package(*ship[:3], "--ship-dump", str(stale), "res_cct-x-val")
    assert not assets.exists()  # refused before anything was written
    package(*ship)
    shipped = json.loads((assets / "dumps/res_cct-x-val/run.json").read_text())
    assert shipped["scored_on_weights"] == h and shipped["checkpoint"] == str(
        assets / "checkpoints/res_cct-x"
    )
    assert (
        sorted(p.name for p in (assets / "dumps/res_cct-x-val").iterdir() if p.name[0] == ".") == []
    )
    before = (assets / "checkpoints/res_cct-x" / CHECKPOINT_WEIGHTS).read_bytes()
    with pytest.raises(SystemExit, match="res_cct-x exists: another name, or --replace"):
        package(*ship[:3])
    assert (assets / "checkpoints/res_cct-x" / CHECKPOINT_WEIGHTS).read_bytes() == before
    capsys.readouterr()
    package(*ship[:3], "--replace")  # its dump not shipped again: named as stale
    assert "res_cct-x-val was scored from the replaced" in capsys.readouterr().out
    package(*ship, "--replace")
    assert "scored from the replaced" not in capsys.readouterr().out
    # what --allow-unfinished lets through
    package("--ship-checkpoint", str(tmp_path / "half" / "last"), "half", "--allow-unfinished")
    assert (assets / "checkpoints/half/config.json").is_file()


def test_the_table1_set_is_checked_before_anything_is_written(tmp_path, monkeypatch):
    """A Table 1 run stopped before its last step (or with a calibration of other weights)
    used to be found when its turn came, after the variants before it were replaced: new
    weights beside the old dumps. Every Table 1 checkpoint is checked first now."""
    pa = _tool("package_assets")
    assets, runs = tmp_path / "assets", tmp_path / "runs"
    write_run(runs / "baseline", steps=3, step=3, closed=True, variant="baseline")
    write_run(runs / "res_cct", steps=3, step=2, closed=False, variant="res_cct")
    monkeypatch.setattr(sys, "argv", ["package_assets.py", "--assets", str(assets),
                                      "--runs", str(runs)])  # fmt: skip
    with pytest.raises(SystemExit, match="res_cct/last stopped at step 2 of 3"):
        pa.main()
    assert not (assets / "checkpoints").exists()  # baseline was not replaced first


@pytest.mark.parametrize("name", ["", ".", "seed1/..", "/abs"])
def test_package_refuses_a_name_that_is_not_a_folder_under_assets(tmp_path, name):
    """ "" or "." would name assets/checkpoints itself, which a shipped checkpoint replaces
    whole: refused before anything is read or written."""
    (tmp_path / "checkpoints" / "keep").mkdir(parents=True)
    out = subprocess.run(
        [sys.executable, str(REPO / "tools" / "package_assets.py"), "--assets", str(tmp_path),
         "--only-shipped", "--ship-checkpoint", str(tmp_path / "src"), name],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2 and "must name a folder under assets/" in out.stderr
    assert (tmp_path / "checkpoints" / "keep").is_dir()
    # the other seeds' folder likewise; and a Table 1 variant's name outside --only-shipped
    for argv in (["--only-shipped", "--other-name", name],
                 ["--ship-checkpoint", str(tmp_path / "src"), "full"]):  # fmt: skip
        out = subprocess.run(
            [sys.executable, str(REPO / "tools" / "package_assets.py"), "--assets",
             str(tmp_path), *argv],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert out.returncode == 2, out.stderr
        assert "must name a folder" in out.stderr or "is a Table 1 variant's folder" in out.stderr


def test_a_pool_of_another_folder_of_the_same_name_is_built_again(tiny_synthref, tmp_path, capsys):
    """Every SynthRef folder is named "synthref" whatever its seed: the build's pool check
    reads the entries, so a pool of another folder is rebuilt, not skipped as done."""
    pool, data = tiny_synthref["pool"], tiny_synthref["data"]
    assert state.check_pool(pool, data) == state.DONE
    other = tmp_path / "other"
    shutil.copytree(data, other, ignore=shutil.ignore_patterns("images"))
    refs = next(other.glob("refs(*).json"))
    rows = json.loads(refs.read_text())
    first = next(r for r in rows if r["split"] == "train")
    first["sentences"][0]["sent"] = "the purple hexagon"
    refs.write_text(json.dumps(rows))
    assert state.check_pool(pool, other) == state.TODO
    assert "built from another dataset folder" in capsys.readouterr().err


@pytest.mark.slow
def test_a_tiny_build_runs_end_to_end_and_a_rerun_redoes_nothing(tmp_path):
    """The script itself, as its --help's tiny build (≈ 1 min): data, pool, two variants
    trained, evaluated and (too few answers) not calibrated; run again after a checkpoint
    swap was cut off between its renames (the checkpoint set aside) and a later write before its
    swap, it puts the checkpoint back, removes the half-written one and redoes nothing but the
    calibrations it could not fit."""
    env = {**os.environ, "OUT_ROOT": str(tmp_path), "SYNTH_TRAIN": "60", "SYNTH_VAL": "20",
           "SYNTH_TEST": "20", "STEPS": "3", "VARIANTS": "baseline full", "PACKAGE": "0"}  # fmt: skip

    def build() -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "tools/build_default.sh"], cwd=REPO, env=env, text=True,
                               capture_output=True, timeout=1200)  # fmt: skip

    first = build()
    assert first.returncode == 3, first.stdout[-3000:] + first.stderr[-3000:]  # no calibration
    runs = tmp_path / "runs"
    for v in ("baseline", "full"):
        for s in ("val", "test"):
            assert (runs / "dumps" / f"{v}-{s}" / "run.json").is_file()
    log = runs / "full" / "log.jsonl"
    steps = [line for line in log.read_text().splitlines() if '"loss"' in line]
    assert steps  # one line a 10 steps, and the last
    (runs / "full" / "last").rename(runs / "full" / ".last.cut.old")
    (runs / "full" / ".last.cut2.tmp").mkdir()  # a later write, cut off before its swap
    (runs / "full" / ".last.cut2.tmp" / "model.safetensors").write_bytes(b"half")
    again = build()
    said = again.stdout + again.stderr
    assert again.returncode == 3, said[-3000:]
    assert (runs / "full" / "last" / "config.json").is_file()
    assert not list((runs / "full").glob(".last.*"))
    # resumed at its last step, not started over: the log keeps its steps, the dumps stand
    assert [line for line in log.read_text().splitlines() if '"loss"' in line] == steps
    for s in ("val", "test"):
        assert f"skip (whole): dump {runs / 'dumps' / f'full-{s}'}" in said
    assert "skip (whole): training of baseline" in said
