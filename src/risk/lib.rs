//! Pre-trade risk: every intent is checked against static limits, exposure,
//! pnl and an order-rate bucket before it becomes an `Order`.
//!
//! The engine is single-threaded and clock-free: callers pass `now_ns`
//! (venue or replay time), so a replay gives the same decisions every run.
//! Nothing allocates per check: per-symbol state lives in a `Vec` indexed by
//! `SymbolId` (grown once when a new id appears) and working orders in a
//! fixed-capacity table of `max_open_orders` slots.
//!
//! # Check order
//! [`RiskEngine::check`] applies these in order and returns the first breach:
//! 1. `Invalid`: price, quantity or mid is zero or negative.
//! 2. `KillSwitch`: the kill switch is on.
//! 3. `StaleBook`: the symbol was marked stale.
//! 4. `DailyLoss`: realized pnl plus every position marked at its last mid
//!    (this intent's mid for its own symbol) is at or below
//!    `-daily_loss_limit`. This also turns the kill switch on; the caller
//!    should then send `RouterCmd::CancelAll`.
//! 5. `MaxOrderQty`, 6. `MaxOrderNotional`, 7. `PriceCollar`.
//! 8. `MaxOpenOrders`: the table of working orders is full.
//! 9. `MaxPosition`: position plus working quantity on the intent's side plus
//!    the intent would exceed `max_position` in absolute value.
//! 10. `RateLimit`: no token in the bucket; a token is taken only when every
//!     other check passed.

mod bucket;
mod conf;
mod engine;
mod limits;
mod positions;
mod stage;

pub use bucket::TokenBucket;
pub use conf::RiskConf;
pub use engine::{RiskEngine, RiskError, RiskStats};
pub use limits::Limits;
pub use positions::{OpenOrder, OpenOrders, Positions, SymbolState};

pub use stage::{RiskReport, RiskRings, RiskStage};
