//! REST depth snapshots on a helper std thread.
//!
//! `GET {base}/api/v3/depth?symbol=X&limit=N` (spot), `/fapi/v1/depth`
//! (USD-M) or `/dapi/v1/depth` (COIN-M) through one keep-alive
//! `ureq::Agent`, on a thread of its own (optionally pinned with
//! `core_affinity`) so a slow venue never blocks a hot executor. Requests
//! and responses cross threads through `rtrb` rings; a response carries the
//! body bytes (one `Vec` per snapshot: snapshots are rare). Transport
//! errors, 5xx, 429 and 418 are retried with [`Backoff`]; other statuses
//! and bodies that are not a depth snapshot are typed errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::backoff::{Backoff, BackoffConfig};
use crate::binance::Decoder;
use crate::frame::Frame;
use tickwire_core::types::{Market, SymbolName};

/// Why a snapshot could not be had.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// No base URL is configured for the market.
    #[error("no REST base URL configured for {0}; set it in the live feed config")]
    NoBaseUrl(&'static str),
    /// The venue kept failing (transport error, 5xx, 429/418) past the retry budget.
    #[error(
        "depth snapshot {url} failed after {attempts} attempts: {last}; the venue or network is down, the book stays stale"
    )]
    GaveUp {
        /// The request URL.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// The venue answered with a status that retrying will not fix.
    #[error("depth snapshot {url} answered HTTP {status}; check the symbol and the limit")]
    Status {
        /// The request URL.
        url: String,
        /// HTTP status.
        status: u16,
    },
    /// The body is not a depth snapshot.
    #[error("depth snapshot {url} is not a valid snapshot body: {reason}")]
    InvalidBody {
        /// The request URL.
        url: String,
        /// What the decoder said.
        reason: String,
    },
    /// The helper thread could not be started or pinned.
    #[error("snapshot thread: {0}")]
    Thread(String),
}

/// One snapshot request (small and `Copy`, for the ring).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotRequest {
    /// Connection (source) the book belongs to.
    pub conn: u16,
    /// Market of the book.
    pub market: Market,
    /// Symbol, upper case as Binance's REST API wants it.
    pub symbol: SymbolName,
}

/// A finished request.
#[derive(Debug)]
pub struct SnapshotResponse {
    /// What was asked.
    pub req: SnapshotRequest,
    /// The body bytes, or why there are none.
    pub result: Result<Vec<u8>, SnapshotError>,
}

/// Fetcher settings.
#[derive(Clone, Debug)]
pub struct SnapshotConfig {
    /// Spot REST base (`https://api.binance.com`).
    pub spot_base: Option<String>,
    /// USD-M REST base (`https://fapi.binance.com`).
    pub usdm_base: Option<String>,
    /// COIN-M REST base (`https://dapi.binance.com`).
    pub coinm_base: Option<String>,
    /// Depth levels (`limit`).
    pub limit: u32,
    /// Attempts per request before giving up.
    pub max_attempts: u32,
    /// Delay between attempts.
    pub backoff: BackoffConfig,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Largest accepted body.
    pub max_body_bytes: u64,
    /// Core to pin the helper thread to; `None` leaves it unpinned.
    pub core: Option<usize>,
    /// Request/response ring capacity.
    pub capacity: usize,
}

impl Default for SnapshotConfig {
    fn default() -> Self {
        SnapshotConfig {
            spot_base: None,
            usdm_base: None,
            coinm_base: None,
            limit: 1000,
            max_attempts: 5,
            backoff: BackoffConfig::default(),
            timeout: Duration::from_secs(10),
            max_body_bytes: 16 << 20,
            core: None,
            capacity: 64,
        }
    }
}

/// The md side of the fetcher: push requests, pop responses. Dropping it
/// stops and joins the helper thread.
pub struct SnapshotClient {
    requests: rtrb::Producer<SnapshotRequest>,
    responses: rtrb::Consumer<SnapshotResponse>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    in_flight: usize,
}

impl std::fmt::Debug for SnapshotClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotClient")
            .field("in_flight", &self.in_flight)
            .finish()
    }
}

impl SnapshotClient {
    /// Starts the helper thread (pinned to `cfg.core` if set; a core that
    /// does not exist is an error naming it).
    pub fn spawn(cfg: SnapshotConfig) -> Result<SnapshotClient, SnapshotError> {
        if let Some(core) = cfg.core {
            let known = core_affinity::get_core_ids().unwrap_or_default();
            if !known.iter().any(|c| c.id == core) {
                return Err(SnapshotError::Thread(format!(
                    "core {core} does not exist or is not usable; pick one of {:?}",
                    known.iter().map(|c| c.id).collect::<Vec<_>>()
                )));
            }
        }
        let cap = cfg.capacity.max(1);
        let (requests, mut req_rx) = rtrb::RingBuffer::<SnapshotRequest>::new(cap);
        let (mut resp_tx, responses) = rtrb::RingBuffer::<SnapshotResponse>::new(cap);
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("md-snapshot".into())
            .spawn(move || {
                if let Some(core) = cfg.core {
                    core_affinity::set_for_current(core_affinity::CoreId { id: core });
                }
                let fetcher = Fetcher::new(cfg);
                while !stop2.load(Ordering::Relaxed) {
                    let Ok(req) = req_rx.pop() else {
                        std::thread::park_timeout(Duration::from_millis(5));
                        continue;
                    };
                    let result = fetcher.fetch(&req, &stop2);
                    let mut resp = SnapshotResponse { req, result };
                    // The ring holds as many responses as requests; wait for room.
                    loop {
                        match resp_tx.push(resp) {
                            Ok(()) => break,
                            Err(rtrb::PushError::Full(back)) => resp = back,
                        }
                        if stop2.load(Ordering::Relaxed) {
                            return;
                        }
                        std::thread::park_timeout(Duration::from_millis(5));
                    }
                }
            })
            .map_err(|e| SnapshotError::Thread(e.to_string()))?;
        Ok(SnapshotClient {
            requests,
            responses,
            stop,
            thread: Some(thread),
            in_flight: 0,
        })
    }

    /// Queues a request; `false` if the ring is full (try again later).
    pub fn request(&mut self, req: SnapshotRequest) -> bool {
        if self.requests.push(req).is_err() {
            return false;
        }
        self.in_flight += 1;
        if let Some(t) = &self.thread {
            t.thread().unpark();
        }
        true
    }

    /// A finished response, if any.
    pub fn poll(&mut self) -> Option<SnapshotResponse> {
        let r = self.responses.pop().ok()?;
        self.in_flight = self.in_flight.saturating_sub(1);
        Some(r)
    }

    /// Requests not answered yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }
}

impl Drop for SnapshotClient {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

/// The helper thread's state.
struct Fetcher {
    agent: ureq::Agent,
    cfg: SnapshotConfig,
}

/// One attempt's failure: retry or not.
enum Attempt {
    Retry(String),
    Fatal(SnapshotError),
}

impl Fetcher {
    fn new(cfg: SnapshotConfig) -> Fetcher {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(cfg.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Fetcher { agent, cfg }
    }

    /// The request URL for `req`.
    fn url(&self, req: &SnapshotRequest) -> Result<String, SnapshotError> {
        let (base, path) = match req.market {
            Market::Spot => (&self.cfg.spot_base, "/api/v3/depth"),
            Market::Usdm => (&self.cfg.usdm_base, "/fapi/v1/depth"),
            Market::Coinm => (&self.cfg.coinm_base, "/dapi/v1/depth"),
        };
        let base = base
            .as_deref()
            .ok_or(SnapshotError::NoBaseUrl(req.market.name()))?;
        Ok(format!(
            "{}{path}?symbol={}&limit={}",
            base.trim_end_matches('/'),
            req.symbol.as_str().to_ascii_uppercase(),
            self.cfg.limit
        ))
    }

    fn fetch(&self, req: &SnapshotRequest, stop: &AtomicBool) -> Result<Vec<u8>, SnapshotError> {
        let url = self.url(req)?;
        let mut backoff = Backoff::new(self.cfg.backoff);
        let attempts = self.cfg.max_attempts.max(1);
        let mut last = String::new();
        for n in 1..=attempts {
            match self.attempt(&url) {
                Ok(body) => return Ok(body),
                Err(Attempt::Fatal(e)) => return Err(e),
                Err(Attempt::Retry(why)) => last = why,
            }
            if n == attempts || stop.load(Ordering::Relaxed) {
                return Err(SnapshotError::GaveUp {
                    url,
                    attempts: n,
                    last,
                });
            }
            std::thread::sleep(backoff.next_delay());
        }
        Err(SnapshotError::GaveUp {
            url,
            attempts,
            last,
        })
    }

    fn attempt(&self, url: &str) -> Result<Vec<u8>, Attempt> {
        let mut resp = self
            .agent
            .get(url)
            .call()
            .map_err(|e| Attempt::Retry(e.to_string()))?;
        let status = resp.status().as_u16();
        if status >= 500 || status == 429 || status == 418 {
            return Err(Attempt::Retry(format!("HTTP {status}")));
        }
        if status != 200 {
            return Err(Attempt::Fatal(SnapshotError::Status {
                url: url.to_string(),
                status,
            }));
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(self.cfg.max_body_bytes)
            .read_to_vec()
            .map_err(|e| Attempt::Retry(format!("reading body: {e}")))?;
        let mut dec = Decoder::new();
        match dec.decode(&body) {
            Ok(Frame::Snapshot(_)) => Ok(body),
            Ok(_) => Err(Attempt::Fatal(SnapshotError::InvalidBody {
                url: url.to_string(),
                reason: "JSON is not a depth snapshot (no lastUpdateId/bids/asks)".into(),
            })),
            Err(e) => Err(Attempt::Fatal(SnapshotError::InvalidBody {
                url: url.to_string(),
                reason: e.to_string(),
            })),
        }
    }
}
