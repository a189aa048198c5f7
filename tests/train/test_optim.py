"""The optimiser state saved beside a checkpoint, with the fp16 loss scaler's."""

import json
import math

import pytest
import torch

from tvnet.checkpoint import CheckpointError
from tvnet.config import TrainConfig
from tvnet.train.optim import load_optimizer, make_optimizer, save_optimizer


def _stepped(scaler: torch.amp.GradScaler | None = None):
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 2)
    opt = make_optimizer(net, TrainConfig(lr=1e-2))
    for _ in range(3):
        loss = net(torch.randn(4, 3)).square().mean()
        if scaler is None:
            loss.backward()
            opt.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        opt.zero_grad()
    return net, opt


def test_the_loss_scaler_state_survives_a_resume(tmp_path):
    """A real, enabled scaler (the CPU's, which runs here; a CUDA one saves the same dict):
    after an overflow halves its scale, the resumed run starts from that scale, not 2**16."""
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=2)
    net, opt = _stepped(scaler)
    inf = net(torch.randn(1, 3)).sum() * float("inf")  # an overflowing step: scale backs off
    scaler.scale(inf).backward()
    scaler.step(opt)
    scaler.update()
    want = scaler.state_dict()
    assert want["scale"] == 2.0**10 * 2 / 2  # grew once after 2 good steps, then halved
    save_optimizer(opt, tmp_path, 4, scaler)
    assert json.loads((tmp_path / "optimizer.json").read_text())["scaler"] == want

    fresh = torch.amp.GradScaler("cpu")
    # into an optimiser that never stepped, with another lr: all it holds then comes from
    # the file (one stepped alike would hold the same moments before any load)
    torch.manual_seed(0)
    opt2 = make_optimizer(torch.nn.Linear(3, 2), TrainConfig(lr=5e-3))
    assert not opt2.state_dict()["state"]
    assert load_optimizer(opt2, tmp_path, 4, fresh) == 4
    assert fresh.state_dict() == want
    got, had = opt2.state_dict(), opt.state_dict()
    assert got["state"].keys() == had["state"].keys()
    for k, a in had["state"].items():
        for name in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(a[name], got["state"][k][name]), name
    assert [g["lr"] for g in got["param_groups"]] == [g["lr"] for g in had["param_groups"]]
    assert all(g["lr"] == 1e-2 for g in got["param_groups"])


def test_the_poly_schedule_by_hand():
    from tvnet.train.optim import poly_lr

    assert poly_lr(0, 10, 1e-2, 0.9) == 1e-2
    assert math.isclose(poly_lr(5, 10, 1e-2, 0.9), 1e-2 * 0.5**0.9, rel_tol=1e-12)  # 5.3589e-3
    assert math.isclose(poly_lr(9, 10, 1e-2, 1.0), 1e-3, rel_tol=1e-12)
    assert poly_lr(10, 10, 1e-2, 0.9) == 0 and poly_lr(12, 10, 1e-2, 0.9) == 0  # past the end


def test_without_fp16_nothing_of_a_scaler_is_saved_and_a_mismatched_step_is_refused(tmp_path):
    _, opt = _stepped()
    save_optimizer(opt, tmp_path, 3, torch.amp.GradScaler("cpu", enabled=False))
    assert "scaler" not in json.loads((tmp_path / "optimizer.json").read_text())
    off = torch.amp.GradScaler("cpu", enabled=False)
    assert load_optimizer(opt, tmp_path, 3, off) == 3
    fresh = torch.amp.GradScaler("cpu", init_scale=8.0)  # fp16 asked for on resuming: default
    assert load_optimizer(opt, tmp_path, 3, fresh) == 3 and fresh.get_scale() == 8.0
    with pytest.raises(
        CheckpointError, match="optimizer state is of step 3, the weights of step 5"
    ):
        load_optimizer(opt, tmp_path, 5)


def test_an_empty_saved_scaler_state_is_a_corrupt_checkpoint(tmp_path):
    _, opt = _stepped()
    save_optimizer(opt, tmp_path, 3)
    meta = json.loads((tmp_path / "optimizer.json").read_text())
    (tmp_path / "optimizer.json").write_text(json.dumps({**meta, "scaler": {}}))
    with pytest.raises(CheckpointError, match="loss scaler's saved state is empty"):
        load_optimizer(opt, tmp_path, 3, torch.amp.GradScaler("cpu"))
