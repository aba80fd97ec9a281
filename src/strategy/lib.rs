//! Strategy stage logic: what to trade, given the top of book.
//!
//! A strategy is a small single-threaded state machine driven by the book
//! stage. It never allocates per call: it writes intents into an
//! [`IntentSink`] the caller owns and drains after every call.

mod conf;
mod imbalance;

pub use conf::{StrategyConf, StrategyKind};
pub use imbalance::ImbalanceTaker;

use tickwire_core::orders::{OrderIntent, PathStamps, TimeInForce};
use tickwire_core::types::{Level, Px, Qty, Side, SymbolId, Tsc, VenueMs};

/// What the strategy sees after the book applied a diff: top of book of one
/// instrument.
#[derive(Clone, Copy, Debug)]
pub struct BookTop {
    /// Instrument.
    pub symbol: SymbolId,
    /// Best bid (price and total quantity); zero quantity means no bid.
    pub bid: Level,
    /// Best ask (price and total quantity); zero quantity means no ask.
    pub ask: Level,
    /// Venue event time of the update, in milliseconds.
    pub venue_time: VenueMs,
}

/// Most intents one strategy call can emit.
pub const SINK_CAPACITY: usize = 4;

const EMPTY_INTENT: OrderIntent = OrderIntent {
    symbol: SymbolId(0),
    side: Side::Buy,
    px: Px(0),
    qty: Qty(0),
    tif: TimeInForce::Ioc,
    mid: Px(0),
    stamps: PathStamps {
        rx: Tsc(0),
        decoded: Tsc(0),
        applied: Tsc(0),
        decided: Tsc(0),
        risk_done: Tsc(0),
    },
};

/// Fixed-capacity, allocation-free buffer of intents produced by one
/// strategy call. The caller drains it after each call; intents pushed past
/// [`SINK_CAPACITY`] are refused and counted in [`IntentSink::dropped`].
#[derive(Clone, Debug)]
pub struct IntentSink {
    items: [OrderIntent; SINK_CAPACITY],
    len: usize,
    dropped: u64,
}

impl Default for IntentSink {
    fn default() -> Self {
        IntentSink::new()
    }
}

impl IntentSink {
    /// An empty sink.
    pub const fn new() -> IntentSink {
        IntentSink {
            items: [EMPTY_INTENT; SINK_CAPACITY],
            len: 0,
            dropped: 0,
        }
    }

    /// Adds an intent; returns false (and counts a drop) when the sink is full.
    pub fn push(&mut self, intent: OrderIntent) -> bool {
        match self.items.get_mut(self.len) {
            Some(slot) => {
                *slot = intent;
                self.len += 1;
                true
            }
            None => {
                self.dropped += 1;
                false
            }
        }
    }

    /// The intents pushed since the last drain, oldest first.
    pub fn as_slice(&self) -> &[OrderIntent] {
        &self.items[..self.len]
    }

    /// Number of pending intents.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no intent is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Yields the pending intents, oldest first, and empties the sink.
    pub fn drain(&mut self) -> impl Iterator<Item = OrderIntent> + '_ {
        let n = self.len;
        self.len = 0;
        self.items[..n].iter().copied()
    }

    /// Intents refused because the sink was full (a strategy bug; count it).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// A trading strategy driven by top-of-book updates and its own fills.
pub trait Strategy {
    /// Called after the book applied an update for `top.symbol`; pushes zero
    /// or more intents into `out` (price, quantity, side, tif and `mid`
    /// filled in; `stamps` are left for the caller).
    fn on_book(&mut self, top: &BookTop, out: &mut IntentSink);

    /// Called for every fill of one of this strategy's orders.
    fn on_fill(&mut self, symbol: SymbolId, side: Side, qty: Qty) {
        let _ = (symbol, side, qty);
    }
}

/// A strategy that never trades (`kind = "off"`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Idle;

impl Strategy for Idle {
    fn on_book(&mut self, _top: &BookTop, _out: &mut IntentSink) {}
}
