//! `tickwire demo`: the venue simulator and the appliance in one process,
//! talking over loopback sockets exactly as they would to Binance, for a
//! bounded time. Afterwards the simulator's account is compared with risk's
//! positions and wire-to-wire latency is measured: the simulator's TSC
//! before it wrote a market-data frame to the time it received the order
//! that frame triggered (one process, one invariant TSC).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::app::session::{LiveOptions, LiveRunError, LiveRunOutput, run_live};
use tickwire_book::SnapshotPolicy;
use tickwire_capture::Capture;
use tickwire_capture::synth::synthetic_session;
use tickwire_config::Config;
use tickwire_config::schema::VenueConf;
use tickwire_core::hist::LatencySummary;
use tickwire_core::source::Pace;
use tickwire_core::types::{Market, Qty, SymbolName};
use tickwire_router::binance::{Credentials, client_order_id};
use tickwire_runtime::Ticker;
use venue_sim::{AccountView, Faults, SimConfig, SimStats, VenueSim, WireStamps};

/// Most orders whose wire-to-wire latency is measured.
const TRACE_ORDERS: usize = 1 << 16;

/// What the demo runs.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// Captures the simulator serves (`FILE` or `FILE@market`, one market);
    /// empty = the synthetic spot BTCUSDT session.
    pub captures: Vec<String>,
    /// Frames of the synthetic session.
    pub synthetic_frames: usize,
    /// The simulator's replay pace.
    pub pace: Pace,
    /// Longest run; the demo also ends once the simulator's replay is over
    /// and everything it sent was handled.
    pub duration: Duration,
    /// Fault switches of the simulator.
    pub faults: Faults,
    /// Print operator messages on stderr.
    pub messages: bool,
}

/// Why the demo failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The simulator could not start.
    #[error(transparent)]
    Sim(#[from] venue_sim::SimError),
    /// The captures do not suit the demo.
    #[error("{0}")]
    Capture(String),
    /// The appliance failed.
    #[error(transparent)]
    Live(#[from] LiveRunError),
}

/// One symbol's position on both sides.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PositionCheck {
    /// Venue symbol.
    pub symbol: String,
    /// Position in risk at the end.
    pub risk: Qty,
    /// Position in the simulator's account.
    pub venue: Qty,
}

/// Everything a demo produced.
#[derive(Debug)]
pub struct DemoOutput {
    /// The appliance's run.
    pub live: LiveRunOutput,
    /// The simulator's account at the end.
    pub account: AccountView,
    /// The simulator's counters at the end.
    pub sim: SimStats,
    /// Positions per symbol, risk vs simulator.
    pub positions: Vec<PositionCheck>,
    /// Frame written by the simulator -> order received by it, ns.
    pub wire_to_wire: LatencySummary,
    /// Orders traced but not found at the simulator (refused locally,
    /// or never sent).
    pub untraced_orders: u64,
}

impl DemoOutput {
    /// True when risk and the simulator agree on every position.
    pub fn positions_agree(&self) -> bool {
        self.positions.iter().all(|p| p.risk == p.venue)
    }
}

/// Defaults for the demo's venue when the configuration has no `[venue]`.
fn default_venue() -> VenueConf {
    VenueConf {
        market: Market::Spot,
        symbols: Vec::new(),
        ws_url: String::new(),
        rest_url: String::new(),
        key_file: String::new(),
        recv_window_ms: 5000,
        order_timeout_ms: 2000,
        poll_interval_ms: 200,
        breaker_threshold: 5,
        breaker_cooldown_ms: 1000,
        silence_timeout_ms: 5000,
        reconnect_base_ms: 50,
        reconnect_cap_ms: 1000,
    }
}

/// Market and symbols served by the captures (one market only).
fn served(opts: &DemoOptions) -> Result<(Market, Vec<SymbolName>), DemoError> {
    if opts.captures.is_empty() {
        let btc = SymbolName::new(b"BTCUSDT").ok_or_else(|| DemoError::Capture("symbol".into()))?;
        return Ok((Market::Spot, vec![btc]));
    }
    let cap = Capture::open(&opts.captures).map_err(|e| DemoError::Capture(e.to_string()))?;
    let mut market = None;
    let mut symbols = Vec::new();
    for s in cap.sources() {
        let (Some(m), Some(sym)) = (s.market, s.symbol) else {
            return Err(DemoError::Capture(format!(
                "{}: cannot tell its market and symbol; append @spot, @usdm or @coinm",
                s.path.display()
            )));
        };
        if market.is_some_and(|x| x != m) {
            return Err(DemoError::Capture(
                "the demo serves one market at a time: give captures of one market".into(),
            ));
        }
        market = Some(m);
        if !symbols.contains(&sym) {
            symbols.push(sym);
        }
    }
    let market = market.ok_or_else(|| DemoError::Capture("no capture given".into()))?;
    Ok((market, symbols))
}

/// The simulator's name for a market (it shares no types with tickwire).
fn sim_market(m: Market) -> venue_sim::Market {
    match m {
        Market::Spot => venue_sim::Market::Spot,
        Market::Usdm => venue_sim::Market::UsdM,
        Market::Coinm => venue_sim::Market::CoinM,
    }
}

fn random_hex(n: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
        .collect()
}

/// Wire-to-wire latency per traced order: the simulator's receipt of the
/// order minus its last frame write at or before the appliance received
/// the frame that triggered the order. Returns the summary (ns) and the
/// number of traced orders the simulator never saw.
fn wire_to_wire(
    trace: &[(tickwire_core::orders::OrderId, tickwire_core::types::Tsc)],
    session: u32,
    wire: &WireStamps,
    clock: &quanta::Clock,
) -> (LatencySummary, u64) {
    let mut received = std::collections::HashMap::with_capacity(wire.orders_received.len());
    for (cid, t) in &wire.orders_received {
        // A resend carries the same id; the first arrival counts.
        received.entry(cid.as_str()).or_insert(*t);
    }
    let mut hist = Histogram::<u64>::new_with_bounds(1, 1 << 40, 3)
        .expect("static histogram bounds are valid");
    let mut missing = 0;
    for (id, rx) in trace {
        let cid = client_order_id(session, *id);
        let Some(&got) = received.get(cid.as_str()) else {
            missing += 1;
            continue;
        };
        let i = wire.frames_sent.partition_point(|&s| s <= rx.0);
        let Some(&sent) = i.checked_sub(1).and_then(|i| wire.frames_sent.get(i)) else {
            missing += 1;
            continue;
        };
        hist.saturating_record(clock.delta_as_nanos(sent, got).max(1));
    }
    (LatencySummary::of(&hist), missing)
}

/// Runs the simulator and the appliance together; see the module docs.
pub fn run_demo(cfg: &Config, opts: &DemoOptions) -> Result<DemoOutput, DemoError> {
    let (market, symbols) = served(opts)?;
    let (api_key, api_secret) = (random_hex(64), random_hex(64));
    let mut sim_cfg = if opts.captures.is_empty() {
        let bytes = synthetic_session(7, Market::Spot, opts.synthetic_frames);
        let source = (
            "synthetic-spot-btcusdt".to_string(),
            bytes,
            Some(venue_sim::Market::Spot),
        );
        SimConfig::synthetic(vec![source], &api_key, &api_secret)
    } else {
        SimConfig::files(opts.captures.clone(), &api_key, &api_secret)
    };
    sim_cfg.pace = match opts.pace {
        Pace::Max => venue_sim::Pace::Max,
        Pace::Recorded { speed } => venue_sim::Pace::Recorded { speed },
    };
    sim_cfg.faults = opts.faults.clone();
    sim_cfg.max_take_pct = cfg.app.paper.max_take_pct;
    let sim = VenueSim::start(sim_cfg)?;

    let mut venue = cfg.app.venue.clone().unwrap_or_else(default_venue);
    venue.market = market;
    venue.symbols = symbols.iter().map(|s| s.as_str().to_string()).collect();
    // One simulator port serves every market, told apart by a path prefix.
    let ws_prefix = match market {
        Market::Spot => "",
        Market::Usdm => "/usdm",
        Market::Coinm => "/coinm",
    };
    venue.ws_url = format!("ws://{}{ws_prefix}", sim.ws_addr());
    venue.rest_url = format!("http://{}", sim.http_addr());
    venue.key_file.clear();
    let mut cfg = cfg.clone();
    cfg.app.venue = Some(venue);

    let credentials = Credentials::new(&api_key, &api_secret)
        .map_err(|e| DemoError::Capture(format!("demo key pair: {e}")))?;
    let session = 1;
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = end_watcher(&sim, Arc::clone(&stop));
    let live = run_live(
        &cfg,
        LiveOptions {
            credentials,
            session,
            duration: Some(opts.duration),
            trace_orders: TRACE_ORDERS,
            messages: opts.messages,
            snapshots: SnapshotPolicy {
                dir: None,
                interval_ms: 0,
                depth: cfg.app.report.depth,
            },
            tls: None,
        },
        Arc::clone(&stop),
    );
    watcher.stop();
    let live = match live {
        Ok(l) => l,
        Err(e) => {
            sim.stop();
            return Err(e.into());
        }
    };
    let account = sim.account();
    let stats = sim.stats();
    let wire = sim.wire_log();
    sim.stop();

    let positions = symbols
        .iter()
        .enumerate()
        .map(|(i, s)| PositionCheck {
            symbol: s.as_str().to_string(),
            risk: live.run.risk.positions.get(i).copied().unwrap_or_default(),
            venue: Qty(account
                .position(sim_market(market), &s.as_str())
                .to_i64_e8()),
        })
        .collect();
    let trace = live
        .router
        .as_ref()
        .map(|l| l.trace.as_slice())
        .unwrap_or_default();
    let (wire_to_wire, untraced_orders) = wire_to_wire(trace, session, &wire, &live.run.clock);
    Ok(DemoOutput {
        live,
        account,
        sim: stats,
        positions,
        wire_to_wire,
        untraced_orders,
    })
}

/// Ends the demo early once the simulator's replay is over and every
/// frame it queued was written (plus a grace period for the last orders).
fn end_watcher(sim: &VenueSim, stop: Arc<AtomicBool>) -> Ticker {
    let stats = sim.stats_handle();
    let mut finished_at: Option<Instant> = None;
    Ticker::start("tw-demo-end", Duration::from_millis(50), move || {
        let s = stats();
        let drained = s.replay_finished && s.frames_queued == s.frames_sent + s.frames_unsent;
        match (drained, finished_at) {
            (true, None) => finished_at = Some(Instant::now()),
            (true, Some(t)) if t.elapsed() >= Duration::from_millis(1500) => {
                stop.store(true, Ordering::Relaxed);
            }
            (false, _) => finished_at = None,
            _ => {}
        }
        !stop.load(Ordering::Relaxed)
    })
}
