//! Order-path messages: what the strategy wants, what risk lets through and
//! what the venue answers. All are small `Copy` values that cross cores in
//! `rtrb` rings.

use crate::types::{Px, Qty, Side, SymbolId, Tsc};

/// Client order id, unique for the life of the process (assigned by risk).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderId(pub u64);

/// How long an order stays working.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeInForce {
    /// Immediate or cancel: fill what crosses now, cancel the rest.
    Ioc,
    /// Good till cancelled: the remainder rests on the book.
    Gtc,
}

/// TSC stamps carried along the order path so each stage can compute its own
/// latency and the router can compute tick-to-trade.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PathStamps {
    /// The market-data frame that caused this order was received.
    pub rx: Tsc,
    /// That frame was decoded.
    pub decoded: Tsc,
    /// The book had applied it.
    pub applied: Tsc,
    /// The strategy decided to trade.
    pub decided: Tsc,
    /// Risk accepted or rejected the intent.
    pub risk_done: Tsc,
}

/// What the strategy wants to do; not yet an order until risk accepts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderIntent {
    /// Instrument.
    pub symbol: SymbolId,
    /// Buy or sell.
    pub side: Side,
    /// Limit price.
    pub px: Px,
    /// Quantity.
    pub qty: Qty,
    /// Time in force.
    pub tif: TimeInForce,
    /// Book mid price when the strategy decided (for the price collar and
    /// marking positions).
    pub mid: Px,
    /// Timestamps so far.
    pub stamps: PathStamps,
}

/// An order risk has accepted, on its way to the venue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Order {
    /// Client order id.
    pub id: OrderId,
    /// Instrument.
    pub symbol: SymbolId,
    /// Buy or sell.
    pub side: Side,
    /// Limit price.
    pub px: Px,
    /// Quantity.
    pub qty: Qty,
    /// Time in force.
    pub tif: TimeInForce,
    /// Timestamps so far.
    pub stamps: PathStamps,
}

/// A request on the order path from risk to the router.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouterCmd {
    /// Send a new order.
    New(Order),
    /// Cancel one working order.
    Cancel(OrderId),
    /// Cancel every working order (kill switch).
    CancelAll,
}

crate::counted! {
    /// What happened to an order at the venue.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum ExecKind {
        /// The venue accepted the order; it is working.
        Ack = "ack",
        /// Part of the order filled; the rest is still working.
        PartialFill = "partial_fill",
        /// The order is completely filled (terminal).
        Filled = "filled",
        /// The order was cancelled by request (terminal).
        Cancelled = "cancelled",
        /// The venue refused the order (terminal).
        Rejected = "rejected",
        /// The venue ended the order by itself: the unfilled rest of an IOC
        /// order, or a self-trade-prevention expiry (terminal; Binance `EXPIRED`).
        Expired = "expired",
    }
}

impl ExecKind {
    /// True when the order can no longer fill.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ExecKind::Filled | ExecKind::Cancelled | ExecKind::Rejected | ExecKind::Expired
        )
    }
}

/// An execution report on the return path router -> risk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecReport {
    /// Client order id.
    pub id: OrderId,
    /// Instrument.
    pub symbol: SymbolId,
    /// Side of the order.
    pub side: Side,
    /// What happened.
    pub kind: ExecKind,
    /// Quantity filled by this report (zero unless a fill).
    pub last_qty: Qty,
    /// Price of this fill (zero unless a fill).
    pub last_px: Px,
    /// Quantity still working after this report.
    pub leaves_qty: Qty,
}

crate::counted! {
    /// Why risk refused an intent. Each reason is counted separately.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum RejectReason {
        /// Quantity above `max_order_qty`.
        MaxOrderQty = "max_order_qty",
        /// Notional above `max_order_notional`.
        MaxOrderNotional = "max_order_notional",
        /// Position plus open orders would exceed `max_position`.
        MaxPosition = "max_position",
        /// Too many working orders.
        MaxOpenOrders = "max_open_orders",
        /// Price further from mid than `price_collar_bps`.
        PriceCollar = "price_collar",
        /// Order-rate token bucket empty.
        RateLimit = "rate_limit",
        /// Daily loss limit reached.
        DailyLoss = "daily_loss",
        /// Kill switch engaged.
        KillSwitch = "kill_switch",
        /// The book for this symbol is stale.
        StaleBook = "stale_book",
        /// The ring to the router was full.
        RingFull = "ring_full",
        /// Quantity or price is zero or negative.
        Invalid = "invalid",
    }
}
