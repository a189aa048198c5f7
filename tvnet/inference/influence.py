"""What an answer owes to its inputs (docs/design.md §7, "Influence"): rerun the network with
one input changed and measure how far the mask moves.

- :func:`neighbour_influence`: the enrichment switched off (gate closed, V_l' = V_l^in at every
  level, ``TVNet.visual(close_gate=True)``) against the answer;
- :func:`candidate_influence`: each of some pool entries as the neighbour instead;
- :func:`word_influence`: each word of the expression dropped in turn, the neighbour held.

Each is a pure function of its inputs and batches its reruns: the query's backbone features
are computed once, the expression-independent visual features once per neighbour, and the
expression variants go through fusion and the head as one batch. The answer each is compared
with comes from the same pass, unless the caller hands in the :class:`Prediction` it showed.
A mirror-averaged answer (:mod:`tvnet.inference.mirror`) is compared with alternatives
averaged the same way: each rerun also reads the mirror image with the horizontal words
swapped, the same neighbour, and its map flipped back is averaged in before the cut.
The Predictor exposes them as methods.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from tvnet.config import MASK_THRESHOLD
from tvnet.data.mirror import mirrored
from tvnet.inference.mirror import mirror_input
from tvnet.inference.prediction import resize_map

if TYPE_CHECKING:  # pragma: no cover
    from tvnet.inference.prediction import Prediction
    from tvnet.inference.predictor import Predictor

NO_RETRIEVAL = "no retrieval in this variant"
_WORD = re.compile(r"[^\W_]+|\d+", re.UNICODE)  # the tokenizer's word pattern
CHUNK = 8  # neighbours per batch in candidate_influence (bounds the attention maps' memory)


@dataclass
class Influence:
    """An alternative answer against the answer: ``mask`` (H×W bool, the alternative),
    ``iou`` (with the answer's mask; 1 when both are empty), ``changed`` (= 1 − iou: the share
    of the pixels in either mask that flip) and a ``label`` for a person."""

    mask: np.ndarray
    iou: float
    changed: float
    label: str


@dataclass
class WordInfluence:
    """One word of the expression as the model reads it (``Prediction.expression``, which
    differs from the typed text where the lexicon rewrote a word the model never saw):
    ``word``, its character span ``Prediction.expression[start:end]``, ``influence`` = 1 − IoU(mask
    without the word, answer's mask), and that ``mask``."""

    word: str
    start: int
    end: int
    influence: float
    mask: np.ndarray


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two boolean masks of one shape; 1 when both are empty."""
    if a.shape != b.shape:
        raise ValueError(f"masks of different shapes: {a.shape} and {b.shape}")
    union = np.count_nonzero(a | b)
    return float(np.count_nonzero(a & b) / union) if union else 1.0


def _influence(alt: np.ndarray, answer: np.ndarray, label: str) -> Influence:
    """``label``'s ``{changed}`` filled in: the share of the answer's mask the alternative
    changes. Braces of its own (a pool sentence's) are doubled by the caller."""
    iou = mask_iou(alt, answer)
    return Influence(alt, iou, 1.0 - iou, label.format(changed=1.0 - iou))


def word_spans(expression: str) -> list[tuple[str, int, int]]:
    """The words the tokenizer reads, as (word as written, start, end) in ``expression``."""
    spans = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(expression)]
    from tvnet.data.tokenize import tokenize

    if [w.lower() for w, _, _ in spans] != tokenize(expression):  # case folding moved a match
        low = expression.lower()
        if len(low) == len(expression):
            spans = [
                (expression[m.start() : m.end()], m.start(), m.end()) for m in _WORD.finditer(low)
            ]
    return spans


class _Runner:
    """The network of one Predictor, run in pieces for reruns (autocast, inference mode)."""

    def __init__(self, p: Predictor):
        self.p, self.model = p, p.model

    def extract(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.p.backbone(x)  # rows of recent calls: Predictor.recent_images

    def visual(self, feats, ref_feats=None, close_gate: bool = False):
        return self.model.visual(feats, ref_feats, return_attention=False, close_gate=close_gate)

    def probs(self, vis, tokens, lengths, view: _View) -> list[np.ndarray]:
        """Decode → one probability map per row at the upload's size, in the upload's
        orientation (a mirror view's maps flipped back)."""
        logits = self.model.decode(vis, tokens, lengths).logits
        prob = torch.sigmoid(logits.float())[:, 0].cpu()
        maps = [view.letterbox.invert(prob[i]).numpy() for i in range(len(prob))]
        if view.resize_to is not None:
            maps = [resize_map(m, view.resize_to) for m in maps]
        return [m[:, ::-1] for m in maps] if view.flipped else maps

    def extract_rows(self, xs: list[torch.Tensor]) -> list[list[torch.Tensor]]:
        """The backbone maps of several 1×3×S×S inputs in one batch, split back per input."""
        both = self.extract(torch.cat(xs))
        return [[f[i : i + 1] for f in both] for i in range(len(xs))]


@dataclass
class _View:
    """The query as the network reads it in one pass: as uploaded, or its mirror image (the
    work image flipped, the horizontal words swapped; maps flipped back). ``letterbox`` maps
    onto the upload, or onto the work image when ``resize_to`` (the upload's H×W) is set, the
    way :func:`tvnet.inference.mirror.average_with_mirror` brings a huge upload's mirror answer
    back (:meth:`Prediction.resized`)."""

    x: torch.Tensor
    expression: str
    letterbox: Any
    flipped: bool
    resize_to: tuple[int, int] | None = None


def _views(p: Predictor, q: Any, mirror: bool) -> list[_View]:
    """The passes an answer averages: the query, and with ``mirror`` its mirror image read as
    :func:`tvnet.inference.mirror.average_with_mirror` reads it."""
    views = [_View(q.x, q.expression, q.letterbox, False)]
    if mirror:
        m = p._query(*mirror_input(q.image, q.expression))
        views.append(
            _View(m.x, m.expression, m.letterbox, True, None if m.shape == q.shape else q.shape)
        )
    return views


def _mirror_of(pred: Prediction | None, mirror: bool) -> bool:
    """Whether the views average with the mirror image: as ``pred`` was made, else ``mirror``."""
    if pred is None:
        return mirror
    if mirror and not pred.mirror:
        raise ValueError("mirror=True with a pred made without it: pass a mirror-averaged pred")
    return pred.mirror


def _cut(per_view: list[list[np.ndarray]], threshold: float) -> list[np.ndarray]:
    """The rows' maps averaged over the views, then cut into masks."""
    return [sum(maps) / len(maps) >= threshold for maps in zip(*per_view)]


def _expand(feats: list[torch.Tensor], n: int) -> list[torch.Tensor]:
    return [f.expand(n, *f.shape[1:]) for f in feats]


def _answer_mask(pred: Prediction, shape: tuple[int, int]) -> np.ndarray:
    if pred.mask.shape != shape:
        raise ValueError(
            f"pred is a {pred.mask.shape} answer; this image is {shape} (pass the prediction "
            "the Predictor returned for this image, not a resized one)"
        )
    return pred.mask


@torch.inference_mode()
def neighbour_influence(
    p: Predictor,
    image: Any,
    expression: str,
    pred: Prediction | None = None,
    neighbour: int | None = None,
    mirror: bool = False,
) -> Influence:
    """See :meth:`tvnet.inference.predictor.Predictor.neighbour_influence`."""
    from tvnet.amp import autocast_context

    if not p.model.uses_retrieval:
        answer = pred if pred is not None else p(image, expression, mirror=mirror)
        return Influence(answer.mask.copy(), 1.0, 0.0, NO_RETRIEVAL)
    mirror = _mirror_of(pred, mirror)  # before the shortcut: a mismatch is refused there too
    if pred is not None and pred.gate_closed_prob is not None:
        # the answer's own pass decoded the closed gate too (Predictor(..., gate_closed=True),
        # averaged with the mirror pass's when the answer is); a closed gate reads no
        # neighbour, so it holds for any neighbour the answer had
        from tvnet.image import read_image

        shown = image if isinstance(image, np.ndarray) else read_image(image)
        answer = _answer_mask(pred, tuple(shown.shape[:2]))
        alt = pred.gate_closed_prob >= pred.threshold
        return _influence(
            alt, answer, "enrichment with the neighbour changed {changed:.1%} of the mask"
        )
    q = p._query(image, expression)
    answer = _answer_mask(pred, q.shape) if pred is not None else None
    run = _Runner(p)
    threshold = pred.threshold if pred is not None else MASK_THRESHOLD
    views = _views(p, q, mirror)
    opened, closed = [], []
    # retrieved outside autocast, as the answer's own call retrieves: the same neighbour
    nb = p._neighbour(q, neighbour) if pred is None else None
    with autocast_context(p.device, p.amp):
        xs = [v.x for v in views]
        if nb is not None:  # the query's views and the neighbour in one backbone batch
            ref, _ = p._ref([nb.image])
            xs.append(ref)
        rows = run.extract_rows(xs)
        ref_feats = rows.pop() if pred is None else None
        for view, feats in zip(views, rows):
            tokens, lengths = p._tokens(view.expression)
            if ref_feats is not None:
                opened.append(run.probs(run.visual(feats, ref_feats), tokens, lengths, view))
            closed.append(run.probs(run.visual(feats, close_gate=True), tokens, lengths, view))
    (alt,) = _cut(closed, threshold)
    answer = answer if answer is not None else _cut(opened, threshold)[0]
    return _influence(
        alt, answer, "enrichment with the neighbour changed {changed:.1%} of the mask"
    )


@torch.inference_mode()
def candidate_influence(
    p: Predictor,
    image: Any,
    expression: str,
    indices: list[int],
    pred: Prediction | None = None,
    neighbour: int | None = None,
    mirror: bool = False,
) -> list[Influence]:
    """See :meth:`tvnet.inference.predictor.Predictor.candidate_influence`."""
    from tvnet.amp import autocast_context
    from tvnet.image import InputError

    if not p.model.uses_retrieval:
        raise ValueError(f"variant {p.variant!r} has no retrieval: {NO_RETRIEVAL}")
    pool = p.retriever.pool
    indices = [int(i) for i in indices]
    bad = [i for i in indices if not 0 <= i < len(pool)]
    if bad:
        raise InputError(f"pool indices {bad} are outside the pool (0…{len(pool) - 1})")
    mirror = _mirror_of(pred, mirror)
    q = p._query(image, expression)
    run = _Runner(p)
    threshold = pred.threshold if pred is not None else MASK_THRESHOLD
    rows = list(indices)
    if pred is None:  # the answer's own neighbour goes first, in the same pass
        rows.insert(0, p._neighbour(q, neighbour).index)
    views = _views(p, q, mirror)
    tokens = [p._tokens(v.expression) for v in views]
    per_view: list[list[np.ndarray]] = [[] for _ in views]
    with autocast_context(p.device, p.amp):
        feats = run.extract_rows([v.x for v in views])
        for s in range(0, len(rows), CHUNK):
            chunk = rows[s : s + CHUNK]
            ref, _ = p._ref([p.pool_image(i) for i in chunk])
            ref_feats = run.extract(ref)
            n = len(chunk)
            for k, view in enumerate(views):
                ids, lengths = tokens[k]
                vis = run.visual(_expand(feats[k], n), ref_feats)
                per_view[k] += run.probs(vis, ids.expand(n, -1), lengths.expand(n), view)
    masks = _cut(per_view, threshold)
    answer = _answer_mask(pred, q.shape) if pred is not None else masks.pop(0)
    out = []
    for i, m in zip(indices, masks):
        sentence = pool.meta.iloc[i]["sentence"]
        said = str(sentence).replace("{", "{{").replace("}", "}}")  # its braces as written
        out.append(_influence(m, answer, f"pool #{i} “{said}” would change {{changed:.1%}}"))
    return out


@torch.inference_mode()
def word_influence(
    p: Predictor,
    image: Any,
    expression: str,
    neighbour: int | None = None,
    mirror: bool = False,
    threshold: float = MASK_THRESHOLD,
) -> list[WordInfluence]:
    """See :meth:`tvnet.inference.predictor.Predictor.word_influence`."""
    from tvnet.amp import autocast_context

    q = p._query(image, expression)
    spans = word_spans(q.expression)
    T = p.model.cfg.max_tokens
    views = _views(p, q, mirror)

    def ids(text: str) -> tuple[tuple[int, ...], ...]:
        """What the model reads of ``text`` in each view (its vocabulary, word- or
        subword-level; the mirror view reads the horizontal words swapped, through the lexicon
        as the Predictor's mirror pass does)."""
        out = []
        for view in views:
            try:
                read = p.read_expression(mirrored(text))[0] if view.flipped else text
                row, n = p.vocab.encode(read, T)
            except ValueError:  # no word left (InputError is one): one <pad>
                out.append((0,))
                continue
            out.append(tuple(int(i) for i in row[:n]))
        return tuple(out)

    full = ids(q.expression)
    # the expression with one word cut out (a space keeps its neighbours apart)
    variants = [ids(q.expression[:a] + " " + q.expression[b:]) for _, a, b in spans]
    unique = list(dict.fromkeys([full, *variants]))  # identical inputs run once
    run = _Runner(p)
    per_view = []
    # retrieved outside autocast, as the answer's own call retrieves: the same neighbour
    nb = p._neighbour(q, neighbour) if p.model.uses_retrieval else None
    with autocast_context(p.device, p.amp):
        xs = [v.x for v in views]
        if nb is not None:  # the query's views and the neighbour in one backbone batch
            ref, _ = p._ref([nb.image])
            xs.append(ref)
        rows = run.extract_rows(xs)
        ref_feats = rows.pop() if p.model.uses_retrieval else None
        for k, view in enumerate(views):
            tokens = torch.zeros(len(unique), T, dtype=torch.long)
            for r, key in enumerate(unique):
                tokens[r, : len(key[k])] = torch.tensor(key[k])
            lengths = torch.tensor([len(key[k]) for key in unique])
            vis = run.visual(rows[k], ref_feats)  # one row serves every variant
            per_view.append(run.probs(vis, tokens.to(p.device), lengths, view))
    by_row = dict(zip(unique, _cut(per_view, threshold)))
    answer = by_row[full]
    out = []
    for (word, start, end), row in zip(spans, variants):
        m = by_row[row]
        out.append(WordInfluence(word, start, end, 1.0 - mask_iou(m, answer), m))
    return out
