//! The vocabulary every tickwire stage shares, and nothing else: units
//! (fixed-point prices and quantities, symbols, sides, TSC stamps), order
//! and execution types, the fixed-size ring messages between stages, the
//! [`stage::Stage`] trait, the frame-source trait and stage-local latency
//! histograms. No I/O, no threads, no stage logic: every other tickwire
//! crate depends on this one and this one on none of them.

pub mod counts;
pub mod hist;
pub mod money;
pub mod msg;
pub mod orders;
pub mod source;
pub mod stage;
pub mod types;
