//! `[strategy]` in `conf/tickwire.toml`.

use serde::Deserialize;

use tickwire_core::types::Qty;

/// Which built-in strategy runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StrategyKind {
    /// Takes liquidity when top-of-book quantity is lopsided.
    Imbalance,
    /// Never trades (market data and book only).
    Off,
}

/// Parameters of the built-in imbalance taker.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyConf {
    /// Strategy to run.
    pub kind: StrategyKind,
    /// Buy when best-bid qty / (bid qty + ask qty) is at least this many
    /// percent; sell when it is at most `100 - imbalance_pct`. 51..=99.
    pub imbalance_pct: u32,
    /// Quantity per order.
    pub clip_qty: Qty,
    /// Minimum venue time between two intents on one symbol, in ms.
    pub cooldown_ms: u64,
    /// The strategy stops adding to a position beyond this size.
    pub max_position: Qty,
    /// Oldest market data (frame received -> book applied) that may trigger
    /// an order, in ms. Diffs replayed from the buffer right after a sync,
    /// or queued behind a slow consumer, are applied to the book but never
    /// traded on. Default 100.
    #[serde(default = "default_max_data_age_ms")]
    pub max_data_age_ms: u64,
}

fn default_max_data_age_ms() -> u64 {
    100
}
