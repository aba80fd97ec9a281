//! Decodes every frame of the real Binance captures and cross-checks each
//! one field by field against an independent serde_json reference decoder,
//! and the fast scanner against the general sonic-rs path.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use serde_json::Value;
use tickwire_core::types::Level;
use tickwire_md::Decoder;
use tickwire_md::Frame;

/// The capture directory, or `None` (after printing why) when the real-data
/// suite should be skipped.
fn data_dir() -> Option<PathBuf> {
    common::marketdata()
}

/// The JSON of every line (the `<rx_ns> ` prefix stripped).
fn frames(path: &Path) -> Vec<Vec<u8>> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    BufReader::new(GzDecoder::new(file))
        .split(b'\n')
        .map(|line| {
            let line = line.expect("gzip stream readable");
            let space = line
                .iter()
                .position(|&c| c == b' ')
                .expect("`<rx_ns> <json>` line");
            line[space + 1..].to_vec()
        })
        .collect()
}

/// Independent decimal-string to 1e-8 fixed point: integer part and the
/// fraction padded to eight digits, each through `str::parse`.
fn ref_fixed(v: &Value) -> i64 {
    let s = v.as_str().expect("decimal string");
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    assert!(frac.len() <= 8, "{s}: more than 8 decimals");
    let int: i64 = int.parse().expect("integer part");
    let frac: i64 = format!("{frac:0<8}").parse().expect("fraction");
    int * 100_000_000 + frac
}

fn ref_levels(v: &Value) -> Vec<(i64, i64)> {
    v.as_array()
        .expect("levels array")
        .iter()
        .map(|l| (ref_fixed(&l[0]), ref_fixed(&l[1])))
        .collect()
}

fn ours(levels: &[Level]) -> Vec<(i64, i64)> {
    levels.iter().map(|l| (l.px.0, l.qty.0)).collect()
}

#[derive(Default, Debug, PartialEq, Eq)]
struct Counts {
    depth: usize,
    ticker: usize,
    trade: usize,
    snapshot: usize,
}

/// Checks one decoded frame against serde_json's reading of the same line.
fn check(frame: &Frame<'_>, line: &[u8], counts: &mut Counts) {
    let top: Value = serde_json::from_slice(line).expect("serde_json reads the line");
    let ev = top.get("data").unwrap_or(&top);
    let u64_of = |k: &str| ev[k].as_u64().unwrap_or_else(|| panic!("{k} missing"));
    let sym = || ev["s"].as_str().expect("s").to_owned();
    match frame {
        Frame::Depth(d) => {
            counts.depth += 1;
            assert_eq!(ev["e"], "depthUpdate");
            assert_eq!(d.symbol.as_str(), sym());
            assert_eq!(d.first_id, u64_of("U"));
            assert_eq!(d.last_id, u64_of("u"));
            assert_eq!(d.prev_last_id, ev.get("pu").and_then(Value::as_u64));
            assert_eq!(d.venue_time.0, u64_of("E"));
            assert_eq!(ours(d.bids), ref_levels(&ev["b"]));
            assert_eq!(ours(d.asks), ref_levels(&ev["a"]));
        }
        Frame::Snapshot(s) => {
            counts.snapshot += 1;
            assert_eq!(s.last_update_id, u64_of("lastUpdateId"));
            assert_eq!(ours(s.bids), ref_levels(&ev["bids"]));
            assert_eq!(ours(s.asks), ref_levels(&ev["asks"]));
        }
        Frame::Ticker(t) => {
            counts.ticker += 1;
            assert!(ev.get("e").is_none_or(|e| e == "bookTicker"));
            assert_eq!(t.symbol.as_str(), sym());
            assert_eq!(t.update_id, u64_of("u"));
            assert_eq!(t.bid_px.0, ref_fixed(&ev["b"]));
            assert_eq!(t.bid_qty.0, ref_fixed(&ev["B"]));
            assert_eq!(t.ask_px.0, ref_fixed(&ev["a"]));
            assert_eq!(t.ask_qty.0, ref_fixed(&ev["A"]));
        }
        Frame::Trade(t) => {
            counts.trade += 1;
            let agg = ev["e"] == "aggTrade";
            assert!(agg || ev["e"] == "trade");
            assert_eq!(t.aggregate, agg);
            assert_eq!(t.symbol.as_str(), sym());
            assert_eq!(t.trade_id, u64_of(if agg { "a" } else { "t" }));
            assert_eq!(t.px.0, ref_fixed(&ev["p"]));
            assert_eq!(t.qty.0, ref_fixed(&ev["q"]));
            assert_eq!(t.buyer_is_maker, ev["m"].as_bool().expect("m"));
            assert_eq!(t.trade_time_ms, u64_of("T"));
        }
        Frame::Other(k) => panic!("real capture frame decoded as Other({k:?})"),
    }
}

/// Decodes every line three ways (default, fast-only, general-only) and
/// returns the per-type counts.
fn decode_capture(name: &str) -> Option<Counts> {
    let path = data_dir()?.join(name);
    let mut counts = Counts::default();
    let (mut dec, mut fast, mut general) = (Decoder::new(), Decoder::new(), Decoder::new());
    for (n, line) in frames(&path).iter().enumerate() {
        let frame = dec
            .decode(line)
            .unwrap_or_else(|e| panic!("{name} line {}: {e}", n + 1));
        check(&frame, line, &mut counts);
        let fast_frame = fast.decode_fast(line);
        assert_eq!(fast_frame, Some(frame), "{name} line {}: fast path", n + 1);
        let general_frame = general.decode_general(line);
        assert_eq!(
            general_frame,
            Ok(frame),
            "{name} line {}: general path",
            n + 1
        );
    }
    Some(counts)
}

#[test]
fn spot_capture_decodes_every_frame_like_the_reference() {
    let Some(counts) = decode_capture("spot_btcusdt_20240808.gz") else {
        return;
    };
    let want = Counts {
        depth: 3_451,
        ticker: 28_040,
        trade: 9_757,
        snapshot: 1,
    };
    assert_eq!(counts, want);
}

#[test]
fn usdm_capture_decodes_every_frame_like_the_reference() {
    let Some(counts) = decode_capture("usdm_btcusdt_20240808.gz") else {
        return;
    };
    let want = Counts {
        depth: 6_551,
        ticker: 66_089,
        trade: 21_313,
        snapshot: 1,
    };
    assert_eq!(counts, want);
}
