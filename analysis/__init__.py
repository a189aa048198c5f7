"""Analysis of evaluation dumps (docs/design.md §5): the paper's tables and figures, recomputed from rows.

- :mod:`analysis.naming` — which run a dump is and what its rows are called (budgets, seeds),
  and the repeats of one evaluation left out (:func:`~analysis.naming.unique_dumps`).
- :mod:`analysis.tables` — Table 1 (variants × {All, Small}), Table 3 (oIoU on small
  referents per dataset and split), per-size-bucket breakdowns; Markdown / LaTeX / CSV export.
- :mod:`analysis.figures` — Figure 7 (object-size distribution per split), IoU histograms,
  Prec@X curves: matplotlib for papers, plotly for the dashboard.
- :mod:`analysis.calibration` — how far each variant's confidence can be trusted: the
  reliability table (diagram) and ECE before and after calibration (docs/design.md §7).
- :mod:`analysis.influence` — what each RES variant's answers owe to the retrieved neighbour:
  oIoU and mask change with the gate closed and with a random neighbour (docs/design.md §7).
- :mod:`analysis.report` — ``python -m analysis.report DUMPS... --out DIR``.

Every number comes from the dump rows through :func:`tvnet.eval.metrics.aggregate`; the
``metrics`` stored in a dump's ``run.json`` are never read here.
"""

from analysis.calibration import calibration_summary, reliability_table
from analysis.export import to_csv, to_latex, to_markdown
from analysis.influence import influence_table
from analysis.naming import unique_dumps
from analysis.tables import (
    concat_samples,
    metrics_table,
    size_distribution,
    size_table,
    table1,
    table3,
)

__all__ = [
    "calibration_summary",
    "concat_samples",
    "influence_table",
    "metrics_table",
    "reliability_table",
    "size_distribution",
    "size_table",
    "table1",
    "table3",
    "to_csv",
    "to_latex",
    "to_markdown",
    "unique_dumps",
]
