//! [`ConfigError`]: every way a configuration can be refused. Each message
//! names the file, the key (dotted path such as `executor[1].core`) and the
//! fix, on one line.

use std::path::{Path, PathBuf};

/// A configuration that cannot be used, and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A config file does not exist.
    #[error(
        "{}: file not found; `--conf DIR` expects affinity.toml and tickwire.toml in DIR",
        file.display()
    )]
    MissingFile {
        /// The file that was looked for.
        file: PathBuf,
    },
    /// A config file exists but cannot be read.
    #[error(
        "{}: cannot read: {source}; check that it is a readable UTF-8 text file",
        file.display()
    )]
    Unreadable {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error(
        "{}:{line}:{column}: malformed TOML: {message} (in `{snippet}`); fix the TOML syntax on line {line}",
        file.display()
    )]
    Malformed {
        /// The file.
        file: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// The parser's description.
        message: String,
        /// The offending line, trimmed.
        snippet: String,
    },
    /// A key that the schema does not know (typo or stale key).
    #[error(
        "{}{}: {key} is not a known key; remove it or check spelling; valid keys: {}",
        file.display(), at(*line), valid.join(", ")
    )]
    UnknownKey {
        /// The file.
        file: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// Dotted path of the unknown key.
        key: String,
        /// Keys that are allowed at that place.
        valid: Vec<String>,
    },
    /// A required key is absent.
    #[error(
        "{}{}: {key} is missing; add it (every key is described in docs/configuration.md)",
        file.display(), at(*line)
    )]
    MissingKey {
        /// The file.
        file: PathBuf,
        /// 1-based line of the table that lacks the key, when known.
        line: Option<usize>,
        /// Dotted path of the missing key.
        key: String,
    },
    /// A key has a value of the wrong type or an impossible value.
    #[error("{}{}: {key} {problem}; {fix}", file.display(), at(*line))]
    Invalid {
        /// The file.
        file: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// Dotted path of the key.
        key: String,
        /// What is wrong, starting with the value (`= 1000 is not a power of two`).
        problem: String,
        /// What to write instead.
        fix: String,
    },
    /// The cores usable by this process cannot be listed, so placement
    /// cannot be checked.
    #[error(
        "{}: cannot list the CPU cores this process may run on (core_affinity::get_core_ids failed); \
         run on Linux with /proc mounted and sched_getaffinity permitted",
        file.display()
    )]
    CoresUnknown {
        /// The affinity file whose placement could not be checked.
        file: PathBuf,
    },
}

/// `:LINE` when the line is known.
fn at(line: Option<usize>) -> String {
    line.map(|l| format!(":{l}")).unwrap_or_default()
}

impl ConfigError {
    /// The file the error is about.
    pub fn file(&self) -> &Path {
        match self {
            ConfigError::MissingFile { file }
            | ConfigError::Unreadable { file, .. }
            | ConfigError::Malformed { file, .. }
            | ConfigError::UnknownKey { file, .. }
            | ConfigError::MissingKey { file, .. }
            | ConfigError::Invalid { file, .. }
            | ConfigError::CoresUnknown { file } => file,
        }
    }

    /// Dotted path of the offending key, when the error is about one key.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::UnknownKey { key, .. }
            | ConfigError::MissingKey { key, .. }
            | ConfigError::Invalid { key, .. } => Some(key),
            _ => None,
        }
    }

    /// 1-based line in the file, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Malformed { line, .. } => Some(*line),
            ConfigError::UnknownKey { line, .. }
            | ConfigError::MissingKey { line, .. }
            | ConfigError::Invalid { line, .. } => *line,
            _ => None,
        }
    }

    /// Builds an [`ConfigError::Invalid`] without a line (validation fills it
    /// in later from the file text).
    pub(crate) fn invalid(
        file: &Path,
        key: impl Into<String>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            file: file.to_path_buf(),
            line: None,
            key: key.into(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }

    /// Sets the line of a key error when it is not known yet.
    pub(crate) fn with_line(mut self, found: Option<usize>) -> ConfigError {
        if let ConfigError::UnknownKey { line, .. }
        | ConfigError::MissingKey { line, .. }
        | ConfigError::Invalid { line, .. } = &mut self
            && line.is_none()
        {
            *line = found;
        }
        self
    }
}
