"""TV-Net dashboard: compare variants and hunt failure cases in evaluation dumps.

    streamlit run apps/dashboard/app.py -- --dumps assets/dumps [--page "Failure cases"]

Loads every dump (docs/design.md §5: ``samples.parquet`` + ``run.json``) under a folder,
cached on the files' modification times. Pages, one module each, imported when first shown:

- ``overview``: Table 1 per dataset and split as two tables (all and small referents; and
  over runs, where a variant has several, e.g. seeds: mean, sd, min, max), Prec@X curves and
  IoU histograms, Table 3, metrics per expression type (drawn when opened);
- ``sizes``: Figure 7 and per-size-bucket metrics;
- ``failure_cases``: where the misses go (failure modes against every object of the image,
  and word use per named cue on attribute expressions, when the dump's dataset folder is at
  hand; a missing SynthRef folder is said once and regenerated on request), then the worst
  samples first, filtered by mode, with image, ground truth, prediction, their difference
  and the retrieved neighbour;
- ``diff``: where one variant succeeds and another fails at an IoU threshold, by default
  between two variants of equal training budget;
- ``trust``: calibration (reliability diagrams, ECE) and neighbour influence per variant.

``app`` is the entry point (sidebar, page choice), ``data`` the loading and the cached
tables, ``display`` the table helpers the pages share, ``charts`` the inline-SVG charts,
``regenerate`` the background ``tvnet synth``. Every number is recomputed from the rows
(``analysis``); shown tables export as CSV, Markdown and LaTeX, rounded as shown; masks are
drawn by :mod:`tvnet.draw`. Imports no model code. Design: docs/design.md §8, the dashboard.
"""
