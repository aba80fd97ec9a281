//! Every fault switch, its effect on the wire and its counter.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use tungstenite::Message;
use venue_sim::{DepthFault, Faults, Pace, SimConfig, UsdmRoute, VenueSim};

fn start(
    futures: bool,
    n: usize,
    faults: Faults,
    tweak: impl FnOnce(&mut SimConfig),
) -> (VenueSim, Session) {
    let s = session(futures, n, 17);
    let mut cfg = SimConfig::synthetic(vec![("s".into(), s.bytes.clone(), None)], KEY, SECRET);
    cfg.faults = faults;
    tweak(&mut cfg);
    (VenueSim::start(cfg).unwrap(), s)
}

/// Counts text frames until the connection closes or nothing comes for `idle`.
fn count_until_quiet(w: &mut Ws, idle: Duration) -> (usize, bool) {
    let mut n = 0;
    let mut last = Instant::now();
    while last.elapsed() < idle {
        match read_one(w) {
            Got::Text(_) => {
                n += 1;
                last = Instant::now();
            }
            Got::Closed => return (n, true),
            _ => {}
        }
    }
    (n, false)
}

/// Sends a ping and reports whether a pong comes back within `within`.
fn pong_within(w: &mut Ws, within: Duration) -> bool {
    w.send(Message::Ping(b"hi".to_vec().into())).unwrap();
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        match read_one(w) {
            Got::Pong => return true,
            Got::Closed => return false,
            _ => {}
        }
    }
    false
}

#[test]
fn drop_feed_after_closes_the_first_connection_once() {
    let (sim, s) = start(
        false,
        200,
        Faults {
            drop_feed_after: Some(10),
            ..Faults::default()
        },
        |_| {},
    );
    let mut a = ws(sim.ws_addr(), "/stream?streams=btcusdt@bookTicker");
    assert_eq!(
        count_until_quiet(&mut a, Duration::from_secs(5)),
        (10, true)
    );
    let mut b = ws(sim.ws_addr(), "/stream?streams=btcusdt@bookTicker");
    let (n, closed) = count_until_quiet(&mut b, Duration::from_millis(500));
    assert!(
        !closed && n > 10 && n < s.tickers,
        "second connection continues where the replay is: {n}"
    );
    assert_eq!(sim.stats().feed_drops, 1);
    sim.stop();
}

#[test]
fn skip_diff_leaves_a_sequence_gap() {
    let (sim, s) = start(
        false,
        100,
        Faults {
            skip_diff: Some(8),
            ..Faults::default()
        },
        |_| {},
    );
    let mut w = ws(sim.ws_addr(), "/ws/btcusdt@depth@100ms");
    let mut us = Vec::new();
    let mut gaps = Vec::new();
    let mut prev: Option<u64> = None;
    while let Some(t) = next_text(&mut w, Instant::now() + Duration::from_millis(500)) {
        let v: Value = serde_json::from_str(&t).unwrap();
        let (first, last) = (v["U"].as_u64().unwrap(), v["u"].as_u64().unwrap());
        if let Some(p) = prev
            && first != p + 1
        {
            gaps.push((p, first));
        }
        prev = Some(last);
        us.push(last);
    }
    assert_eq!(us.len(), s.diffs - 1);
    assert_eq!(gaps, vec![(s.diff_us[6], s.diff_us[7] + 1)]);
    assert!(!us.contains(&s.diff_us[7]));
    assert_eq!(sim.stats().diffs_skipped, 1);
    // The venue's own book applied it: its depth is still consistent.
    assert_eq!(sim.stats().book_gaps, 0);
    sim.stop();
}

#[test]
fn stall_after_stops_data_and_pongs_stall_keep_pings_keeps_pongs() {
    let (sim, _) = start(
        false,
        200,
        Faults {
            stall_after: Some(5),
            ..Faults::default()
        },
        |_| {},
    );
    let mut w = ws(sim.ws_addr(), "/ws/btcusdt@bookTicker");
    assert_eq!(
        count_until_quiet(&mut w, Duration::from_millis(300)),
        (5, false)
    );
    assert!(
        !pong_within(&mut w, Duration::from_millis(300)),
        "a stalled connection does not answer pings"
    );
    assert_eq!(sim.stats().stalls, 1);
    sim.stop();

    let (sim, _) = start(
        false,
        200,
        Faults {
            stall_keep_pings_after: Some(5),
            ..Faults::default()
        },
        |_| {},
    );
    let mut w = ws(sim.ws_addr(), "/ws/btcusdt@bookTicker");
    assert_eq!(
        count_until_quiet(&mut w, Duration::from_millis(300)),
        (5, false)
    );
    assert!(
        pong_within(&mut w, Duration::from_secs(2)),
        "frozen but alive"
    );
    assert_eq!(
        count_until_quiet(&mut w, Duration::from_millis(200)),
        (0, false)
    );
    assert_eq!(sim.stats().stalls, 1);
    sim.stop();
}

#[test]
fn one_named_usdm_connection_drops_or_stalls_alone() {
    let s = session(true, 300, 17);
    let mut cfg = SimConfig::synthetic(
        vec![(
            "s".into(),
            delayed(&s.bytes, Duration::from_millis(500)),
            None,
        )],
        KEY,
        SECRET,
    );
    cfg.pace = Pace::Recorded { speed: 1.0 };
    cfg.faults.usdm_drop = Some((UsdmRoute::Public, 5));
    cfg.faults.usdm_stall = Some((UsdmRoute::Market, 3));
    let sim = VenueSim::start(cfg).unwrap();
    let mut public = ws(sim.ws_addr(), "/public/ws/btcusdt@bookTicker");
    let mut market = ws(sim.ws_addr(), "/market/ws/btcusdt@aggTrade");
    let (np, closed) = count_until_quiet(&mut public, Duration::from_secs(3));
    assert_eq!((np, closed), (5, true));
    // Once: a later /public connection is not dropped.
    let mut public2 = ws(sim.ws_addr(), "/public/ws/btcusdt@depth@0ms");
    let (nm, closed_m) = count_until_quiet(&mut market, Duration::from_millis(400));
    assert_eq!(
        (nm, closed_m),
        (3, false),
        "the market connection stalls, open"
    );
    let (n2, closed2) = count_until_quiet(&mut public2, Duration::from_millis(400));
    assert!(!closed2 && n2 > 5, "other connections go on: {n2}");
    assert_eq!(sim.stats().usdm_conn_faults, 2);
    sim.stop();
}

#[test]
fn order_dice_5xx_429_and_no_answer() {
    let (sim, _) = start(
        false,
        20,
        Faults {
            order_5xx_pct: 100,
            ..Faults::default()
        },
        |_| {},
    );
    let mut http = Http::new(sim.http_addr());
    let order = [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("timeInForce", "GTC"),
        ("quantity", "0.001"),
        ("price", "59000"),
        ("newClientOrderId", "x1"),
    ];
    let r = http.signed("POST", "/api/v3/order", &order);
    assert_eq!((r.status, r.code()), (503, -1001));
    assert!(sim.account().orders.is_empty(), "not placed");
    assert_eq!(sim.stats().order_5xx, 1);
    sim.stop();

    let (sim, _) = start(
        false,
        20,
        Faults {
            order_429_pct: 100,
            ..Faults::default()
        },
        |_| {},
    );
    let mut http = Http::new(sim.http_addr());
    let r = http.signed("POST", "/api/v3/order", &order);
    assert_eq!(
        (r.status, r.code(), r.header("Retry-After")),
        (429, -1003, Some("1"))
    );
    assert!(sim.account().orders.is_empty());
    sim.stop();

    let (sim, _) = start(
        false,
        20,
        Faults {
            order_no_answer_pct: 100,
            ..Faults::default()
        },
        |_| {},
    );
    let mut http = Http::new(sim.http_addr());
    http.timeout = Duration::from_millis(300);
    let ts = now_ms().to_string();
    let mut p = order.to_vec();
    p.push(("timestamp", &ts));
    let q = query(&p);
    let target = format!(
        "/api/v3/order?{q}&signature={}",
        hmac_hex(SECRET, q.as_bytes())
    );
    assert!(
        http.try_send("POST", &target, &[("X-MBX-APIKEY", KEY)], "")
            .is_err(),
        "never answered"
    );
    let mut other = Http::new(sim.http_addr());
    let open = other
        .signed("GET", "/api/v3/openOrders", &[("symbol", "BTCUSDT")])
        .json();
    assert_eq!(open[0]["clientOrderId"], "x1", "placed all the same");
    assert_eq!(sim.stats().order_no_answer, 1);
    // stop() does not wait for the held request.
    let t = Instant::now();
    sim.stop();
    assert!(
        t.elapsed() < Duration::from_millis(800),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn ban_5xx_from_and_html_faults() {
    fn order(id: &str) -> Vec<(&str, &str)> {
        vec![
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "0.001"),
            ("price", "59000"),
            ("newClientOrderId", id),
        ]
    }
    let (sim, _) = start(
        false,
        20,
        Faults {
            ban_after_orders: Some(2),
            order_5xx_from: Some(4),
            ..Faults::default()
        },
        |_| {},
    );
    let mut http = Http::new(sim.http_addr());
    let statuses: Vec<(u16, Option<String>)> = (1..=5)
        .map(|i| {
            let r = http.signed("POST", "/api/v3/order", &order(&format!("o{i}")));
            (r.status, r.header("Retry-After").map(str::to_string))
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            (200, None),
            (418, Some("2".into())),
            (200, None),
            (503, None),
            (503, None)
        ]
    );
    let st = sim.stats();
    assert_eq!((st.order_418, st.order_5xx), (1, 2));
    assert_eq!(sim.account().orders.len(), 2);
    sim.stop();

    let (sim, _) = start(
        false,
        20,
        Faults {
            order_html_from: Some(1),
            ..Faults::default()
        },
        |_| {},
    );
    let mut http = Http::new(sim.http_addr());
    let r = http.signed("POST", "/api/v3/order", &order("h"));
    assert_eq!(r.status, 200);
    assert!(r.header("Content-Type").unwrap().starts_with("text/html"));
    assert!(r.body.starts_with("<!DOCTYPE html>"));
    assert!(serde_json::from_str::<Value>(&r.body).is_err());
    assert!(sim.account().orders.is_empty());
    assert_eq!(sim.stats().order_html, 1);
    sim.stop();
}

#[test]
fn depth_fails_n_times_then_answers_and_can_be_huge() {
    for (status, retry) in [
        (503u16, None),
        (500, None),
        (429, Some("7")),
        (418, Some("7")),
    ] {
        let f = Faults {
            depth_fail: Some(DepthFault {
                count: 2,
                status,
                retry_after_s: 7,
            }),
            ..Faults::default()
        };
        let (sim, _) = start(false, 30, f, |_| {});
        let _md = ws(sim.ws_addr(), "/ws");
        let mut http = Http::new(sim.http_addr());
        for _ in 0..2 {
            let r = http.get("/api/v3/depth?symbol=BTCUSDT");
            assert_eq!(
                (r.status, r.header("Retry-After")),
                (status, retry),
                "{}",
                r.body
            );
        }
        assert_eq!(
            http.get_until_ok("/api/v3/depth?symbol=BTCUSDT", Duration::from_secs(10))
                .status,
            200
        );
        assert_eq!(sim.stats().depth_failures, 2);
        sim.stop();
    }
    let (sim, _) = start(
        true,
        30,
        Faults {
            depth_huge_levels: Some(3000),
            ..Faults::default()
        },
        |_| {},
    );
    let _md = ws(sim.ws_addr(), "/public/ws");
    let mut http = Http::new(sim.http_addr());
    let v = http
        .get_until_ok(
            "/fapi/v1/depth?symbol=BTCUSDT&limit=5",
            Duration::from_secs(10),
        )
        .json();
    assert_eq!(
        (
            v["bids"].as_array().unwrap().len(),
            v["asks"].as_array().unwrap().len()
        ),
        (3000, 3000)
    );
    let b: Vec<i128> = v["bids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| px_key(l[0].as_str().unwrap()))
        .collect();
    assert!(
        b.windows(2).all(|w| w[0] > w[1]),
        "bids strictly descending"
    );
    assert!(sim.stats().depth_huge >= 1);
    sim.stop();
}

#[test]
fn user_stream_drop_and_early_listen_key_expiry() {
    let (sim, _) = start(
        true,
        100,
        Faults {
            user_stream_drop_after: Some(1),
            listen_key_expire_early: Some(Duration::from_millis(700)),
            ..Faults::default()
        },
        |_| {},
    );
    let mut http = Http::new(sim.http_addr());
    let k = http
        .send("POST", "/fapi/v1/listenKey", &[("X-MBX-APIKEY", KEY)], "")
        .json()["listenKey"]
        .as_str()
        .unwrap()
        .to_string();
    let mut u1 = ws(sim.ws_addr(), &format!("/private/ws/{k}"));
    let order = [
        ("symbol", "BTCUSDT"),
        ("side", "BUY"),
        ("type", "LIMIT"),
        ("timeInForce", "GTC"),
        ("quantity", "0.001"),
        ("price", "59000.0"),
    ];
    http.signed("POST", "/fapi/v1/order", &order);
    assert_eq!(
        count_until_quiet(&mut u1, Duration::from_secs(3)),
        (1, true),
        "dropped after one event"
    );
    assert_eq!(sim.stats().user_drops, 1);
    let mut u2 = ws(sim.ws_addr(), &format!("/private/ws/{k}"));
    // Keep-alives do not help against the early expiry.
    http.send("PUT", "/fapi/v1/listenKey", &[("X-MBX-APIKEY", KEY)], "");
    let ex = wait_json(&mut u2, Duration::from_secs(5), |v| {
        v["e"] == "listenKeyExpired"
    })
    .expect("expired early");
    assert_eq!(ex["listenKey"], k.as_str());
    assert_eq!(sim.stats().listen_keys_expired_early, 1);
    sim.stop();
}

#[test]
fn server_pings_and_drops_silent_clients() {
    let (sim, _) = start(false, 5000, Faults::default(), |c| {
        c.ping_interval = Duration::from_millis(50);
        c.pong_timeout = Duration::from_millis(250);
        c.pace = Pace::Recorded { speed: 0.01 };
    });
    let mut live = ws(sim.ws_addr(), "/ws/btcusdt@trade");
    let silent = ws(sim.ws_addr(), "/ws/btcusdt@trade");
    let mut pings = 0;
    let deadline = Instant::now() + Duration::from_millis(800);
    while Instant::now() < deadline {
        if read_one(&mut live) == Got::Ping {
            pings += 1;
        }
        // tungstenite answers each ping when it next writes or reads.
        let _ = live.flush();
    }
    assert!(pings >= 3, "server pings: {pings}");
    assert!(
        eventually(Duration::from_secs(3), || sim.stats().pong_timeouts >= 1),
        "{:?}",
        sim.stats()
    );
    assert_eq!(sim.stats().pong_timeouts, 1, "the answering client stays");
    drop(silent);
    sim.stop();
}

#[test]
fn stop_joins_quickly_with_open_connections_and_wire_log_stamps() {
    let (sim, _) = start(false, 3000, Faults::default(), |c| {
        c.pace = Pace::Recorded { speed: 0.01 }
    });
    let mut a = ws(sim.ws_addr(), "/stream?streams=btcusdt@bookTicker");
    let _api = ws(sim.ws_addr(), "/ws-api/v3");
    let mut http = Http::new(sim.http_addr());
    http.signed(
        "POST",
        "/api/v3/order",
        &[
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "0.001"),
            ("price", "59000"),
            ("newClientOrderId", "wire-1"),
        ],
    );
    assert!(next_text(&mut a, Instant::now() + Duration::from_secs(5)).is_some());
    let log = sim.wire_log();
    assert!(!log.frames_sent.is_empty());
    assert!(log.frames_sent.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(log.orders_received.len(), 1);
    assert_eq!(log.orders_received[0].0, "wire-1");
    let handle = sim.stats_handle();
    assert!(handle().http_requests >= 1);
    // A client stuck in its WebSocket handshake and one in the middle of an
    // HTTP request do not delay stop().
    use std::io::Write;
    let mut half = std::net::TcpStream::connect(sim.ws_addr()).unwrap();
    half.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut half_http = std::net::TcpStream::connect(sim.http_addr()).unwrap();
    half_http
        .write_all(b"GET /api/v3/ping HTTP/1.1\r\n")
        .unwrap();
    assert!(eventually(Duration::from_secs(2), || {
        let st = sim.stats();
        st.ws_accepts >= 3 && st.http_connections >= 2
    }));
    let t = Instant::now();
    sim.stop();
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "stop took {:?}",
        t.elapsed()
    );
    assert!(eventually(Duration::from_secs(2), || matches!(
        read_one(&mut a),
        Got::Closed
    )));
}

#[test]
fn hostile_input_never_takes_the_simulator_down() {
    let (sim, _) = start(false, 50, Faults::default(), |_| {});
    use std::io::Write;
    for junk in [
        &b"\x00\x01\x02\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
        b"POST /api/v3/order HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
    ] {
        let mut s = std::net::TcpStream::connect(sim.http_addr()).unwrap();
        s.write_all(junk).unwrap();
    }
    let mut raw = std::net::TcpStream::connect(sim.ws_addr()).unwrap();
    raw.write_all(b"GET /ws HTTP/1.1\r\n\r\n").unwrap();
    let mut http = Http::new(sim.http_addr());
    let r = http.send(
        "POST",
        "/api/v3/order?%%%=&&==&symbol",
        &[("X-MBX-APIKEY", KEY)],
        "",
    );
    assert_eq!(r.status, 400);
    let r = http.send("GET", "/api/v3/depth?symbol=BTCUSDT&limit=-4", &[], "");
    assert_eq!(r.code(), -1100);
    let mut api = ws(sim.ws_addr(), "/ws-api/v3");
    send_text(&mut api, "[[[[");
    send_text(
        &mut api,
        r#"{"id":1,"method":"userDataStream.subscribe.signature","params":{"apiKey":7,"timestamp":"x","signature":null}}"#,
    );
    let v = wait_json(&mut api, Duration::from_secs(5), |v| v["id"] == 1).unwrap();
    assert_eq!(v["status"], 400);
    assert_eq!(http.get("/api/v3/ping").status, 200, "still serving");
    assert_eq!(sim.stats().panics, 0);
    sim.stop();
}
