//! Sequencer + L2 book on random Binance-like event streams (snapshots at
//! any id, chained diffs, gaps, duplicates, forced resyncs, both market
//! families). Bids are generated below 1000 and asks above, so a correct
//! book is never crossed: after every accepted update the synced book must
//! be uncrossed, and it must equal a plain map fed the same events.
#![no_main]

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tickwire_book::L2Book;
use tickwire_core::msg::{MdEvent, StaleReason};
use tickwire_core::types::{Level, Market, Px, Qty, Side, SymbolId, SymbolName, VenueMs};
use tickwire_md::{DepthDiff, DepthSnapshot, FrameStamps, Sequencer};

#[derive(Arbitrary, Debug)]
enum Op {
    /// A diff: ids advance by `skip` (0 = chained) and span `len`.
    Diff {
        skip: u8,
        len: u8,
        levels: Vec<(bool, u8, u8)>,
    },
    /// A snapshot whose id is `back` ids before the venue's current id.
    Snapshot {
        back: u8,
        levels: Vec<(bool, u8, u8)>,
    },
    /// The last diff again.
    Duplicate,
    /// Ring overflow or a crossed book seen elsewhere.
    Resync,
}

#[derive(Arbitrary, Debug)]
struct Input {
    futures: bool,
    ops: Vec<Op>,
}

fn levels(raw: &[(bool, u8, u8)], side: Side) -> Vec<Level> {
    raw.iter()
        .filter(|(bid, _, _)| *bid == (side == Side::Buy))
        .map(|&(bid, off, qty)| {
            let px = if bid {
                999 - i64::from(off)
            } else {
                1001 + i64::from(off)
            };
            Level {
                px: Px(px),
                qty: Qty(i64::from(qty % 4)),
            }
        })
        .collect()
}

#[derive(Default)]
struct Plain {
    bids: BTreeMap<i64, i64>,
    asks: BTreeMap<i64, i64>,
}

fuzz_target!(|input: Input| {
    // One book per thread, cleared per input: building its dense window
    // dominates a run otherwise.
    BOOK.with_borrow_mut(|book| run(&input, book));
});

thread_local! {
    static BOOK: std::cell::RefCell<L2Book> = std::cell::RefCell::new(L2Book::new(Some(Px(1))));
}

fn run(input: &Input, book: &mut L2Book) {
    book.clear();
    let market = if input.futures {
        Market::Usdm
    } else {
        Market::Spot
    };
    let mut seq = Sequencer::new(SymbolId(0), market);
    let mut plain = Plain::default();
    let symbol = SymbolName::new(b"BTCUSDT").expect("symbol");
    let mut venue_u: u64 = 1_000;
    let mut last: Option<(u64, u64, u64, Vec<Level>, Vec<Level>)> = None;
    for op in input.ops.iter().take(64) {
        let mut events = Vec::new();
        let mut push = |e: MdEvent| events.push(e);
        match op {
            Op::Diff {
                skip,
                len,
                levels: raw,
            } => {
                let prev = venue_u;
                let first = venue_u + 1 + u64::from(*skip);
                let last_id = first + u64::from(len % 8);
                venue_u = last_id;
                let (b, a) = (levels(raw, Side::Buy), levels(raw, Side::Sell));
                let d = DepthDiff {
                    symbol,
                    first_id: first,
                    last_id,
                    prev_last_id: input.futures.then_some(prev),
                    venue_time: VenueMs(0),
                    bids: &b,
                    asks: &a,
                };
                seq.on_diff(&d, FrameStamps::default(), &mut push);
                last = Some((first, last_id, prev, b, a));
            }
            Op::Snapshot { back, levels: raw } => {
                let (b, a) = (levels(raw, Side::Buy), levels(raw, Side::Sell));
                let s = DepthSnapshot {
                    last_update_id: venue_u.saturating_sub(u64::from(*back)),
                    bids: &b,
                    asks: &a,
                };
                seq.on_snapshot(&s, &mut push);
            }
            Op::Duplicate => {
                if let Some((first, last_id, prev, b, a)) = &last {
                    let d = DepthDiff {
                        symbol,
                        first_id: *first,
                        last_id: *last_id,
                        prev_last_id: input.futures.then_some(*prev),
                        venue_time: VenueMs(0),
                        bids: b,
                        asks: a,
                    };
                    seq.on_diff(&d, FrameStamps::default(), &mut push);
                }
            }
            Op::Resync => seq.force_resync(StaleReason::RingOverflow, &mut push),
        }
        for e in events {
            match e {
                MdEvent::SnapshotBegin { .. } => {
                    book.clear();
                    plain = Plain::default();
                }
                MdEvent::Level { side, level, .. } => {
                    book.apply(side, level.px, level.qty);
                    let m = if side == Side::Buy {
                        &mut plain.bids
                    } else {
                        &mut plain.asks
                    };
                    if level.qty.0 == 0 {
                        m.remove(&level.px.0);
                    } else {
                        m.insert(level.px.0, level.qty.0);
                    }
                }
                MdEvent::DiffEnd { .. } | MdEvent::SnapshotEnd { .. } => {
                    assert!(!book.is_crossed(), "a synced book is crossed");
                    let bids: Vec<(i64, i64)> =
                        book.levels(Side::Buy).map(|l| (l.px.0, l.qty.0)).collect();
                    let want: Vec<(i64, i64)> =
                        plain.bids.iter().rev().map(|(p, q)| (*p, *q)).collect();
                    assert_eq!(bids, want, "bids differ from the plain map");
                    let asks: Vec<(i64, i64)> =
                        book.levels(Side::Sell).map(|l| (l.px.0, l.qty.0)).collect();
                    let want: Vec<(i64, i64)> = plain.asks.iter().map(|(p, q)| (*p, *q)).collect();
                    assert_eq!(asks, want, "asks differ from the plain map");
                }
                _ => {}
            }
        }
    }
}
