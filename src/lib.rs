//! tickwire: a thread-per-core tick-to-trade appliance.
//!
//! Market data (`md`) -> L2 books and strategy (`book`, `strategy`) ->
//! pre-trade risk (`risk`) -> order routing (`router`), each stage a task on
//! a pinned glommio executor (`runtime`), connected by `rtrb` SPSC rings of
//! fixed-size `Copy` messages and timestamped from the TSC at every hop.
//! Recorded feeds (`capture`) replay through the whole pipeline and produce
//! a latency and correctness report (`telemetry`).

pub mod book;
pub mod capture;
pub mod cli;
pub mod config;
pub mod md;
pub mod orders;
pub mod risk;
pub mod router;
pub mod runtime;
pub mod strategy;
pub mod telemetry;
pub mod types;
pub mod venue;
