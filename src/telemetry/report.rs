//! The run report: what a replay or live run did, exactly, and how fast.
//! Built once at the end from the stages' reports; printed as a table or
//! as one JSON object (`--json`), whose keys are a stable interface used by
//! `tickwire compare`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde::Serialize;

use tickwire_book::BookState;
use tickwire_core::hist::{LatencySummary, TscHist};
use tickwire_core::orders::{ExecKind, RejectReason};
use tickwire_core::types::Level;
use tickwire_runtime::pipeline::RunOutput;

/// Latency stages in report order: name and meaning.
pub(crate) const STAGES: [(&str, &str); 6] = [
    ("decode", "frame received -> decoded"),
    ("book", "decoded -> book applied (incl. md->book hop)"),
    ("strategy", "book applied -> strategy decided"),
    ("risk", "strategy decided -> risk decided (incl. hop)"),
    ("router", "risk decided -> handed to venue (incl. hop)"),
    ("tick_to_trade", "frame received -> order handed to venue"),
];

/// Ground-truth check counters.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct BookChecks {
    /// Tickers checked (their `u` equals an applied diff's `u`).
    pub checked: u64,
    /// Equal to the book.
    pub matched: u64,
    /// Different from the book.
    pub mismatched: u64,
}

/// Per-instrument section.
#[derive(Clone, Debug, Serialize)]
pub struct SymbolSection {
    /// Market.
    pub market: &'static str,
    /// Venue symbol.
    pub symbol: String,
    /// Ground-truth checks.
    pub book_checks: BookChecks,
    /// Tickers seen while the book was stale (not counted as matches).
    pub tickers_while_stale: u64,
    /// Depth diffs seen.
    pub diffs: u64,
    /// Diffs applied.
    pub diffs_applied: u64,
    /// Sequence gaps.
    pub gaps: u64,
    /// Times the book went stale (gap, overflow, crossed, no bridge).
    pub resyncs: u64,
    /// Diffs that arrived while stale.
    pub stale_frames: u64,
    /// Duplicate diffs skipped.
    pub duplicates: u64,
    /// Crossed books detected.
    pub crossed: u64,
    /// Snapshots applied.
    pub snapshots: u64,
    /// Stale markings the book received, by reason.
    pub stale_by_reason: BTreeMap<&'static str, u64>,
    /// Snapshots no buffered diff could bridge (older than the buffer):
    /// not applied, a new one fetched.
    pub snapshots_refetched: u64,
    /// Trades seen.
    pub trades: u64,
    /// Breaks in consecutive trade ids.
    pub trade_id_gaps: u64,
    /// Book state at the end.
    pub state: &'static str,
    /// Bid levels at the end.
    pub bid_levels: usize,
    /// Ask levels at the end.
    pub ask_levels: usize,
    /// Best bid at the end, `price@qty`.
    pub best_bid: Option<String>,
    /// Best ask at the end.
    pub best_ask: Option<String>,
    /// First ground-truth mismatch, described.
    pub first_mismatch: Option<String>,
}

/// Order-path section.
#[derive(Clone, Debug, Serialize)]
pub struct OrdersSection {
    /// Intents produced by the strategy.
    pub intents: u64,
    /// Accepted by risk and sent.
    pub sent: u64,
    /// Rejections by reason.
    pub rejected: BTreeMap<&'static str, u64>,
    /// Fill reports.
    pub fills: u64,
    /// Acks, partial fills, fills, cancels, venue rejects.
    pub execs: BTreeMap<&'static str, u64>,
    /// Final position per symbol.
    pub positions: BTreeMap<String, String>,
    /// Realized PnL in quote currency.
    pub realized_pnl: String,
    /// Execution reports that matched no order.
    pub unknown_exec_reports: u64,
    /// Diffs not shown to the strategy: their data was older than
    /// `strategy.max_data_age_ms` when applied (sync buffer, queueing).
    pub stale_data_skipped: u64,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Frames taken from the source.
    pub frames: u64,
    /// Bytes of those frames.
    pub bytes: u64,
    /// Decode errors: `total` and one key per kind.
    pub decode_errors: BTreeMap<&'static str, u64>,
    /// First few decode errors (`frame N: message`).
    pub first_decode_errors: Vec<String>,
    /// Skipped event types.
    pub skipped: BTreeMap<&'static str, u64>,
    /// Sequence gaps, all instruments.
    pub gaps: u64,
    /// Stale markings, all instruments.
    pub resyncs: u64,
    /// Diffs that arrived while their book was stale.
    pub stale_frames: u64,
    /// Ground-truth checks, all instruments.
    pub book_checks: BookChecks,
    /// md -> book ring full events / events dropped.
    pub md_ring_full: u64,
    /// Events dropped on a full md ring (drop policy).
    pub md_dropped_events: u64,
    /// Per instrument.
    pub symbols: Vec<SymbolSection>,
    /// Order path.
    pub orders: OrdersSection,
    /// Latency per stage and tick-to-trade, ns.
    pub latency_ns: BTreeMap<&'static str, LatencySummary>,
    /// Wall time of the run including executor start-up, seconds.
    pub wall_s: f64,
    /// Active pipeline time: first frame taken -> last execution report
    /// handled, seconds (TSC).
    pub pipeline_s: f64,
    /// Frames per second over the active pipeline time.
    pub throughput_fps: f64,
    /// Peak resident set size.
    pub peak_rss_bytes: u64,
    /// Book snapshot files written.
    pub snapshots: Vec<String>,
    /// Book snapshot files that could not be written, with the reason.
    pub snapshot_errors: Vec<String>,
    /// Resync requests from the book stage lost on a full book -> md ring
    /// (md resyncs at the next crossing).
    pub resync_requests_dropped: u64,
}

fn level(l: Option<Level>) -> Option<String> {
    l.map(|l| format!("{}@{}", l.px, l.qty))
}

fn state_name(s: BookState) -> &'static str {
    match s {
        BookState::Unsynced => "unsynced",
        BookState::Building => "building",
        BookState::Synced => "synced",
        BookState::Stale => "stale",
    }
}

/// The per-stage histograms of a run, converted to nanoseconds.
pub fn stage_histograms(out: &RunOutput) -> Vec<(&'static str, Histogram<u64>)> {
    let hists: [&TscHist; 6] = [
        &out.md.decode_latency,
        &out.book.book_latency,
        &out.book.strategy_latency,
        &out.risk.risk_latency,
        &out.router.router_latency,
        &out.router.tick_to_trade,
    ];
    let clock = &out.clock;
    STAGES
        .iter()
        .zip(hists)
        .map(|((name, _), h)| (*name, h.to_nanos(|t| clock.delta_as_nanos(0, t))))
        .collect()
}

impl Report {
    /// Builds the report of a finished run.
    pub fn build(out: &RunOutput, peak_rss_bytes: u64) -> Report {
        let md = &out.md;
        let mut decode_errors = md.decode_errors.to_map();
        decode_errors.insert("total", md.decode_errors.total());
        let skipped = md.skipped.to_map();

        let mut symbols = Vec::new();
        let mut checks = BookChecks::default();
        for b in &out.book.symbols {
            let m = md.instruments.iter().find(|i| i.symbol == b.symbol);
            let sync = m.map(|m| m.sync).unwrap_or_default();
            let c = BookChecks {
                checked: b.check.checked,
                matched: b.check.matched,
                mismatched: b.check.mismatched,
            };
            checks.checked += c.checked;
            checks.matched += c.matched;
            checks.mismatched += c.mismatched;
            symbols.push(SymbolSection {
                market: b.market.name(),
                symbol: b.name.to_string(),
                book_checks: c,
                tickers_while_stale: b.check.while_stale,
                diffs: m.map_or(0, |m| m.diffs),
                diffs_applied: b.diffs_applied,
                gaps: sync.gaps,
                resyncs: sync.resyncs,
                stale_frames: sync.stale_frames,
                duplicates: sync.duplicates,
                crossed: b.crossed,
                snapshots: sync.snapshots,
                stale_by_reason: b.stale_events.to_map(),
                snapshots_refetched: sync.snapshots_refetched,
                trades: m.map_or(0, |m| m.trades),
                trade_id_gaps: m.map_or(0, |m| m.trade_id_gaps),
                state: state_name(b.state),
                bid_levels: b.bid_levels,
                ask_levels: b.ask_levels,
                best_bid: level(b.best_bid),
                best_ask: level(b.best_ask),
                first_mismatch: b.first_mismatch.map(|x| {
                    format!(
                        "u={}: venue bid {} ask {}, book bid {} ask {}",
                        x.update_id,
                        level(x.venue.bid).unwrap_or_default(),
                        level(x.venue.ask).unwrap_or_default(),
                        level(x.book.bid).unwrap_or_else(|| "none".into()),
                        level(x.book.ask).unwrap_or_else(|| "none".into()),
                    )
                }),
            });
        }

        let rs = &out.risk.stats;
        let mut rejected = rs.rejected.to_map();
        // Intents lost on full order-path rings are rejections too.
        *rejected.entry(RejectReason::RingFull.name()).or_default() +=
            out.book.intents_ring_full + out.risk.router_ring_full;
        let ex = &out.router.execs;
        let execs = ex.to_map();
        let positions = out
            .risk
            .positions
            .iter()
            .enumerate()
            .filter_map(|(i, q)| {
                let b = out.book.symbols.get(i)?;
                Some((format!("{}:{}", b.market.name(), b.name), q.to_string()))
            })
            .collect();
        let orders = OrdersSection {
            intents: out.book.intents,
            sent: out.router.orders,
            rejected,
            fills: ex.get(ExecKind::PartialFill) + ex.get(ExecKind::Filled),
            execs,
            positions,
            realized_pnl: out.risk.realized_pnl.to_string(),
            unknown_exec_reports: out.risk.exec_errors,
            stale_data_skipped: out.book.stale_data_skipped,
        };

        let latency_ns = stage_histograms(out)
            .iter()
            .map(|(n, h)| (*n, LatencySummary::of(h)))
            .collect();
        let wall_s = out.wall.as_secs_f64();
        let pipeline_s = out.clock.delta_as_nanos(md.started.0, out.risk.ended.0) as f64 / 1e9;
        let gaps = symbols.iter().map(|s| s.gaps).sum();
        let resyncs = symbols.iter().map(|s| s.resyncs).sum();
        let stale_frames = symbols.iter().map(|s| s.stale_frames).sum();
        Report {
            frames: md.frames,
            bytes: md.bytes,
            decode_errors,
            first_decode_errors: md
                .first_errors
                .iter()
                .map(|(i, e)| format!("frame {i}: {e}"))
                .collect(),
            skipped,
            gaps,
            resyncs,
            stale_frames,
            book_checks: checks,
            md_ring_full: md.ring_full,
            md_dropped_events: md.dropped_events,
            symbols,
            orders,
            latency_ns,
            wall_s,
            pipeline_s,
            throughput_fps: if pipeline_s > 0.0 {
                md.frames as f64 / pipeline_s
            } else {
                0.0
            },
            peak_rss_bytes,
            snapshots: out
                .book
                .snapshots_written
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            snapshot_errors: out.book.snapshot_errors.clone(),
            resync_requests_dropped: out.book.requests_dropped,
        }
    }

    /// One JSON object.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// Readable tables.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "frames {}  ({:.1} MB)  pipeline {:.3} s = {:.0} frames/s  (wall {:.3} s with start-up)   peak RSS {:.1} MiB",
            self.frames,
            self.bytes as f64 / 1e6,
            self.pipeline_s,
            self.throughput_fps,
            self.wall_s,
            self.peak_rss_bytes as f64 / (1024.0 * 1024.0)
        );
        let errs: Vec<String> = self
            .decode_errors
            .iter()
            .filter(|(k, v)| **v > 0 && **k != "total")
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(
            s,
            "decode errors {}{}",
            self.decode_errors.get("total").copied().unwrap_or(0),
            if errs.is_empty() {
                String::new()
            } else {
                format!(" ({})", errs.join(", "))
            }
        );
        for e in &self.first_decode_errors {
            let _ = writeln!(s, "  {e}");
        }
        let skipped: Vec<String> = self
            .skipped
            .iter()
            .filter(|(_, v)| **v > 0)
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        if !skipped.is_empty() {
            let _ = writeln!(s, "skipped event types: {}", skipped.join(", "));
        }
        if self.md_ring_full > 0 || self.md_dropped_events > 0 {
            let _ = writeln!(
                s,
                "md->book ring full {} times, {} events dropped",
                self.md_ring_full, self.md_dropped_events
            );
        }
        let _ = writeln!(s, "\nbooks");
        let _ = writeln!(
            s,
            "  {:<6} {:<12} {:>8} {:>8} {:>6} {:>5} {:>7} {:>6} {:>5} {:>7}  {:<8} {:>6} {:>6}  best bid / best ask",
            "market",
            "symbol",
            "checked",
            "matched",
            "mism",
            "gaps",
            "resyncs",
            "stale",
            "dups",
            "crossed",
            "state",
            "bids",
            "asks"
        );
        for b in &self.symbols {
            let _ = writeln!(
                s,
                "  {:<6} {:<12} {:>8} {:>8} {:>6} {:>5} {:>7} {:>6} {:>5} {:>7}  {:<8} {:>6} {:>6}  {} / {}",
                b.market,
                b.symbol,
                b.book_checks.checked,
                b.book_checks.matched,
                b.book_checks.mismatched,
                b.gaps,
                b.resyncs,
                b.stale_frames,
                b.duplicates,
                b.crossed,
                b.state,
                b.bid_levels,
                b.ask_levels,
                b.best_bid.as_deref().unwrap_or("-"),
                b.best_ask.as_deref().unwrap_or("-"),
            );
            if let Some(m) = &b.first_mismatch {
                let _ = writeln!(s, "    first mismatch: {m}");
            }
            if b.trade_id_gaps > 0 {
                let _ = writeln!(s, "    trade id gaps: {}", b.trade_id_gaps);
            }
        }
        let o = &self.orders;
        let rej: Vec<String> = o
            .rejected
            .iter()
            .filter(|(_, v)| **v > 0)
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(
            s,
            "\norders: intents {}  sent {}  rejected {}{}  fills {}  realized pnl {}",
            o.intents,
            o.sent,
            o.rejected.values().sum::<u64>(),
            if rej.is_empty() {
                String::new()
            } else {
                format!(" ({})", rej.join(", "))
            },
            o.fills,
            o.realized_pnl
        );
        for (k, v) in &o.positions {
            let _ = writeln!(s, "  position {k}: {v}");
        }
        let _ = writeln!(
            s,
            "\nlatency (ns)     {:>9} {:>9} {:>9} {:>9} {:>10} {:>9}",
            "p50", "p90", "p99", "p99.9", "max", "count"
        );
        for (name, what) in STAGES {
            let l = self.latency_ns.get(name).copied().unwrap_or_default();
            let _ = writeln!(
                s,
                "  {:<14} {:>9} {:>9} {:>9} {:>9} {:>10} {:>9}   {what}",
                name, l.p50, l.p90, l.p99, l.p999, l.max, l.count
            );
        }
        for p in &self.snapshots {
            let _ = writeln!(s, "book snapshot written: {p}");
        }
        for e in &self.snapshot_errors {
            let _ = writeln!(s, "book snapshot FAILED: {e}");
        }
        if self.resync_requests_dropped > 0 {
            let _ = writeln!(
                s,
                "resync requests lost on a full ring: {}",
                self.resync_requests_dropped
            );
        }
        s
    }
}
