#!/usr/bin/env python3
"""The table of scripts/toolkit-study.sh: per variant, the test bpd of the last checkpoint over its seeds.

Usage: scripts/toolkit_table.py OUT
Reads OUT/evals/NAME-sSEED/eval-WEIGHTS-kK.json (woodflow eval --json; a run folder is its trainer's, so the
evaluations are written beside it; an older study's OUT/NAME-sSEED/eval-*.json are read too) and
OUT/NAME-sSEED/summary.json, and prints a
Markdown table: one-sample test bpd and the K-sample bound (mean and sample standard deviation over the seeds, and
each seed's value), training seconds and images per second.
"""
import glob
import json
import os
import re
import statistics
import sys


def main():
    out = sys.argv[1]
    rows = {}
    for run in sorted(glob.glob(os.path.join(out, "*-s*"))):
        m = re.fullmatch(r"(.+)-s(\d+)", os.path.basename(run))
        if not m or not os.path.isdir(run):
            continue
        name, seed = m.group(1), int(m.group(2))
        summary = {}
        if os.path.exists(os.path.join(run, "summary.json")):
            with open(os.path.join(run, "summary.json")) as f:
                summary = json.load(f)
        evals = glob.glob(os.path.join(out, "evals", os.path.basename(run), "eval-*-k*.json"))
        for path in evals or glob.glob(os.path.join(run, "eval-*-k*.json")):
            e = re.fullmatch(r"eval-(\w+)-k(\d+)\.json", os.path.basename(path))
            with open(path) as f:
                ev = json.load(f)
            key = (name, e.group(1))
            r = rows.setdefault(key, {"one": {}, "bound": {}, "k": 1, "secs": {}, "ips": {}})
            if int(e.group(2)) == 1:
                r["one"][seed] = ev["bpd"]
            else:
                r["bound"][seed] = ev["bpd_bound"]
                r["k"] = ev["samples"]
            r["secs"][seed] = summary.get("train_seconds")
            r["ips"][seed] = summary.get("images_per_s")

    def cell(values):
        v = [values[s] for s in sorted(values) if values[s] is not None]
        if not v:
            return "–"
        spread = f" ± {statistics.stdev(v):.4f}" if len(v) > 1 else ""
        return f"{statistics.mean(v):.4f}{spread} ({', '.join(f'{x:.4f}' for x in v)})"

    def mean(values, fmt):
        v = [x for x in values.values() if x is not None]
        return fmt.format(statistics.mean(v)) if v else "–"

    k = max((r["k"] for r in rows.values()), default=1)
    print(f"| variant | weights | seeds | test bpd, one sample | test bpd, {k}-sample bound | training s | images/s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for (name, weights), r in rows.items():
        seeds = ",".join(str(s) for s in sorted(r["one"]))
        print(f"| {name} | {weights} | {seeds} | {cell(r['one'])} | {cell(r['bound'])} | "
              f"{mean(r['secs'], '{:.0f}')} | {mean(r['ips'], '{:.1f}')} |")


if __name__ == "__main__":
    main()
