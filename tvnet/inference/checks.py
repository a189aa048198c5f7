"""Honest warnings about one answer (docs/design.md §7, "Confidence and warnings").

:func:`answer_warnings` turns what the Predictor measured about an answer into plain
sentences, most important first. Every threshold is a property of the network or a quantile
measured on the model's own val dump (stored in its ``calibration.json``), never a number
tuned on the examples:

1. the image is unlike the training pool: its retrieval image similarity (cosine with the most
   similar pool image) lies below the 1 % quantile of the val images' (``image_similarity.q01``);
   or, for an answer with a confidence, this could not be checked (no pool, or a calibration
   without the quantile);
2. the model cannot read some words: they are outside its vocabulary (read as ``<unk>``),
   a word-piece model never met them in training, the lexicon left them out as naming
   nothing ("find", "please"), or it read unknown head nouns as any object ("gizmo"); or the
   expression is longer than the network reads (``max_tokens`` words or word pieces, or the
   500 characters any reader keeps), so its last words were not read at all;
3. the image is tiny: its long side is under S/4 pixels, so the letterbox enlarges it more
   than 4× (SynthRef's images, 240–400 px, are enlarged at most 1.33× to S = 320); or it is a
   strip: letterboxed, its short side spans under S/8 pixels (an aspect over 8:1, where
   SynthRef's stay under 1.7:1), little more than one cell of the stride-32 features;
4. the mask is empty, or smaller than the 1 % quantile of the val referents' areas
   (``mask_area.q01``; without a calibration, :data:`NEAR_EMPTY`);
5. the RES neighbour was chosen by the caller, not retrieved, while the confidence was fitted
   on answers with retrieved neighbours;
6. low confidence: the calibrated P(IoU ≥ 0.5) is below :data:`LOW_CONFIDENCE`, i.e. the mask
   is more likely wrong than right.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

LOW_CONFIDENCE = 0.5  # below this, the answer is more likely wrong than right
NEAR_EMPTY = 0.005  # mask / image area without a calibration: under SynthRef's smallest referent
IMAGE_QUANTILE = "q01"  # of the val images' similarity to the pool
AREA_QUANTILE = "q01"  # of the val referents' area
UNREAD_SHOWN = 6  # words of an expression's unread end quoted in its warning


def tiny_side(input_size: int) -> int:
    """Long sides below this many pixels count as a tiny image (S/4: enlarged more than 4×)."""
    return input_size // 4


def _quote(words: list[str]) -> str:
    q = [f"“{w}”" for w in words]
    return q[0] if len(q) == 1 else ", ".join(q[:-1]) + " and " + q[-1]


def unseen_words(
    expression: str, training_words: Collection[str] | None, unknown: list[str]
) -> list[str]:
    """The distinct words of ``expression`` outside ``training_words`` (the words of the
    model's training expressions; None: not checked) and not already ``unknown`` (read as a
    blank): what a word-piece model reads without ever having been trained on it."""
    from tvnet.data.tokenize import tokenize

    if training_words is None:
        return []
    lower = {w.lower() for w in unknown}
    return [  # a single Latin letter ("circle's" → "s") carries no word to warn about; "星" does
        t
        for t in dict.fromkeys(tokenize(expression))
        if not _latin_letter(t) and t not in training_words and t not in lower
    ]


def _latin_letter(t: str) -> bool:
    return len(t) == 1 and "a" <= t.lower() <= "z"


def answer_warnings(
    *,
    image_shape: tuple[int, int],
    input_size: int,
    n_words: int,
    unknown_words: list[str],
    mask_fraction: float,
    confidence: float | None,
    image_similarity: float | None,
    calibration: Any = None,
    unseen_words: list[str] = (),
    left_out_words: list[str] = (),
    generic_words: list[str] = (),
    unread: str = "",
    chosen_neighbour: bool = False,
) -> list[str]:
    """The warnings of one answer, most important first (:mod:`tvnet.inference.checks`).

    ``image_shape``: the upload's H×W; ``n_words``: words the model read; ``unknown_words``:
    the distinct ones outside its vocabulary; ``unseen_words``: the distinct ones a word-piece
    model reads but never met in training (its confidence was fitted on none of them);
    ``left_out_words``: the distinct ones the lexicon left out as naming no object or
    attribute (:meth:`tvnet.data.lexicon.Lexicon.filler`); ``generic_words``: the distinct
    nouns it read as a generic noun (:meth:`tvnet.data.lexicon.Lexicon.generic`);
    ``unread``: the end of the expression past the network's length limit, not read at all
    ("" when it read everything); ``chosen_neighbour``: the RES neighbour was given, not
    retrieved (the confidence was fitted on retrieved ones only); ``mask_fraction``: mask area / image area;
    ``calibration``: the checkpoint's :class:`tvnet.eval.calibration.Calibration` (None: no
    image-similarity warning, and the fixed near-empty floor)."""
    out = []
    sims = getattr(calibration, "image_similarity", None) or {}
    floor = sims.get(IMAGE_QUANTILE)
    if image_similarity is not None and floor is not None and image_similarity < floor:
        out.append(
            "This picture looks unlike the images the model was trained on "
            f"(similarity {image_similarity:.2f} to the closest one; 99 % of validation images "
            f"score above {floor:.2f}), so the answer is little more than a guess."
        )
    elif confidence is not None and (image_similarity is None or floor is None):
        # a confidence without this check would vouch for pictures of anything
        why = (
            "no pool of training images was loaded to compare it with"
            if image_similarity is None
            else "the calibration records no similarities of validation images"
        )
        out.append(
            "Whether this picture looks like the images the model was trained on could not "
            f"be checked ({why}), so its confidence only holds for pictures like those."
        )
    if unknown_words:
        if len(unknown_words) >= n_words:
            out.append(
                f"The model knows none of the words ({_quote(unknown_words)}): it reads them "
                "as blanks, so the answer does not follow the expression."
            )
        else:
            word = "word" if len(unknown_words) == 1 else "words"
            out.append(
                f"The model does not know the {word} {_quote(unknown_words)} and reads "
                f"{'it' if len(unknown_words) == 1 else 'them'} as a blank."
            )
    if unseen_words:
        if len(unseen_words) >= n_words:
            out.append(
                f"None of these words occurred in the model's training ({_quote(unseen_words)}): "
                "its language model reads them, but nothing it learned ties them to what it "
                "segments, so the answer is unlikely to follow the expression."
            )
        else:
            one = len(unseen_words) == 1
            out.append(
                f"The model never met the {'word' if one else 'words'} {_quote(unseen_words)} "
                f"in training: its language model reads {'it' if one else 'them'}, but how "
                f"well it relates {'it' if one else 'them'} to the words it learned is "
                "untested, and so is its confidence."
            )
    if left_out_words:
        one = len(left_out_words) == 1
        out.append(
            f"The model never met the {'word' if one else 'words'} {_quote(left_out_words)} "
            f"and read the expression without {'it' if one else 'them'}, as naming no object "
            f"or attribute of {'its' if one else 'their'} own (a filler, or a shade before "
            "its colour): if the answer should depend on "
            f"{'it' if one else 'them'}, it does not."
        )
    if generic_words:
        one = len(generic_words) == 1
        out.append(
            f"The model never met the {'noun' if one else 'nouns'} {_quote(generic_words)} "
            f"and read {'it' if one else 'them'} as any object: the answer follows the other "
            f"words, not the kind of thing {'it names' if one else 'they name'}."
        )
    if unread.strip():
        words = unread.split()
        said = " ".join(words[:UNREAD_SHOWN]) + (" …" if len(words) > UNREAD_SHOWN else "")
        out.append(
            f"The expression is longer than the model reads: it stopped before “{said}”, so "
            "the answer cannot follow those words."
        )
    h, w = image_shape
    if max(h, w) < tiny_side(input_size):
        out.append(
            f"The image is tiny ({w}×{h} pixels): the model enlarges it more than 4×, far "
            "beyond the pictures it learned from, and sees mostly blur."
        )
    elif min(h, w) * input_size < max(h, w) * (input_size // 8):
        short = round(min(h, w) * input_size / max(h, w))
        out.append(
            f"The image is a narrow strip ({w}×{h} pixels): the model sees its short side "
            f"as {short} pixels, far narrower than the pictures it learned from."
        )
    areas = getattr(calibration, "mask_area", None) or {}
    near_empty = areas.get(AREA_QUANTILE) or NEAR_EMPTY  # a stored null reads as unknown
    if mask_fraction <= 0:
        out.append("The mask is empty: the model found nothing that matches the expression.")
    elif mask_fraction < near_empty:
        out.append(
            f"The mask is almost empty ({mask_fraction:.2%} of the image; 99 % of the objects "
            f"the model was checked on cover at least {near_empty:.2%}), so it is unlikely to "
            "be the object described."
        )
    if chosen_neighbour and confidence is not None:
        out.append(
            "The neighbour was chosen, not retrieved: the confidence was fitted on answers "
            "read with the retrieved neighbour, so it cannot vouch for this one."
        )
    if confidence is not None and confidence < LOW_CONFIDENCE:
        out.append(
            f"The model is unsure: it estimates only a {confidence:.0%} chance that this mask "
            "is right."
        )
    return out
