"""One (image, expression) made ready for the network: the image read (downscaled when huge,
with a note), letterboxed and batched, and the words the model will not read or never met
named (docs/design.md §7). :class:`tvnet.inference.predictor.Predictor` makes one per call."""

from __future__ import annotations

import unicodedata
from collections.abc import Set
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from tvnet.data.tokenize import tokenize
from tvnet.data.transforms import Letterbox, letterbox, to_tensor
from tvnet.image import read_image
from tvnet.inference.checks import unseen_words

MAX_SIDE = 1600  # larger uploads are downscaled first (with a note)


@dataclass
class Query:
    """One (image, expression) made ready for the network (:func:`make_query`)."""

    expression: str
    notes: list[str]
    image: np.ndarray  # what the model reads (downscaled when the upload is huge)
    shape: tuple[int, int]  # the upload's H×W
    letterbox: Letterbox  # onto the upload
    x: torch.Tensor  # 1×3×S×S
    unknown: list[str]  # distinct words outside the vocabulary
    unseen: list[str]  # distinct words read but never met in training (word-piece models)
    rewrites: list[tuple[str, str]]  # (written, read) for words the lexicon rewrote
    unread: str = ""  # the expression's end past the network's length limit
    image_vector: np.ndarray | None = None  # retrieval image encoder's vector
    image_similarity: float | None = None
    image_notes: list[str] = field(default_factory=list)  # what reading the image noted
    # distinct words the network read (its length limit's part), a piece it has no word piece
    # for ("🦄") counted as one: what the warnings weigh the unknown and unseen words against
    n_words: int = 0


def downscale(img: np.ndarray, notes: list[str]) -> np.ndarray:
    """``img`` with its longer side cut to :data:`MAX_SIDE` (a note added), or as it is."""
    h, w = img.shape[:2]
    if max(h, w) <= MAX_SIDE:
        return img
    from PIL import Image

    s = MAX_SIDE / max(h, w)
    small = np.asarray(
        Image.fromarray(img).resize((max(1, round(w * s)), max(1, round(h * s))), Image.BILINEAR)
    )
    notes.append(
        f"image downscaled from {w}×{h} to {small.shape[1]}×{small.shape[0]} for the model; "
        "the mask is at the original size"
    )
    return small


def make_query(
    image: Any,
    expression: str,
    notes: list[str],
    rewrites: list[tuple[str, str]],
    vocab: Any,
    cfg: Any,
    training_words: Set[str] | None,
    device: str,
) -> Query:
    """Read ``image`` (array, PIL image or path; :func:`tvnet.image.read_image`) for a model of
    config ``cfg`` and vocabulary ``vocab``, with ``expression`` as the model reads it and the
    ``notes`` and ``rewrites`` that reading made. Words past the model's length limit are not
    read at all: no warning about them."""
    img = read_image(image)
    h, w = img.shape[:2]
    image_notes: list[str] = []
    img = downscale(img, image_notes)
    notes.extend(image_notes)
    read = vocab.read_part(expression, cfg.max_tokens)
    unknown = list(dict.fromkeys(vocab.unknown(read)))
    if unknown:
        notes.append(
            ("characters the text model has no word piece for (read as [UNK]): "
             if cfg.text_encoder == "hf_tokens"
             else "words outside the vocabulary (read as <unk>): ") + ", ".join(unknown)
        )  # fmt: skip
    unseen = unseen_words(read, training_words, unknown)
    boxed, lb = letterbox(img, cfg.input_size)
    if img.shape[:2] != (h, w):  # map the input back onto the upload, not its downscaled copy
        lb = lb.onto(h, w)
    x = to_tensor(boxed)[None].to(device)
    unread = expression[len(read) :].strip()
    if all(unicodedata.category(ch)[0] in "PZ" for ch in unread):  # "." past the limit: no
        unread = ""  # word left unread (an emoji there is: it is no punctuation)
    n_words = len(set(tokenize(read)) | {u.lower() for u in unknown})
    return Query(
        expression, notes, img, (h, w), lb, x, unknown, unseen, rewrites, unread,
        image_notes=image_notes, n_words=n_words,
    )  # fmt: skip
