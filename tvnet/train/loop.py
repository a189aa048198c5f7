"""Training loop (docs/design.md §6): Adam with decoupled weight decay, poly decay (power 0.9), the
0.7/0.1 BCE loss (plus soft Dice on the final mask when ``loss_dice`` > 0, as
``configs/cpu.json``); seeded; atomic checkpoints every N steps and at the end; ``resume``
continues bit-for-bit in its schedule; a JSON-lines log of loss, throughput and val metrics in
the run folder.

One process, or several under ``torchrun`` (DistributedDataParallel; gloo on CPU, nccl on
CUDA): ``batch_size`` is the *global* batch, each rank takes an equal slice of it, and DDP's
gradient averaging makes the update equal to the one-process update on the same batch.
"""

from __future__ import annotations

import functools
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from tvnet import record, warmstart
from tvnet.amp import autocast_context, cuda_fast_paths, grad_scaler
from tvnet.config import CHECKPOINT_CONFIG, TRAINING_LOG, ModelConfig, TrainConfig
from tvnet.data.refer import open_refer
from tvnet.eval.dump import SAMPLES_FILE
from tvnet.eval.evaluator import evaluate
from tvnet.io import atomic_write_json, read_json
from tvnet.loader.batches import BatchLoader, Prefetcher, SplitTable, mirror_features, widen
from tvnet.loader.features import FeatureCache
from tvnet.model.head import training_loss
from tvnet.train.augment import expression_swaps
from tvnet.train.optim import load_optimizer, make_optimizer, poly_lr, save_optimizer
from tvnet.train.resume import (
    any_process,
    check_finite,
    check_last,
    check_same_data,
    check_same_recipe,
    log_up_to,
    on_first_process,
    restore_set_aside,
    training_time_of,
    warn_other_precision,
)

LAST = "last"  # the run's checkpoint folder, written atomically every N steps and at the end


@dataclass
class TrainResult:
    run_dir: Path
    checkpoint: Path
    steps: int
    wall_s: float
    samples_per_s: float  # of the time not suspended (stalled_s)
    final_loss: float
    val: dict[str, Any] | None
    stalled_s: float = 0.0  # of wall_s, suspended (tvnet.record.StallClock)


class _Order:
    """The sample order: one seeded permutation per epoch, so any step's batch is known."""

    def __init__(self, n: int, seed: int):
        self.n, self.seed, self._perm = n, seed, {}

    def perm(self, epoch: int) -> np.ndarray:
        if epoch not in self._perm:
            self._perm = {epoch: np.random.default_rng([self.seed, epoch]).permutation(self.n)}
        return self._perm[epoch]

    def batch(self, step: int, size: int) -> np.ndarray:
        pos = np.arange(step * size, (step + 1) * size)
        return np.array([self.perm(int(p // self.n))[p % self.n] for p in pos])


def _dist() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    return rank, world


def process_device(device: str | None, world: int) -> str:
    """The device this process trains on: ``device``, or CUDA when present, else the CPU. Under
    ``torchrun`` (``world`` > 1) a CUDA device without an index is this process's own GPU,
    ``cuda:$LOCAL_RANK``, so that ``--device cuda`` does not put every process on GPU 0; an
    index other than ``LOCAL_RANK`` is refused (every process gets the same arguments, so all
    would share that GPU, which NCCL refuses less clearly)."""
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device is None:
        return f"cuda:{local}" if torch.cuda.is_available() else "cpu"
    d = torch.device(device)
    if d.type == "cuda" and world > 1:
        if d.index is not None and d.index != local:
            raise ValueError(
                f"--device {device} under torchrun would put all {world} processes on GPU "
                f"{d.index}: pass --device cuda, and each process takes its own "
                "(cuda:$LOCAL_RANK); CUDA_VISIBLE_DEVICES picks which GPUs"
            )
        return f"cuda:{local}"
    return device


def train(
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    data_dir: str | Path,
    out_dir: str | Path,
    pool_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    resume: bool = False,
    device: str | None = None,
    progress: bool = True,
    log_every: int = 10,
    val_samples: int = 200,
    stop_at: int | None = None,
    init: str | Path | None = None,
    prefetch: bool = True,
) -> TrainResult:
    from tvnet import __version__
    from tvnet.checkpoint import load_checkpoint, read_checkpoint_config, save_checkpoint
    from tvnet.model.build import build_model, dataset_vocab

    rank, world = _dist()
    for name in ("colour_swap", "word_swap"):
        if getattr(train_cfg, name) and model_cfg.text_encoder != "hf_tokens":
            raise ValueError(
                f"train.{name} needs model.text_encoder=hf_tokens: a closed word vocabulary "
                "reads the swapped-in words as <unk>"
            )
    device = process_device(device, world)
    if torch.device(device).type == "cuda" and torch.device(device).index is not None:
        torch.cuda.set_device(torch.device(device))
    cuda_fast_paths(device)
    own_group = world > 1 and not torch.distributed.is_initialized()
    if own_group:  # destroyed at the end (a caller's own group is left to the caller)
        torch.distributed.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    log = bar = None  # closed, with the group this call made, if the run fails
    try:
        if train_cfg.batch_size % world:
            raise ValueError(
                f"global batch {train_cfg.batch_size} does not split over {world} processes"
            )
        local_bs = train_cfg.batch_size // world
        out = Path(out_dir)
        last = out / LAST
        if out.exists() and not out.is_dir():
            raise ValueError(f"--out {out} is a file: name the run's folder")
        if (out / SAMPLES_FILE).is_file():  # its run.json would be replaced by the run's
            raise ValueError(f"{out} holds an evaluation dump: give the run a folder of its own")
        restore_set_aside(out, last, resume, rank, world)
        fresh = check_last(out, last, resume)
        if fresh and rank == 0:
            tqdm.write(fresh)
        resuming = resume and (last / CHECKPOINT_CONFIG).is_file()
        if (
            not resume and (last / CHECKPOINT_CONFIG).is_file()
        ):  # its log and checkpoint stay its own
            raise ValueError(
                f"{out} holds a run already (checkpoint {last}): --resume continues it; to start "
                "over, remove that folder or give another --out"
            )
        model = init_record = None
        torch.manual_seed(train_cfg.seed)  # before --init too: what it grows starts seeded
        # the config.json of the checkpoint resumed, read once
        resumed: dict[str, Any] = read_checkpoint_config(last) if resuming else {}
        if resuming:  # its weights, and where they started: the checkpoint's record, not --init
            init_record = warmstart.checkpoint_init(last, resumed)
        elif init is not None:  # checked before OUT is made: a bad checkpoint leaves nothing behind
            init_record = warmstart.init_record(init, model_cfg.variant, model_cfg.visual_adapter)
            # the weights of the init checkpoint (a glove_lstm model's word vocabulary too, words
            # it has not seen read as <unk>); its model config must be the requested one, or a
            # smaller variant of it, which grows (tvnet.model.grow), or lack only the requested
            # visual adapter, which is added as the identity; optimiser and step start anew
            model = warmstart.load_init(init, model_cfg, device)
        refer = open_refer(data_dir)  # before OUT is made: a wrong --data leaves nothing behind
        out.mkdir(parents=True, exist_ok=True)
        start_step = 0
        if resuming:
            model = load_checkpoint(last, expect=model_cfg, device=device)
        elif model is None:
            vocab = dataset_vocab(model_cfg, (s.sentence for s in refer.samples("train")))
            model = build_model(model_cfg, vocab=vocab).to(device)
        needs_nb = model.uses_retrieval
        train_table = SplitTable.for_model(refer, "train", model, pool_dir)
        nb_digest = _neighbours_digest(pool_dir, refer.name) if needs_nb else None
        fingerprint = refer.fingerprint()
        if resuming:
            check_same_recipe(resumed.get("train"), train_cfg.to_dict(), last)
            check_same_data(resumed.get("data"), refer.name, len(train_table), out, fingerprint)
            had = resumed.get("neighbours")
            if had and had != nb_digest:
                raise ValueError(
                    f"the training neighbour table in {pool_dir} changed since {out} was started "
                    f"(sha256 {had}…, now {nb_digest}…): the pool was rebuilt, and resuming would "
                    "mix two pools' neighbours; start a new run (another --out)"
                )
        has_val = "val" in refer.splits() and val_samples > 0
        val_table = SplitTable.for_model(refer, "val", model, pool_dir) if has_val else None
        cache = None
        if train_cfg.cache_features and model_cfg.freeze_backbone:
            root = Path(cache_dir) if cache_dir else out.parent / ".feature-cache"
            cache = FeatureCache(
                root,
                model.backbone,
                refer,
                model_cfg.input_size,
                model_cfg.output_stride,
                device=device,
                progress=progress and rank == 0,
                amp=train_cfg.amp,  # the precision of the forward that reads them
            )
            cache.ensure("train")
            if has_val:
                cache.ensure("val")
        train_words: list[str] = []  # a word-piece model's training words (lexicon, word swaps)
        if model_cfg.text_encoder == "hf_tokens":
            from tvnet.data.model_words import training_words

            train_words = training_words(s.sentence for s in train_table.samples)
        started: dict[str, Any] = {}  # the run's record, when resuming it
        if resuming and (out / "run.json").is_file():
            started = read_json(out / "run.json", "the run's record")  # damaged: named
            if not isinstance(started, dict):
                raise ValueError(f"the run's record {out / 'run.json'} is damaged: not an object")
        augment, records = expression_swaps(train_cfg, train_words, refer.name, started, out)
        loader = BatchLoader(
            refer,
            train_table,
            model_cfg.input_size,
            needs_nb,
            cache,
            device,
            augment=augment,
            vocab=model.vocab,
            max_tokens=model_cfg.max_tokens,
            widen=False,  # cached fp16 features are widened in this thread, before the step
            mirror=train_cfg.mirror,
        )

        if train_cfg.channels_last:
            model = model.to(memory_format=torch.channels_last)
        opt = make_optimizer(model, train_cfg)
        scaler = grad_scaler(device, train_cfg.amp)  # fp16 autocast only; saved with the optimiser
        if resuming:
            start_step = load_optimizer(opt, last, resumed.get("step"), scaler)
        net = model
        if world > 1:
            net = torch.nn.parallel.DistributedDataParallel(
                model,
                device_ids=[torch.device(device).index] if device.startswith("cuda") else None,
            )
        order = _Order(len(train_table), train_cfg.seed)

        run_record = {
            "model": model_cfg.to_dict(),
            "train": train_cfg.to_dict(),
            "data": {
                "name": refer.name,
                "data_dir": str(Path(data_dir).resolve()),
                "train_samples": len(train_table),
                "fingerprint": fingerprint,  # the refs file's: another seed's data has this name
            },
            "pool": str(pool_dir) if pool_dir else None,
            "neighbours": nb_digest,  # the training split's neighbour table (retrieval variants)
            **records,  # size and digest of the word-swap table and of the colour names
            "init": init_record,
            "world_size": world,
            "device": device,
            "code_version": __version__,
        }
        if rank == 0:
            atomic_write_json(out / "run.json", run_record)
        if rank == 0:  # every step logged once: what came after the checkpoint is trained again
            log_up_to(out / TRAINING_LOG, start_step)  # (all of it when starting over)
        log = open(out / TRAINING_LOG, "a") if rank == 0 else None

        # a word-piece model's training words, for the Predictor's lexicon
        known = {"known_words": train_words} if model_cfg.text_encoder == "hf_tokens" else {}
        # how long it trained and where, over resumed runs (tvnet/record.py)
        earlier_time = training_time_of(resumed, last)
        this_machine = record.machine(device, train_cfg.amp, world)
        if rank == 0:
            warn_other_precision(earlier_time, this_machine, last)

        def checkpoint(step: int) -> None:
            # a finite loss may come with non-finite gradients; every process checks, so that all
            # stop together
            check_finite(model, step, last, world, device)
            on_first_process(lambda: _save(step), rank, world, device, "writing the checkpoint")

        def _save(step: int) -> None:
            save_checkpoint(
                model,
                last,
                extra={
                    "train": train_cfg.to_dict(),
                    "data": run_record["data"],
                    "step": step,
                    "init": run_record["init"],  # where the weights started (None: from scratch)
                    "neighbours": nb_digest,
                    # the log's smoothed loss goes on from here on a resume
                    "loss_ema": None if math.isnan(loss_ema) else loss_ema,
                    **known,
                    "training_time": record.training_time(
                        earlier_time,
                        {
                            "from_step": start_step,
                            "to_step": step,
                            "wall_s": time.perf_counter() - t0,
                            "stalled_s": stalls.stalled_s,
                            "batch_size": train_cfg.batch_size,
                            **this_machine,
                        },
                    ),
                },
                write_more=lambda folder: save_optimizer(opt, folder, step, scaler),  # one folder
            )

        def log_val(step: int, epoch: int):
            return _log_val(
                model, refer, val_table, cache, device, train_cfg, val_samples, log, step, epoch
            )

        val_at: tuple[int, Any] = (-1, None)  # the last validation: its step and scores
        t0 = time.perf_counter()
        stalls = record.StallClock()  # time suspended (SIGSTOP, a breakpoint) is not training
        steps_per_epoch = max(1, math.ceil(len(train_table) / train_cfg.batch_size))
        had_ema = resumed.get("loss_ema")
        loss_ema = float(had_ema) if isinstance(had_ema, (int, float)) else float("nan")
        done = start_step

        def samples_per_s(seconds: float) -> float:
            """This run's samples per second over ``seconds`` of it, less the time suspended."""
            return (
                (done - start_step) * train_cfg.batch_size / max(seconds - stalls.stalled_s, 1e-9)
            )

        bar = tqdm(
            total=train_cfg.steps,
            initial=start_step,
            desc=f"train {model_cfg.variant}",
            disable=not progress or rank != 0,
            unit="step",
        )
        model.train()

        def make_batch(step: int) -> tuple[dict[str, object], torch.Tensor]:
            """The step's batch: a function of the step alone (order, augmentation seed), this
            process's slice of it rewritten as in the whole batch (any number of processes)."""
            idx = order.batch(step, train_cfg.batch_size)
            part = (rank * local_bs, (rank + 1) * local_bs)
            seed = (train_cfg.seed, step)
            flips = loader.flips(len(idx), seed)
            inputs = loader.inputs(idx, seed=seed, part=part, flips=flips)
            return inputs, loader.masks(idx[part[0] : part[1]], flips[part[0] : part[1]])

        # the next batch is made while this one trains (tvnet.loader.batches.Prefetcher)
        batches = Prefetcher(make_batch, start_step, train_cfg.steps) if prefetch else None
        try:
            for step in range(start_step, train_cfg.steps):
                if train_cfg.max_minutes and _over_time(t0, train_cfg.max_minutes, world, device):
                    break
                # pause (tests, preemption); resume continues
                if stop_at is not None and step >= stop_at:
                    break
                t_step = time.perf_counter()
                for g in opt.param_groups:
                    g["lr"] = poly_lr(step, train_cfg.steps, train_cfg.lr, train_cfg.poly_power)
                inputs, mask = batches.get(step) if batches is not None else make_batch(step)
                inputs = widen(inputs)  # in the step's own OpenMP team (FeatureCache.get)
                with autocast_context(device, train_cfg.amp):
                    # mirrored samples' features from their flipped images (train.mirror)
                    inputs = mirror_features(inputs, model.backbone)
                    out_ = net(**inputs)
                loss = training_loss(out_, mask, train_cfg)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()  # off (the loss as it is) but for fp16 autocast
                scaler.step(opt)
                scaler.update()
                done = step + 1
                lv_t = loss.detach().clone()
                if world > 1:  # log the global-batch loss, the same number one process would see
                    torch.distributed.all_reduce(lv_t)
                    lv_t /= world
                lv = float(lv_t)  # waits for the step's work, on CUDA too
                stalls.step(time.perf_counter() - t_step)
                if not math.isfinite(lv):
                    raise FloatingPointError(f"loss became {lv} at step {step}")
                loss_ema = lv if math.isnan(loss_ema) else 0.95 * loss_ema + 0.05 * lv
                elapsed = time.perf_counter() - t0
                rate = samples_per_s(elapsed)
                bar.update(1)
                bar.set_postfix(loss=f"{loss_ema:.4f}", sps=f"{rate:.1f}")
                if log is not None and (done % log_every == 0 or done == train_cfg.steps):
                    log.write(
                        json.dumps(
                            {
                                "step": done,
                                "epoch": step // steps_per_epoch,
                                "loss": lv,
                                "loss_ema": loss_ema,
                                "lr": opt.param_groups[0]["lr"],
                                "samples_per_s": rate,
                                "elapsed_s": elapsed,
                                "stalled_s": stalls.stalled_s,
                            }
                        )
                        + "\n"
                    )
                    log.flush()
                if done % train_cfg.checkpoint_every == 0:
                    checkpoint(done)
                if has_val and done % steps_per_epoch == 0 and done < train_cfg.steps:
                    at = functools.partial(log_val, done, step // steps_per_epoch)
                    scores = on_first_process(at, rank, world, device, "the validation")
                    val_at = (done, scores)
                    model.train()
        finally:
            if batches is not None:
                batches.close()
        bar.close()
        wall = time.perf_counter() - t0
        checkpoint(done)
        val = None
        if has_val:  # once per step: a run stopped at an epoch's end has its score already
            if val_at[0] == done:
                val = val_at[1]
            else:
                at = functools.partial(log_val, done, done // steps_per_epoch)
                val = on_first_process(at, rank, world, device, "the validation")
        if log is not None:
            done_line = {"done": True, "steps": done, "wall_s": wall, "stalled_s": stalls.stalled_s}
            log.write(json.dumps(done_line) + "\n")
            log.close()
        if world > 1:
            torch.distributed.barrier()
        if own_group:  # NCCL warns at exit, and may hang, when a group is left open
            torch.distributed.destroy_process_group()
        return TrainResult(
            out,
            last,
            done,
            wall,
            samples_per_s(wall),
            loss_ema,
            val,
            stalls.stalled_s,
        )
    except BaseException:  # the run failed: its log closed, its own process group destroyed
        if bar is not None:
            bar.close()
        if log is not None and not log.closed:
            log.close()
        if own_group and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
        raise


def _over_time(t0: float, minutes: float, world: int, device: str) -> bool:
    """Whether the wall-clock budget is spent, as every process agrees: each has its own
    clock, and one that stopped alone would wait in a collective the others never reach."""
    return any_process(time.perf_counter() - t0 > 60 * minutes, world, device)


def _neighbours_digest(pool_dir, dataset: str) -> str:
    from tvnet.retrieval.neighbours import neighbours_path, table_digest

    return table_digest(neighbours_path(pool_dir, dataset, "train"))


def _log_val(model, refer, table, cache, device, train_cfg, n, log, step, epoch):
    m = evaluate(
        model,
        refer,
        "val",
        table,
        cache=cache,
        limit=n,
        device=device,
        amp=train_cfg.amp,
        progress=False,
    )
    if log is not None:
        log.write(
            json.dumps(
                {
                    "step": step,
                    "epoch": epoch,
                    "val": {k: v for k, v in m.items() if not isinstance(v, dict)},
                    "val_samples": min(n, len(table)),
                }
            )
            + "\n"
        )
        log.flush()
    return m
