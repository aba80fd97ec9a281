//! Recorded-feed formats: text (gzip/plain) and binary captures, import,
//! market inference, merge order and the synthetic session generator.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use tickwire_capture::synth::{SynthTruth, synthetic_session, synthetic_session_with_truth};
use tickwire_capture::{Capture, CaptureError, InMemorySource, import};
use tickwire_capture::{CaptureWriter, Header};
use tickwire_core::types::{Market, Px, SymbolName, parse_fixed};

/// A per-test scratch directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p =
            std::env::temp_dir().join(format!("tickwire-capture-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn real_dir() -> Option<PathBuf> {
    common::marketdata()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn sample_lines(n: usize) -> Vec<(u64, String)> {
    (0..n)
        .map(|i| {
            (
                1_723_161_253_000_000_000 + i as u64 * 1_000,
                format!(
                    "{{\"stream\":\"btcusdt@trade\",\"data\":{{\"t\":{i},\"pad\":\"{i:0>40}\"}}}}"
                ),
            )
        })
        .collect()
}

fn to_text(lines: &[(u64, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (rx, j) in lines {
        writeln!(out, "{rx} {j}").unwrap();
    }
    out
}

fn frames_of(c: &Capture) -> Vec<(u64, u16, Vec<u8>)> {
    c.iter()
        .map(|f| (f.rx_ns, f.source, f.bytes.to_vec()))
        .collect()
}

fn open1(path: &Path) -> Result<Capture, CaptureError> {
    Capture::open(&[path.display().to_string()])
}

#[test]
fn gzip_and_plain_text_captures_give_the_same_frames() {
    let dir = TempDir::new("roundtrip");
    let lines = sample_lines(500);
    let text = to_text(&lines);
    // Extensions lie on purpose: detection is by magic.
    let plain = dir.file("plain.gz");
    let gz = dir.file("compressed.txt");
    std::fs::write(&plain, &text).unwrap();
    std::fs::write(&gz, gzip(&text)).unwrap();
    let a = open1(&plain).unwrap();
    let b = open1(&gz).unwrap();
    assert_eq!(a.len(), 500);
    assert_eq!(frames_of(&a), frames_of(&b));
    let want: Vec<(u64, u16, Vec<u8>)> = lines
        .iter()
        .map(|(rx, j)| (*rx, 0, j.as_bytes().to_vec()))
        .collect();
    assert_eq!(frames_of(&a), want);
    assert_eq!(a.first_rx_ns(), lines[0].0);
    assert_eq!(a.last_rx_ns(), lines[499].0);
    assert_eq!(a.sources()[0].truncated, None);
}

#[test]
fn truncated_gzip_keeps_complete_lines_and_reports_damage() {
    let dir = TempDir::new("trunc-gz");
    let lines = sample_lines(5_000);
    let gz = gzip(&to_text(&lines));
    let cut = dir.file("cut.gz");
    std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
    let c = open1(&cut).unwrap();
    let info = &c.sources()[0];
    assert!(info.truncated.as_deref().unwrap().contains("gzip"));
    assert!(c.len() > 1_000 && c.len() < 5_000, "kept {}", c.len());
    // Every kept frame is a complete original line, in order.
    for (i, f) in c.iter().enumerate() {
        assert_eq!(f.rx_ns, lines[i].0);
        assert_eq!(f.bytes, lines[i].1.as_bytes());
    }
}

#[test]
fn malformed_prefixes_are_counted_and_skipped() {
    let text = b"1 {\"a\":1}\r\nnot-a-number {\"b\":2}\n\n2{\"c\":3}\n-5 {}\n3 {\"d\":4}\n  \n4 \n5 {\"e\":\"\xff\"}"
        .to_vec();
    let c = Capture::from_text_bytes("mixed", text).unwrap();
    let info = &c.sources()[0];
    // "  " is not empty, so it counts as malformed too; "4 " has no payload.
    assert_eq!(info.malformed_lines, 5);
    assert_eq!(info.frames, 3);
    let rx: Vec<u64> = c.iter().map(|f| f.rx_ns).collect();
    assert_eq!(rx, vec![1, 3, 5]);
    assert_eq!(c.frame(2).bytes, b"{\"e\":\"\xff\"}");
}

#[test]
fn a_file_of_garbage_is_an_error_naming_the_file() {
    let dir = TempDir::new("garbage");
    let p = dir.file("notes.txt");
    std::fs::write(&p, "hello\nworld\n").unwrap();
    let err = open1(&p).unwrap_err();
    assert!(matches!(err, CaptureError::NoFrames { .. }));
    assert!(err.to_string().contains("notes.txt"));
    let empty = dir.file("empty");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(open1(&empty), Err(CaptureError::Empty { .. })));
    assert!(matches!(
        open1(&dir.file("missing")),
        Err(CaptureError::Read { .. })
    ));
    assert!(matches!(Capture::open(&[]), Err(CaptureError::NoSources)));
}

fn write_binary(path: &Path, frames: &[(u64, String)]) {
    let header = Header {
        market: Some(Market::Usdm),
        symbol: SymbolName::new(b"BTCUSDT"),
    };
    let mut w = CaptureWriter::create(path, &header).unwrap();
    for (i, (rx, j)) in frames.iter().enumerate() {
        w.append(*rx, j.as_bytes()).unwrap();
        if i == frames.len() / 2 {
            w.flush().unwrap();
        }
    }
    assert_eq!(w.frames(), frames.len() as u64);
    w.finish().unwrap();
}

#[test]
fn binary_capture_round_trips_frames_and_header() {
    let dir = TempDir::new("bin-rt");
    let p = dir.file("a.twcap");
    let mut lines = sample_lines(300);
    lines.push((7, String::new())); // empty payload, out-of-order time
    write_binary(&p, &lines);
    let c = open1(&p).unwrap();
    let want: Vec<(u64, u16, Vec<u8>)> = lines
        .iter()
        .map(|(rx, j)| (*rx, 0, j.as_bytes().to_vec()))
        .collect();
    assert_eq!(frames_of(&c), want);
    let info = &c.sources()[0];
    assert_eq!(info.market, Some(Market::Usdm));
    assert_eq!(info.symbol, SymbolName::new(b"BTCUSDT"));
    assert_eq!(info.truncated, None);
}

#[test]
fn truncated_binary_capture_ignores_the_partial_record() {
    let dir = TempDir::new("bin-trunc");
    let p = dir.file("a.twcap");
    let lines = sample_lines(50);
    write_binary(&p, &lines);
    let full = std::fs::read(&p).unwrap();
    // Cut inside the last record's payload, then inside a record header.
    for cut in [full.len() - 20, full.len() - 80 - 8] {
        std::fs::write(&p, &full[..cut]).unwrap();
        let c = open1(&p).unwrap();
        assert_eq!(c.len(), 49, "cut at {cut}");
        assert!(
            c.sources()[0]
                .truncated
                .as_deref()
                .unwrap()
                .contains("ignored")
        );
        assert_eq!(c.frame(48).bytes, lines[48].1.as_bytes());
    }
}

#[test]
fn corrupt_binary_header_is_an_error() {
    let dir = TempDir::new("bin-bad");
    let p = dir.file("a.twcap");
    write_binary(&p, &sample_lines(3));
    let good = std::fs::read(&p).unwrap();
    let mut bad_magic = good.clone();
    bad_magic[6] = b'X';
    let mut bad_version = good.clone();
    bad_version[8] = 9;
    let mut bad_market = good.clone();
    bad_market[12] = 7;
    let mut bad_symbol = good.clone();
    bad_symbol[13] = 200;
    let short = good[..40].to_vec();
    for (bytes, want_version) in [
        (bad_magic, false),
        (bad_version, true),
        (bad_market, false),
        (bad_symbol, false),
        (short, false),
    ] {
        std::fs::write(&p, &bytes).unwrap();
        match open1(&p) {
            Err(CaptureError::UnsupportedVersion { version: 9, .. }) if want_version => {}
            Err(e @ CaptureError::BadHeader { .. }) if !want_version => {
                assert!(e.to_string().contains("a.twcap"));
            }
            other => panic!("unexpected result {other:?}"),
        }
    }
}

#[test]
fn import_of_real_spot_capture_matches_the_text_reader() {
    let Some(dir) = real_dir() else { return };
    let tmp = TempDir::new("import-real");
    let src = dir.join("spot_btcusdt_20240808.gz");
    let out = tmp.file("spot.twcap");
    let stats = import(&src, &out).unwrap();
    assert_eq!(stats.frames, 41_249);
    assert_eq!(stats.malformed_lines, 0);
    assert_eq!(stats.truncated, None);
    assert_eq!(stats.market, Some(Market::Spot));
    assert_eq!(stats.symbol, SymbolName::new(b"BTCUSDT"));
    assert_eq!(stats.file_bytes, std::fs::metadata(&out).unwrap().len());
    assert!(stats.to_string().contains("41249 frames"), "{stats}");
    let text = open1(&src).unwrap();
    let bin = open1(&out).unwrap();
    assert_eq!(text.len(), bin.len());
    for i in 0..text.len() {
        assert_eq!(text.frame(i), bin.frame(i), "frame {i}");
    }
    assert_eq!(bin.sources()[0].market, Some(Market::Spot));
}

#[test]
fn market_is_inferred_from_real_captures() {
    let Some(dir) = real_dir() else { return };
    let spot = dir.join("spot_btcusdt_20240808.gz").display().to_string();
    let usdm = dir.join("usdm_btcusdt_20240808.gz").display().to_string();
    let c = Capture::open(&[spot.clone(), usdm]).unwrap();
    let s = c.sources();
    assert_eq!(s[0].market, Some(Market::Spot));
    assert_eq!(s[1].market, Some(Market::Usdm));
    assert_eq!(s[0].symbol, SymbolName::new(b"BTCUSDT"));
    assert_eq!(s[1].symbol, SymbolName::new(b"BTCUSDT"));
    assert_eq!((s[0].frames, s[1].frames), (41_249, 93_954));
    assert_eq!(c.len(), 41_249 + 93_954);
    // The override wins over inference.
    let c = Capture::open(&[format!("{spot}@coinm")]).unwrap();
    assert_eq!(c.sources()[0].market, Some(Market::Coinm));
}

#[test]
fn market_is_inferred_from_synthetic_sessions() {
    for (m, sym) in [
        (Market::Spot, "BTCUSDT"),
        (Market::Usdm, "BTCUSDT"),
        (Market::Coinm, "BTCUSD_PERP"),
    ] {
        let c = Capture::from_text_bytes("s", synthetic_session(3, m, 400)).unwrap();
        assert_eq!(c.sources()[0].market, Some(m));
        assert_eq!(c.sources()[0].symbol, SymbolName::new(sym.as_bytes()));
    }
    // Without depth diffs the market stays unknown but the symbol is found.
    let c = Capture::from_text_bytes(
        "t",
        b"1 {\"data\":{\"e\":\"trade\",\"s\":\"ETHUSDT\"}}\n".to_vec(),
    )
    .unwrap();
    assert_eq!(c.sources()[0].market, None);
    assert_eq!(c.sources()[0].symbol, SymbolName::new(b"ETHUSDT"));
}

#[test]
fn merge_orders_by_rx_time_and_breaks_ties_by_source() {
    let a = b"10 a0\n20 a1\n20 a2\n40 a3\n".to_vec();
    let b = b"5 b0\n20 b1\n30 b2\n50 b3\n".to_vec();
    let c = Capture::from_sources(vec![
        InMemorySource {
            name: "a".into(),
            market: None,
            bytes: a,
        },
        InMemorySource {
            name: "b".into(),
            market: Some(Market::Usdm),
            bytes: gzip(&b),
        },
    ])
    .unwrap();
    let got: Vec<(u64, u16, &[u8])> = c.iter().map(|f| (f.rx_ns, f.source, f.bytes)).collect();
    let want: Vec<(u64, u16, &[u8])> = vec![
        (5, 1, b"b0"),
        (10, 0, b"a0"),
        (20, 0, b"a1"),
        (20, 0, b"a2"),
        (20, 1, b"b1"),
        (30, 1, b"b2"),
        (40, 0, b"a3"),
        (50, 1, b"b3"),
    ];
    assert_eq!(got, want);
    assert_eq!((c.first_rx_ns(), c.last_rx_ns()), (5, 50));
    assert_eq!(c.sources()[1].market, Some(Market::Usdm));
    assert!(c.get(8).is_none());
}

#[test]
fn synthetic_session_is_deterministic_per_seed() {
    let a = synthetic_session(42, Market::Usdm, 3_000);
    let b = synthetic_session(42, Market::Usdm, 3_000);
    let c = synthetic_session(43, Market::Usdm, 3_000);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.iter().filter(|&&x| x == b'\n').count(), 3_000);
}

/// Best bid px/qty, best ask px/qty.
type Top = (i64, i64, i64, i64);

fn s<'a>(v: &'a serde_json::Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("field {k} in {v}"))
}

fn decimals(x: &str) -> usize {
    x.split_once('.').map_or(0, |(_, f)| f.len())
}

fn apply_levels(
    book: &mut BTreeMap<i64, i64>,
    levels: &serde_json::Value,
    px_dp: usize,
    qty_dp: usize,
) {
    for l in levels.as_array().unwrap() {
        let (p, q) = (l[0].as_str().unwrap(), l[1].as_str().unwrap());
        assert_eq!(
            (decimals(p), decimals(q)),
            (px_dp, qty_dp),
            "precision of {l}"
        );
        let (p, q) = (
            parse_fixed(p.as_bytes()).unwrap(),
            parse_fixed(q.as_bytes()).unwrap(),
        );
        if q == 0 {
            book.remove(&p);
        } else {
            book.insert(p, q);
        }
    }
}

/// An independent reading of a synthetic session with serde_json, following
/// Binance's rules; asserts the session is consistent and returns what it found.
fn check_session(bytes: &[u8], market: Market, truth: &SynthTruth) {
    let futures = market != Market::Spot;
    let (px_dp, qty_dp) = match market {
        Market::Spot => (8, 8),
        Market::Usdm => (2, 3),
        Market::Coinm => (1, 0),
    };
    let mut bids = BTreeMap::new();
    let mut asks = BTreeMap::new();
    let mut last_rx = 0u64;
    let mut snapshot: Option<u64> = None;
    let mut buffered: Vec<serde_json::Value> = Vec::new();
    let mut prev_u: Option<u64> = None;
    let mut top_after: HashMap<u64, Top> = HashMap::new();
    let mut tickers: Vec<(u64, Top, usize)> = Vec::new(); // u, top, line
    let mut diff_line: HashMap<u64, usize> = HashMap::new();
    let (mut diffs, mut trades, mut dropped, mut jumps) = (0, 0, 0, 0);
    let mut last_trade: Option<u64> = None;
    let mut applied_any = false;
    let mut apply = |d: &serde_json::Value,
                     bids: &mut BTreeMap<i64, i64>,
                     asks: &mut BTreeMap<i64, i64>,
                     last_id: u64,
                     prev_u: &mut Option<u64>,
                     top_after: &mut HashMap<u64, Top>| {
        let (big_u, u) = (d["U"].as_u64().unwrap(), d["u"].as_u64().unwrap());
        let stale = if futures { u < last_id } else { u <= last_id };
        if stale {
            dropped += 1;
            return;
        }
        match *prev_u {
            None if futures => assert!(big_u <= last_id && last_id <= u, "futures bridge"),
            None => assert!(big_u <= last_id + 1 && last_id < u, "spot bridge"),
            Some(p) if futures => {
                assert_eq!(d["pu"].as_u64(), Some(p), "pu chain");
                if big_u > p + 1 {
                    jumps += 1;
                }
            }
            Some(p) => assert_eq!(big_u, p + 1, "U chain"),
        }
        *prev_u = Some(u);
        apply_levels(bids, &d["b"], px_dp, qty_dp);
        apply_levels(asks, &d["a"], px_dp, qty_dp);
        let (bp, bq) = bids.iter().next_back().map(|(p, q)| (*p, *q)).unwrap();
        let (ap, aq) = asks.iter().next().map(|(p, q)| (*p, *q)).unwrap();
        assert!(bp < ap, "crossed book after u={u}");
        top_after.insert(u, (bp, bq, ap, aq));
        applied_any = true;
    };
    for (line_no, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let text = std::str::from_utf8(line).unwrap();
        let (rx, json) = text.split_once(' ').unwrap();
        let rx: u64 = rx.parse().unwrap();
        assert!(rx > last_rx, "rx time goes forward");
        last_rx = rx;
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        if let Some(id) = v["lastUpdateId"].as_u64() {
            assert!(snapshot.is_none(), "one snapshot");
            assert_eq!(v.get("E").is_some(), futures);
            apply_levels(&mut bids, &v["bids"], px_dp, qty_dp);
            apply_levels(&mut asks, &v["asks"], px_dp, qty_dp);
            snapshot = Some(id);
            assert!(!buffered.is_empty(), "diffs arrive before the snapshot");
            for d in std::mem::take(&mut buffered) {
                apply(&d, &mut bids, &mut asks, id, &mut prev_u, &mut top_after);
            }
            continue;
        }
        let stream = s(&v, "stream");
        let d = &v["data"];
        if stream.ends_with("@bookTicker") {
            assert_eq!(d.get("e").is_some(), futures, "ticker e field");
            let n = |k: &str| parse_fixed(s(d, k).as_bytes()).unwrap();
            tickers.push((
                d["u"].as_u64().unwrap(),
                (n("b"), n("B"), n("a"), n("A")),
                line_no,
            ));
        } else if d["e"] == "depthUpdate" {
            diffs += 1;
            assert_eq!(d.get("pu").is_some(), futures);
            diff_line.insert(d["u"].as_u64().unwrap(), line_no);
            match snapshot {
                None => buffered.push(d.clone()),
                Some(id) => apply(d, &mut bids, &mut asks, id, &mut prev_u, &mut top_after),
            }
        } else if d["e"] == "trade" {
            trades += 1;
            let t = d["t"].as_u64().unwrap();
            if let Some(p) = last_trade {
                assert_eq!(t, p + 1, "trade ids are consecutive");
            }
            last_trade = Some(t);
        } else {
            panic!("unexpected frame {json}");
        }
    }
    assert!(applied_any);
    assert!(
        dropped >= 1,
        "a buffered diff older than the snapshot is dropped"
    );
    if market == Market::Usdm {
        assert!(jumps > 0, "futures U jumps past prev u + 1");
    }
    let (mut checked, mut before, mut after) = (0, 0, 0);
    for (u, top, line) in &tickers {
        if let Some(want) = top_after.get(u) {
            assert_eq!(top, want, "ticker u={u} shows the book after its diff");
            checked += 1;
            if *line < diff_line[u] {
                before += 1;
            } else {
                after += 1;
            }
        }
    }
    assert_eq!(checked, truth.checkable_tickers);
    assert!(
        before > 0 && after > 0,
        "tickers arrive before and after their diffs"
    );
    assert!(tickers.len() > checked, "some tickers match no diff");
    assert_eq!(tickers.len(), truth.tickers);
    assert_eq!((diffs, trades), (truth.diffs, truth.trades));
    assert_eq!(snapshot, Some(truth.snapshot_last_update_id));
    assert_eq!(Px(*bids.keys().next_back().unwrap()), truth.final_best_bid);
    assert_eq!(Px(*asks.keys().next().unwrap()), truth.final_best_ask);
    assert_eq!(
        (bids.len(), asks.len()),
        (truth.bid_levels, truth.ask_levels)
    );
}

#[test]
fn synthetic_sessions_chain_and_their_tickers_match_the_book() {
    for (seed, market) in [
        (1, Market::Spot),
        (2, Market::Usdm),
        (3, Market::Coinm),
        (4, Market::Spot),
        (5, Market::Usdm),
    ] {
        let (bytes, truth) = synthetic_session_with_truth(seed, market, 20_000);
        assert!(truth.checkable_tickers > 200, "{truth:?}");
        check_session(&bytes, market, &truth);
    }
}

#[test]
fn synthetic_pair_overlaps_in_time() {
    let c = tickwire_capture::synth::synthetic_capture(7, 2_000).unwrap();
    let same = Capture::from_text_sources(vec![
        ("spot".into(), synthetic_session(7, Market::Spot, 2_000)),
        ("usdm".into(), synthetic_session(7, Market::Usdm, 2_000)),
    ])
    .unwrap();
    assert!(c.iter().eq(same.iter()));
    assert_eq!(c.len(), 4_000);
    let sources: Vec<u16> = c.iter().take(200).map(|f| f.source).collect();
    assert!(sources.contains(&0) && sources.contains(&1));
    let s = c.sources();
    assert_eq!(
        (s[0].market, s[1].market),
        (Some(Market::Spot), Some(Market::Usdm))
    );
}

#[test]
fn tiny_synthetic_sessions_do_not_panic() {
    for n in 0..40 {
        let (bytes, _) = synthetic_session_with_truth(9, Market::Spot, n);
        assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), n);
    }
}

#[test]
fn corrupted_bytes_never_panic_the_readers() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let text = synthetic_session(5, Market::Usdm, 300);
    let gz = gzip(&text);
    let dir = TempDir::new("fuzz");
    let bin_path = dir.file("a.twcap");
    let lines: Vec<(u64, String)> = Capture::from_text_bytes("t", text.clone())
        .unwrap()
        .iter()
        .map(|f| (f.rx_ns, String::from_utf8(f.bytes.to_vec()).unwrap()))
        .collect();
    write_binary(&bin_path, &lines);
    let bin = std::fs::read(&bin_path).unwrap();
    for round in 0..600 {
        let base = match round % 3 {
            0 => &text,
            1 => &gz,
            _ => &bin,
        };
        let mut b = base.clone();
        for _ in 0..rng.random_range(1..=4u32) {
            let at = rng.random_range(0..b.len() as u64) as usize;
            b[at] = rng.random();
        }
        let cut = rng.random_range(0..=b.len() as u64) as usize;
        b.truncate(cut);
        // Ok or a typed error, never a panic; outside gzip (where damage can
        // decode to anything) frames only come from the bytes given.
        if let Ok(c) = Capture::from_text_bytes("fuzz", b) {
            let total: usize = c.iter().map(|f| f.bytes.len()).sum();
            if round % 3 != 1 {
                assert!(c.len() <= 300 + 4, "round {round}: {} frames", c.len());
                assert!(total <= base.len(), "round {round}");
            }
        }
    }
}

#[test]
fn binary_writer_is_readable_after_each_flush() {
    use tickwire_capture::BinaryFile;
    let dir = TempDir::new("bin-live");
    let p = dir.file("live.twcap");
    let header = Header {
        market: Some(Market::Spot),
        symbol: SymbolName::new(b"BTCUSDT"),
    };
    let mut w = CaptureWriter::create(&p, &header).unwrap();
    w.append(1, b"{\"first\":1}").unwrap();
    w.flush().unwrap();
    let f = BinaryFile::open(&p).unwrap();
    let got: Vec<(u64, &[u8])> = f.view().records().map(|r| (r.rx_ns, r.bytes)).collect();
    assert_eq!(got, vec![(1, &b"{\"first\":1}"[..])]);
    assert_eq!(f.view().header(), header);
    w.append(2, b"{\"second\":2}").unwrap();
    w.finish().unwrap();
    let f = BinaryFile::open(&p).unwrap();
    let mut it = f.view().records();
    assert_eq!(it.by_ref().count(), 2);
    assert_eq!(it.damage(), None);
}
