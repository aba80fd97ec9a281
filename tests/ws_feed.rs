//! Live feed client on loopback: an in-test WebSocket server (tungstenite,
//! sync, std thread, 127.0.0.1) serves a synthetic session as combined-stream
//! frames; the glommio client must deliver every frame in order with a TSC,
//! answer and send pings, reconnect with a resync event after close, silence,
//! oversized / invalid UTF-8 / truncated frames, and reject a self-signed
//! certificate. The REST snapshot fetcher is checked against tiny_http.
//! Every server loop is bounded by a deadline and ends by itself.

mod common;

use std::cell::Cell;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tickwire_capture::synth::synthetic_session;
use tickwire_core::source::{FrameSource, Next};
use tickwire_core::types::{Market, SymbolName};
use tickwire_md::feed::BackoffConfig;
use tickwire_md::feed::{
    self, DisconnectReason, FeedConfig, FeedStats, WsError, feed_channel, run_feed,
};
use tickwire_md::feed::{LiveEvent, LiveSource};
use tickwire_md::feed::{SnapshotClient, SnapshotConfig, SnapshotError, SnapshotRequest};
use tungstenite::protocol::frame::Frame;
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::{Message, WebSocket};

// ---------------------------------------------------------------- allocator

use common::alloc::{ALLOCS, COUNTING};

#[global_allocator]
static GLOBAL: common::alloc::Counting = common::alloc::Counting;

// ---------------------------------------------------------------- fixtures

/// glommio executors lock memory for io_uring; run one at a time.
static EXECUTOR: Mutex<()> = Mutex::new(());

const DEADLINE: Duration = Duration::from_secs(20);

use common::self_signed;

/// Combined-stream frames and the REST snapshot body of a synthetic session.
fn session(frames: usize) -> (Vec<Vec<u8>>, Vec<u8>) {
    let text = synthetic_session(11, Market::Spot, frames);
    let mut ws = Vec::new();
    let mut snapshot = Vec::new();
    for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let Some(sp) = line.iter().position(|b| *b == b' ') else {
            continue;
        };
        let json = &line[sp + 1..];
        if json.starts_with(b"{\"lastUpdateId\"") {
            snapshot = json.to_vec();
        } else {
            ws.push(json.to_vec());
        }
    }
    assert!(!snapshot.is_empty(), "session too short to hold a snapshot");
    (ws, snapshot)
}

type Script = Box<dyn FnMut(usize, &mut WebSocket<TcpStream>) + Send>;

/// A WebSocket server on 127.0.0.1 running `script(connection_index, ws)`
/// for up to `max_conns` connections or until the deadline.
fn ws_server(max_conns: usize, mut script: Script) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let h = std::thread::spawn(move || {
        let end = Instant::now() + DEADLINE;
        let mut n = 0;
        while n < max_conns && Instant::now() < end {
            match listener.accept() {
                Ok((s, _)) => {
                    s.set_nonblocking(false).unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    if let Ok(mut ws) = tungstenite::accept(s) {
                        script(n, &mut ws);
                    }
                    n += 1;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(2)),
            }
        }
    });
    (port, h)
}

fn send_all(ws: &mut WebSocket<TcpStream>, frames: &[Vec<u8>]) {
    for f in frames {
        let text = String::from_utf8(f.clone()).unwrap();
        ws.send(Message::text(text)).unwrap();
    }
}

/// Closes politely and waits (bounded) for the client's close reply.
fn close(ws: &mut WebSocket<TcpStream>) {
    let _ = ws.close(None);
    let end = Instant::now() + Duration::from_secs(2);
    while Instant::now() < end {
        if ws.read().is_err() {
            break;
        }
    }
}

fn fast_backoff() -> BackoffConfig {
    BackoffConfig {
        base: Duration::from_millis(5),
        cap: Duration::from_millis(40),
        seed: 3,
    }
}

fn config(port: u16, max_attempts: u32) -> FeedConfig {
    let mut c = FeedConfig::new(
        format!("ws://127.0.0.1:{port}/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker"),
        0,
    );
    c.max_attempts = Some(max_attempts);
    c.backoff = fast_backoff();
    c.connect_timeout = Duration::from_secs(2);
    c
}

fn btc() -> SymbolName {
    SymbolName::new(b"BTCUSDT").unwrap()
}

/// What one client run saw.
#[derive(Default)]
struct Seen {
    frames: Vec<Vec<u8>>,
    tscs: Vec<u64>,
    snapshot_frames: Vec<(Vec<u8>, Option<Market>, Option<SymbolName>)>,
    events: Vec<LiveEvent>,
}

/// Runs one feed on a fresh glommio executor and drains a `LiveSource`
/// until the feed stops (or the deadline passes).
fn run_client(cfg: FeedConfig, snapshots: Option<SnapshotClient>) -> (Seen, Arc<FeedStats>) {
    let _guard = EXECUTOR.lock().unwrap_or_else(|p| p.into_inner());
    let stats = Arc::new(FeedStats::default());
    let stats2 = Arc::clone(&stats);
    let seen = glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
        .spawn(move || async move {
            let stop = Arc::new(AtomicBool::new(false));
            let (tx, rx) = feed_channel(256, 4096);
            let mut src = LiveSource::new(snapshots);
            let conn = src.add_connection(rx, Market::Spot, vec![btc()]);
            let mut cfg = cfg;
            cfg.conn = conn;
            let task = glommio::spawn_local(run_feed(cfg, tx, stats2, Arc::clone(&stop)));
            let mut seen = Seen::default();
            let end = Instant::now() + DEADLINE;
            loop {
                match src.next_frame(0) {
                    Next::Frame {
                        bytes,
                        market,
                        symbol,
                        ..
                    } => {
                        if symbol.is_some() {
                            seen.snapshot_frames.push((bytes.to_vec(), market, symbol));
                        } else {
                            seen.frames.push(bytes.to_vec());
                            seen.tscs.push(src.last_rx_tsc());
                        }
                    }
                    Next::NotYet => {
                        while let Some(ev) = src.take_event() {
                            seen.events.push(ev);
                        }
                        if Instant::now() > end {
                            stop.store(true, Ordering::Relaxed);
                            break;
                        }
                        glommio::timer::sleep(Duration::from_millis(1)).await;
                    }
                    Next::End => break,
                }
            }
            while let Some(ev) = src.take_event() {
                seen.events.push(ev);
            }
            task.await;
            seen
        })
        .unwrap()
        .join()
        .unwrap();
    (seen, stats)
}

fn reasons(events: &[LiveEvent]) -> Vec<DisconnectReason> {
    events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Disconnected { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect()
}

fn resyncs(events: &[LiveEvent]) -> usize {
    events
        .iter()
        .filter(|e| {
            matches!(
                e,
                LiveEvent::Resync {
                    conn: 0,
                    market: Market::Spot
                }
            )
        })
        .count()
}

// ---------------------------------------------------------------- tests

#[test]
fn client_receives_every_frame_in_order_with_a_tsc_and_answers_server_pings() {
    let (frames, _) = session(300);
    let served = frames.clone();
    let got_pong = Arc::new(AtomicBool::new(false));
    let got_pong2 = Arc::clone(&got_pong);
    let (port, server) = ws_server(
        1,
        Box::new(move |_, ws| {
            ws.send(Message::Ping(b"hi"[..].into())).unwrap();
            send_all(ws, &served);
            // Wait (bounded) for the pong to the ping sent first.
            let end = Instant::now() + Duration::from_secs(5);
            while Instant::now() < end {
                match ws.read() {
                    Ok(Message::Pong(p)) if &p[..] == b"hi" => {
                        got_pong2.store(true, Ordering::Relaxed);
                        break;
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            close(ws);
        }),
    );
    let (seen, stats) = run_client(config(port, 1), None);
    server.join().unwrap();
    assert_eq!(seen.frames.len(), frames.len());
    assert!(
        seen.frames == frames,
        "frames differ from what the server sent"
    );
    assert!(seen.tscs.iter().all(|t| *t > 0));
    assert!(
        seen.tscs.windows(2).all(|w| w[0] <= w[1]),
        "TSCs not monotonic"
    );
    assert!(
        got_pong.load(Ordering::Relaxed),
        "server never got its pong"
    );
    assert_eq!(stats.pings_received.load(Ordering::Relaxed), 1);
    assert_eq!(stats.frames.load(Ordering::Relaxed), frames.len() as u64);
    assert_eq!(reasons(&seen.events), vec![DisconnectReason::Closed]);
    assert_eq!(resyncs(&seen.events), 0);
}

#[test]
fn client_pings_a_quiet_server_and_counts_its_pong() {
    let (frames, _) = session(60);
    let served = frames.clone();
    let (port, server) = ws_server(
        1,
        Box::new(move |_, ws| {
            send_all(ws, &served[..1]);
            ws.get_ref()
                .set_read_timeout(Some(Duration::from_millis(50)))
                .unwrap();
            let end = Instant::now() + Duration::from_secs(5);
            while Instant::now() < end {
                match ws.read() {
                    Ok(Message::Ping(_)) => {
                        // tungstenite queued the pong; push it out.
                        let _ = ws.flush();
                        break;
                    }
                    Ok(_) => {}
                    Err(tungstenite::Error::Io(e))
                        if e.kind() == std::io::ErrorKind::WouldBlock
                            || e.kind() == std::io::ErrorKind::TimedOut => {}
                    Err(_) => break,
                }
            }
            send_all(ws, &served[1..]);
            close(ws);
        }),
    );
    let mut cfg = config(port, 1);
    cfg.ping_interval = Duration::from_millis(30);
    cfg.silence_timeout = Duration::from_secs(10);
    let (seen, stats) = run_client(cfg, None);
    server.join().unwrap();
    assert!(stats.pings_sent.load(Ordering::Relaxed) >= 1);
    assert!(stats.pongs_received.load(Ordering::Relaxed) >= 1);
    assert!(seen.frames == frames);
}

#[test]
fn server_close_after_n_frames_reconnects_with_a_resync_event() {
    let (frames, _) = session(200);
    let served = frames.clone();
    let (port, server) = ws_server(
        2,
        Box::new(move |n, ws| {
            let part = if n == 0 { &served[..40] } else { &served[40..] };
            send_all(ws, part);
            close(ws);
        }),
    );
    let (seen, stats) = run_client(config(port, 2), None);
    server.join().unwrap();
    assert!(
        seen.frames == frames,
        "frames lost or reordered across the reconnect"
    );
    assert_eq!(stats.connects.load(Ordering::Relaxed), 2);
    assert_eq!(resyncs(&seen.events), 1);
    let order: Vec<&LiveEvent> = seen.events.iter().collect();
    assert!(
        matches!(
            order.as_slice(),
            [
                LiveEvent::Connected { session: 0, .. },
                LiveEvent::Disconnected {
                    reason: DisconnectReason::Closed,
                    ..
                },
                LiveEvent::Connected { session: 1, .. },
                LiveEvent::Resync { .. },
                LiveEvent::Disconnected { .. },
            ]
        ),
        "events: {order:?}"
    );
}

#[test]
fn silence_longer_than_the_timeout_triggers_a_reconnect() {
    let (frames, _) = session(80);
    let served = frames.clone();
    let (port, server) = ws_server(
        2,
        Box::new(move |n, ws| {
            if n == 0 {
                send_all(ws, &served[..5]);
                // Go quiet until the client gives up on us (bounded).
                ws.get_ref()
                    .set_read_timeout(Some(Duration::from_millis(50)))
                    .unwrap();
                let end = Instant::now() + Duration::from_secs(5);
                while Instant::now() < end {
                    match ws.read() {
                        Ok(_) => {}
                        Err(tungstenite::Error::Io(e))
                            if e.kind() == std::io::ErrorKind::WouldBlock
                                || e.kind() == std::io::ErrorKind::TimedOut => {}
                        Err(_) => break,
                    }
                }
            } else {
                send_all(ws, &served[5..]);
                close(ws);
            }
        }),
    );
    let mut cfg = config(port, 2);
    cfg.silence_timeout = Duration::from_millis(150);
    cfg.ping_interval = Duration::from_secs(60);
    let (seen, stats) = run_client(cfg, None);
    server.join().unwrap();
    assert_eq!(stats.silence_timeouts.load(Ordering::Relaxed), 1);
    assert_eq!(reasons(&seen.events)[0], DisconnectReason::Silence);
    assert_eq!(resyncs(&seen.events), 1);
    assert!(seen.frames == frames);
    assert!(matches!(
        stats.last_error(),
        None | Some(WsError::Silence { ms: 150 })
    ));
}

/// A text frame header announcing 100 payload bytes, followed by only 10.
fn truncated_frame() -> Vec<u8> {
    let mut v = vec![0x81, 100];
    v.extend_from_slice(b"{\"stream\":");
    v
}

#[test]
fn oversized_invalid_utf8_and_truncated_frames_are_counted_errors() {
    let (frames, _) = session(80);
    let served = frames.clone();
    let (port, server) = ws_server(
        4,
        Box::new(move |n, ws| match n {
            0 => {
                send_all(ws, &served[..3]);
                ws.send(Message::text("x".repeat(8192))).unwrap();
                close(ws);
            }
            1 => {
                send_all(ws, &served[3..5]);
                let bad =
                    Frame::message(vec![b'{', 0xff, 0xfe, b'}'], OpCode::Data(Data::Text), true);
                ws.send(Message::Frame(bad)).unwrap();
                close(ws);
            }
            2 => {
                send_all(ws, &served[5..7]);
                let s = ws.get_mut();
                let _ = s.write_all(&truncated_frame());
                let _ = s.flush();
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
            _ => {
                send_all(ws, &served[7..]);
                close(ws);
            }
        }),
    );
    let mut cfg = config(port, 4);
    cfg.max_frame_bytes = 4096;
    let (seen, stats) = run_client(cfg, None);
    server.join().unwrap();
    assert_eq!(stats.oversized.load(Ordering::Relaxed), 1);
    assert_eq!(stats.invalid_utf8.load(Ordering::Relaxed), 1);
    let r = reasons(&seen.events);
    assert_eq!(r[0], DisconnectReason::Oversized);
    assert_eq!(r[1], DisconnectReason::InvalidUtf8);
    assert!(
        matches!(r[2], DisconnectReason::Protocol | DisconnectReason::Io),
        "a close mid-frame must be an error, got {:?}",
        r[2]
    );
    assert_eq!(r[3], DisconnectReason::Closed);
    assert_eq!(resyncs(&seen.events), 3);
    assert!(
        seen.frames == frames,
        "good frames around the bad ones must all arrive"
    );
}

/// A TLS server on 127.0.0.1 with the self-signed certificate, which
/// handshakes (or fails to) once, then answers nothing.
fn tls_server() -> (u16, JoinHandle<Option<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let cfg = self_signed::server_config();
        let (mut tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut conn = rustls::ServerConnection::new(cfg).unwrap();
        let end = Instant::now() + Duration::from_secs(5);
        while conn.is_handshaking() && Instant::now() < end {
            if let Err(e) = conn.complete_io(&mut tcp) {
                return Some(e.to_string());
            }
        }
        None
    });
    (port, h)
}

#[test]
fn wss_to_a_self_signed_server_is_a_certificate_error_naming_the_host() {
    let (port, server) = tls_server();
    let mut cfg = config(port, 1);
    cfg.url = format!("wss://127.0.0.1:{port}/stream?streams=btcusdt@trade");
    let (seen, stats) = run_client(cfg, None);
    let _ = server.join().unwrap();
    assert_eq!(stats.certificate_errors.load(Ordering::Relaxed), 1);
    assert_eq!(reasons(&seen.events), vec![DisconnectReason::Certificate]);
    let err = stats.last_error().expect("error recorded");
    assert!(matches!(&err, WsError::Certificate { host, .. } if host == "127.0.0.1"));
    let msg = err.to_string();
    assert!(
        msg.contains("127.0.0.1") && msg.contains("certificate"),
        "{msg}"
    );
    assert!(seen.frames.is_empty());
}

/// A wss server trusting nothing but serving the self-signed certificate:
/// TLS + WebSocket accept, then `frames`, then close.
fn wss_server(frames: Vec<Vec<u8>>) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let cfg = self_signed::server_config();
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let conn = rustls::ServerConnection::new(cfg).unwrap();
        let tls = rustls::StreamOwned::new(conn, tcp);
        let Ok(mut ws) = tungstenite::accept(tls) else {
            return;
        };
        for f in &frames {
            ws.send(Message::text(String::from_utf8(f.clone()).unwrap()))
                .unwrap();
        }
        let _ = ws.close(None);
        let end = Instant::now() + Duration::from_secs(2);
        while Instant::now() < end && ws.read().is_ok() {}
    });
    (port, h)
}

#[test]
fn wss_with_the_certificate_trusted_delivers_every_frame() {
    let (frames, _) = session(100);
    let (port, server) = wss_server(frames.clone());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(self_signed::certificate()).unwrap();
    let mut cfg = config(port, 1);
    cfg.url = format!("wss://127.0.0.1:{port}/stream?streams=btcusdt@depth@100ms");
    cfg.tls = Some(tickwire_md::feed::client_config_with_roots(roots));
    let (seen, stats) = run_client(cfg, None);
    server.join().unwrap();
    assert_eq!(
        stats.certificate_errors.load(Ordering::Relaxed),
        0,
        "{:?}",
        stats.last_error()
    );
    assert!(
        seen.frames == frames,
        "got {} of {} frames",
        seen.frames.len(),
        frames.len()
    );
}

#[test]
fn connect_refused_is_a_typed_error_and_backoff_retries() {
    // Bind then drop: the port is very likely closed for the next moments.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (seen, stats) = run_client(config(port, 3), None);
    assert_eq!(stats.connect_failures.load(Ordering::Relaxed), 3);
    assert_eq!(
        reasons(&seen.events),
        vec![DisconnectReason::ConnectFailed; 3]
    );
    assert!(matches!(stats.last_error(), Some(WsError::Connect { port: p, .. }) if p == port));
}

// ---------------------------------------------------------------- REST snapshots

/// tiny_http on 127.0.0.1 answering with `answers` in turn; returns the
/// URLs it was asked for.
fn http_server(answers: Vec<(u16, Vec<u8>)>) -> (String, JoinHandle<Vec<String>>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let h = std::thread::spawn(move || {
        let mut urls = Vec::new();
        for (status, body) in answers {
            let Ok(Some(req)) = server.recv_timeout(Duration::from_secs(10)) else {
                break;
            };
            urls.push(req.url().to_string());
            let resp = tiny_http::Response::from_data(body).with_status_code(status);
            let _ = req.respond(resp);
        }
        urls
    });
    (format!("http://127.0.0.1:{port}"), h)
}

fn snapshot_config(base: &str) -> SnapshotConfig {
    SnapshotConfig {
        spot_base: Some(base.to_string()),
        limit: 100,
        max_attempts: 3,
        backoff: fast_backoff(),
        timeout: Duration::from_secs(5),
        ..SnapshotConfig::default()
    }
}

fn wait_response(c: &mut SnapshotClient) -> tickwire_md::feed::SnapshotResponse {
    let end = Instant::now() + DEADLINE;
    loop {
        if let Some(r) = c.poll() {
            return r;
        }
        assert!(
            Instant::now() < end,
            "no snapshot response before the deadline"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn snapshot_fetcher_retries_a_5xx_then_returns_the_body() {
    let (_, snapshot) = session(120);
    let (base, server) = http_server(vec![(503, b"busy".to_vec()), (200, snapshot.clone())]);
    let mut c = SnapshotClient::spawn(snapshot_config(&base)).unwrap();
    let req = SnapshotRequest {
        conn: 0,
        market: Market::Spot,
        symbol: btc(),
    };
    assert!(c.request(req));
    let r = wait_response(&mut c);
    assert_eq!(r.req, req);
    assert_eq!(r.result.unwrap(), snapshot);
    let urls = server.join().unwrap();
    assert_eq!(urls, vec!["/api/v3/depth?symbol=BTCUSDT&limit=100"; 2]);
}

#[test]
fn snapshot_fetcher_reports_invalid_json_as_a_typed_error() {
    let (base, server) = http_server(vec![(200, b"{\"lastUpdateId\":12,\"bids\":[[".to_vec())]);
    let mut c = SnapshotClient::spawn(snapshot_config(&base)).unwrap();
    assert!(c.request(SnapshotRequest {
        conn: 0,
        market: Market::Spot,
        symbol: btc(),
    }));
    let r = wait_response(&mut c);
    assert!(
        matches!(r.result, Err(SnapshotError::InvalidBody { .. })),
        "{:?}",
        r.result
    );
    assert_eq!(
        server.join().unwrap().len(),
        1,
        "invalid JSON is not retried"
    );
}

#[test]
fn snapshot_fetcher_gives_up_after_the_retry_budget() {
    let (base, server) = http_server(vec![(500, vec![]), (502, vec![]), (503, vec![])]);
    let mut c = SnapshotClient::spawn(snapshot_config(&base)).unwrap();
    assert!(c.request(SnapshotRequest {
        conn: 0,
        market: Market::Usdm,
        symbol: btc(),
    }));
    let r = wait_response(&mut c);
    assert!(
        matches!(r.result, Err(SnapshotError::NoBaseUrl("usdm"))),
        "{:?}",
        r.result
    );
    drop(c);
    let mut cfg = snapshot_config(&base);
    cfg.usdm_base = Some(base.clone());
    let mut c = SnapshotClient::spawn(cfg).unwrap();
    assert!(c.request(SnapshotRequest {
        conn: 0,
        market: Market::Usdm,
        symbol: btc(),
    }));
    let r = wait_response(&mut c);
    assert!(
        matches!(&r.result, Err(SnapshotError::GaveUp { attempts: 3, url, .. }) if url.contains("/fapi/v1/depth")),
        "{:?}",
        r.result
    );
    assert_eq!(server.join().unwrap().len(), 3);
}

#[test]
fn live_source_fetches_a_snapshot_on_connect_and_hands_it_out_with_its_symbol() {
    let (frames, snapshot) = session(150);
    let (base, http) = http_server(vec![(200, snapshot.clone())]);
    let served = frames.clone();
    let (port, server) = ws_server(
        1,
        Box::new(move |_, ws| {
            send_all(ws, &served);
            close(ws);
        }),
    );
    let client = SnapshotClient::spawn(snapshot_config(&base)).unwrap();
    let (seen, _) = run_client(config(port, 1), Some(client));
    server.join().unwrap();
    http.join().unwrap();
    assert!(seen.frames == frames);
    assert_eq!(seen.snapshot_frames.len(), 1);
    let (body, market, symbol) = &seen.snapshot_frames[0];
    assert_eq!(body, &snapshot);
    assert_eq!(*market, Some(Market::Spot));
    assert_eq!(*symbol, Some(btc()));
}

// ---------------------------------------------------------------- allocation

#[test]
fn framing_allocations_per_frame_are_measured() {
    let (frames, _) = session(3000);
    let total = frames.len() as u64;
    let served = frames.clone();
    let (port, server) = ws_server(
        1,
        Box::new(move |_, ws| {
            send_all(ws, &served);
            close(ws);
        }),
    );
    let _guard = EXECUTOR.lock().unwrap_or_else(|p| p.into_inner());
    let cfg = config(port, 1);
    let counted = Arc::new(AtomicU64::new(0));
    let counted_frames = Arc::new(AtomicU64::new(0));
    let (c2, f2) = (Arc::clone(&counted), Arc::clone(&counted_frames));
    glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
        .spawn(move || async move {
            let stop = Arc::new(AtomicBool::new(false));
            let stats = Arc::new(FeedStats::default());
            let (tx, rx) = feed_channel(4096, 4096);
            let mut src = LiveSource::new(None);
            src.add_connection(rx, Market::Spot, vec![btc()]);
            let task = glommio::spawn_local(run_feed(cfg, tx, stats, Arc::clone(&stop)));
            let warmup = total / 10;
            let mut handed = 0u64;
            let mut bytes = 0u64;
            let end = Instant::now() + DEADLINE;
            loop {
                match src.next_frame(0) {
                    Next::Frame { bytes: b, .. } => {
                        bytes += b.len() as u64;
                        handed += 1;
                        if handed == warmup {
                            ALLOCS.with(|a| a.set(0));
                            COUNTING.with(|c| c.set(true));
                        }
                        if handed == total {
                            COUNTING.with(|c| c.set(false));
                        }
                    }
                    Next::NotYet => {
                        while src.take_event().is_some() {}
                        if Instant::now() > end {
                            stop.store(true, Ordering::Relaxed);
                            break;
                        }
                        glommio::executor().yield_now().await;
                    }
                    Next::End => break,
                }
            }
            COUNTING.with(|c| c.set(false));
            c2.store(ALLOCS.with(Cell::get), Ordering::Relaxed);
            f2.store(handed - warmup, Ordering::Relaxed);
            assert!(bytes > 0);
            task.await;
        })
        .unwrap()
        .join()
        .unwrap();
    server.join().unwrap();
    let allocs = counted.load(Ordering::Relaxed);
    let n = counted_frames.load(Ordering::Relaxed);
    assert_eq!(n, total - total / 10, "not every frame arrived");
    let per_frame = allocs as f64 / n as f64;
    println!(
        "ws framing: {allocs} allocations over {n} steady-state frames = {per_frame:.2} per frame"
    );
    assert!(per_frame <= 4.0, "{per_frame:.2} allocations per frame");
}

#[test]
fn combined_path_and_url_helpers_agree() {
    let path = feed::combined_path(
        Market::Usdm,
        &["BTCUSDT"],
        &[feed::StreamKind::Depth, feed::StreamKind::Trade],
    );
    let url = feed::WsUrl::parse(&format!("ws://127.0.0.1:9/{}", &path[1..])).unwrap();
    assert_eq!(url.path, "/stream?streams=btcusdt@depth@0ms/btcusdt@trade");
}
