"""What each variant's answers owe to the retrieved neighbour, from dump rows (docs/design.md §7).

For RES variants the evaluator reran every sample twice more: with the enrichment switched
off (gate closed: V_l' = V_l^in, the ``nogate_*`` columns) and with a random pool image as the
neighbour (``randnb_*``). :func:`influence_table` gives, per variant and split, in %:

- ``oiou``: the answers' oIoU (ΣI/ΣU against the ground truth);
- ``oiou_nogate`` / ``oiou_random``: the oIoU of the gate-closed / random-neighbour masks, and
  ``effect_nogate`` / ``effect_random`` = ``oiou`` minus each (what the neighbour, or this
  neighbour rather than any, adds to the answer's oIoU);
- ``iou_nogate`` / ``iou_random``: the mean IoU of those masks with the answer's own mask
  (100: the neighbour changes nothing), and ``changed_nogate``: the share of answers whose
  mask the neighbour changes by more than 1 % (IoU with the gate-closed mask below 0.99).

The baseline retrieves nothing and older dumps lack the columns: their figures are NaN and
``has_influence`` is False. ``oiou`` counts every row; the ``*_nogate`` and ``*_random``
figures, and the effects, only the rows that record the influence (every row of a dump the
evaluator wrote; rows pooled from dumps with and without it differ). An oIoU over rows
that are all empty on empty is 100, as in :func:`tvnet.ris_metrics`. Torch-free.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.calibration import variant_groups
from analysis.tables import concat_samples, model_variant
from tvnet.eval.metrics import INFLUENCE_FIELDS, metrics_from_counts

__all__ = ["INFLUENCE_COLUMNS", "INFLUENCE_NAMES", "influence_table", "retrieving"]

_COLS = ("inter", "union", *INFLUENCE_FIELDS)
INFLUENCE_COLUMNS = (
    "variant",
    "split",
    "n",
    "has_influence",
    "oiou",
    "oiou_nogate",
    "oiou_random",
    "effect_nogate",
    "effect_random",
    "iou_nogate",
    "iou_random",
    "changed_nogate",
)


def _oiou(inter: pd.Series, union: pd.Series) -> float:
    """oIoU in % over the rows that record both sums as counts (0 ≤ I ≤ U; a damaged row is
    left out, as the tables read what they can of a dump), by
    :func:`tvnet.eval.metrics.metrics_from_counts`: 100 when every such row is empty on empty
    (ΣU = 0), NaN when there is no such row."""
    ok = inter.notna() & union.notna() & (inter >= 0) & (inter <= union)
    counts = (inter[ok].astype("int64"), union[ok].astype("int64"))
    return 100.0 * float(metrics_from_counts(*counts)["overall_iou"])


def influence_table(data: Any) -> pd.DataFrame:
    """The neighbour's influence per variant and split (see the module docstring). ``data``:
    dumps (:class:`tvnet.eval.dump.Dump`) or their concatenated rows."""
    df = data.copy() if isinstance(data, pd.DataFrame) else concat_samples(list(data))
    for c in _COLS:
        df[c] = pd.to_numeric(df[c], errors="coerce") if c in df else np.nan
    out = []
    for variant, split, g in variant_groups(df):
        has = g["nogate_iou"].notna()
        oiou = _oiou(g["inter"], g["union"])
        row = {"variant": variant, "split": split, "n": int(len(g)), "oiou": oiou}
        row["has_influence"] = bool(has.any())
        if has.any():
            h = g[has]
            row["oiou_nogate"] = _oiou(h["nogate_inter"], h["nogate_union"])
            row["iou_nogate"] = 100.0 * float(h["nogate_iou"].mean())
            row["changed_nogate"] = 100.0 * float((h["nogate_iou"] < 0.99).mean())
            row["effect_nogate"] = _oiou(h["inter"], h["union"]) - row["oiou_nogate"]
        r = g["randnb_iou"].notna()
        if r.any():
            h = g[r]
            row["oiou_random"] = _oiou(h["randnb_inter"], h["randnb_union"])
            row["iou_random"] = 100.0 * float(h["randnb_iou"].mean())
            row["effect_random"] = _oiou(h["inter"], h["union"]) - row["oiou_random"]
        out.append(row)
    return pd.DataFrame(out, columns=list(INFLUENCE_COLUMNS))


def retrieving(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`influence_table` for variants that retrieve a neighbour: the
    baseline's figures are all empty, so the report and the dashboard leave it out."""
    return table[[model_variant(v) != "baseline" for v in table["variant"]]]


# the table's columns as pages and reports name them
INFLUENCE_NAMES = {
    "n": "n",
    "oiou": "oIoU",
    "oiou_nogate": "oIoU gate closed",
    "oiou_random": "oIoU random nb.",
    "effect_nogate": "gain from nb.",
    "effect_random": "gain over random",
    "iou_nogate": "same mask, gate closed",
    "iou_random": "same mask, random nb.",
    "changed_nogate": "changed",
}
