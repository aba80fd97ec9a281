//! `tickwire run` (live, against the configured venue) and `tickwire demo`
//! (the venue simulator and the appliance together on loopback).

use super::error::{CliError, CliResult};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Args;

use crate::app::demo::{DemoOptions, run_demo};
use crate::app::session::{LiveOptions, run_live};
use crate::app::session_report::LiveSection;
use tickwire_book::SnapshotPolicy;
use tickwire_core::source::Pace;
use tickwire_router::binance::Credentials;
use tickwire_telemetry::Report;
use tickwire_telemetry::rss;
use venue_sim::FaultArgs;

/// Arguments of `tickwire run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Configuration directory (default: built-in configuration, which
    /// points at Binance's spot testnet).
    #[arg(long)]
    pub conf: Option<PathBuf>,
    /// Stop after this many seconds (default: until Ctrl-C).
    #[arg(long)]
    pub duration: Option<f64>,
    /// Print the report as one JSON object (no operator messages).
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `tickwire demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Captures the simulator serves (`FILE` or `FILE@market`, one market);
    /// none = a built-in synthetic spot BTCUSDT session.
    pub captures: Vec<String>,
    /// Longest run in seconds; the demo ends earlier once the simulator's
    /// replay is over.
    #[arg(long, default_value_t = 20.0)]
    pub duration: f64,
    /// Replay speed-up of the simulator (`0` = as fast as the appliance reads).
    #[arg(long, default_value_t = 20.0)]
    pub speed: f64,
    /// Frames of the synthetic session.
    #[arg(long, default_value_t = 40_000)]
    pub synthetic_frames: usize,
    /// Configuration directory (default: built-in configuration).
    #[arg(long)]
    pub conf: Option<PathBuf>,
    /// Print the report as one JSON object (no operator messages).
    #[arg(long)]
    pub json: bool,
    /// The simulator's fault switches.
    #[command(flatten)]
    pub faults: FaultArgs,
}

fn seconds(s: f64, flag: &str) -> Result<Duration, CliError> {
    if s > 0.0 && s.is_finite() && s < 1e9 {
        Ok(Duration::from_secs_f64(s))
    } else {
        Err(CliError::Usage(format!(
            "{flag} {s} must be a positive number of seconds"
        )))
    }
}

fn ctrl_c_stops() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // Ctrl-C ends intake; the pipeline cancels, drains and reports.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed));
    stop
}

fn print(report: &Report, live: &LiveSection, json: bool) {
    if json {
        let mut v = serde_json::to_value(report).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "live".into(),
                serde_json::to_value(live).unwrap_or_default(),
            );
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&v).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
        );
    } else {
        print!("{}", report.to_table());
        print!("{}", live.to_table());
    }
}

/// Runs `tickwire run`.
pub(super) fn run(args: RunArgs) -> CliResult {
    let duration = args
        .duration
        .map(|d| seconds(d, "--duration"))
        .transpose()?;
    let cfg = super::conf::load(args.conf.as_deref())?;
    // The operator sees at once whether the box is tuned for this placement.
    eprintln!(
        "tickwire: {}",
        tickwire_hostcheck::summary_line(&super::host::report_for(&cfg, false))
    );
    let venue = cfg.app.venue.as_ref().ok_or_else(|| {
        CliError::Usage(
            "conf/tickwire.toml has no [venue] table: add one (docs/operations.md) to say where to connect"
                .into(),
        )
    })?;
    let credentials = if venue.key_file.is_empty() {
        Credentials::from_env()
    } else {
        Credentials::from_file(std::path::Path::new(&venue.key_file))
    }?;
    // A fresh session per process keeps client order ids unique across restarts.
    let session = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs() as u32);
    let opts = LiveOptions {
        credentials,
        session,
        duration,
        trace_orders: 0,
        messages: !args.json,
        snapshots: SnapshotPolicy {
            dir: Some(PathBuf::from(&cfg.app.report.snapshot_dir)),
            interval_ms: cfg.app.report.snapshot_interval_s.saturating_mul(1000),
            depth: cfg.app.report.depth,
        },
        tls: None,
    };
    let out = run_live(&cfg, opts, ctrl_c_stops())?;
    let report = Report::build(&out.run, rss::peak_rss_bytes());
    print(&report, &LiveSection::of(&out), args.json);
    Ok(ExitCode::SUCCESS)
}

/// Runs `tickwire demo`.
pub(super) fn demo(args: DemoArgs) -> CliResult {
    let duration = seconds(args.duration, "--duration")?;
    let pace = if args.speed == 0.0 {
        Pace::Max
    } else if args.speed > 0.0 && args.speed.is_finite() {
        Pace::Recorded { speed: args.speed }
    } else {
        return Err(CliError::Usage(format!(
            "--speed {} must be 0 (as fast as possible) or positive",
            args.speed
        )));
    };
    let faults = args.faults.faults()?;
    let cfg = super::conf::load(args.conf.as_deref())?;
    let opts = DemoOptions {
        captures: args.captures,
        synthetic_frames: args.synthetic_frames,
        pace,
        duration,
        faults,
        messages: !args.json,
    };
    let out = run_demo(&cfg, &opts)?;
    let report = Report::build(&out.live.run, rss::peak_rss_bytes());
    let live = LiveSection::of_demo(&out);
    print(&report, &live, args.json);
    if !out.positions_agree() {
        eprintln!("tickwire: risk's positions differ from the simulator's account");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
