#!/usr/bin/env bash
# Regenerates BENCHMARKS.md from measurements on this machine: woodflow's layer, training, sampling and loader
# benchmarks, and the PyTorch yardstick (../shared/yardstick/torch_glow.py) in the same session, as ratios.
# Usage: scripts/benchmarks.sh [--quick] [--memory] [--skip-layers] [--rounds N] [--fp32-only]
#                              [--yardstick-fp32-only] [--report-only]
#   (needs python3-torch for the yardstick; installs it if missing)
#   --quick: layer sizes up to 64 only;  --memory: also run bench memory (~20 min; otherwise earlier tables are reused)
#   --skip-layers: reuse the layer tables in bench-out/layers;  --rounds N: rounds of the interleaved woodflow /
#   yardstick measurements (default 5; each number reported is the median over the rounds, and each ratio the
#   median of the per-round ratios)
#   --fp32-only: no bf16-mixed runs (on a CPU without bf16 instructions, such as AMD Zen 3, bf16-mixed is several
#   times slower than fp32 and its figures say nothing about woodflow; the table then shows "–" for them)
#   --yardstick-fp32-only: woodflow in both precisions, the yardstick in fp32 only (its bf16 autocast on a CPU
#   without bf16 instructions runs scalar kernels: tens of minutes per config c run); woodflow's bf16-mixed is then
#   compared with the yardstick's fp32
#   --report-only: no measurements, rewrite BENCHMARKS.md from what bench-out/ holds
set -euo pipefail
cd "$(dirname "$0")/.."
quick=; memory=; measure=yes; layers=yes; rounds=5; precisions="fp32 bf16-mixed"; yprecisions=
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=--quick ;; --memory) memory=--memory ;; --report-only) measure= ;; --skip-layers) layers= ;;
    --rounds) rounds="$2"; shift ;;
    --fp32-only) precisions=fp32 ;;
    --yardstick-fp32-only) yprecisions=fp32 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
yprecisions="${yprecisions:-$precisions}"
out=bench-out
mkdir -p "$out" docs/bench
yard=../shared/yardstick/torch_glow.py
if ! /usr/bin/python3 -c "import torch" 2>/dev/null || ! command -v jq >/dev/null; then
  apt-get install -y -qq --no-install-recommends python3-torch libopenblas0-pthread jq >/dev/null
fi
sizes=8,16,32,64,128,256; [ "$quick" = --quick ] && sizes=8,16,32,64
mem_k="--configs k4,k8,k16,k32 --batch 2"; mem_c="--configs celeba128,celeba256 --batch 4"
if [ -n "$measure" ]; then
./woodflow --version >/dev/null   # build first, outside the timings
: > "$out/runs.jsonl"; : > "$out/yardstick.jsonl"
git rev-parse --short HEAD > "$out/commit.txt"   # the code measured (--report-only keeps it)
# the CPU (model, family/model, ISA, AMX yes/no) the figures hold for; every bench train record names it too, and a
# timing with skipped (non-finite) steps stops the script (bench train exits 1 on it)
./woodflow doctor --threads 1 > "$out/doctor.txt" || true
sed -n 's/^cpu: *//p' "$out/doctor.txt" > "$out/cpu.txt"
sed -n 's/^env: *//p' "$out/doctor.txt" > "$out/env.txt"
if [ -n "$layers" ]; then
# one thread: a layer at batch 1, as in the paper, its complexity read from the slope (which intra-op threads
# flatten); and with two intra-op threads every call above ATen's grain size waits at a barrier on a busy host
./woodflow bench layers --channels 12,48 --sizes "$sizes" --repeats 7 --warmup 2 --min-seconds 0.5 \
  --budget-seconds 20 --threads 1 --out "$out/layers" | tee "$out/layers.log"
cp "$out"/layers/layers-*.png docs/bench/
fi
# woodflow and the yardstick interleaved, round after round: the report takes the median of each measurement over
# the rounds, so a burst of load from another tenant of the machine moves one sample, not the ratio.
# every yardstick line names the CPU it ran on too, and the round it belongs to
py() {
  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$yard" --threads 2 "$@" \
    | jq -c --arg cpu "$(cat "$out/cpu.txt")" --argjson round "$round" '. + {cpu: $cpu, round: $round}' \
    | tee -a "$out/yardstick.jsonl"
}
for round in $(seq "$rounds"); do
  for p in $precisions; do
    ./woodflow bench train --preset yardstick-c --precision $p --warmup 3 --iterations 10 --json "$out/runs.jsonl"
    if [[ " $yprecisions " == *" $p "* ]]; then py --config c --what train --iters 10 --precision $p; fi
  done
  # the memory-bounded backward (activations recomputed from the inverses), against the same yardstick runs
  ./woodflow bench train --preset yardstick-c --backprop invertible --warmup 3 --iterations 10 --json "$out/runs.jsonl"
  for p in $precisions; do
    ./woodflow bench sample --preset yardstick-c --precision $p --repeats 5 --json "$out/runs.jsonl"
  done
  py --config c --what sample
  for p in $precisions; do
    ./woodflow bench train --preset yardstick-a --precision $p --warmup 3 --iterations 20 --json "$out/runs.jsonl"
    if [[ " $yprecisions " == *" $p "* ]]; then py --config a --what train --iters 20 --precision $p; fi
  done
done
./woodflow bench loader --batch 32 | tee "$out/loader.log"
# The memory tables (bench memory, ~20 min) are included when present: run scripts/benchmarks.sh --memory, or by hand
#  ./woodflow bench memory --configs k4,k8,k16,k32 --batch 2 --out bench-out/memory-k
#  ./woodflow bench memory --configs celeba128,celeba256 --batch 4 --out bench-out/memory-celeba
if [ "$memory" = --memory ]; then
  ./woodflow bench memory $mem_k --out "$out/memory-k"
  ./woodflow bench memory $mem_c --out "$out/memory-celeba"
fi
./woodflow bench train --preset imagenet64-woodbury --batch 32 --precision "${precisions##* }" --warmup 1 --iterations 3 \
  --json "$out/runs.jsonl"
fi

# median of the matching lines (the interleaved rounds)
j() { jq -s -r "[.[] | select($1) | $2] | sort | if length == 0 then empty else .[(length - 1) / 2 | floor] end" "$3"; }
std='((.backprop // "standard") == "standard")'
wc_train32=$(j '.what=="train" and .precision=="fp32" and (.config|startswith("3x32x32"))'" and $std" .images_per_s "$out/runs.jsonl")
wc_trainbf=$(j '.what=="train" and .precision=="bf16-mixed" and (.config|startswith("3x32x32"))'" and $std" .images_per_s "$out/runs.jsonl")
wc_samp32=$(j '.what=="sample" and .precision=="fp32"' .sample_s_median "$out/runs.jsonl")
wc_sampbf=$(j '.what=="sample" and .precision=="bf16-mixed"' .sample_s_median "$out/runs.jsonl")
wc_rss32=$(j '.what=="train" and .precision=="fp32" and (.config|startswith("3x32x32"))'" and $std" .peak_rss_mib "$out/runs.jsonl")
wc_rssbf=$(j '.what=="train" and .precision=="bf16-mixed" and (.config|startswith("3x32x32"))'" and $std" .peak_rss_mib "$out/runs.jsonl")
wa_train=$(j '.what=="train" and .precision=="fp32" and (.config|startswith("1x32x32"))'" and $std" .images_per_s "$out/runs.jsonl")
wa_trainbf=$(j '.what=="train" and .precision=="bf16-mixed" and (.config|startswith("1x32x32"))'" and $std" .images_per_s "$out/runs.jsonl")
mm32=$(j '.what=="train"' .matmul_fp32_gflops "$out/runs.jsonl")
mmbf=$(j '.what=="train"' .matmul_bf16_gflops "$out/runs.jsonl")
# the machine's peak, measured once in every run (core/Peak): its median over the runs, its range, what reached it
peak=$(j '.peak_gflops' .peak_gflops "$out/runs.jsonl")
peak_range=$(jq -s -r '[.[] | .peak_gflops | numbers] | if length == 0 then "–" else "\(min | round)–\(max | round)" end' "$out/runs.jsonl")
peak_kernels=$(jq -s -r '[.[] | .peak_kernel | strings] | group_by(.) | map("\(.[0]) (\(length) runs)") | join("; ")' "$out/runs.jsonl")
peak_theory=$(jq -s -r '[.[] | .peak_theoretical | strings] | unique | join("; ")' "$out/runs.jsonl")
# a measured peak above the theoretical figure of its precision: the clock it implies (the theoretical figure takes the
# nominal clock; a boosting core runs faster)
peak_above=$(jq -s -r '[.[] | select(.peak_gflops != null and .peak_theoretical_bf16_gflops != null and .peak_theoretical_bf16_gflops > 0 and (.peak_kernel | startswith("bf16")) and .peak_gflops > .peak_theoretical_bf16_gflops) | .peak_gflops / .peak_theoretical_bf16_gflops] as $r | if ($r | length) == 0 then "none" else "\($r | length) of the runs (their bf16 peak): at the FLOP per cycle of the theoretical figure the cores ran at \(($r | min) * 100 | round / 100)-\(($r | max) * 100 | round / 100)x the nominal clock" end' "$out/runs.jsonl")
peak_rates=$(jq -s -r '[.[] | select(.what=="sample" and .precision=="fp32") | .peak_rates | strings] | .[0] // "–"' "$out/runs.jsonl")
max_share=$(jq -s -r '[.[] | (.model_share_of_peak, .model_share_of_precision_peak) | numbers] | if length == 0 then "–" else (max * 100 | round / 100 | tostring) end' "$out/runs.jsonl")
share_rows=$(jq -s -r '[.[] | select(.model_share_of_peak != null) | "\(.what) \(.config | split(" ")[0]) \(.precision)\(if (.backprop // "standard") == "invertible" then " invertible" else "" end): \(.model_gflops | round) GFLOP/s, \(.model_share_of_peak * 1000 | round / 1000) of the peak, \(.model_share_of_precision_peak * 1000 | round / 1000) of the \(if .bf16_kernels != null and (.bf16_kernels | startswith("native")) then "bf16" else "fp32" end) peak"] | group_by(.) | map(.[0]) | join("<br>")' "$out/runs.jsonl")
yc_train32=$(j '.config=="c" and .what=="train" and .precision=="fp32"' .images_per_s "$out/yardstick.jsonl")
yc_trainbf=$(j '.config=="c" and .what=="train" and .precision=="bf16-mixed"' .images_per_s "$out/yardstick.jsonl")
yc_samp=$(j '.config=="c" and .what=="sample"' .sample64_s_median "$out/yardstick.jsonl")
yc_rss32=$(j '.config=="c" and .what=="train" and .precision=="fp32"' .peak_rss_mb "$out/yardstick.jsonl")
yc_rssbf=$(j '.config=="c" and .what=="train" and .precision=="bf16-mixed"' .peak_rss_mb "$out/yardstick.jsonl")
ya_train=$(j '.config=="a" and .what=="train" and .precision=="fp32"' .images_per_s "$out/yardstick.jsonl")
ya_trainbf=$(j '.config=="a" and .what=="train" and .precision=="bf16-mixed"' .images_per_s "$out/yardstick.jsonl")
steal=$(jq -s -r '[.[] | .cpu_steal_pct | numbers] | if length == 0 then "not measured" else "\(min * 10 | round / 10)–\(max * 10 | round / 10)%" end' "$out/runs.jsonl")
i64=$(j '.what=="train" and (.config|startswith("3x64x64"))' .images_per_s "$out/runs.jsonl")
i64p=$(j '.what=="train" and (.config|startswith("3x64x64"))' .precision "$out/runs.jsonl")
loader=$(grep -o '[0-9]* images/s' "$out/loader.log" | head -1)
# a ratio with its "×", or "–" when either side was not measured (--fp32-only, --yardstick-fp32-only)
r() { if [ -z "${1:-}" ] || [ -z "${2:-}" ]; then printf '–'; return; fi; awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'; }
# per-round ratios: the k-th woodflow run against the k-th yardstick run (the same round, minutes apart), and their
# median. The host's speed drifts by up to 2x within minutes with no steal time to show for it (probably another tenant on the
# same physical cores), so a ratio taken within one round is steadier than the ratio of the two medians.
pr() {
  jq -n -r --slurpfile a "$out/runs.jsonl" --slurpfile b "$out/yardstick.jsonl" \
    "[\$a[] | select($1) | $2] as \$x | [\$b[] | select($3) | $4] as \$y
     | [range(0; [(\$x | length), (\$y | length)] | min) | \$x[.] / \$y[.]] as \$r
     | if (\$r | length) == 0 then \"-\" else
       (\$r | map(. * 100 | round / 100 | tostring) | join(\" / \")) + \" (median \"
       + ((\$r | sort | .[(length - 1) / 2 | floor]) * 100 | round / 100 | tostring) + \"×)\" end"
}
wc='.what=="train" and (.config|startswith("3x32x32")) and '"$std"
winv='.what=="train" and (.config|startswith("3x32x32")) and .backprop=="invertible"'
wc_inv=$(j "$winv" .images_per_s "$out/runs.jsonl"); wc_rssinv=$(j "$winv" .peak_rss_mib "$out/runs.jsonl")
pr_rssinv=$(pr "$winv" .peak_rss_mib '.config=="c" and .what=="train" and .precision=="fp32"' .peak_rss_mb)
pr_inv32=$(pr "$winv" .images_per_s '.config=="c" and .what=="train" and .precision=="fp32"' .images_per_s)
samp_gflops=$(j '.what=="sample" and .precision=="fp32"' .model_gflops "$out/runs.jsonl")
samp_share=$(j '.what=="sample" and .precision=="fp32"' .model_share_of_peak "$out/runs.jsonl")
samp_share32=$(j '.what=="sample" and .precision=="fp32"' .model_share_of_precision_peak "$out/runs.jsonl")
pr_train32=$(pr "$wc and .precision==\"fp32\"" .images_per_s '.config=="c" and .what=="train" and .precision=="fp32"' .images_per_s)
pr_trainbf=$(pr "$wc and .precision==\"bf16-mixed\"" .images_per_s '.config=="c" and .what=="train" and .precision=="bf16-mixed"' .images_per_s)
pr_trainbf32=$(pr "$wc and .precision==\"bf16-mixed\"" .images_per_s '.config=="c" and .what=="train" and .precision=="fp32"' .images_per_s)
pr_sampbf=$(pr '.what=="sample" and .precision=="bf16-mixed"' .sample_s_median '.config=="c" and .what=="sample"' .sample64_s_median)
pr_samp32=$(pr '.what=="sample" and .precision=="fp32"' .sample_s_median '.config=="c" and .what=="sample"' .sample64_s_median)
pr_rss32=$(pr "$wc and .precision==\"fp32\"" .peak_rss_mib '.config=="c" and .what=="train" and .precision=="fp32"' .peak_rss_mb)
wa='.what=="train" and (.config|startswith("1x32x32")) and '"$std"
ya_rss=$(j '.config=="a" and .what=="train" and .precision=="fp32"' .peak_rss_mb "$out/yardstick.jsonl")
wa_rss=$(j "$wa"' and .precision=="fp32"' .peak_rss_mib "$out/runs.jsonl")
pr_rssa=$(pr "$wa and .precision==\"fp32\"" .peak_rss_mib '.config=="a" and .what=="train" and .precision=="fp32"' .peak_rss_mb)
pr_a32=$(pr "$wa and .precision==\"fp32\"" .images_per_s '.config=="a" and .what=="train" and .precision=="fp32"' .images_per_s)
pr_abf=$(pr "$wa and .precision==\"bf16-mixed\"" .images_per_s '.config=="a" and .what=="train" and .precision=="bf16-mixed"' .images_per_s)
pr_abf32=$(pr "$wa and .precision==\"bf16-mixed\"" .images_per_s '.config=="a" and .what=="train" and .precision=="fp32"' .images_per_s)
cpus=$(jq -s -r '[.[] | .cpu | strings] | unique | join("; ")' "$out/runs.jsonl" "$out/yardstick.jsonl")
invalid=$(jq -s '[.[] | select(.what=="train" and .valid != true)] | length' "$out/runs.jsonl")
skipped=$(jq -s '[.[] | select(.what=="train") | .skipped_steps // 0] | add // 0' "$out/runs.jsonl")
mm_rounds=$(jq -s -r '[.[] | select(.what=="train" and (.config|startswith("3x32x32"))) | .peak_gflops | round | tostring] | join(" / ")' "$out/runs.jsonl")
# the median of the per-round ratios alone (for the targets' table)
prm() { pr "$@" | sed -n 's/.*(median \([0-9.]*\)×)$/\1/p'; }
# a target's verdict: prm value, comparison (ge / le), bound
tv() { if [ -z "${1:-}" ]; then printf '–'; return; fi
  awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN { ok = (op == "ge") ? a >= b : a <= b; printf "%s×: %s", a, ok ? "met" : "missed" }'; }
# the checks of issue 33 (medians of per-round ratios)
t_a32=$(prm "$wa and .precision==\"fp32\"" .images_per_s '.config=="a" and .what=="train" and .precision=="fp32"' .images_per_s)
t_c32=$(prm "$wc and .precision==\"fp32\"" .images_per_s '.config=="c" and .what=="train" and .precision=="fp32"' .images_per_s)
t_cbf=$(prm "$wc and .precision==\"bf16-mixed\"" .images_per_s '.config=="c" and .what=="train" and .precision=="fp32"' .images_per_s)
t_sbf=$(prm '.what=="sample" and .precision=="bf16-mixed"' .sample_s_median '.config=="c" and .what=="sample"' .sample64_s_median)
t_s32=$(prm '.what=="sample" and .precision=="fp32"' .sample_s_median '.config=="c" and .what=="sample"' .sample64_s_median)
rounds_done=$(jq -s '[.[] | select(.what=="train" and .config=="a" and .precision=="fp32")] | length' "$out/yardstick.jsonl")
f() { if [ -z "${1:-}" ]; then printf '–'; return; fi; awk -v a="$1" 'BEGIN { if (a >= 100) printf "%.0f", a; else printf "%.3g", a }'; }

{
cat <<MD
# Benchmarks

Measured by \`scripts/benchmarks.sh\` on $(date -u +%Y-%m-%d) (commit $(cat "$out/commit.txt" 2>/dev/null || git rev-parse --short HEAD))
on **$(cat "$out/cpu.txt" 2>/dev/null || grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')**, $(nproc) cores;
every number below is read from the benchmark outputs in \`bench-out/\`, none typed. Shared machines are noisy: compare ratios
within one run; the benchmarks report medians after warm-up.

| check ($rounds_done interleaved rounds; medians of per-round ratios) | result |
|---|---|
| config a fp32 training ≥ 1.3× the yardstick's images/s | $(tv "$t_a32" ge 1.3) |
| config c fp32 training ≥ 1.25× | $(tv "$t_c32" ge 1.25) |
| config c bf16-mixed training ≥ 2.0× the yardstick's fp32 | $(tv "$t_cbf" ge 2.0) |
| sampling 64 images of config c at T = 0.7, bf16-mixed ≤ 0.2× the yardstick's fp32 time | $(tv "$t_sbf" le 0.2) |
| the same in fp32 ≤ 0.33× | $(tv "$t_s32" le 0.33) |
| no printed share of the machine's peak above 1.0 | largest $max_share |
| skipped steps in woodflow's timed iterations | $skipped |

## Training and sampling against the paper's PyTorch code (yardstick)

The yardstick is \`shared/yardstick/torch_glow.py\` (the same model in PyTorch $( /usr/bin/python3 -c 'import torch; print(torch.__version__)'),
OPENBLAS_NUM_THREADS=1, 2 threads: its best setting here), run in the same session. Both were measured in $(jq -s '[.[] | select(.what=="train" and .config=="a" and .precision=="fp32")] | length' "$out/yardstick.jsonl")
interleaved rounds (woodflow, yardstick, woodflow, ...); each number below is the median of its runs over the
rounds, and each run's own number is the median over its timed iterations.

| config c: 3×32×32, K=8, L=3, 512 channels, batch 16, Woodbury d=16 | woodflow | yardstick | ratio |
|---|---:|---:|---:|
| training, fp32 (images/s) | $(f $wc_train32) | $(f $yc_train32) | $(r $wc_train32 $yc_train32) |
| training, bf16-mixed (images/s) | $(f $wc_trainbf) | $(f $yc_trainbf) (its bf16 autocast) | $(r $wc_trainbf $yc_trainbf) |
| training, woodflow bf16-mixed vs yardstick fp32 | $(f $wc_trainbf) | $(f $yc_train32) | $(r $wc_trainbf $yc_train32) |
| sampling 64 images at T=0.7, fp32 (s) | $(f $wc_samp32) | $(f $yc_samp) | $(r $wc_samp32 $yc_samp) the time |
| sampling 64 images at T=0.7, bf16-mixed (s) | $(f $wc_sampbf) | $(f $yc_samp) | $(r $wc_sampbf $yc_samp) the time |
| peak resident memory of training, fp32 (MiB) | $(f $wc_rss32) | $(f $yc_rss32) | $(r $wc_rss32 $yc_rss32) |
| peak resident memory of training, bf16-mixed (MiB) | $(f $wc_rssbf) | $(f $yc_rssbf) | $(r $wc_rssbf $yc_rssbf) |

$(if [ -z "${wc_trainbf:-}" ]; then echo "bf16-mixed was not measured in this run (\`--fp32-only\`): the CPU has $(grep -q avx512_bf16 /proc/cpuinfo && echo "bf16 instructions, but the run skipped them" || echo "no bf16 instructions (no avx512_bf16, no AMX): the yardstick's bf16 autocast falls back to scalar kernels here (tens of minutes per run), and woodflow's bf16-mixed runs emulated bf16 (float32 kernels on bf16-rounded operands), about fp32's speed, so neither says anything about bf16 hardware"); its rows show –."; echo; fi)
$(if [ -n "${wc_trainbf:-}" ] && [ -z "${yc_trainbf:-}" ]; then echo "The yardstick's bf16 autocast was not run (\`--yardstick-fp32-only\`): on this CPU (no avx512_bf16, no AMX) its bf16 kernels are scalar loops, tens of minutes per config c run. woodflow's bf16-mixed is compared with the yardstick's fp32; woodflow runs it as emulated bf16 (float32 kernels on bf16-rounded operands), so it cannot be faster than woodflow's fp32 here."; echo; fi)
Per round (each woodflow run against the yardstick run of the same round; the median of these is the steadier
figure on a shared host): training fp32 $pr_train32; bf16-mixed against the yardstick's bf16 $pr_trainbf;
woodflow bf16-mixed against the yardstick's fp32 $pr_trainbf32; sampling time in fp32 $pr_samp32, in bf16-mixed
$pr_sampbf; peak training memory in fp32 $pr_rss32. The
machine's peak (below) as measured in each config c training run, in GFLOP/s: $mm_rounds.

Config a (Fashion-MNIST 1×32×32, K=4, L=2, 64 channels, batch 32; both train on the same Fashion-MNIST images):
fp32, woodflow $(f $wa_train) images/s against the yardstick's $(f $ya_train) ($(r $wa_train $ya_train)); bf16-mixed, woodflow
$(f "${wa_trainbf:-}") against the yardstick's $(f "${ya_trainbf:-}") ($(r "${wa_trainbf:-}" "${ya_trainbf:-}")). Per round: fp32
$pr_a32; bf16-mixed against the yardstick's bf16 $pr_abf; woodflow bf16-mixed against the yardstick's fp32 $pr_abf32.

Peak resident memory of training, config a, fp32: woodflow $(f $wa_rss) MiB against the yardstick's $(f $ya_rss) MB
(per round $pr_rssa). Config c with \`--backprop invertible\` (activations recomputed from the inverses, one flow
step's held at a time), fp32: $(f ${wc_rssinv:-0}) MiB, per round against the yardstick's fp32 training
$pr_rssinv, at $(f ${wc_inv:-0}) images/s ($pr_inv32 the yardstick's fp32 rate). Sampling's counted work (the
forward pass of its 64 images) ran at $(f ${samp_gflops:-0}) GFLOP/s in fp32: $(awk -v a="${samp_share:-0}" 'BEGIN { printf "%.2f", a }') of the
machine's measured peak and $(awk -v a="${samp_share32:-0}" 'BEGIN { printf "%.2f", a }') of its fp32 peak, both measured in the same run (medians over the rounds).

Every run names its CPU: $cpus. Kernel-selecting environment: $(cat "$out/env.txt" 2>/dev/null || echo "not recorded").
Skipped (non-finite) steps in woodflow's timed iterations: $skipped, in $invalid invalid runs (a run with one is
invalid, and \`bench train\` exits 1 on it, which stops this script).

CPU time the host gave to other tenants during woodflow's timed runs (steal, from /proc/stat): $steal. The model
work per second of each run (convolutions and matrix products counted analytically, 3× the forward pass for
training) is in the \`model_gflops\` field of each line below, beside the machine's peak measured in the same run
and the model's share of it.

## The machine's peak

Measured once in every \`bench train\` and \`bench sample\` run (and by \`woodflow doctor\`) the way the library's best
kernels run: float32 and bf16 matrix products at the size that runs fastest (512, growing while the rate grows) and
the model's largest convolution in both precisions, on both batch-half threads at once (one libtorch thread each,
their rates summed), each thread's rate its best of at least five calls (a busy host only ever slows a call down).
Every share of the machine a run prints is taken against the best of these. On $(cat "$out/cpu.txt" 2>/dev/null || echo "this CPU"):

| | GFLOP/s |
|---|---|
| measured peak, median over the $(jq -s '[.[] | .peak_gflops | numbers] | length' "$out/runs.jsonl") runs | $(f ${peak:-}) (range $peak_range) |
| what reached it | $peak_kernels |
| the rates of one sampling run | ${peak_rates//; /<br>} |
| theoretical | $peak_theory |
| measured above the theoretical | $peak_above |
| matrix products alone (median over the training runs) | fp32 $(f ${mm32:-}), bf16 $(f ${mmbf:-}) |
| the runs' shares of the peak | ${share_rows:-–} |

The largest share of the machine printed in any run: $max_share.

\`\`\`
$(cat "$out/runs.jsonl")
\`\`\`

## Permutation layers (the paper's Table 1, on measured timings)

\`./woodflow bench layers --channels 12,48 --sizes $sizes --repeats 7 --warmup 2 --min-seconds 0.5 --budget-seconds 20 --threads 1\`
on $(cat "$out/cpu.txt" 2>/dev/null || echo "this CPU"), one libtorch thread: batch 1,
d = 16 for the Woodbury layers, 3×3 kernels for emerging and periodic convolutions; inverse without cached
factorisations. Each row is timed until its calls add up to 0.5 s (at least 7 calls): the tables give the median and
the minimum, and mark (†) a row whose median is over 1.5× its minimum (a burst of load from another tenant during
it); the plots and slopes use the minima. Slopes are least-squares fits of log(time) against log(h·w) over sizes ≥ 32: 1 means linear in the
number of pixels.

![forward](docs/bench/layers-forward.png)
![inverse](docs/bench/layers-inverse.png)
![forward+backward](docs/bench/layers-forward-backward.png)
$(cat "$out/layers/layers.md")

## Memory: standard backpropagation against backpropagation through inverses

\`bench memory\` runs every (config, mode) in a fresh JVM and reads its peak resident memory (VmHWM). The K series
is 64×64 images, L = 4, 64 coupling channels, batch 2; the CelebA-HQ rows are the celeba128/256 presets' models at
their own batch size, 4 (the paper's Table 2). With \`--backprop invertible\` the activation memory stays that of
one step, so what still grows with K is the parameters and their gradients (8 bytes per parameter).

$(for m in k celeba; do
  args=$mem_k; [ $m = celeba ] && args=$mem_c
  if [ -f "$out/memory-$m/memory.md" ]; then echo "\`./woodflow bench memory $args\`:"; echo; cat "$out/memory-$m/memory.md"; echo; fi
done)

## Data-parallel scaling

\`scripts/scaling.sh\` (its own script: about 3 minutes a round) interleaves one process with 2 threads against two
ranks with one thread each (\`bench train --nproc 2\`, gradients all-reduced over Gloo on 127.0.0.1, overlapped with
the backward or not) and projects the paper's largest settings to 8–64 GPUs from the counted work per image, the
gradient size and a stated network. On one 2-core machine two ranks can only show the cost of the collectives, not a
speed-up: the same two cores do the work either way.

$(if [ -f "$out/scaling.md" ]; then cat "$out/scaling.md"; else echo "(not measured in this run: run scripts/scaling.sh)"; fi)

## Data loading

\`./woodflow bench loader --batch 32\`: $loader (500 generated 96×96 JPEGs decoded and resized to 64×64 on 2
background threads), against the training rate of the imagenet64-woodbury preset (batch 32, $i64p):
$(f $i64) images/s — the loader is $(r ${loader% images/s} $i64) faster than training consumes.

## JMH (hot kernels)

\`\`\`
mvn -q -Pjmh -DskipTests package && java -cp 'target/woodflow.jar:target/lib/*' org.openjdk.jmh.Main
\`\`\`
runs the Woodbury and ME-Woodbury transforms both ways, the d×d solves, the emerging inverse and the spline
(src/jmh/java/woodflow/jmh/KernelBenchmarks.java).
MD
} > "$out/BENCHMARKS.current.md"

# The sections of earlier CPUs stay below this CPU's: when the CPU changed since BENCHMARKS.md was last written, its
# sections move down under "Earlier CPUs" (their headings two levels deeper), so a reader sees how ratios move across
# CPUs; a rerun on the same CPU replaces its own sections only.
marker='## Earlier CPUs'
intro='Kept from earlier regenerations on other CPUs, newest first. They hold for the CPU each names, not for the one above.'
old_current=; old_earlier=; old_cpu=
if [ -f BENCHMARKS.md ]; then
  old_current=$(awk -v m="$marker" '$0 == m { exit } { print }' BENCHMARKS.md)
  old_earlier=$(awk -v m="$marker" -v i="$intro" 'f && $0 != i { print } $0 == m { f = 1 }' BENCHMARKS.md)
  old_cpu=$(printf '%s\n' "$old_current" | sed -n 's/^on \*\*\(.*\)\*\*, .*/\1/p' | head -1)
fi
new_cpu=$(cat "$out/cpu.txt" 2>/dev/null || true)
{
  cat "$out/BENCHMARKS.current.md"
  echo; echo "$marker"; echo; echo "$intro"
  if [ -n "$old_cpu" ] && [ "$old_cpu" != "$new_cpu" ]; then
    echo
    # (the plots are redrawn for each CPU: an earlier section keeps its tables, not the pictures)
    printf '%s\n' "$old_current" | sed -E '/^!\[/d; s/^(#+) /\1## /; 1s/^### Benchmarks$/### '"$(printf '%s' "$old_cpu" | sed 's/[&/\]/\\&/g')"'/'
  fi
  printf '%s\n' "$old_earlier"
} > BENCHMARKS.md.tmp
mv BENCHMARKS.md.tmp BENCHMARKS.md
echo "wrote BENCHMARKS.md"
