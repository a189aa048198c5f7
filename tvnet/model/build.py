"""Builders: a preset name + a variant → a TV-Net (segment-anything style dict of presets)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tvnet.config import ModelConfig, preset_config
from tvnet.data.tokenize import PAD, UNK, Vocab
from tvnet.model.hf_text import SubwordVocab
from tvnet.model.text_encoder import glove_init
from tvnet.model.tvnet import TVNet


def default_vocab(cfg: ModelConfig, size: int = 20_000) -> Vocab:
    """Without a dataset: the ``size`` most frequent GloVe words (package preset only)."""
    from tvnet.weights import PACKAGE_GLOVE, frequent_words

    if cfg.word_vectors != PACKAGE_GLOVE:
        return Vocab([PAD, UNK])
    words = frequent_words(size)
    return Vocab([PAD, UNK, *[w for w in words if w not in (PAD, UNK)]])


def dataset_vocab(cfg: ModelConfig, sentences: Iterable[str]) -> Vocab | SubwordVocab:
    """The vocabulary a new model of ``cfg`` reads: the words of the training ``sentences``
    (``glove_lstm``), or the text model's own WordPiece tokenizer (``hf_tokens``)."""
    if cfg.text_encoder == "hf_tokens":
        return SubwordVocab(cfg.text_model)
    return Vocab.build(sentences)


def build_model(
    preset: str | ModelConfig = "cpu",
    variant: str | None = None,
    vocab: Vocab | None = None,
    pretrained: bool = True,
    **overrides: Any,
) -> TVNet:
    """Build TV-Net.

    preset: ``"cpu"`` (embedded default) or ``"paper"``, or a full ModelConfig.
    variant: ``baseline`` | ``res`` | ``res_cct`` | ``full`` (default full; the paper's Table 1 rows).
    vocab: the dataset vocabulary (default: the most frequent GloVe words; with
    ``text_encoder="hf_tokens"`` always the text model's WordPiece tokenizer).
    pretrained: load backbone ImageNet weights and GloVe vectors (False: random init, e.g.
    before loading a checkpoint, or for tests).
    """
    if isinstance(preset, ModelConfig):
        cfg = preset.replace(**({"variant": variant} if variant else {}), **overrides)
    else:
        cfg = preset_config(preset, variant or "full", **overrides)
    if pretrained:
        _require_weights(cfg)
    if cfg.text_encoder == "hf_tokens":
        if vocab is not None and not isinstance(vocab, SubwordVocab):
            raise ValueError(
                "an hf_tokens model reads with its text model's tokenizer, not a Vocab"
            )
        vocab = vocab or SubwordVocab(cfg.text_model)
    elif vocab is None:
        vocab = default_vocab(cfg) if pretrained else Vocab([PAD, UNK])
    model = TVNet(cfg, vocab, pretrained=pretrained)
    if pretrained and cfg.word_vectors and cfg.text_encoder == "glove_lstm":
        matrix, _ = glove_init(vocab.words, cfg.word_vectors, cfg.word_dim, whiten=cfg.word_whiten)
        model.text.load_vectors(matrix)
    return model


def _require_weights(cfg: ModelConfig) -> None:
    """A pretrained build whose frozen backbone or GloVe words have no file named would train
    on random features without a word: the ``paper`` preset leaves both paths to the user
    (``configs/paper.json`` names them), so it is an error that says where they go."""
    missing = []
    if cfg.freeze_backbone and not cfg.backbone_weights:  # frozen random features: noise
        missing.append("model.backbone_weights (the DeepLab ResNet-101 checkpoint)")
    if cfg.preset == "paper" and cfg.text_encoder == "glove_lstm" and not cfg.word_vectors:
        missing.append(f"model.word_vectors (GloVe {cfg.word_dim}d vectors)")  # the paper's
    if missing:
        raise ValueError(
            f"the {cfg.preset} preset names no file for {' and '.join(missing)}: a frozen random "
            "backbone would train on noise, and the paper starts its words from GloVe. Give "
            "them with --config configs/paper.json (which points to weights/…) or --set, as "
            "README's 'Training on RefCOCO with a GPU' says; tests build with pretrained=False"
        )
