#!/usr/bin/env bash
# The measurements of EXPERIMENTS.md's "Dequantisation, weight averaging and schedules" section: several variants of
# one Fashion-MNIST config, several seeds each, at an equal budget of iterations, each run trained with one libtorch
# thread in one of two lanes at once (the machine has 2 cores), then its last checkpoint evaluated on the test images
# with one dequantisation and with the K-sample importance-weighted bound (and, for a run with train.ema, with the
# raw and the averaged weights). The table is written by scripts/toolkit_table.py.
#
# Usage: scripts/toolkit-study.sh OUT ITERATIONS SEEDS K NAME=CONFIG [NAME=CONFIG ...]
#   OUT         the study folder: OUT/NAME-sSEED/ per run, OUT/evals/NAME-sSEED/eval-*.json per evaluation (a run
#               folder holds only its trainer's files), OUT/log/
#   ITERATIONS  the budget of every run (evaluated every ITERATIONS/4 during training)
#   SEEDS       e.g. 0,1,2
#   K           the samples of the importance-weighted evaluation (e.g. 16)
#   NAME=CONFIG a variant: a preset name or a YAML run config file
# A run folder that already holds its final checkpoint is not trained again (the study can be continued); an
# evaluation whose JSON exists is not repeated.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 5 ] || { sed -n 2,15p "$0" >&2; exit 2; }
out="$1"; iterations="$2"; seeds="$3"; k="$4"; shift 4
mkdir -p "$out/log"
./woodflow --version >/dev/null   # build first
jobs=()
for seed in ${seeds//,/ }; do
  for variant in "$@"; do jobs+=("${variant%%=*} ${variant#*=} $seed"); done
done
final=$(printf 'ckpt-%08d.safetensors' "$iterations")

source_of() { if [ -f "$1" ]; then echo "--config $1"; else echo "--preset $1"; fi; }

one() {  # NAME CONFIG SEED
  local name="$1" config="$2" seed="$3" run="$out/$1-s$3"
  if [ ! -f "$run/checkpoints/$final" ]; then
    local resume=; [ -d "$run/checkpoints" ] && resume=--resume
    # shellcheck disable=SC2046
    ./woodflow train $(source_of "$config") --seed "$seed" --iterations "$iterations" \
      --eval-every $((iterations / 4)) --checkpoint-every $((iterations / 4)) --threads 1 --no-report $resume \
      --out "$run" > "$out/log/$name-s$seed.train.log" 2>&1
  fi
  local weights=raw
  grep -Eq '^  ema: "?0*\.[0-9]*[1-9]' "$run/config.yaml" 2>/dev/null && weights="raw ema"  # train.ema above 0
  for w in $weights; do
    # named whenever the run has both sets: eval's default is the averaged weights when the checkpoint holds them
    local flag=; [ "$weights" != raw ] && flag="--weights $w"
    for kk in 1 "$k"; do
      local json="$out/evals/$name-s$seed/eval-$w-k$kk.json"
      mkdir -p "$out/evals/$name-s$seed"
      [ -f "$json" ] && continue
      # shellcheck disable=SC2086
      ./woodflow eval --checkpoint "$run/checkpoints/$final" --samples "$kk" --threads 1 $flag --json "$json" \
        >> "$out/log/$name-s$seed.eval.log" 2>&1
    done
  done
}

# two lanes, each taking the next job nobody has taken (mkdir is atomic: the lane that creates the claim runs it)
claims="$out/log/claims.$$"
mkdir -p "$claims"
lane() {
  local i
  for ((i = 0; i < ${#jobs[@]}; i++)); do
    mkdir "$claims/$i" 2>/dev/null || continue
    # shellcheck disable=SC2086
    one ${jobs[$i]} || echo "failed: ${jobs[$i]} (see $out/log/)" >&2
  done
}
lane a & a=$!
lane b & b=$!
wait $a $b
rm -r "$claims"
/usr/bin/python3 scripts/toolkit_table.py "$out"
