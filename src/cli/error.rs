//! Everything a command can fail with: one typed error per lower-layer
//! error, plus argument errors. `main` prints it and exits with status 2.

use std::path::PathBuf;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// A flag value is out of range or inconsistent with another.
    #[error("{0}")]
    Usage(String),
    /// The configuration could not be loaded or is invalid.
    #[error(transparent)]
    Config(#[from] tickwire_config::ConfigError),
    /// A capture could not be read, written or imported.
    #[error(transparent)]
    Capture(#[from] tickwire_capture::CaptureError),
    /// The pipeline failed.
    #[error(transparent)]
    Run(#[from] tickwire_runtime::executors::RunError),
    /// A live run failed.
    #[error(transparent)]
    Live(#[from] crate::app::session::LiveRunError),
    /// The demo failed.
    #[error(transparent)]
    Demo(#[from] crate::app::demo::DemoError),
    /// `record` failed.
    #[error(transparent)]
    Record(#[from] crate::app::record::RecordError),
    /// `compare` could not compare.
    #[error(transparent)]
    Compare(#[from] tickwire_telemetry::compare::CompareError),
    /// A book snapshot file could not be read.
    #[error(transparent)]
    Snapshot(#[from] tickwire_book::SnapshotError),
    /// The venue simulator could not run.
    #[error(transparent)]
    VenueSim(#[from] venue_sim::SimCliError),
    /// The API keys could not be loaded.
    #[error(transparent)]
    Keys(#[from] tickwire_router::binance::KeyError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A report file is not JSON.
    #[error("{}: not a JSON report: {source}", path.display())]
    NotJson {
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        source: serde_json::Error,
    },
    /// Standard output could not be written.
    #[error("cannot write to standard output: {0}")]
    Stdout(std::io::Error),
}

/// Result of a command.
pub(crate) type CliResult = Result<std::process::ExitCode, CliError>;
