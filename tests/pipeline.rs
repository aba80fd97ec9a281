//! The whole pipeline on synthetic sessions: ground truth, bad input of
//! every kind, gaps, crossed books, full rings and failing stages.

mod common;

use common::{replay, replay_with, section, shipped};
use tickwire_capture::Capture;
use tickwire_capture::synth::synthetic_session_with_truth;
use tickwire_core::types::Market;
use tickwire_md::OnFull;

fn lines(market: Market, frames: usize) -> (Vec<String>, tickwire_capture::synth::SynthTruth) {
    let (bytes, truth) = synthetic_session_with_truth(7, market, frames);
    let text = String::from_utf8(bytes).expect("synthetic sessions are UTF-8");
    (text.lines().map(str::to_owned).collect(), truth)
}

fn capture(lines: &[String]) -> Capture {
    let mut bytes = lines.join("\n").into_bytes();
    bytes.push(b'\n');
    Capture::from_text_bytes("edited", bytes).expect("capture")
}

#[test]
fn synthetic_sessions_match_their_own_ground_truth() {
    for market in [Market::Spot, Market::Usdm] {
        let (l, truth) = lines(market, 20_000);
        let r = replay(&shipped("affinity.toml"), capture(&l));
        let s = section(&r, market.name(), "BTCUSDT");
        assert_eq!(
            s.book_checks.checked as usize, truth.checkable_tickers,
            "{market:?}"
        );
        assert_eq!(s.book_checks.matched, s.book_checks.checked);
        assert_eq!(
            (s.bid_levels, s.ask_levels),
            (truth.bid_levels, truth.ask_levels)
        );
        assert_eq!(s.gaps, 0);
        assert!(
            r.orders.intents > 0,
            "the strategy should trade a synthetic session"
        );
    }
}

/// The session's lines with `bad` frames inserted in the middle, each
/// with a plausible receive timestamp. Bytes, so non-UTF-8 survives.
fn with_bad_frames(l: &[String], bad: &[&[u8]]) -> Vec<u8> {
    let start = l.len() / 2;
    let mut out = Vec::new();
    for (i, line) in l.iter().enumerate() {
        if let Some(frame) = i
            .checked_sub(start)
            .filter(|k| k % 10 == 0)
            .and_then(|k| bad.get(k / 10))
        {
            out.extend_from_slice(line.split_once(' ').expect("prefix").0.as_bytes());
            out.push(b' ');
            out.extend_from_slice(frame);
            out.push(b'\n');
        }
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out
}

#[test]
fn every_kind_of_bad_frame_is_counted_by_name_and_never_corrupts_the_book() {
    let (l, truth) = lines(Market::Spot, 10_000);
    let bad: [(&str, &[u8]); 7] = [
        ("invalid_json", br#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","#),
        ("invalid_utf8", b"{\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\",\"s\":\"BTC\xff\xfe\"}}"),
        ("missing_field", br#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"b":[],"a":[]}}"#),
        ("bad_number", br#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1e400","q":"1","T":1,"m":true}}"#),
        ("bad_number", br#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1234567890123456789012345678901234567890","q":"1","T":1,"m":true}}"#),
        ("negative_qty", br#"{"stream":"btcusdt@bookTicker","data":{"u":5,"s":"BTCUSDT","b":"1.0","B":"-2","a":"1.1","A":"1"}}"#),
        ("invalid_json", b"\x00\x01 not json at all"),
    ];
    let frames: Vec<&[u8]> = bad.iter().map(|(_, f)| *f).collect();
    let c = Capture::from_text_bytes("bad-frames", with_bad_frames(&l, &frames)).expect("capture");
    let r = replay(&shipped("affinity.toml"), c);
    for (kind, _) in &bad {
        assert!(
            r.decode_errors[kind] > 0,
            "{kind} not counted: {:?}",
            r.decode_errors
        );
    }
    assert_eq!(
        r.decode_errors["total"],
        bad.len() as u64,
        "{:?}",
        r.first_decode_errors
    );
    let s = section(&r, "spot", "BTCUSDT");
    assert_eq!(s.book_checks.mismatched, 0);
    assert_eq!(s.book_checks.checked as usize, truth.checkable_tickers);
    assert_eq!(s.gaps, 0);
}

#[test]
fn truncated_gzip_replays_every_complete_line_and_reports_it() {
    use std::io::Write;
    let (l, _) = lines(Market::Usdm, 5_000);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for line in &l {
        gz.write_all(line.as_bytes()).expect("gzip");
        gz.write_all(b"\n").expect("gzip");
    }
    let full = gz.finish().expect("gzip");
    let cut = &full[..full.len() * 2 / 3];
    let path = std::env::temp_dir().join(format!("tickwire-truncated-{}.gz", std::process::id()));
    std::fs::write(&path, cut).expect("write");
    let c = Capture::open(&[path.display().to_string()]).expect("a truncated gzip still opens");
    let _ = std::fs::remove_file(&path);
    assert!(
        c.sources()[0].truncated.is_some(),
        "truncation must be reported"
    );
    assert!(!c.is_empty() && c.len() < l.len());
    let r = replay(&shipped("affinity.toml"), c);
    assert_eq!(r.decode_errors["total"], 0, "{:?}", r.first_decode_errors);
    assert_eq!(r.book_checks.mismatched, 0);
}

#[test]
fn crossed_book_goes_stale_and_later_tickers_are_not_checked() {
    let (l, _) = lines(Market::Spot, 10_000);
    // A diff that bids far above every ask crosses the book.
    let at = (l.len() * 3 / 5..l.len())
        .find(|&i| l[i].contains("depthUpdate"))
        .expect("a diff");
    let mut edited = l.clone();
    edited[at] = edited[at].replacen(
        "\"b\":[",
        "\"b\":[[\"99999999.00000000\",\"1.00000000\"],",
        1,
    );
    let r = replay(&shipped("affinity.toml"), capture(&edited));
    let s = section(&r, "spot", "BTCUSDT");
    assert_eq!(s.crossed, 1);
    assert_eq!(s.state, "stale");
    assert_eq!(s.book_checks.mismatched, 0);
    assert!(s.tickers_while_stale > 0);
}

#[test]
fn full_md_ring_with_drop_policy_marks_the_book_stale_and_counts_the_loss() {
    let (l, _) = lines(Market::Usdm, 20_000);
    let mut cfg = shipped("affinity.toml");
    cfg.affinity.rings.md_to_book = 64;
    let r = replay_with(&cfg, capture(&l), OnFull::DropAndResync);
    let s = section(&r, "usdm", "BTCUSDT");
    assert!(r.md_ring_full > 0);
    assert!(
        r.md_dropped_events > 0,
        "a 64-slot ring cannot hold a snapshot"
    );
    assert!(s.resyncs > 0);
    assert_eq!(
        s.book_checks.mismatched, 0,
        "lost events must never show as a wrong book"
    );
}

#[test]
fn full_md_ring_with_wait_policy_loses_nothing() {
    let (l, truth) = lines(Market::Usdm, 20_000);
    let mut cfg = shipped("affinity.toml");
    cfg.affinity.rings.md_to_book = 64;
    let r = replay_with(&cfg, capture(&l), OnFull::Wait);
    let s = section(&r, "usdm", "BTCUSDT");
    assert!(r.md_ring_full > 0);
    assert_eq!(r.md_dropped_events, 0);
    assert_eq!(s.book_checks.checked as usize, truth.checkable_tickers);
    assert_eq!(s.book_checks.mismatched, 0);
}

#[test]
fn periodic_snapshots_are_written_on_venue_time_and_read_back_zero_copy() {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    use tickwire_book::MappedSnapshot;
    use tickwire_book::SnapshotPolicy;
    use tickwire_capture::ReplaySource;
    use tickwire_core::source::Pace;
    use tickwire_runtime::pipeline::{self, RunOptions};

    let (l, truth) = lines(Market::Spot, 5_000);
    let dir = std::env::temp_dir().join(format!("tickwire-periodic-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = RunOptions {
        on_full: OnFull::Wait,
        snapshots: SnapshotPolicy {
            dir: Some(dir.clone()),
            interval_ms: 1_000,
            depth: 0,
        },
        progress: false,
    };
    let out = {
        let _guard = common::pipeline_lock();
        pipeline::run(
            &shipped("affinity.toml"),
            ReplaySource::new(capture(&l), Pace::Max),
            opts,
            Arc::new(AtomicBool::new(false)),
        )
        .expect("run")
    };
    let written = &out.book.snapshots_written;
    assert!(
        written.len() >= 3,
        "expected periodic snapshots and a final one: {written:?}"
    );
    assert!(written.last().unwrap().ends_with("final.rkyv"));
    let fin = MappedSnapshot::open(written.last().unwrap()).expect("final snapshot");
    let book = &fin.archived().books[0];
    assert_eq!(
        book.bids.len(),
        truth.bid_levels,
        "depth 0 keeps every level"
    );
    assert_eq!(book.asks.len(), truth.ask_levels);
    assert_eq!(book.bids[0].px.to_native(), truth.final_best_bid.0);
    for p in written {
        MappedSnapshot::open(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn strategy_learns_its_fills_and_stops_at_its_own_position_limit() {
    use tickwire_core::types::Qty;
    let (l, _) = lines(Market::Usdm, 20_000);
    let mut cfg = shipped("affinity.toml");
    let clip = cfg.app.strategy.clip_qty;
    cfg.app.strategy.max_position = clip;
    // Risk would allow far more: only the strategy's own limit can bind.
    cfg.app.risk.max_position = Qty(clip.0 * 1000);
    cfg.app.risk.max_order_notional = tickwire_core::money::Notional(i128::MAX / 2);
    let out = common::replay_inline(&cfg, capture(&l));
    let position = out.risk.positions.first().copied().unwrap_or_default();
    assert!(
        out.risk.stats.fills > 0,
        "the strategy must trade for this test to mean anything"
    );
    // One clip may be in flight when a fill is still on its way back.
    assert!(
        position.0.abs() <= clip.0 * 2,
        "position {position} beyond the strategy's max_position {clip} + one clip in flight"
    );
    assert_eq!(
        out.risk
            .stats
            .rejected
            .get(tickwire_core::orders::RejectReason::MaxPosition),
        0
    );
}

/// A replay that reports a reconnect of its (only) connection after
/// `after` frames, as a live source does.
struct ReconnectingSource {
    inner: tickwire_capture::ReplaySource,
    taken: u64,
    after: u64,
    fired: bool,
}

impl tickwire_core::source::FrameSource for ReconnectingSource {
    fn next_frame(&mut self, now_ns: u64) -> tickwire_core::source::Next<'_> {
        let next = self.inner.next_frame(now_ns);
        if matches!(next, tickwire_core::source::Next::Frame { .. }) {
            self.taken += 1;
        }
        next
    }
    fn progress(&self) -> (u64, Option<u64>) {
        self.inner.progress()
    }
    fn take_control(&mut self) -> Option<tickwire_core::source::SourceControl> {
        if self.fired || self.taken < self.after {
            return None;
        }
        self.fired = true;
        Some(tickwire_core::source::SourceControl::Resync {
            market: Market::Usdm,
            symbol: tickwire_core::types::SymbolName::new(b"BTCUSDT").unwrap(),
        })
    }
}

#[test]
fn reconnect_of_a_live_source_marks_its_books_stale_until_a_new_snapshot() {
    let (l, _) = lines(Market::Usdm, 10_000);
    let source = ReconnectingSource {
        inner: tickwire_capture::ReplaySource::new(capture(&l), tickwire_core::source::Pace::Max),
        taken: 0,
        after: 5_000,
        fired: false,
    };
    let out = common::run_inline(&shipped("affinity.toml"), source);
    let usdm = &out.book.symbols[0];
    assert_eq!(
        usdm.stale_events
            .get(tickwire_core::msg::StaleReason::Reconnect),
        1,
        "one reconnect resync: {:?}",
        usdm.stale_events
    );
    assert_eq!(
        usdm.state,
        tickwire_book::BookState::Stale,
        "no new snapshot in this session"
    );
    assert!(usdm.check.matched > 0 && usdm.check.mismatched == 0);
    assert!(
        usdm.check.while_stale > 0,
        "tickers after the reconnect are not checked"
    );
    let sync = out.md.instruments[0].sync;
    assert_eq!((sync.resyncs, sync.gaps), (1, 0));
    assert!(sync.stale_frames > 0);
}

/// The synthetic spot session with its snapshot line arriving `delay_ms`
/// after the diffs before it (a slow REST snapshot): every diff buffered
/// meanwhile is that old when the sync replays it.
fn late_snapshot_session(delay_ms: u64) -> Capture {
    let (l, _) = lines(Market::Spot, 400);
    let snap = l
        .iter()
        .position(|x| x.contains("\"lastUpdateId\""))
        .expect("a snapshot line");
    let shifted: Vec<String> = l
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let (rx, json) = line.split_once(' ').expect("rx and json");
            let rx: u64 = rx.parse().expect("rx_ns");
            let rx = if i >= snap {
                rx + delay_ms * 1_000_000
            } else {
                rx
            };
            format!("{rx} {json}")
        })
        .collect();
    capture(&shifted)
}

#[test]
fn buffered_diffs_applied_at_sync_never_trigger_an_order() {
    use tickwire_capture::ReplaySource;
    use tickwire_core::source::Pace;
    let pace = Pace::Recorded { speed: 1.0 };
    let mut cfg = shipped("affinity-1core.toml");
    cfg.app.strategy.cooldown_ms = 0;
    // With the shipped bound (100 ms) the 300 ms old buffered diffs are
    // applied but not traded on ...
    let out = common::run_inline(&cfg, ReplaySource::new(late_snapshot_session(300), pace));
    let applied_at_sync = out.md.instruments[0].sync.applied;
    assert!(applied_at_sync > 0);
    assert!(
        out.book.stale_data_skipped > 0,
        "buffered diffs reached the strategy: {:?}",
        out.md.instruments[0].sync
    );
    // ... and the book is still exact.
    assert_eq!(out.book.symbols[0].check.mismatched, 0);
    // A bound longer than the delay lets them through: the guard is what
    // held them back.
    cfg.app.strategy.max_data_age_ms = 10_000;
    let out = common::run_inline(&cfg, ReplaySource::new(late_snapshot_session(300), pace));
    assert_eq!(out.book.stale_data_skipped, 0);
}
