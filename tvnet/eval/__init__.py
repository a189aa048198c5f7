"""Evaluation (docs/design.md §5): the metrics (:mod:`tvnet.eval.metrics`), the dump format
(:mod:`tvnet.eval.dump`, masks as COCO RLE: :mod:`tvnet.eval.rle`), the calibrated confidence
(:mod:`tvnet.eval.calibration`, §7) and the evaluator that runs a model over a split
(:mod:`tvnet.eval.evaluator`).

Metrics, RLE, the calibration and the dump format need no torch: reading a dump (``tvnet.load_dump``) never
imports it. Nothing is imported here, so importing a submodule costs only that submodule.
"""
