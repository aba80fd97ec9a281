#!/usr/bin/env python3
"""Seeds tools/fuzz/corpus/<target>/ from the real captures in
../shared/marketdata (if present), the built-in synthetic session and the
shipped configuration. Nothing here is committed: the corpus directory is
ignored and rebuilt on demand.

Usage (from the repository root): python3 tools/fuzz/seed.py [TICKWIRE_BIN]
"""
import gzip
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tools", "fuzz", "corpus")
DATA = os.path.join(ROOT, "..", "shared", "marketdata", "binance")
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "release", "tickwire")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def capture_lines():
    """(name, list of raw lines) of every capture available."""
    out = []
    for f in ("spot_btcusdt_20240808.gz", "usdm_btcusdt_20240808.gz"):
        p = os.path.join(DATA, f)
        if os.path.exists(p):
            with gzip.open(p, "rb") as g:
                out.append((f, [next(g) for _ in range(3000)]))
    return out


def main():
    lines = capture_lines()
    kinds = {}
    for name, ls in lines:
        for i, line in enumerate(ls):
            payload = line.split(b" ", 1)[1].rstrip(b"\n")
            key = (name, payload[:40])
            if key in kinds and kinds[key] > 40:
                continue
            kinds[key] = kinds.get(key, 0) + 1
            for t in ("decode", "decode_differential"):
                put(t, f"{name}-{i}", payload)
        put("capture_text", f"{name}-plain", b"".join(ls[:300]))
        put("capture_text", f"{name}-gz", gzip.compress(b"".join(ls[:300])))
    conf = os.path.join(ROOT, "conf")
    aff = open(os.path.join(conf, "affinity.toml"), "rb").read()
    aff1 = open(os.path.join(conf, "affinity-1core.toml"), "rb").read()
    app = open(os.path.join(conf, "tickwire.toml"), "rb").read()
    put("config", "shipped", aff + b"\0" + app)
    put("config", "shipped-1core", aff1 + b"\0" + app)
    for r in (
        b'{"symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"tw1-5","transactTime":1507725176595,"price":"0.10000000","origQty":"10.00000000","executedQty":"10.00000000","cummulativeQuoteQty":"10.00000000","status":"FILLED","timeInForce":"GTC","type":"LIMIT","side":"SELL"}',
        b'{"orderId":22542179,"symbol":"BTCUSDT","status":"NEW","clientOrderId":"tw1-6","price":"0","avgPrice":"0.00000","origQty":"10","executedQty":"0","cumQuote":"0","timeInForce":"GTC","type":"LIMIT","side":"BUY","updateTime":1566818724722}',
        b'{"code":-2010,"msg":"Account has insufficient balance for requested action."}',
        b'{"code":200,"msg":"The operation of cancel all open order is done."}',
    ):
        put("router_response", f"answer-{len(r)}", r)
    if os.path.exists(BIN):
        with tempfile.TemporaryDirectory() as tmp:
            text = os.path.join(tmp, "s.txt")
            src = lines[0][1][:500] if lines else None
            if src:
                open(text, "wb").write(b"".join(src))
                cap = os.path.join(tmp, "s.twcap")
                subprocess.run([BIN, "import", text, cap], check=True, capture_output=True)
                put("capture_binary", "imported", open(cap, "rb").read()[8:])
            snaps = os.path.join(tmp, "snaps")
            subprocess.run(
                [BIN, "replay", "--synthetic-frames", "2000", "--snapshot-dir", snaps],
                check=True,
                capture_output=True,
            )
            put("snapshot", "final", open(os.path.join(snaps, "final.rkyv"), "rb").read())
    else:
        print(f"seed.py: {BIN} not built; capture_binary and snapshot get no seeds", file=sys.stderr)
    total = sum(len(fs) for _, _, fs in os.walk(CORPUS))
    print(f"seeded {total} files under {CORPUS}")


main()
