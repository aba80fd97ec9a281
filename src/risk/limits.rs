//! The static pre-trade limits, converted once from [`RiskConf`] into the
//! integer widths the checks need. Each check is a pure predicate that is
//! true when the intent breaches the limit; [`super::RiskEngine::check`]
//! applies them in its documented order.

use crate::RiskConf;
use tickwire_core::money::Notional;
use tickwire_core::orders::OrderIntent;
use tickwire_core::types::Side;

/// Limits of one risk engine; immutable after construction.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest quantity of one order (raw).
    pub max_order_qty: i64,
    /// Largest notional of one order.
    pub max_order_notional: Notional,
    /// Largest absolute position including working orders (raw qty).
    pub max_position: i128,
    /// Most working orders.
    pub max_open_orders: usize,
    /// Price collar in basis points of mid.
    pub price_collar_bps: i128,
    /// Loss that stops trading (a positive amount).
    pub daily_loss: Notional,
}

impl Limits {
    /// Converts the config limits.
    pub fn from_conf(conf: &RiskConf) -> Limits {
        Limits {
            max_order_qty: conf.max_order_qty.0,
            max_order_notional: conf.max_order_notional,
            max_position: i128::from(conf.max_position.0),
            max_open_orders: usize::try_from(conf.max_open_orders).unwrap_or(usize::MAX),
            price_collar_bps: i128::from(conf.price_collar_bps),
            daily_loss: conf.daily_loss_limit,
        }
    }
}

/// Price, quantity or mid is zero or negative.
pub(crate) fn is_invalid(intent: &OrderIntent) -> bool {
    intent.px.0 <= 0 || intent.qty.0 <= 0 || intent.mid.0 <= 0
}

/// Realized plus unrealized pnl is at or below minus the limit.
pub(crate) fn loss_breached(limits: &Limits, total_pnl: Notional) -> bool {
    total_pnl <= -limits.daily_loss
}

/// Quantity above `max_order_qty`.
pub(crate) fn qty_breached(limits: &Limits, intent: &OrderIntent) -> bool {
    intent.qty.0 > limits.max_order_qty
}

/// Notional above `max_order_notional`.
pub(crate) fn notional_breached(limits: &Limits, intent: &OrderIntent) -> bool {
    Notional::of(intent.px, intent.qty) > limits.max_order_notional
}

/// `|px - mid| * 10000 > price_collar_bps * mid`.
pub(crate) fn collar_breached(limits: &Limits, intent: &OrderIntent) -> bool {
    let px = i128::from(intent.px.0);
    let mid = i128::from(intent.mid.0);
    (px - mid).abs() * 10_000 > limits.price_collar_bps * mid
}

/// `|position + working qty on the intent's side + intent qty| > max_position`,
/// signed by side (buys positive).
pub(crate) fn position_breached(
    limits: &Limits,
    intent: &OrderIntent,
    position: i64,
    open_same_side: i64,
) -> bool {
    let add = i128::from(open_same_side) + i128::from(intent.qty.0);
    let after = match intent.side {
        Side::Buy => i128::from(position) + add,
        Side::Sell => i128::from(position) - add,
    };
    after.abs() > limits.max_position
}
