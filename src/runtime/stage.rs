//! The one trait every pipeline stage implements, so executors can host
//! any mix of stages without the wiring changing.

use crate::config::schema::StageName;

/// What one `poll` achieved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Did some work; poll again soon.
    Busy,
    /// Nothing to do right now.
    Idle,
    /// Finished: input ended and everything was drained.
    Done,
}

/// A stage failed; the process exits non-zero with this message.
#[derive(Debug, thiserror::Error)]
#[error("stage {stage} failed: {message}")]
pub struct StageError {
    /// The failing stage.
    pub stage: &'static str,
    /// What went wrong and what to do.
    pub message: String,
}

/// A pipeline stage driven by polling. `poll` must never block: stages that
/// share an executor take turns.
pub trait Stage: Send {
    /// Which stage this is.
    fn name(&self) -> StageName;
    /// Does a bounded amount of work.
    fn poll(&mut self) -> Result<Progress, StageError>;
    /// Called once after `Done` (or on abort) to collect the stage's report.
    fn finish(self: Box<Self>) -> StageOutput;
}

/// Each stage's end-of-run report.
#[derive(Debug)]
pub enum StageOutput {
    /// Market data.
    Md(Box<crate::md::stage::MdReport>),
    /// Books.
    Book(Box<crate::book::stage::BookReport>),
    /// Risk.
    Risk(Box<crate::risk::stage::RiskReport>),
    /// Router.
    Router(Box<crate::router::stage::RouterReport>),
}
