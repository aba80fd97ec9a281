//! Executors, pinning, idle policy, ring messages and the pipeline wiring.

pub mod executors;
pub mod idle;
pub mod msg;
pub mod pipeline;
pub mod stage;
