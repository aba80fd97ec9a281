#!/usr/bin/env python3
"""Repeats `tickwire demo --json` and prints tick-to-trade, wire-to-wire,
router round trip (p50/p99/p99.9) and decode p50 per run.
Usage: tools/demo-runs.py N [demo args...] (from the repository root, after cargo build --release)."""
import json, subprocess, sys
args = sys.argv[2:]
n = int(sys.argv[1])
rows = []
for i in range(n):
    out = subprocess.run(["./target/release/tickwire", "demo", "--json"] + args, capture_output=True, text=True)
    v = json.loads(out.stdout)
    t = v["latency_ns"]["tick_to_trade"]
    w = v["live"]["demo"]["wire_to_wire"]
    r = v["live"]["router"]["new_order_rtt"]
    d = v["latency_ns"]["decode"]
    rows.append((t, w, r, d, v["live"]["demo"]["positions_agree"]))
    f = lambda s: "%.1f/%.1f/%.1f us (n=%d)" % (s["p50"]/1e3, s["p99"]/1e3, s["p999"]/1e3, s["count"])
    print(f"run {i}: t2t {f(t)} | w2w {f(w)} | rtt {f(r)} | decode p50 {d['p50']} ns | agree {rows[-1][4]}")
