"""Training (docs/design.md §6): the loop (:mod:`tvnet.train.loop`), its optimiser and schedule
(:mod:`tvnet.train.optim`), the batches it reads (:mod:`tvnet.train.batches`, shared with the
evaluator), the frozen-backbone feature cache (:mod:`tvnet.train.features`) and what a run
records of its machine and time (:mod:`tvnet.train.record`).

Nothing is imported here, so importing a submodule costs only that submodule.
"""
