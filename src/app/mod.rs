//! Applications built from the layers below: the live session wiring
//! (`run`, `demo`), the operator monitor, `record`, and the live report.

pub mod demo;
pub mod monitor;
pub mod record;
pub mod session;
pub mod session_report;
