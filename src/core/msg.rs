//! The fixed-size `Copy` messages that cross cores in the rings between
//! stages. Nothing here owns heap memory.

use crate::orders::{ExecReport, OrderIntent, RouterCmd};
use crate::types::{Level, Market, Px, Qty, Side, SymbolId, SymbolName, Tsc, VenueMs};

crate::counted! {
    /// Why the market-data stage stopped trusting a book.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum StaleReason {
        /// A diff did not chain to the previous one.
        Gap = "gap",
        /// The md -> book ring was full and events were lost.
        RingOverflow = "ring_overflow",
        /// The book stage found the book crossed and asked for a resync.
        Crossed = "crossed",
        /// The buffered diffs could not bridge the REST snapshot.
        NoBridge = "no_bridge",
        /// The feed connection was re-established; diffs were missed.
        Reconnect = "reconnect",
    }
}

/// md -> book: normalized market events. A diff or snapshot travels as a
/// run of [`MdEvent::Level`]s closed by [`MdEvent::DiffEnd`] or
/// [`MdEvent::SnapshotEnd`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MdEvent {
    /// A new instrument was seen; tells the book stage its name.
    Instrument {
        /// Dense id used in every later event.
        symbol: SymbolId,
        /// Market the instrument trades on.
        market: Market,
        /// Venue symbol.
        name: SymbolName,
    },
    /// A snapshot starts: clear the book, levels follow.
    SnapshotBegin {
        /// Instrument.
        symbol: SymbolId,
    },
    /// One level of the current snapshot or diff.
    Level {
        /// Instrument.
        symbol: SymbolId,
        /// Book side.
        side: Side,
        /// Price and new quantity (zero deletes).
        level: Level,
    },
    /// The snapshot is complete; the book is synced at `last_update_id`.
    SnapshotEnd {
        /// Instrument.
        symbol: SymbolId,
        /// The snapshot's `lastUpdateId`.
        last_update_id: u64,
    },
    /// The diff whose levels were just sent is complete.
    DiffEnd {
        /// Instrument.
        symbol: SymbolId,
        /// The diff's final update id `u`.
        last_id: u64,
        /// Venue event time (ms).
        venue_time: VenueMs,
        /// Frame receive time.
        rx: Tsc,
        /// Frame decoded time.
        decoded: Tsc,
    },
    /// A venue best bid/ask, for the ground-truth check.
    Ticker {
        /// Instrument.
        symbol: SymbolId,
        /// The ticker's book update id `u`.
        update_id: u64,
        /// Venue best bid.
        bid: Level,
        /// Venue best ask.
        ask: Level,
    },
    /// A public trade.
    Trade {
        /// Instrument.
        symbol: SymbolId,
        /// Price.
        px: Px,
        /// Quantity.
        qty: Qty,
        /// The aggressor sold.
        buyer_is_maker: bool,
    },
    /// The book can no longer be trusted until the next snapshot.
    Stale {
        /// Instrument.
        symbol: SymbolId,
        /// Why.
        reason: StaleReason,
    },
    /// End of input: drain and shut down.
    End,
}

/// book -> md: requests on the back channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookRequest {
    /// The book found itself crossed: drop sync and wait for a snapshot.
    Resync(SymbolId),
}

/// book -> risk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RiskMsg {
    /// A strategy intent to check.
    Intent {
        /// The intent.
        intent: OrderIntent,
        /// Venue time of the frame that caused it (drives the rate limiter,
        /// so replays are deterministic).
        venue_time: VenueMs,
    },
    /// A book went stale (true) or was resynced (false).
    BookStale(SymbolId, bool),
    /// No more intents.
    End,
}

/// book -> router: market state for the paper venue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarketMsg {
    /// New top of book after a diff.
    Top {
        /// Instrument.
        symbol: SymbolId,
        /// Best bid.
        bid: Level,
        /// Best ask.
        ask: Level,
    },
    /// A public trade.
    Trade {
        /// Instrument.
        symbol: SymbolId,
        /// Price.
        px: Px,
        /// Quantity.
        qty: Qty,
        /// The aggressor sold.
        buyer_is_maker: bool,
    },
    /// No more market data.
    End,
}

/// risk -> router.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToRouter {
    /// An order-entry command.
    Cmd(RouterCmd),
    /// Risk will send nothing more.
    End,
}

/// risk -> book: a fill of one of the strategy's orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StrategyFill {
    /// Instrument.
    pub symbol: SymbolId,
    /// Side of the filled order.
    pub side: Side,
    /// Quantity filled.
    pub qty: Qty,
}

/// router -> risk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FromRouter {
    /// An execution report.
    Exec(ExecReport),
    /// The router is done; no more reports.
    End,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_messages_stay_small() {
        // One cache line or less keeps a ring hop to one line transfer.
        assert!(
            std::mem::size_of::<MdEvent>() <= 48,
            "{}",
            std::mem::size_of::<MdEvent>()
        );
        assert!(std::mem::size_of::<RiskMsg>() <= 128);
        assert!(std::mem::size_of::<ToRouter>() <= 128);
        assert!(std::mem::size_of::<FromRouter>() <= 64);
    }
}
