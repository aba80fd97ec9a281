//! tickwire: a thread-per-core tick-to-trade appliance.
//!
//! This package is the application layer: the command line ([`cli`]) and
//! the applications ([`app`]: live session wiring, demo, monitor, record).
//! Everything below lives in its own crate, so the compiler enforces the
//! layering (docs/architecture.md, "Layers"):
//!
//! - `tickwire-core`: the shared vocabulary (units, orders, ring messages,
//!   the `Stage` trait, histograms);
//! - stages `tickwire-md`, `tickwire-book`, `tickwire-strategy`,
//!   `tickwire-risk`, `tickwire-router`, and the capture format
//!   `tickwire-capture`;
//! - `tickwire-config` (composes each stage's configuration section);
//! - `tickwire-runtime` (executors, pinning, pipeline wiring) and
//!   `tickwire-telemetry` (reports).

pub mod app;
pub mod cli;
