"""Expressions as :class:`tvnet.Predictor` reads them, for ``tvnet eval`` (docs/design.md §5).

The Predictor rewrites words its model never saw into the known words that WordNet (and the
colour survey) relates them to (:class:`tvnet.data.lexicon.Lexicon`) before it tokenises an
expression and retrieves a neighbour with it. An evaluation that read the split as written
would score another pipeline than the one users run, most visibly on wording the model was
not trained on. :func:`read_split` gives the rewritten expressions of a split;
:func:`neighbours_as_read` retrieves the neighbours of those samples again with the text as
read, since RES stage 1 searches by text first.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from tvnet.data.model_words import model_lexicon
from tvnet.data.tokenize import MAX_CHARS, clean_expression, cut_at_word
from tvnet.data.wordnet import LexiconError, WordNet


@dataclasses.dataclass
class Reading:
    """How a split's expressions reach the model: ``read_as`` maps the sample id of every
    rewritten expression to the text the model reads; ``rewrites`` counts the (written, read)
    word pairs; ``note`` says why nothing could be rewritten, when that is the case, and
    ``neighbours_note`` why rewritten expressions kept the neighbour retrieved as written (a
    pool whose encoders cannot be loaded by name)."""

    lexicon: bool
    read_as: dict[int, str]
    rewrites: Counter
    note: str | None = None
    neighbours_note: str | None = None  # why rewritten rows kept the neighbour as written

    def summary(self, n: int, top: int = 8) -> dict[str, Any]:
        """What run.json records (``n``: the split's expressions)."""
        return {
            "lexicon": self.lexicon,
            "rewritten": len(self.read_as),
            "of": n,
            "top_rewrites": [[a, b, c] for (a, b), c in self.rewrites.most_common(top)],
            "note": self.note,
            "neighbours_note": self.neighbours_note,
        }


def read_split(
    refer: Any,
    split: str,
    vocab: Any,
    meta: dict[str, Any],
    limit: int | None = None,
    wordnet: WordNet | None = None,
) -> Reading:
    """Each expression of ``split`` (its first ``limit``) through the lexicon of a model's
    known words (the word vocabulary ``vocab``, or the training words a word-piece
    checkpoint's ``meta`` records), as :meth:`tvnet.Predictor.from_checkpoint` builds it with
    ``read_synonyms`` on (``wordnet``: another copy than the package's). As there, an
    expression is first read as a person sees it (``clean_expression``) and cut at a word
    boundary when over ``MAX_CHARS``. A damaged WordNet costs the
    rewriting, not the evaluation: the split is then read as written (cut where too long), and
    the note says why."""
    samples = refer.samples(split)[:limit]
    # the Predictor's first steps: an expression read as a person sees it, and one over
    # MAX_CHARS cut at a word boundary; those these change are read otherwise than written
    cut = {
        int(s.sample_id): cut_at_word(clean_expression(s.sentence).strip(), MAX_CHARS)
        for s in samples
    }
    long = {
        int(s.sample_id): cut[int(s.sample_id)]
        for s in samples
        if cut[int(s.sample_id)] != s.sentence.strip()  # spaces around it are no change
    }
    from tvnet.weights import common_words

    lexicon, note = model_lexicon(vocab, meta, wordnet, common_words())
    if lexicon is None:
        return Reading(False, long, Counter(), note or "the checkpoint records no known words")
    read_as: dict[int, str] = dict(long)
    counts: Counter = Counter()
    try:
        for s in samples:
            text, pairs = lexicon.rewrite(cut[int(s.sample_id)])
            if pairs:
                read_as[int(s.sample_id)] = text
                counts.update(pairs)
    except LexiconError as e:
        why = f"words the model never saw are read as written: {e}"
        return Reading(False, long, Counter(), why)
    return Reading(True, read_as, counts)


class _AsRead:
    """``refer`` with only the rewritten samples of ``split``, each with the text as read: what
    :func:`tvnet.retrieval.neighbours.neighbour_table` needs to retrieve for them."""

    def __init__(self, refer: Any, split: str, read_as: dict[int, str]):
        self._refer, self._split = refer, split
        self._samples = [
            dataclasses.replace(s, sentence=read_as[int(s.sample_id)])
            for s in refer.samples(split)
            if int(s.sample_id) in read_as
        ]

    def __getattr__(self, name: str) -> Any:  # images, masks, name …: the dataset's own
        return getattr(self._refer, name)

    def samples(self, split: str) -> list[Any]:
        if split != self._split:
            raise ValueError(f"only split {self._split!r} is read anew, not {split!r}")
        return list(self._samples)


def neighbours_as_read(
    refer: Any,
    split: str,
    read_as: dict[int, str],
    pool_dir: str | Path,
    k_text: int,
    device: str = "cpu",
    runtime: str | None = "torch",
    progress: bool = True,
    amp: bool = True,
) -> pd.DataFrame:
    """The neighbour table rows (:func:`~tvnet.retrieval.neighbours.neighbour_table`) of the
    rewritten samples, retrieved from the pool at ``pool_dir`` with the text as read and the
    pool's own encoders (in PyTorch by default, as ``tvnet pool neighbours`` writes tables, so
    that a near tie falls the same way; ``amp=False``: in fp32 on every CPU); the table on disk
    is left as it is."""
    from tvnet.retrieval.encoders import pool_encoders
    from tvnet.retrieval.neighbours import neighbour_table
    from tvnet.retrieval.pool import DataPool

    pool = DataPool.load(pool_dir)
    text, image = pool_encoders(pool.manifest, device=device, runtime=runtime, amp=amp)
    view = _AsRead(refer, split, read_as)
    return neighbour_table(view, split, pool, text, image, k_text=k_text, progress=progress)
