//! End to end on loopback: the venue simulator and the whole appliance
//! (WebSocket feed, REST snapshots, md, book, strategy, risk, REST order
//! router) in one process, with and without injected faults. Every run
//! ends with risk's positions compared to the simulator's account.

mod common;

use std::time::Duration;

use tickwire::app::demo::{DemoOptions, DemoOutput, run_demo};
use tickwire_config::Config;
use tickwire_core::source::Pace;
use tickwire_telemetry::Report;
use venue_sim::Faults;

fn options(frames: usize, faults: Faults) -> DemoOptions {
    DemoOptions {
        captures: Vec::new(),
        synthetic_frames: frames,
        pace: Pace::Recorded { speed: 50.0 },
        duration: Duration::from_secs(60),
        faults,
        messages: false,
    }
}

fn demo(cfg: &Config, opts: &DemoOptions) -> (DemoOutput, Report) {
    let _guard = common::pipeline_lock();
    let out = run_demo(cfg, opts).expect("demo runs");
    let report = Report::build(&out.live.run, 0);
    (out, report)
}

/// What every run must show, faults or not: positions agree, every order
/// at the simulator is terminal (the run ends with cancel-all), no order
/// was placed twice, risk matched every report, and the book never
/// disagreed with a bookTicker.
fn assert_consistent(out: &DemoOutput, report: &Report) {
    assert!(
        out.positions_agree(),
        "positions differ: {:?}",
        out.positions
    );
    let open: Vec<_> = out
        .account
        .orders
        .iter()
        .filter(|(_, o)| o.status.is_open())
        .collect();
    assert!(open.is_empty(), "orders left working: {open:?}");
    assert_eq!(
        out.sim.duplicates_refused, 0,
        "a client order id was sent as new twice and placed"
    );
    let router = out.live.router.as_ref().expect("live router output");
    assert!(router.error.is_none(), "{:?}", router.error);
    assert!(
        out.account.orders.len() as u64 <= router.stats.sent,
        "the simulator holds {} orders but the router sent {}",
        out.account.orders.len(),
        router.stats.sent
    );
    assert_eq!(
        out.live.run.risk.exec_errors, 0,
        "risk could not match a report"
    );
    let s = common::section(report, "spot", "BTCUSDT");
    assert_eq!(s.book_checks.mismatched, 0, "{s:?}");
    assert!(s.book_checks.matched > 100, "{s:?}");
}

/// The shipped configuration with a router that gives up and recovers
/// fast: 400 ms order timeout, breaker after 2 failures for 200 ms.
fn quick_breaker_config() -> Config {
    let mut cfg = common::shipped("affinity.toml");
    let venue = cfg.app.venue.as_mut().expect("shipped [venue]");
    venue.order_timeout_ms = 400;
    venue.poll_interval_ms = 100;
    venue.breaker_threshold = 2;
    venue.breaker_cooldown_ms = 200;
    cfg
}

#[test]
fn clean_session_trades_and_agrees_with_the_simulator() {
    let cfg = common::shipped("affinity.toml");
    let (out, report) = demo(&cfg, &options(20_000, Faults::default()));
    assert_consistent(&out, &report);
    let router = &out.live.router.as_ref().expect("router").stats;
    assert!(router.sent > 0 && router.acked > 0, "{router:?}");
    assert!(out.account.fills > 0, "nothing filled: {:?}", out.account);
    assert_eq!(out.sim.signature_failures, 0);
    assert_eq!(
        out.live
            .feed
            .connects
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    // Every order the simulator saw was measured wire to wire.
    assert_eq!(out.wire_to_wire.count, out.sim.orders_received);
    assert!(out.wire_to_wire.p50 > 0);
    let s = common::section(&report, "spot", "BTCUSDT");
    assert_eq!((s.gaps, s.resyncs), (0, 0), "{s:?}");
}

#[test]
fn dropped_feed_reconnects_resyncs_and_books_still_match() {
    let cfg = common::shipped("affinity.toml");
    let faults = Faults {
        drop_feed_after: Some(4_000),
        ..Faults::default()
    };
    let (out, report) = demo(&cfg, &options(20_000, faults));
    assert_consistent(&out, &report);
    assert_eq!(out.sim.feed_drops, 1);
    let connects = out
        .live
        .feed
        .connects
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(connects, 2, "one reconnect after the drop");
    let s = common::section(&report, "spot", "BTCUSDT");
    assert!(s.resyncs >= 1, "the reconnect must resync the book: {s:?}");
    assert_eq!(s.state, "synced", "{s:?}");
    // Checks matched after the reconnect too: the run went on well past it.
    assert!(
        out.live.run.md.frames > 10_000,
        "{}",
        out.live.run.md.frames
    );
}

#[test]
fn skipped_diff_is_a_gap_that_a_fresh_snapshot_repairs() {
    let cfg = common::shipped("affinity.toml");
    let faults = Faults {
        skip_diff: Some(300),
        ..Faults::default()
    };
    let (out, report) = demo(&cfg, &options(20_000, faults));
    assert_consistent(&out, &report);
    assert_eq!(out.sim.diffs_skipped, 1);
    let s = common::section(&report, "spot", "BTCUSDT");
    assert!(s.gaps >= 1, "{s:?}");
    assert_eq!(
        s.state, "synced",
        "a gap must be repaired by a new snapshot: {s:?}"
    );
    // The md stage asked for the snapshot: more than the one at connect.
    assert!(out.live.run.md.frames > 0);
}

#[test]
fn order_faults_are_retried_or_reconciled_never_doubled() {
    let cfg = quick_breaker_config();
    let faults = Faults {
        order_5xx_pct: 30,
        order_429_pct: 10,
        order_no_answer_pct: 20,
        seed: 3,
        ..Faults::default()
    };
    let (out, report) = demo(&cfg, &options(40_000, faults));
    assert_consistent(&out, &report);
    let router = &out.live.router.as_ref().expect("router").stats;
    assert!(
        out.sim.order_5xx > 0 && out.sim.order_no_answer > 0,
        "{:?}",
        out.sim
    );
    assert!(router.reconciliations > 0, "{router:?}");
    assert!(router.breaker_opens > 0, "{router:?}");
    // The breaker closed again: orders were acknowledged after it opened.
    assert!(router.acked > 0, "{router:?}");
    assert_eq!(router.unknown_open, 0, "{router:?}");
}

#[test]
fn an_ip_ban_stops_order_entry_until_retry_after_then_trading_resumes() {
    let cfg = quick_breaker_config();
    let faults = Faults {
        ban_after_orders: Some(5),
        ..Faults::default()
    };
    // About 8 s of session (10× recorded pace), well past the 2 s ban.
    let mut opts = options(40_000, faults);
    opts.pace = Pace::Recorded { speed: 10.0 };
    let (out, report) = demo(&cfg, &opts);
    assert_consistent(&out, &report);
    assert_eq!(out.sim.order_418, 1);
    let router = &out.live.router.as_ref().expect("router").stats;
    assert_eq!(router.bans, 1, "{router:?}");
    assert!(
        router.breaker_opens >= 1 && router.breaker_rejects > 0,
        "{router:?}"
    );
    // The ban lasted 2 s (Retry-After), then orders were accepted again.
    assert!(router.acked > 5, "{router:?}");
    assert!(out.sim.orders_received > 5, "{:?}", out.sim);
}
