//! `venue_sim`: an independent Binance venue simulator (spot, USD-M and
//! COIN-M futures) written from Binance's published API documentation, to
//! serve as an oracle in tickwire's end-to-end tests.
//!
//! It shares no code with the appliance: its own capture reader, decimal
//! type, order book, matching, order-status enum, HMAC check (`hmac` +
//! `sha2`) and JSON (`serde_json`). Plain std threads and locks: it is a
//! test tool, not a hot path. See `PROTOCOL.md` for every endpoint, stream
//! and error it serves.
//!
//! ```no_run
//! use venue_sim::{SimConfig, VenueSim};
//! let bytes = std::fs::read("session.txt").unwrap();
//! let cfg = SimConfig::synthetic(vec![("demo".into(), bytes, None)], "key", "secret");
//! let sim = VenueSim::start(cfg).unwrap();
//! println!("http://{} ws://{}", sim.http_addr(), sim.ws_addr());
//! sim.stop();
//! ```

mod auth;
mod book;
pub mod cli;
mod dec;
mod engine;
mod feed;
mod http;
mod limits;
mod source;
mod userdata;
mod ws;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

pub use auth::sign;
pub use cli::{FaultArgs, SimCliError, VenueSimArgs, run_cli, run_cli_with_sources};
pub use dec::Dec;

/// A Binance market.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Market {
    /// Spot (`/api/v3`, `stream.binance.com`).
    Spot,
    /// USDⓈ-M futures (`/fapi`, `fstream.binance.com`).
    UsdM,
    /// COIN-M futures (`/dapi`, `dstream.binance.com`).
    CoinM,
}

impl Market {
    /// `spot`, `usdm` or `coinm`.
    pub fn name(&self) -> &'static str {
        match self {
            Market::Spot => "spot",
            Market::UsdM => "usdm",
            Market::CoinM => "coinm",
        }
    }

    /// Parses `spot`, `usdm` or `coinm`.
    pub fn parse(s: &str) -> Option<Market> {
        match s {
            "spot" => Some(Market::Spot),
            "usdm" => Some(Market::UsdM),
            "coinm" => Some(Market::CoinM),
            _ => None,
        }
    }

    /// True for the futures markets.
    pub fn futures(&self) -> bool {
        !matches!(self, Market::Spot)
    }
}

/// Replay pace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pace {
    /// As fast as the slowest open market-data connection reads.
    Max,
    /// At the capture's receive-time spacing divided by `speed`.
    Recorded {
        /// Speed-up factor (> 0).
        speed: f64,
    },
}

/// The three routed USD-M WebSocket paths (2026).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UsdmRoute {
    /// `/public`: `@depth*`, `@bookTicker`.
    Public,
    /// `/market`: `@aggTrade`, `@markPrice`, `@kline_*`, ...
    Market,
    /// `/private`: user data (`ORDER_TRADE_UPDATE`, `ACCOUNT_UPDATE`, ...).
    Private,
}

impl UsdmRoute {
    /// Parses `public`, `market` or `private`.
    pub fn parse(s: &str) -> Option<UsdmRoute> {
        match s {
            "public" => Some(UsdmRoute::Public),
            "market" => Some(UsdmRoute::Market),
            "private" => Some(UsdmRoute::Private),
            _ => None,
        }
    }
}

/// A depth-endpoint failure fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthFault {
    /// How many depth requests fail (the first ones).
    pub count: u32,
    /// HTTP status: 500, 503, 418 or 429.
    pub status: u16,
    /// `Retry-After` seconds sent with 418/429.
    pub retry_after_s: u32,
}

/// Fault switches, all off by default. Every injected fault is counted in
/// [`SimStats`].
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Close the first market-data connection after it sent this many
    /// frames (TCP shutdown, no close frame). Once.
    pub drop_feed_after: Option<u64>,
    /// The Nth depth diff (1-based, whole replay) is applied to the
    /// simulator's book but sent to nobody.
    pub skip_diff: Option<u64>,
    /// The first market-data connection to have sent N frames stops
    /// sending and stops answering pings (socket kept open). Once.
    pub stall_after: Option<u64>,
    /// Like `stall_after` but pings keep being answered: a frozen stream
    /// that looks alive. Once.
    pub stall_keep_pings_after: Option<u64>,
    /// Drop the first USD-M connection on this route after N frames
    /// (for `Private`: N user events). Once.
    pub usdm_drop: Option<(UsdmRoute, u64)>,
    /// Stall (no data, no pongs) the first USD-M connection on this route
    /// after N frames. Once.
    pub usdm_stall: Option<(UsdmRoute, u64)>,
    /// Percent of new orders answered `503 -1001` (not placed).
    pub order_5xx_pct: u8,
    /// Percent of new orders answered `429 -1003` + `Retry-After` (not placed).
    pub order_429_pct: u8,
    /// Percent of new orders placed but never answered.
    pub order_no_answer_pct: u8,
    /// The Nth new order is answered `418 -1003` + `Retry-After: 2` (not
    /// placed). Once.
    pub ban_after_orders: Option<u64>,
    /// From the Nth new order on, every new order is answered 503 (not placed).
    pub order_5xx_from: Option<u64>,
    /// From the Nth new order on, every new order is answered `200` with an
    /// HTML page (`Content-Type: text/html`, not placed).
    pub order_html_from: Option<u64>,
    /// More new orders than this in 10 s get `429 -1015` (overrides the
    /// market's documented limit; `None` = the documented limit).
    pub max_orders_10s: Option<u32>,
    /// The first depth requests fail with this status.
    pub depth_fail: Option<DepthFault>,
    /// Depth answers carry this many levels per side (beyond the book,
    /// padded at one tick spacing; `limit` ignored).
    pub depth_huge_levels: Option<usize>,
    /// Close the first user-data connection (WS-API subscription or futures
    /// listenKey stream) after it sent this many events. Once.
    pub user_stream_drop_after: Option<u64>,
    /// Every listenKey expires this long after creation, keep-alives or not.
    pub listen_key_expire_early: Option<Duration>,
    /// Seed of the fault dice (ChaCha8).
    pub seed: u64,
}

/// Filter overrides of one symbol (all others are derived from the data).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SymbolRules {
    /// Symbol, upper case.
    pub symbol: String,
    /// `PRICE_FILTER.tickSize`.
    pub tick_size: Option<String>,
    /// `LOT_SIZE.stepSize` (also `minQty`).
    pub step_size: Option<String>,
    /// `NOTIONAL.minNotional` (spot) / `MIN_NOTIONAL.notional` (futures).
    pub min_notional: Option<String>,
}

/// An in-memory source: `(name, bytes (gzip or plain), market override)`.
pub type MemorySource = (String, Vec<u8>, Option<Market>);

/// Simulator configuration.
#[derive(Clone)]
pub struct SimConfig {
    /// Capture files: `PATH` or `PATH@spot|usdm|coinm`.
    pub sources: Vec<String>,
    /// In-memory sources (same text format as the files).
    pub memory_sources: Vec<MemorySource>,
    /// Replay pace.
    pub pace: Pace,
    /// API key clients must send in `X-MBX-APIKEY`.
    pub api_key: String,
    /// Secret the signatures are checked with (never logged).
    pub api_secret: String,
    /// Fault switches.
    pub faults: Faults,
    /// Address to bind (keep it on loopback).
    pub bind: IpAddr,
    /// REST port (0 = any free port).
    pub http_port: u16,
    /// WebSocket port (0 = any free port).
    pub ws_port: u16,
    /// Percent of a level's quantity one marketable order may take.
    pub max_take_pct: u32,
    /// Order answers never show fills: the new-order answer is the
    /// acceptance (`NEW`, nothing executed) and fills are only told by the
    /// user-data stream (order queries still answer truthfully).
    pub fills_only_on_stream: bool,
    /// Which USD-M path carries raw `@trade` (default `/market`).
    pub usdm_trade_route: UsdmRoute,
    /// listenKey validity after creation or keep-alive (default 60 min).
    pub listen_key_validity: Duration,
    /// Interval of the server's WebSocket pings (default 20 s).
    pub ping_interval: Duration,
    /// A client that has not answered a ping for this long is dropped
    /// (default 60 s).
    pub pong_timeout: Duration,
    /// Starting balance of every asset (spot) and of each futures
    /// margin asset, as a decimal string (default `1000000`).
    pub initial_balance: String,
    /// Per-asset starting balances overriding `initial_balance`.
    pub initial_balances: Vec<(String, String)>,
    /// Filter overrides.
    pub symbol_rules: Vec<SymbolRules>,
    /// How long a 418 ban lasts (default 120 s, Binance's minimum).
    pub ban_duration: Duration,
    /// Test aid, not a Binance behaviour: the replay pauses right after an
    /// instrument's first snapshot line until the depth endpoint has
    /// answered for it once, so a client syncs exactly at the capture's
    /// snapshot (deterministic ground-truth counts). Default off.
    pub hold_at_snapshot: bool,
}

impl std::fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimConfig")
            .field("sources", &self.sources)
            .field(
                "memory_sources",
                &self
                    .memory_sources
                    .iter()
                    .map(|(n, b, m)| (n, b.len(), m))
                    .collect::<Vec<_>>(),
            )
            .field("pace", &self.pace)
            .field("api_key", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .field("faults", &self.faults)
            .field("bind", &self.bind)
            .field("http_port", &self.http_port)
            .field("ws_port", &self.ws_port)
            .field("max_take_pct", &self.max_take_pct)
            .field("fills_only_on_stream", &self.fills_only_on_stream)
            .field("usdm_trade_route", &self.usdm_trade_route)
            .field("listen_key_validity", &self.listen_key_validity)
            .finish_non_exhaustive()
    }
}

impl SimConfig {
    /// A simulator serving in-memory `sources` as fast as clients read, on
    /// 127.0.0.1 with free ports, no faults, documented defaults.
    pub fn synthetic(sources: Vec<MemorySource>, api_key: &str, api_secret: &str) -> SimConfig {
        SimConfig {
            sources: Vec::new(),
            memory_sources: sources,
            pace: Pace::Max,
            api_key: api_key.to_string(),
            api_secret: api_secret.to_string(),
            faults: Faults::default(),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            http_port: 0,
            ws_port: 0,
            max_take_pct: 100,
            fills_only_on_stream: false,
            usdm_trade_route: UsdmRoute::Market,
            listen_key_validity: Duration::from_secs(3600),
            ping_interval: Duration::from_secs(20),
            pong_timeout: Duration::from_secs(60),
            initial_balance: "1000000".to_string(),
            initial_balances: Vec::new(),
            symbol_rules: Vec::new(),
            ban_duration: Duration::from_secs(120),
            hold_at_snapshot: false,
        }
    }

    /// Like [`SimConfig::synthetic`] for capture files (`PATH[@market]`).
    pub fn files(paths: Vec<String>, api_key: &str, api_secret: &str) -> SimConfig {
        let mut c = SimConfig::synthetic(Vec::new(), api_key, api_secret);
        c.sources = paths;
        c
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A source could not be loaded.
    #[error("venue simulator cannot load source {name}: {reason}")]
    Source {
        /// Path or in-memory name.
        name: String,
        /// What went wrong.
        reason: String,
    },
    /// No source was given.
    #[error("venue simulator needs at least one source (capture file or in-memory text)")]
    NoSource,
    /// A configuration value is out of range.
    #[error("venue simulator configuration: {0}")]
    Config(String),
    /// A port could not be bound.
    #[error("venue simulator cannot bind {what} on {addr}: {reason}; pick another port or use 0")]
    Bind {
        /// Which server.
        what: &'static str,
        /// Address tried.
        addr: SocketAddr,
        /// The error.
        reason: String,
    },
    /// A thread could not be spawned.
    #[error("venue simulator cannot spawn a thread: {0}")]
    Spawn(std::io::Error),
}

/// Side of an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// `BUY`.
    Buy,
    /// `SELL`.
    Sell,
}

impl Side {
    /// `BUY` / `SELL`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        }
    }
}

/// Order status, as Binance names it (`X` / `status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// Accepted, nothing filled.
    New,
    /// Partly filled, still working.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Canceled by the user.
    Canceled,
    /// Ended by the order's rules (IOC/FOK/MARKET remainder, post-only).
    Expired,
    /// Refused.
    Rejected,
}

impl OrderStatus {
    /// Binance's spelling (`PARTIALLY_FILLED`, ...).
    pub fn as_str(&self) -> &'static str {
        match self {
            OrderStatus::New => "NEW",
            OrderStatus::PartiallyFilled => "PARTIALLY_FILLED",
            OrderStatus::Filled => "FILLED",
            OrderStatus::Canceled => "CANCELED",
            OrderStatus::Expired => "EXPIRED",
            OrderStatus::Rejected => "REJECTED",
        }
    }

    /// True while the order can still fill.
    pub fn is_open(&self) -> bool {
        matches!(self, OrderStatus::New | OrderStatus::PartiallyFilled)
    }
}

/// One order as the simulator's account sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderView {
    /// Venue order id.
    pub order_id: u64,
    /// Market.
    pub market: Market,
    /// Symbol.
    pub symbol: String,
    /// Side.
    pub side: Side,
    /// Limit price (zero for MARKET).
    pub price: Dec,
    /// Ordered quantity.
    pub orig_qty: Dec,
    /// Filled quantity.
    pub executed_qty: Dec,
    /// Status.
    pub status: OrderStatus,
}

/// One fill of the account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FillView {
    /// Market.
    pub market: Market,
    /// Symbol.
    pub symbol: String,
    /// Client order id of the order.
    pub client_order_id: String,
    /// Side.
    pub side: Side,
    /// Fill price.
    pub price: Dec,
    /// Fill quantity.
    pub qty: Dec,
    /// Trade id.
    pub trade_id: u64,
    /// Maker fill (resting order hit by a served trade).
    pub maker: bool,
}

/// The simulator's account, for tests comparing with the appliance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountView {
    /// Signed position per `"market:SYMBOL"` (spot: net base bought; futures:
    /// position amount).
    pub positions: BTreeMap<String, Dec>,
    /// Futures entry price per `"market:SYMBOL"`.
    pub entry_prices: BTreeMap<String, Dec>,
    /// Futures realized PnL per `"market:SYMBOL"` (margin asset units).
    pub realized_pnl: BTreeMap<String, Dec>,
    /// Spot balances `(free, locked)` per asset.
    pub balances: BTreeMap<String, (Dec, Dec)>,
    /// Orders by client order id (a reused id shows the latest order).
    pub orders: BTreeMap<String, OrderView>,
    /// Fills so far (most recent last; the oldest are forgotten past 100 000).
    pub fill_list: Vec<FillView>,
    /// Number of fills so far.
    pub fills: u64,
}

impl AccountView {
    /// Position of `symbol` on `market` (zero if never traded).
    pub fn position(&self, market: Market, symbol: &str) -> Dec {
        self.positions
            .get(&position_key(market, symbol))
            .copied()
            .unwrap_or_default()
    }
}

/// `"market:SYMBOL"`.
pub fn position_key(market: Market, symbol: &str) -> String {
    format!("{}:{}", market.name(), symbol)
}

/// Counters of the simulator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Frames the pacer has served (taken from the sources and handed out).
    pub frames_served: u64,
    /// Frames handed to connection queues.
    pub frames_queued: u64,
    /// Frames written to WebSocket clients.
    pub frames_sent: u64,
    /// Frames not delivered (stalled or ended connections).
    pub frames_unsent: u64,
    /// Snapshot lines loaded (never sent).
    pub snapshots_loaded: u64,
    /// Diffs the simulator's own books applied.
    pub diffs_applied: u64,
    /// Sequence gaps its own books saw in the sources.
    pub book_gaps: u64,
    /// True once every source is exhausted.
    pub replay_finished: bool,
    /// TCP connections accepted by the WebSocket listener (before the handshake).
    pub ws_accepts: u64,
    /// TCP connections accepted by the REST server.
    pub http_connections: u64,
    /// Market-data WebSocket connections accepted.
    pub md_connections: u64,
    /// User-data connections accepted (listenKey streams and WS-API).
    pub user_connections: u64,
    /// User-data events written.
    pub user_events_sent: u64,
    /// HTTP requests received.
    pub http_requests: u64,
    /// New-order requests that passed authentication.
    pub orders_received: u64,
    /// New orders placed.
    pub orders_placed: u64,
    /// New orders refused by a filter (`-1013` and futures equivalents).
    pub filter_rejects: u64,
    /// New orders refused as duplicates.
    pub duplicates_refused: u64,
    /// Requests refused for a bad signature (`-1022`).
    pub signature_failures: u64,
    /// Requests refused for a stale timestamp (`-1021`).
    pub timestamp_failures: u64,
    /// Requests refused for a bad API key (`-2014` / `-2015`).
    pub key_failures: u64,
    /// Fills.
    pub fills: u64,
    /// Requests answered 429 by the weight limit (`-1003`).
    pub weight_429: u64,
    /// Requests answered 418 while banned.
    pub banned_418: u64,
    /// listenKeys expired.
    pub listen_keys_expired: u64,
    /// Feed connections dropped by a fault.
    pub feed_drops: u64,
    /// Diffs skipped by the fault.
    pub diffs_skipped: u64,
    /// Feed connections stalled by a fault (both kinds).
    pub stalls: u64,
    /// USD-M named-connection faults fired (drop or stall).
    pub usdm_conn_faults: u64,
    /// Orders answered 5xx by a fault.
    pub order_5xx: u64,
    /// Orders answered 429 by the fault or the order-count limit.
    pub order_429: u64,
    /// Orders placed but not answered.
    pub order_no_answer: u64,
    /// Orders answered 418 by the ban fault.
    pub order_418: u64,
    /// Orders answered with HTML.
    pub order_html: u64,
    /// Depth requests failed by the fault.
    pub depth_failures: u64,
    /// Depth answers padded by the huge-snapshot fault.
    pub depth_huge: u64,
    /// User-data connections dropped by the fault.
    pub user_drops: u64,
    /// listenKeys expired early by the fault.
    pub listen_keys_expired_early: u64,
    /// Clients dropped for not answering pings.
    pub pong_timeouts: u64,
    /// Connection threads that panicked (answered or closed, sim kept running).
    pub panics: u64,
}

impl SimStats {
    /// Every fault injected so far.
    pub fn faults_injected(&self) -> u64 {
        self.feed_drops
            + self.diffs_skipped
            + self.stalls
            + self.usdm_conn_faults
            + self.order_5xx
            + self.order_429
            + self.order_no_answer
            + self.order_418
            + self.order_html
            + self.depth_failures
            + self.depth_huge
            + self.user_drops
            + self.listen_keys_expired_early
    }
}

/// Raw TSC stamps of frames sent and orders received, see [`VenueSim::wire_log`].
#[derive(Clone, Debug, Default)]
pub struct WireStamps {
    /// `quanta::Clock::raw()` before each market-data frame write, in time
    /// order (all connections).
    pub frames_sent: Vec<u64>,
    /// `(newClientOrderId, TSC)` of each new-order request as it arrived.
    pub orders_received: Vec<(String, u64)>,
}

/// Most stamps the wire log keeps (later ones are not kept).
const WIRE_LOG_CAP: usize = 1 << 20;

#[derive(Default)]
pub(crate) struct WireLog {
    clock: std::sync::OnceLock<quanta::Clock>,
    sends: Mutex<Vec<u64>>,
    orders: Mutex<Vec<(String, u64)>>,
}

impl WireLog {
    fn now(&self) -> u64 {
        self.clock.get_or_init(quanta::Clock::new).raw()
    }

    pub(crate) fn frame_sent(&self) {
        let t = self.now();
        let mut v = lock(&self.sends);
        if v.len() < WIRE_LOG_CAP {
            v.push(t);
        }
    }

    pub(crate) fn order_received(&self, client_id: &str) {
        let t = self.now();
        let mut v = lock(&self.orders);
        if v.len() < WIRE_LOG_CAP {
            v.push((client_id.to_string(), t));
        }
    }
}

/// State shared by every simulator thread.
pub(crate) struct Shared {
    pub(crate) cfg: SimConfig,
    pub(crate) stop: AtomicBool,
    pub(crate) stats: Mutex<SimStats>,
    pub(crate) engine: Mutex<engine::Engine>,
    pub(crate) feed: feed::FeedHub,
    pub(crate) users: userdata::UserHub,
    pub(crate) limits: Mutex<limits::Limits>,
    pub(crate) threads: Mutex<Vec<JoinHandle<()>>>,
    pub(crate) wire: WireLog,
}

impl Shared {
    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    pub(crate) fn stat(&self, f: impl FnOnce(&mut SimStats)) {
        f(&mut lock(&self.stats));
    }

    /// Spawns a tracked thread (finished ones are pruned so the list stays
    /// bounded).
    pub(crate) fn spawn(
        &self,
        name: &str,
        f: impl FnOnce() + Send + 'static,
    ) -> Result<(), SimError> {
        let h = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(f)
            .map_err(SimError::Spawn)?;
        let mut t = lock(&self.threads);
        if t.len() > 64 {
            let (done, live): (Vec<_>, Vec<_>) = t.drain(..).partition(|h| h.is_finished());
            for h in done {
                // A panicked connection thread has nothing left to clean up.
                let _ = h.join();
            }
            *t = live;
        }
        t.push(h);
        Ok(())
    }

    /// Runs `f`, counting a panic instead of propagating it.
    pub(crate) fn guarded(&self, f: impl FnOnce()) {
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err() {
            self.stat(|s| s.panics += 1);
        }
    }
}

/// Locks a mutex, recovering from a poisoned one (a panicked connection
/// thread must not take the simulator down).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A running simulator.
pub struct VenueSim {
    shared: Arc<Shared>,
    http_addr: SocketAddr,
    ws_addr: SocketAddr,
}

fn bind(what: &'static str, addr: SocketAddr) -> Result<(TcpListener, SocketAddr), SimError> {
    let err = |e: std::io::Error| SimError::Bind {
        what,
        addr,
        reason: e.to_string(),
    };
    let l = TcpListener::bind(addr).map_err(err)?;
    let local = l.local_addr().map_err(err)?;
    l.set_nonblocking(true).map_err(err)?;
    Ok((l, local))
}

impl VenueSim {
    /// Loads the sources, binds both servers and starts serving.
    pub fn start(mut cfg: SimConfig) -> Result<VenueSim, SimError> {
        if cfg.sources.is_empty() && cfg.memory_sources.is_empty() {
            return Err(SimError::NoSource);
        }
        if let Pace::Recorded { speed } = cfg.pace
            && !(speed > 0.0 && speed.is_finite())
        {
            return Err(SimError::Config(
                "speed must be a finite number above 0".into(),
            ));
        }
        let f = &cfg.faults;
        if u16::from(f.order_5xx_pct)
            + u16::from(f.order_429_pct)
            + u16::from(f.order_no_answer_pct)
            > 100
        {
            return Err(SimError::Config(
                "the order fault percentages add up to more than 100".into(),
            ));
        }
        if let Some(d) = f.depth_fail
            && !matches!(d.status, 500 | 503 | 418 | 429)
        {
            return Err(SimError::Config(format!(
                "depth fault status {} (use 500, 503, 418 or 429)",
                d.status
            )));
        }
        if Dec::parse(&cfg.initial_balance).is_none()
            || cfg
                .initial_balances
                .iter()
                .any(|(_, v)| Dec::parse(v).is_none())
        {
            return Err(SimError::Config(
                "initial balances must be decimal numbers".into(),
            ));
        }
        let mut digits = source::Digits::new();
        let mut sources = Vec::new();
        for spec in &cfg.sources {
            sources.push(source::Source::open(spec, &mut digits)?);
        }
        // The bytes move into their source: held once, never copied.
        for (name, bytes, market) in std::mem::take(&mut cfg.memory_sources) {
            sources.push(source::Source::from_bytes(
                name,
                bytes,
                market,
                &mut digits,
            )?);
        }
        let engine = engine::Engine::new(&cfg, &sources, &digits)?;
        let (http_l, http_addr) =
            bind("the REST server", SocketAddr::new(cfg.bind, cfg.http_port))?;
        let (ws_l, ws_addr) = bind(
            "the WebSocket server",
            SocketAddr::new(cfg.bind, cfg.ws_port),
        )?;
        let limits = limits::Limits::new(&cfg);
        let shared = Arc::new(Shared {
            cfg,
            stop: AtomicBool::new(false),
            stats: Mutex::new(SimStats::default()),
            engine: Mutex::new(engine),
            feed: feed::FeedHub::default(),
            users: userdata::UserHub::default(),
            limits: Mutex::new(limits),
            threads: Mutex::new(Vec::new()),
            wire: WireLog::default(),
        });
        let sim = VenueSim {
            shared: shared.clone(),
            http_addr,
            ws_addr,
        };
        let s = shared.clone();
        shared.spawn("venue-sim-pacer", move || {
            let s2 = s.clone();
            s.guarded(move || feed::run_pacer(&s2, sources));
        })?;
        let s = shared.clone();
        shared.spawn("venue-sim-http", move || http::run_accept(&s, &http_l))?;
        let s = shared.clone();
        shared.spawn("venue-sim-ws", move || ws::run_accept(&s, &ws_l))?;
        let s = shared.clone();
        shared.spawn("venue-sim-keys", move || userdata::run_expiry(&s))?;
        Ok(sim)
    }

    /// Where the REST server listens.
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// Where the WebSocket server listens.
    pub fn ws_addr(&self) -> SocketAddr {
        self.ws_addr
    }

    /// Positions, balances, orders and fills so far.
    pub fn account(&self) -> AccountView {
        lock(&self.shared.engine).account()
    }

    /// TSC stamps of every frame sent and order received so far.
    pub fn wire_log(&self) -> WireStamps {
        let mut frames_sent = lock(&self.shared.wire.sends).clone();
        // Several connection threads append; keep them in time order.
        frames_sent.sort_unstable();
        WireStamps {
            frames_sent,
            orders_received: lock(&self.shared.wire.orders).clone(),
        }
    }

    /// A reader of the counters that other threads can own.
    pub fn stats_handle(&self) -> impl Fn() -> SimStats + Send + Sync + 'static {
        let shared = Arc::clone(&self.shared);
        move || *lock(&shared.stats)
    }

    /// Counters so far.
    pub fn stats(&self) -> SimStats {
        *lock(&self.shared.stats)
    }

    /// Stops serving and joins every thread (within ~100 ms).
    pub fn stop(self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.feed.wake();
        loop {
            let next = lock(&self.shared.threads).pop();
            match next {
                // A panicked thread has nothing left to clean up.
                Some(h) => drop(h.join()),
                None => break,
            }
        }
    }
}

impl Drop for VenueSim {
    /// A simulator dropped without [`VenueSim::stop`] still stops its
    /// threads (they end within ~100 ms); it does not wait for them.
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.feed.wake();
    }
}
