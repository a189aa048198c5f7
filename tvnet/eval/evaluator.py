"""Evaluation (docs/design.md §5, CMPC protocol by default): predict at S×S, undo the padding, resize to
the original image size, foreground where sigmoid ≥ 0.5; stream I and U into a
:class:`RISEvaluator` and, with ``out``, into an evaluation dump.

Other protocols users compare against: ``threshold`` and ``resolution="input"`` (compare at the
letterboxed S×S resolution, padding excluded); both are labelled in ``run.json``.

Each row also records how far to trust the answer (docs/design.md §7): the raw ``score``
(:func:`tvnet.eval.calibration.mask_score`), its ``confidence`` when a calibration fitted at this threshold is given,
and the query image's ``image_similarity`` to the pool when given. For RES variants
(``influence=True``) it records what the answer owes to the neighbour: the mask with the
enrichment switched off (``nogate_*``) and with a random pool image as the neighbour
(``randnb_*``, seeded per sample), each as I and U against the ground truth and as IoU with
the answer's own mask. The visual features of query, neighbour and random neighbour come from
one backbone pass; the three variants share the fusion and head code.

``mirror=True`` scores answers averaged with the mirror image's, as a ``Predictor`` call with
``mirror=True`` gives them (docs/design.md §7, "Mirror averaging"): each letterboxed image's content flipped
left to right, read with the expression's horizontal words swapped and the same neighbour, its
map flipped back and averaged with the direct one; the score (and so the confidence) stays the
direct answer's, and the influence columns are left out (they are single-pass). ``run.json``
records ``protocol.mirror``. With a feature cache the direct pass reads the cached (fp16)
features and the mirrored one computes its own (the cache holds unflipped images only):
``protocol.mirror_features`` says so.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from tvnet.amp import autocast_context
from tvnet.config import MASK_THRESHOLD
from tvnet.data.mirror import flip_content, mirrored
from tvnet.data.refer import ReferDataset
from tvnet.data.transforms import Letterbox, letterbox_mask
from tvnet.eval.calibration import mask_score
from tvnet.eval.dump_writer import DumpWriter
from tvnet.eval.metrics import RISEvaluator, iou_counts, sample_iou
from tvnet.loader.batches import BatchLoader, SplitTable
from tvnet.loader.features import FeatureCache


def random_neighbours(
    sample_ids: np.ndarray, image_ids: np.ndarray, pool_image_ids: np.ndarray, seed: int = 0
) -> np.ndarray:
    """For each sample, a pool image drawn uniformly at random (never the sample's own image),
    from a generator seeded by (``seed``, sample id): the same draw whatever the batching."""
    pool = np.unique(np.asarray(pool_image_ids, np.int64))
    out = np.empty(len(sample_ids), np.int64)
    for k, (sid, own) in enumerate(zip(sample_ids, image_ids)):
        rng = np.random.default_rng([int(seed), int(sid)])
        choices = pool[pool != int(own)]
        if not len(choices):
            raise ValueError(
                f"the pool holds no image but sample {int(sid)}'s own: no random neighbour "
                "to compare with (evaluate with --no-influence)"
            )
        out[k] = choices[rng.integers(len(choices))]
    return out


def _mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    return sample_iou(*iou_counts(a, b))


def _backbone(model, loader: BatchLoader, groups: list[list[int]]) -> list[list[torch.Tensor]]:
    """Backbone features [V2..V5] of each group of image ids, in one backbone call (or from
    the feature cache)."""
    if loader.cache is not None:
        return [loader.cache.get(g, loader.device) for g in groups]
    x = torch.cat([loader.images(g) for g in groups])
    feats = model.backbone.extract(x)
    out, start = [], 0
    for g in groups:
        out.append([f[start : start + len(g)] for f in feats])
        start += len(g)
    return out


def _mirror_forward(model, loader, table, idx, boxes: list[tuple[int, int]]) -> torch.Tensor:
    """Probabilities B×S×S of the mirror answers, flipped back (the module's notes)."""
    samples = [table.samples[i] for i in idx]
    texts = [mirrored(table.read_as.get(int(s.sample_id), s.sentence)) for s in samples]
    tokens, lengths = model.vocab.encode_batch(texts, model.cfg.max_tokens)
    inputs = loader.inputs(idx)  # the neighbour's features (or image) as the direct pass's
    image = flip_content(loader.images([s.image_id for s in samples]), boxes)
    inputs.pop("image", None)
    inputs.update(
        tokens=torch.from_numpy(tokens).to(loader.device),
        lengths=torch.from_numpy(lengths),
        feats=model.backbone.extract(image),
    )
    logits = model(**inputs, return_attention=False).logits
    return flip_content(torch.sigmoid(logits.float()).cpu(), boxes)[:, 0]


def _forward(model, loader, table, idx, random_ids, influence: bool) -> list[torch.Tensor]:
    """Probabilities B×S×S of the answer, and with ``influence`` of the gate-closed and the
    random-neighbour variants (for RES models)."""
    if not (influence and model.uses_retrieval):
        inputs = loader.inputs(idx)
        logits = model(**inputs, return_attention=False).logits
        return [torch.sigmoid(logits.float())[:, 0].cpu()]
    image_ids = [table.samples[i].image_id for i in idx]
    nb_ids = [int(table.neighbour_image[i]) for i in idx]
    if min(nb_ids) < 0:
        raise ValueError("this variant needs retrieved neighbours; pass a neighbour table")
    groups = [image_ids, nb_ids] + ([list(random_ids)] if random_ids is not None else [])
    feats, nb_feats, *rand = _backbone(model, loader, groups)
    tokens = torch.from_numpy(table.tokens[idx]).to(loader.device)
    lengths = torch.from_numpy(table.lengths[idx])
    visuals = [model.visual(feats, nb_feats), model.visual(feats, close_gate=True)]
    if rand:
        visuals.append(model.visual(feats, rand[0]))
    return [
        torch.sigmoid(model.decode(v, tokens, lengths).logits.float())[:, 0].cpu() for v in visuals
    ]


@torch.inference_mode()
def evaluate(
    model: torch.nn.Module,
    refer: ReferDataset,
    split: str,
    table: SplitTable,
    cache: FeatureCache | None = None,
    out: str | Path | None = None,
    run_info: dict[str, Any] | None = None,
    threshold: float = MASK_THRESHOLD,
    resolution: str = "original",
    batch_size: int = 16,
    limit: int | None = None,
    device: str = "cpu",
    amp: bool = False,
    progress: bool = True,
    calibration: Any = None,
    image_similarity: Mapping[int, float] | None = None,
    influence: bool = True,
    pool_image_ids: np.ndarray | None = None,
    seed: int = 0,
    mirror: bool = False,
) -> dict[str, Any]:
    """Evaluate ``model`` on ``split``; returns the aggregate metrics (and writes a dump).

    ``calibration``: a :class:`tvnet.eval.calibration.Calibration` that turns each row's score
    into its ``confidence``; ``image_similarity``: image id → similarity to the pool;
    ``influence``: record the ``nogate_*`` columns of RES variants, and the ``randnb_*`` ones
    when ``pool_image_ids`` (the pool's images, all in ``refer``) are given, drawn with
    ``seed`` (:func:`random_neighbours`); only when a dump is written (``out``), so the
    training loop's val checks pay nothing for them. ``mirror``: score answers averaged with
    the mirror image's (the module's notes; no influence columns then)."""
    if resolution not in ("original", "input"):
        raise ValueError(f"resolution must be 'original' or 'input', got {resolution!r}")
    model.eval()
    cfg = model.cfg
    loader = BatchLoader(refer, table, cfg.input_size, model.uses_retrieval, cache, device)
    n = len(table) if limit is None else min(limit, len(table))
    # dump columns, of single passes only
    with_influence = influence and model.uses_retrieval and out is not None and not mirror
    randoms = None
    if with_influence and pool_image_ids is not None:
        randoms = random_neighbours(
            np.array([s.sample_id for s in table.samples[:n]]),
            np.array([s.image_id for s in table.samples[:n]]),
            pool_image_ids,
            seed,
        )
    if calibration is not None and not calibration.applies_to(threshold):
        calibration = None  # fitted on masks cut elsewhere: no confidence (as the Predictor)
    writer = None
    if out is not None:
        info = dict(run_info or {})
        info.setdefault("protocol", {})
        info["protocol"].update(
            threshold=threshold,
            resolution=resolution,
            name="cmpc" if (threshold == MASK_THRESHOLD and resolution == "original") else "custom",
        )
        if mirror:
            info["protocol"]["mirror"] = True
            if cache is not None:  # the cache holds the unflipped images only
                info["protocol"]["mirror_features"] = "computed by the backbone, not cached"
        info.update(split=split, variant=cfg.variant, n_samples=n)
        info["influence"] = {
            "gate_closed": with_influence,
            "random_neighbour": randoms is not None,
            "random_seed": seed if randoms is not None else None,
        }
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
            gts = [refer.mask(table.samples[i].ref_id) for i in idx]
            lbs = [Letterbox.for_shape(g.shape[0], g.shape[1], cfg.input_size) for g in gts]
            tm = time.perf_counter()
            with autocast_context(device, amp):
                probs = _forward(
                    model,
                    loader,
                    table,
                    idx,
                    None if randoms is None else randoms[idx],
                    with_influence,
                )
                if mirror:  # [average, direct]: the direct map gives the score
                    boxes = [(lb.new_h, lb.new_w) for lb in lbs]
                    other = _mirror_forward(model, loader, table, idx, boxes)
                    probs = [(probs[0] + other) / 2, probs[0]]
            t_model += time.perf_counter() - tm
            records = []
            for j, i in enumerate(idx):
                s = table.samples[i]
                gt, lb = gts[j], lbs[j]
                # the size bin is the referent's share of the image itself (design.md §5),
                # whatever resolution the masks are scored at
                area_frac = float(np.count_nonzero(gt)) / float(gt.size)
                if resolution == "original":
                    maps = [lb.invert(p[j]).numpy() for p in probs]
                else:
                    maps = [p[j, : lb.new_h, : lb.new_w].numpy() for p in probs]
                    gt = letterbox_mask(gt, cfg.input_size)[: lb.new_h, : lb.new_w]
                pred = maps[0] >= threshold
                score = mask_score(maps[1 if mirror else 0], threshold)
                if mirror:
                    maps = maps[:1]  # no influence maps follow
                rec = dict(
                    pred=pred,
                    gt=gt,
                    gt_area_frac=area_frac,
                    sample_id=s.sample_id,
                    ref_id=s.ref_id,
                    sent_id=s.sent_id,
                    image_id=s.image_id,
                    sentence=s.sentence,
                    expression_type=s.expression_type,
                    read_as=table.read_as.get(int(s.sample_id)),
                    score=score,
                    confidence=None if calibration is None else float(calibration(score)),
                    image_similarity=None
                    if image_similarity is None
                    else image_similarity.get(int(s.image_id)),
                )
                for name, m in zip(("nogate", "randnb"), maps[1:]):
                    alt = m >= threshold
                    inter, union = iou_counts(alt, gt)
                    rec.update(
                        {
                            f"{name}_inter": inter,
                            f"{name}_union": union,
                            f"{name}_iou": _mask_iou(alt, pred),
                        }
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
