"""One pass of the network's text transformer for RES stage 1 and the network (docs/design.md §7,
"One text pass").

The ``cpu`` preset reads words with the frozen token states of all-MiniLM-L6-v2
(``text_encoder="hf_tokens"``), the model RES stage 1 encodes sentences with. The sentence
encoder's vector is the masked mean of those states, L2-normalised, so one transformer pass
serves both: the network gets the states, retrieval their mean. The states are computed in
the network's precision (bf16 under autocast), as the network would compute them itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from tvnet.model.hf_text import hf_model_dir
from tvnet.retrieval.text_encoder import sentence_vector

__all__ = ["sentence_vector", "text_model_shared", "text_states"]


def text_model_shared(model: Any, retriever: Any) -> bool:
    """Whether ``retriever``'s sentence encoder is ``model``'s own text transformer
    (``hf_tokens`` with the same model folder) and reads at least as many word pieces."""
    cfg, enc = model.cfg, getattr(retriever, "text_encoder", None)
    if not model.uses_retrieval or cfg.text_encoder != "hf_tokens" or enc is None:
        return False
    try:
        same = hf_model_dir(cfg.text_model).resolve() == Path(enc.model_dir).resolve()
        return same and cfg.max_tokens <= enc.max_length
    except (OSError, AttributeError):
        return False


def text_states(
    model: Any, tokens: torch.Tensor, lengths: torch.Tensor, device: str, amp: bool
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``model``'s text states (B×T×dim, mask) of tokens 1×T, or None when the expression was
    cut at the network's ``max_tokens`` (T): the sentence encoder reads more word pieces, so
    the two would not read the same words and the sentence is encoded apart."""
    if int(lengths[0]) >= tokens.shape[1]:
        return None
    from tvnet.amp import autocast_context

    with autocast_context(device, amp):
        return model.text.states(tokens, lengths)
