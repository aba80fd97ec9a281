//! `L2Book` against a plain `BTreeMap<Px, Qty>` per side on random streams.

mod common;

use std::collections::BTreeMap;

use proptest::prelude::*;
use tickwire_book::{L2Book, WINDOW_LOG2};
use tickwire_core::types::{Level, Px, Qty, Side};

/// Reference book: one ordered map per side.
#[derive(Default)]
struct Model {
    bids: BTreeMap<Px, Qty>,
    asks: BTreeMap<Px, Qty>,
}

impl Model {
    fn apply(&mut self, side: Side, px: Px, qty: Qty) {
        let map = match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        };
        if qty.0 == 0 {
            map.remove(&px);
        } else {
            map.insert(px, qty);
        }
    }

    fn levels(&self, side: Side) -> Vec<Level> {
        let lv = |(&px, &qty): (&Px, &Qty)| Level { px, qty };
        match side {
            Side::Buy => self.bids.iter().rev().map(lv).collect(),
            Side::Sell => self.asks.iter().map(lv).collect(),
        }
    }
}

/// One raw operation; prices are derived from it and a moving mid.
#[derive(Clone, Debug)]
enum RawOp {
    /// Move the mid by `step` ticks, then update the level `offset` ticks
    /// from it.
    NearMid {
        step: i64,
        offset: i64,
        buy: bool,
        qty: i64,
    },
    /// Update a price anywhere in 560.0 .. 621368.7 on the 0.1 grid.
    Wide { ticks: i64, buy: bool, qty: i64 },
    /// Update an arbitrary positive price (usually off the grid).
    Any { px: i64, buy: bool, qty: i64 },
    /// Resync.
    Clear,
}

const TICK: i64 = 10_000_000; // 0.1 at scale 1e8
/// The book's dense window in ticks: streams must cross its edges.
const W: i64 = 1 << WINDOW_LOG2;

fn qty() -> impl Strategy<Value = i64> {
    prop_oneof![2 => Just(0i64), 3 => 1i64..1_000_000_000]
}

fn raw_op(off_grid: bool) -> impl Strategy<Value = RawOp> {
    let near =
        (-50i64..50, -600i64..600, any::<bool>(), qty()).prop_map(|(step, offset, buy, qty)| {
            RawOp::NearMid {
                step,
                offset,
                buy,
                qty,
            }
        });
    let far = (-2 * W..2 * W, any::<bool>(), qty()).prop_map(|(offset, buy, qty)| RawOp::NearMid {
        step: 0,
        offset,
        buy,
        qty,
    });
    let jump =
        (-W / 2..W / 2, -100i64..100, any::<bool>(), qty()).prop_map(|(step, offset, buy, qty)| {
            RawOp::NearMid {
                step,
                offset,
                buy,
                qty,
            }
        });
    let wide = (5_600i64..=6_213_687, any::<bool>(), qty())
        .prop_map(|(ticks, buy, qty)| RawOp::Wide { ticks, buy, qty });
    let any_px = (
        prop_oneof![
            1i64..1_000_000,
            1i64..i64::MAX,
            (i64::MAX - 1000)..=i64::MAX
        ],
        any::<bool>(),
        qty(),
    )
        .prop_map(|(px, buy, qty)| RawOp::Any { px, buy, qty });
    let any_weight = if off_grid { 2 } else { 0 };
    prop_oneof![
        40 => near,
        10 => far,
        3 => jump,
        10 => wide,
        any_weight => any_px,
        1 => Just(RawOp::Clear),
    ]
}

fn side(buy: bool) -> Side {
    if buy { Side::Buy } else { Side::Sell }
}

fn check_same(book: &L2Book, model: &Model, full: bool) -> Result<(), TestCaseError> {
    let mb = model.levels(Side::Buy);
    let ma = model.levels(Side::Sell);
    prop_assert_eq!(book.best_bid(), mb.first().copied());
    prop_assert_eq!(book.best_ask(), ma.first().copied());
    prop_assert_eq!(book.bid_depth(), mb.len());
    prop_assert_eq!(book.ask_depth(), ma.len());
    let crossed = matches!((mb.first(), ma.first()), (Some(b), Some(a)) if b.px >= a.px);
    prop_assert_eq!(book.is_crossed(), crossed);
    let mut top = [Level::default(); 10];
    let n = book.top(Side::Buy, &mut top);
    prop_assert_eq!(&top[..n], &mb[..mb.len().min(10)]);
    let n = book.top(Side::Sell, &mut top);
    prop_assert_eq!(&top[..n], &ma[..ma.len().min(10)]);
    if full {
        prop_assert_eq!(book.levels(Side::Buy).collect::<Vec<_>>(), mb);
        prop_assert_eq!(book.levels(Side::Sell).collect::<Vec<_>>(), ma);
    }
    Ok(())
}

fn run(ops: &[RawOp], tick: Option<Px>) -> Result<(), TestCaseError> {
    let mut book = L2Book::new(tick);
    let mut model = Model::default();
    let mut mid: i64 = 616_000; // 61600.0 in ticks of 0.1
    for (i, op) in ops.iter().enumerate() {
        match *op {
            RawOp::NearMid {
                step,
                offset,
                buy,
                qty,
            } => {
                mid = (mid + step).clamp(10_000, 60_000_000);
                let px = Px((mid + offset).max(1) * TICK);
                book.apply(side(buy), px, Qty(qty));
                model.apply(side(buy), px, Qty(qty));
            }
            RawOp::Wide { ticks, buy, qty } => {
                let px = Px(ticks * TICK);
                book.apply(side(buy), px, Qty(qty));
                model.apply(side(buy), px, Qty(qty));
            }
            RawOp::Any { px, buy, qty } => {
                book.apply(side(buy), Px(px), Qty(qty));
                model.apply(side(buy), Px(px), Qty(qty));
            }
            RawOp::Clear => {
                book.clear();
                model = Model::default();
            }
        }
        check_same(&book, &model, i % 16 == 0)?;
    }
    check_same(&book, &model, true)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn book_matches_btreemap_model_with_learnt_tick(
        ops in prop::collection::vec(raw_op(false), 1..2000)
    ) {
        run(&ops, None)?;
    }

    #[test]
    fn book_matches_btreemap_model_with_configured_tick(
        ops in prop::collection::vec(raw_op(false), 1..2000)
    ) {
        run(&ops, Some(Px(TICK)))?;
    }

    #[test]
    fn book_matches_btreemap_model_with_off_grid_and_extreme_prices(
        ops in prop::collection::vec(raw_op(true), 1..1000),
        tick in prop_oneof![Just(None), Just(Some(Px(TICK))), Just(Some(Px(1)))],
    ) {
        run(&ops, tick)?;
    }
}

#[test]
fn deleting_an_absent_level_is_a_no_op() {
    let mut book = L2Book::new(Some(Px(TICK)));
    book.apply(Side::Buy, Px(100 * TICK), Qty(5));
    book.apply(Side::Buy, Px(101 * TICK), Qty(0));
    book.apply(Side::Buy, Px(100 * TICK + 3), Qty(0));
    book.apply(Side::Sell, Px(100 * TICK), Qty(0));
    assert_eq!(book.bid_depth(), 1);
    assert_eq!(book.ask_depth(), 0);
    assert_eq!(book.tick(), Some(Px(TICK)));
}

#[test]
fn clear_drops_all_levels_and_keeps_the_tick() {
    let mut book = L2Book::new(None);
    book.apply(Side::Buy, Px(616_001 * TICK), Qty(1));
    book.apply(Side::Sell, Px(616_002 * TICK), Qty(1));
    book.clear();
    assert_eq!(book.best_bid(), None);
    assert_eq!(book.best_ask(), None);
    assert_eq!(book.levels(Side::Buy).count(), 0);
    assert_eq!(book.tick(), Some(Px(TICK)));
}

/// Replays a real capture (snapshot + every diff with `u > lastUpdateId`)
/// and returns the final book, or `None` when the data is absent.
fn replay_capture(file: &str) -> Option<L2Book> {
    use std::io::BufRead;
    let path = common::marketdata()?.join(file);
    let f = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let lines = std::io::BufReader::new(flate2::read::GzDecoder::new(f)).lines();
    let fixed = |v: &serde_json::Value| {
        tickwire_core::types::parse_fixed(v.as_str().expect("string").as_bytes()).expect("decimal")
    };
    let apply = |book: &mut L2Book, side: Side, levels: &serde_json::Value| {
        for l in levels.as_array().expect("levels") {
            book.apply(side, Px(fixed(&l[0])), Qty(fixed(&l[1])));
        }
    };
    let mut book = L2Book::new(None);
    let mut last = None;
    let mut diffs = Vec::new();
    for line in lines {
        let line = line.expect("gzip line");
        let (_, json) = line.split_once(' ').expect("rx_ns and json");
        let v: serde_json::Value = serde_json::from_str(json).expect("json");
        if let Some(id) = v["lastUpdateId"].as_u64() {
            apply(&mut book, Side::Buy, &v["bids"]);
            apply(&mut book, Side::Sell, &v["asks"]);
            last = Some(id);
        } else if v["data"]["e"] == "depthUpdate" {
            diffs.push(v["data"].clone());
        }
    }
    let last = last.expect("capture has a REST snapshot");
    for d in diffs.iter().filter(|d| d["u"].as_u64() > Some(last)) {
        apply(&mut book, Side::Buy, &d["b"]);
        apply(&mut book, Side::Sell, &d["a"]);
    }
    Some(book)
}

#[test]
fn usdm_capture_final_book_matches_ground_truth() {
    let Some(book) = replay_capture("usdm_btcusdt_20240808.gz") else {
        return;
    };
    assert_eq!((book.bid_depth(), book.ask_depth()), (5_018, 4_578));
    assert_eq!(
        book.best_bid().map(|l| l.px.to_string()).as_deref(),
        Some("61659.7")
    );
    assert_eq!(
        book.best_ask().map(|l| l.px.to_string()).as_deref(),
        Some("61659.8")
    );
    assert_eq!(book.tick(), Some(Px(TICK)));
}

#[test]
fn spot_capture_final_book_matches_ground_truth() {
    let Some(book) = replay_capture("spot_btcusdt_20240808.gz") else {
        return;
    };
    assert_eq!((book.bid_depth(), book.ask_depth()), (1_209, 2_196));
    assert_eq!(
        book.best_bid().map(|l| l.px.to_string()).as_deref(),
        Some("61685.99")
    );
    assert_eq!(
        book.best_ask().map(|l| l.px.to_string()).as_deref(),
        Some("61686")
    );
}
