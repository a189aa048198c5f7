"""What feeds the network, in training and in evaluation alike (docs/design.md §6, §8): the
batches of samples with their retrieved neighbours and masks (:mod:`tvnet.loader.batches`)
and the frozen backbone's feature cache (:mod:`tvnet.loader.features`). Below the model,
above the data and the retrieval.

Nothing is imported here, so importing a submodule costs only that submodule.
"""
