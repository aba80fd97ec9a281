//! The shape of `conf/affinity.toml` and `conf/tickwire.toml`. Every struct
//! refuses unknown keys; values are checked once by `validate` at start-up
//! and never change afterwards.

use serde::Deserialize;

pub use tickwire_core::stage::StageName;
pub use tickwire_risk::RiskConf;
pub use tickwire_router::PaperConf;
pub use tickwire_strategy::{StrategyConf, StrategyKind};

use tickwire_core::types::{Market, Px};

/// What an executor does when none of its stages has work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdlePolicy {
    /// Keep polling: lowest latency, burns the core.
    BusySpin,
    /// Poll for a while, then sleep briefly between polls.
    Park,
}

/// How the core numbers in `conf/affinity.toml` are read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CoreNumbering {
    /// `core = N` is logical CPU N, as `/proc/cpuinfo` numbers it.
    #[default]
    Absolute,
    /// `core = N` is the N-th CPU (0-based, ascending) of the set this
    /// process may run on (`taskset`, systemd `CPUAffinity=`, cpusets): the
    /// same file fits any box it lands on.
    Allowed,
}

/// `conf/affinity.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AffinityConfig {
    /// How `core` numbers are read (default `absolute`).
    #[serde(default)]
    pub core_numbering: CoreNumbering,
    /// One entry per pinned executor.
    pub executor: Vec<ExecutorConf>,
    /// Ring capacities (slots; each a power of two).
    pub rings: RingsConf,
    /// Cores of the helper threads used by `run` and `demo` (optional).
    #[serde(default)]
    pub threads: ThreadsConf,
}

/// Cores of the helper threads of a live run. The feed defaults to the
/// core of the md stage, the others to the core of the router stage.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadsConf {
    /// Core of the WebSocket feed executor (sleeps in io_uring between
    /// messages).
    pub feed: Option<usize>,
    /// Core of the order-entry thread (blocking REST calls).
    pub router: Option<usize>,
    /// Core of the REST depth-snapshot thread.
    pub snapshot: Option<usize>,
}

/// One glommio executor pinned to one core.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutorConf {
    /// Logical CPU id (as `core_affinity` and `/proc/cpuinfo` number them).
    pub core: usize,
    /// Stages run as tasks on this executor.
    pub stages: Vec<StageName>,
    /// Idle policy.
    pub idle: IdlePolicy,
    /// With `park`: microseconds to sleep once idle (default 50).
    #[serde(default = "default_park_us")]
    pub park_us: u64,
}

fn default_park_us() -> u64 {
    50
}

/// Capacities of the SPSC rings between stages, in messages.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RingsConf {
    /// md -> book: market events (one per level update).
    pub md_to_book: usize,
    /// book -> md: resync requests.
    pub book_to_md: usize,
    /// book -> risk: order intents.
    pub book_to_risk: usize,
    /// book -> router: top of book and trades for the paper venue.
    pub book_to_router: usize,
    /// risk -> router: orders and cancels.
    pub risk_to_router: usize,
    /// router -> risk: execution reports.
    pub router_to_risk: usize,
    /// risk -> book: fills, so the strategy knows its own position.
    pub risk_to_book: usize,
}

impl RingsConf {
    /// Every ring as `(key, capacity)`, in pipeline order: the one list of
    /// rings that validation, `check-conf` and reports use.
    pub fn all(&self) -> [(&'static str, usize); 7] {
        let r = self;
        [
            ("md_to_book", r.md_to_book),
            ("book_to_md", r.book_to_md),
            ("book_to_risk", r.book_to_risk),
            ("book_to_router", r.book_to_router),
            ("risk_to_router", r.risk_to_router),
            ("router_to_risk", r.router_to_risk),
            ("risk_to_book", r.risk_to_book),
        ]
    }
}

/// `conf/tickwire.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// Optional per-instrument precision; instruments not listed have their
    /// tick inferred from the data.
    #[serde(default)]
    pub symbol: Vec<SymbolConf>,
    /// Built-in strategy parameters.
    pub strategy: StrategyConf,
    /// Pre-trade risk limits.
    pub risk: RiskConf,
    /// Paper venue used by replay.
    pub paper: PaperConf,
    /// Reports and snapshots.
    pub report: ReportConf,
    /// The venue `tickwire run` connects to (not used by replay).
    pub venue: Option<VenueConf>,
}

/// The live venue: where market data and order entry are, which symbols
/// are traded, and how hard to try when the network misbehaves. API keys
/// never go here: they come from the environment or `key_file`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueConf {
    /// Market of every symbol (`spot`, `usdm`, `coinm`).
    pub market: Market,
    /// Venue symbols, e.g. `["BTCUSDT"]`; one book and one feed stream
    /// set (depth, bookTicker, trade) each.
    pub symbols: Vec<String>,
    /// WebSocket base URL, e.g. `wss://stream.binance.com:9443`.
    pub ws_url: String,
    /// REST base URL for depth snapshots and orders, e.g. `https://api.binance.com`.
    pub rest_url: String,
    /// TOML file with `api_key` and `api_secret` (mode 600); empty = the
    /// `TICKWIRE_API_KEY` / `TICKWIRE_API_SECRET` environment variables.
    #[serde(default)]
    pub key_file: String,
    /// `recvWindow` of signed requests, ms (1..=60000).
    pub recv_window_ms: u64,
    /// Longest wait for an order answer before its outcome is unknown, ms.
    pub order_timeout_ms: u64,
    /// How often working and unknown orders are re-queried, ms (0 = never).
    pub poll_interval_ms: u64,
    /// Consecutive order failures that open the circuit breaker.
    pub breaker_threshold: u32,
    /// How long the breaker stays open before a trial order, ms.
    pub breaker_cooldown_ms: u64,
    /// No market data for this long closes the connection and reconnects, ms.
    pub silence_timeout_ms: u64,
    /// First reconnect delay, ms (doubles with jitter on each failure).
    pub reconnect_base_ms: u64,
    /// Largest reconnect delay, ms.
    pub reconnect_cap_ms: u64,
}

/// Precision of one instrument.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolConf {
    /// Market (`spot`, `usdm`, `coinm`).
    pub market: Market,
    /// Venue symbol, e.g. `BTCUSDT`.
    pub name: String,
    /// Price tick, e.g. `"0.01"`.
    pub tick: Px,
}

/// Report and snapshot settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConf {
    /// Levels per side printed by `snapshot` and kept in book snapshots.
    pub depth: usize,
    /// Seconds of venue time between periodic book snapshots; 0 = only at
    /// shutdown.
    pub snapshot_interval_s: u64,
    /// Directory for book snapshots (relative to the working directory).
    pub snapshot_dir: String,
}
