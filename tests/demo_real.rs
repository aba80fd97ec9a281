//! The real captures served over loopback by the venue simulator and
//! received by the whole live appliance (WebSocket feed, REST snapshot,
//! sequencer, book, strategy, risk, REST router): every bookTicker the
//! appliance could check matches its book, the final top of book is the
//! ground truth of ../shared/marketdata/README, and risk's positions equal
//! the simulator's account.
//!
//! Live timing decides which tickers arrive while the book is still
//! syncing (those are not checked), so the counts are bounded below by 95 %
//! of the replay's exact 564 / 629 rather than equal to them.

mod common;

use std::time::Duration;

use tickwire::app::demo::{DemoOptions, run_demo};
use tickwire_core::source::Pace;
use tickwire_telemetry::Report;
use venue_sim::Faults;

fn run(file: &str, market: &str, tickers: u64, bid: &str, ask: &str, faults: Faults) {
    let Some(dir) = common::marketdata() else {
        return;
    };
    let cfg = common::shipped("affinity.toml");
    let opts = DemoOptions {
        captures: vec![dir.join(file).display().to_string()],
        synthetic_frames: 0,
        pace: Pace::Max,
        duration: Duration::from_secs(120),
        faults,
        messages: false,
    };
    let _guard = common::pipeline_lock();
    let out = run_demo(&cfg, &opts).expect("demo over a real capture");
    let report = Report::build(&out.live.run, 0);
    let s = common::section(&report, market, "BTCUSDT");
    assert_eq!(
        s.book_checks.mismatched, 0,
        "first mismatch: {:?}",
        s.first_mismatch
    );
    assert!(
        s.book_checks.matched * 100 >= tickers * 95,
        "{} of {tickers} tickers matched: {s:?}",
        s.book_checks.matched
    );
    assert_eq!(s.state, "synced", "{s:?}");
    assert!(
        s.best_bid.as_deref().is_some_and(|b| b.starts_with(bid)),
        "{s:?}"
    );
    assert!(
        s.best_ask.as_deref().is_some_and(|a| a.starts_with(ask)),
        "{s:?}"
    );
    assert!(out.positions_agree(), "{:?}", out.positions);
    assert!(out.sim.orders_received > 0, "{:?}", out.sim);
}

#[test]
fn spot_capture_over_the_wire_matches_the_ground_truth() {
    run(
        "spot_btcusdt_20240808.gz",
        "spot",
        564,
        "61685.99@",
        "61686@",
        Faults::default(),
    );
}

#[test]
fn usdm_capture_over_the_wire_matches_the_ground_truth() {
    run(
        "usdm_btcusdt_20240808.gz",
        "usdm",
        629,
        "61659.7@",
        "61659.8@",
        Faults::default(),
    );
}

#[test]
fn usdm_capture_survives_a_dropped_feed_and_a_skipped_diff() {
    // The drop comes first (frame 30,000), the gap later (diff 20,000 of
    // about 46,000): each is repaired by a fresh snapshot, and the book
    // still ends on the ground truth.
    run(
        "usdm_btcusdt_20240808.gz",
        "usdm",
        629 / 2,
        "61659.7@",
        "61659.8@",
        Faults {
            drop_feed_after: Some(30_000),
            skip_diff: Some(20_000),
            ..Faults::default()
        },
    );
}
