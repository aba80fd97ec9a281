//! Live router against an in-test mock Binance venue on 127.0.0.1.
//!
//! The mock checks every signature with an independent HMAC (`hmac` +
//! `sha2`), keeps its own orders by client id, and can be told to answer a
//! new order with 5xx, 429, 418, no answer, or invalid JSON.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tickwire_core::msg::{FromRouter, ToRouter};
use tickwire_core::orders::{
    ExecKind, ExecReport, Order, OrderId, PathStamps, RouterCmd, TimeInForce,
};
use tickwire_core::types::{Px, Qty, Side, SymbolId, SymbolName, parse_fixed};
use tickwire_router::binance::Signer;
use tickwire_router::binance::{
    BinanceClient, BreakerState, ClientConfig, Credentials, Engine, EngineConfig, KeyError,
    LiveConfig, LiveError, LiveRouter, client_order_id,
};
use tickwire_router::binance::{VenueError, parse_order};

const KEY: &str = "mockKEYabcdef0123456789";
const SECRET: &str = "mockSECRETzyxw9876543210";
const SESSION: u32 = 7;

// ---------------------------------------------------------------- mock venue

#[derive(Clone, Copy, Debug)]
enum Fault {
    /// 503; `place` decides whether the order was taken anyway.
    Server { place: bool },
    /// Never answer; `place` as above.
    Hold { place: bool },
    /// 429 with Retry-After seconds.
    TooMany(u64),
    /// 418 with Retry-After seconds.
    Banned(u64),
    /// Take the order, answer 200 with a body that is not JSON.
    BadJson,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FillMode {
    Fill,
    Rest,
}

#[derive(Clone)]
struct MockOrder {
    id: i64,
    symbol: String,
    side: String,
    price: String,
    qty: String,
    status: &'static str,
    filled: bool,
}

struct State {
    orders: HashMap<String, MockOrder>,
    next_id: i64,
    /// Every POST /api/v3/order's client id, in arrival order.
    posts: Vec<String>,
    queries: u32,
    bad_signatures: u32,
    faults: VecDeque<Fault>,
    fill: FillMode,
    down: bool,
    requests: u32,
    /// Wall ms of the last 429 answer and of each POST after it.
    last_429_ms: Option<u64>,
    post_times_ms: Vec<u64>,
    /// The mock's clock minus the wall clock (ms); with it set, signed
    /// requests more than 1 s off the mock's clock get -1021.
    skew_ms: i64,
}

struct Mock {
    url: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn wall_ms() -> u64 {
    tickwire_router::binance::wall_ms()
}

impl Mock {
    fn start() -> Mock {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = server.server_addr().to_ip().expect("ip listener").port();
        let state = Arc::new(Mutex::new(State {
            orders: HashMap::new(),
            next_id: 1,
            posts: Vec::new(),
            queries: 0,
            bad_signatures: 0,
            faults: VecDeque::new(),
            fill: FillMode::Fill,
            down: false,
            requests: 0,
            last_429_ms: None,
            post_times_ms: Vec::new(),
            skew_ms: 0,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (Arc::clone(&state), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            // Bounded: stops when told, or after two minutes whatever happens.
            let deadline = Instant::now() + Duration::from_secs(120);
            let mut held = Vec::new();
            while !sp.load(Ordering::Acquire) && Instant::now() < deadline {
                let Ok(Some(req)) = server.recv_timeout(Duration::from_millis(20)) else {
                    continue;
                };
                if let Some(h) = handle(&st, req) {
                    held.push(h);
                }
            }
            drop(held);
        });
        Mock {
            url: format!("http://127.0.0.1:{port}"),
            state,
            stop,
            thread: Some(thread),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    fn distinct_cids(&self) -> BTreeSet<String> {
        self.with(|s| s.posts.iter().cloned().collect())
    }

    fn placed(&self) -> usize {
        self.with(|s| s.orders.len())
    }
}

fn hmac_hex(secret: &[u8], msg: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(msg);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn split_sig(s: &str) -> (&str, Option<&str>) {
    match s.rfind("&signature=") {
        Some(i) => (&s[..i], Some(&s[i + "&signature=".len()..])),
        None => (s, None),
    }
}

fn params(s: &str) -> HashMap<String, String> {
    s.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn order_json(o: &MockOrder, cid: &str, cancel: bool) -> String {
    let px = Px(parse_fixed(o.price.as_bytes()).unwrap());
    let q = Qty(parse_fixed(o.qty.as_bytes()).unwrap());
    let (exec, quote) = if o.filled {
        let quote = Px((i128::from(px.0) * i128::from(q.0) / 100_000_000) as i64);
        (q.to_string(), quote.to_string())
    } else {
        ("0.00000000".to_owned(), "0.00000000".to_owned())
    };
    let fills = if o.filled && !cancel {
        format!(
            r#"[{{"price":"{}","qty":"{}","commission":"0","commissionAsset":"USDT","tradeId":{}}}]"#,
            o.price, o.qty, o.id
        )
    } else {
        "[]".to_owned()
    };
    let cids = if cancel {
        format!(
            r#""origClientOrderId":"{cid}","clientOrderId":"cxl{}""#,
            o.id
        )
    } else {
        format!(r#""clientOrderId":"{cid}""#)
    };
    format!(
        r#"{{"symbol":"{}","orderId":{},"orderListId":-1,{cids},"transactTime":1,"price":"{}","origQty":"{}","executedQty":"{exec}","cummulativeQuoteQty":"{quote}","status":"{}","timeInForce":"GTC","type":"LIMIT","side":"{}","fills":{fills}}}"#,
        o.symbol, o.id, o.price, o.qty, o.status, o.side
    )
}

type Resp = tiny_http::Response<std::io::Cursor<Vec<u8>>>;

fn reply(status: u16, body: String, st: &State) -> Resp {
    let h = |k: &str, v: String| tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap();
    tiny_http::Response::from_string(body)
        .with_status_code(status)
        .with_header(h("Content-Type", "application/json".into()))
        .with_header(h("X-MBX-USED-WEIGHT-1M", st.requests.to_string()))
        .with_header(h("X-MBX-ORDER-COUNT-10S", st.posts.len().to_string()))
}

fn err(status: u16, code: i64, msg: &str, st: &State) -> Resp {
    reply(status, format!(r#"{{"code":{code},"msg":"{msg}"}}"#), st)
}

/// Answers one request; returns it instead when it is to be held unanswered.
fn handle(state: &Mutex<State>, mut req: tiny_http::Request) -> Option<tiny_http::Request> {
    let mut body = String::new();
    let _ = req.as_reader().read_to_string(&mut body);
    let url = req.url().to_owned();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let method = req.method().as_str().to_owned();
    let key_ok = req
        .headers()
        .iter()
        .any(|h| h.field.equiv("X-MBX-APIKEY") && h.value.as_str() == KEY);
    let mut st = state.lock().unwrap();
    st.requests += 1;
    let mock_now = wall_ms().saturating_add_signed(st.skew_ms);
    if path == "/api/v3/time" {
        let body = format!("{{\"serverTime\":{mock_now}}}");
        drop(st);
        let _ = req.respond(tiny_http::Response::from_string(body).with_status_code(200));
        return None;
    }
    let (q, qsig) = split_sig(query);
    let (b, bsig) = split_sig(&body);
    let sig = qsig.or(bsig).unwrap_or("");
    let mut total = q.to_owned();
    total.push_str(b);
    let resp = if !key_ok {
        err(
            401,
            -2015,
            "Invalid API-key, IP, or permissions for action.",
            &st,
        )
    } else if hmac_hex(SECRET.as_bytes(), total.as_bytes()) != sig.to_ascii_lowercase() {
        st.bad_signatures += 1;
        err(400, -1022, "Signature for this request is not valid.", &st)
    } else if st.down {
        err(
            503,
            -1001,
            "Internal error; unable to process your request. Please try again.",
            &st,
        )
    } else {
        let p = params(&format!("{q}&{b}"));
        let ts: Option<u64> = p.get("timestamp").and_then(|t| t.parse().ok());
        if st.skew_ms != 0 && ts.is_some_and(|t| t.abs_diff(mock_now) > 1000) {
            err(
                400,
                -1021,
                "Timestamp for this request is outside of the recvWindow.",
                &st,
            )
        } else if !p.contains_key("timestamp") || !p.contains_key("recvWindow") {
            err(
                400,
                -1102,
                "Mandatory parameter 'timestamp' was not sent.",
                &st,
            )
        } else {
            match (method.as_str(), path) {
                ("POST", "/api/v3/order") => match new_order(&mut st, &p) {
                    Ok(r) => r,
                    Err(()) => return Some(req),
                },
                ("GET", "/api/v3/order") => {
                    st.queries += 1;
                    let cid = p.get("origClientOrderId").cloned().unwrap_or_default();
                    match st.orders.get(&cid) {
                        Some(o) => reply(200, order_json(o, &cid, false), &st),
                        None => err(400, -2013, "Order does not exist.", &st),
                    }
                }
                ("DELETE", "/api/v3/order") => {
                    let cid = p.get("origClientOrderId").cloned().unwrap_or_default();
                    match st.orders.get_mut(&cid) {
                        Some(o) if o.status == "NEW" => {
                            o.status = "CANCELED";
                            let o = o.clone();
                            reply(200, order_json(&o, &cid, true), &st)
                        }
                        _ => err(400, -2011, "Unknown order sent.", &st),
                    }
                }
                ("DELETE", "/api/v3/openOrders") => {
                    let sym = p.get("symbol").cloned().unwrap_or_default();
                    let mut out = Vec::new();
                    for (cid, o) in st.orders.iter_mut() {
                        if o.symbol == sym && o.status == "NEW" {
                            o.status = "CANCELED";
                            out.push(order_json(o, cid, true));
                        }
                    }
                    if out.is_empty() {
                        err(400, -2011, "Unknown order sent.", &st)
                    } else {
                        reply(200, format!("[{}]", out.join(",")), &st)
                    }
                }
                _ => err(404, -1000, "Unknown endpoint.", &st),
            }
        }
    };
    drop(st);
    let _ = req.respond(resp);
    None
}

/// POST /api/v3/order. `Err` means: hold the request unanswered.
fn new_order(st: &mut State, p: &HashMap<String, String>) -> Result<Resp, ()> {
    let cid = p.get("newClientOrderId").cloned().unwrap_or_default();
    st.posts.push(cid.clone());
    st.post_times_ms.push(wall_ms());
    let fault = st.faults.pop_front();
    let place = |st: &mut State| -> Option<MockOrder> {
        if st.orders.contains_key(&cid) {
            return None;
        }
        let filled = st.fill == FillMode::Fill;
        let o = MockOrder {
            id: st.next_id,
            symbol: p.get("symbol").cloned().unwrap_or_default(),
            side: p.get("side").cloned().unwrap_or_default(),
            price: p.get("price").cloned().unwrap_or_default(),
            qty: p.get("quantity").cloned().unwrap_or_default(),
            status: if filled { "FILLED" } else { "NEW" },
            filled,
        };
        st.next_id += 1;
        st.orders.insert(cid.clone(), o.clone());
        Some(o)
    };
    Ok(match fault {
        Some(Fault::Server { place: pl }) => {
            if pl {
                place(st);
            }
            err(
                503,
                -1001,
                "Internal error; unable to process your request. Please try again.",
                st,
            )
        }
        Some(Fault::Hold { place: pl }) => {
            if pl {
                place(st);
            }
            return Err(());
        }
        Some(Fault::TooMany(s)) => {
            st.last_429_ms = Some(wall_ms());
            err(429, -1003, "Too many requests.", st).with_header(
                tiny_http::Header::from_bytes(&b"Retry-After"[..], s.to_string().as_bytes())
                    .unwrap(),
            )
        }
        Some(Fault::Banned(s)) => err(418, -1003, "Way too many requests; IP banned.", st)
            .with_header(
                tiny_http::Header::from_bytes(&b"Retry-After"[..], s.to_string().as_bytes())
                    .unwrap(),
            ),
        Some(Fault::BadJson) => {
            place(st);
            reply(200, "{\"symbol\":\"BTCUSDT\",\"orderId\":".to_owned(), st)
        }
        None => match place(st) {
            Some(o) => reply(200, order_json(&o, &cid, false), st),
            None => err(400, -2010, "Duplicate order sent.", st),
        },
    })
}

// ---------------------------------------------------------------- helpers

fn sym() -> (SymbolId, SymbolName) {
    (SymbolId(0), SymbolName::new(b"BTCUSDT").unwrap())
}

fn creds() -> Credentials {
    Credentials::new(KEY, SECRET).unwrap()
}

fn client(mock: &Mock, timeout: Duration) -> BinanceClient {
    let mut c = ClientConfig::new(&mock.url);
    c.call_timeout = timeout;
    c.connect_timeout = Duration::from_secs(1);
    BinanceClient::new(c, &creds())
}

fn engine_with(mock: &Mock, timeout: Duration, tweak: impl FnOnce(&mut EngineConfig)) -> Engine {
    let mut conf = EngineConfig::new(SESSION, vec![sym()]);
    conf.reconcile_backoff = Duration::from_millis(5);
    tweak(&mut conf);
    Engine::new(client(mock, timeout), conf)
}

fn engine(mock: &Mock) -> Engine {
    engine_with(mock, Duration::from_secs(5), |_| {})
}

fn order(id: u64) -> Order {
    Order {
        id: OrderId(id),
        symbol: SymbolId(0),
        side: Side::Buy,
        px: Px(parse_fixed(b"65000.1").unwrap()),
        qty: Qty(parse_fixed(b"0.00150000").unwrap()),
        tif: TimeInForce::Gtc,
        stamps: PathStamps::default(),
    }
}

fn run(e: &mut Engine, cmd: RouterCmd) -> Vec<ExecReport> {
    let mut v = Vec::new();
    e.on_cmd(cmd, &mut |r| v.push(r));
    v
}

fn kinds(v: &[ExecReport]) -> Vec<ExecKind> {
    v.iter().map(|r| r.kind).collect()
}

// ---------------------------------------------------------------- signing & keys

const DOC_SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
const DOC_QUERY: &str = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";

#[test]
fn signer_matches_binance_published_example() {
    // Binance spot API docs, "SIGNED endpoint examples", HMAC keys.
    let s = Signer::from_secret(DOC_SECRET.as_bytes());
    assert_eq!(
        s.sign(DOC_QUERY, "").as_str(),
        "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    );
    // Same docs, percent-encoded non-ASCII symbol.
    let q2 = "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
    assert_eq!(
        s.sign(q2, "").as_str(),
        "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
    );
    // Query + body are signed as one concatenated text.
    let (q, b) = DOC_QUERY.split_at(50);
    assert_eq!(s.sign(q, b), s.sign(DOC_QUERY, ""));
    assert_eq!(
        s.sign("a=1&", "b=2").as_str(),
        hmac_hex(DOC_SECRET.as_bytes(), b"a=1&b=2")
    );
}

#[test]
fn credentials_and_errors_never_show_the_secret() {
    let c = creds();
    for text in [format!("{c:?}"), format!("{c}")] {
        assert!(!text.contains(SECRET), "{text}");
        assert!(!text.contains(KEY), "{text}");
        assert!(text.contains("mock…(redacted)"), "{text}");
    }
    let mock = Mock::start();
    let cl = client(&mock, Duration::from_secs(5));
    let dbg = format!("{cl:?}");
    assert!(!dbg.contains(SECRET) && !dbg.contains(KEY), "{dbg}");
    // A venue error caused by a wrong secret names the problem, not the secret.
    let wrong = Credentials::new(KEY, "theWRONGsecret123").unwrap();
    let mut bad = BinanceClient::new(ClientConfig::new(&mock.url), &wrong);
    let e = bad.query("BTCUSDT", "tw7-1").unwrap_err();
    let text = format!("{e} {e:?}");
    assert!(matches!(e, VenueError::Api { code: -1022, .. }), "{text}");
    assert!(!text.contains("theWRONGsecret123") && !text.contains(SECRET));
    assert_eq!(mock.with(|s| s.bad_signatures), 1);
}

#[test]
fn key_file_must_be_private_and_well_formed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("tw-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keys.toml");
    std::fs::write(
        &path,
        format!("api_key = \"{KEY}\"\napi_secret = \"{SECRET}\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = Credentials::from_file(&path).unwrap_err();
    assert!(matches!(e, KeyError::Permissions { .. }));
    assert!(e.to_string().contains("chmod 600"), "{e}");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let c = Credentials::from_file(&path).unwrap();
    assert_eq!(c.api_key(), KEY);
    // A broken file: the error must not quote the secret line.
    std::fs::write(
        &path,
        format!("api_key = \"{KEY}\"\napi_secret = \"{SECRET}\n"),
    )
    .unwrap();
    let e = Credentials::from_file(&path).unwrap_err();
    assert!(matches!(e, KeyError::Format { .. }));
    assert!(!e.to_string().contains(SECRET), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
    // Environment lookup (injected, so the test does not touch the real env).
    let e = Credentials::from_lookup(|_| None).unwrap_err();
    assert!(e.to_string().contains("TICKWIRE_API_KEY"));
    let c = Credentials::from_lookup(|n| Some(format!("{n}value"))).unwrap();
    assert_eq!(c.api_key(), "TICKWIRE_API_KEYvalue");
}

// ---------------------------------------------------------------- order flow

#[test]
fn new_order_is_acked_then_filled_with_exact_numbers() {
    let mock = Mock::start();
    let mut e = engine(&mock);
    let r = run(&mut e, RouterCmd::New(order(1)));
    assert_eq!(kinds(&r), [ExecKind::Ack, ExecKind::Filled]);
    assert_eq!(r[1].last_qty, order(1).qty);
    assert_eq!(r[1].last_px, order(1).px);
    assert_eq!(r[1].leaves_qty, Qty(0));
    let o = mock.with(|s| s.orders.get(&client_order_id(SESSION, OrderId(1))).cloned());
    let o = o.expect("venue has the order under the deterministic client id");
    assert_eq!((o.price.as_str(), o.qty.as_str()), ("65000.1", "0.0015"));
    assert_eq!(e.stats().sent, 1);
    assert_eq!(e.stats().acked, 1);
}

#[test]
fn wrong_signature_rejection_is_counted_by_code() {
    let mock = Mock::start();
    let wrong = Credentials::new(KEY, "otherSECRET").unwrap();
    let c = BinanceClient::new(ClientConfig::new(&mock.url), &wrong);
    let mut e = Engine::new(c, EngineConfig::new(SESSION, vec![sym()]));
    let r = run(&mut e, RouterCmd::New(order(1)));
    assert_eq!(kinds(&r), [ExecKind::Rejected]);
    assert_eq!(e.stats().rejected_by_code.get(&-1022), Some(&1));
    assert_eq!(mock.placed(), 0);
}

#[test]
fn server_error_after_placing_is_adopted_by_query_not_resent() {
    let mock = Mock::start();
    mock.with(|s| s.faults.push_back(Fault::Server { place: true }));
    let mut e = engine(&mock);
    let r = run(&mut e, RouterCmd::New(order(1)));
    assert_eq!(kinds(&r), [ExecKind::Ack, ExecKind::Filled]);
    assert_eq!(mock.with(|s| s.posts.len()), 1, "never sent twice");
    assert!(mock.with(|s| s.queries) >= 1, "queried before deciding");
    assert_eq!(mock.placed(), 1);
    assert_eq!(e.stats().reconciliations, 1);
}

#[test]
fn server_error_before_placing_is_resent_with_the_same_client_id() {
    let mock = Mock::start();
    mock.with(|s| s.faults.push_back(Fault::Server { place: false }));
    let mut e = engine(&mock);
    let r = run(&mut e, RouterCmd::New(order(1)));
    assert_eq!(kinds(&r), [ExecKind::Ack, ExecKind::Filled]);
    assert_eq!(mock.with(|s| s.posts.len()), 2);
    assert_eq!(mock.distinct_cids().len(), 1, "one client id per intent");
    assert_eq!(mock.placed(), 1);
    assert_eq!(e.stats().retries, 1);
}

#[test]
fn timeout_on_new_order_is_reconciled_by_query_not_resent() {
    let mock = Mock::start();
    mock.with(|s| s.faults.push_back(Fault::Hold { place: true }));
    let mut e = engine_with(&mock, Duration::from_millis(300), |_| {});
    let r = run(&mut e, RouterCmd::New(order(1)));
    assert_eq!(kinds(&r), [ExecKind::Ack, ExecKind::Filled]);
    assert_eq!(mock.with(|s| s.posts.len()), 1);
    assert_eq!(mock.placed(), 1);
}

#[test]
fn duplicate_client_id_adopts_the_existing_order() {
    let mock = Mock::start();
    let mut e = engine(&mock);
    run(&mut e, RouterCmd::New(order(1)));
    // A fresh engine of the same session sends the same intent again.
    let mut e2 = engine(&mock);
    let r = run(&mut e2, RouterCmd::New(order(1)));
    assert_eq!(kinds(&r), [ExecKind::Ack, ExecKind::Filled]);
    assert_eq!(mock.placed(), 1, "the venue refused the duplicate");
    assert_eq!(mock.distinct_cids().len(), 1);
}

#[test]
fn invalid_json_from_venue_is_an_error_not_a_panic() {
    assert!(matches!(
        parse_order("{\"symbol\":"),
        Err(VenueError::InvalidJson { .. })
    ));
    assert!(matches!(
        parse_order("[]"),
        Err(VenueError::InvalidJson { .. })
    ));
    assert!(matches!(
        parse_order(
            r#"{"symbol":"X","orderId":1,"clientOrderId":"a","price":"1e5","origQty":"1","executedQty":"0","status":"NEW"}"#
        ),
        Err(VenueError::InvalidJson { .. })
    ));
    let mock = Mock::start();
    mock.with(|s| s.faults.push_back(Fault::BadJson));
    let mut c = client(&mock, Duration::from_secs(5));
    let err = c.new_order(&order(1), "BTCUSDT", "tw7-1").unwrap_err();
    assert!(matches!(err, VenueError::InvalidJson { .. }), "{err}");
    // Through the engine, the garbled answer is reconciled by query.
    mock.with(|s| s.faults.push_back(Fault::BadJson));
    let mut e = engine(&mock);
    let r = run(&mut e, RouterCmd::New(order(2)));
    assert_eq!(kinds(&r), [ExecKind::Ack, ExecKind::Filled]);
    assert_eq!(mock.placed(), 2);
}

#[test]
fn breaker_opens_after_failures_rejects_while_open_and_closes_after_success() {
    let mock = Mock::start();
    let mut e = engine_with(&mock, Duration::from_secs(5), |c| {
        c.breaker_threshold = 3;
        c.breaker_cooldown = Duration::from_millis(200);
        c.reconcile_attempts = 2;
    });
    mock.with(|s| s.down = true);
    // POST 503, query 503, query 503: three failures, outcome unknown.
    let r1 = run(&mut e, RouterCmd::New(order(1)));
    assert!(r1.is_empty(), "no report while unknown: {r1:?}");
    assert_eq!(e.breaker_state(), BreakerState::Open);
    assert_eq!(e.stats().unknown, 1);
    assert_eq!(e.stats().breaker_opens, 1);
    let posts = mock.with(|s| s.posts.len());
    let r2 = run(&mut e, RouterCmd::New(order(2)));
    assert_eq!(kinds(&r2), [ExecKind::Rejected]);
    assert_eq!(
        mock.with(|s| s.posts.len()),
        posts,
        "nothing sent while open"
    );
    assert_eq!(e.stats().breaker_rejects, 1);
    mock.with(|s| s.down = false);
    let deadline = Instant::now() + Duration::from_secs(10);
    while e.breaker_state() == BreakerState::Open {
        assert!(Instant::now() < deadline, "breaker never half-opened");
        std::thread::sleep(Duration::from_millis(10));
    }
    let r3 = run(&mut e, RouterCmd::New(order(3)));
    assert_eq!(kinds(&r3), [ExecKind::Ack, ExecKind::Filled]);
    assert_eq!(e.breaker_state(), BreakerState::Closed);
    // The unknown order is settled on the next poll: the venue never got
    // it, so it is re-sent with its own client id, once.
    let mut r4 = Vec::new();
    e.poll(&mut |r| r4.push(r));
    assert_eq!(kinds(&r4), [ExecKind::Ack, ExecKind::Filled]);
    assert!(r4.iter().all(|r| r.id == OrderId(1)));
    assert_eq!(e.stats().unknown_open, 0);
    let cids = mock.distinct_cids();
    assert_eq!(cids.len(), 2, "{cids:?}");
    assert_eq!(mock.placed(), 2);
}

#[test]
fn status_429_is_honoured_with_retry_after() {
    let mock = Mock::start();
    mock.with(|s| s.faults.push_back(Fault::TooMany(1)));
    let mut e = engine(&mock);
    let r = run(&mut e, RouterCmd::New(order(1)));
    assert_eq!(kinds(&r), [ExecKind::Ack, ExecKind::Filled]);
    let (at429, times) = mock.with(|s| (s.last_429_ms.unwrap(), s.post_times_ms.clone()));
    assert_eq!(times.len(), 2);
    // The re-send waited out Retry-After (1 s) measured on the venue's clock.
    assert!(times[1] >= at429 + 1000 - 5, "{at429} {times:?}");
    assert_eq!(mock.distinct_cids().len(), 1);
    assert_eq!(e.stats().too_many_requests, 1);
    assert!(e.stats().holds >= 1);
}

#[test]
fn status_418_bans_trips_the_breaker_and_rejects() {
    let mock = Mock::start();
    mock.with(|s| s.faults.push_back(Fault::Banned(120)));
    let mut e = engine(&mock);
    let r = run(&mut e, RouterCmd::New(order(1)));
    assert_eq!(kinds(&r), [ExecKind::Rejected]);
    assert_eq!(e.breaker_state(), BreakerState::Open);
    assert_eq!(e.stats().bans, 1);
    let r = run(&mut e, RouterCmd::New(order(2)));
    assert_eq!(kinds(&r), [ExecKind::Rejected]);
    assert_eq!(mock.with(|s| s.posts.len()), 1);
}

#[test]
fn every_order_reaches_a_terminal_state() {
    let mock = Mock::start();
    let mut e = engine_with(&mock, Duration::from_millis(300), |_| {});
    let mut all = Vec::new();
    mock.with(|s| {
        s.faults.extend([
            Fault::Server { place: true },
            Fault::Hold { place: false },
            Fault::BadJson,
            Fault::Server { place: false },
        ])
    });
    for id in 1..=5 {
        all.extend(run(&mut e, RouterCmd::New(order(id))));
    }
    // Two resting orders: one cancelled alone, one by cancel-all.
    mock.with(|s| s.fill = FillMode::Rest);
    for id in 6..=8 {
        all.extend(run(&mut e, RouterCmd::New(order(id))));
    }
    all.extend(run(&mut e, RouterCmd::Cancel(OrderId(6))));
    all.extend(run(&mut e, RouterCmd::CancelAll));
    for id in 1..=8 {
        let last = all
            .iter()
            .rev()
            .find(|r| r.id == OrderId(id))
            .map(|r| r.kind);
        assert!(
            last.is_some_and(|k| k.is_terminal()),
            "order {id}: {last:?}"
        );
    }
    assert_eq!(e.working(), 0);
    assert_eq!(mock.placed(), 8);
    assert_eq!(mock.distinct_cids().len(), 8);
    let cancelled = all.iter().filter(|r| r.kind == ExecKind::Cancelled).count();
    assert_eq!(cancelled, 3);
}

// ---------------------------------------------------------------- thread

#[test]
fn live_router_thread_bridges_rings_end_to_end() {
    let mock = Mock::start();
    let (mut to_router, rx) = rtrb::RingBuffer::<ToRouter>::new(8);
    // A one-slot return ring: the router must wait, not drop.
    let (tx, mut from_router) = rtrb::RingBuffer::<FromRouter>::new(1);
    let conf = LiveConfig {
        core: 0,
        poll_interval: None,
    };
    let router = LiveRouter::spawn(engine(&mock), conf, rx, tx).expect("core 0 exists");
    to_router
        .push(ToRouter::Cmd(RouterCmd::New(order(1))))
        .unwrap();
    to_router.push(ToRouter::End).unwrap();
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(Instant::now() < deadline, "router did not answer: {got:?}");
        match from_router.pop() {
            Ok(FromRouter::Exec(r)) => got.push(r.kind),
            Ok(FromRouter::End) => break,
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    assert_eq!(got, [ExecKind::Ack, ExecKind::Filled]);
    let stats = router.join().unwrap();
    assert_eq!((stats.sent, stats.acked), (1, 1));
}

#[test]
fn live_router_refuses_a_core_that_does_not_exist() {
    let mock = Mock::start();
    let (_p, rx) = rtrb::RingBuffer::<ToRouter>::new(2);
    let (tx, _c) = rtrb::RingBuffer::<FromRouter>::new(2);
    let conf = LiveConfig {
        core: 100_000,
        poll_interval: None,
    };
    let Err(e) = LiveRouter::spawn(engine(&mock), conf, rx, tx) else {
        panic!("a missing core must be refused");
    };
    assert!(matches!(e, LiveError::NoSuchCore { core: 100_000, .. }));
}

#[test]
fn request_clock_follows_the_venue_after_a_sync() {
    let mock = Mock::start();
    mock.with(|s| s.skew_ms = 30_000);
    let mut e = engine(&mock);
    let before = run(&mut e, RouterCmd::New(order(1)));
    assert_eq!(
        kinds(&before),
        [ExecKind::Rejected],
        "local clock 30 s behind"
    );
    assert_eq!(e.stats().rejected_by_code.get(&-1021), Some(&1));
    let offset = e.sync_clock().expect("venue answers /time");
    assert!((29_000..=31_000).contains(&offset), "offset {offset} ms");
    assert_eq!(e.stats().clock_offset_ms, offset);
    let after = run(&mut e, RouterCmd::New(order(2)));
    assert_eq!(
        after.first().map(|r| r.kind),
        Some(ExecKind::Ack),
        "{after:?}"
    );
}
