"""Training (docs/design.md §6): the loop (:mod:`tvnet.train.loop`), the batches it reads
(:mod:`tvnet.train.batches`, shared with the evaluator) and the frozen-backbone feature cache
(:mod:`tvnet.train.features`).

Nothing is imported here, so importing a submodule costs only that submodule.
"""
