//! Executors, pinning, idle policy, ring messages and the pipeline wiring.

pub mod executors;
pub mod hosted;
pub mod idle;
pub mod pipeline;
pub mod ticker;
