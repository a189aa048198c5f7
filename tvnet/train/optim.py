"""The optimiser of ``tvnet train`` (docs/design.md §6): Adam with weight decay on weight
matrices only, the poly learning-rate schedule, and the optimiser state saved beside a
checkpoint's weights so that ``--resume`` continues bit-for-bit, with the fp16 loss scaler's
state where one runs (a CUDA GPU without bf16)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from tvnet.config import TrainConfig


def poly_lr(step: int, steps: int, lr: float, power: float) -> float:
    """The poly schedule's learning rate at ``step`` of ``steps`` (0 from the last step on)."""
    return lr * (1 - min(step, steps) / steps) ** power


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """Adam with weight decay on the conv/linear/LSTM weight matrices only.

    ``decoupled`` (default) is AdamW: each step shrinks a weight by ``lr·wd``. ``l2`` is Adam
    with the decay added to the gradient (the literal reading of "Adam, weight decay 5e-4").
    Under ``l2`` Adam normalises the decay term like any gradient, so a parameter whose loss
    gradient is smaller than ``wd·w`` — the language path early in training — shrinks by about
    ``lr`` per step whatever its loss gradient says: on SynthRef it took the LSTM's recurrent
    weights from norm 18.5 to 0.5 in 250 steps and the model stopped reading the expression.
    Biases, norm scales and word embeddings are never decayed.
    """
    decay, keep = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        no_decay = p.ndim < 2 or name.startswith("text.embed.")
        (keep if no_decay else decay).append(p)
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay},
        {"params": keep, "weight_decay": 0.0},
    ]
    adam = torch.optim.AdamW if cfg.weight_decay_mode == "decoupled" else torch.optim.Adam
    return adam(groups, lr=cfg.lr)


def save_optimizer(
    opt: torch.optim.Optimizer,
    folder: Path,
    step: int,
    scaler: torch.amp.GradScaler | None = None,
) -> None:
    """Write ``opt``'s state (and an enabled ``scaler``'s: its scale and growth count, which a
    resumed fp16 run would otherwise find again only by overflowing) into ``folder``."""
    from safetensors.torch import save_file

    sd = opt.state_dict()
    tensors = {
        f"{i}.{k}": v.detach().cpu().contiguous()
        for i, st in sd["state"].items()
        for k, v in st.items()
    }
    save_file(tensors, str(folder / "optimizer.safetensors"))
    meta = {"step": step, "param_groups": sd["param_groups"]}
    if scaler is not None and scaler.is_enabled():
        meta["scaler"] = scaler.state_dict()  # floats and ints
    (folder / "optimizer.json").write_text(json.dumps(meta))


def load_optimizer(
    opt: torch.optim.Optimizer,
    folder: Path,
    step: int | None,
    scaler: torch.amp.GradScaler | None = None,
) -> int:
    """The optimiser state saved with the checkpoint ``folder`` of training step ``step``
    (its config.json's; None when it records none) → the step to go on from. A missing,
    corrupt or mismatched state is a CheckpointError, never a silent restart from step 0. An
    enabled ``scaler`` takes the saved scale, when the run saved one (a run that switched to
    fp16 autocast on resuming starts from the default scale)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from tvnet.checkpoint import CheckpointError

    if not (folder / "optimizer.json").is_file():
        if not step:
            return 0
        raise CheckpointError(
            f"{folder} holds the weights of step {step} but no optimizer state (optimizer.json): "
            "a save of an earlier version was interrupted. Resuming would restart the schedule "
            "at step 0; start a new --out, with --init "
            f"{folder} to keep the weights"
        )
    try:
        meta = json.loads((folder / "optimizer.json").read_text())
        state: dict[int, dict[str, torch.Tensor]] = {}
        for key, v in load_file(str(folder / "optimizer.safetensors")).items():
            i, k = key.split(".", 1)
            state.setdefault(int(i), {})[k] = v
        opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
        saved = int(meta["step"])
        saved_scaler = meta.get("scaler")
        if scaler is not None and scaler.is_enabled() and isinstance(saved_scaler, dict):
            if not saved_scaler:
                raise ValueError("the loss scaler's saved state is empty")
            scaler.load_state_dict(saved_scaler)
    except (OSError, ValueError, KeyError, TypeError, SafetensorError) as e:
        raise CheckpointError(
            f"the optimizer state in {folder} is corrupt ({type(e).__name__}: {e}); start a new "
            f"--out, with --init {folder} to keep the weights"
        ) from e
    if step is not None and saved != step:
        raise CheckpointError(
            f"{folder}: the optimizer state is of step {saved}, the weights of step {step}"
        )
    return saved
