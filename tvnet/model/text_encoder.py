"""Expression encoder (docs/design.md §2): GloVe-initialised word embeddings + one LSTM layer.

The sentence vector s is the hidden state at the last *valid* token (packed sequence), so
extra padding never changes it; s is L2-normalised.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from tvnet.weights import load_glove


def whiten_rows(vecs: np.ndarray, shrink: float = 0.1) -> np.ndarray:
    """Soft ZCA whitening of word vectors (rows): centre them, rescale every principal
    direction of the set to about equal variance (eigenvalue λ → λ/(λ + shrink·mean λ)), and
    give the rows back their original mean norm. Words that GloVe places close together
    because they share a topic (all colour words: mean cosine 0.81 in GloVe 6B 50d) start
    about as distinct as any two words of the vocabulary."""
    x = np.asarray(vecs, np.float64)
    if len(x) < 2:
        return np.asarray(vecs, np.float32).copy()
    centred = x - x.mean(0)
    _, sv, vt = np.linalg.svd(centred, full_matrices=False)
    lam = sv**2 / len(x)
    scale = 1.0 / np.sqrt(lam + shrink * lam.mean() + 1e-12)
    white = (centred @ vt.T) * scale @ vt
    norm = np.linalg.norm(x, axis=1).mean()
    white *= norm / max(np.linalg.norm(white, axis=1).mean(), 1e-12)
    return white.astype(np.float32)


def glove_init(
    words: list[str], source: str, dim: int, seed: int = 0, whiten: bool = False
) -> tuple[np.ndarray, int]:
    """Embedding matrix for ``words``: GloVe rows where known (``whiten``: those rows passed
    through :func:`whiten_rows`); OOV rows ~N(0, 0.6·std(GloVe)); row 0 (padding) zero.
    Returns (matrix, number of words found)."""
    vecs, found = load_glove(source, words)
    if vecs.shape[1] != dim:
        raise ValueError(
            f"word vectors {source} are {vecs.shape[1]}-d, the preset says word_dim={dim}"
        )
    if whiten and found[1:].sum() >= 2:  # row 0 is padding, never a word
        rows = np.flatnonzero(found)
        rows = rows[rows > 0]
        vecs[rows] = whiten_rows(vecs[rows])
    std = float(np.nanstd(vecs[found])) if found.any() else 1.0
    rng = np.random.default_rng(seed)
    oov = ~found
    vecs[oov] = rng.normal(0.0, 0.6 * std, size=(int(oov.sum()), dim)).astype(np.float32)
    vecs[0] = 0.0
    return vecs.astype(np.float32), int(found[1:].sum())


class TextEncoder(nn.Module):
    def __init__(self, vocab_size: int, word_dim: int, d_s: int):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, word_dim, padding_idx=0)
        self.lstm = nn.LSTM(word_dim, d_s, batch_first=True)
        self.d_s = d_s

    def load_vectors(self, matrix: np.ndarray) -> None:
        with torch.no_grad():
            self.embed.weight.copy_(torch.from_numpy(matrix))

    def forward(
        self, tokens: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """tokens B×T, lengths B → words B×T×d_s (0 at padding), s B×d_s (unit norm), mask B×T."""
        T = tokens.shape[1]
        lengths = lengths.clamp(min=1, max=T)
        emb = self.embed(tokens)  # B×T×d_w
        packed = pack_padded_sequence(emb, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, (h, _) = self.lstm(packed)
        words, _ = pad_packed_sequence(out, batch_first=True, total_length=T)  # B×T×d_s
        s = F.normalize(h[-1], dim=-1)  # B×d_s
        mask = torch.arange(T, device=tokens.device)[None] < lengths.to(tokens.device)[:, None]
        return words, s, mask
