//! Executors, pinning, idle policy, ring messages and the pipeline wiring.

pub mod demo;
pub mod executors;
pub mod idle;
pub mod live;
pub mod monitor;
pub mod msg;
pub mod pipeline;
pub mod stage;
pub mod ticker;
