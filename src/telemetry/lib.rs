//! Latency histograms, run reports (table and JSON), HdrHistogram files,
//! the latency picture and the regression gate.

pub mod compare;
pub mod hgrm;
pub mod report;
pub mod rss;
pub mod svg;
