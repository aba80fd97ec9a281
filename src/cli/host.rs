//! `tickwire check-host`: audits this box for the configured placement
//! (isolation, SMT, frequency, C-states, IRQs, THP, swap, memlock, TSC,
//! NUMA) and prints each finding with its fix; `run` prints the summary.

use std::path::Path;
use std::process::ExitCode;

use tickwire_config::{self as config, Config};
use tickwire_core::stage::StageName;
use tickwire_hostcheck::{CheckOptions, HostPlan, HostRoot, PlannedCore, Report};

use super::error::{CliError, CliResult};

/// The cores of a placement as the host check sees them: each executor
/// with its stages (hot when it busy-spins) and each helper thread.
pub(super) fn plan_of(cfg: &Config) -> HostPlan {
    let placement = cfg.placement();
    let mut cores = Vec::new();
    for ex in &placement.executors {
        let stages: Vec<&str> = ex.stages.iter().map(|s| s.name()).collect();
        let hot = ex.idle == config::IdlePolicy::BusySpin;
        cores.push(PlannedCore::new(ex.core, &[&stages.join("+")], hot));
    }
    let t = &cfg.affinity.threads;
    let helpers = [
        (
            "feed thread",
            t.feed.unwrap_or(placement.core_of(StageName::Md)),
        ),
        (
            "order-entry thread",
            t.router.unwrap_or(placement.core_of(StageName::Router)),
        ),
        (
            "snapshot thread",
            t.snapshot.unwrap_or(placement.core_of(StageName::Router)),
        ),
    ];
    for (role, core) in helpers {
        cores.push(PlannedCore::new(core, &[role], false));
    }
    HostPlan {
        cores,
        allowed_cpus: None,
    }
}

/// Runs the checks for `cfg` on this machine.
pub(super) fn report_for(cfg: &Config, mlockall: bool) -> Report {
    let opts = CheckOptions {
        mlockall,
        ..CheckOptions::default()
    };
    tickwire_hostcheck::check_host(&HostRoot::system(), &plan_of(cfg), &opts)
}

/// The configuration to audit: as `run` would load it, or, when its cores
/// do not fit this process's CPU set (an isolated box started without
/// `taskset`), as written, against every online CPU, so the audit still
/// shows what to fix.
fn audited_config(dir: Option<&Path>) -> Result<(Config, Option<CliError>), CliError> {
    match super::conf::load(dir) {
        Ok(cfg) => Ok((cfg, None)),
        Err(first) => {
            let online = online_cpus();
            let cfg = match dir {
                Some(d) => config::load_files_with_cores(
                    &d.join(config::AFFINITY_FILE),
                    &d.join(config::APP_FILE),
                    &online,
                )?,
                None => config::embedded_default_for_allowed(&online)?,
            };
            Ok((cfg, Some(first)))
        }
    }
}

/// Every online CPU (`/sys/devices/system/cpu/online`), else the CPUs this
/// process may use.
fn online_cpus() -> Vec<usize> {
    std::fs::read_to_string("/sys/devices/system/cpu/online")
        .ok()
        .and_then(|s| tickwire_hostcheck::parse_cpu_list(s.trim()).ok())
        .map(|set| set.iter().collect())
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| {
            core_affinity::get_core_ids()
                .map(|ids| ids.into_iter().map(|c| c.id).collect())
                .unwrap_or_default()
        })
}

/// `tickwire check-host [--conf DIR] [--json] [--mlockall]`.
pub(super) fn check_host(dir: Option<&Path>, json: bool, mlockall: bool) -> CliResult {
    let (cfg, load_error) = audited_config(dir)?;
    if let Some(e) = &load_error {
        eprintln!("tickwire: as started, `run` would refuse this placement: {e}");
    }
    let report = report_for(&cfg, mlockall);
    if json {
        println!("{}", tickwire_hostcheck::render_json(&report));
    } else {
        print!("{}", tickwire_hostcheck::render_table(&report));
    }
    Ok(ExitCode::from(report.exit_code()))
}
