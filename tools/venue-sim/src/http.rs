//! The REST server: a small HTTP/1.1 server on std threads (one per
//! connection, keep-alive), and the Binance endpoints of the three markets.

use std::collections::BTreeMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::engine::{ApiError, NewOrder, OType, OrderRef, RespType, Tif};
use crate::limits::{Admit, OrderFault, documented};
use crate::{Dec, Market, Shared, Side, auth, lock, now_ms};

/// Largest request head accepted.
const MAX_HEAD: usize = 32 << 10;
/// Largest request body accepted.
const MAX_BODY: usize = 1 << 20;
/// An idle keep-alive connection is closed after this long.
const IDLE: Duration = Duration::from_secs(120);

/// One parsed request.
pub(crate) struct Req {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
    close: bool,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One answer.
pub(crate) struct Reply {
    status: u16,
    body: String,
    content_type: &'static str,
    headers: Vec<(String, String)>,
    /// Never answer (the request is held until the client gives up).
    hold: bool,
}

impl Reply {
    fn json(status: u16, body: String) -> Reply {
        Reply {
            status,
            body,
            content_type: "application/json;charset=UTF-8",
            headers: Vec::new(),
            hold: false,
        }
    }

    fn ok(v: &Value) -> Reply {
        Reply::json(200, v.to_string())
    }

    fn err(e: &ApiError) -> Reply {
        Reply::json(e.status, e.body())
    }

    fn header(mut self, k: &str, v: impl ToString) -> Reply {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        410 => "Gone",
        413 => "Payload Too Large",
        418 => "I'm a teapot",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Accepts connections until the simulator stops.
pub(crate) fn run_accept(shared: &Arc<Shared>, listener: &TcpListener) {
    while !shared.stopping() {
        match listener.accept() {
            Ok((stream, _)) => {
                shared.stat(|s| s.http_connections += 1);
                let s = shared.clone();
                let r = shared.spawn("venue-sim-http-conn", move || serve(&s, stream));
                if r.is_err() {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

enum Parsed {
    Done(Req, usize),
    Partial,
    Bad(u16),
}

fn parse(buf: &[u8]) -> Parsed {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut r = httparse::Request::new(&mut headers);
    let n = match r.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return Parsed::Bad(400),
    };
    let mut hs = Vec::new();
    let mut len = 0usize;
    let mut close = r.version == Some(0);
    for h in r.headers.iter() {
        let v = String::from_utf8_lossy(h.value).to_string();
        if h.name.eq_ignore_ascii_case("content-length") {
            match v.trim().parse::<usize>() {
                Ok(l) if l <= MAX_BODY => len = l,
                _ => return Parsed::Bad(413),
            }
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            return Parsed::Bad(400);
        } else if h.name.eq_ignore_ascii_case("connection") {
            let l = v.to_ascii_lowercase();
            if l.contains("close") {
                close = true;
            } else if l.contains("keep-alive") {
                close = false;
            }
        }
        hs.push((h.name.to_string(), v));
    }
    if buf.len() < n + len {
        return Parsed::Partial;
    }
    let target = r.path.unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Parsed::Done(
        Req {
            method: r.method.unwrap_or("GET").to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers: hs,
            body: String::from_utf8_lossy(&buf[n..n + len]).to_string(),
            close,
        },
        n + len,
    )
}

fn write_reply(stream: &mut TcpStream, r: &Reply, close: bool) -> bool {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
        r.status,
        reason(r.status),
        r.content_type,
        r.body.len()
    );
    for (k, v) in &r.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(if close {
        "Connection: close\r\n\r\n"
    } else {
        "Connection: keep-alive\r\n\r\n"
    });
    let mut out = head.into_bytes();
    out.extend_from_slice(r.body.as_bytes());
    stream.write_all(&out).and_then(|()| stream.flush()).is_ok()
}

fn serve(shared: &Arc<Shared>, mut stream: TcpStream) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    let mut tmp = [0u8; 16384];
    let mut idle = Instant::now();
    loop {
        if shared.stopping() {
            return;
        }
        match parse(&buf) {
            Parsed::Done(req, used) => {
                buf.drain(..used);
                idle = Instant::now();
                shared.stat(|s| s.http_requests += 1);
                let mut reply = None;
                shared.guarded(|| reply = Some(handle(shared, &req)));
                let reply = reply.unwrap_or_else(|| {
                    Reply::err(&ApiError::new(
                        500,
                        -1000,
                        "An unknown error occurred while processing the request.",
                    ))
                });
                if reply.hold {
                    hold(shared, &mut stream);
                    return;
                }
                if !write_reply(&mut stream, &reply, req.close) || req.close {
                    return;
                }
                continue;
            }
            Parsed::Bad(status) => {
                let e = ApiError::new(status, -1000, "Malformed request.");
                write_reply(&mut stream, &Reply::err(&e), true);
                return;
            }
            Parsed::Partial => {
                if buf.len() > MAX_HEAD + MAX_BODY {
                    return;
                }
            }
        }
        match stream.read(&mut tmp) {
            Ok(0) => return,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if idle.elapsed() > IDLE {
                    return;
                }
            }
            Err(_) => return,
        }
    }
}

/// Keeps a connection whose request is never answered until the client
/// gives up or the simulator stops.
fn hold(shared: &Shared, stream: &mut TcpStream) {
    let mut tmp = [0u8; 4096];
    while !shared.stopping() {
        match stream.read(&mut tmp) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

// ----- parameters and security -------------------------------------------------

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let h = (b[i + 1] as char).to_digit(16);
                let l = (b[i + 2] as char).to_digit(16);
                match (h, l) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}

/// Parameters from the query string and the form body (the query string
/// wins when both carry one, as documented).
fn params(req: &Req) -> Result<BTreeMap<String, String>, ApiError> {
    let mut out = BTreeMap::new();
    for src in [&req.body, &req.query] {
        let mut seen = BTreeMap::new();
        for kv in src.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let k = decode(k);
            if seen.insert(k.clone(), ()).is_some() {
                return Err(ApiError::bad(
                    -1101,
                    "Duplicate values for a parameter detected.",
                ));
            }
            out.insert(k, decode(v));
        }
    }
    Ok(out)
}

fn missing(name: &str) -> ApiError {
    ApiError::bad(
        -1102,
        format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
    )
}

/// Binance's timing rule: `timestamp < serverTime + 1 s` and
/// `serverTime - timestamp <= recvWindow` (default 5000, max 60000).
pub(crate) fn check_time(ts: Option<u64>, recv_window: Option<&str>) -> Result<(), (i64, String)> {
    let Some(ts) = ts else {
        return Err((
            -1102,
            "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.".into(),
        ));
    };
    let rw = match recv_window {
        None => Dec::from_int(5000),
        Some(s) => match Dec::parse(s) {
            Some(d) if d.scale_digits() <= 3 && !d.is_negative() => d,
            _ => return Err((-1100, "Illegal characters found in parameter 'recvWindow'; legal range is '^[0-9]{1,20}(\\.[0-9]{1,3})?$'.".into())),
        },
    };
    if rw > Dec::from_int(60_000) {
        return Err((-1131, "recvWindow must be less than 60000".into()));
    }
    // Microsecond timestamps are accepted too.
    let ts_ms = if ts > 100_000_000_000_000 {
        Dec::from_int(i64::try_from(ts).unwrap_or(i64::MAX))
            .checked_div(Dec::from_int(1000))
            .unwrap_or(Dec::ZERO)
    } else {
        Dec::from_int(i64::try_from(ts).unwrap_or(i64::MAX))
    };
    let now = Dec::from_int(i64::try_from(now_ms()).unwrap_or(i64::MAX));
    if ts_ms >= now.plus(Dec::from_int(1000)) {
        return Err((
            -1021,
            "Timestamp for this request was 1000ms ahead of the server's time.".into(),
        ));
    }
    if now.minus(ts_ms) > rw {
        return Err((
            -1021,
            "Timestamp for this request is outside of the recvWindow.".into(),
        ));
    }
    Ok(())
}

/// API key check, and for SIGNED endpoints timestamp + signature.
fn authenticate(
    shared: &Shared,
    req: &Req,
    p: &BTreeMap<String, String>,
    signed: bool,
) -> Result<(), ApiError> {
    let key = req.header("X-MBX-APIKEY").unwrap_or("");
    if key.is_empty() {
        shared.stat(|s| s.key_failures += 1);
        return Err(ApiError::new(401, -2014, "API-key format invalid."));
    }
    if key != shared.cfg.api_key {
        shared.stat(|s| s.key_failures += 1);
        return Err(ApiError::new(
            401,
            -2015,
            "Invalid API-key, IP, or permissions for action.",
        ));
    }
    if !signed {
        return Ok(());
    }
    let (payload, sig) = auth::rest_payload(&req.query, &req.body);
    let Some(sig) = sig.filter(|s| !s.is_empty()) else {
        return Err(missing("signature"));
    };
    let ts = match p.get("timestamp") {
        None => None,
        Some(t) => Some(t.parse::<u64>().map_err(|_| missing("timestamp"))?),
    };
    if let Err((code, msg)) = check_time(ts, p.get("recvWindow").map(String::as_str)) {
        if code == -1021 {
            shared.stat(|s| s.timestamp_failures += 1);
        }
        return Err(ApiError::bad(code, msg));
    }
    if !auth::verify(&shared.cfg.api_secret, &payload, &sig) {
        shared.stat(|s| s.signature_failures += 1);
        return Err(ApiError::bad(
            -1022,
            "Signature for this request is not valid.",
        ));
    }
    Ok(())
}

// ----- routing ---------------------------------------------------------------------

/// What an endpoint is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ep {
    Ping,
    Time,
    ExchangeInfo,
    Depth,
    NewOrder,
    CancelOrder,
    QueryOrder,
    OpenOrders,
    CancelOpen,
    CancelAllFut,
    Account,
    Balance,
    PositionRisk,
    ListenKey,
    RemovedUserStream,
}

fn route(method: &str, path: &str) -> Option<(Market, Ep)> {
    let (market, rest) = if let Some(r) = path.strip_prefix("/api/v3/") {
        (Market::Spot, r)
    } else if let Some(r) = path.strip_prefix("/fapi/") {
        (Market::UsdM, r)
    } else if let Some(r) = path.strip_prefix("/dapi/") {
        (Market::CoinM, r)
    } else {
        return None;
    };
    let spot = market == Market::Spot;
    let v1 = |name: &str| -> bool {
        if spot {
            rest == name
        } else {
            rest == format!("v1/{name}")
        }
    };
    let ep = match method {
        "GET" if v1("ping") => Ep::Ping,
        "GET" if v1("time") => Ep::Time,
        "GET" if v1("exchangeInfo") => Ep::ExchangeInfo,
        "GET" if v1("depth") => Ep::Depth,
        "POST" if v1("order") => Ep::NewOrder,
        "DELETE" if v1("order") => Ep::CancelOrder,
        "GET" if v1("order") => Ep::QueryOrder,
        "GET" if v1("openOrders") => Ep::OpenOrders,
        "DELETE" if spot && rest == "openOrders" => Ep::CancelOpen,
        "DELETE" if !spot && rest == "v1/allOpenOrders" => Ep::CancelAllFut,
        "GET" if spot && rest == "account" => Ep::Account,
        "GET" if market == Market::UsdM && (rest == "v2/account" || rest == "v3/account") => {
            Ep::Account
        }
        "GET" if market == Market::CoinM && rest == "v1/account" => Ep::Account,
        "GET" if market == Market::UsdM && (rest == "v2/balance" || rest == "v3/balance") => {
            Ep::Balance
        }
        "GET" if market == Market::CoinM && rest == "v1/balance" => Ep::Balance,
        "GET"
            if market == Market::UsdM
                && (rest == "v2/positionRisk" || rest == "v3/positionRisk") =>
        {
            Ep::PositionRisk
        }
        "GET" if market == Market::CoinM && rest == "v1/positionRisk" => Ep::PositionRisk,
        "POST" | "PUT" | "DELETE" if !spot && rest == "v1/listenKey" => Ep::ListenKey,
        _ if spot && rest == "userDataStream" => Ep::RemovedUserStream,
        _ => return None,
    };
    Some((market, ep))
}

/// Documented request weight.
fn weight(market: Market, ep: Ep, p: &BTreeMap<String, String>, path: &str) -> u32 {
    let fut = market.futures();
    match ep {
        Ep::Ping
        | Ep::Time
        | Ep::RemovedUserStream
        | Ep::ListenKey
        | Ep::CancelOrder
        | Ep::CancelAllFut
        | Ep::CancelOpen => 1,
        Ep::ExchangeInfo => {
            if fut {
                1
            } else {
                20
            }
        }
        Ep::Depth => {
            let limit: u32 = p
                .get("limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(if fut { 500 } else { 100 });
            if fut {
                match limit {
                    0..=50 => 2,
                    51..=100 => 5,
                    101..=500 => 10,
                    _ => 20,
                }
            } else {
                match limit {
                    0..=100 => 5,
                    101..=500 => 25,
                    501..=1000 => 50,
                    _ => 250,
                }
            }
        }
        // USD-M: "0 on IP rate limit"; spot and COIN-M: 1.
        Ep::NewOrder => {
            if market == Market::UsdM {
                0
            } else {
                1
            }
        }
        Ep::QueryOrder => {
            if fut {
                1
            } else {
                4
            }
        }
        Ep::OpenOrders => match (fut, p.contains_key("symbol")) {
            (false, true) => 6,
            (false, false) => 80,
            (true, true) => 1,
            (true, false) => 40,
        },
        Ep::Account => {
            if fut {
                5
            } else {
                20
            }
        }
        Ep::Balance | Ep::PositionRisk => {
            if market == Market::CoinM && !path.contains("v3") {
                1
            } else {
                5
            }
        }
    }
}

fn weight_header(market: Market) -> &'static str {
    if market.futures() {
        "X-MBX-USED-WEIGHT-1m"
    } else {
        "X-MBX-USED-WEIGHT-1M"
    }
}

fn handle(shared: &Shared, req: &Req) -> Reply {
    let Some((market, ep)) = route(&req.method, &req.path) else {
        return Reply::json(
            404,
            json!({"code": -1000, "msg": format!("Unknown path {} {}", req.method, req.path)})
                .to_string(),
        );
    };
    let p = match params(req) {
        Ok(p) => p,
        Err(e) => return Reply::err(&e),
    };
    let w = weight(market, ep, &p, &req.path);
    let admit = lock(&shared.limits).admit(market, w);
    let used = match admit {
        Admit::Ok(u) => u,
        Admit::TooMuchWeight {
            used,
            retry_after,
            limit,
        } => {
            shared.stat(|s| s.weight_429 += 1);
            let e = ApiError::new(
                429,
                -1003,
                format!(
                    "Too much request weight used; current limit is {limit} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API."
                ),
            );
            return Reply::err(&e)
                .header(weight_header(market), used)
                .header("Retry-After", retry_after);
        }
        Admit::Banned { used, retry_after } => {
            shared.stat(|s| s.banned_418 += 1);
            let until = now_ms() + retry_after * 1000;
            let e = ApiError::new(
                418,
                -1003,
                format!(
                    "Way too much request weight used; IP banned until {until}. Please use WebSocket Streams for live updates to avoid bans."
                ),
            );
            return Reply::err(&e)
                .header(weight_header(market), used)
                .header("Retry-After", retry_after);
        }
    };
    let mut reply = match dispatch(shared, req, &p, market, ep) {
        Ok(r) => r,
        Err(e) => Reply::err(&e),
    };
    reply
        .headers
        .insert(0, (weight_header(market).to_string(), used.to_string()));
    reply
}

fn symbol_of(p: &BTreeMap<String, String>) -> Result<String, ApiError> {
    p.get("symbol")
        .filter(|s| !s.is_empty())
        .map(|s| s.to_ascii_uppercase())
        .ok_or_else(|| missing("symbol"))
}

fn order_ref(p: &BTreeMap<String, String>) -> Result<OrderRef, ApiError> {
    if let Some(id) = p.get("orderId").filter(|s| !s.is_empty()) {
        return id.parse::<u64>().map(OrderRef::Id).map_err(|_| {
            ApiError::bad(
                -1100,
                "Illegal characters found in parameter 'orderId'; legal range is '^[0-9]{1,20}$'.",
            )
        });
    }
    if let Some(c) = p.get("origClientOrderId").filter(|s| !s.is_empty()) {
        return Ok(OrderRef::Client(c.clone()));
    }
    Err(ApiError::bad(
        -1102,
        "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
    ))
}

fn dispatch(
    shared: &Shared,
    req: &Req,
    p: &BTreeMap<String, String>,
    market: Market,
    ep: Ep,
) -> Result<Reply, ApiError> {
    match ep {
        Ep::Ping => Ok(Reply::ok(&json!({}))),
        Ep::Time => Ok(Reply::ok(&json!({"serverTime": now_ms()}))),
        Ep::RemovedUserStream => Err(ApiError::new(
            410,
            -1020,
            "This operation is not supported.",
        )),
        Ep::ExchangeInfo => exchange_info(shared, p, market),
        Ep::Depth => depth(shared, p, market),
        Ep::ListenKey => {
            authenticate(shared, req, p, false)?;
            let cfg = &shared.cfg;
            match req.method.as_str() {
                "POST" => Ok(Reply::ok(
                    &json!({"listenKey": shared.users.create(market, cfg.listen_key_validity, cfg.faults.listen_key_expire_early)}),
                )),
                "PUT" => {
                    let k = shared.users.keepalive(
                        market,
                        p.get("listenKey").map(String::as_str),
                        cfg.listen_key_validity,
                    )?;
                    Ok(Reply::ok(&json!({"listenKey": k})))
                }
                _ => {
                    shared.users.delete(market);
                    Ok(Reply::ok(&json!({})))
                }
            }
        }
        Ep::NewOrder => new_order(shared, req, p, market),
        _ => {
            authenticate(shared, req, p, true)?;
            signed_misc(shared, p, market, ep)
        }
    }
}

fn exchange_info(
    shared: &Shared,
    p: &BTreeMap<String, String>,
    market: Market,
) -> Result<Reply, ApiError> {
    let mut only: Option<Vec<String>> = None;
    if let Some(s) = p.get("symbol") {
        only = Some(vec![s.to_ascii_uppercase()]);
    } else if let Some(list) = p.get("symbols") {
        let v: Vec<String> = serde_json::from_str(list)
            .map_err(|_| ApiError::bad(-1100, "Illegal characters found in parameter 'symbols'; legal range is '^\\[(\"[A-Z0-9-_.]{1,20}\"(,\"[A-Z0-9-_.]{1,20}\"){0,}){0,1}\\]$'."))?;
        only = Some(v);
    }
    let (wl, _, olong, _) = documented(market);
    let o10 = lock(&shared.limits).orders_10s_limit(market);
    let eng = lock(&shared.engine);
    let symbols = eng.symbols_json(market, only.as_deref());
    if only.as_ref().is_some_and(|o| symbols.len() < o.len()) {
        return Err(ApiError::bad(-1121, "Invalid symbol."));
    }
    let limits = if market == Market::Spot {
        json!([
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": wl},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": o10},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": olong},
            {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
        ])
    } else {
        json!([
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": wl},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": olong},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": o10},
        ])
    };
    let mut v = json!({"timezone": "UTC", "serverTime": now_ms(), "rateLimits": limits, "exchangeFilters": [], "symbols": symbols});
    if market.futures()
        && let Some(m) = v.as_object_mut()
    {
        m.insert(
            "futuresType".into(),
            if market == Market::UsdM {
                "U_MARGINED"
            } else {
                "COIN_MARGINED"
            }
            .into(),
        );
    }
    Ok(Reply::ok(&v))
}

fn depth(shared: &Shared, p: &BTreeMap<String, String>, market: Market) -> Result<Reply, ApiError> {
    let sym = symbol_of(p)?;
    if let Some(f) = shared.cfg.faults.depth_fail {
        let mut l = lock(&shared.limits);
        if l.depth_failed < f.count {
            l.depth_failed += 1;
            drop(l);
            shared.stat(|s| s.depth_failures += 1);
            let e = match f.status {
                500 => ApiError::new(
                    500,
                    -1000,
                    "An unknown error occurred while processing the request.",
                ),
                503 => ApiError::new(
                    503,
                    -1008,
                    "Server is currently overloaded with other requests. Please try again in a few minutes.",
                ),
                418 => ApiError::new(
                    418,
                    -1003,
                    "Way too much request weight used; IP banned. Please use WebSocket Streams for live updates to avoid bans.",
                ),
                _ => ApiError::new(
                    429,
                    -1003,
                    "Too much request weight used. Please use WebSocket Streams for live updates to avoid polling the API.",
                ),
            };
            let mut r = Reply::err(&e);
            if matches!(f.status, 418 | 429) {
                r = r.header("Retry-After", f.retry_after_s);
            }
            return Ok(r);
        }
    }
    let max = if market.futures() { 1000 } else { 5000 };
    let limit = match p.get("limit") {
        None => if market.futures() { 500 } else { 100 },
        Some(l) => l
            .parse::<usize>()
            .map_err(|_| ApiError::bad(-1100, "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'."))?
            .clamp(1, max),
    };
    let huge = shared.cfg.faults.depth_huge_levels;
    let mut eng = lock(&shared.engine);
    if eng.get(market, &sym).is_none() {
        return Err(ApiError::bad(-1121, "Invalid symbol."));
    }
    match eng.depth_json(market, &sym, limit, huge) {
        Some(body) => {
            eng.mark_depth_served(market, &sym);
            drop(eng);
            if huge.is_some() {
                shared.stat(|s| s.depth_huge += 1);
            }
            Ok(Reply::json(200, body))
        }
        None => Err(ApiError::new(
            503,
            -1001,
            "Internal error; unable to process your request. Please try again.",
        )),
    }
}

fn client_id_ok(c: &str) -> bool {
    !c.is_empty()
        && c.len() <= 36
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'/' | b'_' | b'-'))
}

fn parse_amount(
    p: &BTreeMap<String, String>,
    name: &str,
    max_digits: u32,
    fut: bool,
) -> Result<Option<Dec>, ApiError> {
    let Some(s) = p.get(name).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let legal = s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && s.bytes().filter(|&b| b == b'.').count() <= 1;
    let d = Dec::parse(s).filter(|_| legal).ok_or_else(|| {
        ApiError::bad(-1100, format!("Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'."))
    })?;
    if d.scale_digits() > max_digits {
        return Err(if fut {
            ApiError::bad(
                -1111,
                "Precision is over the maximum defined for this asset.",
            )
        } else {
            ApiError::bad(-1111, format!("Parameter '{name}' has too much precision."))
        });
    }
    Ok(Some(d))
}

fn parse_new_order(
    shared: &Shared,
    p: &BTreeMap<String, String>,
    market: Market,
    client_id: String,
) -> Result<NewOrder, ApiError> {
    let fut = market.futures();
    let symbol = symbol_of(p)?;
    let (pd, qd) = {
        let eng = lock(&shared.engine);
        let r = &eng
            .get(market, &symbol)
            .ok_or_else(|| ApiError::bad(-1121, "Invalid symbol."))?
            .rules;
        (r.price_dec, r.qty_dec)
    };
    let side = match p.get("side").map(String::as_str) {
        Some("BUY") => Side::Buy,
        Some("SELL") => Side::Sell,
        None | Some("") => return Err(missing("side")),
        Some(_) => return Err(ApiError::bad(-1117, "Invalid side.")),
    };
    let otype = match p.get("type").map(String::as_str) {
        Some("LIMIT") => OType::Limit,
        Some("MARKET") => OType::Market,
        Some("LIMIT_MAKER") if !fut => OType::LimitMaker,
        None | Some("") => return Err(missing("type")),
        Some(_) => return Err(ApiError::bad(-1116, "Invalid orderType.")),
    };
    let tif = match (otype, p.get("timeInForce").map(String::as_str)) {
        (OType::Limit, None | Some("")) => return Err(missing("timeInForce")),
        (_, Some("GTC")) | (OType::Market | OType::LimitMaker, None) => Tif::Gtc,
        (_, Some("IOC")) => Tif::Ioc,
        (_, Some("FOK")) => Tif::Fok,
        (_, Some("GTX")) if fut => Tif::Gtx,
        _ => return Err(ApiError::bad(-1115, "Invalid timeInForce.")),
    };
    let (qmax, pmax) = if fut { (qd, pd) } else { (8, 8) };
    let qty = parse_amount(p, "quantity", qmax, fut)?.ok_or_else(|| missing("quantity"))?;
    let price = parse_amount(p, "price", pmax, fut)?;
    let price = match (otype, price) {
        (OType::Market, Some(_)) if !fut => {
            return Err(ApiError::bad(
                -1106,
                "Parameter 'price' sent when not required.",
            ));
        }
        (OType::Market, _) => Dec::ZERO,
        (_, Some(p)) => p,
        (_, None) => return Err(missing("price")),
    };
    let resp = match p.get("newOrderRespType").map(String::as_str) {
        None | Some("") => {
            if fut || otype == OType::LimitMaker {
                RespType::Ack
            } else {
                RespType::Full
            }
        }
        Some("ACK") => RespType::Ack,
        Some("RESULT") => RespType::Result,
        Some("FULL") if !fut => RespType::Full,
        Some(_) => {
            return Err(ApiError::bad(
                -1100,
                "Illegal characters found in parameter 'newOrderRespType'.",
            ));
        }
    };
    let reduce_only = match p.get("reduceOnly").map(String::as_str) {
        None | Some("false") => false,
        Some("true") if fut => true,
        Some(_) if fut => {
            return Err(ApiError::bad(
                -1100,
                "Illegal characters found in parameter 'reduceOnly'; legal range is 'true, false'.",
            ));
        }
        Some(_) => {
            return Err(ApiError::bad(
                -1104,
                "Not all sent parameters were read; read '8' parameter(s) but was sent '9'.",
            ));
        }
    };
    Ok(NewOrder {
        symbol,
        side,
        otype,
        tif,
        qty,
        price,
        client_id,
        resp,
        reduce_only,
    })
}

const HTML_PAGE: &str = "<!DOCTYPE html><html><head><title>Service temporarily unavailable</title></head><body><h1>Please try again later</h1><p>This page is served by a proxy in front of the API.</p></body></html>";

fn new_order(
    shared: &Shared,
    req: &Req,
    p: &BTreeMap<String, String>,
    market: Market,
) -> Result<Reply, ApiError> {
    let fut = market.futures();
    let client_id = p
        .get("newClientOrderId")
        .filter(|s| !s.is_empty())
        .cloned()
        .unwrap_or_default();
    shared.wire.order_received(&client_id);
    authenticate(shared, req, p, true)?;
    shared.stat(|s| s.orders_received += 1);
    if !client_id.is_empty() && !client_id_ok(&client_id) {
        return Err(ApiError::bad(
            -1100,
            "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
        ));
    }
    let f = &shared.cfg.faults;
    let (n, fault) = {
        let mut l = lock(&shared.limits);
        l.new_orders += 1;
        let n = l.new_orders;
        let ban = f.ban_after_orders == Some(n) && !l.ban_fired;
        if ban {
            l.ban_fired = true;
        }
        let fault = l.roll(f.order_5xx_pct, f.order_429_pct, f.order_no_answer_pct);
        (n, if ban { None } else { Some(fault) })
    };
    let Some(fault) = fault else {
        shared.stat(|s| s.order_418 += 1);
        let until = now_ms() + 2000;
        let e = ApiError::new(
            418,
            -1003,
            format!(
                "Way too much request weight used; IP banned until {until}. Please use WebSocket Streams for live updates to avoid bans."
            ),
        );
        return Ok(Reply::err(&e).header("Retry-After", 2));
    };
    if f.order_5xx_from.is_some_and(|from| n >= from) || fault == OrderFault::ServerError {
        shared.stat(|s| s.order_5xx += 1);
        return Err(ApiError::new(
            503,
            -1001,
            "Internal error; unable to process your request. Please try again.",
        ));
    }
    if f.order_html_from.is_some_and(|from| n >= from) {
        shared.stat(|s| s.order_html += 1);
        let mut r = Reply::json(200, HTML_PAGE.to_string());
        r.content_type = "text/html; charset=utf-8";
        return Ok(r);
    }
    if fault == OrderFault::TooMany {
        shared.stat(|s| s.order_429 += 1);
        let e = ApiError::new(
            429,
            -1003,
            format!(
                "Too much request weight used; current limit is {} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.",
                documented(market).0
            ),
        );
        return Ok(Reply::err(&e).header("Retry-After", 1));
    }
    let counts = match lock(&shared.limits).order(market) {
        Ok(c) => c,
        Err((msg, retry)) => {
            shared.stat(|s| s.order_429 += 1);
            return Ok(Reply::err(&ApiError::new(429, -1015, msg)).header("Retry-After", retry));
        }
    };
    let count_headers = |r: Reply| -> Reply {
        if fut {
            r.header("X-MBX-ORDER-COUNT-10S", counts.0)
                .header("X-MBX-ORDER-COUNT-1M", counts.1)
        } else {
            r.header("X-MBX-ORDER-COUNT-10S", counts.0)
                .header("X-MBX-ORDER-COUNT-1D", counts.1)
        }
    };
    let client_id = if client_id.is_empty() {
        format!("sim{}-{n}", now_ms())
    } else {
        client_id
    };
    let order = match parse_new_order(shared, p, market, client_id) {
        Ok(o) => o,
        Err(e) => return Ok(count_headers(Reply::err(&e))),
    };
    let resp = order.resp;
    let hide = shared.cfg.fills_only_on_stream;
    let mut eng = lock(&shared.engine);
    let result = eng.new_order(market, order);
    let events = std::mem::take(&mut eng.events);
    let body = match &result {
        Ok(id) => eng.order(*id).map(|o| {
            if fut {
                eng.fut_order_json(o, resp == RespType::Ack || hide)
            } else {
                eng.spot_new_json(o, resp, hide)
            }
        }),
        Err(_) => None,
    };
    drop(eng);
    shared.users.push(&events);
    match result {
        Ok(_) => {
            shared.stat(|s| s.orders_placed += 1);
            if fault == OrderFault::NoAnswer {
                shared.stat(|s| s.order_no_answer += 1);
                let mut r = Reply::json(200, String::new());
                r.hold = true;
                return Ok(r);
            }
            Ok(count_headers(Reply::ok(&body.unwrap_or(Value::Null))))
        }
        Err(e) => {
            if matches!(
                e.code,
                -1013 | -4013 | -4014 | -4003 | -4005 | -4023 | -4164 | -4016 | -4024
            ) {
                shared.stat(|s| s.filter_rejects += 1);
            }
            if matches!(e.code, -4116) || e.msg == "Duplicate order sent." {
                shared.stat(|s| s.duplicates_refused += 1);
            }
            Ok(count_headers(Reply::err(&e)))
        }
    }
}

fn signed_misc(
    shared: &Shared,
    p: &BTreeMap<String, String>,
    market: Market,
    ep: Ep,
) -> Result<Reply, ApiError> {
    let fut = market.futures();
    match ep {
        Ep::CancelOrder => {
            let sym = symbol_of(p)?;
            let r = order_ref(p)?;
            let mut eng = lock(&shared.engine);
            let res = eng.cancel(market, &sym, &r);
            let events = std::mem::take(&mut eng.events);
            let body = res.as_ref().ok().and_then(|id| eng.order(*id)).map(|o| {
                if fut {
                    eng.fut_order_json(o, false)
                } else {
                    eng.spot_cancel_json(o)
                }
            });
            drop(eng);
            shared.users.push(&events);
            res?;
            Ok(Reply::ok(&body.unwrap_or(Value::Null)))
        }
        Ep::QueryOrder => {
            let sym = symbol_of(p)?;
            let r = order_ref(p)?;
            let eng = lock(&shared.engine);
            let o = eng.query(market, &sym, &r)?;
            Ok(Reply::ok(&if fut {
                eng.fut_order_json(o, false)
            } else {
                eng.spot_order_json(o, false)
            }))
        }
        Ep::OpenOrders => {
            let sym = p
                .get("symbol")
                .filter(|s| !s.is_empty())
                .map(|s| s.to_ascii_uppercase());
            let eng = lock(&shared.engine);
            let list = eng.open_orders(market, sym.as_deref())?;
            let v: Vec<Value> = list
                .iter()
                .map(|o| {
                    if fut {
                        eng.fut_order_json(o, false)
                    } else {
                        eng.spot_order_json(o, false)
                    }
                })
                .collect();
            Ok(Reply::ok(&Value::Array(v)))
        }
        Ep::CancelOpen | Ep::CancelAllFut => {
            let sym = symbol_of(p)?;
            let mut eng = lock(&shared.engine);
            let res = eng.cancel_all(market, &sym);
            let events = std::mem::take(&mut eng.events);
            let body: Vec<Value> = res
                .as_ref()
                .map(|ids| {
                    ids.iter()
                        .filter_map(|id| eng.order(*id))
                        .map(|o| eng.spot_cancel_json(o))
                        .collect()
                })
                .unwrap_or_default();
            drop(eng);
            shared.users.push(&events);
            let ids = res?;
            if fut {
                return Ok(Reply::ok(
                    &json!({"code": 200, "msg": "The operation of cancel all open order is done."}),
                ));
            }
            if ids.is_empty() {
                // Spot answers -2011 when there was nothing to cancel.
                return Err(ApiError::bad(-2011, "Unknown order sent."));
            }
            Ok(Reply::ok(&Value::Array(body)))
        }
        Ep::Account => {
            let mut eng = lock(&shared.engine);
            Ok(Reply::ok(&if fut {
                eng.fut_account_json(market)
            } else {
                eng.spot_account_json()
            }))
        }
        Ep::Balance => {
            let mut eng = lock(&shared.engine);
            Ok(Reply::ok(&eng.fut_balance_json(market)))
        }
        Ep::PositionRisk => {
            let sym = p
                .get("symbol")
                .filter(|s| !s.is_empty())
                .map(|s| s.to_ascii_uppercase());
            let eng = lock(&shared.engine);
            if let Some(s) = &sym
                && eng.get(market, s).is_none()
            {
                return Err(ApiError::bad(-1121, "Invalid symbol."));
            }
            // v3 lists only symbols with a position or open orders; v2 and
            // COIN-M v1 list every symbol asked for.
            Ok(Reply::ok(&Value::Array(eng.position_rows(
                market,
                sym.as_deref(),
                market == Market::CoinM || sym.is_some(),
            ))))
        }
        _ => Err(ApiError::new(404, -1000, "Unknown endpoint")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_weights_follow_the_docs() {
        assert_eq!(
            route("GET", "/api/v3/depth"),
            Some((Market::Spot, Ep::Depth))
        );
        assert_eq!(
            route("DELETE", "/fapi/v1/allOpenOrders"),
            Some((Market::UsdM, Ep::CancelAllFut))
        );
        assert_eq!(
            route("GET", "/fapi/v3/positionRisk"),
            Some((Market::UsdM, Ep::PositionRisk))
        );
        assert_eq!(
            route("POST", "/api/v3/userDataStream"),
            Some((Market::Spot, Ep::RemovedUserStream))
        );
        assert_eq!(route("DELETE", "/api/v3/allOpenOrders"), None);
        let mut p = BTreeMap::new();
        p.insert("limit".to_string(), "5000".to_string());
        assert_eq!(weight(Market::Spot, Ep::Depth, &p, ""), 250);
        assert_eq!(weight(Market::UsdM, Ep::Depth, &p, ""), 20);
        assert_eq!(weight(Market::UsdM, Ep::NewOrder, &p, ""), 0);
    }

    #[test]
    fn parser_handles_keep_alive_bodies_and_garbage() {
        let raw = b"POST /api/v3/order?a=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nb=2GET /x HTTP/1.1\r\n\r\n";
        let Parsed::Done(r, n) = parse(raw) else {
            panic!("complete")
        };
        assert_eq!(
            (
                r.method.as_str(),
                r.path.as_str(),
                r.query.as_str(),
                r.body.as_str()
            ),
            ("POST", "/api/v3/order", "a=1", "b=2")
        );
        assert!(!r.close);
        assert!(matches!(parse(&raw[n..]), Parsed::Done(..)));
        assert!(matches!(
            parse(b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nab"),
            Parsed::Partial
        ));
        assert!(matches!(parse(b"\x00\x01garbage\r\n\r\n"), Parsed::Bad(_)));
        assert_eq!(decode("a%20b+c%zz%E2%82%AC"), "a b c%zz€");
    }

    #[test]
    fn timing_rule() {
        let now = now_ms();
        assert!(check_time(Some(now), None).is_ok());
        assert_eq!(check_time(Some(now - 6000), None).unwrap_err().0, -1021);
        assert!(check_time(Some(now - 6000), Some("10000")).is_ok());
        assert_eq!(check_time(Some(now + 5000), None).unwrap_err().0, -1021);
        assert_eq!(check_time(Some(now), Some("70000")).unwrap_err().0, -1131);
        assert_eq!(check_time(None, None).unwrap_err().0, -1102);
        assert!(check_time(Some(now * 1000), None).is_ok());
        assert!(check_time(Some(now - 6000), Some("6000.346")).is_ok());
        assert_eq!(
            check_time(Some(now), Some("6000.3461")).unwrap_err().0,
            -1100
        );
    }
}
