//! The built-in imbalance taker.
//!
//! Per symbol, when the best bid quantity is at least `imbalance_pct` percent
//! of bid + ask quantity, it buys `clip_qty` IOC at the best ask; when the
//! ask side is heavy in the same proportion it sells IOC at the best bid.
//! It never trades a stale, empty, crossed or locked book, waits
//! `cooldown_ms` of venue time between two intents on one symbol, and stops
//! adding to a position beyond its own `max_position`. The position is
//! learnt from fills only, so intents in flight are not counted; the
//! cooldown bounds how many can be in flight, and risk enforces the hard
//! limit. All arithmetic is integer: the strategy is deterministic.

use super::{BookTop, IntentSink, Strategy};
use crate::StrategyConf;
use tickwire_core::orders::{OrderIntent, PathStamps, TimeInForce};
use tickwire_core::types::{Px, Qty, Side, SymbolId, VenueMs};

/// Per-symbol state of [`ImbalanceTaker`].
#[derive(Clone, Copy, Debug, Default)]
struct SymbolState {
    /// Venue time of the last intent, if any.
    last_intent: Option<VenueMs>,
    /// Net filled position (buys positive).
    position: i64,
}

/// Takes liquidity when top-of-book quantity is lopsided (see module docs).
#[derive(Clone, Debug)]
pub struct ImbalanceTaker {
    imbalance_pct: i128,
    clip_qty: Qty,
    cooldown_ms: u64,
    max_position: i64,
    symbols: Vec<SymbolState>,
}

impl ImbalanceTaker {
    /// Builds the strategy with room for `max_symbols` instruments (more are
    /// added, with one allocation, when a new symbol id appears).
    pub fn new(conf: &StrategyConf, max_symbols: usize) -> ImbalanceTaker {
        ImbalanceTaker {
            imbalance_pct: i128::from(conf.imbalance_pct),
            clip_qty: conf.clip_qty,
            cooldown_ms: conf.cooldown_ms,
            max_position: conf.max_position.0,
            symbols: vec![SymbolState::default(); max_symbols],
        }
    }

    /// Net filled position of `symbol` as this strategy knows it.
    pub fn position(&self, symbol: SymbolId) -> Qty {
        Qty(self
            .symbols
            .get(usize::from(symbol.0))
            .map_or(0, |s| s.position))
    }

    fn state_mut(&mut self, symbol: SymbolId) -> &mut SymbolState {
        let i = usize::from(symbol.0);
        if i >= self.symbols.len() {
            self.symbols.resize(i + 1, SymbolState::default());
        }
        &mut self.symbols[i]
    }

    /// The side and price to take, if the book is lopsided enough.
    fn signal(&self, top: &BookTop) -> Option<(Side, Px)> {
        let bid = i128::from(top.bid.qty.0);
        let ask = i128::from(top.ask.qty.0);
        let threshold = self.imbalance_pct * (bid + ask);
        if bid * 100 >= threshold {
            Some((Side::Buy, top.ask.px))
        } else if ask * 100 >= threshold {
            Some((Side::Sell, top.bid.px))
        } else {
            None
        }
    }
}

/// True when both sides exist and the bid is strictly below the ask.
fn book_is_sane(top: &BookTop) -> bool {
    top.bid.px.0 > 0
        && top.ask.px.0 > 0
        && top.bid.qty.0 > 0
        && top.ask.qty.0 > 0
        && top.bid.px < top.ask.px
}

impl Strategy for ImbalanceTaker {
    fn on_book(&mut self, top: &BookTop, out: &mut IntentSink) {
        if !book_is_sane(top) || self.clip_qty.0 <= 0 {
            return;
        }
        let Some((side, px)) = self.signal(top) else {
            return;
        };
        let (clip, cooldown, max_pos) = (self.clip_qty.0, self.cooldown_ms, self.max_position);
        let state = self.state_mut(top.symbol);
        if let Some(last) = state.last_intent
            && top.venue_time.since(last) < cooldown
        {
            return;
        }
        let after = match side {
            Side::Buy => state.position.saturating_add(clip),
            Side::Sell => state.position.saturating_sub(clip),
        };
        if after.saturating_abs() > max_pos
            && after.saturating_abs() > state.position.saturating_abs()
        {
            return;
        }
        // Bid < ask, so this midpoint cannot overflow.
        let mid = Px(top.bid.px.0 + (top.ask.px.0 - top.bid.px.0) / 2);
        let intent = OrderIntent {
            symbol: top.symbol,
            side,
            px,
            qty: Qty(clip),
            tif: TimeInForce::Ioc,
            mid,
            stamps: PathStamps::default(),
        };
        if out.push(intent) {
            state.last_intent = Some(top.venue_time);
        }
    }

    fn on_fill(&mut self, symbol: SymbolId, side: Side, qty: Qty) {
        let state = self.state_mut(symbol);
        state.position = match side {
            Side::Buy => state.position.saturating_add(qty.0),
            Side::Sell => state.position.saturating_sub(qty.0),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StrategyKind;
    use tickwire_core::types::Level;

    fn conf() -> StrategyConf {
        StrategyConf {
            kind: StrategyKind::Imbalance,
            imbalance_pct: 70,
            clip_qty: Qty(10),
            cooldown_ms: 100,
            max_position: Qty(20),
            max_data_age_ms: 100,
        }
    }

    fn top(bid_qty: i64, ask_qty: i64, t: u64) -> BookTop {
        BookTop {
            symbol: SymbolId(3),
            bid: Level {
                px: Px(1000),
                qty: Qty(bid_qty),
            },
            ask: Level {
                px: Px(1010),
                qty: Qty(ask_qty),
            },
            venue_time: VenueMs(t),
        }
    }

    fn run(s: &mut ImbalanceTaker, t: &BookTop) -> Option<OrderIntent> {
        let mut sink = IntentSink::new();
        s.on_book(t, &mut sink);
        assert!(sink.len() <= 1);
        sink.drain().next()
    }

    #[test]
    fn bid_heavy_exactly_at_threshold_buys_at_best_ask() {
        let mut s = ImbalanceTaker::new(&conf(), 1);
        let i = run(&mut s, &top(70, 30, 0)).expect("70% bid is at the threshold");
        assert_eq!(
            (i.side, i.px, i.qty, i.tif),
            (Side::Buy, Px(1010), Qty(10), TimeInForce::Ioc)
        );
        assert_eq!(i.mid, Px(1005));
        assert_eq!(i.symbol, SymbolId(3));
    }

    #[test]
    fn just_below_threshold_does_nothing() {
        let mut s = ImbalanceTaker::new(&conf(), 1);
        assert!(run(&mut s, &top(69, 31, 0)).is_none());
        assert!(run(&mut s, &top(31, 69, 0)).is_none());
    }

    #[test]
    fn ask_heavy_sells_at_best_bid() {
        let mut s = ImbalanceTaker::new(&conf(), 1);
        let i = run(&mut s, &top(30, 70, 0)).expect("ask heavy");
        assert_eq!((i.side, i.px), (Side::Sell, Px(1000)));
    }

    #[test]
    fn cooldown_is_per_symbol_in_venue_time() {
        let mut s = ImbalanceTaker::new(&conf(), 1);
        assert!(run(&mut s, &top(90, 10, 1_000)).is_some());
        assert!(run(&mut s, &top(90, 10, 1_099)).is_none());
        let mut other = top(90, 10, 1_050);
        other.symbol = SymbolId(7);
        assert!(
            run(&mut s, &other).is_some(),
            "other symbol has its own cooldown"
        );
        assert!(run(&mut s, &top(90, 10, 1_100)).is_some());
    }

    #[test]
    fn empty_and_crossed_books_are_never_traded() {
        let mut s = ImbalanceTaker::new(&conf(), 1);
        assert!(run(&mut s, &top(90, 0, 0)).is_none());
        let mut crossed = top(90, 10, 0);
        crossed.bid.px = Px(1010);
        assert!(run(&mut s, &crossed).is_none());
        assert!(run(&mut s, &top(90, 10, 0)).is_some());
    }

    #[test]
    fn stops_adding_beyond_max_position_but_may_reduce() {
        let mut s = ImbalanceTaker::new(&conf(), 1);
        s.on_fill(SymbolId(3), Side::Buy, Qty(20));
        assert!(
            run(&mut s, &top(90, 10, 0)).is_none(),
            "buy would exceed 20"
        );
        let i = run(&mut s, &top(10, 90, 0)).expect("selling reduces");
        assert_eq!(i.side, Side::Sell);
        assert_eq!(s.position(SymbolId(3)), Qty(20));
    }
}
