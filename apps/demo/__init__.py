"""TV-Net demo: segment what an expression refers to, and see why the model answered.

    python -m apps.demo [--checkpoint assets/checkpoints/full-grown] [--pool assets/pool]
                        [--host 127.0.0.1] [--port 7860]

One screen: the input and the predicted mask; the neighbour that retrieval (RES stage 1)
fetched, with its expression and scores; the cross-image attention A_l of the predicted
referent (or of a clicked point) over that neighbour; the AMF intensity gate A_2 over the
input; the enrichment gates on request; the top-20 text candidates of the retrieval, any of
which can replace the chosen neighbour; every variant whose checkpoint is present, side by
side; latency per stage.

The model and its pool load once (the other variants lazily, once each); a queue serialises
model calls so concurrent users wait instead of competing for the cores. Imports only the
public API (``from tvnet import ...``).

Modules, one concept each:

- ``__main__``: the command line (parsed before gradio or torch is imported, so ``--help``
  answers at once);
- ``models``: the loaded predictors (:class:`~apps.demo.models.Models`) and the results kept
  for re-rendering;
- ``images``: pictures into the page (the upload, through :func:`tvnet.read_image`) and out of
  it (files under their content hash); the drawing itself is :mod:`tvnet.draw`'s;
- ``notes``: the Markdown the page shows (model note, status, captions, candidate table);
- ``handlers``: the event handlers (:class:`~apps.demo.handlers.Demo`);
- ``layout``: the page (gr.Blocks), its theme and CSS, :func:`build_demo` and :func:`launch`.

This package imports nothing heavy itself: ``build_demo``, ``launch`` and ``main`` load their
modules on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_demo", "launch", "main"]


def __getattr__(name: str) -> Any:
    if name in ("build_demo", "launch"):
        from apps.demo import layout

        return getattr(layout, name)
    if name == "main":
        from apps.demo.__main__ import main

        return main
    raise AttributeError(f"module 'apps.demo' has no attribute {name!r}")
