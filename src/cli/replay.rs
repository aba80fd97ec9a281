//! `tickwire replay`: recorded feeds through the whole pipeline.

use super::error::{CliError, CliResult};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Args;

use super::{OnFullArg, PaceArg};
use tickwire_book::SnapshotPolicy;
use tickwire_capture::Capture;
use tickwire_capture::ReplaySource;
use tickwire_core::source::Pace;
use tickwire_md::OnFull;
use tickwire_runtime::pipeline::{self, RunOptions};
use tickwire_telemetry::{Report, stage_histograms};
use tickwire_telemetry::{hgrm, rss, svg};

/// Frames per source of the built-in synthetic session.
pub(super) const SYNTHETIC_FRAMES: usize = 50_000;

/// Arguments of `tickwire replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Capture files (`FILE` or `FILE@spot|usdm|coinm`); none = synthetic session.
    pub captures: Vec<String>,
    /// Replay pace.
    #[arg(long, value_enum, default_value_t = PaceArg::Max)]
    pub pace: PaceArg,
    /// Speed-up factor with `--pace recorded`.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Write HdrHistogram files (`.hgrm`, `.hlog`) per stage and a
    /// `latency.svg` picture into this directory.
    #[arg(long)]
    pub hgrm: Option<PathBuf>,
    /// Configuration directory (default: built-in configuration).
    #[arg(long)]
    pub conf: Option<PathBuf>,
    /// What md does when the md -> book ring is full.
    #[arg(long, value_enum, default_value_t = OnFullArg::Wait)]
    pub on_full: OnFullArg,
    /// Write book snapshots here (default: `report.snapshot_dir` from the
    /// configuration); `--no-snapshots` disables them.
    #[arg(long)]
    pub snapshot_dir: Option<PathBuf>,
    /// Do not write book snapshots.
    #[arg(long)]
    pub no_snapshots: bool,
    /// Seed of the synthetic session.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Frames per market of the synthetic session.
    #[arg(long, default_value_t = SYNTHETIC_FRAMES)]
    pub synthetic_frames: usize,
}

/// Opens the captures named, or builds the synthetic session.
pub(super) fn open_capture(args: &ReplayArgs) -> Result<Capture, CliError> {
    if args.captures.is_empty() {
        Ok(tickwire_capture::synth::synthetic_capture(
            args.seed,
            args.synthetic_frames,
        )?)
    } else {
        Ok(Capture::open(&args.captures)?)
    }
}

/// Runs `tickwire replay`.
pub(super) fn run(args: ReplayArgs) -> CliResult {
    if !(args.speed > 0.0 && args.speed.is_finite()) {
        return Err(CliError::Usage(format!(
            "--speed {} must be a positive number",
            args.speed
        )));
    }
    let cfg = super::conf::load(args.conf.as_deref())?;
    let capture = open_capture(&args)?;
    for s in capture.sources() {
        if let Some(t) = &s.truncated {
            eprintln!("warning: {}: {t}", s.path.display());
        }
        if s.malformed_lines > 0 {
            eprintln!(
                "warning: {}: {} malformed lines skipped (first: line {:?})",
                s.path.display(),
                s.malformed_lines,
                s.first_malformed
            );
        }
    }
    let pace = match args.pace {
        PaceArg::Max => Pace::Max,
        PaceArg::Recorded => Pace::Recorded { speed: args.speed },
    };
    let snapshot_dir = if args.no_snapshots {
        None
    } else {
        Some(
            args.snapshot_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(&cfg.app.report.snapshot_dir)),
        )
    };
    let opts = RunOptions {
        on_full: match args.on_full {
            OnFullArg::Wait => OnFull::Wait,
            OnFullArg::Drop => OnFull::DropAndResync,
        },
        snapshots: SnapshotPolicy {
            dir: snapshot_dir,
            interval_ms: cfg.app.report.snapshot_interval_s.saturating_mul(1000),
            depth: cfg.app.report.depth,
        },
        progress: !args.json,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    // Ctrl-C ends intake; the pipeline drains and the report is printed.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed));
    let out = pipeline::run(&cfg, ReplaySource::new(capture, pace), opts, stop)?;
    let report = Report::build(&out, rss::peak_rss_bytes());
    if let Some(dir) = &args.hgrm {
        let hists = stage_histograms(&out);
        let files = hgrm::write_dir(dir, &hists, out.wall).map_err(|source| CliError::Io {
            path: dir.clone(),
            source,
        })?;
        let picture = dir.join("latency.svg");
        std::fs::write(
            &picture,
            svg::percentile_plot("tickwire replay latency", &hists),
        )
        .map_err(|source| CliError::Io {
            path: picture.clone(),
            source,
        })?;
        if !args.json {
            eprintln!(
                "wrote {} HdrHistogram files and {}",
                files.len(),
                picture.display()
            );
        }
    }
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    Ok(ExitCode::SUCCESS)
}
