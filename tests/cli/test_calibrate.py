"""``tvnet calibrate`` (tvnet/cli/calibrate.py) and the confidence columns ``tvnet eval``
writes with a calibrated checkpoint."""

import json

import numpy as np
import pytest

from tests.conftest import save_tiny_model
from tvnet import load_calibration, load_dump
from tvnet.checkpoint import read_checkpoint_config
from tvnet.cli import main
from tvnet.eval.calibration import Calibration, expected_calibration_error
from tvnet.eval.dump_writer import DumpWriter
from tvnet.eval.metrics import RISEvaluator


def _dump(path, split, ckpt_hash, n=200, seed=0, threshold=0.5, **protocol):
    """A dump whose answers are right (IoU 1) with probability = their score."""
    rng = np.random.default_rng(seed)
    gt = np.zeros((10, 10), bool)
    gt[2:6, 2:6] = True  # 16 % of the image
    records = []
    for k in range(n):
        score = float(rng.uniform())
        right = rng.uniform() < score
        records.append(
            {
                "pred": gt if right else np.roll(gt, 5, axis=1),
                "gt": gt,
                "sample_id": k,
                "image_id": k // 2,  # two expressions per image
                "score": score,
                "image_similarity": 0.5 + (k // 2) / n,
            }
        )
    info = {"split": split, "variant": "full", "checkpoint_hash": ckpt_hash}
    info["protocol"] = {"threshold": threshold, "resolution": "original", **protocol}
    with DumpWriter(path, info) as w:
        ev = RISEvaluator("full", split, dump=w)
        ev.process(records)
        w.close(metrics=ev.evaluate())
    return path


@pytest.fixture
def ckpt(tiny_synthref, tmp_path):
    return save_tiny_model(tiny_synthref["refer"], "full", tmp_path / "ckpt")


def test_calibrate_fits_on_val_and_fills_the_confidence_columns(ckpt, tmp_path, capsys):
    sha = read_checkpoint_config(ckpt)["weights_sha256"]
    val = _dump(tmp_path / "val", "val", sha)
    test = _dump(tmp_path / "test", "test", sha, seed=1)
    args = ["calibrate", "--checkpoint", str(ckpt), "--dump", str(val), "--apply", str(test)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "ECE" in out and "written" in out
    raw = json.loads((ckpt / "calibration.json").read_text())
    assert raw["written_by"] == "tvnet calibrate" and raw["checkpoint_hash"] == sha
    assert raw["fitted_on"]["split"] == "val" and raw["fitted_on"]["n"] == 200
    assert raw["fitted_on"]["threshold"] == 0.5
    # one similarity per image (100 images), quantiles as numpy computes them
    sims = 0.5 + np.arange(100) / 200
    assert raw["image_similarity"]["q01"] == pytest.approx(np.quantile(sims, 0.01))
    assert raw["image_similarity"]["median"] == pytest.approx(np.median(sims))
    assert raw["mask_area"]["q01"] == pytest.approx(0.16)
    cal = load_calibration(ckpt)
    for d in (val, test):
        dump = load_dump(d)
        np.testing.assert_allclose(dump.samples.confidence, cal(dump.samples.score.to_numpy()))
        assert dump.run["calibration"]["method"] == cal.method
    # the score is already a probability: calibration keeps it one on held-out data
    t = load_dump(test).samples
    assert expected_calibration_error(t.confidence, t.iou >= 0.5) < 0.1


def test_calibrate_refuses_test_splits_other_weights_and_scoreless_dumps(ckpt, tmp_path, capsys):
    sha = read_checkpoint_config(ckpt)["weights_sha256"]
    test = _dump(tmp_path / "test", "test", sha)
    assert main(["calibrate", "--checkpoint", str(ckpt), "--dump", str(test)]) == 2
    assert "honest check" in capsys.readouterr().err
    other = _dump(tmp_path / "other", "val", "0" * 64)
    assert main(["calibrate", "--checkpoint", str(ckpt), "--dump", str(other)]) == 2
    assert "other weights" in capsys.readouterr().err
    assert not (ckpt / "calibration.json").exists()
    assert main(["calibrate", "--checkpoint", str(ckpt), "--dump", str(other), "--force"]) == 0
    (ckpt / "calibration.json").unlink()
    # answers on the training expressions; a dump that records no weights (another model's,
    # renamed, would calibrate this one silently); one of another variant
    train_dump = _dump(tmp_path / "train", "train", sha)
    assert main(["calibrate", "--checkpoint", str(ckpt), "--dump", str(train_dump)]) == 2
    assert "is a train dump: calibrate on val" in capsys.readouterr().err
    unknown = _dump(tmp_path / "unknown", "val", "")
    assert main(["calibrate", "--checkpoint", str(ckpt), "--dump", str(unknown)]) == 2
    assert "does not record the weights it was evaluated from" in capsys.readouterr().err
    res = _dump(tmp_path / "res", "val", sha)
    run = json.loads((res / "run.json").read_text())
    (res / "run.json").write_text(json.dumps({**run, "variant": "res"}))
    import pyarrow.parquet as pq

    rows = pq.read_table(res / "samples.parquet").to_pandas().assign(variant="res")
    rows.to_parquet(res / "samples.parquet", index=False)
    assert main(["calibrate", "--checkpoint", str(ckpt), "--dump", str(res)]) == 2
    assert "holds answers of res, the checkpoint is full" in capsys.readouterr().err
    assert not (ckpt / "calibration.json").exists()

    old = tmp_path / "old"
    _dump(old, "val", sha)
    pq.write_table(pq.read_table(old / "samples.parquet").drop(["score"]), old / "samples.parquet")
    assert main(["calibrate", "--checkpoint", str(ckpt), "--dump", str(old)]) == 2
    assert "no score column" in capsys.readouterr().err


def test_calibrate_fits_on_direct_answers_at_the_original_resolution_only(ckpt, tmp_path, capsys):
    """The confidence is fitted on direct answers compared at the image's own size (design.md
    §7): a mirror-averaged or input-resolution dump would skew every later confidence; a
    damaged protocol record is an error message, not a traceback."""
    sha = read_checkpoint_config(ckpt)["weights_sha256"]
    for name, protocol, said in (
        ("mirror", {"mirror": True}, "mirror-averaged answers"),
        ("input", {"resolution": "input"}, "resolution 'input'"),
    ):
        d = _dump(tmp_path / name, "val", sha, **protocol)
        assert main(["calibrate", "--checkpoint", str(ckpt), "--dump", str(d)]) == 2
        assert said in capsys.readouterr().err
        assert not (ckpt / "calibration.json").exists()
    assert main(["calibrate", "--checkpoint", str(ckpt), "--dump", str(d), "--force"]) == 0
    fitted = json.loads((ckpt / "calibration.json").read_text())["fitted_on"]
    assert (fitted["resolution"], fitted["mirror"]) == ("input", False)
    damaged = _dump(tmp_path / "damaged", "val", sha)
    run = json.loads((damaged / "run.json").read_text())
    (damaged / "run.json").write_text(json.dumps({**run, "protocol": "cmpc"}))
    assert main(["calibrate", "--checkpoint", str(ckpt), "--dump", str(damaged)]) == 2
    assert "damaged/run.json: run.json's protocol must be a JSON object" in capsys.readouterr().err
    (damaged / "run.json").write_text(json.dumps({**run, "checkpoint_hash": 12345}))
    assert main(["calibrate", "--checkpoint", str(ckpt), "--dump", str(damaged)]) == 2
    assert "other weights (checkpoint_hash 12345…" in capsys.readouterr().err


def test_too_few_answers_to_fit_is_its_own_exit_status(ckpt, tmp_path, capsys):
    """A dump that gives no calibration (a few answers, as after a few test steps) exits with
    status 3, which tools/build_default.sh counts as a gap, apart from a failure (status 2)."""
    sha = read_checkpoint_config(ckpt)["weights_sha256"]
    few = _dump(tmp_path / "few", "val", sha, n=4)
    assert main(["calibrate", "--checkpoint", str(ckpt), "--dump", str(few)]) == 3
    assert "gives no usable calibration" in capsys.readouterr().err
    assert not (ckpt / "calibration.json").exists()
    assert main(["calibrate", "--checkpoint", str(ckpt), "--dump", str(tmp_path / "gone")]) == 2


def test_calibrate_checks_every_dump_before_writing_anything(ckpt, tmp_path, capsys):
    """A dump cut at another threshold cannot take the confidence fitted at 0.5; it is found
    before calibration.json or any dump is written."""
    sha = read_checkpoint_config(ckpt)["weights_sha256"]
    val = _dump(tmp_path / "val", "val", sha)
    other = _dump(tmp_path / "t04", "test", sha, seed=1, threshold=0.4)
    args = ["calibrate", "--checkpoint", str(ckpt), "--dump", str(val), "--apply", str(other)]
    assert main(args) == 2
    assert "another threshold" in capsys.readouterr().err
    assert not (ckpt / "calibration.json").exists()
    assert load_dump(val).samples["confidence"].isna().all()


def test_eval_with_a_calibrated_checkpoint_writes_confidence(tiny_synthref, ckpt, tmp_path, capsys):
    sha = read_checkpoint_config(ckpt)["weights_sha256"]
    cal = Calibration("platt", {"a": 3.0, "b": -1.0}, checkpoint_hash=sha)
    cal.save(ckpt)
    out = tmp_path / "d"
    args = ["eval", "--checkpoint", str(ckpt), "--data", str(tiny_synthref["data"])]
    args += ["--split", "val", "--pool", str(tiny_synthref["pool"]), "--out", str(out)]
    assert main([*args, "--no-amp", "--device", "cpu", "--quiet"]) == 0
    dump = load_dump(out)
    df = dump.samples
    np.testing.assert_allclose(df.confidence, cal(df.score.to_numpy()))
    assert df.image_similarity.between(-1, 1).all() and df.randnb_iou.notna().all()
    assert dump.run["calibration"]["method"] == "platt"
    assert dump.run["influence"]["random_neighbour"] is True
    # a calibration of other weights is not used
    Calibration("platt", {"a": 3.0, "b": -1.0}, checkpoint_hash="f" * 64).save(ckpt)
    assert main([*args, "--no-amp", "--device", "cpu", "--quiet", "--limit", "2"]) == 0
    assert load_dump(out).samples.confidence.isna().all()
    # nor one that records no weights at all
    Calibration("platt", {"a": 3.0, "b": -1.0}).save(ckpt)
    assert main([*args, "--no-amp", "--device", "cpu", "--quiet", "--limit", "2"]) == 0
    assert load_dump(out).samples.confidence.isna().all()
    assert "records no weights hash" in capsys.readouterr().out
    # nor one fitted at another threshold (0.5 here: no confidence, no record at 0.4)
    cal.save(ckpt)
    quick = [*args, "--no-amp", "--device", "cpu", "--quiet", "--limit", "2", "--threshold"]
    assert main([*quick, "0.4"]) == 0
    assert load_dump(out).samples.confidence.isna().all()
    assert load_dump(out).run["calibration"] is None
    with pytest.raises(SystemExit) as e:  # argparse: a threshold lies in (0, 1)
        main([*quick, "1.5"])
    assert e.value.code == 2
