//! The WebSocket listener: one port, routed by path (see PROTOCOL.md):
//! market data (spot, USD-M `/public` and `/market`, COIN-M), futures
//! user data (listenKey streams) and the spot WebSocket API.

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, Utf8Bytes, WebSocket};

use crate::feed::{MdSub, Path, StreamKey, stream_key};
use crate::userdata::{SubKind, UserMsg};
use crate::{Market, Shared, UsdmRoute, auth, now_ms};

/// Frames written between two looks at the socket.
const BATCH: usize = 256;
/// Requests handled per read pass.
const MAX_TEXTS: usize = 64;
/// Largest client message accepted.
const MAX_MESSAGE: usize = 64 << 10;
/// Streams one connection may subscribe to (Binance: 1024).
const MAX_STREAMS: usize = 1024;

/// What a connection is, decided from the handshake's path.
#[derive(Clone, Debug)]
enum Route {
    Md {
        path: Path,
        combined: bool,
        streams: BTreeSet<StreamKey>,
    },
    User {
        market: Market,
        key: String,
        combined: bool,
    },
    WsApi,
}

/// Accepts connections until the simulator stops.
pub(crate) fn run_accept(shared: &Arc<Shared>, listener: &TcpListener) {
    while !shared.stopping() {
        match listener.accept() {
            Ok((stream, _)) => {
                shared.stat(|s| s.ws_accepts += 1);
                let s = shared.clone();
                let spawned = shared.spawn("venue-sim-ws-conn", move || {
                    let s2 = s.clone();
                    s.guarded(move || serve(&s2, stream));
                });
                if spawned.is_err() {
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

fn reject(status: u16, msg: &str) -> ErrorResponse {
    let mut r = ErrorResponse::new(Some(msg.to_string()));
    *r.status_mut() = tungstenite::http::StatusCode::from_u16(status)
        .unwrap_or(tungstenite::http::StatusCode::NOT_FOUND);
    r
}

/// The market a plain `/stream` or `/ws` serves: spot when there is spot
/// data, else the one futures market there is.
fn default_market(shared: &Shared) -> Market {
    let eng = crate::lock(&shared.engine);
    let has = |m: Market| eng.instruments.keys().any(|(x, _)| *x == m);
    if has(Market::Spot) {
        Market::Spot
    } else if has(Market::UsdM) {
        Market::UsdM
    } else if has(Market::CoinM) {
        Market::CoinM
    } else {
        Market::Spot
    }
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

#[allow(clippy::result_large_err)] // tungstenite's handshake error type
/// Decides the route of a handshake path (`/public/stream?streams=...`).
fn route(shared: &Shared, target: &str) -> Result<Route, ErrorResponse> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path == "/ws-api/v3" {
        return Ok(Route::WsApi);
    }
    let mut rest = path;
    let mut market = None;
    for (p, m) in [
        ("/usdm", Market::UsdM),
        ("/coinm", Market::CoinM),
        ("/spot", Market::Spot),
    ] {
        if let Some(r) = rest.strip_prefix(p)
            && (r.is_empty() || r.starts_with('/'))
        {
            market = Some(m);
            rest = r;
            break;
        }
    }
    let mut usdm = None;
    if market.is_none_or(|m| m == Market::UsdM) {
        for (p, r) in [
            ("/public", UsdmRoute::Public),
            ("/market", UsdmRoute::Market),
            ("/private", UsdmRoute::Private),
        ] {
            if let Some(x) = rest.strip_prefix(p)
                && (x.is_empty() || x.starts_with('/'))
            {
                usdm = Some(r);
                market = Some(Market::UsdM);
                rest = x;
                break;
            }
        }
    }
    let market = market.unwrap_or_else(|| default_market(shared));
    let (combined, names): (bool, Vec<&str>) = if rest == "/stream" {
        (
            true,
            query_param(query, "streams")
                .unwrap_or("")
                .split('/')
                .filter(|s| !s.is_empty())
                .collect(),
        )
    } else if rest == "/ws" {
        (false, Vec::new())
    } else if let Some(r) = rest.strip_prefix("/ws/") {
        (false, r.split('/').filter(|s| !s.is_empty()).collect())
    } else {
        return Err(reject(404, "unknown path"));
    };
    if usdm == Some(UsdmRoute::Private) {
        let key = query_param(query, "listenKey")
            .map(str::to_string)
            .or_else(|| names.first().map(|s| s.to_string()))
            .ok_or_else(|| reject(400, "listenKey missing"))?;
        if shared.users.key_market(&key) != Some(Market::UsdM) {
            return Err(reject(400, "This listenKey does not exist."));
        }
        return Ok(Route::User {
            market: Market::UsdM,
            key,
            combined,
        });
    }
    // COIN-M user data: /ws/<listenKey> (or /stream?streams=<listenKey>).
    if market == Market::CoinM
        && let [one] = names.as_slice()
        && shared.users.key_market(one) == Some(Market::CoinM)
    {
        return Ok(Route::User {
            market: Market::CoinM,
            key: one.to_string(),
            combined,
        });
    }
    if names.len() > MAX_STREAMS {
        return Err(reject(400, "too many streams"));
    }
    let path = match (market, usdm) {
        (Market::Spot, _) => Path::Spot,
        (Market::CoinM, _) => Path::CoinM,
        (Market::UsdM, Some(UsdmRoute::Market)) => Path::UsdmMarket,
        // Legacy un-routed USD-M paths only receive /public data.
        (Market::UsdM, _) => Path::UsdmPublic,
    };
    Ok(Route::Md {
        path,
        combined,
        streams: names.iter().map(|n| stream_key(n)).collect(),
    })
}

fn serve(shared: &Arc<Shared>, stream: TcpStream) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    let _ = stream.set_nodelay(true);
    let mut decided: Option<Route> = None;
    #[allow(clippy::result_large_err)]
    let cb = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        let target = req
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        let r = route(shared, &target)?;
        decided = Some(r);
        Ok(resp)
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    // Short read timeouts so a client that never finishes its handshake
    // cannot delay stop(); it gets 5 s in all.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut attempt = tungstenite::accept_hdr_with_config(stream, cb, Some(config));
    let ws = loop {
        match attempt {
            Ok(ws) => break ws,
            Err(tungstenite::HandshakeError::Interrupted(mid)) => {
                if shared.stopping() || Instant::now() > deadline {
                    return;
                }
                attempt = mid.handshake();
            }
            Err(tungstenite::HandshakeError::Failure(_)) => return,
        }
    };
    let Some(route) = decided else {
        return;
    };
    if ws.get_ref().set_nonblocking(true).is_err() {
        return;
    }
    let mut conn = Conn::new(ws, shared);
    match route {
        Route::Md {
            path,
            combined,
            streams,
        } => {
            shared.stat(|s| s.md_connections += 1);
            let (sub, rx) = shared.feed.add(path, combined, streams);
            run_md(shared, &mut conn, &sub, &rx);
            shared.feed.remove(sub.id);
        }
        Route::User {
            market,
            key,
            combined,
        } => {
            shared.stat(|s| s.user_connections += 1);
            let (id, rx) = shared.users.add(market, SubKind::Key { key, combined });
            run_user(shared, &mut conn, market, &rx);
            shared.users.remove(id, None);
        }
        Route::WsApi => {
            shared.stat(|s| s.user_connections += 1);
            let id = shared.users.conn_id();
            run_ws_api(shared, &mut conn, id);
            shared.users.remove(id, None);
        }
    }
}

/// A WebSocket with the server's ping/pong bookkeeping.
struct Conn {
    ws: WebSocket<TcpStream>,
    dirty: bool,
    last_ping: Instant,
    awaiting_since: Option<Instant>,
    /// Payload of the last ping sent (a pong must echo it).
    ping_payload: Vec<u8>,
    ping_every: Duration,
    pong_timeout: Duration,
}

#[derive(PartialEq, Eq)]
enum Io {
    Open,
    Closed,
}

fn would_block(e: &tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Io(io) if io.kind() == ErrorKind::WouldBlock || io.kind() == ErrorKind::TimedOut)
}

impl Conn {
    fn new(ws: WebSocket<TcpStream>, shared: &Shared) -> Conn {
        Conn {
            ws,
            dirty: false,
            last_ping: Instant::now(),
            awaiting_since: None,
            ping_payload: Vec::new(),
            ping_every: shared.cfg.ping_interval.max(Duration::from_millis(10)),
            pong_timeout: shared.cfg.pong_timeout.max(Duration::from_millis(10)),
        }
    }

    /// Reads what is there: text messages into `texts`, pongs noted.
    fn read_all(&mut self, texts: &mut Vec<String>) -> Io {
        for _ in 0..MAX_TEXTS * 4 {
            match self.ws.read() {
                Ok(Message::Text(t)) => {
                    if texts.len() < MAX_TEXTS {
                        texts.push(t.to_string());
                    }
                }
                // Unsolicited pongs do not prevent disconnection ([WS]).
                Ok(Message::Pong(p)) => {
                    if p.as_ref() == self.ping_payload.as_slice() {
                        self.awaiting_since = None;
                    }
                }
                // tungstenite queues the pong (echoing the payload).
                Ok(Message::Ping(_)) => self.dirty = true,
                Ok(Message::Close(_)) => {
                    let _ = self.ws.flush();
                    return Io::Closed;
                }
                Ok(_) => {}
                Err(e) if would_block(&e) => return Io::Open,
                Err(_) => return Io::Closed,
            }
        }
        Io::Open
    }

    fn send(&mut self, text: Utf8Bytes) -> Io {
        match self.ws.write(Message::Text(text)) {
            Ok(()) => {
                self.dirty = true;
                Io::Open
            }
            Err(e) if would_block(&e) => {
                self.dirty = true;
                Io::Open
            }
            Err(_) => Io::Closed,
        }
    }

    fn flush(&mut self) -> Io {
        if !self.dirty {
            return Io::Open;
        }
        match self.ws.flush() {
            Ok(()) => {
                self.dirty = false;
                Io::Open
            }
            Err(e) if would_block(&e) => Io::Open,
            Err(_) => Io::Closed,
        }
    }

    /// Server pings; a client silent past the timeout is dropped.
    fn keepalive(&mut self, shared: &Shared) -> Io {
        let now = Instant::now();
        if let Some(t) = self.awaiting_since
            && now.duration_since(t) > self.pong_timeout
        {
            shared.stat(|s| s.pong_timeouts += 1);
            self.abort();
            return Io::Closed;
        }
        if now.duration_since(self.last_ping) >= self.ping_every {
            self.last_ping = now;
            if self.awaiting_since.is_none() {
                self.awaiting_since = Some(now);
            }
            let payload = now_ms().to_string().into_bytes();
            self.ping_payload = payload.clone();
            match self.ws.write(Message::Ping(payload.into())) {
                Ok(()) => self.dirty = true,
                Err(e) if would_block(&e) => self.dirty = true,
                Err(_) => return Io::Closed,
            }
        }
        Io::Open
    }

    /// Closes the TCP connection abruptly (no close frame).
    fn abort(&mut self) {
        let _ = self.ws.get_ref().shutdown(Shutdown::Both);
    }

    /// Sends a close frame and flushes (best effort).
    fn close(&mut self) {
        let _ = self.ws.close(None);
        let deadline = Instant::now() + Duration::from_millis(50);
        while Instant::now() < deadline {
            match self.ws.flush() {
                Err(e) if would_block(&e) => std::thread::sleep(Duration::from_millis(2)),
                _ => break,
            }
        }
    }

    /// True once the peer has closed (for stalled connections that do not read).
    fn peer_gone(&self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.ws.get_ref().peek(&mut b), Ok(0))
            || matches!(self.ws.get_ref().peek(&mut b), Err(e) if e.kind() != ErrorKind::WouldBlock)
    }

    /// Holds a stalled connection open until the peer leaves or the
    /// simulator stops; `pongs` keeps answering pings.
    fn hold(&mut self, shared: &Shared, pongs: bool) {
        while !shared.stopping() {
            if pongs {
                let mut t = Vec::new();
                if self.read_all(&mut t) == Io::Closed || self.flush() == Io::Closed {
                    return;
                }
            } else if self.peer_gone() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// How a connection's fault checks ended.
enum After {
    Go,
    Drop,
    Stall,
    StallPings,
}

fn once(flag: &std::sync::atomic::AtomicBool) -> bool {
    !flag.swap(true, Ordering::AcqRel)
}

fn md_faults(shared: &Shared, sub: &MdSub, sent: u64) -> After {
    let f = &shared.cfg.faults;
    let hub = &shared.feed;
    if f.drop_feed_after.is_some_and(|n| sent >= n) && once(&hub.drop_fired) {
        shared.stat(|s| s.feed_drops += 1);
        return After::Drop;
    }
    if f.stall_after.is_some_and(|n| sent >= n) && once(&hub.stall_fired) {
        shared.stat(|s| s.stalls += 1);
        return After::Stall;
    }
    if f.stall_keep_pings_after.is_some_and(|n| sent >= n) && once(&hub.stall_pings_fired) {
        shared.stat(|s| s.stalls += 1);
        return After::StallPings;
    }
    if let Some(route) = sub.path.usdm_route() {
        if f.usdm_drop.is_some_and(|(r, n)| r == route && sent >= n) && once(&hub.usdm_drop_fired) {
            shared.stat(|s| s.usdm_conn_faults += 1);
            return After::Drop;
        }
        if f.usdm_stall.is_some_and(|(r, n)| r == route && sent >= n) && once(&hub.usdm_stall_fired)
        {
            shared.stat(|s| s.usdm_conn_faults += 1);
            return After::Stall;
        }
    }
    After::Go
}

/// Answers a market-stream control request (SUBSCRIBE, ...).
fn md_request(sub: &MdSub, text: &str) -> String {
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return json!({"code": 3, "msg": format!("Invalid JSON: {e}")}).to_string(),
    };
    let id = v.get("id").cloned().unwrap_or(Value::Null);
    if !(id.is_null() || id.is_i64() || id.as_str().is_some_and(|s| s.len() <= 36)) {
        return json!({"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"}).to_string();
    }
    let Some(method) = v.get("method").and_then(Value::as_str) else {
        return json!({"code": 2, "msg": "Invalid request: missing field `method`"}).to_string();
    };
    let params: Vec<Value> = v
        .get("params")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match method {
        "SUBSCRIBE" | "UNSUBSCRIBE" => {
            let mut set = crate::lock(&sub.streams);
            for p in &params {
                let Some(name) = p.as_str() else {
                    return json!({"code": 2, "msg": "Invalid request: stream names must be strings", "id": id}).to_string();
                };
                if method == "SUBSCRIBE" {
                    if set.len() < MAX_STREAMS {
                        set.insert(stream_key(name));
                    }
                } else {
                    set.remove(&stream_key(name));
                }
            }
            json!({"result": null, "id": id}).to_string()
        }
        "LIST_SUBSCRIPTIONS" => {
            let list: Vec<String> = crate::lock(&sub.streams).iter().map(|(s, k)| format!("{s}@{k}")).collect();
            json!({"result": list, "id": id}).to_string()
        }
        "SET_PROPERTY" | "GET_PROPERTY" => {
            if params.first().and_then(Value::as_str) != Some("combined") {
                return json!({"code": 0, "msg": "Unknown property", "id": id}).to_string();
            }
            if method == "GET_PROPERTY" {
                return json!({"result": sub.combined.load(Ordering::Relaxed), "id": id}).to_string();
            }
            match params.get(1).and_then(Value::as_bool) {
                Some(b) => {
                    sub.combined.store(b, Ordering::Relaxed);
                    json!({"result": null, "id": id}).to_string()
                }
                None => json!({"code": 1, "msg": "Invalid value type: expected Boolean"}).to_string(),
            }
        }
        other => json!({"code": 2, "msg": format!("Invalid request: unknown variant {other}, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`")}).to_string(),
    }
}

fn run_md(shared: &Shared, conn: &mut Conn, sub: &MdSub, rx: &Receiver<Utf8Bytes>) {
    let mut sent = 0u64;
    let mut pending: Option<Utf8Bytes> = None;
    let mut texts = Vec::new();
    loop {
        if shared.stopping() {
            conn.close();
            return;
        }
        if sub.kill.load(Ordering::Acquire) {
            conn.abort();
            return;
        }
        texts.clear();
        if conn.read_all(&mut texts) == Io::Closed {
            return;
        }
        for t in &texts {
            let reply = md_request(sub, t);
            if conn.send(reply.into()) == Io::Closed {
                return;
            }
        }
        let mut wrote = 0;
        while !conn.dirty && wrote < BATCH {
            let next = match pending.take() {
                Some(m) => m,
                None => match rx.try_recv() {
                    Ok(m) => m,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return,
                },
            };
            shared.wire.frame_sent();
            if conn.send(next) == Io::Closed {
                return;
            }
            if conn.flush() == Io::Closed {
                return;
            }
            wrote += 1;
            sent += 1;
            shared.stat(|s| s.frames_sent += 1);
            match md_faults(shared, sub, sent) {
                After::Go => {}
                After::Drop => {
                    conn.abort();
                    return;
                }
                After::Stall => {
                    shared.feed.remove(sub.id);
                    conn.hold(shared, false);
                    return;
                }
                After::StallPings => {
                    shared.feed.remove(sub.id);
                    conn.hold(shared, true);
                    return;
                }
            }
        }
        if conn.flush() == Io::Closed || conn.keepalive(shared) == Io::Closed {
            return;
        }
        if wrote == 0 && texts.is_empty() {
            if conn.dirty {
                std::thread::sleep(Duration::from_micros(500));
            } else {
                match rx.recv_timeout(Duration::from_millis(2)) {
                    Ok(m) => pending = Some(m),
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
        }
    }
}

/// Fault checks of a user-data connection after `sent` events.
fn user_faults(shared: &Shared, market: Market, sent: u64) -> After {
    let f = &shared.cfg.faults;
    let hub = &shared.feed;
    if f.user_stream_drop_after.is_some_and(|n| sent >= n) && once(&hub.user_drop_fired) {
        shared.stat(|s| s.user_drops += 1);
        return After::Drop;
    }
    if market == Market::UsdM {
        if f.usdm_drop
            .is_some_and(|(r, n)| r == UsdmRoute::Private && sent >= n)
            && once(&hub.usdm_drop_fired)
        {
            shared.stat(|s| s.usdm_conn_faults += 1);
            return After::Drop;
        }
        if f.usdm_stall
            .is_some_and(|(r, n)| r == UsdmRoute::Private && sent >= n)
            && once(&hub.usdm_stall_fired)
        {
            shared.stat(|s| s.usdm_conn_faults += 1);
            return After::Stall;
        }
    }
    After::Go
}

/// Writes queued user messages; `false` when the connection is to end.
fn pump_user(
    shared: &Shared,
    conn: &mut Conn,
    market: Market,
    rx: &Receiver<UserMsg>,
    sent: &mut u64,
    first: Option<UserMsg>,
) -> bool {
    let mut next = first;
    for _ in 0..BATCH {
        let m = match next.take() {
            Some(m) => m,
            None => match rx.try_recv() {
                Ok(m) => m,
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Disconnected) => return false,
            },
        };
        match m {
            UserMsg::Text(t) => {
                if conn.send(t.into()) == Io::Closed || conn.flush() == Io::Closed {
                    return false;
                }
                *sent += 1;
                shared.stat(|s| s.user_events_sent += 1);
                match user_faults(shared, market, *sent) {
                    After::Go => {}
                    After::Drop => {
                        conn.abort();
                        return false;
                    }
                    After::Stall | After::StallPings => {
                        conn.hold(shared, false);
                        return false;
                    }
                }
            }
            UserMsg::Last(t) => {
                let _ = conn.send(t.into());
                let _ = conn.flush();
                shared.stat(|s| s.user_events_sent += 1);
                conn.close();
                return false;
            }
            UserMsg::Close => {
                conn.close();
                return false;
            }
        }
    }
    true
}

fn run_user(shared: &Shared, conn: &mut Conn, market: Market, rx: &Receiver<UserMsg>) {
    let mut sent = 0;
    let mut texts = Vec::new();
    let mut first = None;
    loop {
        if shared.stopping() {
            conn.close();
            return;
        }
        texts.clear();
        if conn.read_all(&mut texts) == Io::Closed {
            return;
        }
        if !pump_user(shared, conn, market, rx, &mut sent, first.take()) {
            return;
        }
        if conn.flush() == Io::Closed || conn.keepalive(shared) == Io::Closed {
            return;
        }
        match rx.recv_timeout(Duration::from_millis(2)) {
            Ok(m) => first = Some(m),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// The `rateLimits` array of WebSocket API answers.
fn ws_rate_limits(shared: &Shared) -> Value {
    let used = crate::lock(&shared.limits).used(Market::Spot);
    json!([{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000, "count": used}])
}

fn ws_ok(shared: &Shared, id: &Value, result: Value) -> String {
    json!({"id": id, "status": 200, "result": result, "rateLimits": ws_rate_limits(shared)})
        .to_string()
}

fn ws_err(shared: &Shared, id: &Value, status: u16, code: i64, msg: &str) -> String {
    json!({"id": id, "status": status, "error": {"code": code, "msg": msg}, "rateLimits": ws_rate_limits(shared)}).to_string()
}

/// One WebSocket API request.
fn ws_api_request(
    shared: &Shared,
    conn_id: u64,
    next_sub: &mut u64,
    tx: &std::sync::mpsc::SyncSender<UserMsg>,
    text: &str,
) -> String {
    let v: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => return ws_err(shared, &Value::Null, 400, -1000, "Invalid JSON."),
    };
    let id = v.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = v.get("method").and_then(Value::as_str) else {
        return ws_err(
            shared,
            &id,
            400,
            -1102,
            "Mandatory parameter 'method' was not sent, was empty/null, or malformed.",
        );
    };
    let method = method.strip_prefix("v3/").unwrap_or(method);
    let empty = serde_json::Map::new();
    let params = v.get("params").and_then(Value::as_object).unwrap_or(&empty);
    let _ = crate::lock(&shared.limits).admit(
        Market::Spot,
        if method == "ping" || method == "time" {
            1
        } else {
            2
        },
    );
    match method {
        "ping" => ws_ok(shared, &id, json!({})),
        "time" => ws_ok(shared, &id, json!({"serverTime": now_ms()})),
        "session.status" => {
            let active = !shared.users.ws_api_ids(conn_id).is_empty();
            ws_ok(
                shared,
                &id,
                json!({"apiKey": null, "authorizedSince": null, "connectedSince": null,
                "returnRateLimits": true, "serverTime": now_ms(), "userDataStream": active}),
            )
        }
        "session.subscriptions" => {
            let list: Vec<Value> = shared
                .users
                .ws_api_ids(conn_id)
                .into_iter()
                .map(|i| json!({"subscriptionId": i}))
                .collect();
            ws_ok(shared, &id, Value::Array(list))
        }
        "userDataStream.subscribe.signature" => {
            for p in ["apiKey", "timestamp", "signature"] {
                if params.get(p).is_none_or(Value::is_null) {
                    return ws_err(
                        shared,
                        &id,
                        400,
                        -1102,
                        &format!(
                            "Mandatory parameter '{p}' was not sent, was empty/null, or malformed."
                        ),
                    );
                }
            }
            let key = params.get("apiKey").and_then(Value::as_str).unwrap_or("");
            if key != shared.cfg.api_key {
                shared.stat(|s| s.key_failures += 1);
                return ws_err(
                    shared,
                    &id,
                    401,
                    -2015,
                    "Invalid API-key, IP, or permissions for action.",
                );
            }
            let ts = params.get("timestamp").and_then(Value::as_u64);
            let rw = params.get("recvWindow").map(|v| match v {
                Value::String(s) => s.clone(),
                o => o.to_string(),
            });
            if let Err((code, msg)) = crate::http::check_time(ts, rw.as_deref()) {
                if code == -1021 {
                    shared.stat(|s| s.timestamp_failures += 1);
                }
                return ws_err(shared, &id, 400, code, &msg);
            }
            let sig = params
                .get("signature")
                .and_then(Value::as_str)
                .unwrap_or("");
            let payload = auth::ws_payload(params);
            if !auth::verify(&shared.cfg.api_secret, payload.as_bytes(), sig) {
                shared.stat(|s| s.signature_failures += 1);
                return ws_err(
                    shared,
                    &id,
                    400,
                    -1022,
                    "Signature for this request is not valid.",
                );
            }
            if !shared.users.ws_api_ids(conn_id).is_empty() {
                return ws_err(
                    shared,
                    &id,
                    400,
                    -2035,
                    "User Data Stream subscription already active.",
                );
            }
            let sub = *next_sub;
            *next_sub += 1;
            shared
                .users
                .add_to(conn_id, Market::Spot, SubKind::WsApi(sub), tx.clone());
            ws_ok(shared, &id, json!({"subscriptionId": sub}))
        }
        "userDataStream.unsubscribe" => {
            let only = params.get("subscriptionId").and_then(Value::as_u64);
            let ids = shared.users.ws_api_ids(conn_id);
            let closing: Vec<u64> = ids
                .into_iter()
                .filter(|i| only.is_none_or(|o| o == *i))
                .collect();
            if closing.is_empty() {
                return ws_err(
                    shared,
                    &id,
                    400,
                    -2036,
                    "User Data Stream subscription not active.",
                );
            }
            for s in &closing {
                shared.users.remove(conn_id, Some(*s));
                let ev = json!({"subscriptionId": s, "event": {"e": "eventStreamTerminated", "E": now_ms()}});
                let _ = tx.try_send(UserMsg::Text(ev.to_string()));
            }
            ws_ok(shared, &id, json!({}))
        }
        _ => ws_err(shared, &id, 400, -1020, "This operation is not supported."),
    }
}

fn run_ws_api(shared: &Shared, conn: &mut Conn, conn_id: u64) {
    let (tx, rx) = std::sync::mpsc::sync_channel(4096);
    let mut next_sub = 0u64;
    let mut sent = 0;
    let mut texts = Vec::new();
    let mut first = None;
    loop {
        if shared.stopping() {
            conn.close();
            return;
        }
        texts.clear();
        if conn.read_all(&mut texts) == Io::Closed {
            return;
        }
        for t in &texts {
            let reply = ws_api_request(shared, conn_id, &mut next_sub, &tx, t);
            if conn.send(reply.into()) == Io::Closed {
                return;
            }
        }
        if !pump_user(shared, conn, Market::Spot, &rx, &mut sent, first.take()) {
            return;
        }
        if conn.flush() == Io::Closed || conn.keepalive(shared) == Io::Closed {
            return;
        }
        if texts.is_empty() {
            match rx.recv_timeout(Duration::from_millis(2)) {
                Ok(m) => first = Some(m),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}
