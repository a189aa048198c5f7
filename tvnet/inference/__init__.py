"""Inference (docs/design.md §7): the :class:`~tvnet.inference.predictor.Predictor`, its
:class:`~tvnet.inference.prediction.Prediction` with the warnings of
:mod:`tvnet.inference.checks`, and the influence reruns (:mod:`tvnet.inference.influence`).
What makes the frozen networks fast on a CPU, BatchNorm folding (:mod:`tvnet.folding`) and the
ONNX runtime (:mod:`tvnet.runtime`), sits below every layer, since the backbone and the
retrieval encoders use it too. Nothing is imported here, so importing a submodule costs only
that submodule.
"""
