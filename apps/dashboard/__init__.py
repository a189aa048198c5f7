"""TV-Net dashboard: compare variants and hunt failure cases in evaluation dumps.

    streamlit run apps/dashboard/app.py -- --dumps assets/dumps

Loads every dump (docs/design.md §5: ``samples.parquet`` + ``run.json``) under a folder,
cached on the files' modification times. Pages, one module each:

- ``overview``: Table 1 per dataset and split (and over runs, where a variant has several,
  e.g. seeds: mean, sd, min, max), Table 3, Prec@X curves and IoU histograms;
- ``sizes``: Figure 7 and per-size-bucket metrics;
- ``failure_cases``: where the misses go (failure modes against every object of the image,
  and word use per named cue on attribute expressions, when the dump's dataset folder is at
  hand), then the worst samples first, filtered by mode, with image, ground truth,
  prediction, their difference and the retrieved neighbour;
- ``diff``: where one variant succeeds and another fails at an IoU threshold.

``app`` is the entry point (sidebar, page choice), ``data`` the loading and the cached
tables, ``display`` the table helpers the pages share. Every number is recomputed from the
rows (``analysis``); shown tables export as CSV, Markdown and LaTeX; masks are drawn by
:mod:`tvnet.draw`. Imports no model code.
"""
