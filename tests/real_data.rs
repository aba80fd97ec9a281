//! The real-data suite: the Binance captures in ../shared/marketdata must
//! give exactly the ground truth of their README, through the whole
//! pipeline, with every shipped affinity layout.

mod common;

use common::{marketdata, replay, section, shipped};
use tickwire::capture::Capture;
use tickwire::telemetry::report::{Report, SymbolSection};

const SPOT: &str = "spot_btcusdt_20240808.gz";
const USDM: &str = "usdm_btcusdt_20240808.gz";

fn open(files: &[&str]) -> Option<Capture> {
    let dir = marketdata()?;
    let args: Vec<String> = files
        .iter()
        .map(|f| dir.join(f).display().to_string())
        .collect();
    Some(Capture::open(&args).expect("open real captures"))
}

fn assert_spot(s: &SymbolSection) {
    assert_eq!(
        (
            s.book_checks.checked,
            s.book_checks.matched,
            s.book_checks.mismatched
        ),
        (564, 564, 0),
        "spot book checks; first mismatch: {:?}",
        s.first_mismatch
    );
    assert_eq!(s.gaps, 0);
    assert_eq!(s.state, "synced");
    assert_eq!((s.bid_levels, s.ask_levels), (1209, 2196));
    assert!(
        s.best_bid.as_deref().unwrap().starts_with("61685.99@"),
        "{:?}",
        s.best_bid
    );
    assert!(
        s.best_ask.as_deref().unwrap().starts_with("61686@"),
        "{:?}",
        s.best_ask
    );
    assert_eq!(s.trade_id_gaps, 0);
}

fn assert_usdm(s: &SymbolSection) {
    assert_eq!(
        (
            s.book_checks.checked,
            s.book_checks.matched,
            s.book_checks.mismatched
        ),
        (629, 629, 0),
        "usdm book checks; first mismatch: {:?}",
        s.first_mismatch
    );
    assert_eq!(s.gaps, 0);
    assert_eq!(s.state, "synced");
    assert_eq!((s.bid_levels, s.ask_levels), (5018, 4578));
    assert!(
        s.best_bid.as_deref().unwrap().starts_with("61659.7@"),
        "{:?}",
        s.best_bid
    );
    assert!(
        s.best_ask.as_deref().unwrap().starts_with("61659.8@"),
        "{:?}",
        s.best_ask
    );
    assert_eq!(s.trade_id_gaps, 0);
}

fn assert_clean(r: &Report) {
    assert_eq!(r.decode_errors["total"], 0, "{:?}", r.first_decode_errors);
    assert_eq!(r.gaps, 0);
    assert_eq!(r.book_checks.mismatched, 0);
}

#[test]
fn spot_capture_matches_every_book_ticker() {
    let Some(c) = open(&[SPOT]) else { return };
    let r = replay(&shipped("affinity.toml"), c);
    assert_clean(&r);
    assert_eq!(r.frames, 41_249);
    assert_spot(section(&r, "spot", "BTCUSDT"));
}

#[test]
fn usdm_capture_matches_every_book_ticker() {
    let Some(c) = open(&[USDM]) else { return };
    let r = replay(&shipped("affinity.toml"), c);
    assert_clean(&r);
    assert_eq!(r.frames, 93_954);
    assert_usdm(section(&r, "usdm", "BTCUSDT"));
}

#[test]
fn both_captures_in_one_run_are_two_books_with_every_layout() {
    for layout in ["affinity.toml", "affinity-1core.toml"] {
        let Some(c) = open(&[SPOT, USDM]) else { return };
        let r = replay(&shipped(layout), c);
        assert_clean(&r);
        assert_eq!(r.frames, 41_249 + 93_954, "{layout}");
        assert_eq!(r.symbols.len(), 2, "{layout}");
        assert_spot(section(&r, "spot", "BTCUSDT"));
        assert_usdm(section(&r, "usdm", "BTCUSDT"));
        assert!(r.orders.intents > 0, "{layout}: the strategy never traded");
        assert_eq!(r.orders.unknown_exec_reports, 0);
    }
}

#[test]
fn binary_import_replays_identically() {
    let Some(dir) = marketdata() else { return };
    let tmp = std::env::temp_dir().join(format!("tickwire-import-{}.twcap", std::process::id()));
    tickwire::capture::import(&dir.join(SPOT), &tmp).expect("import");
    let c = Capture::open(&[tmp.display().to_string()]).expect("open binary capture");
    let r = replay(&shipped("affinity.toml"), c);
    let _ = std::fs::remove_file(&tmp);
    assert_clean(&r);
    assert_eq!(r.frames, 41_249);
    assert_spot(section(&r, "spot", "BTCUSDT"));
}

/// Lines of a real capture, decompressed.
fn lines(file: &str) -> Option<Vec<String>> {
    use std::io::Read;
    let dir = marketdata()?;
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(dir.join(file)).ok()?)
        .read_to_string(&mut s)
        .ok()?;
    Some(s.lines().map(str::to_owned).collect())
}

fn capture_of(lines: &[String]) -> Capture {
    let mut bytes = lines.join("\n").into_bytes();
    bytes.push(b'\n');
    Capture::from_text_bytes("edited-spot", bytes).expect("edited capture")
}

#[test]
fn diff_deleted_from_the_middle_is_a_gap_and_no_later_check_counts() {
    let Some(mut l) = lines(SPOT) else { return };
    let depth: Vec<usize> = (0..l.len())
        .filter(|&i| l[i].contains("depthUpdate"))
        .collect();
    let victim = depth[depth.len() / 2];
    l.remove(victim);
    let r = replay(&shipped("affinity.toml"), capture_of(&l));
    let s = section(&r, "spot", "BTCUSDT");
    assert_eq!(s.gaps, 1);
    assert_eq!(s.state, "stale");
    assert_eq!(s.book_checks.mismatched, 0);
    assert!(
        s.book_checks.matched < 564 && s.book_checks.matched > 0,
        "{:?}",
        s.book_checks
    );
    assert!(s.tickers_while_stale > 0);
    assert!(s.stale_frames > 0);
}

#[test]
fn duplicated_frame_is_skipped_without_harm() {
    let Some(mut l) = lines(SPOT) else { return };
    let depth: Vec<usize> = (0..l.len())
        .filter(|&i| l[i].contains("depthUpdate"))
        .collect();
    let dup = l[depth[depth.len() / 3]].clone();
    l.insert(depth[depth.len() / 3] + 1, dup);
    let r = replay(&shipped("affinity.toml"), capture_of(&l));
    let s = section(&r, "spot", "BTCUSDT");
    assert_eq!(s.duplicates, 1);
    assert_eq!(s.gaps, 0);
    assert_spot(s);
}
