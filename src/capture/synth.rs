//! Deterministic synthetic Binance sessions in the collector's text format,
//! for the demo, the README's replay and tests without real captures.
//!
//! A session looks like a real capture of one instrument (spot or USD-M
//! `BTCUSDT`; COIN-M uses `BTCUSD_PERP` so the market stays inferable):
//! - a few depth diffs (and tickers/trades) arrive before the REST snapshot
//!   line; the snapshot's `lastUpdateId` falls inside one of them, so that
//!   diff bridges it by Binance's rules (spot `U <= lastUpdateId+1 <= u`,
//!   futures `U <= lastUpdateId <= u`) and the earlier ones are dropped;
//! - then diffs in the combined-stream envelope chain without gaps (spot
//!   `U == prev u + 1`; futures `pu == prev u`, with `U` jumping past
//!   `prev u + 1` as on the real futures feed);
//! - "checkable" `bookTicker`s carry the `u` of a diff and show exactly the
//!   generator's best bid/ask after that diff; they arrive just before or
//!   just after the diff. Other tickers carry ids inside the next diff's
//!   range (matching no diff), and trades have consecutive ids.
//!
//! Prices follow a random walk and the book is never crossed: bids stay
//! below a moving boundary and asks at or above it. The same seed gives the
//! same bytes on every platform (`ChaCha8Rng`, integer sampling only).

use std::collections::BTreeMap;
use std::io::Write;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Capture, CaptureError, InMemorySource};
use tickwire_core::types::{FIXED_SCALE, Market, Px};

/// What a correct consumer of a synthetic session must find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SynthTruth {
    /// Tickers whose `u` equals an applied diff's `u` (all must match the book).
    pub checkable_tickers: usize,
    /// `depthUpdate` frames emitted (including the ones dropped at the snapshot).
    pub diffs: usize,
    /// Trade frames emitted (ids are consecutive).
    pub trades: usize,
    /// Best bid after the last diff.
    pub final_best_bid: Px,
    /// Best ask after the last diff.
    pub final_best_ask: Px,
    /// Bid levels after the last diff.
    pub bid_levels: usize,
    /// Ask levels after the last diff.
    pub ask_levels: usize,
    /// `bookTicker` frames emitted (checkable or not).
    pub tickers: usize,
    /// The snapshot's `lastUpdateId` (0 if the session was too short to hold it).
    pub snapshot_last_update_id: u64,
}

/// Text-format bytes of a deterministic session of `frames` lines.
pub fn synthetic_session(seed: u64, market: Market, frames: usize) -> Vec<u8> {
    synthetic_session_with_truth(seed, market, frames).0
}

/// [`synthetic_session`] plus its ground truth. Sessions shorter than about
/// 30 frames may end before the snapshot; their truth then describes the
/// generator's book, which no consumer can rebuild.
pub fn synthetic_session_with_truth(
    seed: u64,
    market: Market,
    frames: usize,
) -> (Vec<u8>, SynthTruth) {
    let mut g = Gen::new(seed, market, frames);
    g.run();
    let truth = g.truth();
    (g.out, truth)
}

/// The README's default replay: a spot and a USD-M session of
/// `frames_per_source` frames each, overlapping in time, merged.
pub fn synthetic_capture(seed: u64, frames_per_source: usize) -> Result<Capture, CaptureError> {
    Capture::from_sources(vec![
        InMemorySource {
            name: "synthetic-spot-btcusdt".into(),
            market: None,
            bytes: synthetic_session(seed, Market::Spot, frames_per_source),
        },
        InMemorySource {
            name: "synthetic-usdm-btcusdt".into(),
            market: None,
            bytes: synthetic_session(seed, Market::Usdm, frames_per_source),
        },
    ])
}

/// Per-market constants.
struct Spec {
    symbol: &'static str,
    stream: &'static str,
    depth_stream: &'static str,
    futures: bool,
    /// Price tick in fixed units.
    tick: i64,
    px_decimals: u32,
    /// Quantity lot in fixed units.
    lot: i64,
    qty_decimals: u32,
    max_lots: i64,
    start_id: u64,
    start_trade_id: u64,
    start_px: i64,
    /// Largest extra id jump between futures diffs.
    id_gap: u64,
    /// Largest id span of one diff.
    id_span: u64,
}

fn spec(market: Market) -> Spec {
    match market {
        Market::Spot => Spec {
            symbol: "BTCUSDT",
            stream: "btcusdt",
            depth_stream: "depth@100ms",
            futures: false,
            tick: FIXED_SCALE / 100,
            px_decimals: 8,
            lot: 1_000,
            qty_decimals: 8,
            max_lots: 300_000,
            start_id: 50_093_239_189,
            start_trade_id: 3_735_683_259,
            start_px: 6_183_763 * (FIXED_SCALE / 100),
            id_gap: 0,
            id_span: 40,
        },
        Market::Usdm => Spec {
            symbol: "BTCUSDT",
            stream: "btcusdt",
            depth_stream: "depth@0ms",
            futures: true,
            tick: FIXED_SCALE / 10,
            px_decimals: 2,
            lot: FIXED_SCALE / 1000,
            qty_decimals: 3,
            max_lots: 5_000,
            start_id: 5_123_107_832_006,
            start_trade_id: 5_266_583_935,
            start_px: 618_002 * (FIXED_SCALE / 10),
            id_gap: 300,
            id_span: 2_000,
        },
        Market::Coinm => Spec {
            symbol: "BTCUSD_PERP",
            stream: "btcusd_perp",
            depth_stream: "depth@0ms",
            futures: true,
            tick: FIXED_SCALE / 10,
            px_decimals: 1,
            lot: FIXED_SCALE,
            qty_decimals: 0,
            max_lots: 2_000,
            start_id: 905_112_311_004,
            start_trade_id: 998_112_003,
            start_px: 617_904 * (FIXED_SCALE / 10),
            id_gap: 100,
            id_span: 800,
        },
    }
}

/// Book side in ticks -> lots.
type Side = BTreeMap<i64, i64>;

/// One generated diff (already applied to the generator's book).
struct Diff {
    first: u64,
    last: u64,
    prev: u64,
    bids: Vec<(i64, i64)>,
    asks: Vec<(i64, i64)>,
}

/// Levels kept on each side near the top at least.
const MIN_LEVELS: usize = 40;
/// Exchange clock minus local receive clock, as seen in real captures.
const EVENT_TIME_SKEW_MS: u64 = 1_271;
/// Receive time of the first frame of every session (2024-08-08, like the
/// real captures), so sessions of different markets overlap.
const BASE_RX_NS: u64 = 1_723_161_253_937_085_768;

struct Gen {
    rng: ChaCha8Rng,
    s: Spec,
    bids: Side,
    asks: Side,
    /// Asks are at or above `edge`, bids at or below `edge - 1` (ticks).
    edge: i64,
    last_u: u64,
    /// Id range of the next diff, planned ahead so tickers can use ids in it.
    next_first: u64,
    next_last: u64,
    last_ticker_u: u64,
    next_trade_id: u64,
    rx_ns: u64,
    out: Vec<u8>,
    max_lines: usize,
    lines: usize,
    diffs: usize,
    trades: usize,
    tickers: usize,
    checkable: usize,
    snapshot_id: u64,
}

impl Gen {
    fn new(seed: u64, market: Market, frames: usize) -> Gen {
        let salt = match market {
            Market::Spot => 0x5350_4f54,
            Market::Usdm => 0x5553_444d,
            Market::Coinm => 0x434f_494e,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ salt);
        let s = spec(market);
        let edge = s.start_px / s.tick + rng.random_range(-200..=200i64);
        let rx_ns = BASE_RX_NS + rng.random_range(0..50_000_000u64);
        let last_u = s.start_id - 1;
        let next_trade_id = s.start_trade_id;
        Gen {
            rng,
            s,
            bids: Side::new(),
            asks: Side::new(),
            edge,
            last_u,
            next_first: 0,
            next_last: 0,
            last_ticker_u: 0,
            next_trade_id,
            rx_ns,
            out: Vec::with_capacity(frames.saturating_mul(200).min(1 << 30)),
            max_lines: frames,
            lines: 0,
            diffs: 0,
            trades: 0,
            tickers: 0,
            checkable: 0,
            snapshot_id: 0,
        }
    }

    fn lots(&mut self) -> i64 {
        let base = self.rng.random_range(1..=self.s.max_lots);
        (base / self.rng.random_range(1..=12i64)).max(1)
    }

    fn seed_book(&mut self) {
        for off in 0..150i64 {
            if off < 3 || self.rng.random_bool(0.8) {
                let q = self.lots();
                self.bids.insert(self.edge - 1 - off, q);
            }
            if off < 3 || self.rng.random_bool(0.8) {
                let q = self.lots();
                self.asks.insert(self.edge + off, q);
            }
        }
        for _ in 0..150 {
            let off = self.rng.random_range(150..5_000i64);
            let q = self.lots();
            self.bids.insert(self.edge - 1 - off, q);
            let off = self.rng.random_range(150..5_000i64);
            let q = self.lots();
            self.asks.insert(self.edge + off, q);
        }
    }

    fn plan_next_ids(&mut self) {
        let gap = if self.s.id_gap > 0 && self.rng.random_bool(0.7) {
            self.rng.random_range(1..=self.s.id_gap)
        } else {
            0
        };
        self.next_first = self.last_u + 1 + gap;
        self.next_last = self.next_first + self.rng.random_range(0..=self.s.id_span);
    }

    /// Moves the boundary, changes levels near and far from the top, applies
    /// everything to the book and returns the diff.
    fn make_diff(&mut self) -> Diff {
        let mut bid_ch: BTreeMap<i64, i64> = BTreeMap::new();
        let mut ask_ch: BTreeMap<i64, i64> = BTreeMap::new();
        let step = match self.rng.random_range(0..100u32) {
            0..10 => -1,
            10..20 => 1,
            20..22 => -self.rng.random_range(2..=5i64),
            22..24 => self.rng.random_range(2..=5i64),
            _ => 0,
        };
        self.edge += step;
        // Uncross: bids must stay below the edge, asks at or above it.
        for (&px, _) in self.bids.range(self.edge..) {
            bid_ch.insert(px, 0);
        }
        for (&px, _) in self.asks.range(..self.edge) {
            ask_ch.insert(px, 0);
        }
        if self.rng.random_bool(0.9) && !self.bids.contains_key(&(self.edge - 1)) {
            let q = self.lots();
            bid_ch.insert(self.edge - 1, q);
        }
        if self.rng.random_bool(0.9) && !self.asks.contains_key(&self.edge) {
            let q = self.lots();
            ask_ch.insert(self.edge, q);
        }
        let near = self.rng.random_range(1..=6u32);
        for _ in 0..near {
            let off = self.rng.random_range(0..25i64);
            self.touch_level(off, &mut bid_ch, &mut ask_ch);
        }
        if self.rng.random_bool(0.35) {
            for _ in 0..self.rng.random_range(1..=3u32) {
                let off = self.rng.random_range(100..5_000i64);
                self.touch_level(off, &mut bid_ch, &mut ask_ch);
            }
        }
        for (&px, &q) in &bid_ch {
            apply(&mut self.bids, px, q);
        }
        for (&px, &q) in &ask_ch {
            apply(&mut self.asks, px, q);
        }
        let d = Diff {
            first: self.next_first,
            last: self.next_last,
            prev: self.last_u,
            // Bids best first, asks best first, as on the wire.
            bids: bid_ch.into_iter().rev().collect(),
            asks: ask_ch.into_iter().collect(),
        };
        self.last_u = d.last;
        self.diffs += 1;
        d
    }

    /// Adds, updates or removes the level `off` ticks behind the top of a
    /// random side.
    fn touch_level(
        &mut self,
        off: i64,
        bid_ch: &mut BTreeMap<i64, i64>,
        ask_ch: &mut BTreeMap<i64, i64>,
    ) {
        let buy = self.rng.random_bool(0.5);
        let (px, side, ch) = if buy {
            (self.edge - 1 - off, &self.bids, bid_ch)
        } else {
            (self.edge + off, &self.asks, ask_ch)
        };
        let current = ch.get(&px).copied().or_else(|| side.get(&px).copied());
        let can_remove = side.len() > MIN_LEVELS;
        let q = match current {
            Some(q) if q > 0 && can_remove && self.rng.random_bool(0.35) => 0,
            _ => {
                let base = self.rng.random_range(1..=self.s.max_lots);
                (base / self.rng.random_range(1..=12i64)).max(1)
            }
        };
        ch.insert(px, q);
    }

    fn top(&self) -> (i64, i64, i64, i64) {
        let (bp, bq) = self
            .bids
            .iter()
            .next_back()
            .map_or((0, 0), |(p, q)| (*p, *q));
        let (ap, aq) = self.asks.iter().next().map_or((0, 0), |(p, q)| (*p, *q));
        (bp, bq, ap, aq)
    }

    fn room(&self) -> usize {
        self.max_lines - self.lines
    }

    fn begin_line(&mut self) -> u64 {
        self.rx_ns += self.rng.random_range(20_000..2_500_000u64);
        self.lines += 1;
        let rx = self.rx_ns;
        let _ = write!(self.out, "{rx} ");
        rx / 1_000_000 + EVENT_TIME_SKEW_MS
    }

    fn px(&mut self, ticks: i64) {
        write_dec(&mut self.out, ticks * self.s.tick, self.s.px_decimals);
    }

    fn qty(&mut self, lots: i64) {
        write_dec(&mut self.out, lots * self.s.lot, self.s.qty_decimals);
    }

    fn levels(&mut self, levels: &[(i64, i64)]) {
        self.out.push(b'[');
        for (i, &(p, q)) in levels.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            self.out.extend_from_slice(b"[\"");
            self.px(p);
            self.out.extend_from_slice(b"\",\"");
            self.qty(q);
            self.out.extend_from_slice(b"\"]");
        }
        self.out.push(b']');
    }

    fn emit_diff(&mut self, d: &Diff) {
        let e = self.begin_line();
        let s = &self.s;
        let _ = write!(
            self.out,
            "{{\"stream\":\"{}@{}\",\"data\":{{\"e\":\"depthUpdate\",\"E\":{e},",
            s.stream, s.depth_stream
        );
        if s.futures {
            let _ = write!(self.out, "\"T\":{},", e - 1);
        }
        let _ = write!(
            self.out,
            "\"s\":\"{}\",\"U\":{},\"u\":{},",
            s.symbol, d.first, d.last
        );
        if s.futures {
            let _ = write!(self.out, "\"pu\":{},", d.prev);
        }
        self.out.extend_from_slice(b"\"b\":");
        self.levels(&d.bids);
        self.out.extend_from_slice(b",\"a\":");
        self.levels(&d.asks);
        self.out.extend_from_slice(b"}}\n");
    }

    /// A ticker showing `top` with update id `u`.
    fn emit_ticker(&mut self, u: u64, top: (i64, i64, i64, i64)) {
        let e = self.begin_line();
        self.tickers += 1;
        self.last_ticker_u = u;
        let _ = write!(
            self.out,
            "{{\"stream\":\"{}@bookTicker\",\"data\":{{",
            self.s.stream
        );
        if self.s.futures {
            self.out.extend_from_slice(b"\"e\":\"bookTicker\",");
        }
        let _ = write!(self.out, "\"u\":{u},\"s\":\"{}\",\"b\":\"", self.s.symbol);
        self.px(top.0);
        self.out.extend_from_slice(b"\",\"B\":\"");
        self.qty(top.1);
        self.out.extend_from_slice(b"\",\"a\":\"");
        self.px(top.2);
        self.out.extend_from_slice(b"\",\"A\":\"");
        self.qty(top.3);
        self.out.push(b'"');
        if self.s.futures {
            let _ = write!(self.out, ",\"T\":{e},\"E\":{e}");
        }
        self.out.extend_from_slice(b"}}\n");
    }

    fn emit_trade(&mut self) {
        let e = self.begin_line();
        self.trades += 1;
        let id = self.next_trade_id;
        self.next_trade_id += 1;
        let (bp, _, ap, _) = self.top();
        let buyer_maker = self.rng.random_bool(0.5);
        let px = if buyer_maker { bp } else { ap };
        let lots = (self.lots() / 10).max(1);
        let s = &self.s;
        let _ = write!(
            self.out,
            "{{\"stream\":\"{}@trade\",\"data\":{{\"e\":\"trade\",\"E\":{e},",
            s.stream
        );
        if s.futures {
            let _ = write!(self.out, "\"T\":{e},");
        }
        let _ = write!(self.out, "\"s\":\"{}\",\"t\":{id},\"p\":\"", s.symbol);
        self.px(px);
        self.out.extend_from_slice(b"\",\"q\":\"");
        self.qty(lots);
        if self.s.futures {
            let _ = writeln!(self.out, "\",\"X\":\"MARKET\",\"m\":{buyer_maker}}}}}");
        } else {
            let _ = writeln!(
                self.out,
                "\",\"T\":{},\"m\":{buyer_maker},\"M\":true}}}}",
                e - 1
            );
        }
    }

    fn emit_snapshot(&mut self, id: u64, bids: &Side, asks: &Side) {
        let e = self.begin_line();
        let _ = write!(self.out, "{{\"lastUpdateId\":{id},");
        if self.s.futures {
            let _ = write!(self.out, "\"E\":{e},\"T\":{},", e - 8);
        }
        let b: Vec<(i64, i64)> = bids.iter().rev().map(|(p, q)| (*p, *q)).collect();
        let a: Vec<(i64, i64)> = asks.iter().map(|(p, q)| (*p, *q)).collect();
        self.out.extend_from_slice(b"\"bids\":");
        self.levels(&b);
        self.out.extend_from_slice(b",\"asks\":");
        self.levels(&a);
        self.out.extend_from_slice(b"}\n");
        self.snapshot_id = id;
    }

    /// Tickers with ids inside the next diff's range (matching no diff) and
    /// trades, `max` events at most.
    fn emit_noise(&mut self, max: u32) {
        let n = self.rng.random_range(0..=max);
        for _ in 0..n {
            if self.room() == 0 {
                return;
            }
            let lo = self.next_first.max(self.last_ticker_u + 1);
            if lo < self.next_last && self.rng.random_bool(0.7) {
                let u = self.rng.random_range(lo..self.next_last);
                let top = self.top();
                self.emit_ticker(u, top);
            } else {
                self.emit_trade();
            }
        }
    }

    fn run(&mut self) {
        self.seed_book();
        self.plan_next_ids();
        // Buffered phase: diffs before the snapshot, one of which bridges it.
        let buffered = self.rng.random_range(2..=5u32);
        let bridge = self.rng.random_range(1..buffered);
        let mut snap: Option<(u64, Side, Side)> = None;
        for i in 0..buffered {
            self.emit_noise(4);
            if self.room() == 0 {
                return;
            }
            let pre = (i == bridge).then(|| (self.bids.clone(), self.asks.clone()));
            let d = self.make_diff();
            if let Some((bids, asks)) = pre {
                snap = Some(self.bridge_snapshot(&d, bids, asks));
            }
            self.emit_diff(&d);
            self.plan_next_ids();
        }
        self.emit_noise(3);
        if self.room() == 0 {
            return;
        }
        if let Some((id, bids, asks)) = snap {
            self.emit_snapshot(id, &bids, &asks);
        }
        // Live phase.
        while self.room() > 0 {
            self.emit_noise(8);
            if self.room() == 0 {
                return;
            }
            let d = self.make_diff();
            let top = self.top();
            let checkable = self.rng.random_bool(0.45);
            if checkable && self.room() >= 2 && self.rng.random_bool(0.4) {
                self.emit_ticker(d.last, top);
                self.checkable += 1;
                self.emit_diff(&d);
            } else {
                self.emit_diff(&d);
                if checkable {
                    for _ in 0..self.rng.random_range(0..=2u32) {
                        if self.room() > 1 {
                            self.emit_trade();
                        }
                    }
                    if self.room() > 0 {
                        self.emit_ticker(d.last, top);
                        self.checkable += 1;
                    }
                }
            }
            self.plan_next_ids();
        }
    }

    /// The snapshot taken while `d` was being applied: `lastUpdateId` inside
    /// `d`'s range and the book before `d` plus a random part of `d` (any
    /// part works, because `d` sets absolute quantities and is applied on
    /// top of the snapshot). A part that would cross the book is not taken.
    fn bridge_snapshot(&mut self, d: &Diff, mut bids: Side, mut asks: Side) -> (u64, Side, Side) {
        // Spot: U <= id+1 <= u; futures: U <= id <= u.
        let (lo, hi) = if self.s.futures {
            (d.first, d.last)
        } else if d.last > d.first {
            (d.first, d.last - 1)
        } else {
            (d.first - 1, d.first - 1)
        };
        let id = self.rng.random_range(lo..=hi);
        let whole = self.s.futures && id == d.last;
        let (b0, a0) = (bids.clone(), asks.clone());
        for &(p, q) in &d.bids {
            if whole || self.rng.random_bool(0.5) {
                apply(&mut bids, p, q);
            }
        }
        for &(p, q) in &d.asks {
            if whole || self.rng.random_bool(0.5) {
                apply(&mut asks, p, q);
            }
        }
        let crossed = match (bids.keys().next_back(), asks.keys().next()) {
            (Some(b), Some(a)) => b >= a,
            _ => true,
        };
        if crossed && !whole {
            return (id, b0, a0);
        }
        (id, bids, asks)
    }

    fn truth(&self) -> SynthTruth {
        let (bp, _, ap, _) = self.top();
        SynthTruth {
            checkable_tickers: self.checkable,
            diffs: self.diffs,
            trades: self.trades,
            final_best_bid: Px(bp * self.s.tick),
            final_best_ask: Px(ap * self.s.tick),
            bid_levels: self.bids.len(),
            ask_levels: self.asks.len(),
            tickers: self.tickers,
            snapshot_last_update_id: self.snapshot_id,
        }
    }
}

fn apply(side: &mut Side, px: i64, q: i64) {
    if q == 0 {
        side.remove(&px);
    } else {
        side.insert(px, q);
    }
}

/// Writes a non-negative fixed-point value with exactly `decimals` decimals
/// (the value is a multiple of `10^(8 - decimals)` by construction).
fn write_dec(out: &mut Vec<u8>, v: i64, decimals: u32) {
    let int = v / FIXED_SCALE;
    let frac = v % FIXED_SCALE;
    if decimals == 0 {
        let _ = write!(out, "{int}");
    } else {
        let div = 10i64.pow(8 - decimals);
        let _ = write!(out, "{int}.{:0w$}", frac / div, w = decimals as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_follow_market_precision() {
        let mut v = Vec::new();
        write_dec(&mut v, 6_183_763_000_000, 8);
        v.push(b' ');
        write_dec(&mut v, 6_180_020_000_000, 2);
        v.push(b' ');
        write_dec(&mut v, 1_400_000, 3);
        v.push(b' ');
        write_dec(&mut v, 1_200_000_000, 0);
        assert_eq!(v, b"61837.63000000 61800.20 0.014 12");
    }
}
