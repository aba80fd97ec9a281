//! Router stage: order entry. In replay, a paper venue fills orders
//! against the replayed market; live, [`remote::RemoteVenue`] hands them to
//! the `binance` REST order router thread (signing, keys, rate limits,
//! circuit breaker, reconciliation).

pub mod binance;
mod gateway;
mod paper;
mod remote;
mod stage;

pub use gateway::OrderVenue;
pub use paper::{PaperConf, PaperVenue};
pub use remote::{LiveRouterOutput, RemoteAccount, RemoteVenue};
pub use stage::{RouterReport, RouterRings, RouterStage};
