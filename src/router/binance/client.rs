//! Blocking REST client for Binance-compatible spot order entry
//! (`/api/v3/order`, `/api/v3/openOrders`), one keep-alive `ureq::Agent`.
//!
//! Every request is signed, checked against the rate limiter before it is
//! sent, and its answer is typed: a Binance error body becomes
//! [`VenueError::Api`], unparseable JSON becomes [`VenueError::InvalidJson`]
//! (never a panic). Prices and quantities are written from fixed point.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use super::keys::Credentials;
use super::ratelimit::{Hold, Observed, RateLimiter, RateLimits};
use super::sign::{ParamError, Params, Signer};
use tickwire_core::orders::{Order, TimeInForce};
use tickwire_core::types::{Px, Qty, Side};

/// Binance error code: the order does not exist.
pub(super) const CODE_NO_SUCH_ORDER: i64 = -2013;
/// Binance error code: cancel rejected (e.g. unknown order).
pub(super) const CODE_CANCEL_REJECTED: i64 = -2011;
/// Binance error code: new order rejected (the message says why, e.g. a
/// duplicate client order id).
pub(super) const CODE_NEW_ORDER_REJECTED: i64 = -2010;
/// Largest response body read (bytes).
const MAX_BODY: u64 = 1 << 20;

/// Where and how to reach the venue.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Base URL, e.g. `https://api.binance.com` or `http://127.0.0.1:9000`.
    pub base_url: String,
    /// `recvWindow` sent with every signed request (ms).
    pub recv_window_ms: u64,
    /// TCP (and TLS) connect timeout.
    pub connect_timeout: Duration,
    /// Whole-call timeout: an order whose answer takes longer is "unknown".
    pub call_timeout: Duration,
    /// Venue rate limits.
    pub limits: RateLimits,
    /// Added to the local clock for `timestamp` (venue time minus local time).
    pub time_offset_ms: i64,
    /// Which Binance API family the orders go to.
    pub api: OrderApi,
}

/// The order-entry API family: spot `/api/v3`, USD-M futures `/fapi/v1` or
/// COIN-M futures `/dapi/v1` (same order semantics; futures cancel-all is
/// `allOpenOrders` and answers have no `FULL` response type).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OrderApi {
    /// Spot.
    #[default]
    Spot,
    /// USD-M futures.
    Usdm,
    /// COIN-M futures.
    Coinm,
}

impl OrderApi {
    /// The API family trading `market`.
    pub fn of(market: tickwire_core::types::Market) -> OrderApi {
        match market {
            tickwire_core::types::Market::Spot => OrderApi::Spot,
            tickwire_core::types::Market::Usdm => OrderApi::Usdm,
            tickwire_core::types::Market::Coinm => OrderApi::Coinm,
        }
    }

    fn order_path(self) -> &'static str {
        match self {
            OrderApi::Spot => "/api/v3/order",
            OrderApi::Usdm => "/fapi/v1/order",
            OrderApi::Coinm => "/dapi/v1/order",
        }
    }

    fn open_orders_path(self) -> &'static str {
        match self {
            OrderApi::Spot => "/api/v3/openOrders",
            OrderApi::Usdm => "/fapi/v1/openOrders",
            OrderApi::Coinm => "/dapi/v1/openOrders",
        }
    }

    fn cancel_all_path(self) -> &'static str {
        match self {
            OrderApi::Spot => "/api/v3/openOrders",
            OrderApi::Usdm => "/fapi/v1/allOpenOrders",
            OrderApi::Coinm => "/dapi/v1/allOpenOrders",
        }
    }

    fn time_path(self) -> &'static str {
        match self {
            OrderApi::Spot => "/api/v3/time",
            OrderApi::Usdm => "/fapi/v1/time",
            OrderApi::Coinm => "/dapi/v1/time",
        }
    }

    fn full_response(self) -> &'static str {
        match self {
            OrderApi::Spot => "FULL",
            OrderApi::Usdm | OrderApi::Coinm => "RESULT",
        }
    }
}

impl ClientConfig {
    /// Defaults for `base_url`: 5 s recvWindow, 2 s connect, 5 s per call.
    pub fn new(base_url: &str) -> ClientConfig {
        ClientConfig {
            base_url: base_url.trim_end_matches('/').to_owned(),
            recv_window_ms: 5000,
            connect_timeout: Duration::from_secs(2),
            call_timeout: Duration::from_secs(5),
            limits: RateLimits::default(),
            time_offset_ms: 0,
            api: OrderApi::Spot,
        }
    }
}

/// A failed venue call. Nothing here holds key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VenueError {
    /// The venue refused the request with a Binance error body.
    #[error("venue refused ({status}): code {code}: {msg}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Binance error code (negative).
        code: i64,
        /// Venue's message.
        msg: String,
    },
    /// 5xx: the venue failed; for a new order the outcome is unknown.
    #[error("venue server error {status}: outcome unknown, reconcile by query")]
    Server {
        /// HTTP status.
        status: u16,
    },
    /// 429: too many requests; wait `Retry-After`.
    #[error("venue rate limit hit (429): back off for {retry_after_s:?} s")]
    RateLimited {
        /// `Retry-After` seconds, if sent.
        retry_after_s: Option<u64>,
    },
    /// 418: this IP is banned until `Retry-After`.
    #[error(
        "venue banned this IP (418) for {retry_after_s:?} s: stop sending and check the request rate"
    )]
    Banned {
        /// `Retry-After` seconds, if sent.
        retry_after_s: Option<u64>,
    },
    /// No complete answer within the call timeout; outcome unknown.
    #[error("venue call timed out: outcome unknown, reconcile by query")]
    Timeout,
    /// Could not connect; the request was not sent.
    #[error("cannot connect to the venue: {0}; check base_url and the network")]
    Connect(String),
    /// The connection failed while the request was in flight; outcome unknown.
    #[error("venue connection failed mid-request: {0}; outcome unknown")]
    Transport(String),
    /// The venue answered with a body that is not the expected JSON.
    #[error("venue sent invalid JSON (HTTP {status}): {detail}")]
    InvalidJson {
        /// HTTP status.
        status: u16,
        /// Parser message.
        detail: String,
    },
    /// The local rate limiter holds sending; nothing was sent.
    #[error("rate limit hold until {0:?}: not sent")]
    Held(Hold),
    /// A parameter could not be encoded; nothing was sent.
    #[error(transparent)]
    Param(#[from] ParamError),
}

impl VenueError {
    /// Failures that count towards the circuit breaker.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            VenueError::Server { .. }
                | VenueError::Timeout
                | VenueError::Connect(_)
                | VenueError::Transport(_)
        )
    }

    /// The request may have been executed by the venue: a new order with this
    /// error must be reconciled by query before anything else.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            VenueError::Server { .. }
                | VenueError::Timeout
                | VenueError::Transport(_)
                | VenueError::InvalidJson { .. }
        )
    }
}

/// Binance order status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderStatus {
    /// Accepted, working.
    New,
    /// Partly filled, working.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled.
    Canceled,
    /// Cancel in progress.
    PendingCancel,
    /// Rejected.
    Rejected,
    /// Expired (IOC remainder, or self-trade prevention).
    Expired,
    /// A status this client does not know; treated as working.
    Other,
}

impl OrderStatus {
    fn parse(s: &str) -> OrderStatus {
        match s {
            "NEW" | "PENDING_NEW" => OrderStatus::New,
            "PARTIALLY_FILLED" => OrderStatus::PartiallyFilled,
            "FILLED" => OrderStatus::Filled,
            "CANCELED" => OrderStatus::Canceled,
            "PENDING_CANCEL" => OrderStatus::PendingCancel,
            "REJECTED" => OrderStatus::Rejected,
            "EXPIRED" | "EXPIRED_IN_MATCH" => OrderStatus::Expired,
            _ => OrderStatus::Other,
        }
    }

    /// Binance's name (what `OrderStatus::parse` reads back).
    pub fn name(self) -> &'static str {
        match self {
            OrderStatus::New => "NEW",
            OrderStatus::PartiallyFilled => "PARTIALLY_FILLED",
            OrderStatus::Filled => "FILLED",
            OrderStatus::Canceled => "CANCELED",
            OrderStatus::PendingCancel => "PENDING_CANCEL",
            OrderStatus::Rejected => "REJECTED",
            OrderStatus::Expired => "EXPIRED",
            OrderStatus::Other => "UNKNOWN",
        }
    }

    /// True while the order can still fill.
    pub fn is_open(self) -> bool {
        !self.is_terminal()
    }

    /// The order can no longer fill.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderStatus::Filled
                | OrderStatus::Canceled
                | OrderStatus::Rejected
                | OrderStatus::Expired
        )
    }
}

/// One fill reported in a `FULL` new-order response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub struct VenueFill {
    /// Fill price.
    pub price: Px,
    /// Fill quantity.
    pub qty: Qty,
}

/// An order as the venue reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VenueOrder {
    /// Venue symbol.
    pub symbol: String,
    /// Venue order id.
    pub order_id: i64,
    /// The order's client id.
    pub client_order_id: String,
    /// Limit price.
    pub price: Px,
    /// Original quantity.
    pub orig_qty: Qty,
    /// Quantity filled so far.
    pub executed_qty: Qty,
    /// Quote quantity filled so far (price x qty summed, fixed point).
    pub cum_quote: i64,
    /// Status.
    pub status: OrderStatus,
    /// Fills in this response (new-order `FULL` responses only).
    pub fills: Vec<VenueFill>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOrder {
    symbol: String,
    order_id: i64,
    client_order_id: String,
    #[serde(default)]
    orig_client_order_id: Option<String>,
    price: Px,
    orig_qty: Qty,
    executed_qty: Qty,
    #[serde(default, alias = "cumQuote")]
    cummulative_quote_qty: Option<Px>,
    status: String,
    #[serde(default)]
    fills: Vec<VenueFill>,
}

impl From<RawOrder> for VenueOrder {
    fn from(r: RawOrder) -> VenueOrder {
        VenueOrder {
            symbol: r.symbol,
            order_id: r.order_id,
            // A cancel answer names the cancel request in clientOrderId and
            // the order itself in origClientOrderId.
            client_order_id: r.orig_client_order_id.unwrap_or(r.client_order_id),
            price: r.price,
            orig_qty: r.orig_qty,
            executed_qty: r.executed_qty,
            cum_quote: r.cummulative_quote_qty.map_or(0, |p| p.0),
            status: OrderStatus::parse(&r.status),
            fills: r.fills,
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    code: i64,
    msg: String,
}

#[derive(Clone, Copy)]
enum Method {
    Get,
    Post,
    Delete,
}

/// The REST client. Owns its agent, signer and rate limiter.
pub struct BinanceClient {
    agent: ureq::Agent,
    conf: ClientConfig,
    api_key: String,
    signer: Signer,
    limiter: RateLimiter,
}

impl std::fmt::Debug for BinanceClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let head: String = self.api_key.chars().take(4).collect();
        f.debug_struct("BinanceClient")
            .field("base_url", &self.conf.base_url)
            .field("api_key", &format_args!("{head}…(redacted)"))
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        })
    }
}

/// Local wall clock in ms since the Unix epoch.
pub fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl BinanceClient {
    /// A client for `conf.base_url` signing with `creds`.
    pub fn new(conf: ClientConfig, creds: &Credentials) -> BinanceClient {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(conf.connect_timeout))
            .timeout_global(Some(conf.call_timeout))
            .max_idle_connections_per_host(4)
            .build()
            .into();
        BinanceClient {
            agent,
            api_key: creds.api_key().to_owned(),
            signer: Signer::new(creds),
            limiter: RateLimiter::new(conf.limits),
            conf,
        }
    }

    /// The rate limiter (counters, current hold).
    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// Places a LIMIT order with `newOrderRespType=FULL`.
    pub fn new_order(
        &mut self,
        order: &Order,
        symbol: &str,
        client_id: &str,
    ) -> Result<VenueOrder, VenueError> {
        let mut p = Params::new();
        p.push("symbol", symbol)?;
        p.push(
            "side",
            match order.side {
                Side::Buy => "BUY",
                Side::Sell => "SELL",
            },
        )?;
        p.push("type", "LIMIT")?;
        p.push(
            "timeInForce",
            match order.tif {
                TimeInForce::Gtc => "GTC",
                TimeInForce::Ioc => "IOC",
            },
        )?;
        p.push("quantity", order.qty)?;
        p.push("price", order.px)?;
        p.push("newClientOrderId", client_id)?;
        p.push("newOrderRespType", self.conf.api.full_response())?;
        let body = self.call(Method::Post, self.conf.api.order_path(), p, 1, true)?;
        parse_order(&body)
    }

    /// Cancels one order by client id.
    pub fn cancel(&mut self, symbol: &str, client_id: &str) -> Result<VenueOrder, VenueError> {
        let mut p = Params::new();
        p.push("symbol", symbol)?;
        p.push("origClientOrderId", client_id)?;
        let body = self.call(Method::Delete, self.conf.api.order_path(), p, 1, false)?;
        parse_order(&body)
    }

    /// Queries one order by client id.
    pub fn query(&mut self, symbol: &str, client_id: &str) -> Result<VenueOrder, VenueError> {
        let mut p = Params::new();
        p.push("symbol", symbol)?;
        p.push("origClientOrderId", client_id)?;
        let body = self.call(Method::Get, self.conf.api.order_path(), p, 4, false)?;
        parse_order(&body)
    }

    /// Open orders of one symbol.
    pub fn open_orders(&mut self, symbol: &str) -> Result<Vec<VenueOrder>, VenueError> {
        let mut p = Params::new();
        p.push("symbol", symbol)?;
        let body = self.call(Method::Get, self.conf.api.open_orders_path(), p, 6, false)?;
        parse_orders(&body)
    }

    /// Cancels every open order of one symbol; returns the cancelled orders.
    /// "No open orders" is an empty list, not an error.
    pub fn cancel_all(&mut self, symbol: &str) -> Result<Vec<VenueOrder>, VenueError> {
        let mut p = Params::new();
        p.push("symbol", symbol)?;
        match self.call(Method::Delete, self.conf.api.cancel_all_path(), p, 1, false) {
            Ok(body) => parse_orders(&body),
            Err(VenueError::Api { code, .. })
                if code == CODE_CANCEL_REJECTED || code == CODE_NO_SUCH_ORDER =>
            {
                Ok(Vec::new())
            }
            Err(e) => Err(e),
        }
    }

    /// Asks the venue for its clock (`GET .../time`, unsigned) and sets
    /// the offset added to every `timestamp` to venue time minus local
    /// time, taken at the middle of the round trip. Returns the offset (ms).
    pub fn sync_time(&mut self) -> Result<i64, VenueError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct ServerTime {
            server_time: u64,
        }
        let url = format!("{}{}", self.conf.base_url, self.conf.api.time_path());
        let before = wall_ms();
        let mut resp = self.agent.get(&url).call().map_err(map_transport)?;
        let after = wall_ms();
        let status = resp.status().as_u16();
        if status >= 500 {
            return Err(VenueError::Server { status });
        }
        let body = read_body(&mut resp)?;
        let t: ServerTime = serde_json::from_str(&body).map_err(|e| VenueError::InvalidJson {
            status,
            detail: e.to_string(),
        })?;
        let local = before / 2 + after / 2;
        let offset = i64::try_from(t.server_time).unwrap_or(i64::MAX)
            - i64::try_from(local).unwrap_or(i64::MAX);
        self.conf.time_offset_ms = offset;
        Ok(offset)
    }

    fn call(
        &mut self,
        method: Method,
        path: &str,
        mut params: Params,
        weight: u32,
        is_order: bool,
    ) -> Result<String, VenueError> {
        let now = wall_ms();
        self.limiter
            .check(now, weight, is_order)
            .map_err(VenueError::Held)?;
        let ts = now.saturating_add_signed(self.conf.time_offset_ms);
        params.push_timing(self.conf.recv_window_ms, ts);
        let url_base = format!("{}{}", self.conf.base_url, path);
        let result = match method {
            Method::Post => {
                let sig = self.signer.sign("", params.as_str());
                let body = format!("{}&signature={}", params.as_str(), sig);
                self.agent
                    .post(&url_base)
                    .header("X-MBX-APIKEY", &self.api_key)
                    .content_type("application/x-www-form-urlencoded")
                    .send(&body)
            }
            Method::Get | Method::Delete => {
                let sig = self.signer.sign(params.as_str(), "");
                let url = format!("{url_base}?{}&signature={sig}", params.as_str());
                let req = match method {
                    Method::Get => self.agent.get(&url),
                    _ => self.agent.delete(&url),
                };
                req.header("X-MBX-APIKEY", &self.api_key).call()
            }
        };
        let mut resp = result.map_err(map_transport)?;
        let status = resp.status().as_u16();
        let header_num = |name: &str| -> Option<u64> {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|s| s.trim().parse().ok())
        };
        let observed = Observed {
            status,
            used_weight_1m: header_num("x-mbx-used-weight-1m").and_then(|v| u32::try_from(v).ok()),
            order_count_10s: header_num("x-mbx-order-count-10s")
                .and_then(|v| u32::try_from(v).ok()),
            retry_after_s: header_num("retry-after"),
        };
        self.limiter.observe(wall_ms(), observed);
        match status {
            429 => {
                return Err(VenueError::RateLimited {
                    retry_after_s: observed.retry_after_s,
                });
            }
            418 => {
                return Err(VenueError::Banned {
                    retry_after_s: observed.retry_after_s,
                });
            }
            500..=599 => return Err(VenueError::Server { status }),
            _ => {}
        }
        let body = read_body(&mut resp)?;
        if (200..300).contains(&status) {
            return Ok(body);
        }
        match serde_json::from_str::<ErrorBody>(&body) {
            Ok(e) => Err(VenueError::Api {
                status,
                code: e.code,
                msg: e.msg,
            }),
            Err(e) => Err(VenueError::InvalidJson {
                status,
                detail: e.to_string(),
            }),
        }
    }
}

/// The body as text, at most [`MAX_BODY`] bytes.
fn read_body(resp: &mut ureq::http::Response<ureq::Body>) -> Result<String, VenueError> {
    resp.body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_string()
        .map_err(map_transport)
}

fn map_transport(e: ureq::Error) -> VenueError {
    match e {
        ureq::Error::Timeout(_) => VenueError::Timeout,
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
            VenueError::Connect(e.to_string())
        }
        ureq::Error::Io(ref io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            VenueError::Connect(e.to_string())
        }
        ureq::Error::Io(ref io) if io.kind() == std::io::ErrorKind::TimedOut => VenueError::Timeout,
        other => VenueError::Transport(other.to_string()),
    }
}

/// Parses one order object (new, cancel or query answer).
pub fn parse_order(body: &str) -> Result<VenueOrder, VenueError> {
    serde_json::from_str::<RawOrder>(body)
        .map(VenueOrder::from)
        .map_err(|e| VenueError::InvalidJson {
            status: 200,
            detail: e.to_string(),
        })
}

/// Parses a list of orders. Entries that are not plain orders (e.g. OCO
/// lists in a cancel-all answer) are skipped.
pub(super) fn parse_orders(body: &str) -> Result<Vec<VenueOrder>, VenueError> {
    let items: Vec<serde_json::Value> =
        serde_json::from_str(body).map_err(|e| VenueError::InvalidJson {
            status: 200,
            detail: e.to_string(),
        })?;
    Ok(items
        .into_iter()
        .filter_map(|v| serde_json::from_value::<RawOrder>(v).ok())
        .map(VenueOrder::from)
        .collect())
}
