//! The real-data suite: the Binance captures in ../shared/marketdata must
//! give exactly the ground truth of their README, through the whole
//! pipeline, with every shipped affinity layout.

mod common;

use common::{marketdata, replay, section, shipped};
use tickwire_capture::Capture;
use tickwire_telemetry::{Report, SymbolSection};

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
    tickwire_capture::import(&dir.join(SPOT), &tmp).expect("import");
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

/// The JSON payload of a capture line (after `<rx_ns> `).
fn payload(line: &str) -> serde_json::Value {
    let (_, json) = line.split_once(' ').expect("rx_ns and json");
    serde_json::from_str(json).expect("json line")
}

fn is_snapshot(line: &str) -> bool {
    line.contains("\"lastUpdateId\"")
}

/// Index of the diff that bridged the capture's snapshot, by the futures
/// rule `U <= lastUpdateId <= u`.
fn futures_bridge(l: &[String]) -> (usize, usize, u64) {
    let snap = l
        .iter()
        .position(|x| is_snapshot(x))
        .expect("snapshot line");
    let id = payload(&l[snap])["lastUpdateId"].as_u64().expect("id");
    let bridge = (0..l.len())
        .find(|&i| {
            let d = &payload(&l[i])["data"];
            d["e"] == "depthUpdate"
                && d["U"].as_u64().is_some_and(|u| u <= id)
                && d["u"].as_u64().is_some_and(|u| u >= id)
        })
        .expect("bridging diff");
    (snap, bridge, id)
}

#[test]
fn usdm_bridging_diff_ending_exactly_at_last_update_id_is_applied() {
    // Futures keep a diff with u == lastUpdateId (drop only u < id). Move the
    // snapshot's id to the bridging diff's u: the snapshot still holds the
    // book before that diff and applying it gives the book at u, so every
    // ground-truth check must still match.
    let Some(mut l) = lines(USDM) else { return };
    let (snap, bridge, id) = futures_bridge(&l);
    let u = payload(&l[bridge])["data"]["u"].as_u64().expect("u");
    assert!(
        u > id,
        "the capture's bridge must end after the snapshot id"
    );
    l[snap] = l[snap].replacen(
        &format!("\"lastUpdateId\":{id}"),
        &format!("\"lastUpdateId\":{u}"),
        1,
    );
    let c = Capture::from_text_sources(vec![("edited-usdm".into(), capture_bytes(&l))])
        .expect("edited capture");
    let r = replay(&shipped("affinity.toml"), c);
    assert_clean(&r);
    assert_usdm(section(&r, "usdm", "BTCUSDT"));
}

fn capture_bytes(lines: &[String]) -> Vec<u8> {
    let mut bytes = lines.join("\n").into_bytes();
    bytes.push(b'\n');
    bytes
}

#[test]
fn day_files_replayed_back_to_back_continue_one_book() {
    for (file, market) in [(USDM, "usdm"), (SPOT, "spot")] {
        let Some(l) = lines(file) else { return };
        let half = l.len() / 2;
        let c = Capture::from_text_sources(vec![
            ("day1".into(), capture_bytes(&l[..half])),
            ("day2".into(), capture_bytes(&l[half..])),
        ])
        .expect("two day files");
        let r = replay(&shipped("affinity.toml"), c);
        assert_clean(&r);
        assert_eq!(r.symbols.len(), 1, "{file}: one instrument, one book");
        let s = section(&r, market, "BTCUSDT");
        if market == "usdm" {
            assert_usdm(s);
        } else {
            assert_spot(s);
        }
    }
}

/// The book after applying the capture's snapshot and every diff up to and
/// including line `upto`, from a plain map (not the product's book), and
/// the `u` of the last diff applied.
fn plain_book(l: &[String], upto: usize) -> (serde_json::Value, u64) {
    use std::collections::BTreeMap;
    let mut bids: BTreeMap<tickwire_core::types::Px, String> = BTreeMap::new();
    let mut asks: BTreeMap<tickwire_core::types::Px, String> = BTreeMap::new();
    let px = |s: &serde_json::Value| {
        tickwire_core::types::Px(
            tickwire_core::types::parse_fixed(s.as_str().expect("px").as_bytes()).expect("decimal"),
        )
    };
    let mut apply = |levels: &serde_json::Value, bid: bool| {
        for lv in levels.as_array().expect("levels") {
            let m = if bid { &mut bids } else { &mut asks };
            let qty = lv[1].as_str().expect("qty");
            if qty.trim_matches(|c| c == '0' || c == '.').is_empty() {
                m.remove(&px(&lv[0]));
            } else {
                m.insert(px(&lv[0]), format!("[{},\"{qty}\"]", lv[0]));
            }
        }
    };
    let (snap, _, id) = futures_bridge(l);
    let s = payload(&l[snap]);
    apply(&s["bids"], true);
    apply(&s["asks"], false);
    let mut last = id;
    for line in &l[..=upto] {
        let d = &payload(line)["data"];
        if d["e"] == "depthUpdate" && d["u"].as_u64().is_some_and(|u| u >= id) {
            apply(&d["b"], true);
            apply(&d["a"], false);
            last = d["u"].as_u64().expect("u");
        }
    }
    let side = |m: &BTreeMap<_, String>, rev: bool| {
        let v: Vec<&str> = if rev {
            m.values().rev().map(String::as_str).collect()
        } else {
            m.values().map(String::as_str).collect()
        };
        format!("[{}]", v.join(","))
    };
    let json = format!(
        "{{\"lastUpdateId\":{last},\"bids\":{},\"asks\":{}}}",
        side(&bids, true),
        side(&asks, false)
    );
    (serde_json::from_str(&json).expect("snapshot json"), last)
}

#[test]
fn a_later_snapshot_line_after_a_reconnect_resyncs_the_book() {
    // A collector that reconnects loses some diffs and writes a fresh REST
    // snapshot. Cut 50 diffs from the middle of the USD-M capture, and
    // write in their place the snapshot the venue would have served at the
    // last cut diff (built with a plain map). The book must resync from it
    // and end exactly on the ground truth.
    let Some(l) = lines(USDM) else { return };
    let depth: Vec<usize> = (0..l.len())
        .filter(|&i| l[i].contains("depthUpdate"))
        .collect();
    let from = depth.len() / 2;
    // Futures: the bridging diff must contain the snapshot id, so the last
    // cut diff is kept and the snapshot is taken at its u.
    let keep = depth[from + 50];
    let (snapshot, id) = plain_book(&l, keep);
    let rx = l[depth[from]].split_once(' ').expect("rx").0;
    let mut edited: Vec<String> = Vec::new();
    for (i, line) in l.iter().enumerate() {
        if i == depth[from] {
            edited.push(format!("{rx} {snapshot}"));
        }
        if (depth[from]..keep).contains(&i) && line.contains("depthUpdate") {
            continue;
        }
        edited.push(line.clone());
    }
    let c = Capture::from_text_sources(vec![("reconnect".into(), capture_bytes(&edited))])
        .expect("edited capture");
    let r = replay(&shipped("affinity.toml"), c);
    let s = section(&r, "usdm", "BTCUSDT");
    assert_eq!(s.snapshots, 2, "the later snapshot is applied (id {id})");
    assert_eq!(s.state, "synced");
    assert_eq!(s.book_checks.mismatched, 0, "{:?}", s.first_mismatch);
    assert!(s.book_checks.matched > 600, "{:?}", s.book_checks);
    assert_eq!((s.bid_levels, s.ask_levels), (5018, 4578));
    assert!(s.best_bid.as_deref().unwrap().starts_with("61659.7@"));
    assert!(s.best_ask.as_deref().unwrap().starts_with("61659.8@"));
}
