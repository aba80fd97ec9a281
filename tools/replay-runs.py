#!/usr/bin/env python3
"""Run `tickwire replay --json` several times and summarise the spread.

The machines are shared and noisy: quote ranges and medians, not one run.

    tools/replay-runs.py --runs 5 -- ../shared/marketdata/binance/usdm_btcusdt_20240808.gz --no-snapshots
    tools/replay-runs.py --runs 3 -- FILE --pace recorded --speed 100 --no-snapshots

Everything after `--` is passed to `tickwire replay` (`--json` is added).
Uses ./target/release/tickwire (build it first with `cargo build --release`).
"""
import argparse
import json
import statistics
import subprocess
import sys

STAGES = ["tick_to_trade", "decode", "book", "strategy", "risk", "router"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--bin", default="./target/release/tickwire")
    ap.add_argument("replay_args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    extra = [x for x in a.replay_args if x != "--"]
    reports = []
    for i in range(a.runs):
        out = subprocess.run([a.bin, "replay", "--json", *extra], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"run {i + 1} failed ({out.returncode}): {out.stderr.strip()}", file=sys.stderr)
            return 1
        reports.append(json.loads(out.stdout))

    def line(name, values, fmt="{:.0f}"):
        vs = sorted(values)
        print(f"{name:<28} min {fmt.format(vs[0]):>12}  median {fmt.format(statistics.median(vs)):>12}  max {fmt.format(vs[-1]):>12}")

    print(f"{a.runs} runs of: tickwire replay --json {' '.join(extra)}")
    line("throughput_fps", [r["throughput_fps"] for r in reports])
    line("pipeline_s", [r["pipeline_s"] for r in reports], "{:.4f}")
    line("peak_rss_bytes", [r["peak_rss_bytes"] for r in reports])
    checks = {(r["book_checks"]["checked"], r["book_checks"]["matched"], r["book_checks"]["mismatched"]) for r in reports}
    print(f"{'book_checks (chk,match,mis)':<28} {sorted(checks)}")
    for s in STAGES:
        for p in ["p50", "p99", "p999"]:
            line(f"{s}.{p} (ns)", [r["latency_ns"][s][p] for r in reports])
    return 0


if __name__ == "__main__":
    sys.exit(main())
