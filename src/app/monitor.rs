//! The operator's view of a live run: a thread that reads the feed's and
//! the router's shared counters ten times a second, prints a line on stderr
//! when something changed (connects, losses, breaker, rate limits, unknown
//! orders), and ends the run when its duration is up. It never touches a
//! stage or a ring. docs/operations.md explains every message.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tickwire_core::types::{SymbolId, SymbolName};
use tickwire_md::feed::FeedStats;
use tickwire_md::{InstrumentStatus, MdStatus};
use tickwire_router::binance::{BreakerState, RouterShared, RouterStats};
use tickwire_runtime::Ticker;

/// A running monitor thread.
pub struct Monitor {
    ticker: Ticker,
}

/// Feed counters the monitor compares between looks.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct FeedLook {
    connects: u64,
    losses: u64,
}

fn feed_look(f: &FeedStats) -> FeedLook {
    let get = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    FeedLook {
        connects: get(&f.connects),
        losses: get(&f.closes)
            + get(&f.silence_timeouts)
            + get(&f.oversized)
            + get(&f.invalid_utf8)
            + get(&f.protocol_errors)
            + get(&f.io_errors)
            + get(&f.connect_failures),
    }
}

/// Lines describing book state changes of one instrument.
fn book_messages(
    name: &str,
    before: InstrumentStatus,
    now: InstrumentStatus,
    out: &mut Vec<String>,
) {
    if now.transitions == before.transitions {
        return;
    }
    let why = now.reason.map_or("no snapshot yet", |r| r.name());
    let changes = now.transitions - before.transitions;
    if !now.synced {
        out.push(format!(
            "md: {name} stale ({why}): not traded until a fresh snapshot bridges"
        ));
    } else if changes >= 2 || before.transitions > 0 {
        // Went stale and came back between two looks (or was stale before).
        out.push(format!("md: {name} resynced after going stale ({why})"));
    } else {
        out.push(format!("md: {name} synced: trading allowed"));
    }
}

/// Lines describing what changed between two looks at the counters.
fn messages(
    before: (FeedLook, &RouterStats, BreakerState),
    now: (FeedLook, &RouterStats, BreakerState),
    last_error: impl Fn() -> String,
    out: &mut Vec<String>,
) {
    let (f0, r0, b0) = before;
    let (f1, r1, b1) = now;
    if f1.losses > f0.losses {
        out.push(format!(
            "feed: connection lost: {}; reconnecting with backoff",
            last_error()
        ));
    }
    if f1.connects > f0.connects {
        let session = f1.connects - 1;
        out.push(if session == 0 {
            "feed: connected (session 0)".to_string()
        } else {
            format!(
                "feed: reconnected (session {session}): its books are stale until a fresh REST snapshot bridges"
            )
        });
    }
    if b1 != b0 {
        out.push(match b1 {
            BreakerState::Open => format!(
                "router: circuit breaker OPEN after repeated failures: new orders refused locally ({} opens so far)",
                r1.breaker_opens
            ),
            BreakerState::HalfOpen => {
                "router: circuit breaker HALF-OPEN: one trial order".to_string()
            }
            BreakerState::Closed => "router: circuit breaker CLOSED: order entry normal".to_string(),
        });
    }
    if r1.too_many_requests > r0.too_many_requests {
        out.push(format!(
            "router: venue rate limit (429) x{}: backing off as Retry-After says",
            r1.too_many_requests - r0.too_many_requests
        ));
    }
    if r1.bans > r0.bans {
        out.push("router: venue ban (418): order entry stopped until Retry-After".to_string());
    }
    if r1.reconciliations > r0.reconciliations {
        out.push(format!(
            "router: {} order(s) with unknown outcome reconciled by query",
            r1.reconciliations - r0.reconciliations
        ));
    }
    if r1.unknown > r0.unknown {
        out.push(format!(
            "router: {} order(s) still unknown after reconciliation: re-queried every poll",
            r1.unknown - r0.unknown
        ));
    }
}

impl Monitor {
    /// Starts watching; with `duration`, sets `stop` when it has passed.
    /// With `print` false nothing is written (tests, `--json`).
    pub fn start(
        feed: Arc<FeedStats>,
        router: Arc<RouterShared>,
        books: (Arc<MdStatus>, Vec<SymbolName>, Arc<AtomicU64>),
        duration: Option<Duration>,
        stop: Arc<AtomicBool>,
        print: bool,
    ) -> Monitor {
        let started = Instant::now();
        let mut f0 = FeedLook::default();
        let mut r0 = RouterStats::default();
        let mut b0 = BreakerState::Closed;
        let (status, names, snapshot_failures) = books;
        let mut failed0 = 0;
        let mut s0 = vec![InstrumentStatus::default(); names.len()];
        let mut lines = Vec::new();
        let ticker = Ticker::start("tw-monitor", Duration::from_millis(100), move || {
            if duration.is_some_and(|d| started.elapsed() >= d) {
                stop.store(true, Ordering::Relaxed);
            }
            let (f1, r1, b1) = (feed_look(&feed), router.stats(), router.breaker());
            let last = || {
                feed.last_error()
                    .map_or_else(|| "closed".to_string(), |e| e.to_string())
            };
            messages((f0, &r0, b0), (f1, &r1, b1), last, &mut lines);
            let failed = snapshot_failures.load(Ordering::Relaxed);
            if failed > failed0 {
                lines.push(format!(
                    "feed: REST depth snapshot failed after retries ({failed} so far): that book stays stale; asked again in 5 s"
                ));
                failed0 = failed;
            }
            for (i, (name, prev)) in names.iter().zip(s0.iter_mut()).enumerate() {
                let now = status.get(SymbolId(i as u16));
                book_messages(&name.as_str(), *prev, now, &mut lines);
                *prev = now;
            }
            for l in lines.drain(..) {
                if print {
                    eprintln!("tickwire: {l}");
                }
            }
            (f0, r0, b0) = (f1, r1, b1);
            true
        });
        Monitor { ticker }
    }

    /// Stops the thread and waits for it.
    pub fn stop(self) {
        self.ticker.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(
        before: (FeedLook, RouterStats, BreakerState),
        now: (FeedLook, RouterStats, BreakerState),
    ) -> Vec<String> {
        let mut out = Vec::new();
        messages(
            (before.0, &before.1, before.2),
            (now.0, &now.1, now.2),
            || "closed by peer".into(),
            &mut out,
        );
        out
    }

    #[test]
    fn a_reconnect_reports_the_loss_then_the_new_session() {
        let a = FeedLook {
            connects: 1,
            losses: 0,
        };
        let b = FeedLook {
            connects: 2,
            losses: 1,
        };
        let l = lines(
            (a, RouterStats::default(), BreakerState::Closed),
            (b, RouterStats::default(), BreakerState::Closed),
        );
        assert_eq!(l.len(), 2, "{l:?}");
        assert!(l[0].contains("connection lost: closed by peer"), "{l:?}");
        assert!(l[1].contains("reconnected (session 1)"), "{l:?}");
    }

    #[test]
    fn book_state_changes_name_the_symbol_and_the_reason() {
        use tickwire_core::msg::StaleReason;
        let synced = InstrumentStatus {
            synced: true,
            transitions: 1,
            reason: None,
        };
        let stale = InstrumentStatus {
            synced: false,
            transitions: 2,
            reason: Some(StaleReason::Gap),
        };
        let mut out = Vec::new();
        book_messages("BTCUSDT", InstrumentStatus::default(), synced, &mut out);
        book_messages("BTCUSDT", synced, stale, &mut out);
        book_messages("BTCUSDT", stale, stale, &mut out);
        let resynced = InstrumentStatus {
            synced: true,
            transitions: 5,
            reason: Some(StaleReason::Gap),
        };
        book_messages("BTCUSDT", synced, resynced, &mut out);
        assert_eq!(out.len(), 3, "{out:?}");
        assert!(out[0].contains("BTCUSDT synced"), "{out:?}");
        assert!(out[1].contains("BTCUSDT stale (gap)"), "{out:?}");
        assert!(
            out[2].contains("resynced after going stale (gap)"),
            "{out:?}"
        );
    }

    #[test]
    fn breaker_transitions_and_rate_limits_are_reported_once() {
        let f = FeedLook::default();
        let r0 = RouterStats::default();
        let r1 = RouterStats {
            breaker_opens: 1,
            too_many_requests: 2,
            ..RouterStats::default()
        };
        let l = lines(
            (f, r0.clone(), BreakerState::Closed),
            (f, r1.clone(), BreakerState::Open),
        );
        assert!(l.iter().any(|s| s.contains("breaker OPEN")), "{l:?}");
        assert!(l.iter().any(|s| s.contains("429) x2")), "{l:?}");
        let again = lines(
            (f, r1.clone(), BreakerState::Open),
            (f, r1, BreakerState::Open),
        );
        assert!(again.is_empty(), "{again:?}");
    }
}
