//! WebSocket paths: USD-M routed paths, legacy paths, byte-exact payloads,
//! SUBSCRIBE requests, and the replay advancing only with a listener.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use venue_sim::{Pace, SimConfig, UsdmRoute, VenueSim};

/// Reads every connection round-robin until all were idle for `idle`;
/// returns each connection's frames.
fn drain(conns: &mut [Ws], idle: Duration) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new(); conns.len()];
    // The idle time counts from the first frame (the session starts late).
    let mut last = Instant::now() + Duration::from_secs(5);
    while Instant::now() < last + idle {
        for (i, c) in conns.iter_mut().enumerate() {
            while let Got::Text(t) = read_one(c) {
                out[i].push(t);
                last = Instant::now();
            }
        }
    }
    out
}

fn kinds(frames: &[String]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for f in frames {
        let v: Value = serde_json::from_str(f).unwrap();
        let k = v["stream"]
            .as_str()
            .map(|s| s.to_string())
            .unwrap_or_else(|| v["e"].as_str().unwrap_or("?").to_string());
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

#[test]
fn usdm_depth_only_on_public_aggtrade_only_on_market() {
    let s = session(true, 300, 8);
    let mut cfg = SimConfig::synthetic(
        vec![(
            "u".into(),
            delayed(&s.bytes, Duration::from_millis(800)),
            None,
        )],
        KEY,
        SECRET,
    );
    cfg.pace = Pace::Recorded { speed: 1.0 };
    let sim = VenueSim::start(cfg).unwrap();
    let all =
        "btcusdt@depth@0ms/btcusdt@bookTicker/btcusdt@aggTrade/btcusdt@trade/btcusdt@markPrice";
    let mut conns = vec![
        ws(sim.ws_addr(), &format!("/public/stream?streams={all}")),
        ws(sim.ws_addr(), &format!("/market/stream?streams={all}")),
        ws(sim.ws_addr(), &format!("/stream?streams={all}")),
        ws(sim.ws_addr(), &format!("/usdm/market/stream?streams={all}")),
    ];
    assert!(eventually(Duration::from_secs(5), || sim
        .stats()
        .md_connections
        == 4));
    let got = drain(&mut conns, Duration::from_millis(400));
    let public = kinds(&got[0]);
    let market = kinds(&got[1]);
    let legacy = kinds(&got[2]);
    assert_eq!(
        public.get("btcusdt@depth@0ms"),
        Some(&s.diffs),
        "{public:?}"
    );
    assert_eq!(public.get("btcusdt@bookTicker"), Some(&s.tickers));
    assert_eq!(
        public.len(),
        2,
        "only /public streams on /public: {public:?}"
    );
    assert_eq!(
        market.get("btcusdt@aggTrade"),
        Some(&s.trades),
        "{market:?}"
    );
    assert_eq!(
        market.get("btcusdt@trade"),
        Some(&s.trades),
        "raw trade is on /market by default"
    );
    assert_eq!(market.get("btcusdt@markPrice"), Some(&s.trades));
    assert!(
        !market.contains_key("btcusdt@depth@0ms") && !market.contains_key("btcusdt@bookTicker")
    );
    assert_eq!(
        legacy, public,
        "the un-routed path delivers only /public data"
    );
    assert_eq!(kinds(&got[3]), market, "/usdm prefix is accepted");
    sim.stop();
}

#[test]
fn usdm_trade_route_is_configurable() {
    let s = session(true, 60, 8);
    let mut cfg = SimConfig::synthetic(
        vec![(
            "u".into(),
            delayed(&s.bytes, Duration::from_millis(800)),
            None,
        )],
        KEY,
        SECRET,
    );
    cfg.pace = Pace::Recorded { speed: 1.0 };
    cfg.usdm_trade_route = UsdmRoute::Public;
    let sim = VenueSim::start(cfg).unwrap();
    let mut conns = vec![
        ws(sim.ws_addr(), "/public/ws/btcusdt@trade"),
        ws(sim.ws_addr(), "/market/ws/btcusdt@trade"),
    ];
    assert!(eventually(Duration::from_secs(5), || sim
        .stats()
        .md_connections
        == 2));
    let got = drain(&mut conns, Duration::from_millis(300));
    assert_eq!(got[0].len(), s.trades);
    assert!(got[1].is_empty());
    sim.stop();
}

#[test]
fn payloads_are_byte_exact_combined_and_raw() {
    let s = session(false, 100, 2);
    let mut cfg = SimConfig::synthetic(
        vec![(
            "s".into(),
            delayed(&s.bytes, Duration::from_millis(800)),
            None,
        )],
        KEY,
        SECRET,
    );
    cfg.pace = Pace::Recorded { speed: 1.0 };
    let sim = VenueSim::start(cfg).unwrap();
    let mut conns = vec![
        ws(
            sim.ws_addr(),
            "/stream?streams=btcusdt@trade/btcusdt@depth@100ms",
        ),
        ws(sim.ws_addr(), "/ws/btcusdt@trade"),
    ];
    assert!(eventually(Duration::from_secs(5), || sim
        .stats()
        .md_connections
        == 2));
    let got = drain(&mut conns, Duration::from_millis(300));
    let want: Vec<&String> = s
        .lines
        .iter()
        .filter(|l| l.contains("\"btcusdt@trade\"") || l.contains("\"btcusdt@depth@100ms\""))
        .collect();
    assert_eq!(
        got[0].iter().collect::<Vec<_>>(),
        want,
        "combined frames are the capture lines verbatim"
    );
    let raw_want: Vec<String> = s
        .lines
        .iter()
        .filter(|l| l.contains("\"btcusdt@trade\""))
        .map(|l| l[l.find("\"data\":").unwrap() + 7..l.len() - 1].to_string())
        .collect();
    assert_eq!(
        got[1], raw_want,
        "raw frames are the envelope's data verbatim"
    );
    // The snapshot line is never sent.
    assert!(got[0].iter().all(|f| !f.contains("lastUpdateId")));
    sim.stop();
}

#[test]
fn subscribe_requests_and_the_replay_waits_for_a_listener() {
    let s = session(false, 300, 6);
    let mut cfg = SimConfig::synthetic(vec![("s".into(), s.bytes.clone(), None)], KEY, SECRET);
    // 0.1 ms between lines: 1100 lines in about 2 s at speed 0.05.
    cfg.pace = Pace::Recorded { speed: 0.05 };
    let sim = VenueSim::start(cfg).unwrap();
    let mut http = Http::new(sim.http_addr());
    for _ in 0..20 {
        http.get("/api/v3/ping");
    }
    assert_eq!(
        sim.stats().frames_served,
        0,
        "nothing is served before a market-data connection"
    );
    let mut c = ws(sim.ws_addr(), "/ws");
    send_text(
        &mut c,
        r#"{"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":1}"#,
    );
    let ack = wait_json(&mut c, Duration::from_secs(5), |v| v.get("id").is_some()).unwrap();
    assert_eq!(ack.to_string(), r#"{"id":1,"result":null}"#);
    let t = wait_json(&mut c, Duration::from_secs(5), |v| v["e"] == "trade")
        .expect("raw trade after SUBSCRIBE");
    assert!(t.get("stream").is_none());
    send_text(&mut c, r#"{"method":"LIST_SUBSCRIPTIONS","id":3}"#);
    let l = wait_json(&mut c, Duration::from_secs(5), |v| v["id"] == 3).unwrap();
    assert_eq!(l["result"], serde_json::json!(["btcusdt@trade"]));
    send_text(
        &mut c,
        r#"{"method":"SET_PROPERTY","params":["combined",true],"id":4}"#,
    );
    wait_json(&mut c, Duration::from_secs(5), |v| v["id"] == 4).unwrap();
    let env = wait_json(&mut c, Duration::from_secs(5), |v| {
        v["stream"] == "btcusdt@trade"
    })
    .expect("combined after SET_PROPERTY");
    assert_eq!(env["data"]["e"], "trade");
    send_text(
        &mut c,
        r#"{"method":"UNSUBSCRIBE","params":["btcusdt@trade"],"id":5}"#,
    );
    wait_json(&mut c, Duration::from_secs(5), |v| v["id"] == 5).unwrap();
    send_text(&mut c, r#"{"method":"NOPE","id":6}"#);
    assert_eq!(
        wait_json(&mut c, Duration::from_secs(5), |v| v.get("code").is_some()).unwrap()["code"],
        2
    );
    send_text(&mut c, "{not json");
    assert_eq!(
        wait_json(&mut c, Duration::from_secs(5), |v| v.get("code").is_some()).unwrap()["code"],
        3
    );
    // Closing the only listener pauses the replay.
    drop(c);
    assert!(eventually(Duration::from_secs(5), || {
        let a = sim.stats().frames_served;
        std::thread::sleep(Duration::from_millis(100));
        a == sim.stats().frames_served
    }));
    let paused = sim.stats();
    assert!(
        !paused.replay_finished && paused.frames_served > 0,
        "{paused:?}"
    );
    // A new connection joins where the replay is now.
    let mut c2 = ws(sim.ws_addr(), "/ws/btcusdt@trade");
    let first: Value =
        serde_json::from_str(&next_text(&mut c2, Instant::now() + Duration::from_secs(5)).unwrap())
            .unwrap();
    assert!(first["t"].as_u64().unwrap() > t["t"].as_u64().unwrap());
    // Unknown paths are refused at the handshake.
    assert!(ws_try(sim.ws_addr(), "/nope").is_err());
    sim.stop();
}

#[test]
fn several_markets_at_once_share_one_listener() {
    let spot = session(false, 100, 31);
    let usdm = session(true, 100, 32);
    // A second spot instrument in its own source.
    let eth = String::from_utf8(session(false, 50, 33).bytes)
        .unwrap()
        .replace("BTCUSDT", "ETHUSDT")
        .replace("btcusdt@", "ethusdt@");
    let mut cfg = SimConfig::synthetic(
        vec![
            (
                "spot".into(),
                delayed(&spot.bytes, Duration::from_millis(600)),
                None,
            ),
            ("usdm".into(), usdm.bytes.clone(), None),
            ("eth".into(), eth.into_bytes(), None),
        ],
        KEY,
        SECRET,
    );
    cfg.pace = Pace::Recorded { speed: 1.0 };
    let sim = VenueSim::start(cfg).unwrap();
    let mut conns = vec![
        ws(sim.ws_addr(), "/stream?streams=btcusdt@trade/ethusdt@trade"),
        ws(sim.ws_addr(), "/public/stream?streams=btcusdt@bookTicker"),
    ];
    let got = drain(&mut conns, Duration::from_millis(400));
    let spot_kinds = kinds(&got[0]);
    assert_eq!(
        spot_kinds.get("btcusdt@trade"),
        Some(&spot.trades),
        "plain /stream is spot when there is spot data: {spot_kinds:?}"
    );
    assert!(spot_kinds.get("ethusdt@trade").is_some_and(|n| *n > 0));
    let fut: Vec<Value> = got[1]
        .iter()
        .map(|f| serde_json::from_str(f).unwrap())
        .collect();
    assert!(
        !fut.is_empty() && fut.iter().all(|v| v["data"]["e"] == "bookTicker"),
        "USD-M tickers carry e"
    );
    let mut http = Http::new(sim.http_addr());
    let info = http.get("/api/v3/exchangeInfo").json();
    let syms: Vec<&str> = info["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(syms, ["BTCUSDT", "ETHUSDT"]);
    assert_eq!(
        http.get("/fapi/v1/exchangeInfo").json()["symbols"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(http.get("/api/v3/depth?symbol=ETHUSDT&limit=1").status, 200);
    assert_eq!(
        http.get("/fapi/v1/depth?symbol=BTCUSDT&limit=5").status,
        200
    );
    sim.stop();
}
