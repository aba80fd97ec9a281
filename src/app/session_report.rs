//! The live part of a `run` / `demo` report: feed connection counters,
//! the order router's account, and for `demo` the wire-to-wire latency and
//! the position check against the simulator.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use serde::Serialize;

use crate::app::demo::{DemoOutput, PositionCheck};
use crate::app::session::LiveRunOutput;
use tickwire_core::hist::LatencySummary;
use tickwire_md::feed::FeedStats;
use tickwire_router::binance::RouterStats;

/// Feed counters.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FeedSection {
    /// URL connected to.
    pub url: String,
    /// Messages delivered to md.
    pub frames: u64,
    /// Payload bytes.
    pub bytes: u64,
    /// Successful connections (the first plus every reconnect).
    pub connects: u64,
    /// Failed connection attempts.
    pub connect_failures: u64,
    /// Connections closed by the server.
    pub closes: u64,
    /// Connections ended by the silence timeout.
    pub silence_timeouts: u64,
    /// Oversized, invalid UTF-8 and protocol errors (each ends a connection).
    pub bad_frames: u64,
    /// Socket errors.
    pub io_errors: u64,
    /// Times the md ring was full and the feed waited (nothing dropped).
    pub ring_full_waits: u64,
    /// REST depth snapshots that failed after retries.
    pub snapshot_failures: u64,
    /// Last error seen, if any.
    pub last_error: Option<String>,
}

/// Order router counters: the router thread's own, plus how it ended.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RouterSection {
    /// The router thread's counters (JSON: flattened into this object).
    #[serde(flatten)]
    pub stats: RouterStats,
    /// Set when the router thread did not end cleanly.
    pub error: Option<String>,
}

/// Demo-only: the simulator's side.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DemoSection {
    /// Simulator wrote a frame -> simulator received the order it caused, ns.
    pub wire_to_wire: LatencySummary,
    /// Traced orders the simulator never received (refused locally).
    pub untraced_orders: u64,
    /// Risk vs simulator positions per symbol.
    pub positions: Vec<PositionCheck>,
    /// True when every position agrees.
    pub positions_agree: bool,
    /// Frames the simulator wrote.
    pub frames_sent: u64,
    /// Orders the simulator received (after authentication).
    pub orders_received: u64,
    /// Fills in the simulator's account.
    pub fills: u64,
    /// Faults the simulator injected.
    pub faults_injected: u64,
    /// Requests refused for a bad signature.
    pub signature_failures: u64,
}

/// The live section of a report.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LiveSection {
    /// Feed connection.
    pub feed: FeedSection,
    /// Order router.
    pub router: RouterSection,
    /// Demo only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demo: Option<DemoSection>,
}

/// `p50 ..  p90 ..  p99 ..  p99.9 ..  max ..` in microseconds.
fn percentiles_us(l: &LatencySummary) -> String {
    let us = |ns: u64| ns as f64 / 1000.0;
    format!(
        "p50 {:.1}  p90 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}",
        us(l.p50),
        us(l.p90),
        us(l.p99),
        us(l.p999),
        us(l.max)
    )
}

impl LiveSection {
    /// From a live run.
    pub fn of(out: &LiveRunOutput) -> LiveSection {
        let f: &FeedStats = &out.feed;
        let get = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
        let feed = FeedSection {
            url: out.url.clone(),
            frames: get(&f.frames),
            bytes: get(&f.bytes),
            connects: get(&f.connects),
            connect_failures: get(&f.connect_failures),
            closes: get(&f.closes),
            silence_timeouts: get(&f.silence_timeouts),
            bad_frames: get(&f.oversized) + get(&f.invalid_utf8) + get(&f.protocol_errors),
            io_errors: get(&f.io_errors),
            ring_full_waits: get(&f.ring_full_waits),
            snapshot_failures: out.snapshot_failures,
            last_error: f.last_error().map(|e| e.to_string()),
        };
        let router = out
            .router
            .as_ref()
            .map(|l| RouterSection {
                stats: l.stats.clone(),
                error: l.error.clone(),
            })
            .unwrap_or_default();
        LiveSection {
            feed,
            router,
            demo: None,
        }
    }

    /// From a demo.
    pub fn of_demo(d: &DemoOutput) -> LiveSection {
        let mut s = LiveSection::of(&d.live);
        s.demo = Some(DemoSection {
            wire_to_wire: d.wire_to_wire,
            untraced_orders: d.untraced_orders,
            positions: d.positions.clone(),
            positions_agree: d.positions_agree(),
            frames_sent: d.sim.frames_sent,
            orders_received: d.sim.orders_received,
            fills: d.account.fills,
            faults_injected: d.sim.faults_injected(),
            signature_failures: d.sim.signature_failures,
        });
        s
    }

    /// Readable lines, printed after the replay-style tables.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let f = &self.feed;
        let _ = writeln!(
            s,
            "\nfeed {}\n  frames {}  ({:.1} MB)  connects {}  connect failures {}  closes {}  silence timeouts {}  bad frames {}  io errors {}  ring-full waits {}  failed snapshots {}",
            f.url,
            f.frames,
            f.bytes as f64 / 1e6,
            f.connects,
            f.connect_failures,
            f.closes,
            f.silence_timeouts,
            f.bad_frames,
            f.io_errors,
            f.ring_full_waits,
            f.snapshot_failures
        );
        if let Some(e) = &f.last_error {
            let _ = writeln!(s, "  last error: {e}");
        }
        let r = &self.router.stats;
        let _ = writeln!(
            s,
            "order router\n  sent {}  acked {}  fills {}  filled {}  cancelled {}  expired {}  rejected by venue {:?}  rejected locally {} (breaker {})",
            r.sent,
            r.acked,
            r.fills,
            r.filled,
            r.cancelled,
            r.expired,
            r.rejected_by_code,
            r.rejected_local,
            r.breaker_rejects
        );
        let _ = writeln!(
            s,
            "  retries {}  reconciled {}  unknown {}  breaker opens {}  429s {}  418s {}  venue clock offset {} ms ({} failed syncs)",
            r.retries,
            r.reconciliations,
            r.unknown,
            r.breaker_opens,
            r.too_many_requests,
            r.bans,
            r.clock_offset_ms,
            r.clock_sync_failures
        );
        let _ = writeln!(
            s,
            "  new order round trip (sent -> answer parsed) us: {}  ({} orders)",
            percentiles_us(&r.new_order_rtt),
            r.new_order_rtt.count
        );
        if let Some(e) = &self.router.error {
            let _ = writeln!(s, "  router error: {e}");
        }
        if let Some(d) = &self.demo {
            let _ = writeln!(
                s,
                "demo (venue simulator on loopback)\n  wire-to-wire (sim wrote frame -> sim got order) us: {}  ({} orders, {} not seen by the sim)",
                percentiles_us(&d.wire_to_wire),
                d.wire_to_wire.count,
                d.untraced_orders
            );
            let _ = writeln!(
                s,
                "  sim: frames sent {}  orders received {}  fills {}  faults injected {}  bad signatures {}",
                d.frames_sent, d.orders_received, d.fills, d.faults_injected, d.signature_failures
            );
            for p in &d.positions {
                let _ = writeln!(
                    s,
                    "  position {}: risk {}  simulator {}  {}",
                    p.symbol,
                    p.risk,
                    p.venue,
                    if p.risk == p.venue { "agree" } else { "DIFFER" }
                );
            }
        }
        s
    }
}
