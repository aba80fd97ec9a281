//! Wires the whole appliance for one run: rings sized from
//! `conf/affinity.toml`, stages built from `conf/tickwire.toml`, each stage
//! placed on its configured executor.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use quanta::Clock;

use crate::executors::{self, ExecutorPlan, RunError};
use crate::hosted::{Hosted, ReportSlot, host};
use tickwire_book::{BookReport, BookRings, BookStage, SnapshotPolicy};
use tickwire_config::Config;
use tickwire_config::schema::{StageName, StrategyKind};
use tickwire_core::source::FrameSource;
use tickwire_core::types::{Market, SymbolName};
use tickwire_md::MdStatus;
use tickwire_md::{MdReport, MdStage, OnFull};
use tickwire_risk::RiskEngine;
use tickwire_risk::{RiskReport, RiskRings, RiskStage};
use tickwire_router::OrderGateway;
use tickwire_router::PaperVenue;
use tickwire_router::{RouterReport, RouterRings, RouterStage};
use tickwire_strategy::{Idle, ImbalanceTaker, Strategy};

/// Run-time choices that are not configuration.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// What md does on a full md -> book ring.
    pub on_full: OnFull,
    /// Book snapshot policy.
    pub snapshots: SnapshotPolicy,
    /// Show a progress bar on stderr for runs longer than a second.
    pub progress: bool,
}

/// Everything a run produced.
#[derive(Debug)]
pub struct RunOutput {
    /// Market-data stage report.
    pub md: MdReport,
    /// Book stage report.
    pub book: BookReport,
    /// Risk stage report.
    pub risk: RiskReport,
    /// Router stage report.
    pub router: RouterReport,
    /// Wall time of the run.
    pub wall: Duration,
    /// The clock every stage stamped with (converts TSC to ns).
    pub clock: Clock,
}

/// Where the four stages leave their reports.
pub struct ReportSlots {
    /// Market data.
    pub md: ReportSlot<MdReport>,
    /// Books.
    pub book: ReportSlot<BookReport>,
    /// Risk.
    pub risk: ReportSlot<RiskReport>,
    /// Router.
    pub router: ReportSlot<RouterReport>,
}

/// The four stages of one run, built and wired but not yet placed.
pub struct Built {
    /// Stages in [`StageName::ALL`] order: md, book, risk, router.
    pub stages: [Box<dyn Hosted>; 4],
    /// Their report slots.
    pub reports: ReportSlots,
    /// Frames taken so far, updated by md now and then.
    pub progress: Arc<AtomicU64>,
    /// The clock every stage stamps with.
    pub clock: Clock,
    /// Total frames of the source, when known.
    pub total_frames: Option<u64>,
    /// Sync state of every book, published by md.
    pub md_status: Arc<MdStatus>,
}

/// Builds every stage and the rings between them, with the paper venue.
pub fn build<S: FrameSource + 'static>(
    cfg: &Config,
    source: S,
    opts: &RunOptions,
    stop: Arc<AtomicBool>,
) -> Built {
    build_with(
        cfg,
        source,
        PaperVenue::new(&cfg.app.paper),
        &[],
        opts,
        stop,
    )
}

/// Builds every stage and the rings between them, routing orders to
/// `venue`; `instruments` are registered first, in order, so they get ids
/// 0, 1, .. (what a live router's symbol map expects).
pub fn build_with<S: FrameSource + 'static, V: OrderGateway>(
    cfg: &Config,
    source: S,
    venue: V,
    instruments: &[(Market, SymbolName)],
    opts: &RunOptions,
    stop: Arc<AtomicBool>,
) -> Built {
    let rings = &cfg.affinity.rings;
    let (md_tx, md_rx) = rtrb::RingBuffer::new(rings.md_to_book);
    let (req_tx, req_rx) = rtrb::RingBuffer::new(rings.book_to_md);
    let (risk_tx, risk_rx) = rtrb::RingBuffer::new(rings.book_to_risk);
    let (mkt_tx, mkt_rx) = rtrb::RingBuffer::new(rings.book_to_router);
    let (ord_tx, ord_rx) = rtrb::RingBuffer::new(rings.risk_to_router);
    let (exec_tx, exec_rx) = rtrb::RingBuffer::new(rings.router_to_risk);
    let (fill_tx, fill_rx) = rtrb::RingBuffer::new(rings.risk_to_book);

    let clock = Clock::new();
    let progress = Arc::new(AtomicU64::new(0));
    let total_frames = source.progress().1;
    let app = &cfg.app;

    let strategy: Box<dyn Strategy + Send> = match app.strategy.kind {
        StrategyKind::Imbalance => Box::new(ImbalanceTaker::new(&app.strategy, 16)),
        StrategyKind::Off => Box::new(Idle),
    };
    let ticks = app
        .symbol
        .iter()
        .filter_map(|s| SymbolName::new(s.name.as_bytes()).map(|n| (s.market, n, s.tick)))
        .collect();

    let mut md = MdStage::new(
        source,
        md_tx,
        req_rx,
        opts.on_full,
        clock.clone(),
        stop,
        progress.clone(),
    );
    md.register(instruments);
    let md_status = md.status();
    let (md, md_report) = host(md);
    let (book, book_report) = host(BookStage::new(
        BookRings {
            input: md_rx,
            requests: req_tx,
            risk: risk_tx,
            market: mkt_tx,
            fills: fill_rx,
        },
        strategy,
        ticks,
        opts.snapshots.clone(),
        std::time::Duration::from_millis(app.strategy.max_data_age_ms),
        clock.clone(),
    ));
    let (risk, risk_report) = host(RiskStage::new(
        RiskRings {
            input: risk_rx,
            router: ord_tx,
            execs: exec_rx,
            fills: fill_tx,
        },
        RiskEngine::new(&app.risk),
        clock.clone(),
    ));
    let (router, router_report) = host(RouterStage::new(
        RouterRings {
            input: ord_rx,
            market: mkt_rx,
            execs: exec_tx,
        },
        venue,
        clock.clone(),
    ));
    Built {
        stages: [md, book, risk, router],
        reports: ReportSlots {
            md: md_report,
            book: book_report,
            risk: risk_report,
            router: router_report,
        },
        progress,
        clock,
        total_frames,
        md_status,
    }
}

/// Collects the four stage reports into a [`RunOutput`].
pub fn collect(reports: &ReportSlots, wall: Duration, clock: Clock) -> Result<RunOutput, RunError> {
    let missing = |stage| RunError::NoReport { stage };
    Ok(RunOutput {
        md: reports.md.take().ok_or(missing(StageName::Md))?,
        book: reports.book.take().ok_or(missing(StageName::Book))?,
        risk: reports.risk.take().ok_or(missing(StageName::Risk))?,
        router: reports.router.take().ok_or(missing(StageName::Router))?,
        wall,
        clock,
    })
}

/// Builds and runs the pipeline until `source` ends or `stop` is set.
pub fn run<S: FrameSource + 'static>(
    cfg: &Config,
    source: S,
    opts: RunOptions,
    stop: Arc<AtomicBool>,
) -> Result<RunOutput, RunError> {
    let built = build(cfg, source, &opts, stop);
    run_built(cfg, built, &opts)
}

/// Places built stages on their executors, runs them to the end and
/// collects the reports.
pub fn run_built(cfg: &Config, built: Built, opts: &RunOptions) -> Result<RunOutput, RunError> {
    let Built {
        stages,
        reports,
        progress,
        clock,
        total_frames,
        ..
    } = built;
    let mut stages = stages.map(Some);
    let plans = cfg
        .placement()
        .executors
        .into_iter()
        .map(|e| ExecutorPlan {
            core: e.core,
            idle: e.idle,
            park_us: e.park_us,
            stages: e
                .stages
                .iter()
                .filter_map(|s| {
                    let i = StageName::ALL.iter().position(|x| x == s)?;
                    stages[i].take()
                })
                .collect(),
        })
        .collect();

    let started = Instant::now();
    let progress_thread = opts
        .progress
        .then(|| ProgressThread::start(started, total_frames, progress.clone()));
    let ran = executors::run(plans, Arc::new(AtomicBool::new(false)));
    if let Some(p) = progress_thread {
        p.stop();
    }
    ran?;
    collect(&reports, started.elapsed(), clock)
}

/// A stderr progress bar on its own thread, shown only once a run passes
/// one second; it wakes ten times a second and never touches the stages.
struct ProgressThread {
    stop: Arc<AtomicBool>,
    handle: std::thread::JoinHandle<()>,
}

impl ProgressThread {
    fn start(started: Instant, total: Option<u64>, frames: Arc<AtomicU64>) -> ProgressThread {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut bar: Option<indicatif::ProgressBar> = None;
            while !flag.load(Ordering::Relaxed) {
                std::thread::park_timeout(Duration::from_millis(100));
                if started.elapsed() < Duration::from_secs(1) {
                    continue;
                }
                let b = bar.get_or_insert_with(|| {
                    let b = indicatif::ProgressBar::with_draw_target(
                        total,
                        indicatif::ProgressDrawTarget::stderr(),
                    );
                    b.set_style(
                        indicatif::ProgressStyle::with_template(
                            "{elapsed_precise} [{bar:40}] {pos}/{len} frames ({per_sec})",
                        )
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                    );
                    b
                });
                b.set_position(frames.load(Ordering::Relaxed));
            }
            if let Some(b) = bar {
                b.finish_and_clear();
            }
        });
        ProgressThread { stop, handle }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.thread().unpark();
        let _ = self.handle.join();
    }
}
