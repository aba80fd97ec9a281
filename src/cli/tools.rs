//! The small subcommands: import, compare, check-conf, snapshot.

use std::path::Path;
use std::process::ExitCode;

use crate::book::snapshot::{MappedSnapshot, print_top};
use crate::telemetry::compare;

/// `tickwire import TEXT OUT`.
pub fn import(input: &Path, output: &Path) -> Result<ExitCode, String> {
    let stats = crate::capture::import(input, output).map_err(|e| e.to_string())?;
    println!("{stats}");
    Ok(ExitCode::SUCCESS)
}

/// `tickwire compare BASE NEW`.
pub fn compare(base: &Path, new: &Path, max_regress: &str) -> Result<ExitCode, String> {
    let thresholds = compare::parse_thresholds(max_regress).map_err(|e| e.to_string())?;
    let read = |p: &Path| -> Result<serde_json::Value, String> {
        let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", p.display()))
    };
    let (b, n) = (read(base)?, read(new)?);
    let names = (base.display().to_string(), new.display().to_string());
    let c =
        compare::compare(&b, &n, &thresholds, (&names.0, &names.1)).map_err(|e| e.to_string())?;
    print!("{}", c.table);
    if c.regressions.is_empty() {
        println!("no regression beyond {max_regress}");
        Ok(ExitCode::SUCCESS)
    } else {
        for r in &c.regressions {
            println!("regression: {r}");
        }
        Ok(ExitCode::from(1))
    }
}

/// `tickwire check-conf [--conf DIR]`.
pub fn check_conf(dir: Option<&Path>) -> Result<ExitCode, String> {
    let cfg = super::conf::load(dir)?;
    print!("{}", crate::config::render_check(&cfg));
    println!("configuration OK");
    Ok(ExitCode::SUCCESS)
}

/// `tickwire snapshot FILE`.
pub fn snapshot(file: &Path, depth: usize) -> Result<ExitCode, String> {
    let snap = MappedSnapshot::open(file).map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    print_top(snap.archived(), depth, &mut out).map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}
