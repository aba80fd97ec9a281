//! Wires a live run (`tickwire run`, `tickwire demo`): the WebSocket feed
//! on its own pinned glommio executor, REST depth snapshots on a pinned
//! helper thread,
//! the same md → book → risk stages as replay, and the router stage handing
//! orders to the REST order router on its own pinned thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::app::monitor::Monitor;
use tickwire_book::SnapshotPolicy;
use tickwire_config::Config;
use tickwire_config::schema::{StageName, VenueConf};
use tickwire_core::types::{Market, SymbolId, SymbolName};
use tickwire_md::OnFull;
use tickwire_md::feed::BackoffConfig;
use tickwire_md::feed::LiveSource;
use tickwire_md::feed::{self, FeedConfig, FeedStats, StreamKind, feed_channel, run_feed};
use tickwire_md::feed::{SnapshotClient, SnapshotConfig};
use tickwire_router::binance::OrderApi;
use tickwire_router::binance::{
    BinanceClient, ClientConfig, Credentials, Engine, EngineConfig, LiveConfig, LiveRouter,
};
use tickwire_router::{LiveRouterOutput, RemoteGateway};
use tickwire_runtime::executors::RunError;
use tickwire_runtime::pipeline::{self, RunOptions, RunOutput};

/// Choices of one live run that are not in the configuration files.
pub struct LiveOptions {
    /// API key pair (never logged).
    pub credentials: Credentials,
    /// Process session id, part of every client order id (`tw<session>-<n>`).
    pub session: u32,
    /// Stop by itself after this long (`None`: until `stop`).
    pub duration: Option<Duration>,
    /// Keep the frame receive TSC of this many first orders (wire-to-wire
    /// measurement); 0 = none.
    pub trace_orders: usize,
    /// Print operator messages (connects, reconnects, breaker) on stderr.
    pub messages: bool,
    /// Book snapshot policy.
    pub snapshots: SnapshotPolicy,
    /// TLS trust for `wss://` (`None`: the webpki root set).
    pub tls: Option<Arc<futures_rustls::rustls::ClientConfig>>,
}

/// Why a live run could not start or failed.
#[derive(Debug, thiserror::Error)]
pub enum LiveRunError {
    /// `conf/tickwire.toml` has no `[venue]`.
    #[error(
        "conf/tickwire.toml has no [venue] table: add one (see docs/operations.md) to say where to connect"
    )]
    NoVenue,
    /// A helper thread could not start.
    #[error("cannot start {what}: {message}")]
    Start {
        /// Which helper.
        what: &'static str,
        /// Why.
        message: String,
    },
    /// The pipeline failed.
    #[error(transparent)]
    Run(#[from] RunError),
}

/// What a live run did, beyond the replay report.
#[derive(Debug)]
pub struct LiveRunOutput {
    /// The stages' reports.
    pub run: RunOutput,
    /// The live order-entry thread's account (`None` if it never started).
    pub router: Option<LiveRouterOutput>,
    /// Feed connection counters at the end.
    pub feed: Arc<FeedStats>,
    /// The venue symbols, in id order.
    pub symbols: Vec<SymbolName>,
    /// The feed URL connected to.
    pub url: String,
    /// REST snapshots that failed after retries.
    pub snapshot_failures: u64,
}

/// The venue symbols of `venue`, upper-cased, in configuration order.
pub fn venue_symbols(venue: &VenueConf) -> Vec<SymbolName> {
    venue
        .symbols
        .iter()
        .filter_map(|s| SymbolName::new(s.to_ascii_uppercase().as_bytes()))
        .collect()
}

/// The combined-stream URL of `venue`: depth, bookTicker and trades of
/// every symbol.
pub fn feed_url(venue: &VenueConf) -> String {
    let lower: Vec<String> = venue
        .symbols
        .iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let names: Vec<&str> = lower.iter().map(String::as_str).collect();
    let path = feed::combined_path(
        venue.market,
        &names,
        &[StreamKind::Depth, StreamKind::BookTicker, StreamKind::Trade],
    );
    format!("{}{}", venue.ws_url.trim_end_matches('/'), path)
}

fn snapshot_config(venue: &VenueConf, core: usize) -> SnapshotConfig {
    let base = Some(venue.rest_url.trim_end_matches('/').to_string());
    let mut c = SnapshotConfig {
        core: Some(core),
        backoff: BackoffConfig {
            base: Duration::from_millis(venue.reconnect_base_ms),
            cap: Duration::from_millis(venue.reconnect_cap_ms),
            ..BackoffConfig::default()
        },
        ..SnapshotConfig::default()
    };
    match venue.market {
        Market::Spot => c.spot_base = base,
        Market::Usdm => c.usdm_base = base,
        Market::Coinm => c.coinm_base = base,
    }
    c
}

fn router_engine(venue: &VenueConf, symbols: &[SymbolName], opts: &LiveOptions) -> Engine {
    let mut client = ClientConfig::new(&venue.rest_url);
    client.recv_window_ms = venue.recv_window_ms;
    client.call_timeout = Duration::from_millis(venue.order_timeout_ms);
    client.api = OrderApi::of(venue.market);
    let ids = symbols
        .iter()
        .enumerate()
        .map(|(i, s)| (SymbolId(i as u16), *s))
        .collect();
    let mut conf = EngineConfig::new(opts.session, ids);
    conf.breaker_threshold = venue.breaker_threshold;
    conf.breaker_cooldown = Duration::from_millis(venue.breaker_cooldown_ms);
    Engine::new(BinanceClient::new(client, &opts.credentials), conf)
}

/// Runs the appliance against the venue in `cfg.app.venue` until `stop`
/// is set or `opts.duration` passes, then cancels every working order,
/// drains and reports.
pub fn run_live(
    cfg: &Config,
    opts: LiveOptions,
    stop: Arc<AtomicBool>,
) -> Result<LiveRunOutput, LiveRunError> {
    let venue = cfg.app.venue.as_ref().ok_or(LiveRunError::NoVenue)?;
    let symbols = venue_symbols(venue);
    let placement = cfg.placement();
    let router_core = placement.core_of(StageName::Router);
    let threads = &cfg.affinity.threads;

    let snapshots = SnapshotClient::spawn(snapshot_config(
        venue,
        threads.snapshot.unwrap_or(router_core),
    ))
    .map_err(|e| LiveRunError::Start {
        what: "the REST snapshot thread",
        message: e.to_string(),
    })?;
    let (feed_tx, feed_rx) = feed_channel(4096, 64 << 10);
    let mut source = LiveSource::new(Some(snapshots));
    let conn = source.add_connection(feed_rx, venue.market, symbols.clone());
    let snapshot_failures = source.snapshot_failures();
    let url = feed_url(venue);
    let mut feed_cfg = FeedConfig::new(url.clone(), conn);
    feed_cfg.silence_timeout = Duration::from_millis(venue.silence_timeout_ms);
    feed_cfg.ping_interval = feed_cfg.silence_timeout / 3;
    feed_cfg.backoff = BackoffConfig {
        base: Duration::from_millis(venue.reconnect_base_ms),
        cap: Duration::from_millis(venue.reconnect_cap_ms),
        ..BackoffConfig::default()
    };
    feed_cfg.tls = opts.tls.clone();

    let rings = &cfg.affinity.rings;
    let (cmd_tx, cmd_rx) = rtrb::RingBuffer::new(rings.risk_to_router);
    let (rep_tx, rep_rx) = rtrb::RingBuffer::new(rings.router_to_risk);
    let router = LiveRouter::spawn(
        router_engine(venue, &symbols, &opts),
        LiveConfig {
            core: threads.router.unwrap_or(router_core),
            poll_interval: (venue.poll_interval_ms > 0)
                .then(|| Duration::from_millis(venue.poll_interval_ms)),
        },
        cmd_rx,
        rep_tx,
    )
    .map_err(|e| LiveRunError::Start {
        what: "the order router thread",
        message: e.to_string(),
    })?;
    let router_shared = router.shared();
    let (remote, router_account) = RemoteGateway::new(router, cmd_tx, rep_rx, opts.trace_orders);

    let run_opts = RunOptions {
        // Live data cannot wait: a full ring drops and resyncs.
        on_full: OnFull::DropAndResync,
        snapshots: opts.snapshots.clone(),
        progress: false,
    };
    let instruments: Vec<(Market, SymbolName)> =
        symbols.iter().map(|s| (venue.market, *s)).collect();
    let built = pipeline::build_with(
        cfg,
        source,
        remote,
        &instruments,
        &run_opts,
        Arc::clone(&stop),
    );

    let md_status = Arc::clone(&built.md_status);
    let feed_stats = Arc::new(FeedStats::default());
    let task_stats = Arc::clone(&feed_stats);
    let feed_stop = Arc::clone(&stop);
    // The feed client gets its own glommio executor: it sleeps in
    // io_uring until the socket has data, so it never waits on the md
    // executor's spinning (see docs/architecture.md, "live feed").
    let feed_core = threads
        .feed
        .unwrap_or_else(|| placement.core_of(StageName::Md));
    let feed = glommio::LocalExecutorBuilder::new(glommio::Placement::Fixed(feed_core))
        .name("tw-feed")
        .spawn(move || run_feed(feed_cfg, feed_tx, task_stats, feed_stop))
        .map_err(|e| LiveRunError::Start {
            what: "the feed executor",
            message: format!("core {feed_core}: {e}"),
        })?;
    let monitor = Monitor::start(
        Arc::clone(&feed_stats),
        router_shared,
        (md_status, symbols.clone(), Arc::clone(&snapshot_failures)),
        opts.duration,
        Arc::clone(&stop),
        opts.messages,
    );
    let result = pipeline::run_built(cfg, built, &run_opts);
    // The feed task and the monitor end on the stop flag (the feed within
    // its 100 ms read slice).
    stop.store(true, Ordering::Relaxed);
    monitor.stop();
    if feed.join().is_err() {
        return Err(LiveRunError::Start {
            what: "the feed executor",
            message: "it panicked".into(),
        });
    }
    Ok(LiveRunOutput {
        run: result?,
        router: router_account.take(),
        feed: feed_stats,
        symbols,
        url,
        snapshot_failures: snapshot_failures.load(Ordering::Relaxed),
    })
}
