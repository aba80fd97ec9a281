//! Choosing the configuration: `--conf DIR`, or the built-in defaults
//! laid out for the cores this machine has. Either way the cores are
//! checked before anything is pinned.

use std::path::Path;

use tickwire_config::{self as config, Config};

/// Loads `--conf DIR` or the embedded defaults, cores validated.
pub(super) fn load(dir: Option<&Path>) -> Result<Config, String> {
    match dir {
        Some(d) => config::load(d).map_err(|e| e.to_string()),
        None => {
            let cores = core_affinity::get_core_ids().map_or(0, |c| c.len());
            let cfg = config::embedded_default_for_cores(cores);
            let available =
                config::available_cores(&cfg.affinity_path).map_err(|e| e.to_string())?;
            config::validate_with_cores(&cfg, &available).map_err(|e| e.to_string())?;
            Ok(cfg)
        }
    }
}
