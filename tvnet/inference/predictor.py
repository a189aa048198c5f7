"""The inference API shared by the demo, the CLI and the tests (docs/design.md §7), in the
style of segment-anything.

    predictor = Predictor.from_checkpoint()            # the bundled default (assets/)
    pred = predictor(image, "the small green star")    # → Prediction
    pred.mask, pred.prob, pred.neighbour, pred.attention, pred.a2, pred.timings
    pred.confidence, pred.warnings, pred.confident     # how far to trust it
    predictor.neighbour_influence(image, expression)   # what the neighbour changed
    predictor.word_influence(image, expression)        # what each word changed

The model and the retrieval pool load once; each call runs RES stage 1 (text-then-visual
search of the pool, unless a neighbour is forced), then the network on the query and the
retrieved image, and maps the mask back to the original image size (CMPC protocol). The
answer carries a calibrated confidence and plain warnings (:mod:`tvnet.inference.checks`);
the influence methods (:mod:`tvnet.inference.influence`) rerun the network without the
neighbour, with another one, or without one word.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tvnet.config import MASK_THRESHOLD
from tvnet.data.lexicon import Lexicon
from tvnet.data.transforms import Letterbox, letterbox, to_tensor
from tvnet.eval.calibration import Calibration, mask_score
from tvnet.image import MAX_PIXELS, InputError, read_image  # noqa: F401 (re-exported)
from tvnet.inference.checks import answer_warnings
from tvnet.inference.expression import (
    ExpressionReading,
    left_out,
    read_as_any,
    read_expression,
)
from tvnet.inference.influence import (
    Influence,
    WordInfluence,
    candidate_influence,
    neighbour_influence,
    word_influence,
)
from tvnet.inference.mirror import average_with_mirror
from tvnet.inference.pool_images import PoolImages
from tvnet.inference.prediction import CONFIDENT, Prediction
from tvnet.inference.query import Query, make_query
from tvnet.inference.recent import DEFAULT_ENTRIES, RecentImages
from tvnet.inference.text_pass import sentence_vector, text_model_shared, text_states
from tvnet.retrieval.pool import SAME_IMAGE_COSINE
from tvnet.retrieval.retriever import Neighbour

__all__ = [
    "CONFIDENT",
    "Influence",
    "InputError",
    "Prediction",
    "Predictor",
    "WordInfluence",
]


class Predictor:
    """A loaded TV-Net plus (for RES variants) its retrieval pool.

    ``retriever``: RES stage 1 (required by RES variants, None for the baseline).
    ``image_retriever``: whose pool and image encoder measure how much an upload looks like
    the training pool (docs/design.md §7); default: ``retriever``. The baseline retrieves
    nothing but keeps one for that when a pool is given. ``calibration``: the map from the
    raw score to a confidence (``CKPT/calibration.json``). ``lexicon``: rewrites words the
    model never saw into known ones before anything reads the expression (docs/design.md §6,
    "Wording"); None reads the expression as written. ``recent_images``: how many entries (one image's
    backbone maps, or one upload's retrieval image vector) to keep for later calls on the same
    pixels (:mod:`tvnet.inference.recent`; 0: none). ``training_words``: the words of its
    training expressions (:func:`tvnet.data.model_words.known_words`); others get the unseen-word
    warning; None or empty: not checked."""

    def __init__(
        self,
        model: torch.nn.Module,
        retriever: Any = None,
        pool_images: Path | None = None,
        device: str = "cpu",
        amp: bool = True,
        info: dict[str, Any] | None = None,
        calibration: Calibration | None = None,
        image_retriever: Any = None,
        lexicon: Lexicon | None = None,
        recent_images: int = DEFAULT_ENTRIES,
        training_words: Iterable[str] | None = None,
    ):
        self.model = model.to(device).eval()
        self.lexicon = lexicon
        self.training_words = frozenset(training_words) if training_words else None
        self.retriever = retriever
        self.image_retriever = image_retriever if image_retriever is not None else retriever
        self.calibration = calibration
        self.pool_images = Path(pool_images) if pool_images else None
        self.device, self.amp = device, amp
        self.info = dict(info or {})
        self._pool_images: PoolImages | None = None  # made on first use (needs the pool)
        self.recent_images = RecentImages(recent_images)
        if self.model.uses_retrieval and retriever is None:
            raise ValueError(f"variant {self.variant!r} retrieves a neighbour: a pool is required")
        # one text-model pass for retrieval and network when both read the same model (§7)
        self.share_text = True

    @property
    def share_text(self) -> bool:
        """Whether one pass of the network's text transformer also gives RES stage 1 its
        sentence vector (docs/design.md §7, "One text pass"); settable, and True only where
        the retrieval sentence encoder is that same model (``info["text_shared"]``)."""
        return self._share_text

    @share_text.setter
    def share_text(self, on: bool) -> None:
        self._share_text = bool(on) and text_model_shared(self.model, self.retriever)
        self.info["text_shared"] = self._share_text

    @property
    def variant(self) -> str:
        return self.model.cfg.variant

    @property
    def vocab(self):
        return self.model.vocab

    @classmethod
    def from_checkpoint(
        cls,
        path: str | Path | None = None,
        pool: str | Path | None = None,
        device: str | None = None,
        pool_images: str | Path | None = None,
        amp: bool = True,
        retriever: Any | None = None,
        runtime: str | None = None,
        read_synonyms: bool = True,
        recent_images: int = DEFAULT_ENTRIES,
    ) -> Predictor:
        """Load a checkpoint folder (default: the bundled default, ``tvnet.default_checkpoint``),
        its ``calibration.json`` when it has one, and a pool (default: the bundled pool; its
        images in ``POOL/images`` or ``pool_images``): RES variants retrieve from it, and every
        variant, the baseline too, measures how familiar an upload looks against it (the
        baseline only when the pool exists).

        ``retriever`` (another predictor's ``.retriever``) shares that pool and its encoders
        instead of loading them again; it must be built on ``pool`` (checked by manifest).

        ``runtime``: where the frozen networks (backbone, retrieval encoders) run: ``"torch"``,
        ``"onnxruntime"``, or None = ``$TVNET_RUNTIME`` or ``"auto"`` (onnxruntime on fp32-only
        CPUs, where it is faster; :mod:`tvnet.runtime`; the retrieval text encoder
        never autocasts, so "auto" runs it on onnxruntime on every CPU). The first load of new
        weights exports them to ONNX (≈ 15 s each, cached on disk).

        ``read_synonyms``: rewrite words the model never saw into the known words that WordNet
        relates them to (:class:`tvnet.data.lexicon.Lexicon`; the known words are the word
        vocabulary, or the training words a word-piece checkpoint records).

        ``recent_images``: see :class:`Predictor`."""
        from tvnet.inference.loading import load_checkpoint_parts

        parts = load_checkpoint_parts(
            path, pool, device, pool_images, amp, retriever, runtime, read_synonyms
        )
        return cls(**parts, recent_images=recent_images)

    # -- pool access ------------------------------------------------------------------------
    def pool_image(self, index: int) -> np.ndarray:
        """The image of pool entry ``index`` (H×W×3 uint8; :mod:`tvnet.inference.pool_images`)."""
        if self._pool_images is None:
            pool_dir = self.info.get("pool")
            self._pool_images = PoolImages(
                self.retriever.pool, self.pool_images, Path(pool_dir) if pool_dir else None
            )
        return self._pool_images(index)

    def candidates(self, image: Any, expression: str):
        """The text top-k of the pool re-ranked by image similarity (what RES stage 1 saw, for
        the expression as the model reads it, and the image as the model reads it: a huge
        upload downscaled, as an answer reads it)."""
        if self.retriever is None:
            raise ValueError(f"variant {self.variant!r} retrieves no neighbour: no candidates")
        return self._retrieve(self._query(image, expression)).candidates

    # -- inference ----------------------------------------------------------------------------
    def check_expression(self, expression: str | None) -> tuple[str, list[str]]:
        """The expression as the model reads it, and notes on what changed: cut at
        :data:`~tvnet.data.tokenize.MAX_CHARS`, words it never saw rewritten by the lexicon,
        and what the model's length limit leaves out
        (:func:`tvnet.inference.expression.read_expression`). Raises :class:`InputError` when
        it has no words."""
        reading = self.read_expression(expression)
        return reading.expression, reading.notes

    def read_expression(self, expression: str | None) -> ExpressionReading:
        """:meth:`check_expression`, with the (written, read) pairs the lexicon rewrote and
        what the characters' limit cut."""
        return read_expression(expression, self.lexicon, self.vocab, self.model.cfg.max_tokens)

    def _query(self, image: Any, expression: str | None) -> Query:
        """Check the expression and read the image for the network
        (:func:`tvnet.inference.query.make_query`); familiarity is measured later."""
        r = self.read_expression(expression)
        q = make_query(
            image, r.expression, r.notes, r.rewrites, self.vocab, self.model.cfg,
            self.training_words, self.device,
        )  # fmt: skip
        q.unread = f"{q.unread} {r.cut}".strip()  # past the characters' limit too
        return q

    def _familiarity(self, q: Query) -> None:
        """The upload's retrieval image vector and its similarity to the closest pool image."""
        if self.image_retriever is not None and q.image_vector is None:
            q.image_vector = self.recent_images.value(
                "image_vector", q.image, lambda: self.image_retriever.image_vector(q.image)
            )
            q.image_similarity = self.image_retriever.image_similarity(q.image_vector)

    def _text_states(
        self, tokens: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The network's text states of one expression when they serve retrieval too
        (:func:`tvnet.inference.text_pass.text_states`), else None."""
        if not self.share_text:
            return None
        return text_states(self.model, tokens, lengths, self.device, self.amp)

    def _sentence_vector(
        self, expression: str, states: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> np.ndarray | None:
        """RES stage 1's sentence vector of ``expression`` (as read) from the network's text
        states (``states``, or computed here), or None where the sentence encoder computes it.
        Every path that retrieves goes through here, so an answer, its candidates and its
        influence runs retrieve the same neighbour."""
        if states is None:
            states = self._text_states(*self._tokens(expression))
        return None if states is None else sentence_vector(*states)[0].cpu().numpy()

    def _tokens(self, expression: str) -> tuple[torch.Tensor, torch.Tensor]:
        ids, n = self.vocab.encode(expression, self.model.cfg.max_tokens)
        return torch.from_numpy(ids)[None].to(self.device), torch.tensor([n])

    def _retrieve(
        self, q: Query, states: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> Neighbour:
        """RES stage 1 for the query as the model reads it (its image and expression), the
        image vector from recent images when seen; its image not loaded yet."""
        self._familiarity(q)
        return self.retriever.neighbour(
            q.image,
            q.expression,
            image_vector=q.image_vector,
            text_vector=self._sentence_vector(q.expression, states),
        )

    def _neighbour(
        self,
        q: Query,
        neighbour: int | None,
        states: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> Neighbour:
        """RES stage 1 for the query (or pool entry ``neighbour``, forced), its image loaded.
        ``states``: the network's text states of the expression, when the caller has them."""
        if neighbour is None:
            nb = self._retrieve(q, states)
            if not nb.found:
                raise InputError("the retrieval pool holds no eligible neighbour")
        else:
            pool = self.retriever.pool
            if not 0 <= int(neighbour) < len(pool):
                raise InputError(
                    f"neighbour index {neighbour} is outside the pool (0…{len(pool) - 1})"
                )
            nb = Neighbour.from_pool(pool, int(neighbour))  # scores NaN: chosen
        nb.image = self.pool_image(nb.index)
        return nb

    def backbone(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The backbone maps [V2..V5] of a B×3×S×S batch of letterboxed images, rows seen in
        recent calls served from :attr:`recent_images`."""
        return self.recent_images.backbone(x, self.model.backbone.extract)

    def _ref(self, images: list[np.ndarray]) -> tuple[torch.Tensor, list[Letterbox]]:
        """Pool images → N×3×S×S letterboxed, and their letterboxes."""
        boxed = [letterbox(im, self.model.cfg.input_size) for im in images]
        x = torch.stack([to_tensor(b) for b, _ in boxed]).to(self.device)
        return x, [lb for _, lb in boxed]

    @torch.inference_mode()
    def __call__(
        self,
        image: Any,
        expression: str,
        neighbour: int | None = None,
        threshold: float = MASK_THRESHOLD,
        gate_closed: bool = False,
        attention: bool = True,
        mirror: bool = False,
    ) -> Prediction:
        """Segment what ``expression`` refers to in ``image`` (array, PIL image or path).

        ``neighbour``: force pool entry ``neighbour`` as the retrieved sample (the demo lets a
        user try other candidates); default: RES stage 1 picks it. ``gate_closed``: also decode
        the answer with the enrichment switched off, from the same backbone features
        (``Prediction.gate_closed_prob``), so that :meth:`neighbour_influence` of this answer
        needs no second pass (a no-op for the baseline). ``attention=False``: leave the RES
        attention maps A_3..A_5 out (``Prediction.attention`` empty; the same mask up to float
        rounding: a fused attention call instead of softmax + matmul), ≈ 10
        ms less on a CPU for callers that only want the mask. ``mirror``: average the answer
        with the one for the mirror image, left and right swapped in the expression (about +1
        oIoU at twice the time; :mod:`tvnet.inference.mirror`)."""
        from tvnet.amp import autocast_context

        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        q = self._query(image, expression)
        tokens, lengths = self._tokens(q.expression)
        timings["preprocess"] = (time.perf_counter() - t0) * 1000

        nb, nb_lb, ref, states = None, None, None, None
        if self.model.uses_retrieval:  # one text pass for retrieval and network (§7)
            t = time.perf_counter()
            states = self._text_states(tokens, lengths)
            if states is not None:
                timings["text"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        self._familiarity(q)
        if self.model.uses_retrieval:
            nb = self._neighbour(q, neighbour, states)
            timings["retrieval"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            ref, (nb_lb,) = self._ref([nb.image])
            timings["neighbour_load"] = (time.perf_counter() - t) * 1000
        elif q.image_vector is not None:
            timings["image_similarity"] = (time.perf_counter() - t) * 1000

        t = time.perf_counter()
        closed = None
        with autocast_context(self.device, self.amp):
            # query and neighbour in one backbone call when neither was seen (TVNet.features)
            both = self.backbone(q.x if ref is None else torch.cat([q.x, ref]))
            feats = [f[:1] for f in both]
            ref_feats = None if ref is None else [f[1:] for f in both]
            if self.device.startswith("cuda"):
                torch.cuda.synchronize(self.device)  # its own GPU, not the current one
            timings["backbone"] = (time.perf_counter() - t) * 1000
            t = time.perf_counter()
            out = self.model(
                tokens,
                lengths,
                q.x,
                feats=feats,
                ref_feats=ref_feats,
                return_attention=attention,
                text_states=states,
            )
            prob_s = torch.sigmoid(out.logits.float())[0, 0].cpu()
            if self.device.startswith("cuda"):
                torch.cuda.synchronize(self.device)  # its own GPU, not the current one
            timings["model"] = (time.perf_counter() - t) * 1000
            if gate_closed and ref is not None:
                t = time.perf_counter()
                alt = self.model(
                    tokens,
                    lengths,
                    q.x,
                    feats=feats,
                    close_gate=True,
                    return_attention=False,
                    text_states=states,
                )
                closed = q.letterbox.invert(torch.sigmoid(alt.logits.float())[0, 0].cpu())
                timings["gate_closed"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        prob = q.letterbox.invert(prob_s).numpy()
        pred = Prediction(
            mask=prob >= threshold,
            prob=prob.astype(np.float32, copy=False),
            letterbox=q.letterbox,
            grid=self.model.cfg.input_size // 8,
            attention=[a[0].float().cpu().numpy() for a in out.attention],
            gates=[g[0].float().mean(0).cpu().numpy() for g in out.gates],
            a2=None if out.a2 is None else out.a2[0, 0].float().cpu().numpy(),
            neighbour=nb,
            neighbour_letterbox=nb_lb,
            unknown_words=q.unknown,
            unseen_words=q.unseen,
            # what the load found (a calibration of other weights, a damaged WordNet): said
            # with every answer it concerns
            notes=[*q.notes, *self.info.get("notes", ()), *_own_image_note(nb)],
            image_notes=list(q.image_notes),
            expression=q.expression,
            rewrites=q.rewrites,
            variant=self.variant,
            work_shape=(int(q.image.shape[0]), int(q.image.shape[1])),
            threshold=float(threshold),
            image_similarity=q.image_similarity,
            gate_closed_prob=None
            if closed is None
            else closed.numpy().astype(np.float32, copy=False),
        )
        pred.timings = timings
        # with mirror averaging, the confidence stays the direct answer's (calibrated on those)
        score = average_with_mirror(self, pred, q.image) if mirror else None
        self._assess(pred, q, score, chosen=neighbour is not None and pred.neighbour is not None)
        timings["postprocess"] = (time.perf_counter() - t) * 1000 - timings.get("mirror", 0.0)
        timings["total"] = (time.perf_counter() - t0) * 1000
        return pred

    def _assess(
        self, pred: Prediction, q: Query, score: float | None = None, chosen: bool = False
    ) -> None:
        """Score (``score``, else that of ``pred.prob``), confidence and warnings of an answer
        (docs/design.md §7); ``chosen``: its neighbour was given, not retrieved."""
        pred.score = mask_score(pred.prob, pred.threshold) if score is None else score
        cal = self.calibration
        if cal is not None:
            if cal.applies_to(pred.threshold):
                pred.confidence = float(cal(pred.score))
            else:
                fitted = cal.threshold
                pred.notes.append(
                    f"no confidence: it is calibrated for masks at threshold {fitted:g}"
                )
        pred.warnings = answer_warnings(
            image_shape=q.shape,
            input_size=self.model.cfg.input_size,
            n_words=q.n_words,
            unknown_words=q.unknown,
            unseen_words=q.unseen,
            left_out_words=left_out(q.rewrites),
            generic_words=read_as_any(q.rewrites, self.lexicon),
            unread=q.unread,
            mask_fraction=float(pred.mask.mean()),
            confidence=pred.confidence,
            image_similarity=q.image_similarity,
            calibration=cal,
            chosen_neighbour=chosen,
        )

    # -- influence (docs/design.md §7): what the answer owes to the neighbour and each word -----
    def neighbour_influence(
        self,
        image: Any,
        expression: str,
        pred: Prediction | None = None,
        neighbour: int | None = None,
        mirror: bool = False,
    ) -> Influence:
        """The mask with the enrichment switched off (gate closed: V_l' = V_l^in at every level)
        against the answer's mask (``pred``, else computed, with ``neighbour`` if forced, and
        averaged with the mirror image's with ``mirror``). For the baseline: iou 1, "no
        retrieval in this variant". A ``pred`` made with ``gate_closed=True`` carries the
        closed-gate map already: nothing is rerun. A mirror-averaged ``pred`` is compared with
        the closed-gate answer averaged the same way."""
        return neighbour_influence(self, image, expression, pred, neighbour, mirror)

    def candidate_influence(
        self,
        image: Any,
        expression: str,
        indices: list[int],
        pred: Prediction | None = None,
        neighbour: int | None = None,
        mirror: bool = False,
    ) -> list[Influence]:
        """For each pool row in ``indices`` (e.g. the candidate table's ``index`` column): the
        mask if that row were the neighbour, against the answer's mask (``pred``, else computed
        with ``neighbour`` if forced). One batched pass over the candidates; two, each
        mirror-averaged, for a mirror-averaged ``pred`` (or ``mirror`` without one)."""
        return candidate_influence(self, image, expression, indices, pred, neighbour, mirror)

    def word_influence(
        self,
        image: Any,
        expression: str,
        neighbour: int | None = None,
        mirror: bool = False,
        threshold: float = MASK_THRESHOLD,
    ) -> list[WordInfluence]:
        """One :class:`WordInfluence` per word of the expression as the model reads it
        (:meth:`check_expression`; its spans are in that text), in order: the mask without
        that word against the answer's mask, both cut at ``threshold`` (the answer's), the
        neighbour held fixed. One batched pass (two, averaged, with ``mirror``: the answer
        and every variant mirror-averaged)."""
        return word_influence(self, image, expression, neighbour, mirror, threshold)


def _own_image_note(nb: Neighbour | None) -> list[str]:
    """What the answer says when the upload is one of the pool's images (a training image):
    retrieval left its own samples out, as training did, so the neighbour is another image."""
    if nb is None or nb.own_image_id is None:
        return []
    return [
        f"this image matches image {nb.own_image_id} of the retrieval pool (image cosine ≥ "
        f"{SAME_IMAGE_COSINE}): that image's samples were left out of the search, as in training"
    ]
