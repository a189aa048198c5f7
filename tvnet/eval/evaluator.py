"""Evaluation (docs/design.md §5, CMPC protocol by default): predict at S×S, undo the padding, resize to
the original image size, foreground where sigmoid ≥ 0.5; stream I and U into a
:class:`RISEvaluator` and, with ``out``, into an evaluation dump.

Other protocols users compare against: ``threshold`` and ``resolution="input"`` (compare at the
letterboxed S×S resolution, padding excluded); both are labelled in ``run.json``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from tvnet.amp import autocast_context
from tvnet.data.refer import ReferDataset
from tvnet.data.transforms import Letterbox, letterbox_mask
from tvnet.eval.dump import DumpWriter
from tvnet.eval.metrics import RISEvaluator
from tvnet.train.batches import BatchLoader, SplitTable
from tvnet.train.features import FeatureCache


@torch.inference_mode()
def evaluate(
    model: torch.nn.Module,
    refer: ReferDataset,
    split: str,
    table: SplitTable,
    cache: FeatureCache | None = None,
    out: str | Path | None = None,
    run_info: dict[str, Any] | None = None,
    threshold: float = 0.5,
    resolution: str = "original",
    batch_size: int = 16,
    limit: int | None = None,
    device: str = "cpu",
    amp: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Evaluate ``model`` on ``split``; returns the aggregate metrics (and writes a dump)."""
    if resolution not in ("original", "input"):
        raise ValueError(f"resolution must be 'original' or 'input', got {resolution!r}")
    model.eval()
    cfg = model.cfg
    loader = BatchLoader(refer, table, cfg.input_size, model.uses_retrieval, cache, device)
    n = len(table) if limit is None else min(limit, len(table))
    writer = None
    if out is not None:
        info = dict(run_info or {})
        info.setdefault("protocol", {})
        info["protocol"].update(
            threshold=threshold,
            resolution=resolution,
            name="cmpc" if (threshold == 0.5 and resolution == "original") else "custom",
        )
        info.update(split=split, variant=cfg.variant, n_samples=n)
        writer = DumpWriter(out, info)
    evaluator = RISEvaluator(cfg.variant, split, dump=writer)
    t0 = time.perf_counter()
    t_model = 0.0
    try:
        for start in tqdm(
            range(0, n, batch_size),
            desc=f"eval {cfg.variant} {split}",
            disable=not progress,
            unit="batch",
        ):
            idx = np.arange(start, min(start + batch_size, n))
            inputs = loader.inputs(idx)
            tm = time.perf_counter()
            with autocast_context(device, amp):
                logits = model(**inputs, return_attention=False).logits
            prob = torch.sigmoid(logits.float())[:, 0].cpu()  # B×S×S
            t_model += time.perf_counter() - tm
            records = []
            for j, i in enumerate(idx):
                s = table.samples[i]
                gt = refer.mask(s.ref_id)
                lb = Letterbox.for_shape(gt.shape[0], gt.shape[1], cfg.input_size)
                if resolution == "original":
                    pred = lb.invert(prob[j]).numpy() >= threshold
                else:
                    pred = prob[j, : lb.new_h, : lb.new_w].numpy() >= threshold
                    gt = letterbox_mask(gt, cfg.input_size)[: lb.new_h, : lb.new_w]
                rec = dict(
                    pred=pred,
                    gt=gt,
                    sample_id=s.sample_id,
                    ref_id=s.ref_id,
                    sent_id=s.sent_id,
                    image_id=s.image_id,
                    sentence=s.sentence,
                    expression_type=s.expression_type,
                )
                if table.neighbours is not None and model.uses_retrieval:
                    nb = table.neighbours.iloc[i]
                    rec.update(
                        neighbour_image_id=int(nb["neighbour_image_id"]),
                        neighbour_sentence=str(nb["neighbour_sentence"]),
                        neighbour_score=float(nb["image_score"]),
                    )
                records.append(rec)
            evaluator.process(records)
        metrics = evaluator.evaluate()
        wall = time.perf_counter() - t0
        timings = {"wall_s": wall, "model_s": t_model, "samples_per_s": n / wall if wall else 0.0}
        if writer is not None:
            writer.close(metrics=metrics, timings=timings)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    return {**metrics, "timings": timings}
