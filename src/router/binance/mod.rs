//! Live order entry to a Binance-compatible REST venue (spot `/api/v3`,
//! USD-M `/fapi/v1`, COIN-M `/dapi/v1`).
//!
//! - `keys`: API key and secret from the environment or a private file.
//! - `sign`: HMAC-SHA256 request signing.
//! - `client`: the REST client (`ureq` agent, typed answers and errors).
//! - `ratelimit`: weight / order-count headers, 429 and 418.
//! - `breaker`: circuit breaker for new orders.
//! - `engine`: order state, idempotent retries and reconciliation.
//! - `live`: the pinned router thread between the rings.

mod breaker;
mod client;
mod engine;
mod keys;
mod ratelimit;
mod sign;
mod worker;

pub use breaker::BreakerState;
pub use client::{BinanceClient, ClientConfig, VenueError};
pub use engine::{Engine, EngineConfig, RouterStats, client_order_id};
pub use keys::{Credentials, KeyError};
pub use worker::{LiveConfig, LiveError, LiveRouter, RouterShared, RouterWaker};

pub use client::{OrderApi, OrderStatus, parse_order, wall_ms};
pub use sign::Signer;
