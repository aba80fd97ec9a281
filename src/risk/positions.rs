//! Positions, realized pnl and the open-order table.
//!
//! Money is a [`Notional`] (exact, 1e-16 units of quote), so fills
//! accumulate without rounding. Realized pnl uses the average-cost method: a fill that reduces a
//! position releases the matching share of the position's cost.

use tickwire_core::money::Notional;
use tickwire_core::orders::OrderId;
use tickwire_core::types::{Px, Qty, Side, SymbolId};

/// Risk state of one instrument.
#[derive(Clone, Copy, Debug, Default)]
pub struct SymbolState {
    /// Net filled position, buys positive.
    pub position: i64,
    /// Signed cost of the open position (positive when long).
    pub cost: Notional,
    /// Mid of the last valid intent on a fresh book; marks the position.
    pub mark: Px,
    /// Working buy quantity.
    pub open_buy: i64,
    /// Working sell quantity.
    pub open_sell: i64,
    /// Book is stale: new orders are refused.
    pub stale: bool,
}

impl SymbolState {
    /// Applies a fill and returns the realized pnl it produced.
    pub fn apply_fill(&mut self, side: Side, px: Px, qty: Qty) -> Notional {
        let q = i128::from(qty.0);
        let signed = match side {
            Side::Buy => q,
            Side::Sell => -q,
        };
        let pos = i128::from(self.position);
        let px = i128::from(px.0);
        let mut realized = 0;
        let mut cost = self.cost.0;
        if pos == 0 || (pos > 0) == (signed > 0) {
            cost = cost.saturating_add(signed * px);
        } else {
            let closed = q.min(pos.abs());
            // Share of the cost released; divide first only if the product
            // would overflow (positions near i64::MAX).
            let cost_closed = cost
                .checked_mul(closed)
                .map_or_else(|| cost / pos.abs() * closed, |v| v / pos.abs());
            realized = (pos.signum() * closed * px).saturating_sub(cost_closed);
            cost = cost.saturating_sub(cost_closed);
            let opened = q - closed;
            if opened > 0 {
                cost = signed.signum() * opened * px;
            }
        }
        self.cost = Notional(cost);
        self.position =
            i64::try_from(pos + signed).unwrap_or(if signed > 0 { i64::MAX } else { i64::MIN });
        Notional(realized)
    }

    /// Unrealized pnl of the position at `self.mark`.
    pub fn unrealized(&self) -> Notional {
        if self.position == 0 {
            Notional::ZERO
        } else {
            Notional::of(self.mark, Qty(self.position)).saturating_sub(self.cost)
        }
    }

    /// Adds (or with a negative `qty`, removes) working quantity on `side`.
    pub fn add_open(&mut self, side: Side, qty: i64) {
        let slot = match side {
            Side::Buy => &mut self.open_buy,
            Side::Sell => &mut self.open_sell,
        };
        *slot = slot.saturating_add(qty).max(0);
    }
}

/// Per-symbol states in a `Vec` indexed by [`SymbolId`]; grows (one
/// allocation) only when a new symbol id appears.
#[derive(Clone, Debug)]
pub struct Positions {
    symbols: Vec<SymbolState>,
}

impl Positions {
    /// Room for `n` symbols up front.
    pub fn with_symbols(n: usize) -> Positions {
        Positions {
            symbols: vec![SymbolState::default(); n],
        }
    }

    /// State of `symbol`, if it was ever seen.
    pub fn get(&self, symbol: SymbolId) -> Option<&SymbolState> {
        self.symbols.get(usize::from(symbol.0))
    }

    /// State of `symbol`, created on first use.
    pub fn get_mut(&mut self, symbol: SymbolId) -> &mut SymbolState {
        let i = usize::from(symbol.0);
        if i >= self.symbols.len() {
            self.symbols.resize(i + 1, SymbolState::default());
        }
        &mut self.symbols[i]
    }

    /// Sum of unrealized pnl over every symbol, each at its own mark.
    pub fn unrealized(&self) -> Notional {
        self.symbols
            .iter()
            .fold(Notional::ZERO, |acc, s| acc.saturating_add(s.unrealized()))
    }
}

/// One working order as risk books it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenOrder {
    /// Client order id.
    pub id: OrderId,
    /// Instrument.
    pub symbol: SymbolId,
    /// Side.
    pub side: Side,
    /// Quantity still working.
    pub leaves: i64,
}

/// Fixed-capacity table of working orders (capacity = `max_open_orders`).
///
/// A dense array scanned linearly by id, removal by swap: with the tens of
/// working orders a taker has, a scan touches a few cache lines and beats
/// hashing; it never allocates after construction.
#[derive(Clone, Debug)]
pub struct OpenOrders {
    orders: Vec<OpenOrder>,
    capacity: usize,
}

impl OpenOrders {
    /// An empty table holding at most `capacity` orders.
    pub fn with_capacity(capacity: usize) -> OpenOrders {
        OpenOrders {
            orders: Vec::with_capacity(capacity),
            capacity,
        }
    }

    /// Number of working orders.
    pub fn len(&self) -> usize {
        self.orders.len()
    }

    /// True when no order is working.
    pub fn is_empty(&self) -> bool {
        self.orders.is_empty()
    }

    /// True when another order would exceed the capacity.
    pub fn is_full(&self) -> bool {
        self.orders.len() >= self.capacity
    }

    /// Books an order; false when the table is full.
    pub fn insert(&mut self, order: OpenOrder) -> bool {
        if self.is_full() {
            return false;
        }
        self.orders.push(order);
        true
    }

    /// The working order with this id.
    pub fn get_mut(&mut self, id: OrderId) -> Option<&mut OpenOrder> {
        self.orders.iter_mut().find(|o| o.id == id)
    }

    /// Removes and returns the working order with this id.
    pub fn remove(&mut self, id: OrderId) -> Option<OpenOrder> {
        let i = self.orders.iter().position(|o| o.id == id)?;
        Some(self.orders.swap_remove(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = tickwire_core::types::FIXED_SCALE;

    #[test]
    fn round_trip_realizes_price_difference() {
        let mut s = SymbolState::default();
        assert_eq!(
            s.apply_fill(Side::Buy, Px(100 * S), Qty(2 * S)),
            Notional::ZERO
        );
        let r = s.apply_fill(Side::Sell, Px(110 * S), Qty(2 * S));
        assert_eq!(r.to_string(), "20");
        assert_eq!((s.position, s.cost), (0, Notional::ZERO));
    }

    #[test]
    fn flip_through_zero_opens_at_fill_price() {
        let mut s = SymbolState::default();
        s.apply_fill(Side::Buy, Px(100), Qty(1));
        let r = s.apply_fill(Side::Sell, Px(90), Qty(3));
        assert_eq!(r, Notional(-10));
        assert_eq!((s.position, s.cost), (-2, Notional(-180)));
        s.mark = Px(80);
        assert_eq!(
            s.unrealized(),
            Notional(20),
            "short 2 from 90, marked at 80"
        );
    }

    #[test]
    fn table_refuses_past_capacity_and_removes_by_id() {
        let mut t = OpenOrders::with_capacity(1);
        let o = OpenOrder {
            id: OrderId(1),
            symbol: SymbolId(0),
            side: Side::Buy,
            leaves: 5,
        };
        assert!(t.insert(o));
        assert!(!t.insert(OpenOrder {
            id: OrderId(2),
            ..o
        }));
        assert_eq!(t.remove(OrderId(1)), Some(o));
        assert!(t.is_empty());
    }
}
