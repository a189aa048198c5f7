#!/usr/bin/env bash
# Rebuilds the embedded default end to end on this machine (2 CPU cores): SynthRef, the
# retrieval pool and neighbour tables, the four Table-1 variants, the eight evaluation dumps.
# Each step is skipped when its output exists, so the script can be re-run after a stop.
#   bash tools/build_default.sh            # ≈ 110 min on 2 idle cores; then python tools/package_assets.py
set -euo pipefail
cd "$(dirname "$0")/.."
TV=${TV:-.venv/bin/tvnet}
DATA=data/synthref; POOL=runs/pool; CACHE=runs/.feature-cache
[ -d $DATA ] || $TV synth $DATA --seed 0 --train 6000 --val 1000 --test 1000
[ -f $POOL/manifest.json ] || $TV pool build --data $DATA --split train --out $POOL
for s in train val test; do
  [ -f $POOL/neighbours_synthref_$s.parquet ] || $TV pool neighbours --data $DATA --split $s --pool $POOL
done
for v in ${VARIANTS:-full res res_cct baseline}; do
  grep -q '"done": true' runs/$v/log.jsonl 2>/dev/null || \
    $TV train --config configs/cpu.json --variant $v --data $DATA --pool $POOL --out runs/$v --cache-dir $CACHE --resume
  for s in val test; do
    [ -f runs/dumps/$v-$s/run.json ] || \
      $TV eval --checkpoint runs/$v/last --data $DATA --split $s --pool $POOL --cache-dir $CACHE --out runs/dumps/$v-$s
  done
done
