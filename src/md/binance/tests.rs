//! Unit tests: every bad-input kind, every frame shape, and agreement of the
//! fast scanner with the general sonic-rs path.

use proptest::prelude::*;

use super::*;
use crate::frame::DecodeError as E;
use tickwire_core::types::{NumError, Px, Qty, VenueMs};

const USDM_DEPTH: &str = r#"{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1723161256299,"T":1723161256298,"s":"BTCUSDT","U":5123107832006,"u":5123107837557,"pu":5123107831937,"b":[["58710.20","0.014"],["61510.90","0.000"]],"a":[["61800.30","3.330"]]}}"#;
const SPOT_DEPTH: &str = r#"{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":50093239189,"u":50093239202,"b":[["61737.63000000","0.00000000"]],"a":[["61837.64000000","1.54698000"],["61839.85000000","0.00000000"]]}"#;
const SPOT_TICKER: &str = r#"{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}"#;
const USDM_TICKER: &str = r#"{"e":"bookTicker","u":5123107839020,"s":"BTCUSDT","b":"61800.20","B":"2.507","a":"61800.30","A":"2.510","T":1723161256313,"E":1723161256313}"#;
const TRADE: &str = r#"{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}"#;
const AGG_TRADE: &str = r#"{"e":"aggTrade","E":1723161256322,"a":2204427263,"s":"BTCUSDT","p":"61800.30","q":"0.006","f":5266583935,"l":5266583936,"T":1723161256322,"m":false}"#;
const SNAPSHOT: &str = r#"{"lastUpdateId":5123107852948,"E":1723161256501,"T":1723161256493,"bids":[["61800.20","2.909"],["61800.10","0.696"]],"asks":[["61800.30","1.000"]]}"#;

const ALL: [&str; 7] = [
    USDM_DEPTH,
    SPOT_DEPTH,
    SPOT_TICKER,
    USDM_TICKER,
    TRADE,
    AGG_TRADE,
    SNAPSHOT,
];

fn decode(frame: &str) -> Result<Frame<'static>, DecodeError> {
    // Leak one decoder per call so tests can hold frames freely.
    Box::leak(Box::new(Decoder::new())).decode(frame.as_bytes())
}

fn decode_bytes(frame: &[u8]) -> Result<Frame<'static>, DecodeError> {
    Box::leak(Box::new(Decoder::new())).decode(frame)
}

fn lvl(px: i64, qty: i64) -> Level {
    Level {
        px: Px(px),
        qty: Qty(qty),
    }
}

#[test]
fn usdm_depth_envelope_decodes_every_field() {
    let Ok(Frame::Depth(d)) = decode(USDM_DEPTH) else {
        panic!("not a depth diff: {:?}", decode(USDM_DEPTH));
    };
    assert_eq!(d.symbol.as_bytes(), b"BTCUSDT");
    assert_eq!(
        (d.first_id, d.last_id, d.prev_last_id, d.venue_time),
        (
            5123107832006,
            5123107837557,
            Some(5123107831937),
            VenueMs(1723161256299)
        )
    );
    assert_eq!(
        d.bids,
        &[lvl(5_871_020_000_000, 1_400_000), lvl(6_151_090_000_000, 0)]
    );
    assert_eq!(d.asks, &[lvl(6_180_030_000_000, 333_000_000)]);
}

#[test]
fn raw_spot_depth_has_no_prev_id() {
    let Ok(Frame::Depth(d)) = decode(SPOT_DEPTH) else {
        panic!("not a depth diff")
    };
    assert_eq!(d.prev_last_id, None);
    assert_eq!(d.asks.len(), 2);
    assert_eq!(d.bids, &[lvl(6_173_763_000_000, 0)]);
}

#[test]
fn envelope_and_raw_event_decode_the_same() {
    let raw = &USDM_DEPTH[USDM_DEPTH.find(",\"data\":").unwrap() + 8..USDM_DEPTH.len() - 1];
    assert_eq!(decode(raw), decode(USDM_DEPTH));
    assert!(matches!(decode(raw), Ok(Frame::Depth(_))));
}

#[test]
fn book_ticker_with_and_without_e_decodes() {
    let Ok(Frame::Ticker(spot)) = decode(SPOT_TICKER) else {
        panic!("spot ticker")
    };
    assert_eq!(spot.update_id, 50093239212);
    assert_eq!(spot.bid_qty, Qty(378_826_000));
    let Ok(Frame::Ticker(fut)) = decode(USDM_TICKER) else {
        panic!("futures ticker")
    };
    assert_eq!(
        (fut.bid_px, fut.ask_px),
        (Px(6_180_020_000_000), Px(6_180_030_000_000))
    );
    assert_eq!(fut.ask_qty, Qty(251_000_000));
}

#[test]
fn trade_and_agg_trade_take_their_ids() {
    let Ok(Frame::Trade(t)) = decode(TRADE) else {
        panic!("trade")
    };
    assert_eq!(
        (t.trade_id, t.aggregate, t.buyer_is_maker),
        (3735683259, false, true)
    );
    assert_eq!(t.trade_time_ms, 1723161255342);
    let Ok(Frame::Trade(a)) = decode(AGG_TRADE) else {
        panic!("aggTrade")
    };
    assert_eq!(
        (a.trade_id, a.aggregate, a.buyer_is_maker),
        (2204427263, true, false)
    );
    assert_eq!(a.qty, Qty(600_000));
}

#[test]
fn rest_snapshot_decodes_levels() {
    let Ok(Frame::Snapshot(s)) = decode(SNAPSHOT) else {
        panic!("snapshot")
    };
    assert_eq!(s.last_update_id, 5123107852948);
    assert_eq!(s.bids.len(), 2);
    assert_eq!(s.asks, &[lvl(6_180_030_000_000, 100_000_000)]);
}

#[test]
fn unused_event_types_are_other() {
    let cases = [
        (
            r#"{"e":"kline","E":1,"s":"BTCUSDT","k":{"t":1,"o":"1.0"}}"#,
            OtherKind::Kline,
        ),
        (
            r#"{"stream":"x","data":{"e":"markPriceUpdate","p":"1"}}"#,
            OtherKind::MarkPrice,
        ),
        (r#"{"e":"24hrTicker","c":"1"}"#, OtherKind::Ticker24h),
        (r#"{"e":"forceOrder","o":{}}"#, OtherKind::Liquidation),
        (r#"{"result":null,"id":1}"#, OtherKind::Response),
        (r#"{"e":"somethingNew"}"#, OtherKind::Unknown),
        (r#"[1,2,3]"#, OtherKind::Unknown),
        (r#"{}"#, OtherKind::Unknown),
    ];
    for (frame, kind) in cases {
        assert_eq!(decode(frame), Ok(Frame::Other(kind)), "{frame}");
    }
}

#[test]
fn malformed_and_truncated_json_is_invalid_json() {
    for bad in [
        "",
        "{",
        "{\"e\":}",
        "not json",
        "{\"e\":\"trade\",}",
        "{\"a\":1}x",
        "{\"a\":01}",
    ] {
        assert_eq!(decode(bad), Err(E::InvalidJson), "{bad:?}");
    }
    for frame in ALL {
        for cut in 1..frame.len() {
            let got = Decoder::new().decode(&frame.as_bytes()[..cut]).err();
            assert_eq!(got, Some(E::InvalidJson), "{frame} cut at {cut}");
        }
    }
}

#[test]
fn non_utf8_bytes_are_invalid_utf8() {
    let mut frame = TRADE.as_bytes().to_vec();
    let at = TRADE.find("BTCUSDT").unwrap();
    frame[at] = 0xFF;
    assert_eq!(Decoder::new().decode(&frame).err(), Some(E::InvalidUtf8));
}

#[test]
fn missing_fields_are_named() {
    assert_eq!(
        decode(&SPOT_DEPTH.replace("\"U\":", "\"X\":")),
        Err(E::MissingField("U"))
    );
    assert_eq!(
        decode(&TRADE.replace("\"m\":true", "\"m\":1")),
        Err(E::MissingField("m"))
    );
    assert_eq!(
        decode(&USDM_TICKER.replace("\"A\":", "\"Z\":")),
        Err(E::MissingField("A"))
    );
    assert_eq!(decode(r#"{"stream":"x"}"#), Err(E::MissingField("data")));
    assert_eq!(
        decode(&SPOT_DEPTH.replace("\"u\":50093239202", "\"u\":\"5\"")),
        Err(E::MissingField("u"))
    );
    assert_eq!(
        decode(&SPOT_DEPTH.replace(
            r#"["61737.63000000","0.00000000"]"#,
            r#"["61737.63000000"]"#
        )),
        Err(E::MissingField("b"))
    );
}

#[test]
fn absurd_numbers_are_bad_numbers() {
    let exp = TRADE.replace("\"0.02000000\"", "\"1e400\"");
    assert_eq!(
        decode(&exp),
        Err(E::BadNumber {
            field: "q",
            err: NumError::InvalidChar
        })
    );
    let forty = "1234567890123456789012345678901234567890";
    let big = SPOT_DEPTH.replace("61837.64000000", forty);
    assert_eq!(
        decode(&big),
        Err(E::BadNumber {
            field: "a",
            err: NumError::Overflow
        })
    );
    let big_id = SPOT_DEPTH.replace("50093239189", forty);
    assert_eq!(
        decode(&big_id),
        Err(E::BadNumber {
            field: "U",
            err: NumError::Overflow
        })
    );
    let float_id = SPOT_DEPTH.replace("50093239189", "1e400");
    assert_eq!(
        decode(&float_id),
        Err(E::BadNumber {
            field: "U",
            err: NumError::InvalidChar
        })
    );
}

#[test]
fn negative_qty_and_non_positive_px_are_refused() {
    let neg = SPOT_DEPTH.replace("\"1.54698000\"", "\"-1.54698000\"");
    assert_eq!(decode(&neg), Err(E::NegativeQty("a")));
    let zero_px = SPOT_DEPTH.replace("61737.63000000", "0.00000000");
    assert_eq!(decode(&zero_px), Err(E::NonPositivePx("b")));
    let neg_px = TRADE.replace("\"61837.63000000\"", "\"-1\"");
    assert_eq!(decode(&neg_px), Err(E::NonPositivePx("p")));
}

#[test]
fn zero_qty_level_is_valid_delete() {
    let Ok(Frame::Depth(d)) = decode(SPOT_DEPTH) else {
        panic!("depth")
    };
    assert_eq!(d.bids[0].qty, Qty(0));
}

#[test]
fn numbers_without_decimal_point_parse() {
    let ints = USDM_TICKER
        .replace("\"61800.20\"", "\"61800\"")
        .replace("\"2.507\"", "\"3\"");
    let Ok(Frame::Ticker(t)) = decode(&ints) else {
        panic!("ticker")
    };
    assert_eq!(
        (t.bid_px, t.bid_qty),
        (Px(6_180_000_000_000), Qty(300_000_000))
    );
}

#[test]
fn symbol_too_long_is_bad_symbol() {
    let long = TRADE.replace("BTCUSDT", "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    assert_eq!(decode(&long), Err(E::BadSymbol));
}

#[test]
fn oversized_frame_is_too_large() {
    let big = vec![b' '; MAX_FRAME_BYTES + 1];
    assert_eq!(Decoder::new().decode(&big).err(), Some(E::TooLarge));
}

#[test]
fn deeply_nested_json_is_refused_before_parsing() {
    // 40,000 bytes that overflowed the stack of the recursive path.
    let mut bomb = vec![b'['; 20_000];
    bomb.extend(std::iter::repeat_n(b']', 20_000));
    let max = super::MAX_NESTING;
    assert_eq!(decode_bytes(&bomb), Err(E::TooDeep { max }));
    // The same inside a valid-looking envelope.
    let nested = format!(
        r#"{{"stream":"btcusdt@depth","data":{}1{}}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    assert_eq!(decode(&nested), Err(E::TooDeep { max }));
    assert_eq!(
        Decoder::new().decode_general(&bomb).err(),
        Some(E::TooDeep { max })
    );
}

#[test]
fn a_frame_with_too_many_levels_is_refused_and_its_memory_given_back() {
    let n = super::MAX_LEVELS_PER_SIDE + 1;
    let mut snap = String::from(r#"{"lastUpdateId":1,"bids":["#);
    for i in 0..n {
        if i > 0 {
            snap.push(',');
        }
        snap.push_str(r#"["1","1"]"#);
    }
    snap.push_str(r#"],"asks":[]}"#);
    let mut d = Decoder::new();
    assert_eq!(
        d.decode(snap.as_bytes()).err(),
        Some(E::TooManyLevels {
            max: super::MAX_LEVELS_PER_SIDE
        })
    );
    assert!(d.decode(USDM_TICKER.as_bytes()).is_ok());
    assert!(d.bids.capacity() <= super::KEPT_LEVELS);
}

#[test]
fn key_order_whitespace_escapes_and_extra_keys_do_not_matter() {
    let want = decode(USDM_TICKER).expect("reference ticker");
    let variants = [
        r#"{"A":"2.510","a":"61800.30","B":"2.507","b":"61800.20","s":"BTCUSDT","u":5123107839020,"e":"bookTicker"}"#,
        r#" { "e" : "bookTicker" , "u" : 5123107839020 , "s" : "BTCUSDT" , "b" : "61800.20" , "B" : "2.507" , "a" : "61800.30" , "A" : "2.510" } "#,
        r#"{"e":"book\u0054icker","u":5123107839020,"s":"BTC\u0055SDT","b":"61800.20","B":"2.507","\u0061":"61800.30","A":"2.510"}"#,
        r#"{"x":{"deep":[1,{"y":null}]},"e":"bookTicker","u":5123107839020,"s":"BTCUSDT","b":"61800.20","B":"2.507","a":"61800.30","A":"2.510","z":-1.5e3}"#,
    ];
    for v in variants {
        assert_eq!(decode(v), Ok(want), "{v}");
    }
}

#[test]
fn fast_path_takes_every_shape_and_matches_general_path() {
    for frame in ALL {
        let fast = Decoder::new()
            .decode_fast(frame.as_bytes())
            .map(|f| format!("{f:?}"));
        let general = Decoder::new()
            .decode_general(frame.as_bytes())
            .map(|f| format!("{f:?}"));
        assert!(fast.is_some(), "fast path declined {frame}");
        assert_eq!(fast, general.ok(), "{frame}");
    }
}

#[test]
fn fast_path_declines_what_it_cannot_prove() {
    let declined = [
        r#"{"e":"depthUpdate","e":"depthUpdate"}"#,
        r#"{"e":"kline"}"#,
        r#"{"e":"trade","E":01}"#,
        r#" {"e":"trade"}"#,
    ];
    for frame in declined {
        assert!(
            Decoder::new().decode_fast(frame.as_bytes()).is_none(),
            "{frame}"
        );
    }
}

#[test]
fn decoding_reuses_level_buffers_without_growing() {
    let mut dec = Decoder::new();
    let before = (dec.bids.capacity(), dec.asks.capacity());
    for _ in 0..1000 {
        for frame in ALL {
            dec.decode(frame.as_bytes()).expect("valid frame");
        }
    }
    assert_eq!((dec.bids.capacity(), dec.asks.capacity()), before);
}

/// A random edit of a real-shaped frame: truncate, flip a byte, insert or
/// delete a byte.
fn mutate(frame: &[u8], op: u8, at: usize, byte: u8) -> Vec<u8> {
    let mut f = frame.to_vec();
    let at = at % (f.len() + 1);
    match op % 4 {
        0 => f.truncate(at),
        1 if at < f.len() => f[at] = byte,
        2 => f.insert(at, byte),
        _ if at < f.len() => {
            f.remove(at);
        }
        _ => {}
    }
    f
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn mutated_frames_never_panic_and_paths_agree(
        which in 0..ALL.len(), edits in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..4)
    ) {
        let mut frame = ALL[which].as_bytes().to_vec();
        for (op, at, byte) in edits {
            frame = mutate(&frame, op, at, byte);
        }
        let full = Decoder::new().decode(&frame).map(|f| format!("{f:?}"));
        let general = Decoder::new().decode_general(&frame).map(|f| format!("{f:?}"));
        prop_assert_eq!(&full, &general);
        if let Some(fast) = Decoder::new().decode_fast(&frame) {
            prop_assert_eq!(Ok(format!("{fast:?}")), general);
        }
        if serde_json::from_slice::<serde::de::IgnoredAny>(&frame).is_err() {
            prop_assert!(full.is_err(), "invalid JSON accepted: {:?}", String::from_utf8_lossy(&frame));
        }
    }
}
