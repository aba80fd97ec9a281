//! Router stage: order entry. In replay, a paper venue fills orders
//! against the replayed market; live, [`remote::RemoteVenue`] hands them to
//! the `binance` REST order router thread (signing, keys, rate limits,
//! circuit breaker, reconciliation).

pub mod binance;
pub mod gateway;
pub mod paper;
pub mod remote;
pub mod stage;
