//! The one trait every pipeline stage implements, so executors can host
//! any mix of stages without the wiring changing. Each stage names its own
//! report type; only the pipeline that builds the stages knows the set.

use serde::Deserialize;

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

/// Why a stage stopped without finishing; the process exits non-zero.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// The stage panicked (a bug): the others are told to stop.
    #[error(
        "stage {stage} panicked: {message}; this is a bug, please report it with the input that caused it"
    )]
    Panicked {
        /// The failing stage.
        stage: StageName,
        /// The panic payload, when it was a string.
        message: String,
    },
    /// The stage stopped because another one failed (not a root cause).
    #[error("stage {stage} stopped because another stage failed")]
    Aborted {
        /// The stopped stage.
        stage: StageName,
    },
    /// The stage met an error it cannot recover from.
    #[error("stage {stage} failed: {source}")]
    Failed {
        /// The failing stage.
        stage: StageName,
        /// What went wrong and what to do.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl StageError {
    /// The stage the error belongs to.
    pub fn stage(&self) -> StageName {
        match self {
            StageError::Panicked { stage, .. }
            | StageError::Aborted { stage }
            | StageError::Failed { stage, .. } => *stage,
        }
    }

    /// True when this stage only stopped because another one failed.
    pub fn is_abort(&self) -> bool {
        matches!(self, StageError::Aborted { .. })
    }
}

/// A pipeline stage driven by polling. `poll` must never block: stages that
/// share an executor take turns.
pub trait Stage: Send + 'static {
    /// What the stage reports at the end of a run.
    type Report: Send + 'static;
    /// Which stage this is.
    fn name(&self) -> StageName;
    /// Does a bounded amount of work.
    fn poll(&mut self) -> Result<Progress, StageError>;
    /// Called once after `Done` (or on abort) to collect the stage's report.
    fn finish(self) -> Self::Report;
}

/// The pipeline stages that can be placed on executors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StageName {
    /// Market data: frame intake, decode, sequencing.
    Md,
    /// L2 books, ground-truth checks and the strategy.
    Book,
    /// Pre-trade risk, positions.
    Risk,
    /// Order entry (paper venue in replay).
    Router,
}

impl std::fmt::Display for StageName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl StageName {
    /// Every stage, in pipeline order.
    pub const ALL: [StageName; 4] = [
        StageName::Md,
        StageName::Book,
        StageName::Risk,
        StageName::Router,
    ];

    /// Lower-case name as written in config and reports.
    pub fn name(self) -> &'static str {
        match self {
            StageName::Md => "md",
            StageName::Book => "book",
            StageName::Risk => "risk",
            StageName::Router => "router",
        }
    }
}
