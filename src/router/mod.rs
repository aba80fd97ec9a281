//! Router stage: order entry. In replay, a paper venue fills orders
//! against the replayed market; `binance` is the live REST order router
//! (signing, keys, rate limits, circuit breaker, reconciliation), not yet
//! wired into a live pipeline.

pub mod binance;
pub mod paper;
pub mod stage;
