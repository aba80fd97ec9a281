//! Venue simulator: a Binance look-alike on loopback for the feed client,
//! the order router and `tickwire venue-sim`.
//!
//! Plain std threads (a dev/test tool, not a hot stage): one `tiny_http`
//! server for REST, one `TcpListener` + `tungstenite` for WebSockets, one
//! pacer thread that replays a capture (or a synthetic spot session) and one
//! thread per WebSocket connection. [`VenueSim::stop`] joins all of them.
//!
//! # Endpoints
//! REST (on [`VenueSim::http_addr`]); every `/api/v3/...` path also answers
//! as `/fapi/v1/...` (USD-M) and `/dapi/v1/...` (COIN-M) for that market:
//! - `GET /api/v3/ping` -> `{}`; `GET /api/v3/time` -> `{"serverTime":ms}`.
//! - `GET /api/v3/depth?symbol=BTCUSDT&limit=1000` -> `{"lastUpdateId":u,
//!   "bids":[["px","qty"],..],"asks":[..]}`: the simulator's own book (built
//!   from the capture's REST snapshot line, which is never sent on the
//!   WebSocket, plus every diff it has served) and `u` of the last diff
//!   applied, so a client bridging buffered diffs by Binance's rules syncs
//!   exactly. `503 {"code":-1001}` until the simulator's book is synced.
//! - Signed (`X-MBX-APIKEY` header, `timestamp`, optional `recvWindow`,
//!   `signature` = lowercase hex HMAC-SHA256(secret, query string + body)):
//!   `POST /api/v3/order` (symbol, side, type=LIMIT, timeInForce GTC|IOC,
//!   quantity, price, newClientOrderId, newOrderRespType ACK|RESULT|FULL),
//!   `DELETE /api/v3/order` (origClientOrderId or orderId),
//!   `GET /api/v3/order`, `GET /api/v3/openOrders`,
//!   `DELETE /api/v3/openOrders` (cancel all for a symbol; futures also
//!   as `DELETE /fapi/v1/allOpenOrders`).
//!   Errors: unknown key 401 `-2015`; bad signature 400 `-1022`; timestamp
//!   outside recvWindow 400 `-1021`; duplicate client id 400 `-2010`;
//!   unknown order 400 `-2013`; missing parameter `-1102`; bad value
//!   `-1100`/`-1116`/`-1117`/`-1115`; unknown symbol `-1121`.
//!   Every answer carries `X-MBX-USED-WEIGHT-1M` and `X-MBX-ORDER-COUNT-10S`.
//! - `POST|PUT|DELETE /api/v3/userDataStream` (API key header) ->
//!   `{"listenKey":".."}` / `{}`.
//!
//! WebSocket (on [`VenueSim::ws_addr`]):
//! - `GET /stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker/..`
//!   (`/fapi/stream`, `/dapi/stream` for futures sources; a plain
//!   `/stream` serves spot, or the futures market when the capture holds
//!   only that one, like Binance's separate futures host): text frames in
//!   the combined-stream envelope `{"stream":..,"data":..}` exactly as in
//!   the capture (raw events are wrapped). Only subscribed `symbol@kind`
//!   streams are sent. Pings are answered with pongs. A new connection
//!   joins the replay where it is now; the replay only advances while at
//!   least one market-data connection is open (so nothing is served into
//!   the void before a client connects).
//! - `GET /ws/<listenKey>`: `executionReport` events of the account.
//!
//! # Faults ([`Faults`])
//! - `drop_feed_after = N`: the first market-data connection to have sent N
//!   frames is closed abruptly (TCP shutdown, no close frame). Once.
//! - `skip_diff = N`: the Nth depth diff served (1-based, over the whole
//!   replay) is applied to the simulator's book but sent to nobody: clients
//!   see a sequence gap and must resync from the depth endpoint.
//! - `stall_after = N`: the first connection to have sent N frames stops
//!   sending (socket kept open, pings unanswered). Once.
//! - `order_5xx_pct`, `order_429_pct`, `order_no_answer_pct`: share of
//!   `POST /api/v3/order` answered `503 {"code":-1001}` (order NOT placed),
//!   `429 {"code":-1003}` with `Retry-After: 1` (order NOT placed), or never
//!   answered (order IS placed; the connection is held until the client
//!   gives up or the simulator stops, and a later query finds the order).
//!   Drawn from a ChaCha8 generator seeded with `seed`.
//! - `ban_after_orders = N`: the Nth new order is answered `418
//!   {"code":-1003}` with `Retry-After: 2` (not placed), once.
//! - `SimConfig::max_orders_10s` (not a fault): more new orders than this
//!   in ten seconds get `429 {"code":-1015}` with `Retry-After`.
//!
//! # Matching
//! [`tickwire_router::PaperVenue`] fed with the simulator's own top of
//! book after every diff it applies and with every trade it serves; new
//! orders and cancels go through `on_cmd`. IOC remainders end `EXPIRED`.

mod auth;
pub mod cli;
mod depth;
mod engine;
mod faults;
mod feed;
mod http;
mod orders;
mod userdata;
mod ws;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tickwire_core::source::Pace;
use tickwire_core::types::{Market, Px, Qty, Side};

pub use auth::sign;
pub use cli::{VenueSimArgs, run_cli};
pub use tickwire_router::binance::OrderStatus;

/// Fault switches (see the module docs for what each one does).
#[derive(Default, Clone, Debug)]
pub struct Faults {
    /// Close the first market-data connection after it sent this many frames.
    pub drop_feed_after: Option<u64>,
    /// Never send the Nth depth diff (1-based) to anyone.
    pub skip_diff: Option<u64>,
    /// Stop sending on the first connection after this many frames.
    pub stall_after: Option<u64>,
    /// Percent of new orders answered with 503 (not placed).
    pub order_5xx_pct: u8,
    /// Percent of new orders answered with 429 + Retry-After (not placed).
    pub order_429_pct: u8,
    /// Percent of new orders placed but never answered.
    pub order_no_answer_pct: u8,
    /// Answer the Nth new order (1-based) `418` (IP banned, `Retry-After:
    /// 2`), not placed. Once.
    pub ban_after_orders: Option<u64>,
    /// Seed of the fault dice.
    pub seed: u64,
}

/// Simulator configuration.
#[derive(Clone)]
pub struct SimConfig {
    /// Capture arguments (`FILE` or `FILE@spot|usdm|coinm`); empty = a
    /// synthetic spot session.
    pub sources: Vec<String>,
    /// Replay pace.
    pub pace: Pace,
    /// API key clients must send in `X-MBX-APIKEY`.
    pub api_key: String,
    /// Secret the signatures are checked with (never logged).
    pub api_secret: String,
    /// Fault switches.
    pub faults: Faults,
    /// Address to bind (loopback).
    pub bind: IpAddr,
    /// REST port (0 = any free port).
    pub http_port: u16,
    /// WebSocket port (0 = any free port).
    pub ws_port: u16,
    /// Frames of the synthetic session when `sources` is empty.
    pub synthetic_frames: usize,
    /// Seed of the synthetic session.
    pub synthetic_seed: u64,
    /// New orders allowed per 10 s before 429 `-1015` (0 = no limit).
    pub max_orders_10s: u32,
    /// Percent of the opposite best level a marketable order may take.
    pub max_take_pct: u32,
}

impl std::fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimConfig")
            .field("sources", &self.sources)
            .field("pace", &self.pace)
            .field("api_key", &"<redacted>")
            .field("api_secret", &"<redacted>")
            .field("faults", &self.faults)
            .field("bind", &self.bind)
            .field("http_port", &self.http_port)
            .field("ws_port", &self.ws_port)
            .field("synthetic_frames", &self.synthetic_frames)
            .field("max_orders_10s", &self.max_orders_10s)
            .finish()
    }
}

impl SimConfig {
    /// A synthetic spot session of `frames` frames served as fast as the
    /// client reads, on 127.0.0.1 with free ports, no faults.
    pub fn synthetic(frames: usize, api_key: &str, api_secret: &str) -> SimConfig {
        SimConfig {
            sources: Vec::new(),
            pace: Pace::Max,
            api_key: api_key.to_string(),
            api_secret: api_secret.to_string(),
            faults: Faults::default(),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            http_port: 0,
            ws_port: 0,
            synthetic_frames: frames,
            synthetic_seed: 7,
            max_orders_10s: 0,
            max_take_pct: 100,
        }
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The capture could not be loaded.
    #[error("venue simulator cannot load its capture: {0}")]
    Capture(#[from] tickwire_capture::CaptureError),
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
    /// Limit price.
    pub price: Px,
    /// Ordered quantity.
    pub orig_qty: Qty,
    /// Filled quantity.
    pub executed_qty: Qty,
    /// Status.
    pub status: OrderStatus,
}

/// The simulator's account: for tests comparing with risk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountView {
    /// Signed filled quantity per `"market:SYMBOL"` (e.g. `"spot:BTCUSDT"`).
    pub positions: BTreeMap<String, Qty>,
    /// Orders by client order id.
    pub orders: BTreeMap<String, OrderView>,
    /// Fills so far.
    pub fills: u64,
}

impl AccountView {
    /// Position of `symbol` on `market` (zero if never traded).
    pub fn position(&self, market: Market, symbol: &str) -> Qty {
        self.positions
            .get(&position_key(market, symbol))
            .copied()
            .unwrap_or_default()
    }
}

fn position_key(market: Market, symbol: &str) -> String {
    format!("{}:{}", market.name(), symbol)
}

/// Counters of the simulator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Frames the pacer has served (taken from the capture and handed out).
    pub frames_served: u64,
    /// Frames handed to connection queues (all connections).
    pub frames_queued: u64,
    /// Frames written to WebSocket clients (all connections).
    pub frames_sent: u64,
    /// Queued frames never written (stalled or ended connections).
    pub frames_unsent: u64,
    /// True once the capture is exhausted.
    pub replay_finished: bool,
    /// Market-data WebSocket connections accepted.
    pub md_connections: u64,
    /// User-data WebSocket connections accepted.
    pub user_connections: u64,
    /// HTTP requests received.
    pub http_requests: u64,
    /// New-order requests that passed authentication.
    pub orders_received: u64,
    /// New orders refused as duplicates (`-2010`).
    pub duplicates_refused: u64,
    /// Requests refused for a bad signature (`-1022`).
    pub signature_failures: u64,
    /// Requests refused for a stale timestamp (`-1021`).
    pub timestamp_failures: u64,
    /// Feed connections dropped by the fault.
    pub feed_drops: u64,
    /// Diffs skipped by the fault.
    pub diffs_skipped: u64,
    /// Feed connections stalled by the fault.
    pub stalls: u64,
    /// Orders answered 5xx by the fault.
    pub order_5xx: u64,
    /// Orders answered 429 by the fault or the order-count limit.
    pub order_429: u64,
    /// Orders placed but not answered.
    pub order_no_answer: u64,
    /// Orders answered 418 by the ban fault.
    pub order_418: u64,
}

impl SimStats {
    /// Every fault injected so far.
    pub fn faults_injected(&self) -> u64 {
        self.feed_drops
            + self.diffs_skipped
            + self.stalls
            + self.order_5xx
            + self.order_429
            + self.order_no_answer
            + self.order_418
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
    pub(crate) dice: Mutex<faults::Dice>,
    pub(crate) threads: Mutex<Vec<JoinHandle<()>>>,
    pub(crate) wire: WireLog,
}

/// Most frame sends and orders the wire log keeps.
const WIRE_LOG_CAP: usize = 1 << 20;

/// TSC stamps of what crossed the simulator's sockets, for wire-to-wire
/// latency in an in-process `demo` (the appliance stamps with the same
/// invariant TSC). Bounded; later events are not kept.
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

    /// A market-data frame is about to be written to a client.
    pub(crate) fn frame_sent(&self) {
        let t = self.now();
        let mut v = lock(&self.sends);
        if v.len() < WIRE_LOG_CAP {
            v.push(t);
        }
    }

    /// A new-order request named `client_id` arrived.
    pub(crate) fn order_received(&self, client_id: &str) {
        let t = self.now();
        let mut v = lock(&self.orders);
        if v.len() < WIRE_LOG_CAP {
            v.push((client_id.to_string(), t));
        }
    }
}

/// Raw TSC stamps of frames sent and orders received, see [`VenueSim::wire_log`].
#[derive(Clone, Debug, Default)]
pub struct WireStamps {
    /// TSC before each market-data frame write, in send order (all
    /// connections).
    pub frames_sent: Vec<u64>,
    /// `(newClientOrderId, TSC)` of each new-order request as it arrived.
    pub orders_received: Vec<(String, u64)>,
}

impl Shared {
    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    pub(crate) fn stat(&self, f: impl FnOnce(&mut SimStats)) {
        f(&mut lock(&self.stats));
    }

    pub(crate) fn spawn(
        self: &Arc<Self>,
        name: &str,
        f: impl FnOnce() + Send + 'static,
    ) -> Result<(), SimError> {
        let h = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(f)
            .map_err(SimError::Spawn)?;
        lock(&self.threads).push(h);
        Ok(())
    }
}

/// Locks a mutex, recovering from a poisoned one (a panicked connection
/// thread must not take the simulator down).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Milliseconds since the Unix epoch (the simulator's clock).
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A running simulator.
pub struct VenueSim {
    shared: Arc<Shared>,
    http_addr: SocketAddr,
    ws_addr: SocketAddr,
    http_server: Arc<tiny_http::Server>,
}

impl VenueSim {
    /// Loads the capture (or builds the synthetic session), binds both
    /// servers and starts serving.
    pub fn start(cfg: SimConfig) -> Result<VenueSim, SimError> {
        let capture = if cfg.sources.is_empty() {
            let bytes = tickwire_capture::synth::synthetic_session(
                cfg.synthetic_seed,
                Market::Spot,
                cfg.synthetic_frames,
            );
            tickwire_capture::Capture::from_text_bytes("synthetic-spot-btcusdt", bytes)?
        } else {
            tickwire_capture::Capture::open(&cfg.sources)?
        };
        let engine = engine::Engine::new(&capture, cfg.max_take_pct);
        let http_bind = SocketAddr::new(cfg.bind, cfg.http_port);
        let ws_bind = SocketAddr::new(cfg.bind, cfg.ws_port);
        let http_server = tiny_http::Server::http(http_bind).map_err(|e| SimError::Bind {
            what: "the REST server",
            addr: http_bind,
            reason: e.to_string(),
        })?;
        let http_addr = http_server
            .server_addr()
            .to_ip()
            .ok_or_else(|| SimError::Bind {
                what: "the REST server",
                addr: http_bind,
                reason: "not an IP listener".into(),
            })?;
        let listener = std::net::TcpListener::bind(ws_bind).map_err(|e| SimError::Bind {
            what: "the WebSocket server",
            addr: ws_bind,
            reason: e.to_string(),
        })?;
        let ws_addr = listener.local_addr().map_err(|e| SimError::Bind {
            what: "the WebSocket server",
            addr: ws_bind,
            reason: e.to_string(),
        })?;
        let dice = faults::Dice::new(cfg.faults.seed);
        let shared = Arc::new(Shared {
            cfg,
            stop: AtomicBool::new(false),
            stats: Mutex::new(SimStats::default()),
            engine: Mutex::new(engine),
            feed: feed::FeedHub::default(),
            users: userdata::UserHub::default(),
            dice: Mutex::new(dice),
            threads: Mutex::new(Vec::new()),
            wire: WireLog::default(),
        });
        let http_server = Arc::new(http_server);
        let sim = VenueSim {
            shared: shared.clone(),
            http_addr,
            ws_addr,
            http_server: http_server.clone(),
        };
        let s = shared.clone();
        shared.spawn("venue-pacer", move || feed::run_pacer(&s, &capture))?;
        let s = shared.clone();
        shared.spawn("venue-ws-accept", move || ws::run_accept(&s, &listener))?;
        let s = shared.clone();
        shared.spawn("venue-http", move || http::run(&s, &http_server))?;
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

    /// Positions, orders and fills so far.
    pub fn account(&self) -> AccountView {
        lock(&self.shared.engine).account()
    }

    /// TSC stamps of every frame sent and order received so far (raw
    /// `quanta` ticks, comparable with the appliance's stamps in one process).
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
    pub fn stats_handle(&self) -> impl Fn() -> SimStats + Send + 'static {
        let shared = Arc::clone(&self.shared);
        move || *lock(&shared.stats)
    }

    /// Counters so far.
    pub fn stats(&self) -> SimStats {
        *lock(&self.shared.stats)
    }

    /// Stops serving and joins every thread.
    pub fn stop(self) {
        self.signal_stop();
        loop {
            let next = lock(&self.shared.threads).pop();
            match next {
                // A panicked thread has nothing left to clean up.
                Some(h) => drop(h.join()),
                None => break,
            }
        }
    }

    /// Tells every thread to end (they finish within ~100 ms).
    fn signal_stop(&self) {
        if self.shared.stop.swap(true, Ordering::AcqRel) {
            return;
        }
        self.shared.feed.wake();
        self.http_server.unblock();
        // Wakes the blocking accept; failure means it is already gone.
        let _ = std::net::TcpStream::connect(self.ws_addr);
    }
}

impl Drop for VenueSim {
    /// A simulator dropped without [`VenueSim::stop`] (a failed test) still
    /// stops its threads; it just does not wait for them.
    fn drop(&mut self) {
        self.signal_stop();
    }
}
