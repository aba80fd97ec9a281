//! Router stage: order entry. In replay, a paper venue fills orders
//! against the replayed market; live, [`remote::RemoteGateway`] hands them to
//! the `binance` REST order router thread (signing, keys, rate limits,
//! circuit breaker, reconciliation).

pub mod binance;
mod gateway;
mod paper;
mod remote;
mod stage;

pub use gateway::OrderGateway;
pub use paper::{PaperConf, PaperVenue};
pub use remote::{LiveRouterOutput, RemoteAccount, RemoteGateway};
pub use stage::{RouterReport, RouterRings, RouterStage};
