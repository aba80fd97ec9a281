//! `[risk]` in `conf/tickwire.toml`.

use serde::Deserialize;

use tickwire_core::money::Notional;
use tickwire_core::types::Qty;

/// Pre-trade risk limits, checked on every intent.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskConf {
    /// Largest quantity of one order.
    pub max_order_qty: Qty,
    /// Largest notional (price x qty, quote currency) of one order.
    pub max_order_notional: Notional,
    /// Largest absolute position per symbol, counting open orders.
    pub max_position: Qty,
    /// Most working orders across all symbols.
    pub max_open_orders: u32,
    /// Largest distance of the limit price from mid, in basis points.
    pub price_collar_bps: u32,
    /// Token-bucket refill rate, orders per second.
    pub orders_per_sec: u32,
    /// Token-bucket size (burst).
    pub burst: u32,
    /// Realized plus marked loss (quote currency) that stops new orders.
    pub daily_loss_limit: Notional,
    /// When true, every new order is refused from start-up.
    pub kill_switch: bool,
}
