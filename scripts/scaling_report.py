#!/usr/bin/env python3
"""Tables for BENCHMARKS.md's data-parallel section, from scripts/scaling.sh's bench train records.

1. Measured on this machine: per-round ratios of 2 ranks x 1 thread (--nproc 2) against 1 process x 2 threads, and of
   overlapped against not-overlapped all-reduce, medians over the rounds, with the all-reduce wait per step.
2. A projection of the paper's two largest settings (CelebA-HQ 256, ImageNet 64) to 8-64 GPUs: each step's compute
   from the model's counted work per image (`woodflow inspect`) at a GPU rate scaled by the share of the matmul rate
   that the model reaches in the measured runs; a ring all-reduce of the float32 gradient over a stated network; the
   all-reduce hidden behind the backward (two thirds of a step) as the overlapping reducer allows. Every assumption
   is printed above its table.
"""
import json
import re
import statistics
import subprocess
import sys

PRESETS = {"celeba256-woodbury": "CelebA-HQ 256x256, L=6 K=16 h=256",
           "imagenet64-woodbury": "ImageNet 64x64, L=4 K=16 h=512"}
GPU_PEAK_TFLOPS = 15.7        # a V100-SXM2's fp32 peak (the paper's generation of GPU)
GPU_SHARE_OF_PEAK = 0.4       # of that peak, on 3x3 convolutions of 256-512 channels with cuDNN: an assumption
GPUS_PER_NODE = 8
NVLINK_GBPS = 130.0           # GB/s a ring all-reduce gets inside an 8-GPU NVLink node (bus bandwidth)
NETWORKS = [("100 Gbit/s InfiniBand", 12.5), ("25 Gbit/s Ethernet", 3.125)]  # GB/s between nodes, a link per node
HOP_LATENCY_S = 10e-6         # per ring step between nodes
BACKWARD_SHARE = 2.0 / 3.0    # the backward's share of a step's compute, behind which all-reduces can run


def records(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def mode(r):
    if "world_size" not in r:
        return "1x%d" % r["threads"]
    return "%dx%d%s" % (r["world_size"], r["threads"], "" if r["allreduce"].startswith("overlapped") else "-no-overlap")


def measured(rs):
    out = ["| config | 2 ranks x 1 thread / 1 x 2 threads (images/s, median of per-round ratios) | "
           "overlapped / not overlapped | all-reduce wait per step, overlapped / not (ms, median) | "
           "images/s 1x2 / 2x1 (median) | rounds |", "|---|---|---|---|---|---|"]
    for cfg in sorted({r["config"] for r in rs}):
        rounds, current = [], {}
        for r in (r for r in rs if r["config"] == cfg):
            if mode(r) in current:
                rounds.append(current)
                current = {}
            current[mode(r)] = r
        rounds.append(current)
        full = [x for x in rounds if {"1x2", "2x1", "2x1-no-overlap"} <= x.keys()]
        if not full:
            continue
        ratio = statistics.median(x["2x1"]["images_per_s"] / x["1x2"]["images_per_s"] for x in full)
        gain = statistics.median(x["2x1"]["images_per_s"] / x["2x1-no-overlap"]["images_per_s"] for x in full)
        wait = statistics.median(x["2x1"]["allreduce_wait_s_median"] for x in full) * 1e3
        wait_no = statistics.median(x["2x1-no-overlap"]["allreduce_wait_s_median"] for x in full) * 1e3
        ips1 = statistics.median(x["1x2"]["images_per_s"] for x in full)
        ips2 = statistics.median(x["2x1"]["images_per_s"] for x in full)
        out.append("| %s | %.2fx | %.2fx | %.1f / %.1f | %.1f / %.1f | %d |"
                   % (cfg, ratio, gain, wait, wait_no, ips1, ips2, len(full)))
    cpu = rs[0].get("cpu", "?") if rs else "?"
    return "Measured on %s, fp32:\n\n%s\n" % (cpu, "\n".join(out))


def work(preset):
    text = subprocess.run(["./woodflow", "inspect", "--preset", preset, "--batch", "1", "--threads", "2"],
                          capture_output=True, text=True, check=True).stdout
    m = re.search(r"work: ([0-9.]+) GFLOP per image forward.*gradient ([0-9.]+) MiB", text)
    return float(m.group(1)), float(m.group(2)) * 2**20


def allreduce_seconds(n, grad_bytes, network_gbps):
    if n == 1:
        return 0.0
    bandwidth = NVLINK_GBPS if n <= GPUS_PER_NODE else network_gbps
    latency = 0.0 if n <= GPUS_PER_NODE else 2 * (n - 1) * HOP_LATENCY_S
    return 2 * (n - 1) / n * grad_bytes / (bandwidth * 1e9) + latency


def projection(rs):
    c = [r for r in rs if r["config"].startswith("3x32x32") and "world_size" not in r]
    cpu_share = statistics.median(r["model_gflops"] / r["matmul_fp32_gflops"] for r in c) if c else float("nan")
    share = GPU_SHARE_OF_PEAK
    rate = GPU_PEAK_TFLOPS * 1e12 * share
    lines = ["Assumptions: a GPU of %.1f TFLOP/s fp32 peak reaching %.0f%% of it on these models (stated, not measured: "
             "on this CPU config c's counted work ran at %.0f%% of a 512x512 matmul's rate, which says the model's "
             "convolutions run near the machine's dense rate, not what a GPU reaches); %d GPUs per node on NVLink (%.0f GB/s ring bandwidth), "
             "nodes on %s with %.0f us per ring step; a ring all-reduce of the float32 gradient "
             "(2(N-1)/N of it through the slowest link) hidden behind the backward (%.0f%% of a step) where it fits. "
             "Per-GPU batch as the preset's (weak scaling)."
             % (GPU_PEAK_TFLOPS, 100 * share, 100 * cpu_share, GPUS_PER_NODE, NVLINK_GBPS,
                " or ".join("%s (%.1f GB/s)" % n for n in NETWORKS), HOP_LATENCY_S * 1e6,
                100 * BACKWARD_SHARE), "",
             "| setting | between nodes | per-GPU batch | GPUs | compute per step (ms) | all-reduce (ms) | exposed (ms) | "
             "images/s | speed-up | efficiency |", "|---|---|---|---|---|---|---|---|---|---|"]
    stops = []
    for preset, label in PRESETS.items():
        gflop, grad = work(preset)
        batch = {"celeba256-woodbury": 4, "imagenet64-woodbury": 32}[preset]
        compute = 3 * gflop * 1e9 * batch / rate
        base = batch / compute
        for network, gbps in NETWORKS:
            worst = None
            for n in (1, 8, 16, 32, 64):
                ar = allreduce_seconds(n, grad, gbps)
                exposed = max(0.0, ar - BACKWARD_SHARE * compute)
                ips = n * batch / (compute + exposed)
                eff = ips / (n * base)
                if eff < 0.9 and worst is None:
                    worst = n
                lines.append("| %s (%.1f GFLOP/image, %.0f MiB gradient) | %s | %d | %d | %.0f | %.1f | %.1f | %.1f | "
                             "%.1fx | %.0f%% |" % (label, gflop, grad / 2**20, network, batch, n, compute * 1e3,
                                                   ar * 1e3, exposed * 1e3, ips, ips / base, 100 * eff))
            # the smallest per-GPU batch whose backward still hides the all-reduce across nodes
            per_image = 3 * gflop * 1e9 / rate
            b_min = allreduce_seconds(64, grad, gbps) / (BACKWARD_SHARE * per_image)
            stops.append("%s, %s: weak scaling %s; the backward hides the 64-GPU all-reduce (%.0f ms) while each "
                         "GPU's batch is at least %.2f images, so with a fixed global batch B the run stops scaling "
                         "near N = B / %.2f GPUs, where the all-reduce becomes the step."
                         % (label, network, "stays above 90% efficiency up to 64 GPUs" if worst is None
                            else "first falls below 90%% efficiency at %d GPUs" % worst,
                            allreduce_seconds(64, grad, gbps) * 1e3, b_min, b_min))
    return "\n".join(lines) + "\n\n" + "\n".join("- " + s for s in stops) + "\n"


def main():
    rs = records(sys.argv[1])
    print(measured(rs))
    print(projection(rs))


if __name__ == "__main__":
    main()
