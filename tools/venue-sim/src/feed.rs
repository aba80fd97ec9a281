//! The pacer: merges the sources in receive-time order, feeds every frame
//! to the engine (books, trades, fills) and hands it, byte-exact, to the
//! market-data connections subscribed to its stream on the right path.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tungstenite::Utf8Bytes;

use crate::book::Outcome;
use crate::source::{Frame, Kind, Source};
use crate::{Market, Pace, Shared, UsdmRoute, lock};

/// Frames queued per connection before the pacer waits for it.
const QUEUE: usize = 256;
/// How long the pacer waits for a connection that does not read.
const SLOW_CONSUMER: Duration = Duration::from_secs(5);

/// Which frames a market-data path may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Path {
    /// Spot `stream.binance.com` (`/stream`, `/ws`).
    Spot,
    /// COIN-M `dstream.binance.com` (`/stream`, `/ws`).
    CoinM,
    /// USD-M `/public/...` and the legacy un-routed `/stream`, `/ws`.
    UsdmPublic,
    /// USD-M `/market/...`.
    UsdmMarket,
}

impl Path {
    /// The USD-M route of the path, if any.
    pub(crate) fn usdm_route(&self) -> Option<UsdmRoute> {
        match self {
            Path::UsdmPublic => Some(UsdmRoute::Public),
            Path::UsdmMarket => Some(UsdmRoute::Market),
            _ => None,
        }
    }
}

/// The USD-M route of a stream kind (`depth@0ms` -> public).
pub(crate) fn usdm_route_of(kind: &str, trade: UsdmRoute) -> UsdmRoute {
    if kind.starts_with("depth") || kind == "bookTicker" {
        UsdmRoute::Public
    } else if kind == "trade" {
        trade
    } else {
        UsdmRoute::Market
    }
}

/// `(symbol lower case, kind)`, e.g. `("btcusdt", "depth")`.
pub(crate) type StreamKey = (String, String);

/// `btcusdt@depth@100ms` -> `("btcusdt", "depth")`.
pub(crate) fn stream_key(name: &str) -> StreamKey {
    let mut parts = name.split('@');
    let sym = parts.next().unwrap_or("").to_ascii_lowercase();
    let kind = parts.next().unwrap_or("").to_string();
    (sym, kind)
}

/// One market-data connection as the pacer sees it.
pub(crate) struct MdSub {
    pub(crate) id: u64,
    pub(crate) path: Path,
    pub(crate) combined: AtomicBool,
    pub(crate) streams: Mutex<BTreeSet<StreamKey>>,
    tx: SyncSender<Utf8Bytes>,
    /// Set when the pacer gave up on the connection.
    pub(crate) kill: AtomicBool,
}

/// The set of market-data connections.
#[derive(Default)]
pub(crate) struct FeedHub {
    subs: Mutex<Vec<Arc<MdSub>>>,
    cv: Condvar,
    next_id: AtomicU64,
    /// One-shot faults already fired.
    pub(crate) drop_fired: AtomicBool,
    pub(crate) stall_fired: AtomicBool,
    pub(crate) stall_pings_fired: AtomicBool,
    pub(crate) usdm_drop_fired: AtomicBool,
    pub(crate) usdm_stall_fired: AtomicBool,
    pub(crate) user_drop_fired: AtomicBool,
}

impl FeedHub {
    pub(crate) fn add(
        &self,
        path: Path,
        combined: bool,
        streams: BTreeSet<StreamKey>,
    ) -> (Arc<MdSub>, Receiver<Utf8Bytes>) {
        let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
        let sub = Arc::new(MdSub {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            path,
            combined: AtomicBool::new(combined),
            streams: Mutex::new(streams),
            tx,
            kill: AtomicBool::new(false),
        });
        lock(&self.subs).push(sub.clone());
        self.cv.notify_all();
        (sub, rx)
    }

    pub(crate) fn remove(&self, id: u64) {
        lock(&self.subs).retain(|s| s.id != id);
    }

    /// Wakes the pacer (at stop).
    pub(crate) fn wake(&self) {
        self.cv.notify_all();
    }
}

/// True when `sub` is to receive a frame of `market` on stream `key`.
fn wants(sub: &MdSub, market: Market, key: &StreamKey, trade_route: UsdmRoute) -> bool {
    let path_ok = match (sub.path, market) {
        (Path::Spot, Market::Spot) | (Path::CoinM, Market::CoinM) => true,
        (Path::UsdmPublic | Path::UsdmMarket, Market::UsdM) => {
            sub.path.usdm_route() == Some(usdm_route_of(&key.1, trade_route))
        }
        _ => false,
    };
    path_ok && lock(&sub.streams).contains(key)
}

/// Replays the sources until they end or the simulator stops.
pub(crate) fn run_pacer(shared: &Arc<Shared>, mut sources: Vec<Source>) {
    let mut first_ns: Option<u64> = None;
    let mut base: Option<Instant> = None;
    let mut last_due = Duration::ZERO;
    let mut diffs = 0u64;
    let trade_route = shared.cfg.usdm_trade_route;
    loop {
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
                    .wait_timeout(subs, Duration::from_millis(50))
                    .map_or_else(|e| e.into_inner().0, |(g, _)| g);
            }
        }
        if shared.stopping() {
            return;
        }
        let next = sources
            .iter_mut()
            .enumerate()
            .filter_map(|(i, s)| s.peek_ns().map(|ns| (ns, i)))
            .min();
        let Some((ns, i)) = next else {
            shared.stat(|s| s.replay_finished = true);
            while !shared.stopping() {
                std::thread::sleep(Duration::from_millis(20));
            }
            return;
        };
        if let Pace::Recorded { speed } = shared.cfg.pace {
            let first = *first_ns.get_or_insert(ns);
            // Float only for pacing arithmetic, never for prices.
            let off = ns.saturating_sub(first) as f64 / speed;
            let due = Duration::from_nanos(off.min(1e18) as u64);
            let b = *base.get_or_insert_with(|| {
                Instant::now()
                    .checked_sub(last_due)
                    .unwrap_or_else(Instant::now)
            });
            while Instant::now() < b + due {
                if shared.stopping() {
                    return;
                }
                let left = (b + due).saturating_duration_since(Instant::now());
                std::thread::sleep(left.min(Duration::from_millis(20)));
            }
            last_due = due;
        }
        let src = &mut sources[i];
        let market = src.market;
        let owner = src.symbol.clone();
        let Some((_, json)) = src.next_frame() else {
            continue;
        };
        let Some(frame) = Frame::parse(json, owner.as_deref()) else {
            continue;
        };
        let outcome = {
            let mut eng = lock(&shared.engine);
            let o = eng.on_frame(market, &frame);
            let events = std::mem::take(&mut eng.events);
            drop(eng);
            shared.users.push(&events);
            o
        };
        shared.stat(|s| {
            s.frames_served += 1;
            match outcome {
                Some(Outcome::Applied) => s.diffs_applied += 1,
                Some(Outcome::Gap) => s.book_gaps += 1,
                _ => {}
            }
            if frame.kind == Kind::Snapshot {
                s.snapshots_loaded += 1;
            }
        });
        match frame.kind {
            Kind::Snapshot => {
                if shared.cfg.hold_at_snapshot {
                    hold_for_depth(shared, market, frame.symbol.as_deref());
                }
                continue;
            }
            Kind::Diff => {
                diffs += 1;
                if shared.cfg.faults.skip_diff == Some(diffs) {
                    shared.stat(|s| s.diffs_skipped += 1);
                    continue;
                }
            }
            _ => {}
        }
        distribute(shared, market, &frame, trade_route);
    }
}

/// Waits (test aid) until the depth endpoint has answered once from the
/// instrument's first snapshot, so a client syncs exactly there.
fn hold_for_depth(shared: &Shared, market: Market, symbol: Option<&str>) {
    let Some(sym) = symbol else {
        return;
    };
    loop {
        let done = lock(&shared.engine)
            .get(market, sym)
            .is_none_or(|i| i.snapshots > 1 || i.depth_served || !i.book.ready());
        if done || shared.stopping() {
            return;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn distribute(shared: &Shared, market: Market, frame: &Frame<'_>, trade_route: UsdmRoute) {
    let key = stream_key(&frame.stream);
    let subs: Vec<Arc<MdSub>> = lock(&shared.feed.subs)
        .iter()
        .filter(|s| wants(s, market, &key, trade_route))
        .cloned()
        .collect();
    if subs.is_empty() {
        return;
    }
    let mut combined: Option<Utf8Bytes> = None;
    let mut raw: Option<Utf8Bytes> = None;
    for sub in subs {
        let msg = if sub.combined.load(Ordering::Relaxed) {
            combined
                .get_or_insert_with(|| match frame.envelope {
                    Some(line) => Utf8Bytes::from(line.to_string()),
                    None => Utf8Bytes::from(format!(
                        "{{\"stream\":{},\"data\":{}}}",
                        serde_json::Value::from(frame.stream.as_str()),
                        frame.data
                    )),
                })
                .clone()
        } else {
            raw.get_or_insert_with(|| Utf8Bytes::from(frame.data.to_string()))
                .clone()
        };
        let started = Instant::now();
        let mut msg = Some(msg);
        while let Some(m) = msg.take() {
            match sub.tx.try_send(m) {
                Ok(()) => shared.stat(|s| s.frames_queued += 1),
                Err(TrySendError::Disconnected(_)) => {}
                Err(TrySendError::Full(m)) => {
                    if shared.stopping() || sub.kill.load(Ordering::Acquire) {
                        break;
                    }
                    if started.elapsed() > SLOW_CONSUMER {
                        // Binance drops connections that do not keep up.
                        sub.kill.store(true, Ordering::Release);
                        shared.feed.remove(sub.id);
                        shared.stat(|s| s.frames_unsent += 1);
                        break;
                    }
                    std::thread::sleep(Duration::from_micros(200));
                    msg = Some(m);
                }
            }
        }
    }
}
