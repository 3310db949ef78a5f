#!/usr/bin/env bash
# Data-parallel scaling on this machine, and its projection to the paper's settings on 8-64 GPUs.
# Usage: scripts/scaling.sh [--rounds N] [--report-only]
#   Interleaves, round after round, one process with 2 threads against 2 ranks (--nproc 2) with 1 thread each, for
#   config a (yardstick-a) and config c (yardstick-c), fp32, and with and without overlapping the all-reduce.
#   Writes bench-out/scaling.jsonl (every bench train record) and bench-out/scaling.md (the tables: measured per-round
#   ratios, and the projection, whose assumptions are stated above its table). --report-only: only the tables.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=5; measure=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="$2"; shift ;; --report-only) measure= ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
out=bench-out
mkdir -p "$out"
if [ -n "$measure" ]; then
  ./woodflow --version >/dev/null   # build first, outside the timings
  : > "$out/scaling.jsonl"
  for round in $(seq "$rounds"); do
    for c in a c; do
      iters=20; [ $c = c ] && iters=8
      for mode in "1x2" "2x1" "2x1-no-overlap"; do
        extra=(); [ "$mode" != 1x2 ] && extra=(--nproc 2)
        [ "$mode" = 2x1-no-overlap ] && extra+=(--no-overlap)
        ./woodflow bench train --preset "yardstick-$c" --threads 2 --warmup 3 --iterations "$iters" "${extra[@]}" \
          --json "$out/scaling.jsonl" | grep -E '^(images_per_s|allreduce_wait_s_median) '
        echo "round $round config $c $mode done"
      done
    done
  done
fi
/usr/bin/python3 scripts/scaling_report.py "$out/scaling.jsonl" | tee "$out/scaling.md"
