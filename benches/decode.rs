//! Binance decoder throughput on real frames, side by side with the
//! obvious alternatives in the same run:
//! - `tickwire`: `Decoder::decode` (strict scanner, sonic-rs fallback);
//! - `tickwire_general`: the sonic-rs general path alone (what a frame
//!   the scanner declines costs);
//! - `serde_json_borrowed`: serde_json into borrowed structs (`&str`
//!   prices), then converted to the same fixed-point `Level`s in a reused Vec;
//! - `sonic_rs_serde`: the same structs through `sonic_rs::from_slice`.
//!
//! Run: `cargo bench --bench decode -- --warm-up-time 1 --measurement-time 3`.
//! Each iteration decodes every real frame of the kind (all 6,551 USD-M
//! depth diffs, avg 1,597 bytes; all 3,451 spot diffs; 8,192 bookTickers);
//! divide the time by the frame count printed at start-up for a per-frame
//! figure.

#![allow(non_snake_case, missing_docs)] // field names mirror Binance's JSON keys

use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::Deserialize;
use tickwire_core::types::{Level, Px, Qty, parse_fixed};
use tickwire_md::Decoder;

const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/marketdata/binance/");
/// Up to `limit` frames of the capture whose JSON contains `needle`.
fn load(file: &str, needle: &str, limit: usize) -> Option<Vec<Vec<u8>>> {
    let path = Path::new(DATA_DIR).join(file);
    let Ok(f) = std::fs::File::open(&path) else {
        println!("skipping: {} not found", path.display());
        return None;
    };
    let frames: Vec<Vec<u8>> = BufReader::new(flate2::read::GzDecoder::new(f))
        .split(b'\n')
        .map_while(Result::ok)
        .filter(|l| l.windows(needle.len()).any(|w| w == needle.as_bytes()))
        .filter_map(|l| {
            l.iter()
                .position(|&c| c == b' ')
                .map(|i| l[i + 1..].to_vec())
        })
        .take(limit)
        .collect();
    let bytes: usize = frames.iter().map(Vec::len).sum();
    println!(
        "{file} {needle}: {} frames, avg {} bytes",
        frames.len(),
        bytes / frames.len().max(1)
    );
    Some(frames)
}

#[derive(Deserialize)]
struct Envelope<'a, T> {
    #[serde(borrow)]
    stream: &'a str,
    data: T,
}

#[derive(Deserialize)]
struct DepthEvent<'a> {
    #[serde(borrow)]
    e: &'a str,
    E: u64,
    s: &'a str,
    U: u64,
    u: u64,
    pu: Option<u64>,
    #[serde(borrow)]
    b: Vec<[&'a str; 2]>,
    #[serde(borrow)]
    a: Vec<[&'a str; 2]>,
}

#[derive(Deserialize)]
struct TickerEvent<'a> {
    u: u64,
    s: &'a str,
    b: &'a str,
    B: &'a str,
    a: &'a str,
    A: &'a str,
}

/// Converts borrowed `[px, qty]` strings into the reused level buffer.
fn to_levels(src: &[[&str; 2]], out: &mut Vec<Level>) -> Option<()> {
    out.clear();
    for [p, q] in src {
        out.push(Level {
            px: Px(parse_fixed(p.as_bytes()).ok()?),
            qty: Qty(parse_fixed(q.as_bytes()).ok()?),
        });
    }
    Some(())
}

/// What a depth baseline yields per frame, so neither side can skip work.
fn depth_sum(ev: &DepthEvent<'_>, bids: &mut Vec<Level>, asks: &mut Vec<Level>) -> u64 {
    to_levels(&ev.b, bids).expect("real levels parse");
    to_levels(&ev.a, asks).expect("real levels parse");
    black_box((ev.e, ev.s, ev.E, ev.pu));
    ev.U ^ ev.u ^ bids.len() as u64 ^ asks.len() as u64
}

fn ticker_sum(ev: &TickerEvent<'_>) -> u64 {
    black_box(ev.s);
    let f = |s: &str| parse_fixed(s.as_bytes()).expect("real number") as u64;
    ev.u ^ f(ev.b) ^ f(ev.B) ^ f(ev.a) ^ f(ev.A)
}

fn frame_sum(dec: &mut Decoder, frame: &[u8], general: bool) -> u64 {
    let decoded = if general {
        dec.decode_general(frame)
    } else {
        dec.decode(frame)
    };
    match decoded.expect("real frame decodes") {
        tickwire_md::Frame::Depth(d) => {
            d.first_id ^ d.last_id ^ d.bids.len() as u64 ^ d.asks.len() as u64
        }
        tickwire_md::Frame::Ticker(t) => t.update_id ^ t.bid_px.0 as u64,
        other => {
            black_box(other);
            0
        }
    }
}

fn bench_group(c: &mut Criterion, name: &str, frames: &[Vec<u8>], depth: bool) {
    let bytes: usize = frames.iter().map(Vec::len).sum();
    let mut g = c.benchmark_group(name);
    g.sample_size(20);
    g.throughput(Throughput::Bytes(bytes as u64));
    let mut dec = Decoder::new();
    g.bench_function("tickwire", |b| {
        b.iter(|| {
            frames
                .iter()
                .fold(0, |acc, f| acc ^ frame_sum(&mut dec, black_box(f), false))
        })
    });
    g.bench_function("tickwire_general", |b| {
        b.iter(|| {
            frames
                .iter()
                .fold(0, |acc, f| acc ^ frame_sum(&mut dec, black_box(f), true))
        })
    });
    let (mut bids, mut asks) = (Vec::with_capacity(1024), Vec::with_capacity(1024));
    if depth {
        g.bench_function("serde_json_borrowed", |b| {
            b.iter(|| {
                frames.iter().fold(0, |acc, f| {
                    let env: Envelope<'_, DepthEvent<'_>> =
                        serde_json::from_slice(black_box(f)).expect("real frame");
                    acc ^ env.stream.len() as u64 ^ depth_sum(&env.data, &mut bids, &mut asks)
                })
            })
        });
        g.bench_function("sonic_rs_serde", |b| {
            b.iter(|| {
                frames.iter().fold(0, |acc, f| {
                    let env: Envelope<'_, DepthEvent<'_>> =
                        sonic_rs::from_slice(black_box(f)).expect("real frame");
                    acc ^ env.stream.len() as u64 ^ depth_sum(&env.data, &mut bids, &mut asks)
                })
            })
        });
    } else {
        g.bench_function("serde_json_borrowed", |b| {
            b.iter(|| {
                frames.iter().fold(0, |acc, f| {
                    let env: Envelope<'_, TickerEvent<'_>> =
                        serde_json::from_slice(black_box(f)).expect("real frame");
                    acc ^ env.stream.len() as u64 ^ ticker_sum(&env.data)
                })
            })
        });
        g.bench_function("sonic_rs_serde", |b| {
            b.iter(|| {
                frames.iter().fold(0, |acc, f| {
                    let env: Envelope<'_, TickerEvent<'_>> =
                        sonic_rs::from_slice(black_box(f)).expect("real frame");
                    acc ^ env.stream.len() as u64 ^ ticker_sum(&env.data)
                })
            })
        });
    }
    g.finish();
}

fn decode_benches(c: &mut Criterion) {
    if let Some(frames) = load(
        "usdm_btcusdt_20240808.gz",
        "\"e\":\"depthUpdate\"",
        usize::MAX,
    ) {
        bench_group(c, "decode_depth", &frames, true);
    }
    if let Some(frames) = load(
        "spot_btcusdt_20240808.gz",
        "\"e\":\"depthUpdate\"",
        usize::MAX,
    ) {
        bench_group(c, "decode_spot_depth", &frames, true);
    }
    if let Some(frames) = load("usdm_btcusdt_20240808.gz", "@bookTicker", 8192) {
        bench_group(c, "decode_book_ticker", &frames, false);
    }
}

criterion_group!(benches, decode_benches);
criterion_main!(benches);
