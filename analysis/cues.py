"""Word use: does a model rule out the objects that a named attribute excludes?

In an *attribute* expression every word describes the referent ("the small green star",
"the violet donut"). Each cue the expression names — the referent's colour, shape or texture,
in SynthRef's words and synonyms — splits the image's other objects into those that share the
named value and those that do not. A model that uses the word never lights the second group;
one that ignores it lights both alike. An object is *lit* when more than 30 % of its pixels are
predicted (as in :mod:`analysis.failures`).

    python -m analysis.cues --data data/synthref assets/dumps/full-val assets/dumps/baseline-val

Per variant and cue: how many expressions name it, how often the referent is lit, and the lit
rate of the other objects that share / do not share the named value. Needs a dataset whose
annotations record ``colour`` / ``shape`` / ``texture`` and whose refs record the sentence
type (SynthRef); other expression types mention a second object, so they are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.failures import (
    check_columns,
    dump_rows,
    lit_objects,
    open_dataset,
    predictions_by_image,
    table_cli,
)
from tvnet.data.synthref import COLOUR_WORDS, SHAPE_WORDS, TEXTURE_ADJ, TEXTURE_PP
from tvnet.data.tokenize import tokenize
from tvnet.eval.dump import Dump

CUES: dict[str, dict[str, tuple[str, ...]]] = {
    "colour": COLOUR_WORDS,
    "shape": SHAPE_WORDS,
    "texture": {t: TEXTURE_ADJ[t] + TEXTURE_PP.get(t, ()) for t in TEXTURE_ADJ},
}
TABLE_COLUMNS = [
    "expressions",
    "referent lit %",
    "matching every named word: n",
    "matching every named word: lit %",
    "ruled out by this word alone: n",
    "ruled out by this word alone: lit %",
    "ruled out by it and another word: n",
    "ruled out by it and another word: lit %",
]


def named_values(sentence: str, words: dict[str, tuple[str, ...]]) -> set[str]:
    """The values whose words (any synonym, multi-word ones too) occur in ``sentence`` as
    whole words: ``named_values("the violet donut", COLOUR_WORDS) == {"purple"}``."""
    padded = f" {' '.join(tokenize(sentence))} "
    return {v for v, ws in words.items() if any(f" {' '.join(tokenize(w))} " in padded for w in ws)}


def cue_rows(
    pred: np.ndarray,
    objects: Sequence[tuple[dict, np.ndarray]],
    referent: int,
    sentence: str,
) -> list[dict[str, Any]]:
    """One row per object of the image when the sentence names at least one of the
    referent's own cue values: ``role`` (referent / other), ``named`` (the named cues, sorted,
    comma-separated), ``differs`` (the named cues on which this object differs from the
    referent, same form) and ``lit``."""
    ids = [int(a["id"]) for a, _ in objects]
    if referent not in ids:
        raise ValueError(f"the referent's annotation {referent} is not among the image's objects")
    ref = objects[ids.index(referent)][0]
    named = [
        cue
        for cue, words in CUES.items()
        if ref.get(cue) is not None and ref[cue] in named_values(sentence, words)
    ]
    if not named:
        return []
    rows = []
    for k, ((a, _), lit) in enumerate(zip(objects, lit_objects(pred, objects))):
        differs = [c for c in named if a.get(c) != ref[c]]
        rows.append(
            {
                "role": "referent" if ids[k] == referent else "other",
                "named": ",".join(named),
                "differs": ",".join(differs),
                "lit": lit,
            }
        )
    return rows


def sample_cues(rows: pd.DataFrame, refer: Any, progress: bool = False) -> pd.DataFrame:
    """:func:`cue_rows` of every attribute expression among the dump ``rows`` (columns
    :data:`analysis.failures.COLUMNS`), with the row's ``sample_id``."""
    check_columns(rows, "cue tables")
    try:
        samples = pd.Series([refer.sample(int(s)) for s in rows["sample_id"]], index=rows.index)
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"a dump row is not a sample of {refer.name}: {e}") from None
    if not any(s.expression_type for s in samples):
        raise ValueError(f"{refer.name} records no expression types (the cue table needs them)")
    keep = samples.index[samples.map(lambda s: s.expression_type == "attribute")]
    out: list[dict[str, Any]] = []
    for idx, ref, pred, objects in predictions_by_image(rows, refer, "cue tables", keep, progress):
        if not any(c in objects[0][0] for c in CUES):
            raise ValueError(f"{refer.name}'s objects record no colour/shape/texture")
        for r in cue_rows(pred, objects, int(ref["ann_id"]), samples[idx].sentence):
            out.append({"sample_id": int(rows.at[idx, "sample_id"]), **r})
    return pd.DataFrame(out, columns=["sample_id", "role", "named", "differs", "lit"])


def cues_in(
    rows: pd.DataFrame, data_dir: str, dataset: str | None = None, fingerprint: str = ""
) -> pd.DataFrame:
    """:func:`sample_cues` of dump rows evaluated on the refer-format folder ``data_dir`` (the
    dashboard's entry point; see :func:`analysis.failures.open_dataset`)."""
    return sample_cues(rows, open_dataset(data_dir, dataset, fingerprint))


def cue_summary(cues: pd.DataFrame) -> pd.DataFrame:
    """Rows: cue; columns: :data:`TABLE_COLUMNS` (rates in %), over the expressions that name
    the cue: how often the referent is lit, and the other objects that match the referent on
    every named cue (nothing in the words rules them out), that differ on this cue alone (this
    word alone rules them out), and that differ on this cue and another named one."""
    table = {}
    for cue in CUES:
        c = cues[cues["named"].str.split(",").map(lambda n, cue=cue: cue in n)]
        if c.empty:
            continue
        other = c[c["role"] == "other"]
        differs = other["differs"].str.split(",").map(lambda d: [x for x in d if x])
        groups = {
            "match": other[differs.map(len) == 0],
            "only": other[differs.map(lambda d, cue=cue: d == [cue])],
            "more": other[differs.map(lambda d, cue=cue: cue in d and len(d) > 1)],
        }

        def pct(s: pd.Series) -> float:
            return 100 * float(s.mean()) if len(s) else float("nan")

        table[cue] = [
            c["sample_id"].nunique(),
            pct(c[c["role"] == "referent"]["lit"]),
        ]
        for g in groups.values():
            table[cue] += [len(g), pct(g["lit"])]
    return pd.DataFrame.from_dict(table, orient="index", columns=TABLE_COLUMNS)


def cue_table(
    dumps: Iterable[Dump], refer: Any, progress: bool = False, names: Sequence[str] | None = None
) -> pd.DataFrame:
    """:func:`cue_summary` of each dump, indexed by (variant, cue); rows named and ordered
    as :func:`analysis.failures.dump_rows` says."""
    parts = {}
    for name, d in dump_rows(dumps, names):
        parts[name] = cue_summary(sample_cues(d.samples, refer, progress))
    if not parts:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    return pd.concat(parts, names=["variant", "cue"])


def main(argv: Sequence[str] | None = None) -> int:
    return table_cli(
        "python -m analysis.cues",
        __doc__,
        lambda dumps, refer: cue_table(dumps, refer, progress=True),
        argv,
    )


if __name__ == "__main__":
    raise SystemExit(main())
