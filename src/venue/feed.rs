//! Market-data side: the pacer that replays the capture through the
//! simulator's engine and hands each frame to the subscribed connections,
//! and the per-connection writer with the feed faults.

use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use async_tungstenite::tungstenite;
use async_tungstenite::tungstenite::{Message, Utf8Bytes, WebSocket};

use super::engine::Kind;
use super::{Shared, lock};
use tickwire_capture::Capture;
use tickwire_core::source::Pace;
use tickwire_core::types::Market;

/// Frames queued per connection before the pacer waits for it.
const QUEUE: usize = 64;
/// Frames written between two looks at the socket for pings and close.
const BATCH: usize = 256;

/// One subscribed market-data connection.
struct Sub {
    id: u64,
    market: Market,
    /// `(symbol lower-case, kind)` pairs; empty = everything of the market.
    streams: Vec<(String, String)>,
    tx: SyncSender<Utf8Bytes>,
}

/// The set of market-data connections the pacer serves.
#[derive(Default)]
pub(crate) struct FeedHub {
    subs: Mutex<Vec<Sub>>,
    cv: Condvar,
    next_id: AtomicU64,
    drop_fired: AtomicBool,
    stall_fired: AtomicBool,
}

impl FeedHub {
    fn add(&self, market: Market, streams: Vec<(String, String)>) -> (u64, Receiver<Utf8Bytes>) {
        let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.subs).push(Sub {
            id,
            market,
            streams,
            tx,
        });
        self.cv.notify_all();
        (id, rx)
    }

    fn remove(&self, id: u64) {
        lock(&self.subs).retain(|s| s.id != id);
    }

    /// Wakes the pacer (at stop).
    pub(crate) fn wake(&self) {
        self.cv.notify_all();
    }
}

/// Parses a `streams=a/b/c` list into `(symbol, kind)` pairs.
pub(crate) fn parse_streams(list: &str) -> Vec<(String, String)> {
    list.split('/')
        .filter(|s| !s.is_empty())
        .map(stream_key)
        .collect()
}

/// `btcusdt@depth@100ms` -> `("btcusdt", "depth")`.
fn stream_key(name: &str) -> (String, String) {
    let mut parts = name.split('@');
    let sym = parts.next().unwrap_or("").to_ascii_lowercase();
    let kind = parts.next().unwrap_or("").to_string();
    (sym, kind)
}

/// The `stream` of a combined-stream envelope, if the frame is one.
fn envelope_stream(text: &str) -> Option<&str> {
    let rest = text.trim_start().strip_prefix("{\"stream\":\"")?;
    rest.split_once('"').map(|(name, _)| name)
}

/// Replays `capture` until it ends or the simulator stops.
pub(crate) fn run_pacer(shared: &Shared, capture: &Capture) {
    let first = capture.first_rx_ns();
    let mut base: Option<Instant> = None;
    let mut last_due = Duration::ZERO;
    let mut diffs = 0u64;
    for i in 0..capture.len() {
        // The market only moves while someone listens.
        {
            let mut subs = lock(&shared.feed.subs);
            while subs.is_empty() {
                if shared.stopping() {
                    return;
                }
                base = None;
                subs = shared
                    .feed
                    .cv
                    .wait_timeout(subs, Duration::from_millis(100))
                    .map_or_else(|e| e.into_inner().0, |(g, _)| g);
            }
        }
        if shared.stopping() {
            return;
        }
        let f = capture.frame(i);
        if let Pace::Recorded { speed } = shared.cfg.pace {
            // Float only for pacing arithmetic, never for prices.
            let off = f.rx_ns.saturating_sub(first) as f64 / speed.max(1e-9);
            let due = Duration::from_nanos(off as u64);
            let b = *base.get_or_insert_with(|| Instant::now() - last_due);
            while Instant::now() < b + due {
                if shared.stopping() {
                    return;
                }
                let left = (b + due).saturating_duration_since(Instant::now());
                std::thread::sleep(left.min(Duration::from_millis(50)));
            }
            last_due = due;
        }
        let (market, symbol) = match capture.sources().get(usize::from(f.source)) {
            Some(s) => (s.market, s.symbol),
            None => (None, None),
        };
        let (kind, sym) = {
            let mut eng = lock(&shared.engine);
            let r = eng.on_frame(f.bytes, market, symbol);
            let events = std::mem::take(&mut eng.events);
            drop(eng);
            shared.users.push(&events);
            r
        };
        shared.stat(|s| s.frames_served += 1);
        if kind == Kind::Diff {
            diffs += 1;
            if shared.cfg.faults.skip_diff == Some(diffs) {
                shared.stat(|s| s.diffs_skipped += 1);
                continue;
            }
        }
        let Some(text) = frame_text(f.bytes, kind, sym) else {
            continue;
        };
        broadcast(shared, market.unwrap_or(Market::Spot), text);
    }
    shared.stat(|s| s.replay_finished = true);
}

/// The enveloped text to send for a frame, or `None` for frames that are
/// never sent (snapshot lines, undecodable or non-UTF-8 bytes, unnamed
/// raw events).
fn frame_text(
    bytes: &[u8],
    kind: Kind,
    sym: Option<tickwire_core::types::SymbolName>,
) -> Option<(String, Utf8Bytes)> {
    if matches!(kind, Kind::Snapshot | Kind::Bad) {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    if let Some(name) = envelope_stream(text) {
        return Some((name.to_string(), Utf8Bytes::from(text.to_string())));
    }
    let sym = sym?.to_string().to_ascii_lowercase();
    let name = match kind {
        Kind::Diff => format!("{sym}@depth@100ms"),
        Kind::Ticker => format!("{sym}@bookTicker"),
        Kind::Trade { aggregate: true } => format!("{sym}@aggTrade"),
        Kind::Trade { aggregate: false } => format!("{sym}@trade"),
        _ => return None,
    };
    let wrapped = format!("{{\"stream\":\"{name}\",\"data\":{}}}", text.trim());
    Some((name, Utf8Bytes::from(wrapped)))
}

/// Hands one frame to every connection subscribed to its stream, waiting
/// for connections whose queue is full (back-pressure at `Pace::Max`).
fn broadcast(shared: &Shared, market: Market, (name, text): (String, Utf8Bytes)) {
    let key = stream_key(&name);
    let targets: Vec<(u64, SyncSender<Utf8Bytes>)> = lock(&shared.feed.subs)
        .iter()
        .filter(|s| s.market == market && (s.streams.is_empty() || s.streams.contains(&key)))
        .map(|s| (s.id, s.tx.clone()))
        .collect();
    for (id, tx) in targets {
        if tx.send(text.clone()).is_ok() {
            shared.stat(|s| s.frames_queued += 1);
        } else {
            shared.feed.remove(id);
        }
    }
}

/// Serves one market-data connection until it closes, a fault ends it or
/// the simulator stops.
pub(crate) fn serve(
    shared: &Shared,
    mut ws: WebSocket<TcpStream>,
    market: Market,
    streams: Vec<(String, String)>,
) {
    shared.stat(|s| s.md_connections += 1);
    let (id, rx) = shared.feed.add(market, streams);
    let faults = &shared.cfg.faults;
    let mut sent = 0u64;
    let mut stalled = false;
    'conn: while !shared.stopping() {
        let first = match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(t) => Some(t),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let mut next = first;
        let mut n = 0;
        while let Some(text) = next.take() {
            if stalled {
                shared.stat(|s| s.frames_unsent += 1);
            } else {
                shared.wire.frame_sent();
                if ws.send(Message::Text(text)).is_err() {
                    shared.stat(|s| s.frames_unsent += 1);
                    break 'conn;
                }
                sent += 1;
                shared.stat(|s| s.frames_sent += 1);
                if faults.drop_feed_after.is_some_and(|d| sent >= d)
                    && !shared.feed.drop_fired.swap(true, Ordering::AcqRel)
                {
                    shared.stat(|s| s.feed_drops += 1);
                    // Abrupt drop: no close frame. Failure means it is gone.
                    let _ = ws.get_mut().shutdown(Shutdown::Both);
                    break 'conn;
                }
                if faults.stall_after.is_some_and(|d| sent >= d)
                    && !shared.feed.stall_fired.swap(true, Ordering::AcqRel)
                {
                    shared.stat(|s| s.stalls += 1);
                    stalled = true;
                }
            }
            n += 1;
            if n < BATCH {
                next = match rx.try_recv() {
                    Ok(t) => Some(t),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => break 'conn,
                };
            }
        }
        if stalled {
            if peer_closed(ws.get_ref()) {
                break;
            }
        } else if !poll_control(&mut ws) {
            break;
        }
    }
    shared.feed.remove(id);
    // Whatever is still queued will never be written.
    let mut left = 0;
    while rx.try_recv().is_ok() {
        left += 1;
    }
    shared.stat(|s| s.frames_unsent += left);
}

/// Reads what the client sent (pongs are queued by tungstenite and flushed
/// here). False when the connection is over.
pub(crate) fn poll_control(ws: &mut WebSocket<TcpStream>) -> bool {
    // Short read timeout: this is a poll, not a wait.
    if ws
        .get_mut()
        .set_read_timeout(Some(Duration::from_millis(1)))
        .is_err()
    {
        return false;
    }
    loop {
        match ws.read() {
            Ok(Message::Close(_)) => return false,
            Ok(_) => continue,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return ws.flush().is_ok();
            }
            Err(_) => return false,
        }
    }
}

/// True when the peer has closed (or the socket failed), without consuming
/// anything.
fn peer_closed(s: &TcpStream) -> bool {
    if s.set_read_timeout(Some(Duration::from_millis(1))).is_err() {
        return true;
    }
    let mut b = [0u8; 1];
    match s.peek(&mut b) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}
