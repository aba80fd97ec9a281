//! The risk engine: limits, positions, open orders and the order-rate
//! bucket behind one `check` per intent (see the crate docs for the order).

use tickwire_core::counts::Counts;
use tickwire_core::money::Notional;

use crate::limits;
use crate::{Limits, OpenOrder, OpenOrders, Positions, RiskConf, TokenBucket};
use tickwire_core::orders::{ExecKind, ExecReport, Order, OrderId, OrderIntent, RejectReason};
use tickwire_core::types::{Qty, Side, SymbolId};

/// Symbols pre-sized at construction (more grow on first sight).
const INITIAL_SYMBOLS: usize = 16;

/// An execution report risk could not apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RiskError {
    /// No working order has this id (late report after a terminal one, or a
    /// router bug); count it and investigate if it keeps happening.
    #[error("execution report for unknown order {0:?}; count it and check the router")]
    UnknownOrder(OrderId),
    /// A fill exceeded the order's remaining quantity; the position was
    /// updated with the full fill (the venue is the truth), the order closed.
    #[error("order {id:?} overfilled by {excess:?}; position follows the venue, check the router")]
    Overfill {
        /// The order.
        id: OrderId,
        /// Quantity filled beyond what was working.
        excess: Qty,
    },
}

/// Counters of one risk engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RiskStats {
    /// Intents checked.
    pub intents: u64,
    /// Intents accepted (minus those later undone by a full router ring).
    pub accepted: u64,
    /// Rejections per reason; `RingFull` is counted by
    /// [`RiskEngine::on_router_full`].
    pub rejected: Counts<RejectReason>,
    /// Fill reports applied.
    pub fills: u64,
    /// Total filled quantity.
    pub filled_qty: Qty,
    /// Execution reports for unknown order ids.
    pub unknown_exec: u64,
    /// Kill switch state when the stats were taken.
    pub kill_switch: bool,
}

impl RiskStats {
    /// Rejections for one reason.
    pub fn rejected_for(&self, reason: RejectReason) -> u64 {
        self.rejected.get(reason)
    }
}

/// The pre-trade risk engine (see module docs for the check order).
#[derive(Clone, Debug)]
pub struct RiskEngine {
    limits: Limits,
    kill_switch: bool,
    positions: Positions,
    open: OpenOrders,
    bucket: TokenBucket,
    realized: Notional,
    next_id: u64,
    stats: RiskStats,
}

impl RiskEngine {
    /// An engine with the given limits, no positions and a full token bucket.
    pub fn new(conf: &RiskConf) -> RiskEngine {
        let limits = Limits::from_conf(conf);
        RiskEngine {
            limits,
            kill_switch: conf.kill_switch,
            positions: Positions::with_symbols(INITIAL_SYMBOLS),
            open: OpenOrders::with_capacity(limits.max_open_orders),
            bucket: TokenBucket::new(conf.orders_per_sec, conf.burst),
            realized: Notional::ZERO,
            next_id: 1,
            stats: RiskStats::default(),
        }
    }

    /// Checks an intent; on success assigns the next [`OrderId`] and books
    /// the order as working. `now_ns` is venue/replay time for the bucket.
    pub fn check(&mut self, intent: &OrderIntent, now_ns: u64) -> Result<Order, RejectReason> {
        self.stats.intents += 1;
        match self.evaluate(intent, now_ns) {
            Ok(order) => {
                self.stats.accepted += 1;
                Ok(order)
            }
            Err(reason) => {
                self.stats.rejected.bump(reason);
                Err(reason)
            }
        }
    }

    fn evaluate(&mut self, intent: &OrderIntent, now_ns: u64) -> Result<Order, RejectReason> {
        use RejectReason as R;
        if limits::is_invalid(intent) {
            return Err(R::Invalid);
        }
        if self.kill_switch {
            return Err(R::KillSwitch);
        }
        let sym = self.positions.get_mut(intent.symbol);
        if sym.stale {
            return Err(R::StaleBook);
        }
        sym.mark = intent.mid;
        let position = sym.position;
        let open_same_side = match intent.side {
            Side::Buy => sym.open_buy,
            Side::Sell => sym.open_sell,
        };
        let total = self.realized.saturating_add(self.positions.unrealized());
        let l = &self.limits;
        if limits::loss_breached(l, total) {
            self.kill_switch = true;
            return Err(R::DailyLoss);
        }
        if limits::qty_breached(l, intent) {
            return Err(R::MaxOrderQty);
        }
        if limits::notional_breached(l, intent) {
            return Err(R::MaxOrderNotional);
        }
        if limits::collar_breached(l, intent) {
            return Err(R::PriceCollar);
        }
        if self.open.is_full() {
            return Err(R::MaxOpenOrders);
        }
        if limits::position_breached(l, intent, position, open_same_side) {
            return Err(R::MaxPosition);
        }
        if !self.bucket.try_take(now_ns) {
            return Err(R::RateLimit);
        }
        Ok(self.book(intent))
    }

    fn book(&mut self, intent: &OrderIntent) -> Order {
        let id = OrderId(self.next_id);
        self.next_id += 1;
        // Cannot fail: `is_full` was checked just before.
        let _ = self.open.insert(OpenOrder {
            id,
            symbol: intent.symbol,
            side: intent.side,
            leaves: intent.qty.0,
        });
        self.positions
            .get_mut(intent.symbol)
            .add_open(intent.side, intent.qty.0);
        Order {
            id,
            symbol: intent.symbol,
            side: intent.side,
            px: intent.px,
            qty: intent.qty,
            tif: intent.tif,
            stamps: intent.stamps,
        }
    }

    /// Applies an execution report: fills move the position and realized
    /// pnl, terminal reports close the working order. Symbol and side come
    /// from risk's own booking, not from the report.
    pub fn on_exec(&mut self, report: &ExecReport) -> Result<(), RiskError> {
        let Some(open) = self.open.get_mut(report.id) else {
            self.stats.unknown_exec += 1;
            return Err(RiskError::UnknownOrder(report.id));
        };
        let is_fill = matches!(report.kind, ExecKind::PartialFill | ExecKind::Filled);
        let fill = if is_fill { report.last_qty.0.max(0) } else { 0 };
        let worked = fill.min(open.leaves);
        let excess = fill - worked;
        open.leaves -= worked;
        let (symbol, side, leaves) = (open.symbol, open.side, open.leaves);
        let closed = report.kind.is_terminal() || leaves == 0;
        if closed {
            self.open.remove(report.id);
        }
        let sym = self.positions.get_mut(symbol);
        sym.add_open(side, -(worked + if closed { leaves } else { 0 }));
        if fill > 0 {
            let realized = sym.apply_fill(side, report.last_px, Qty(fill));
            self.realized = self.realized.saturating_add(realized);
            self.stats.fills += 1;
            self.stats.filled_qty = Qty(self.stats.filled_qty.0.saturating_add(fill));
        }
        if excess > 0 {
            return Err(RiskError::Overfill {
                id: report.id,
                excess: Qty(excess),
            });
        }
        Ok(())
    }

    /// Turns the kill switch on (every new intent is refused) or off.
    pub fn set_kill_switch(&mut self, on: bool) {
        self.kill_switch = on;
    }

    /// True while the kill switch is on.
    pub fn kill_switch(&self) -> bool {
        self.kill_switch
    }

    /// Marks a symbol's book stale (intents refused with `StaleBook`) or fresh.
    pub fn mark_stale(&mut self, symbol: SymbolId, stale: bool) {
        self.positions.get_mut(symbol).stale = stale;
    }

    /// The order could not be pushed to the router: undoes its booking,
    /// returns its rate token and counts a `RingFull` rejection (moving it
    /// out of `accepted`). Unknown orders are ignored.
    pub fn on_router_full(&mut self, order: &Order) {
        let Some(open) = self.open.remove(order.id) else {
            return;
        };
        self.positions
            .get_mut(open.symbol)
            .add_open(open.side, -open.leaves);
        self.bucket.refund();
        self.stats.accepted = self.stats.accepted.saturating_sub(1);
        self.stats.rejected.bump(RejectReason::RingFull);
    }

    /// Net filled position of `symbol` (buys positive).
    pub fn position(&self, symbol: SymbolId) -> Qty {
        Qty(self.positions.get(symbol).map_or(0, |s| s.position))
    }

    /// Number of working orders.
    pub fn open_orders(&self) -> usize {
        self.open.len()
    }

    /// Realized pnl (average-cost method).
    pub fn realized_pnl(&self) -> Notional {
        self.realized
    }

    /// A copy of the counters.
    pub fn stats(&self) -> RiskStats {
        RiskStats {
            kill_switch: self.kill_switch,
            ..self.stats
        }
    }
}
