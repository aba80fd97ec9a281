//! Paper venue: a deterministic stand-in for the exchange used by replay.
//!
//! It learns the market from [`PaperVenue::on_top`] (best bid/ask) and
//! [`PaperVenue::on_trade`] (public prints) and answers [`RouterCmd`]s with
//! [`ExecReport`]s through a caller-supplied callback.
//!
//! # Fill model
//! - **Taking.** A buy limit at `px >= best ask` fills immediately at the
//!   best ask price for `min(leaves, best ask qty * max_take_pct / 100)`;
//!   sells mirror this against the best bid. Fills are never at a better
//!   price than the book and never more than displayed: what we take is
//!   removed from our copy of the level until the next `on_top` replaces it.
//! - **IOC** remainders expire (`Expired`, leaves 0), as Binance reports
//!   them. An IOC gets no `Ack`.
//! - **GTC** orders get an `Ack` first; the remainder rests. A resting buy
//!   fills at its own price when a sell-aggressor trade prints at or below
//!   it (`buyer_is_maker` and `trade px <= buy px`), for
//!   `min(leaves, trade qty)`; one print's quantity is shared among our
//!   resting orders in arrival order. It also fills at its own price when a
//!   later `on_top` shows the best ask at or through it, for
//!   `min(leaves, ask qty * max_take_pct / 100)`. Sells mirror this. A
//!   resting order never fills more than its quantity.
//! - **Cancels.** Cancel of a working order -> `Cancelled`; of an unknown id
//!   -> `Rejected` (symbol 0, side buy, zero quantities); `CancelAll` cancels
//!   every working order in arrival order.
//! - **Rejects.** Zero/negative price or quantity, or a GTC arriving when the
//!   fixed resting table is full, is `Rejected` before any fill.
//!
//! Every order ends Filled, Cancelled or Rejected, or stays working. Market
//! state is a `Vec` indexed by [`SymbolId`]; resting orders live in a
//! fixed-capacity array scanned linearly, so steady state allocates nothing.

use serde::Deserialize;
use tickwire_core::orders::{ExecKind, ExecReport, Order, OrderId, RouterCmd, TimeInForce};
use tickwire_core::types::{Level, Px, Qty, Side, SymbolId};

/// Fill model of the paper venue.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperConf {
    /// Marketable orders fill at most this share (percent) of the opposite
    /// best level's quantity; 1..=100.
    pub max_take_pct: u32,
}

/// Resting orders held when built with [`PaperVenue::new`].
pub(crate) const DEFAULT_RESTING_CAPACITY: usize = 1024;

/// Our copy of one instrument's top of book, minus what we already took.
#[derive(Clone, Copy, Debug, Default)]
struct Top {
    bid: Level,
    ask: Level,
}

/// One working GTC order.
#[derive(Clone, Copy, Debug)]
struct Resting {
    order: Order,
    leaves: i64,
}

/// The paper venue (see module docs for the fill model).
#[derive(Clone, Debug)]
pub struct PaperVenue {
    max_take_pct: i64,
    tops: Vec<Top>,
    resting: Vec<Resting>,
    capacity: usize,
}

impl PaperVenue {
    /// A venue holding up to `DEFAULT_RESTING_CAPACITY` resting orders.
    pub fn new(conf: &PaperConf) -> PaperVenue {
        PaperVenue::with_capacity(conf, DEFAULT_RESTING_CAPACITY)
    }

    /// A venue holding up to `capacity` resting orders.
    pub fn with_capacity(conf: &PaperConf, capacity: usize) -> PaperVenue {
        PaperVenue {
            max_take_pct: i64::from(conf.max_take_pct.clamp(1, 100)),
            tops: Vec::with_capacity(64),
            resting: Vec::with_capacity(capacity),
            capacity,
        }
    }

    /// Number of resting (working) orders.
    pub fn working(&self) -> usize {
        self.resting.len()
    }

    /// Updates the top of book of `symbol` and fills resting orders it crosses.
    pub fn on_top(
        &mut self,
        symbol: SymbolId,
        bid: Level,
        ask: Level,
        out: &mut impl FnMut(ExecReport),
    ) {
        let i = usize::from(symbol.0);
        if i >= self.tops.len() {
            self.tops.resize(i + 1, Top::default());
        }
        self.tops[i] = Top { bid, ask };
        let pct = self.max_take_pct;
        let top = &mut self.tops[i];
        self.resting.retain_mut(|r| {
            if r.order.symbol != symbol {
                return true;
            }
            let level = match r.order.side {
                Side::Buy => &mut top.ask,
                Side::Sell => &mut top.bid,
            };
            if !crosses(r.order.side, r.order.px, level) {
                return true;
            }
            let take = r.leaves.min(takeable(level.qty, pct));
            if take <= 0 {
                return true;
            }
            level.qty.0 -= take;
            r.leaves -= take;
            out(fill_report(&r.order, r.order.px, take, r.leaves));
            r.leaves > 0
        });
    }

    /// A public trade printed: fills resting orders on the passive side at
    /// or through `px`. `buyer_is_maker` means the seller was the aggressor.
    pub fn on_trade(
        &mut self,
        symbol: SymbolId,
        px: Px,
        qty: Qty,
        buyer_is_maker: bool,
        out: &mut impl FnMut(ExecReport),
    ) {
        let mut available = qty.0;
        let passive = if buyer_is_maker {
            Side::Buy
        } else {
            Side::Sell
        };
        self.resting.retain_mut(|r| {
            if available <= 0 || r.order.symbol != symbol || r.order.side != passive {
                return true;
            }
            let through = match passive {
                Side::Buy => px <= r.order.px,
                Side::Sell => px >= r.order.px,
            };
            if !through {
                return true;
            }
            let take = r.leaves.min(available);
            available -= take;
            r.leaves -= take;
            out(fill_report(&r.order, r.order.px, take, r.leaves));
            r.leaves > 0
        });
    }

    /// Handles one command from risk, emitting its reports in order.
    pub fn on_cmd(&mut self, cmd: &RouterCmd, out: &mut impl FnMut(ExecReport)) {
        match *cmd {
            RouterCmd::New(order) => self.new_order(order, out),
            RouterCmd::Cancel(id) => self.cancel(id, out),
            RouterCmd::CancelAll => {
                for r in self.resting.drain(..) {
                    out(report(&r.order, ExecKind::Cancelled, Px(0), 0, 0));
                }
            }
        }
    }

    fn new_order(&mut self, order: Order, out: &mut impl FnMut(ExecReport)) {
        let full = self.resting.len() >= self.capacity;
        if order.px.0 <= 0 || order.qty.0 <= 0 || (order.tif == TimeInForce::Gtc && full) {
            out(report(&order, ExecKind::Rejected, Px(0), 0, 0));
            return;
        }
        if order.tif == TimeInForce::Gtc {
            out(report(&order, ExecKind::Ack, Px(0), 0, order.qty.0));
        }
        let mut leaves = order.qty.0;
        if let Some(top) = self.tops.get_mut(usize::from(order.symbol.0)) {
            let level = match order.side {
                Side::Buy => &mut top.ask,
                Side::Sell => &mut top.bid,
            };
            if crosses(order.side, order.px, level) {
                let take = leaves.min(takeable(level.qty, self.max_take_pct));
                if take > 0 {
                    level.qty.0 -= take;
                    leaves -= take;
                    out(fill_report(&order, level.px, take, leaves));
                }
            }
        }
        if leaves == 0 {
            return;
        }
        match order.tif {
            TimeInForce::Ioc => out(report(&order, ExecKind::Expired, Px(0), 0, 0)),
            TimeInForce::Gtc => self.resting.push(Resting { order, leaves }),
        }
    }

    fn cancel(&mut self, id: OrderId, out: &mut impl FnMut(ExecReport)) {
        match self.resting.iter().position(|r| r.order.id == id) {
            Some(i) => {
                let r = self.resting.remove(i);
                out(report(&r.order, ExecKind::Cancelled, Px(0), 0, 0));
            }
            None => out(ExecReport {
                id,
                symbol: SymbolId(0),
                side: Side::Buy,
                kind: ExecKind::Rejected,
                last_qty: Qty(0),
                last_px: Px(0),
                leaves_qty: Qty(0),
            }),
        }
    }
}

/// True when an order at `px` on `side` trades against the opposite `level`.
fn crosses(side: Side, px: Px, level: &Level) -> bool {
    level.qty.0 > 0
        && level.px.0 > 0
        && match side {
            Side::Buy => px >= level.px,
            Side::Sell => px <= level.px,
        }
}

/// The share of a displayed quantity one order may take.
fn takeable(displayed: Qty, pct: i64) -> i64 {
    i64::try_from(i128::from(displayed.0.max(0)) * i128::from(pct) / 100).unwrap_or(i64::MAX)
}

fn fill_report(order: &Order, px: Px, qty: i64, leaves: i64) -> ExecReport {
    let kind = if leaves == 0 {
        ExecKind::Filled
    } else {
        ExecKind::PartialFill
    };
    report(order, kind, px, qty, leaves)
}

fn report(order: &Order, kind: ExecKind, px: Px, qty: i64, leaves: i64) -> ExecReport {
    ExecReport {
        id: order.id,
        symbol: order.symbol,
        side: order.side,
        kind,
        last_qty: Qty(qty),
        last_px: px,
        leaves_qty: Qty(leaves),
    }
}
