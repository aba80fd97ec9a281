//! Executors, pinning, idle policy, ring messages and the pipeline wiring.

pub mod executors;
mod hosted;
mod idle;
pub mod pipeline;
mod ticker;

pub use hosted::host;
pub use ticker::Ticker;
