"""Training (docs/design.md §6): the loop (:mod:`tvnet.train.loop`), its optimiser and schedule
(:mod:`tvnet.train.optim`) and what a resume keeps (:mod:`tvnet.train.resume`). It reads its
batches through :mod:`tvnet.loader`, validates through :mod:`tvnet.eval.evaluator` and records
its machine and time through :mod:`tvnet.record`.

Nothing is imported here, so importing a submodule costs only that submodule.
"""
