"""TV-Net demo: segment what an expression refers to, and see why the model answered.

    python -m apps.demo [--checkpoint assets/checkpoints/NAME] [--pool assets/pool]
                        [--host 127.0.0.1] [--port 7860]

One screen (docs/design.md §7, "The demo"): the input and the predicted mask, with a verdict
that shows a ✔ only for a confident answer and otherwise leads with its warnings; the
neighbour that retrieval (RES stage 1) fetched, with its expression and scores; the
cross-image attention A_l of the predicted referent (or of a clicked point) over that
neighbour; what the enrichment changed (the mask with the enrichment gates closed); the
probability and the AMF intensity gate A_2 over the input; which words mattered and what each
candidate neighbour would change (on request); the enrichment gates on request; the top-20
text candidates of the retrieval, any of which can replace the chosen neighbour; every
variant whose checkpoint is present, side by side; latency per stage. Every heat map has a
colour bar with its range; a result whose input has changed is marked stale.

The model and its pool load once (the main model in a worker process while the page starts,
the other variants lazily, once each); a queue serialises model calls so concurrent users
wait instead of competing for the cores. Imports only the public API (``from tvnet import
...``).

Modules, one concept each:

- ``__main__``: the command line (parsed before gradio or torch is imported, so ``--help``
  answers at once);
- ``models``: the loaded predictors (:class:`~apps.demo.models.Models`) and the results kept
  for re-rendering;
- ``images``: pictures into the page (the upload, through :func:`tvnet.read_image`) and out of
  it (files under their content hash); the drawing itself is :mod:`tvnet.draw`'s;
- ``notes``: the Markdown the page shows (model note, verdict, stale note, candidate table);
- ``maps``: the heat maps with their colour bars and captions, and the neighbour's influence;
- ``words``: the words view (each word shaded by its influence);
- ``handlers``: what the events do (:class:`~apps.demo.handlers.Handlers`, gradio-free);
- ``events``: the same with gradio's signatures (:class:`~apps.demo.events.Demo`);
- ``remote`` and ``worker``: the model worker process that ``python -m apps.demo`` starts
  (it loads the model and runs the handlers while this process imports gradio), and the
  calls to it; ``lazy_dynamo``: ``torch._dynamo`` imported in the worker on first real use
  only;
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
