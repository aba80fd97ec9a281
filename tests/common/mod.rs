//! Shared helpers for the integration tests.
#![allow(dead_code)]

pub(crate) mod alloc;
pub(crate) mod self_signed;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};

use tickwire_book::SnapshotPolicy;
use tickwire_capture::Capture;
use tickwire_capture::ReplaySource;
use tickwire_config::{self as config, Config};
use tickwire_core::source::Pace;
use tickwire_md::OnFull;
use tickwire_runtime::pipeline::{self, RunOptions};
use tickwire_telemetry::Report;

/// `../shared/marketdata/binance`, or `None` (skip) when it is absent and
/// `TICKWIRE_REAL_DATA` is not set; with it set, absence is a failure.
pub(crate) fn marketdata() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/marketdata/binance"
    ));
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var_os("TICKWIRE_REAL_DATA").is_some() {
        panic!(
            "TICKWIRE_REAL_DATA is set but {} does not exist: the real-data suite needs ../shared/marketdata beside the repository",
            dir.display()
        );
    }
    eprintln!("skipping: ../shared/marketdata not found");
    None
}

/// Pipelines pin executors to the same cores: run one at a time.
pub(crate) fn pipeline_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A shipped affinity layout with the shipped tickwire.toml.
pub(crate) fn shipped(affinity: &str) -> Config {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("conf");
    config::load_files(&root.join(affinity), &root.join("tickwire.toml"))
        .unwrap_or_else(|e| panic!("shipped config {affinity}: {e}"))
}

/// Run options for tests: no book snapshots, no progress bar.
pub(crate) fn test_options(on_full: OnFull) -> RunOptions {
    RunOptions {
        on_full,
        snapshots: SnapshotPolicy {
            dir: None,
            interval_ms: 0,
            depth: 10,
        },
        progress: false,
    }
}

/// Replays `capture` at max pace through the whole pipeline.
pub(crate) fn replay(cfg: &Config, capture: Capture) -> Report {
    replay_with(cfg, capture, OnFull::Wait)
}

/// Same, with a chosen full-ring policy.
pub(crate) fn replay_with(cfg: &Config, capture: Capture, on_full: OnFull) -> Report {
    let _guard = pipeline_lock();
    let opts = test_options(on_full);
    let out = pipeline::run(
        cfg,
        ReplaySource::new(capture, Pace::Max),
        opts,
        Arc::new(AtomicBool::new(false)),
    )
    .expect("pipeline run");
    Report::build(&out, 0)
}

/// The section of `symbol` on `market` in a report.
pub(crate) fn section<'a>(
    r: &'a Report,
    market: &str,
    symbol: &str,
) -> &'a tickwire_telemetry::SymbolSection {
    r.symbols
        .iter()
        .find(|s| s.market == market && s.symbol == symbol)
        .unwrap_or_else(|| panic!("no {market} {symbol} in report: {:?}", r.symbols))
}

/// Runs every stage's `poll` round-robin on this thread (md, book, risk,
/// router: the order of `StageName::ALL`) until all are done. Deterministic
/// interleaving for tests that need bounds on what is in flight.
pub(crate) fn replay_inline(
    cfg: &Config,
    capture: Capture,
) -> tickwire_runtime::pipeline::RunOutput {
    run_inline(cfg, ReplaySource::new(capture, Pace::Max))
}

/// [`replay_inline`] with any frame source.
pub(crate) fn run_inline<S: tickwire_core::source::FrameSource + 'static>(
    cfg: &Config,
    source: S,
) -> tickwire_runtime::pipeline::RunOutput {
    use tickwire_core::stage::Progress;
    let opts = test_options(OnFull::Wait);
    let built = pipeline::build(cfg, source, &opts, Arc::new(AtomicBool::new(false)));
    let clock = built.clock.clone();
    let mut stages = built.stages.map(Some);
    let started = std::time::Instant::now();
    while stages.iter().any(Option::is_some) {
        for slot in stages.iter_mut() {
            let Some(stage) = slot else { continue };
            if stage.poll().expect("stage poll") == Progress::Done
                && let Some(s) = slot.take()
            {
                s.finish();
            }
        }
    }
    pipeline::collect(&built.reports, started.elapsed(), clock).expect("every stage reports")
}
