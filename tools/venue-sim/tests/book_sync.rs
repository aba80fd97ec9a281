//! A client syncs its own book from the depth endpoint and the streams by
//! Binance's published rules; its top must equal every bookTicker whose
//! `u` matches an applied diff.

mod common;

use std::time::Duration;

use common::*;
use venue_sim::{Market, SimConfig, VenueSim};

fn start(futures: bool, n: usize) -> (VenueSim, Session) {
    let s = session(futures, n, 11);
    let mut cfg = SimConfig::synthetic(
        vec![("synthetic".into(), s.bytes.clone(), None)],
        KEY,
        SECRET,
    );
    cfg.hold_at_snapshot = true;
    (VenueSim::start(cfg).expect("starts"), s)
}

#[test]
fn spot_book_matches_every_ticker() {
    let (sim, s) = start(false, 1500);
    let mut http = Http::new(sim.http_addr());
    let rep = sync_and_check(
        &mut http,
        sim.ws_addr(),
        "/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker",
        "/api/v3/depth?symbol=BTCUSDT&limit=5000",
        false,
        Duration::from_millis(500),
        Duration::from_secs(20),
    );
    assert!(
        rep.mismatches.is_empty(),
        "{:?}",
        &rep.mismatches[..rep.mismatches.len().min(5)]
    );
    // Held at the snapshot: the venue's book is the snapshot plus the two
    // buffered diffs that bridge it, so lastUpdateId is the fifth diff's u.
    assert_eq!(rep.depth_last_update_id, s.diff_us[4]);
    assert_eq!(rep.tickers as usize, s.tickers);
    // Every ticker after the sync point is checked (one per diff).
    assert_eq!(rep.checked as usize, s.tickers - 5);
    assert_eq!(rep.applied as usize, s.diffs - 5);
    let st = sim.stats();
    assert_eq!(st.book_gaps, 0);
    assert_eq!(st.snapshots_loaded, 1);
    assert!(st.replay_finished);
    sim.stop();
}

#[test]
fn usdm_bridge_applies_the_diff_ending_at_last_update_id() {
    let (sim, s) = start(true, 1500);
    let mut http = Http::new(sim.http_addr());
    let rep = sync_and_check(
        &mut http,
        sim.ws_addr(),
        "/public/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker",
        "/fapi/v1/depth?symbol=BTCUSDT&limit=1000",
        true,
        Duration::from_millis(500),
        Duration::from_secs(20),
    );
    assert!(
        rep.mismatches.is_empty(),
        "{:?}",
        &rep.mismatches[..rep.mismatches.len().min(5)]
    );
    // The futures answer is the book at the last diff applied: a client
    // following the futures rule applies the diff with u == lastUpdateId.
    let l = rep.depth_last_update_id;
    assert_eq!(l, s.diff_us[4]);
    let (_, first_u) = rep.first_applied.expect("bridged");
    assert_eq!(
        first_u, l,
        "the bridging diff is the one whose u == lastUpdateId"
    );
    assert_eq!(rep.checked as usize, s.tickers - 4);
    // A client that drops `u <= lastUpdateId` (the spot rule) never
    // bridges: the next diff starts after lastUpdateId.
    let next_first = s.diff_us[4] + 1;
    assert!(next_first > l, "the spot rule would find no bridging diff");
    // The venue's own book bridged the snapshot line the futures way too:
    // the capture's snapshot id is the third diff's u and it was applied.
    assert_eq!(s.snapshot_id, s.diff_us[2]);
    assert_eq!(sim.stats().book_gaps, 0);
    let d = http.get("/fapi/v1/depth?symbol=BTCUSDT&limit=5").json();
    assert!(
        d["E"].as_u64().is_some() && d["T"].as_u64().is_some(),
        "futures depth carries E and T: {d}"
    );
    assert_eq!(d["bids"].as_array().unwrap().len(), 5);
    sim.stop();
}

#[test]
fn depth_is_503_until_the_venue_book_is_synced() {
    let s = session(false, 50, 3);
    let sim = VenueSim::start(SimConfig::synthetic(
        vec![("s".into(), s.bytes, Some(Market::Spot))],
        KEY,
        SECRET,
    ))
    .unwrap();
    let mut http = Http::new(sim.http_addr());
    // No market-data connection: the replay has not started.
    let r = http.get("/api/v3/depth?symbol=BTCUSDT");
    assert_eq!((r.status, r.code()), (503, -1001), "{}", r.body);
    assert_eq!(http.get("/api/v3/depth?symbol=NOPE").code(), -1121);
    assert_eq!(http.get("/api/v3/depth").code(), -1102);
    let _ws = ws(sim.ws_addr(), "/ws/btcusdt@trade");
    let r = http.get_until_ok(
        "/api/v3/depth?symbol=BTCUSDT&limit=3",
        Duration::from_secs(10),
    );
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["bids"].as_array().unwrap().len(), 3);
    // Levels keep the capture's strings exactly.
    assert!(v["bids"][0][0].as_str().unwrap().ends_with("000000"), "{v}");
    assert!(v.get("E").is_none(), "spot depth has no E");
    sim.stop();
}

fn real(file: &str) -> Option<std::path::PathBuf> {
    if std::env::var("TICKWIRE_REAL_DATA").as_deref() != Ok("1") {
        eprintln!("skipped: set TICKWIRE_REAL_DATA=1 to run against the real captures");
        return None;
    }
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        manifest
            .join("../../../shared/marketdata/binance")
            .join(file),
        manifest
            .join("../../../../shared/marketdata/binance")
            .join(file),
        std::path::PathBuf::from("/work/shared/marketdata/binance").join(file),
    ];
    let found = candidates.iter().find(|p| p.exists()).cloned();
    Some(found.unwrap_or_else(|| {
        panic!("TICKWIRE_REAL_DATA=1 but {file} is missing (looked in {candidates:?})")
    }))
}

fn real_check(
    file: &str,
    market: &str,
    ws_path: &str,
    depth: &str,
    futures: bool,
    expect: u64,
    best: (&str, &str),
) {
    let Some(path) = real(file) else {
        return;
    };
    let mut cfg = SimConfig::files(vec![format!("{}@{market}", path.display())], KEY, SECRET);
    cfg.hold_at_snapshot = true;
    let sim = VenueSim::start(cfg).expect("starts");
    let mut http = Http::new(sim.http_addr());
    let rep = sync_and_check(
        &mut http,
        sim.ws_addr(),
        ws_path,
        depth,
        futures,
        Duration::from_secs(2),
        Duration::from_secs(50),
    );
    assert!(
        rep.mismatches.is_empty(),
        "{} mismatches, first {:?}",
        rep.mismatches.len(),
        rep.mismatches.first()
    );
    assert_eq!(rep.checked, expect, "bookTickers checked ({rep:?})");
    let (b, a) = rep.best.clone().unwrap();
    assert_eq!((&b[..best.0.len()], &a[..best.1.len()]), best);
    let st = sim.stats();
    assert!(st.replay_finished, "{st:?}");
    assert_eq!(st.book_gaps, 0);
    sim.stop();
}

#[test]
fn real_spot_capture_matches_all_564_tickers() {
    real_check(
        "spot_btcusdt_20240808.gz",
        "spot",
        "/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker",
        "/api/v3/depth?symbol=BTCUSDT&limit=5000",
        false,
        564,
        ("61685.99", "61686.00"),
    );
}

#[test]
fn real_usdm_capture_matches_all_629_tickers() {
    real_check(
        "usdm_btcusdt_20240808.gz",
        "usdm",
        "/public/stream?streams=btcusdt@depth@0ms/btcusdt@bookTicker",
        "/fapi/v1/depth?symbol=BTCUSDT&limit=1000",
        true,
        629,
        ("61659.7", "61659.8"),
    );
}
