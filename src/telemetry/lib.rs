//! Latency histograms, run reports (table and JSON), HdrHistogram files,
//! the latency picture and the regression gate.

pub mod compare;
pub mod hgrm;
mod report;
pub mod rss;
pub mod svg;

pub use report::{Report, SymbolSection, stage_histograms};
