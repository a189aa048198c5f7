"""Inference (docs/design.md §7): the :class:`~tvnet.inference.predictor.Predictor`, its
:class:`~tvnet.inference.prediction.Prediction` with the warnings of
:mod:`tvnet.inference.checks`, the influence reruns (:mod:`tvnet.inference.influence`), and the
helpers that make the frozen networks fast on a CPU: BatchNorm folding
(:mod:`tvnet.inference.folding`) and the ONNX runtime (:mod:`tvnet.inference.runtime`).

``folding`` and ``runtime`` are leaves (torch, onnxruntime, :mod:`tvnet.config`,
:mod:`tvnet.amp`, :mod:`tvnet.io`): the backbone and the retrieval encoders call them to
optimise themselves for inference without depending on the Predictor. Nothing is imported
here, so importing a submodule costs only that submodule.
"""
