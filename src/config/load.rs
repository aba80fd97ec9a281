//! Reading `affinity.toml` and `tickwire.toml` from disk (or the compiled-in
//! copies) into one validated [`Config`].

use std::path::{Path, PathBuf};

use super::error::ConfigError;
use super::loaded::{Config, EMBEDDED_DIR};
use super::tomlerr::{line_of_key, parse};
use super::validate::{resolve_cores, validate_values, validate_with_cores};

/// File name of the placement file inside a config directory.
pub const AFFINITY_FILE: &str = "affinity.toml";
/// File name of the application file inside a config directory.
pub const APP_FILE: &str = "tickwire.toml";

const EMBEDDED_AFFINITY: &str = include_str!("../../conf/affinity.toml");
const EMBEDDED_AFFINITY_1CORE: &str = include_str!("../../conf/affinity-1core.toml");
const EMBEDDED_APP: &str = include_str!("../../conf/tickwire.toml");

/// Reads `DIR/affinity.toml` and `DIR/tickwire.toml`, parses and validates
/// them, including that every executor core exists on this machine.
pub fn load(dir: &Path) -> Result<Config, ConfigError> {
    load_files(&dir.join(AFFINITY_FILE), &dir.join(APP_FILE))
}

/// Like [`load`] with explicit file paths. `dir` is the placement file's
/// directory.
pub fn load_files(affinity: &Path, app: &Path) -> Result<Config, ConfigError> {
    let cores = available_cores(affinity)?;
    load_files_with_cores(affinity, app, &cores)
}

/// Like [`load_files`], checking executor cores against `available_cores`
/// instead of this machine's (for tests and for checking a config meant for
/// another machine).
pub fn load_files_with_cores(
    affinity: &Path,
    app: &Path,
    available_cores: &[usize],
) -> Result<Config, ConfigError> {
    let affinity_text = read(affinity)?;
    let app_text = read(app)?;
    load_texts(affinity, &affinity_text, app, &app_text, available_cores)
}

/// Parses and validates the two files' text as if read from `affinity` and
/// `app` (the paths only name the files in errors). Never panics on any
/// text: the config fuzz target drives it.
pub fn load_texts(
    affinity: &Path,
    affinity_text: &str,
    app: &Path,
    app_text: &str,
    available_cores: &[usize],
) -> Result<Config, ConfigError> {
    let (affinity_text, app_text) = (affinity_text.to_string(), app_text.to_string());
    let mut cfg = Config {
        affinity: parse(affinity, &affinity_text)?,
        app: parse(app, &app_text)?,
        dir: affinity.parent().map(Path::to_path_buf).unwrap_or_default(),
        affinity_path: affinity.to_path_buf(),
        app_path: app.to_path_buf(),
    };
    resolve_cores(affinity, &mut cfg.affinity, available_cores)
        .and_then(|()| validate_with_cores(&cfg, available_cores))
        .map_err(|e| {
            let text = if e.file() == affinity {
                &affinity_text
            } else {
                &app_text
            };
            let line = e.key().and_then(|k| line_of_key(text, k));
            e.with_line(line)
        })?;
    Ok(cfg)
}

/// Logical CPU ids this process may be pinned to, from
/// `core_affinity::get_core_ids()`. `file` is named in the error.
pub fn available_cores(file: &Path) -> Result<Vec<usize>, ConfigError> {
    match core_affinity::get_core_ids() {
        Some(ids) if !ids.is_empty() => Ok(ids.into_iter().map(|c| c.id).collect()),
        _ => Err(ConfigError::CoresUnknown {
            file: file.to_path_buf(),
        }),
    }
}

fn read(file: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(file).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            ConfigError::MissingFile {
                file: file.to_path_buf(),
            }
        } else {
            ConfigError::Unreadable {
                file: file.to_path_buf(),
                source,
            }
        }
    })
}

/// The shipped `conf/affinity.toml` (2-core layout) and `conf/tickwire.toml`,
/// compiled in so `tickwire replay` runs from any working directory. Values
/// are validated; cores are not (call [`validate_with_cores`] with
/// [`available_cores`] before pinning, or use [`embedded_default_for_cores`]).
pub fn embedded_default() -> Config {
    embedded(EMBEDDED_AFFINITY, AFFINITY_FILE)
}

/// The compiled-in defaults with the 2-core layout when at least two cores
/// are usable, else the 1-core layout (`conf/affinity-1core.toml`).
pub fn embedded_default_for_cores(available: usize) -> Config {
    if available >= 2 {
        embedded(EMBEDDED_AFFINITY, AFFINITY_FILE)
    } else {
        embedded(EMBEDDED_AFFINITY_1CORE, "affinity-1core.toml")
    }
}

/// The compiled-in defaults laid out on `allowed` (the CPUs this process
/// may use), their core positions resolved and checked.
pub fn embedded_default_for_allowed(allowed: &[usize]) -> Result<Config, ConfigError> {
    let mut cfg = embedded_default_for_cores(allowed.len());
    let path = cfg.affinity_path.clone();
    resolve_cores(&path, &mut cfg.affinity, allowed)?;
    validate_with_cores(&cfg, allowed)?;
    Ok(cfg)
}

/// Parses compiled-in text. The shipped files are checked by the test
/// `shipped_files_validate`, so a failure here is a build defect, not input.
fn embedded(affinity_text: &str, affinity_name: &str) -> Config {
    let dir = PathBuf::from(EMBEDDED_DIR);
    let affinity_path = dir.join(affinity_name);
    let app_path = dir.join(APP_FILE);
    let built = (|| {
        let cfg = Config {
            affinity: parse(&affinity_path, affinity_text)?,
            app: parse(&app_path, EMBEDDED_APP)?,
            dir: dir.clone(),
            affinity_path: affinity_path.clone(),
            app_path: app_path.clone(),
        };
        validate_values(&cfg)?;
        Ok::<Config, ConfigError>(cfg)
    })();
    match built {
        Ok(cfg) => cfg,
        Err(e) => panic!("shipped conf file is invalid (build defect): {e}"),
    }
}
