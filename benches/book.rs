//! `L2Book` against a `BTreeMap`-per-side book on real Binance depth diffs.
//!
//! Setup (untimed): parse the capture's REST snapshot and every depth-diff
//! level update after it (`u > lastUpdateId`). Timed: apply all updates to a
//! book freshly loaded with the snapshot. Throughput is in level updates, so
//! criterion's "time" divided by the element count is ns per update.
//! Run: `cargo bench --bench book -- --warm-up-time 1 --measurement-time 3`.
#![allow(missing_docs)] // criterion_group! generates an undocumented pub fn.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::Value;
use tickwire_book::L2Book;
use tickwire_core::types::{Px, Qty, Side, parse_fixed};

const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/marketdata/binance/");

/// A capture reduced to what a book sees.
struct Replay {
    name: &'static str,
    snapshot: Vec<(Side, Px, Qty)>,
    updates: Vec<(Side, Px, Qty)>,
}

fn levels(v: &Value, side: Side, out: &mut Vec<(Side, Px, Qty)>) {
    for l in v.as_array().into_iter().flatten() {
        let num = |i: usize| {
            l.get(i)
                .and_then(Value::as_str)
                .and_then(|s| parse_fixed(s.as_bytes()).ok())
        };
        if let (Some(px), Some(qty)) = (num(0), num(1)) {
            out.push((side, Px(px), Qty(qty)));
        }
    }
}

fn load(name: &'static str, file: &str) -> Option<Replay> {
    let f = std::fs::File::open(format!("{DATA_DIR}{file}")).ok()?;
    let rd = BufReader::new(flate2::read::GzDecoder::new(f));
    let mut snapshot = Vec::new();
    let mut last_update_id = None;
    let mut diffs = Vec::new();
    for line in rd.lines() {
        let line = line.ok()?;
        let Some((_, json)) = line.split_once(' ') else {
            continue;
        };
        let v: Value = serde_json::from_str(json).ok()?;
        if let Some(id) = v.get("lastUpdateId").and_then(Value::as_u64) {
            levels(&v["bids"], Side::Buy, &mut snapshot);
            levels(&v["asks"], Side::Sell, &mut snapshot);
            last_update_id = Some(id);
        } else if v["data"]["e"] == "depthUpdate" {
            diffs.push(v["data"].clone());
        }
    }
    let last = last_update_id?;
    let mut updates = Vec::new();
    for d in diffs
        .iter()
        .filter(|d| d["u"].as_u64().is_some_and(|u| u > last))
    {
        levels(&d["b"], Side::Buy, &mut updates);
        levels(&d["a"], Side::Sell, &mut updates);
    }
    Some(Replay {
        name,
        snapshot,
        updates,
    })
}

/// The baseline: one ordered map per side.
#[derive(Default)]
struct BTreeBook {
    bids: BTreeMap<i64, i64>,
    asks: BTreeMap<i64, i64>,
}

impl BTreeBook {
    #[inline]
    fn apply(&mut self, side: Side, px: Px, qty: Qty) {
        let m = match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        if qty.0 == 0 {
            m.remove(&px.0);
        } else {
            m.insert(px.0, qty.0);
        }
    }

    fn best_prices(&self) -> [Option<i64>; 2] {
        [
            self.bids.last_key_value().map(|(&p, _)| p),
            self.asks.first_key_value().map(|(&p, _)| p),
        ]
    }
}

fn time_l2(r: &Replay, book: &mut L2Book) -> Duration {
    book.clear();
    for &(s, p, q) in &r.snapshot {
        book.apply(s, p, q);
    }
    let t = Instant::now();
    for &(s, p, q) in black_box(&r.updates) {
        book.apply(s, p, q);
    }
    black_box((book.best_bid(), book.best_ask()));
    t.elapsed()
}

fn time_btree(r: &Replay, book: &mut BTreeBook) -> Duration {
    book.bids.clear();
    book.asks.clear();
    for &(s, p, q) in &r.snapshot {
        book.apply(s, p, q);
    }
    let t = Instant::now();
    for &(s, p, q) in black_box(&r.updates) {
        book.apply(s, p, q);
    }
    black_box(book.best_prices());
    t.elapsed()
}

fn book_apply(c: &mut Criterion) {
    let replays: Vec<Replay> = [
        ("usdm", "usdm_btcusdt_20240808.gz"),
        ("spot", "spot_btcusdt_20240808.gz"),
    ]
    .into_iter()
    .filter_map(|(name, file)| {
        let r = load(name, file);
        if r.is_none() {
            println!("skipping {name}: {DATA_DIR}{file} not found or unreadable");
        }
        r
    })
    .collect();
    let mut g = c.benchmark_group("book_apply");
    for r in &replays {
        g.throughput(Throughput::Elements(r.updates.len() as u64));
        let mut l2 = L2Book::new(None);
        g.bench_function(format!("{}/l2book", r.name), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| time_l2(r, &mut l2)).sum())
        });
        let mut bt = BTreeBook::default();
        g.bench_function(format!("{}/btreemap", r.name), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| time_btree(r, &mut bt)).sum())
        });
    }
    g.finish();
    // A compact side-by-side summary: median of 21 full replays each.
    for r in &replays {
        let n = r.updates.len() as f64;
        let mut l2 = L2Book::new(None);
        let mut bt = BTreeBook::default();
        let median = |mut v: Vec<Duration>| {
            v.sort();
            v[v.len() / 2].as_nanos() as f64
        };
        let a = median((0..21).map(|_| time_l2(r, &mut l2)).collect());
        let b = median((0..21).map(|_| time_btree(r, &mut bt)).collect());
        println!(
            "{}: {} updates after a {}-level snapshot: l2book {:.1} ns/update, btreemap {:.1} ns/update, ratio {:.1}x",
            r.name,
            r.updates.len(),
            r.snapshot.len(),
            a / n,
            b / n,
            b / a
        );
    }
}

criterion_group!(benches, book_apply);
criterion_main!(benches);
