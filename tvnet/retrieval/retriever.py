"""The online retriever of the RES stage (docs/design.md §1): :class:`Retriever` gives the
:class:`Neighbour` of a new upload in one call, with the encoders and pool that built the
offline tables (:mod:`tvnet.retrieval.neighbours`); the Predictor hands that same type on as
``Prediction.neighbour``.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from tvnet.config import K_TEXT
from tvnet.retrieval.pool import DataPool, pool_manifest


@dataclass
class Neighbour:
    """The pool sample retrieved for one query (RES stage 1): the one neighbour type, from
    :meth:`Retriever.neighbour` to ``Prediction.neighbour``.

    ``index`` is the pool row, -1 when the pool holds no eligible entry (the other fields are
    then None). The scores are NaN for a neighbour that was chosen, not retrieved
    (:meth:`from_pool`). ``image`` (H×W×3 uint8) is set by whoever loads the pool image (the
    Predictor); the retriever works on vectors and leaves it None.
    """

    index: int
    sample_id: int | None
    image_id: int | None
    sentence: str | None
    text_score: float | None
    image_score: float | None
    candidates: Any = None  # DataFrame of DataPool.search_candidates (None when chosen)
    image: np.ndarray | None = None
    # the pool image that the upload itself is (DataPool.same_image), whose entries the search
    # left out as a training sample's own are; None: the upload is no pool image
    own_image_id: int | None = None

    @property
    def found(self) -> bool:
        return self.index >= 0

    @classmethod
    def from_pool(
        cls,
        pool: DataPool,
        index: int,
        text_score: float = math.nan,
        image_score: float = math.nan,
        candidates: Any = None,
    ) -> Neighbour:
        """Pool entry ``index`` as a neighbour (scores NaN unless given)."""
        meta = pool.meta.iloc[int(index)]
        sample_id = meta["sample_id"]
        return cls(
            index=int(index),
            sample_id=sample_id.item() if hasattr(sample_id, "item") else sample_id,
            image_id=int(meta["image_id"]),
            sentence=str(meta["sentence"]),
            text_score=float(text_score),
            image_score=float(image_score),
            candidates=candidates,
        )


class Retriever:
    """Online RES stage 1: the pool neighbour of a new (image, expression) in one call.

    Thread-safe: the encoders (a Hugging Face tokenizer is not re-entrant) run under a lock,
    which copies of the retriever share, so several predictors may share one retriever.
    ``text_encoder`` may be None for a retriever that only scores images
    (:meth:`image_similarity`, what the baseline's Predictor keeps)."""

    def __init__(
        self, pool: DataPool, text_encoder: Any, image_encoder: Any, k_text: int = K_TEXT
    ) -> None:
        pool.check_manifest(pool_manifest(text_encoder, image_encoder))
        self.pool = pool
        self.text_encoder = text_encoder
        self.image_encoder = image_encoder
        self.k_text = k_text
        self._lock = threading.Lock()

    def image_vector(self, image: np.ndarray) -> np.ndarray:
        """The image encoder's vector of one image (d_i,), under the encoders' lock."""
        with self._lock:
            return self.image_encoder.encode([image], progress=False)[0]

    def image_similarity(self, image_vector: np.ndarray) -> float:
        """Cosine of an image vector with the most similar image of the pool
        (:meth:`DataPool.image_similarity`; docs/design.md §7)."""
        return float(self.pool.image_similarity(image_vector[None])[0])

    def neighbour(
        self,
        image: np.ndarray,
        sentence: str,
        exclude_image_id: int | None = None,
        image_vector: np.ndarray | None = None,
        text_vector: np.ndarray | None = None,
    ) -> Neighbour:
        """The :class:`Neighbour` of one upload, its ``candidates`` the DataFrame of
        :meth:`DataPool.search_candidates`. When the pool holds no eligible entry, index is -1
        and the other fields are None. ``image_vector`` / ``text_vector``: the image's vector
        (:meth:`image_vector`) and the sentence's (unit norm, the text encoder's model) when
        the caller has them already, so neither is encoded twice. Without ``exclude_image_id``,
        an upload that is a pool image (:meth:`DataPool.same_image`) has that image's entries
        left out, as a training sample's own image is; ``own_image_id`` says so."""
        if self.text_encoder is None:
            raise ValueError("this retriever has no text encoder: it only scores images")
        with self._lock:
            if text_vector is None:
                t = self.text_encoder.encode([sentence], progress=False)
            else:
                t = np.asarray(text_vector, dtype=np.float32).reshape(1, -1)
            if image_vector is None:
                image_vector = self.image_encoder.encode([image], progress=False)[0]
        own = self.pool.same_image(image_vector) if exclude_image_id is None else None
        cands = self.pool.search_candidates(
            t[0], image_vector, exclude_image_id if own is None else own, k_text=self.k_text
        )
        if cands.empty:
            return Neighbour(-1, None, None, None, None, None, cands, own_image_id=own)
        best = cands.iloc[0]
        nb = Neighbour.from_pool(
            self.pool,
            int(best["index"]),
            text_score=best["text_score"],
            image_score=best["image_score"],
            candidates=cands,
        )
        nb.own_image_id = own
        return nb
