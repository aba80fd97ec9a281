//! A loaded configuration: both files parsed and validated, and where
//! they came from.

use std::path::{Path, PathBuf};

use super::schema::{AffinityConfig, AppConfig};

/// Directory name reported for the compiled-in defaults.
pub const EMBEDDED_DIR: &str = "<built-in conf>";

/// A complete, validated configuration and where it came from. Immutable
/// after start-up.
#[derive(Clone, Debug)]
pub struct Config {
    /// Cores, stage placement, idle policy, ring capacities.
    pub affinity: AffinityConfig,
    /// Symbols, strategy, risk, paper venue, reports.
    pub app: AppConfig,
    /// Directory the files were read from ([`EMBEDDED_DIR`] for the built-ins).
    pub dir: PathBuf,
    /// Path of the placement file.
    pub affinity_path: PathBuf,
    /// Path of the application file.
    pub app_path: PathBuf,
}

impl Config {
    /// True when this is the compiled-in default rather than files on disk.
    pub fn is_embedded(&self) -> bool {
        self.dir == Path::new(EMBEDDED_DIR)
    }
}
