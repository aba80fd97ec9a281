//! The venue simulator on loopback: market data, depth snapshots, signed
//! order entry, user-data stream and every fault switch.

mod common;

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use tickwire::venue::{Faults, OrderStatus, SimConfig, VenueSim, sign};
use tickwire_book::L2Book;
use tickwire_book::{TickerCheck, Top};
use tickwire_core::msg::MdEvent;
use tickwire_core::types::{Level, Market, Qty, SymbolId};
use tickwire_md::Decoder;
use tickwire_md::Frame;
use tickwire_md::{FrameStamps, Sequencer};
use tungstenite::{Message, WebSocket};

const KEY: &str = "test-key";
const SECRET: &str = "test-secret";
const STREAMS: &str = "btcusdt@depth@100ms/btcusdt@bookTicker/btcusdt@trade";
/// Upper bound of every wait in these tests.
const DEADLINE: Duration = Duration::from_secs(30);

fn start(frames: usize, faults: Faults) -> VenueSim {
    let mut cfg = SimConfig::synthetic(frames, KEY, SECRET);
    cfg.faults = faults;
    VenueSim::start(cfg).expect("simulator starts")
}

fn ws_connect(addr: SocketAddr, path: &str) -> WebSocket<TcpStream> {
    let s = TcpStream::connect(addr).expect("connect ws");
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("read timeout");
    let (ws, _) = tungstenite::client(format!("ws://{addr}{path}"), s).expect("ws handshake");
    ws
}

fn feed(sim: &VenueSim) -> WebSocket<TcpStream> {
    ws_connect(sim.ws_addr(), &format!("/stream?streams={STREAMS}"))
}

/// What one read gave.
enum Read {
    Text(String),
    Idle,
    Closed,
}

fn read(ws: &mut WebSocket<TcpStream>) -> Read {
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => return Read::Text(t.to_string()),
            Ok(Message::Close(_)) => return Read::Closed,
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Read::Idle;
            }
            Err(_) => return Read::Closed,
        }
    }
}

/// Reads every frame of the replay on one connection (until the replay is
/// finished and everything sent since `sent_before` has arrived, or the
/// connection ends).
fn read_all(
    sim: &VenueSim,
    ws: &mut WebSocket<TcpStream>,
    sent_before: u64,
) -> (Vec<String>, bool) {
    let t0 = Instant::now();
    let mut got = Vec::new();
    while t0.elapsed() < DEADLINE {
        match read(ws) {
            Read::Text(t) => got.push(t),
            Read::Closed => return (got, true),
            Read::Idle => {
                let s = sim.stats();
                let settled =
                    s.replay_finished && s.frames_sent + s.frames_unsent >= s.frames_queued;
                if settled && got.len() as u64 + sent_before >= s.frames_sent {
                    break;
                }
            }
        }
    }
    (got, false)
}

/// `(U, u, pu)` of every diff in `frames`.
fn diff_ids(frames: &[String]) -> Vec<(u64, u64, Option<u64>)> {
    let mut d = Decoder::new();
    frames
        .iter()
        .filter_map(|f| match d.decode(f.as_bytes()) {
            Ok(Frame::Depth(x)) => Some((x.first_id, x.last_id, x.prev_last_id)),
            _ => None,
        })
        .collect()
}

/// Diffs that do not chain to the previous one (spot `U == prev u + 1`,
/// futures `pu == prev u`).
fn chain_breaks(ids: &[(u64, u64, Option<u64>)]) -> usize {
    ids.windows(2)
        .filter(|w| match w[1].2 {
            Some(pu) => pu != w[0].1,
            None => w[1].0 != w[0].1 + 1,
        })
        .count()
}

struct Rest {
    agent: ureq::Agent,
    base: String,
    secret: String,
}

struct Answer {
    status: u16,
    retry_after: Option<String>,
    weight: Option<String>,
    text: String,
    json: serde_json::Value,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

impl Rest {
    fn new(sim: &VenueSim) -> Rest {
        Rest::with_timeout(sim, Duration::from_secs(10))
    }

    fn with_timeout(sim: &VenueSim, t: Duration) -> Rest {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(t))
            .build()
            .into();
        Rest {
            agent,
            base: format!("http://{}", sim.http_addr()),
            secret: SECRET.into(),
        }
    }

    fn answer(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<Answer, String> {
        let mut r = r.map_err(|e| e.to_string())?;
        let h = |k: &str| {
            r.headers()
                .get(k)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let retry_after = h("Retry-After");
        let weight = h("X-MBX-USED-WEIGHT-1M");
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().map_err(|e| e.to_string())?;
        let json: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
        Ok(Answer {
            status,
            retry_after,
            weight,
            text,
            json,
        })
    }

    fn depth_at(&self, prefix: &str) -> Answer {
        Rest::answer(
            self.agent
                .get(format!(
                    "{}{prefix}/depth?symbol=BTCUSDT&limit=1000",
                    self.base
                ))
                .call(),
        )
        .expect("depth answers")
    }

    /// A signed request with every parameter in the query string (GET,
    /// DELETE) or in the form body (POST), timestamp `ts`.
    fn signed_at(&self, method: &str, path: &str, params: &str, ts: u64) -> Result<Answer, String> {
        let payload = format!("{params}&timestamp={ts}&recvWindow=5000");
        let sig = sign(self.secret.as_bytes(), payload.as_bytes());
        let full = format!("{payload}&signature={sig}");
        let url = format!("{}{path}", self.base);
        let r = match method {
            "POST" => self
                .agent
                .post(&url)
                .header("X-MBX-APIKEY", KEY)
                .content_type("application/x-www-form-urlencoded")
                .send(full),
            "DELETE" => self
                .agent
                .delete(format!("{url}?{full}"))
                .header("X-MBX-APIKEY", KEY)
                .call(),
            _ => self
                .agent
                .get(format!("{url}?{full}"))
                .header("X-MBX-APIKEY", KEY)
                .call(),
        };
        Rest::answer(r)
    }

    fn signed(&self, method: &str, path: &str, params: &str) -> Answer {
        self.signed_at(method, path, params, now_ms())
            .expect("signed request answers")
    }

    fn order(&self, side: &str, tif: &str, px: &str, qty: &str, cid: &str) -> Answer {
        self.signed(
            "POST",
            "/api/v3/order",
            &format!(
                "symbol=BTCUSDT&side={side}&type=LIMIT&timeInForce={tif}&quantity={qty}&price={px}&newClientOrderId={cid}"
            ),
        )
    }

    /// Waits until the simulator's book is synced (the feed must be open).
    fn synced_depth(&self, ws: &mut WebSocket<TcpStream>, buffer: &mut Vec<String>) -> Answer {
        self.synced_depth_at("/api/v3", ws, buffer)
    }

    fn synced_depth_at(
        &self,
        prefix: &str,
        ws: &mut WebSocket<TcpStream>,
        buffer: &mut Vec<String>,
    ) -> Answer {
        let t0 = Instant::now();
        loop {
            let a = self.depth_at(prefix);
            if a.status == 200 || t0.elapsed() > DEADLINE {
                return a;
            }
            if let Read::Text(t) = read(ws) {
                buffer.push(t);
            }
        }
    }
}

/// The client's rebuilt book and its ground-truth check.
struct ClientBook {
    dec: Decoder,
    seq: Sequencer,
    book: L2Book,
    check: TickerCheck,
}

impl ClientBook {
    fn new(market: Market) -> ClientBook {
        ClientBook {
            dec: Decoder::new(),
            seq: Sequencer::new(SymbolId(0), market),
            book: L2Book::new(None),
            check: TickerCheck::default(),
        }
    }

    fn apply(&mut self, events: Vec<MdEvent>) {
        for ev in events {
            match ev {
                MdEvent::SnapshotBegin { .. } => {
                    self.book.clear();
                    self.check.reset();
                }
                MdEvent::Level { side, level, .. } => self.book.apply(side, level.px, level.qty),
                MdEvent::DiffEnd { last_id, .. } => {
                    let top = Top {
                        bid: self.book.best_bid(),
                        ask: self.book.best_ask(),
                    };
                    self.check.on_diff_applied(last_id, top);
                }
                MdEvent::Stale { .. } => self.check.reset(),
                _ => {}
            }
        }
    }

    fn on_frame(&mut self, bytes: &[u8]) {
        let mut events = Vec::new();
        match self.dec.decode(bytes) {
            Ok(Frame::Depth(d)) => {
                self.seq
                    .on_diff(&d, FrameStamps::default(), &mut |e| events.push(e));
            }
            Ok(Frame::Snapshot(s)) => self.seq.on_snapshot(&s, &mut |e| events.push(e)),
            Ok(Frame::Ticker(t)) => {
                let venue = Top {
                    bid: Some(Level {
                        px: t.bid_px,
                        qty: t.bid_qty,
                    }),
                    ask: Some(Level {
                        px: t.ask_px,
                        qty: t.ask_qty,
                    }),
                };
                let synced = self.seq.is_synced();
                self.check.on_ticker(t.update_id, venue, synced);
            }
            _ => {}
        }
        self.apply(events);
    }
}

/// Connects to the feed of `market`, fetches a depth snapshot once the
/// simulator is synced, reads the whole replay and rebuilds the book with
/// tickwire's own decoder, sequencer and L2 book.
fn sync_and_check(sim: &VenueSim, market: Market, ws_prefix: &str) -> (ClientBook, Vec<String>) {
    let rest_prefix = match market {
        Market::Spot => "/api/v3",
        _ => "/fapi/v1",
    };
    let rest = Rest::new(sim);
    let mut ws = ws_connect(
        sim.ws_addr(),
        &format!("{ws_prefix}/stream?streams={STREAMS}"),
    );
    let mut early = Vec::new();
    let snap = rest.synced_depth_at(rest_prefix, &mut ws, &mut early);
    assert_eq!(snap.status, 200, "depth: {}", snap.json);
    assert!(snap.weight.is_some(), "rate-limit header on every answer");
    let (later, closed) = read_all(sim, &mut ws, 0);
    assert!(!closed, "no fault, the feed stays open");
    let mut client = ClientBook::new(market);
    for f in &early {
        client.on_frame(f.as_bytes());
    }
    client.on_frame(snap.text.as_bytes());
    for f in &later {
        client.on_frame(f.as_bytes());
    }
    let all: Vec<String> = early.into_iter().chain(later).collect();
    eprintln!("{market:?}: {:?}", client.check.stats());
    (client, all)
}

#[test]
fn client_rebuilds_book_from_stream_and_snapshot_matching_every_checked_ticker() {
    let sim = start(3_000, Faults::default());
    let (client, all) = sync_and_check(&sim, Market::Spot, "");
    assert!(all.iter().all(|f| f.starts_with("{\"stream\":\"btcusdt@")));
    assert_eq!(chain_breaks(&diff_ids(&all)), 0, "no diff lost");
    let st = client.check.stats();
    assert!(client.seq.is_synced());
    assert_eq!(client.seq.stats().gaps, 0);
    assert!(st.checked > 20, "{st:?}");
    assert_eq!(st.mismatched, 0, "{:?}", client.check.first_mismatch());
    assert_eq!(st.matched, st.checked);
    assert_eq!(sim.stats().frames_sent, all.len() as u64);
    sim.stop();
}

/// A capture file the test owns, removed when dropped.
struct TempFile(std::path::PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn futures_paths_serve_a_usdm_capture_with_a_consistent_snapshot() {
    let bytes = tickwire_capture::synth::synthetic_session(11, Market::Usdm, 2_000);
    let path = std::env::temp_dir().join(format!("venue-sim-usdm-{}.txt", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    let file = TempFile(path);
    let mut cfg = SimConfig::synthetic(0, KEY, SECRET);
    cfg.sources = vec![format!("{}@usdm", file.0.display())];
    let sim = VenueSim::start(cfg).unwrap();
    // A futures-only simulator serves its feed on the plain `/stream` path,
    // as Binance's futures host does.
    let (client, all) = sync_and_check(&sim, Market::Usdm, "");
    assert!(!all.is_empty());

    assert_eq!(chain_breaks(&diff_ids(&all)), 0);
    let st = client.check.stats();
    assert_eq!(client.seq.stats().gaps, 0);
    assert!(st.checked > 20, "{st:?}");
    assert_eq!(st.mismatched, 0, "{:?}", client.check.first_mismatch());
    sim.stop();
}

fn marketdata() -> Option<std::path::PathBuf> {
    common::marketdata()
}

fn real_capture_matches(file: &str, market: Market, ws_prefix: &str, at_least: u64) {
    let Some(dir) = marketdata() else { return };
    let mut cfg = SimConfig::synthetic(0, KEY, SECRET);
    cfg.sources = vec![dir.join(file).display().to_string()];
    let sim = VenueSim::start(cfg).unwrap();
    let (client, all) = sync_and_check(&sim, market, ws_prefix);
    assert_eq!(chain_breaks(&diff_ids(&all)), 0);
    let st = client.check.stats();
    assert_eq!(client.seq.stats().gaps, 0);
    assert!(st.checked >= at_least, "{st:?}");
    assert_eq!(st.mismatched, 0, "{:?}", client.check.first_mismatch());
    sim.stop();
}

#[test]
fn real_spot_capture_served_by_the_simulator_rebuilds_exactly() {
    real_capture_matches("spot_btcusdt_20240808.gz", Market::Spot, "", 500);
}

#[test]
fn real_usdm_capture_served_by_the_simulator_rebuilds_exactly() {
    real_capture_matches("usdm_btcusdt_20240808.gz", Market::Usdm, "/fapi", 550);
}

#[test]
fn feed_answers_pings_with_pongs() {
    let sim = start(300, Faults::default());
    let mut ws = feed(&sim);
    ws.send(Message::Ping(tungstenite::Bytes::from_static(b"hi")))
        .unwrap();
    let t0 = Instant::now();
    let mut pong = None;
    while pong.is_none() && t0.elapsed() < DEADLINE {
        match ws.read() {
            Ok(Message::Pong(p)) => pong = Some(p),
            Ok(_) => {}
            Err(tungstenite::Error::Io(_)) => {}
            Err(e) => panic!("feed ended: {e}"),
        }
    }
    assert_eq!(pong.as_deref(), Some(&b"hi"[..]));
    sim.stop();
}

#[test]
fn recorded_pace_serves_every_frame_in_order() {
    let mut cfg = SimConfig::synthetic(300, KEY, SECRET);
    cfg.pace = tickwire_core::source::Pace::Recorded { speed: 20.0 };
    let sim = VenueSim::start(cfg).unwrap();
    let mut ws = feed(&sim);
    let (frames, closed) = read_all(&sim, &mut ws, 0);
    assert!(!closed);
    assert!(sim.stats().replay_finished);
    assert_eq!(frames.len() as u64, sim.stats().frames_sent);
    assert!(diff_ids(&frames).len() > 50);
    assert_eq!(chain_breaks(&diff_ids(&frames)), 0);
    sim.stop();
}

#[test]
fn signed_orders_are_checked_like_binance() {
    let sim = start(200, Faults::default());
    let rest = Rest::new(&sim);
    let a = rest.order("BUY", "GTC", "1", "0.001", "cid-1");
    assert_eq!(a.status, 200, "{}", a.json);
    assert_eq!(a.json["clientOrderId"], "cid-1");
    assert_eq!(a.json["status"], "NEW");
    let dup = rest.order("BUY", "GTC", "1", "0.001", "cid-1");
    assert_eq!((dup.status, dup.json["code"].as_i64()), (400, Some(-2010)));

    let mut wrong = Rest::new(&sim);
    wrong.secret = "not-the-secret".into();
    let bad = wrong.order("BUY", "GTC", "1", "0.001", "cid-2");
    assert_eq!((bad.status, bad.json["code"].as_i64()), (400, Some(-1022)));

    let stale = rest
        .signed_at(
            "POST",
            "/api/v3/order",
            "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=1&newClientOrderId=cid-3",
            now_ms() - 60_000,
        )
        .unwrap();
    assert_eq!(stale.json["code"].as_i64(), Some(-1021));

    let missing = rest.signed(
        "POST",
        "/api/v3/order",
        "symbol=BTCUSDT&side=BUY&type=LIMIT",
    );
    assert_eq!(missing.json["code"].as_i64(), Some(-1102));
    let unknown = rest.signed(
        "GET",
        "/api/v3/order",
        "symbol=BTCUSDT&origClientOrderId=nope",
    );
    assert_eq!(unknown.json["code"].as_i64(), Some(-2013));

    let no_key = Rest::answer(
        rest.agent
            .get(format!(
                "{}/api/v3/openOrders?timestamp=1&signature=00",
                rest.base
            ))
            .call(),
    )
    .unwrap();
    assert_eq!(
        (no_key.status, no_key.json["code"].as_i64()),
        (401, Some(-2015))
    );

    let acct = sim.account();
    assert_eq!(acct.orders.len(), 1, "refused requests place nothing");
    let s = sim.stats();
    assert_eq!(
        (
            s.duplicates_refused,
            s.signature_failures,
            s.timestamp_failures
        ),
        (1, 1, 1)
    );
    sim.stop();
}

#[test]
fn marketable_order_fills_and_shows_in_account_and_user_stream() {
    let sim = start(2_000, Faults::default());
    let rest = Rest::new(&sim);
    let lk = Rest::answer(
        rest.agent
            .post(format!("{}/api/v3/userDataStream", rest.base))
            .header("X-MBX-APIKEY", KEY)
            .send_empty(),
    )
    .unwrap();
    let key = lk.json["listenKey"]
        .as_str()
        .expect("listen key")
        .to_string();
    let mut user = ws_connect(sim.ws_addr(), &format!("/ws/{key}"));
    let mut ws = feed(&sim);
    let mut buf = Vec::new();
    let snap = rest.synced_depth(&mut ws, &mut buf);
    assert_eq!(snap.status, 200);
    let ask = snap.json["asks"][0][0].as_str().unwrap().to_string();
    let ask_px: f64 = ask.parse().unwrap();
    // Far through the ask: fills whatever the top is when it arrives.
    let limit = format!("{}", (ask_px * 2.0) as u64);
    let a = rest.order("BUY", "IOC", &limit, "0.00000001", "take-1");
    assert_eq!(a.status, 200, "{}", a.json);
    assert_eq!(a.json["status"], "FILLED", "{}", a.json);
    assert_eq!(a.json["fills"].as_array().map(Vec::len), Some(1));
    let acct = sim.account();
    assert_eq!(acct.position(Market::Spot, "BTCUSDT"), Qty(1));
    assert_eq!(acct.fills, 1);
    assert_eq!(acct.orders["take-1"].status, OrderStatus::Filled);

    let t0 = Instant::now();
    let mut seen = Vec::new();
    while t0.elapsed() < DEADLINE {
        match read(&mut user) {
            Read::Text(t) => {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                assert_eq!(v["e"], "executionReport");
                if v["c"] == "take-1" {
                    seen.push(v["X"].as_str().unwrap().to_string());
                    if v["X"] == "FILLED" {
                        assert_eq!(v["l"], "0.00000001");
                        assert_eq!(v["z"], "0.00000001");
                        break;
                    }
                }
            }
            Read::Closed => break,
            Read::Idle => {}
        }
    }
    assert_eq!(seen, ["NEW", "FILLED"]);
    sim.stop();
}

#[test]
fn cancel_and_cancel_all_end_resting_orders() {
    let sim = start(200, Faults::default());
    let rest = Rest::new(&sim);
    for c in ["r1", "r2", "r3"] {
        assert_eq!(rest.order("BUY", "GTC", "1", "0.001", c).status, 200);
    }
    let open = rest.signed("GET", "/api/v3/openOrders", "symbol=BTCUSDT");
    assert_eq!(open.json.as_array().map(Vec::len), Some(3));
    let c = rest.signed(
        "DELETE",
        "/api/v3/order",
        "symbol=BTCUSDT&origClientOrderId=r1",
    );
    assert_eq!(c.json["status"], "CANCELED", "{}", c.json);
    let again = rest.signed(
        "DELETE",
        "/api/v3/order",
        "symbol=BTCUSDT&origClientOrderId=r1",
    );
    assert_eq!(again.json["code"].as_i64(), Some(-2011));
    let all = rest.signed("DELETE", "/api/v3/openOrders", "symbol=BTCUSDT");
    assert_eq!(all.json.as_array().map(Vec::len), Some(2), "{}", all.json);
    let open = rest.signed("GET", "/api/v3/openOrders", "symbol=BTCUSDT");
    assert_eq!(open.json.as_array().map(Vec::len), Some(0));
    let q = rest.signed(
        "GET",
        "/api/v3/order",
        "symbol=BTCUSDT&origClientOrderId=r3",
    );
    assert_eq!(q.json["status"], "CANCELED");
    assert!(
        sim.account()
            .orders
            .values()
            .all(|o| o.status == OrderStatus::Canceled)
    );
    sim.stop();
}

#[test]
fn drop_fault_closes_the_feed_and_a_reconnect_continues_the_stream() {
    let sim = start(
        1_000,
        Faults {
            drop_feed_after: Some(100),
            ..Faults::default()
        },
    );
    let mut ws = feed(&sim);
    let (first, closed) = read_all(&sim, &mut ws, 0);
    assert!(closed, "the connection was dropped");
    assert_eq!(first.len(), 100);
    let mut ws2 = feed(&sim);
    let (second, closed2) = read_all(&sim, &mut ws2, first.len() as u64);
    assert!(!closed2, "the drop fires once");
    assert!(!second.is_empty());
    let a = diff_ids(&first);
    let b = diff_ids(&second);
    let (last_u, next_first) = (a.last().unwrap().1, b.first().unwrap().0);
    assert!(next_first > last_u, "continues, not from the start");
    assert_eq!(sim.stats().feed_drops, 1);
    sim.stop();
}

#[test]
fn skip_fault_leaves_exactly_one_gap_in_the_stream() {
    let sim = start(
        1_000,
        Faults {
            skip_diff: Some(50),
            ..Faults::default()
        },
    );
    let mut ws = feed(&sim);
    let (frames, _) = read_all(&sim, &mut ws, 0);
    let ids = diff_ids(&frames);
    assert_eq!(chain_breaks(&ids), 1);
    assert_eq!(sim.stats().diffs_skipped, 1);
    sim.stop();
}

#[test]
fn stall_fault_stops_sending_but_keeps_the_socket_open() {
    let sim = start(
        500,
        Faults {
            stall_after: Some(40),
            ..Faults::default()
        },
    );
    let mut ws = feed(&sim);
    let t0 = Instant::now();
    let mut got = 0;
    let mut closed = false;
    while t0.elapsed() < DEADLINE {
        match read(&mut ws) {
            Read::Text(_) => got += 1,
            Read::Closed => {
                closed = true;
                break;
            }
            Read::Idle if sim.stats().replay_finished => break,
            Read::Idle => {}
        }
    }
    assert!(sim.stats().replay_finished);
    assert_eq!(got, 40);
    assert!(!closed);
    // Still open: one more look finds silence, not a close.
    assert!(matches!(read(&mut ws), Read::Idle));
    assert_eq!(sim.stats().stalls, 1);
    sim.stop();
}

#[test]
fn order_5xx_fault_answers_503_and_places_nothing() {
    let sim = start(
        200,
        Faults {
            order_5xx_pct: 100,
            ..Faults::default()
        },
    );
    let a = Rest::new(&sim).order("BUY", "GTC", "1", "0.001", "f1");
    assert_eq!((a.status, a.json["code"].as_i64()), (503, Some(-1001)));
    assert!(sim.account().orders.is_empty());
    assert_eq!(sim.stats().order_5xx, 1);
    sim.stop();
}

#[test]
fn order_429_fault_answers_retry_after_and_places_nothing() {
    let sim = start(
        200,
        Faults {
            order_429_pct: 100,
            ..Faults::default()
        },
    );
    let a = Rest::new(&sim).order("BUY", "GTC", "1", "0.001", "f1");
    assert_eq!(a.status, 429);
    assert_eq!(a.retry_after.as_deref(), Some("1"));
    assert!(sim.account().orders.is_empty());
    sim.stop();
}

#[test]
fn order_count_limit_answers_429() {
    let mut cfg = SimConfig::synthetic(200, KEY, SECRET);
    cfg.max_orders_10s = 2;
    let sim = VenueSim::start(cfg).unwrap();
    let rest = Rest::new(&sim);
    assert_eq!(rest.order("BUY", "GTC", "1", "0.001", "l1").status, 200);
    assert_eq!(rest.order("BUY", "GTC", "1", "0.001", "l2").status, 200);
    let third = rest.order("BUY", "GTC", "1", "0.001", "l3");
    assert_eq!(
        (third.status, third.json["code"].as_i64()),
        (429, Some(-1015))
    );
    assert!(third.retry_after.is_some());
    sim.stop();
}

#[test]
fn no_answer_fault_places_the_order_and_a_query_finds_it() {
    let sim = start(
        200,
        Faults {
            order_no_answer_pct: 100,
            ..Faults::default()
        },
    );
    let impatient = Rest::with_timeout(&sim, Duration::from_millis(500));
    let r = impatient.signed_at(
        "POST",
        "/api/v3/order",
        "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=1&newClientOrderId=lost-1",
        now_ms(),
    );
    assert!(r.is_err(), "no answer: the client times out");
    let q = Rest::new(&sim).signed(
        "GET",
        "/api/v3/order",
        "symbol=BTCUSDT&origClientOrderId=lost-1",
    );
    assert_eq!(q.json["status"], "NEW", "{}", q.json);
    let retry = Rest::new(&sim).order("BUY", "GTC", "1", "0.001", "lost-1");
    assert_eq!(
        retry.json["code"].as_i64(),
        Some(-2010),
        "a retry never doubles"
    );
    assert_eq!(sim.stats().order_no_answer, 1);
    sim.stop();
}
