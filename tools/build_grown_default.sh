#!/usr/bin/env bash
# Rebuilds the previous default model (assets/checkpoints/full-grown) on this machine (2 CPU
# cores): a whitened baseline on the 5x SynthRef training split, three schedules of 8000, 6000
# and 3000 steps (tvnet train --init), grown into full for 3000 steps, evaluated on val and test
# of the standard split (the same scenes). Each step is skipped when its output exists.
#   bash tools/build_grown_default.sh     # ≈ 5 h on 2 fp32 cores (AVX2, no bf16); then:
#   python tools/package_assets.py --only-shipped --replace \
#       --ship-checkpoint runs/grown/full/last full-grown \
#       --ship-dump runs/grown/dumps/full-val full-grown-val --ship-dump runs/grown/dumps/full-test full-grown-test
set -euo pipefail
cd "$(dirname "$0")/.."
TV=${TV:-.venv/bin/tvnet}
DATA=data/synthref; BIG=data/synthref30k; POOL=runs/pool; BIGPOOL=runs/pool30k
CACHE=runs/.feature-cache; OUT=runs/grown
# the recipe of 2026-12-01, before the cpu preset moved to MiniLM tokens (docs/design.md §6)
OLD="--set model.text_encoder=glove_lstm --set model.text_layer=lstm --set model.enrich_key_grid=0 --set train.loss_grid=input --set train.colour_swap=0 --set train.channels_last=false"
COMMON="--config configs/cpu.json $OLD --set model.word_whiten=true --data $BIG --pool $BIGPOOL --cache-dir $CACHE --val-samples 0 --checkpoint-every 500"
[ -d $DATA ] || $TV synth $DATA --seed 0 --train 6000 --val 1000 --test 1000
[ -d $BIG ] || $TV synth $BIG --seed 0 --train 30000 --val 1000 --test 1000  # val/test: the same scenes
[ -f $POOL/manifest.json ] || $TV pool build --data $DATA --split train --out $POOL
for s in val test; do
  [ -f $POOL/neighbours_synthref_$s.parquet ] || $TV pool neighbours --data $DATA --split $s --pool $POOL
done
if [ ! -f $BIGPOOL/neighbours_synthref_train.parquet ]; then  # the same pool, neighbours for the 30000
  mkdir -p $BIGPOOL && cp $POOL/manifest.json $POOL/entries.npz $POOL/image_store.npz $POOL/meta.parquet $POOL/text.faiss $BIGPOOL/
  $TV pool neighbours --data $BIG --split train --pool $BIGPOOL
fi
done_run() { grep -q '"done": true' "$1/log.jsonl" 2>/dev/null; }
done_run $OUT/b8000 || $TV train $COMMON --variant baseline --steps 8000 --lr 1e-3 --out $OUT/b8000 --resume
done_run $OUT/b14000 || $TV train $COMMON --variant baseline --init $OUT/b8000/last --steps 6000 --lr 5e-4 --out $OUT/b14000 --resume
done_run $OUT/b17000 || $TV train $COMMON --variant baseline --init $OUT/b14000/last --steps 3000 --lr 2.5e-4 --out $OUT/b17000 --resume
done_run $OUT/full || $TV train $COMMON --variant full --init $OUT/b17000/last --steps 3000 --lr 2.5e-4 --out $OUT/full --resume
for s in val test; do
  [ -f $OUT/dumps/full-$s/run.json ] || \
    $TV eval --checkpoint $OUT/full/last --data $DATA --split $s --pool $POOL --cache-dir $CACHE --out $OUT/dumps/full-$s
done
