#!/usr/bin/env bash
# Rebuilds the shipped assets end to end with one command: SynthRef, the retrieval pool and its
# neighbour tables, the four Table-1 variants (trained from scratch with configs/cpu.json), their
# eight evaluation dumps (val, test), the calibration of each checkpoint, and the packaging into
# assets/ (tools/package_assets.py). The order is per variant: train, evaluate, calibrate.
#
#   bash tools/build_default.sh                  # ≈ 110 min on 2 idle bf16 cores (2026-12-02 recipe)
#   TRAIN_SIZE=30000 STEPS=9000 bash tools/build_default.sh
#                                                # Table 1's 72k rows: ≈ 5 h on 2 idle bf16 cores
#   TRAIN_SIZE=30000 STEPS=20000 PACKAGE=0 bash tools/build_default.sh
#                                                # the 160k rows: ≈ 5.5 h there
#   DATA=data/synthref RUNS=runs/bd240 TRAIN_SIZE=60000 STEPS=30000 PACKAGE=0 bash tools/build_default.sh
#                                                # the 240k rows and the default: ≈ 8 h there;
#                                                # shipped by tools/package_assets.py --ship-checkpoint
#                                                # … --ship-dump … --only-shipped (docs/design.md §6)
#   DEVICE=cuda bash tools/build_default.sh      # the same commands with --device cuda
#   bash tools/build_default.sh --device cuda    # the same
#   OUT_ROOT=/tmp/bd SYNTH_TRAIN=60 SYNTH_VAL=20 SYNTH_TEST=20 STEPS=3 bash tools/build_default.sh
#                                                # a tiny test build outside runs/ and assets/
#
# Resumes where an interrupted run stopped: each step is skipped when its output is whole
# (tools/build_state.py says why not); a stopped training continues with `tvnet train --resume`;
# every artefact is written atomically by tvnet, so an interrupted dump is redone, never read.
# A step whose output exists but was made differently (another seed, size or recipe) stops the
# build instead of mixing results: move that folder aside or choose another OUT_ROOT.
# Exit status: 0 all built; 3 all built but a calibration that could not be fitted (too few
# right or wrong val answers, as in a tiny test build; listed at the end, retried by a re-run);
# 1 stopped at a failed step; 130 interrupted (INT or TERM, passed on to the running command).
#
# Settings (environment variables; defaults in brackets):
#   OUT_ROOT [.]      where data/ and runs/ go (DATA=$OUT_ROOT/data/synthref, RUNS=$OUT_ROOT/runs)
#   DATA, RUNS        override those two folders one by one
#   ASSETS            packaging target [assets when OUT_ROOT is ., else $OUT_ROOT/assets]
#   DEVICE            cpu, cuda, cuda:1 …, passed as --device to every tvnet command that has it
#                     (pool build, pool neighbours, train, eval) [unset: tvnet's default,
#                     cuda when present]
#   SYNTH_TRAIN [6000]  SYNTH_VAL [1000]  SYNTH_TEST [1000]  SYNTH_SEED [0]  (tvnet synth's
#                     defaults, read from tvnet.config.SYNTHREF_DEFAULTS)
#   SYNTH_WORKERS     tvnet synth --workers [every CPU on CUDA (a cuda DEVICE, or none given
#                     and CUDA present), else tvnet's
#                     default, min(2, CPUs): on a GPU host the CPUs have nothing else to do]
#   TRAIN_SIZE [SYNTH_TRAIN]  train on a larger SynthRef of the same seed: TRAIN_DATA
#                     [$DATA-train$TRAIN_SIZE] with its own pool ($RUNS/pool-train$TRAIN_SIZE,
#                     what training retrieves from); its val and test scenes, and its first
#                     train scenes (those holding DATA's SYNTH_TRAIN expressions), are DATA's (scenes are made by index; the
#                     file names of val and test differ). Evaluation,
#                     calibration and packaging stay on DATA and its pool (the shipped one).
#                     Table 1 ships at TRAIN_SIZE=60000 with STEPS=30000 (240,000 samples
#                     each); its earlier rows at TRAIN_SIZE=30000 with STEPS=9000 and 20000
#   CONFIG [configs/cpu.json]   the recipe; STEPS overrides its train.steps [unset: the config's]
#   VARIANTS ["baseline res res_cct full"]
#   PACKAGE [1]       0: stop before tools/package_assets.py (test builds)
#   QUIET [auto]      1: tvnet without progress bars; auto: when stderr is not a terminal
#   TV, PY            the tvnet command and the Python [.venv/bin/… when present, else
#                     `python3 -m tvnet` and python3]
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --device) [ $# -ge 2 ] || { echo "--device needs a value" >&2; exit 2; }; DEVICE=$2; shift 2 ;;
    --device=*) DEVICE=${1#--device=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

OUT_ROOT=${OUT_ROOT:-.}
root=${OUT_ROOT%/}/; [ "$root" = ./ ] && root=  # the repository itself: runs/, as before
DATA=${DATA:-${root}data/synthref}
RUNS=${RUNS:-${root}runs}
ASSETS=${ASSETS:-${root}assets}
POOL=$RUNS/pool; CACHE=$RUNS/.feature-cache; DUMPS=$RUNS/dumps
if [ -n "${PY:-}" ]; then read -ra PY <<<"$PY"
elif [ -x .venv/bin/python ]; then PY=(.venv/bin/python)
else PY=(python3); fi
# SynthRef's sizes and seed: tvnet's own defaults (tvnet.config.SYNTHREF_DEFAULTS), unless set
read -r D_TRAIN D_VAL D_TEST D_SEED < <("${PY[@]}" -c 'from tvnet.config import SYNTHREF_DEFAULTS as d
print(d["train"], d["val"], d["test"], d["seed"])') ||
  { echo "cannot import tvnet with ${PY[*]} (install the project first)" >&2; exit 2; }
SYNTH_TRAIN=${SYNTH_TRAIN:-$D_TRAIN}; SYNTH_VAL=${SYNTH_VAL:-$D_VAL}; SYNTH_TEST=${SYNTH_TEST:-$D_TEST}
TRAIN_SIZE=${TRAIN_SIZE:-$SYNTH_TRAIN}
if [ "$TRAIN_SIZE" = "$SYNTH_TRAIN" ]; then
  [ -z "${TRAIN_DATA:-}" ] || [ "$TRAIN_DATA" = "$DATA" ] ||
    { echo "TRAIN_DATA needs a TRAIN_SIZE other than SYNTH_TRAIN ($SYNTH_TRAIN)" >&2; exit 2; }
  TRAIN_DATA=$DATA; TRAIN_POOL=$POOL
else
  TRAIN_DATA=${TRAIN_DATA:-${DATA%/}-train$TRAIN_SIZE}; TRAIN_POOL=$RUNS/pool-train$TRAIN_SIZE
  [ "${TRAIN_DATA%/}" != "${DATA%/}" ] ||
    { echo "TRAIN_DATA must be another folder than DATA ($DATA)" >&2; exit 2; }
fi
SYNTH_SEED=${SYNTH_SEED:-$D_SEED}
CONFIG=${CONFIG:-configs/cpu.json}
VARIANTS=${VARIANTS:-baseline res res_cct full}
PACKAGE=${PACKAGE:-1}
if [ -n "${TV:-}" ]; then read -ra TV <<<"$TV"
elif [ -x .venv/bin/tvnet ]; then TV=(.venv/bin/tvnet)
else TV=("${PY[@]}" -m tvnet); fi  # the Python that PY names (the state checks' own)
DEV=(); [ -n "${DEVICE:-}" ] && DEV=(--device "$DEVICE")
# a GPU host's CPUs have nothing else to do while SynthRef is drawn: DEVICE=cuda*, or no
# DEVICE on a host where tvnet would pick CUDA
PICKED=${DEVICE:-}
if [ -z "$PICKED" ] && "${PY[@]}" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())' 2>/dev/null; then
  PICKED=cuda
fi
case "$PICKED" in cuda*) SYNTH_WORKERS=${SYNTH_WORKERS:-$(nproc)} ;; esac
STEPS_ARG=(); [ -n "${STEPS:-}" ] && STEPS_ARG=(--steps "$STEPS")
QUIET_ARG=()
case ${QUIET:-auto} in
  1) QUIET_ARG=(--quiet) ;;
  auto) [ -t 2 ] || QUIET_ARG=(--quiet) ;;
esac

log() { printf '[%s] %s\n' "$(date '+%F %T')" "$*"; }
die() { log "STOP: $*" >&2; exit 1; }
T_START=$SECONDS
CHILD=
GAPS=()
# the tvnet command runs in the background and is waited for, so that a TERM or INT given to
# this script reaches it too (a background job of a script ignores INT itself)
on_signal() {
  if [ -n "$CHILD" ]; then
    kill -TERM "$CHILD" 2>/dev/null || true
    wait "$CHILD" 2>/dev/null || true
  fi
  log "interrupted after $((SECONDS - T_START)) s; run the same command again to resume" >&2
  exit 130
}
trap on_signal INT TERM HUP  # HUP: a closed terminal; the child would keep the build's lock
# try CMD…: run it, log its wall time, return its exit status; run CMD…: the same, stop on failure
try() {
  log "+ $*"
  local t0=$SECONDS rc=0
  "$@" &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=
  [ "$rc" = 0 ] && log "  done in $((SECONDS - t0)) s" || log "  exit status $rc after $((SECONDS - t0)) s"
  return "$rc"
}
run() { try "$@" || die "$*"; }
# state QUESTION ARGS…: tools/build_state.py; true when the step's output is whole (skip it),
# false when the step is to run; stops the build when the output was made differently
state() {
  local rc=0 msg
  msg=$("${PY[@]}" tools/build_state.py "$@" 2>&1) || rc=$?
  [ -z "$msg" ] || log "  $msg"
  case $rc in
    0) return 0 ;;
    10) return 1 ;;
    11) die "$msg" ;;
    *) die "tools/build_state.py $1 failed (exit status $rc)" ;;
  esac
}
skip() { log "skip (whole): $*"; }

mkdir -p "$RUNS"
if command -v flock >/dev/null; then  # two builds into one RUNS would overwrite each other
  exec 9>"$RUNS/.build.lock"
  flock -n 9 || die "another build holds $RUNS/.build.lock"
fi

TRAIN_COMMON=(--config "$CONFIG" --data "$TRAIN_DATA" --pool "$TRAIN_POOL" --cache-dir "$CACHE"
  ${STEPS_ARG[@]+"${STEPS_ARG[@]}"} ${DEV[@]+"${DEV[@]}"} ${QUIET_ARG[@]+"${QUIET_ARG[@]}"})
TARGET=$("${PY[@]}" tools/build_state.py steps -- train "${TRAIN_COMMON[@]}" --out "$RUNS/x") ||
  die "cannot read the recipe $CONFIG (see above)"
log "build: data $DATA (train $SYNTH_TRAIN, val $SYNTH_VAL, test $SYNTH_TEST, seed $SYNTH_SEED);" \
  "$([ "$TRAIN_DATA" = "$DATA" ] || echo "trained on $TRAIN_DATA (train $TRAIN_SIZE);")" \
  "runs $RUNS; recipe $CONFIG, $TARGET steps${STEPS:+ (STEPS)}; variants $VARIANTS;" \
  "device ${DEVICE:-as tvnet picks}; package $([ "$PACKAGE" = 1 ] && echo "into $ASSETS" || echo no)"
log "host: $(uname -n), $(nproc) CPUs ($("${PY[@]}" -c 'from tvnet.record import cpu_model; print(cpu_model())' 2>/dev/null))," \
  "OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset}"

# 1. SynthRef (deterministic: the same seed and sizes give byte-identical files)
if state data "$DATA" "$SYNTH_TRAIN" "$SYNTH_VAL" "$SYNTH_TEST" "$SYNTH_SEED"; then
  skip "SynthRef $DATA"
else
  run "${TV[@]}" synth "$DATA" --seed "$SYNTH_SEED" --train "$SYNTH_TRAIN" --val "$SYNTH_VAL" \
    --test "$SYNTH_TEST" ${SYNTH_WORKERS:+--workers "$SYNTH_WORKERS"} ${QUIET_ARG[@]+"${QUIET_ARG[@]}"}
fi

if [ "$TRAIN_DATA" != "$DATA" ]; then
  if state data "$TRAIN_DATA" "$TRAIN_SIZE" "$SYNTH_VAL" "$SYNTH_TEST" "$SYNTH_SEED"; then
    skip "SynthRef $TRAIN_DATA"
  else
    run "${TV[@]}" synth "$TRAIN_DATA" --seed "$SYNTH_SEED" --train "$TRAIN_SIZE" \
      --val "$SYNTH_VAL" --test "$SYNTH_TEST" ${SYNTH_WORKERS:+--workers "$SYNTH_WORKERS"} \
      ${QUIET_ARG[@]+"${QUIET_ARG[@]}"}
  fi
fi

# 2. the retrieval pool (the training split, as in the paper) and the neighbour tables; the
# training data's own pool when it is another (train and val: what training reads)
pool_steps() {  # POOL DATA SPLIT…
  local pool=$1 data=$2 s; shift 2
  if state pool "$pool" "$data"; then skip "pool $pool"
  else run "${TV[@]}" pool build --data "$data" --split train --out "$pool" ${DEV[@]+"${DEV[@]}"}; fi
  for s in "$@"; do
    if state neighbours "$pool" "$data" "$s"; then skip "neighbours of $data/$s"
    else run "${TV[@]}" pool neighbours --data "$data" --split "$s" --pool "$pool" ${DEV[@]+"${DEV[@]}"}; fi
  done
}
pool_steps "$POOL" "$DATA" train val test
[ "$TRAIN_DATA" = "$DATA" ] || pool_steps "$TRAIN_POOL" "$TRAIN_DATA" train val

# 3. per variant: train from scratch (resumed when stopped), evaluate val and test, calibrate
for v in $VARIANTS; do
  out=$RUNS/$v ckpt=$RUNS/$v/last
  train_args=(train "${TRAIN_COMMON[@]}" --variant "$v" --out "$out" --resume)
  if state trained -- "${train_args[@]}"; then skip "training of $v ($TARGET steps)"
  else
    # the temporary folder of a checkpoint write that was cut off; a checkpoint that a cut-off
    # swap set aside (.last.*.old) is train --resume's to put back
    rm -rf "$out"/.last.*.tmp
    run "${TV[@]}" "${train_args[@]}"
    state trained -- "${train_args[@]}" || die "$out did not reach step $TARGET"
  fi
  for s in val test; do
    dump=$DUMPS/$v-$s
    if state dumped "$dump" "$ckpt"; then skip "dump $dump"
    else
      rm -rf "$DUMPS/.$v-$s".*.tmp  # a dump cut off before its end: never read, redone
      run "${TV[@]}" eval --checkpoint "$ckpt" --data "$DATA" --split "$s" --pool "$POOL" \
        --cache-dir "$CACHE" --out "$dump" ${DEV[@]+"${DEV[@]}"} ${QUIET_ARG[@]+"${QUIET_ARG[@]}"}
    fi
  done
  if state calibrated "$ckpt" "$DUMPS/$v-val" "$DUMPS/$v-test"; then skip "calibration of $v"
  else
    rc=0
    try "${TV[@]}" calibrate --checkpoint "$ckpt" --dump "$DUMPS/$v-val" --apply "$DUMPS/$v-test" || rc=$?
    if [ "$rc" = 3 ]; then
      # too few right (or wrong) val answers to fit, as after a few test steps: the checkpoint
      # answers without a confidence; the build goes on and ends with status 3
      GAPS+=("calibration of $v")
    elif [ "$rc" != 0 ]; then
      die "calibration of $v failed (exit status $rc, see above)"
    fi
  fi
done

# 4. packaging: fp16 checkpoints (with their calibration), the pool, the dumps (seconds; always)
if [ "$PACKAGE" = 1 ]; then
  run "${PY[@]}" tools/package_assets.py --runs "$RUNS" --data "$DATA" --assets "$ASSETS" \
    --seed "$SYNTH_SEED"
else
  log "PACKAGE=$PACKAGE: not packaged (python tools/package_assets.py --runs $RUNS --data $DATA --assets $ASSETS --seed $SYNTH_SEED)"
fi
if [ ${#GAPS[@]} -gt 0 ]; then
  log "build finished in $((SECONDS - T_START)) s WITHOUT: $(printf '%s; ' "${GAPS[@]}")(see above; a re-run retries them)"
  exit 3
fi
log "build complete in $((SECONDS - T_START)) s"
