"""The expression augmentations of a training run (docs/design.md §6): colour names swapped for
survey names of the same colour (``train.colour_swap``) and words for their WordNet
synonyms (``train.word_swap``), with what the run records of each so that a resume can tell
when their tables changed."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tvnet.config import TrainConfig


def expression_swaps(
    train_cfg: TrainConfig,
    train_words: list[str],
    dataset: str,
    started: dict[str, Any],
    out: Path,
) -> tuple[Callable[[str, np.random.Generator], str] | None, dict[str, Any]]:
    """(the augmentation of a training expression, or None; the run record's
    ``colour_swaps`` and ``word_swaps``: size and digest of each table, None when off).
    ``started``: the run.json of the run being resumed ({} for a new run): a table that
    differs from the one it recorded is warned of, since the resumed steps see other swaps."""
    swaps: list[Callable[[str, np.random.Generator], str]] = []
    records: dict[str, Any] = {"word_swaps": None, "colour_swaps": None}
    colour_swap = None
    if train_cfg.colour_swap:
        from tvnet.data.colour_names import ColourSwap

        colour_swap = ColourSwap(train_cfg.colour_swap, mended=train_cfg.colour_swap_names == 2)
        swaps.append(colour_swap)
        records["colour_swaps"] = colour_swap.record()
        _warn_changed(started.get("colour_swaps"), records["colour_swaps"], out,
                      "the colour-name table", "a change of the survey data or of its rules")  # fmt: skip
    if train_cfg.word_swap:
        from tvnet.data.colour_names import SPELLINGS
        from tvnet.data.model_words import data_senses
        from tvnet.data.word_swaps import WordSwap

        # the colour swap's terms (and their spellings) stay its own
        colours = {*colour_swap.names, *SPELLINGS} if colour_swap else set()
        # the senses the data uses its words in, as the checkpoint's lexicon will read them
        senses = data_senses({"data": {"name": dataset}})
        word_swap = WordSwap(train_cfg.word_swap, train_words, exclude=colours, senses=senses)
        swaps.append(word_swap)
        records["word_swaps"] = word_swap.record()
        _warn_changed(started.get("word_swaps"), records["word_swaps"], out,
                      "the word-swap table", "a lexicon or WordNet change")  # fmt: skip
    if not swaps:
        return None, records
    from tvnet.data.word_swaps import chain

    return chain(*swaps), records


def _warn_changed(before: Any, now: dict[str, Any], out: Path, what: str, why: str) -> None:
    if before and before != now:
        warnings.warn(
            f"{what} differs from the one {out} was started with ({before} → {now}; {why}): "
            "the resumed steps see other swaps",
            stacklevel=3,
        )
