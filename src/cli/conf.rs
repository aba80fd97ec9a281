//! Choosing the configuration: `--conf DIR`, or the built-in defaults
//! laid out for the cores this machine has. Either way the cores are
//! checked before anything is pinned.

use std::path::Path;

use tickwire_config::{self as config, Config};

use super::error::CliError;

/// Loads `--conf DIR` or the embedded defaults, cores validated.
pub(super) fn load(dir: Option<&Path>) -> Result<Config, CliError> {
    match dir {
        Some(d) => Ok(config::load(d)?),
        None => {
            let available = config::available_cores(std::path::Path::new(config::EMBEDDED_DIR))?;
            Ok(config::embedded_default_for_allowed(&available)?)
        }
    }
}
