//! `record` end to end on loopback: the venue simulator serves a synthetic
//! session, the live feed client records it (streams + REST snapshot) into a
//! binary capture, and a replay of that file rebuilds the book exactly.

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use tickwire::app::record::{RecordOptions, record};
use tickwire_capture::Capture;
use tickwire_core::types::{Market, SymbolName};
use venue_sim::{SimConfig, VenueSim};

#[test]
fn recorded_live_feed_replays_with_every_book_check_matching() {
    let bytes = tickwire_capture::synth::synthetic_session(7, Market::Spot, 6_000);
    let source = (
        "synthetic".to_string(),
        bytes,
        Some(venue_sim::Market::Spot),
    );
    let mut cfg = SimConfig::synthetic(vec![source], "key", "secret");
    cfg.pace = venue_sim::Pace::Recorded { speed: 20.0 };
    let sim = VenueSim::start(cfg).expect("simulator starts");
    let out = std::env::temp_dir().join(format!("tickwire-record-{}.twcap", std::process::id()));
    let stats = record(
        RecordOptions {
            ws_base: format!("ws://{}", sim.ws_addr()),
            rest_base: format!("http://{}", sim.http_addr()),
            market: Market::Spot,
            symbol: SymbolName::new(b"BTCUSDT").unwrap(),
            out: out.clone(),
            max_frames: Some(2_000),
            duration: Some(Duration::from_secs(60)),
            core: None,
        },
        Arc::new(AtomicBool::new(false)),
    )
    .expect("recording succeeds");
    sim.stop();
    assert_eq!(stats.frames, 2_000, "{stats}");
    assert!(
        stats.snapshots >= 1,
        "a REST snapshot must be recorded: {stats}"
    );

    let capture = Capture::open(&[out.display().to_string()]).expect("recording opens");
    let report = common::replay(&common::shipped("affinity.toml"), capture);
    let _ = std::fs::remove_file(&out);
    let s = common::section(&report, "spot", "BTCUSDT");
    assert_eq!(
        report.decode_errors["total"], 0,
        "{:?}",
        report.first_decode_errors
    );
    assert_eq!(s.state, "synced", "{s:?}");
    assert_eq!(s.gaps, 0);
    assert!(s.book_checks.checked > 0, "{s:?}");
    assert_eq!(s.book_checks.mismatched, 0, "{:?}", s.first_mismatch);
}
