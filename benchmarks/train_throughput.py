"""Training throughput (samples/s) of the cpu preset's variants from cached features.

    python benchmarks/train_throughput.py [--batch 8] [--steps 5] [--threads 2] [--no-amp]
        [--variants full baseline] [--set model.enrich_key_grid=20 train.loss_grid=head]
        [--config configs/cpu.json] [--profile] [--compile]

Random features of the right shapes stand in for the cache (the cost is the trainable part);
one step = forward + loss + backward + Adam, with the model and loss settings of ``--config``
(default configs/cpu.json) and ``--set`` overrides. The wall time of real runs is in
runs/*/log.jsonl. ``--profile`` prints torch.profiler's top operations for each variant;
``--compile`` runs the model's forward through ``torch.compile`` (inductor) and prints the
compile time (the first two steps) apart.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from machine import cpu_model  # benchmarks/machine.py: scripts run from this folder

from tvnet import build_model
from tvnet.amp import autocast_context, precision
from tvnet.config import VARIANTS, TrainConfig, known_fields, preset_config
from tvnet.data.tokenize import Vocab
from tvnet.model.head import training_loss


def _overrides(pairs: list[str]) -> tuple[dict, dict]:
    model, train = {}, {}
    for p in pairs:
        key, _, value = p.partition("=")
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            pass
        section, _, name = key.partition(".")
        {"model": model, "train": train}[section][name] = value
    return model, train


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=9, help="timed steps (default %(default)s)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-amp", action="store_true")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--config", default="configs/cpu.json")
    ap.add_argument("--set", nargs="*", default=[], metavar="SECTION.FIELD=VALUE")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--compile", action="store_true", help="torch.compile the forward (inductor)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = json.loads(Path(args.config).read_text())
    model_over, train_over = _overrides(args.set)
    model_cfg = {k: v for k, v in cfg.get("model", {}).items() if k != "preset"} | model_over
    train_cfg = TrainConfig(**known_fields(TrainConfig, cfg.get("train", {}) | train_over))
    amp = not args.no_amp
    print(
        f"{cpu_model()}, {args.threads} threads, {precision('cpu', amp)}, batch {args.batch}, "
        f"model {model_cfg}, loss_grid {train_cfg.loss_grid}, "
        f"channels_last {train_cfg.channels_last}"
    )
    vocab = Vocab(["<pad>", "<unk>"] + [f"w{i}" for i in range(100)])
    for v in args.variants:
        hf = preset_config("cpu", v, **model_cfg).text_encoder == "hf_tokens"
        m = build_model(
            "cpu", v, vocab=None if hf else vocab, pretrained=False, **model_cfg
        ).train()
        if train_cfg.channels_last:
            m = m.to(memory_format=torch.channels_last)
        _bench(m, args.batch, args.steps, amp, train_cfg, args.profile, args.compile)


def _bench(
    m, B: int, steps: int, amp: bool, train_cfg: TrainConfig, profile_ops: bool, compile_: bool
) -> None:
    if m.cfg.text_encoder == "hf_tokens":
        tok = torch.randint(1000, 5000, (B, 12))
    else:
        tok = torch.randint(2, 100, (B, 20))
    ln = torch.full((B,), 8)
    opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], 1e-3)
    with torch.no_grad():
        feats = m.backbone.extract(torch.randn(B, 3, 320, 320))
        ref = [f.flip(0) for f in feats]
    mask = (torch.rand(B, 1, 320, 320) > 0.7).float()
    fwd = torch.compile(m) if compile_ else m

    def step() -> None:
        with autocast_context("cpu", amp):
            out = fwd(tok, ln, feats=feats, ref_feats=ref)
        loss = training_loss(out, mask, train_cfg)
        opt.zero_grad()
        loss.backward()
        opt.step()

    t = time.perf_counter()
    step()  # warm-up (and compilation)
    step()
    if compile_:
        print(f"  {m.cfg.variant:9s} compiled in {time.perf_counter() - t:.0f} s", flush=True)
    times = []
    for _ in range(steps):  # each step timed: the median, so that one slow step (another job
        t = time.perf_counter()  # on the 2 cores) does not move the figure
        step()
        times.append(time.perf_counter() - t)
    dt = statistics.median(times)
    print(
        f"  {m.cfg.variant:9s} {B / dt:6.1f} samples/s  (median {dt * 1000:.0f} ms/step of "
        f"{steps}, slowest {max(times) * 1000:.0f})",
        flush=True,
    )
    if profile_ops:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(3):
                step()
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))


if __name__ == "__main__":
    main()
