//! [`LiveSource`]: the md stage's [`FrameSource`] over live feeds.
//!
//! Each connection's [`run_feed`](super::ws::run_feed) task (on the md
//! executor) pushes frames and lifecycle events into its ring; REST
//! snapshots arrive from the [`SnapshotClient`] thread. `next_frame` hands
//! out WS frames (source = connection index, market = the connection's, no
//! symbol: the frame names it) and snapshot bodies (same source, with market
//! and symbol, exactly like a capture's snapshot line, so the existing
//! `Sequencer` bridges them), and `Next::NotYet` when nothing is ready.
//!
//! Every `Connected` event requests a snapshot for each symbol of that
//! connection. A [`LiveEvent::Resync`] (reconnect) is a barrier: no further
//! frame is handed out until the owner has taken it with
//! [`LiveSource::take_event`] and resynced the connection's books
//! (`Sequencer::force_resync`), so no frame of the new session can reach a
//! book that still believes the old one.

use super::channel::{FeedEvent, FeedItem, FeedReceiver};
use super::error::DisconnectReason;
use super::snapshot::{SnapshotClient, SnapshotError, SnapshotRequest};
use tickwire_core::source::{FrameSource, Next, SourceControl};
use tickwire_core::types::{Market, SymbolName};

/// Lifecycle news for the md stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveEvent {
    /// Connection `conn` is up (`session` 0 = first time).
    Connected {
        /// Connection index (the frames' `source`).
        conn: u16,
        /// Session number.
        session: u32,
    },
    /// Reconnected: resync every book of `conn` ([`LiveSource::symbols`]).
    Resync {
        /// Connection index.
        conn: u16,
        /// Market of the connection.
        market: Market,
    },
    /// Connection `conn` dropped (a reconnect follows unless stopped).
    Disconnected {
        /// Connection index.
        conn: u16,
        /// Why.
        reason: DisconnectReason,
    },
    /// A snapshot could not be fetched; the book stays stale until the next
    /// reconnect or a [`LiveSource::request_snapshot`].
    SnapshotFailed {
        /// Connection index.
        conn: u16,
        /// Symbol.
        symbol: SymbolName,
        /// Why.
        error: SnapshotError,
    },
}

struct Conn {
    rx: FeedReceiver,
    market: Market,
    symbols: Vec<SymbolName>,
    ended: bool,
}

/// What `next_frame` handed out last (its bytes live here until the next call).
enum Held {
    None,
    Ws { conn: usize, buf: Vec<u8> },
    Snapshot(Vec<u8>),
}

/// Frames from live connections and REST snapshots, for the md stage.
pub struct LiveSource {
    conns: Vec<Conn>,
    snapshots: Option<SnapshotClient>,
    /// Requests that did not fit the ring yet.
    unsent: Vec<SnapshotRequest>,
    held: Held,
    events: std::collections::VecDeque<LiveEvent>,
    barrier: bool,
    last_tsc: u64,
    next_conn: usize,
    handed: u64,
    /// Per-instrument resyncs expanded from a connection's `Resync`.
    control: std::collections::VecDeque<SourceControl>,
    /// Other events consumed through [`FrameSource::take_control`].
    status_events: u64,
    /// Snapshots that failed after the fetcher's retries (shared with the
    /// operator's monitor).
    snapshot_failures: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Failed snapshots to request again, and when.
    retry_at: Vec<(std::time::Instant, u16, SymbolName)>,
    snapshot_retry: std::time::Duration,
}

/// Pause before a snapshot that failed (after the fetcher's own retries)
/// is requested again.
const SNAPSHOT_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

impl LiveSource {
    /// A source with no connection yet; `snapshots` fetches REST snapshots
    /// (`None`: the owner feeds books some other way).
    pub fn new(snapshots: Option<SnapshotClient>) -> LiveSource {
        LiveSource {
            conns: Vec::new(),
            snapshots,
            unsent: Vec::new(),
            held: Held::None,
            events: std::collections::VecDeque::with_capacity(64),
            barrier: false,
            last_tsc: 0,
            next_conn: 0,
            handed: 0,
            control: std::collections::VecDeque::with_capacity(16),
            status_events: 0,
            snapshot_failures: Default::default(),
            retry_at: Vec::new(),
            snapshot_retry: SNAPSHOT_RETRY,
        }
    }

    /// Sets the pause before a failed snapshot is requested again (5 s by
    /// default).
    pub fn set_snapshot_retry(&mut self, pause: std::time::Duration) {
        self.snapshot_retry = pause;
    }

    /// The count of snapshots that failed after retries, readable from any
    /// thread.
    pub fn snapshot_failures(&self) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
        std::sync::Arc::clone(&self.snapshot_failures)
    }

    /// Connected / disconnected / snapshot-failed events consumed by the md
    /// stage through [`FrameSource::take_control`] (which acts on resyncs).
    pub fn status_events(&self) -> u64 {
        self.status_events
    }

    /// Adds a connection's receiving end; returns its index (use it as
    /// `FeedConfig::conn`).
    pub fn add_connection(
        &mut self,
        rx: FeedReceiver,
        market: Market,
        symbols: Vec<SymbolName>,
    ) -> u16 {
        self.conns.push(Conn {
            rx,
            market,
            symbols,
            ended: false,
        });
        u16::try_from(self.conns.len() - 1).unwrap_or(u16::MAX)
    }

    /// Market and symbols of connection `conn` (what a resync covers).
    pub fn symbols(&self, conn: u16) -> Option<(Market, &[SymbolName])> {
        self.conns
            .get(usize::from(conn))
            .map(|c| (c.market, c.symbols.as_slice()))
    }

    /// The oldest untaken event. Taking a `Resync` lifts the frame barrier.
    pub fn take_event(&mut self) -> Option<LiveEvent> {
        let ev = self.events.pop_front()?;
        if !self
            .events
            .iter()
            .any(|e| matches!(e, LiveEvent::Resync { .. }))
        {
            self.barrier = false;
        }
        Some(ev)
    }

    /// Raw TSC at which the last handed-out WS frame's read completed
    /// (snapshots keep the previous value).
    pub fn last_rx_tsc(&self) -> u64 {
        self.last_tsc
    }

    /// Asks for a fresh snapshot of `symbol` on `conn`.
    pub fn request_snapshot(&mut self, conn: u16, symbol: SymbolName) {
        let Some(c) = self.conns.get(usize::from(conn)) else {
            return;
        };
        self.unsent.push(SnapshotRequest {
            conn,
            market: c.market,
            symbol,
        });
        self.flush_requests();
    }

    /// Re-requests failed snapshots whose pause is over.
    fn retry_due(&mut self) {
        let now = std::time::Instant::now();
        let mut i = 0;
        while i < self.retry_at.len() {
            if self.retry_at[i].0 <= now {
                let (_, conn, symbol) = self.retry_at.swap_remove(i);
                self.request_snapshot(conn, symbol);
            } else {
                i += 1;
            }
        }
    }

    fn flush_requests(&mut self) {
        let Some(client) = self.snapshots.as_mut() else {
            self.unsent.clear();
            return;
        };
        while let Some(req) = self.unsent.first().copied() {
            if !client.request(req) {
                return;
            }
            self.unsent.remove(0);
        }
    }

    fn recycle(&mut self) {
        match std::mem::replace(&mut self.held, Held::None) {
            Held::Ws { conn, buf } => {
                if let Some(c) = self.conns.get_mut(conn) {
                    let _ = c.rx.free.push(buf);
                }
            }
            Held::Snapshot(_) | Held::None => {}
        }
    }

    fn on_feed_event(&mut self, ci: usize, ev: FeedEvent) {
        let market = self.conns[ci].market;
        match ev {
            FeedEvent::Connected { conn, session } => {
                self.events
                    .push_back(LiveEvent::Connected { conn, session });
                if self.snapshots.is_some() {
                    for i in 0..self.conns[ci].symbols.len() {
                        let symbol = self.conns[ci].symbols[i];
                        self.unsent.push(SnapshotRequest {
                            conn,
                            market,
                            symbol,
                        });
                    }
                    self.flush_requests();
                }
            }
            FeedEvent::Resync { conn, .. } => {
                self.events.push_back(LiveEvent::Resync { conn, market });
                self.barrier = true;
            }
            FeedEvent::Disconnected { conn, reason } => {
                self.events
                    .push_back(LiveEvent::Disconnected { conn, reason });
            }
            FeedEvent::Stopped { .. } => self.conns[ci].ended = true,
        }
    }
}

impl FrameSource for LiveSource {
    /// Fetches a fresh snapshot for a book that lost sync.
    fn request_resync(&mut self, market: Market, symbol: SymbolName) {
        let conn = self
            .conns
            .iter()
            .position(|c| c.market == market && c.symbols.contains(&symbol));
        if let Some(conn) = conn {
            self.request_snapshot(conn as u16, symbol);
        }
    }

    /// Expands each connection `Resync` into one resync per instrument of
    /// that connection; taking it lifts the frame barrier.
    fn take_control(&mut self) -> Option<SourceControl> {
        loop {
            if let Some(c) = self.control.pop_front() {
                return Some(c);
            }
            match self.take_event()? {
                LiveEvent::Resync { conn, .. } => {
                    if let Some((market, symbols)) = self.symbols(conn) {
                        // A reconnect is rare; collecting here is off the hot path.
                        let items: Vec<SourceControl> = symbols
                            .iter()
                            .map(|&symbol| SourceControl::Resync { market, symbol })
                            .collect();
                        self.control.extend(items);
                    }
                }
                _ => self.status_events += 1,
            }
        }
    }

    fn next_frame(&mut self, _now_ns: u64) -> Next<'_> {
        self.recycle();
        if !self.retry_at.is_empty() {
            self.retry_due();
        }
        if !self.unsent.is_empty() {
            self.flush_requests();
        }
        if self.barrier {
            return Next::NotYet;
        }
        // Snapshots first: rare, and a book waits for them.
        if let Some(resp) = self.snapshots.as_mut().and_then(SnapshotClient::poll) {
            let req = resp.req;
            match resp.result {
                Ok(body) => {
                    self.held = Held::Snapshot(body);
                    self.handed += 1;
                    let Held::Snapshot(b) = &self.held else {
                        return Next::NotYet;
                    };
                    return Next::Frame {
                        rx_ns: 0,
                        source: req.conn,
                        bytes: b,
                        market: Some(req.market),
                        symbol: Some(req.symbol),
                    };
                }
                Err(error) => {
                    self.snapshot_failures
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    // The book stays stale: ask again later, not never.
                    self.retry_at.push((
                        std::time::Instant::now() + self.snapshot_retry,
                        req.conn,
                        req.symbol,
                    ));
                    self.events.push_back(LiveEvent::SnapshotFailed {
                        conn: req.conn,
                        symbol: req.symbol,
                        error,
                    });
                }
            }
        }
        let n = self.conns.len();
        for k in 0..n {
            let ci = (self.next_conn + k) % n;
            // Events are handled inline; a Resync stops the scan (barrier).
            while let Ok(item) = self.conns[ci].rx.items.pop() {
                match item {
                    FeedItem::Event(ev) => {
                        self.on_feed_event(ci, ev);
                        if self.barrier {
                            return Next::NotYet;
                        }
                    }
                    FeedItem::Frame { tsc, wall_ns, buf } => {
                        self.next_conn = (ci + 1) % n;
                        self.last_tsc = tsc;
                        self.handed += 1;
                        let market = self.conns[ci].market;
                        self.held = Held::Ws { conn: ci, buf };
                        let Held::Ws { buf, .. } = &self.held else {
                            return Next::NotYet;
                        };
                        return Next::Frame {
                            rx_ns: wall_ns,
                            source: u16::try_from(ci).unwrap_or(u16::MAX),
                            bytes: buf,
                            market: Some(market),
                            symbol: None,
                        };
                    }
                }
            }
        }
        let snapshots_pending = self.snapshots.as_ref().is_some_and(|s| s.in_flight() > 0);
        if n > 0 && self.conns.iter().all(|c| c.ended) && !snapshots_pending {
            return Next::End;
        }
        Next::NotYet
    }

    fn progress(&self) -> (u64, Option<u64>) {
        (self.handed, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::feed_channel;

    fn frame(pool: &mut rtrb::Consumer<Vec<u8>>, b: &[u8]) -> FeedItem {
        let mut buf = pool.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(b);
        FeedItem::Frame {
            tsc: 7,
            wall_ns: 9,
            buf,
        }
    }

    #[test]
    fn a_failed_snapshot_is_counted_and_requested_again_after_a_pause() {
        use crate::feed::snapshot::SnapshotConfig;
        // Nothing listens on port 1: every attempt is refused.
        let client = SnapshotClient::spawn(SnapshotConfig {
            spot_base: Some("http://127.0.0.1:1".into()),
            max_attempts: 2,
            backoff: crate::feed::backoff::BackoffConfig {
                base: std::time::Duration::from_millis(1),
                cap: std::time::Duration::from_millis(2),
                seed: 1,
            },
            ..SnapshotConfig::default()
        })
        .expect("snapshot thread starts");
        let (mut tx, rx) = feed_channel(8, 16);
        let mut src = LiveSource::new(Some(client));
        let btc = SymbolName::new(b"BTCUSDT").unwrap();
        let conn = src.add_connection(rx, Market::Spot, vec![btc]);
        let failures = src.snapshot_failures();
        src.set_snapshot_retry(std::time::Duration::from_millis(10));
        let connected = FeedItem::Event(FeedEvent::Connected { conn, session: 0 });
        assert!(tx.items.push(connected).is_ok());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut failed = Vec::new();
        // The first failure, then the retry asked for by itself, fails too.
        while failed.len() < 2 && std::time::Instant::now() < deadline {
            let _ = src.next_frame(0);
            while let Some(ev) = src.take_event() {
                if let LiveEvent::SnapshotFailed { symbol, .. } = ev {
                    failed.push(symbol);
                }
            }
            std::thread::yield_now();
        }
        assert_eq!(failed, [btc, btc]);
        assert_eq!(failures.load(std::sync::atomic::Ordering::Relaxed), 2);
    }

    #[test]
    fn take_control_expands_a_reconnect_into_one_resync_per_symbol() {
        let (mut tx, rx) = feed_channel(8, 16);
        let mut src = LiveSource::new(None);
        let names = [
            SymbolName::new(b"BTCUSDT").unwrap(),
            SymbolName::new(b"ETHUSDT").unwrap(),
        ];
        let conn = src.add_connection(rx, Market::Usdm, names.to_vec());
        let b = frame(&mut tx.free, b"b");
        for item in [
            FeedItem::Event(FeedEvent::Connected { conn, session: 1 }),
            FeedItem::Event(FeedEvent::Resync { conn, session: 1 }),
            b,
        ] {
            assert!(tx.items.push(item).is_ok());
        }
        assert!(
            matches!(src.next_frame(0), Next::NotYet),
            "barrier until taken"
        );
        for name in names {
            assert_eq!(
                src.take_control(),
                Some(SourceControl::Resync {
                    market: Market::Usdm,
                    symbol: name
                })
            );
        }
        assert_eq!(src.take_control(), None);
        assert_eq!(
            src.status_events(),
            1,
            "the Connected event was consumed and counted"
        );
        assert!(matches!(src.next_frame(0), Next::Frame { bytes: b"b", .. }));
    }

    #[test]
    fn resync_is_a_barrier_until_the_event_is_taken() {
        let (mut tx, rx) = feed_channel(8, 16);
        let mut src = LiveSource::new(None);
        let conn = src.add_connection(rx, Market::Spot, Vec::new());
        let (a, b) = (frame(&mut tx.free, b"a"), frame(&mut tx.free, b"b"));
        for item in [
            a,
            FeedItem::Event(FeedEvent::Disconnected {
                conn,
                reason: DisconnectReason::Closed,
            }),
            FeedItem::Event(FeedEvent::Connected { conn, session: 1 }),
            FeedItem::Event(FeedEvent::Resync { conn, session: 1 }),
            b,
            FeedItem::Event(FeedEvent::Stopped { conn }),
        ] {
            assert!(tx.items.push(item).is_ok());
        }
        assert!(matches!(
            src.next_frame(0),
            Next::Frame {
                bytes: b"a",
                source: 0,
                ..
            }
        ));
        assert_eq!(src.last_rx_tsc(), 7);
        for _ in 0..3 {
            assert!(
                matches!(src.next_frame(0), Next::NotYet),
                "barrier must hold"
            );
        }
        assert!(matches!(
            src.take_event(),
            Some(LiveEvent::Disconnected { .. })
        ));
        assert!(matches!(
            src.take_event(),
            Some(LiveEvent::Connected { session: 1, .. })
        ));
        assert!(
            matches!(src.next_frame(0), Next::NotYet),
            "Resync not taken yet"
        );
        assert_eq!(
            src.take_event(),
            Some(LiveEvent::Resync {
                conn,
                market: Market::Spot
            })
        );
        assert!(matches!(src.next_frame(0), Next::Frame { bytes: b"b", .. }));
        assert!(matches!(src.next_frame(0), Next::End));
        // Both pooled buffers went back (9 pre-filled, 2 taken, 2 returned).
        assert_eq!(tx.free.slots(), 9);
    }
}
