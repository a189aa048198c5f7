"""One training step of a preset at full size, per variant, on CUDA (issue 23): the shapes, the
peak memory and the samples/s of forward + loss + backward + optimiser step.

    python benchmarks/paper_cuda.py                          # configs/paper.json, 320², batch 8, AMP
    python benchmarks/paper_cuda.py --config configs/cpu.json # the cpu recipe's step on the GPU
    python benchmarks/paper_cuda.py --device cpu --size 64 --batch 2 --steps 1 --warmup 1 \\
        --variants baseline full                             # a smoke test on a CPU

The step is the one `tvnet train` runs with that config (tvnet/train/loop.py): the model and
training settings of ``--config`` (``--set`` overrides as in `tvnet train`), its optimiser
(AdamW, decoupled decay), bf16 autocast (fp16 where the GPU has no bf16; ``--no-amp``: fp32),
the config's loss. A config that caches a frozen backbone's features (``cpu``) steps from
features computed once, as training reads them from the cache (the cache read itself is not
timed); otherwise (``paper``) every step runs the backbone on the query and the retrieved
image. ``--train-backbone`` unfreezes the backbone (the paper's configs freeze it) for the
memory of full fine-tuning.

Weights are random (ResNet-101 and GloVe 840B are user-supplied files, usually absent): shapes,
memory and speed do not depend on their values. A config whose text encoder is MiniLM's token
features (``cpu``) needs the MiniLM package for the tokenizer and the layer shapes; where it is
not installed (a lent GPU machine, which cannot install it) the step runs with the GloVe + LSTM
encoder instead, and says so. A variant that fails (out of memory) is reported and the next
one runs. Inputs are random images and token ids (T =
``max_tokens``). Peak memory: torch.cuda.max_memory_allocated over the variant's warm-up and
timed steps (CUDA), or the process's peak RSS (CPU). Every figure is printed with the device's
name and the precision.
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
from pathlib import Path

import torch

from tvnet import build_model
from tvnet.amp import autocast_context, cuda_fast_paths, grad_scaler, precision
from tvnet.cli import build_parser
from tvnet.cli.train import load_config
from tvnet.config import VARIANTS
from tvnet.data.tokenize import PAD, UNK, Vocab
from tvnet.model.head import training_loss
from tvnet.record import processor
from tvnet.train.optim import make_optimizer


def device_label(device: str, amp: bool) -> tuple[str, str]:
    """(the device's name, the precision a step runs in: on CUDA, fp32 means TF32 in matrix
    products and convolutions where cuda_fast_paths allows it)."""
    runs_in = precision(device, amp)
    if (
        device.startswith("cuda")
        and runs_in.startswith("fp32")
        and (torch.backends.cuda.matmul.allow_tf32 or torch.backends.cudnn.allow_tf32)
    ):
        runs_in += " (TF32 matmul/conv)"
    elif not device.startswith("cuda"):
        runs_in += f", {torch.get_num_threads()} threads"
    return processor(device), runs_in


def configs(config: str, variant: str, sets: list[str]):
    argv = ["train", "--config", config, "--variant", variant, "--data", ".", "--out", "."]
    for s in sets:
        argv += ["--set", s]
    return load_config(build_parser().parse_args(argv))


def shapes(ts) -> str:
    return " ".join("×".join(map(str, t.shape)) for t in ts)


def peak_mib(device: str) -> float:
    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated(torch.device(device)) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench(args: argparse.Namespace, variant: str, label: str) -> None:
    dev = args.device
    mcfg, tcfg = configs(args.config, variant, args.set)
    mcfg = mcfg.replace(input_size=args.size)
    if args.train_backbone:
        mcfg = mcfg.replace(freeze_backbone=False)
    amp = tcfg.amp and not args.no_amp
    vocab = None
    if mcfg.text_encoder == "glove_lstm":
        vocab = Vocab([PAD, UNK] + [f"w{i}" for i in range(1000)])
    model = build_model(mcfg, vocab=vocab, pretrained=False).to(dev)
    channels_last = tcfg.channels_last
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    model.train()
    opt = make_optimizer(model, tcfg)
    scaler = grad_scaler(dev, amp)  # as tvnet train: on only for fp16 autocast
    n_all = sum(p.numel() for p in model.parameters()) / 1e6
    n_train = sum(p.numel() for p in model.parameters() if p.requires_grad) / 1e6

    B, S, T = args.batch, mcfg.input_size, mcfg.max_tokens
    g = torch.Generator().manual_seed(0)
    vocab_size = len(model.vocab)  # words, or the text model's word pieces
    tokens = torch.randint(2, max(3, vocab_size), (B, T), generator=g).to(dev)
    lengths = torch.randint(4, T + 1, (B,), generator=g)
    image = torch.rand(B, 3, S, S, generator=g).to(dev)
    ref_image = image.flip(0)
    mask = (torch.rand(B, 1, S, S, generator=g) > 0.8).float().to(dev)
    cached = tcfg.cache_features and mcfg.freeze_backbone
    if cached:  # as training reads them: float32 maps of the frozen backbone, computed once
        with torch.no_grad(), autocast_context(dev, amp):
            feats = [f.float() for f in model.backbone.extract(image)]
        inputs = {"feats": feats, "ref_feats": [f.flip(0) for f in feats]}
    else:
        inputs = {"image": image, "ref_image": ref_image}
    sync = torch.cuda.synchronize if dev.startswith("cuda") else (lambda: None)

    def step():
        with autocast_context(dev, amp):
            out = model(tokens, lengths, **inputs)
        loss = training_loss(out, mask, tcfg)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        return out, loss

    if dev.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats(torch.device(dev))
    t0 = time.perf_counter()
    out, loss = step()  # the first step: shapes, and the one-off costs (cuDNN autotuning)
    sync()
    first_s = time.perf_counter() - t0
    first_peak = peak_mib(dev)  # autotuning's workspaces in it: a steady step's is below
    if dev.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats(torch.device(dev))
    for _ in range(args.warmup - 1):
        step()
    sync()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync()
    dt = (time.perf_counter() - t0) / args.steps
    with torch.no_grad():
        fmaps = model.backbone.extract(image[:1]) if not cached else [f[:1] for f in feats]
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    bad = sum(1 for gr in grads if gr is not None and not torch.isfinite(gr).all())
    none = sum(1 for gr in grads if gr is None)
    print(
        f"{variant:8s} | {label} | batch {B} at {S}² | {B / dt:8.1f} samples/s "
        f"({dt * 1000:7.1f} ms/step, mean of {args.steps}; first step {first_s:5.2f} s) | peak "
        f"{peak_mib(dev):8.0f} MiB after the first step ({first_peak:.0f} with it) | params "
        f"{n_all:.1f} M, trainable {n_train:.1f} M | "
        f"loss {loss.item():.3f}",
        flush=True,
    )
    print(
        f"{'':8s}   backbone maps (1 image) {shapes(fmaps)}; logits {shapes([out.logits])}; "
        f"aux {shapes(out.aux_logits) or '-'}; input "
        f"{'cached features' if cached else 'images, backbone in the step'}; trainable tensors "
        f"without a gradient {none}, with a non-finite one {bad}"
        + (" !! non-finite gradients" if bad else ""),
        flush=True,
    )


def minilm_missing() -> str | None:
    """Why MiniLM's token features cannot be built here, or None when they can."""
    from tvnet.retrieval.text_encoder import minilm_model_dir

    try:
        minilm_model_dir()
    except FileNotFoundError as e:
        return str(e).split(";")[0]
    return None


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--config", default="configs/paper.json")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=320, help="input side (a multiple of 32)")
    ap.add_argument("--steps", type=int, default=10, help="timed steps")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first (≥ 1)")
    ap.add_argument("--no-amp", action="store_true", help="fp32 (default: the config's amp)")
    ap.add_argument("--train-backbone", action="store_true", help="unfreeze the backbone")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    args = ap.parse_args()
    args.warmup = max(1, args.warmup)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("no CUDA device here (--device cpu for a smoke test)")
    cuda_fast_paths(args.device)  # TF32 and cuDNN autotuning, as tvnet train sets them on CUDA
    mcfg, tcfg = configs(args.config, args.variants[0], args.set)
    if mcfg.text_encoder == "hf_tokens" and (why := minilm_missing()):
        print(f"!! {why}: the text encoder here is GloVe + LSTM (random), not MiniLM's token "
              "features + one layer; the rest of the step is the config's", flush=True)  # fmt: skip
        args.set = [*args.set, "model.text_encoder=glove_lstm"]
        mcfg, tcfg = configs(args.config, args.variants[0], args.set)
    name, runs_in = device_label(args.device, tcfg.amp and not args.no_amp)
    label = f"{name}, {runs_in}"
    files = [f for f in (mcfg.backbone_weights, mcfg.word_vectors) if f and ":" not in f]
    missing = [f for f in files if not Path(f).is_file()]
    print(
        f"{args.config} ({mcfg.preset}: {mcfg.backbone}, output stride {mcfg.output_stride}, "
        f"d_m {mcfg.d_m}, d_s {mcfg.d_s}, backbone "
        f"{'trainable' if args.train_backbone or not mcfg.freeze_backbone else 'frozen'}); "
        f"torch {torch.__version__}, device {args.device}: {label}; weights: random init"
        + (f" (absent: {', '.join(missing)})" if missing else " (the figures do not need them)"),
        flush=True,
    )
    for v in args.variants:
        try:
            bench(args, v, label)
        except (RuntimeError, ValueError, AssertionError) as e:  # out of memory, above all
            print(f"{v:8s} | {label} | !! failed: {type(e).__name__}: {str(e)[:300]}", flush=True)
        gc.collect()  # the variant's model and optimiser state go before the next is built
        if args.device.startswith("cuda"):
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
