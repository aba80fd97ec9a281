//! User data: the spot WebSocket API subscription and the futures listenKey
//! streams, with the events of fills.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use venue_sim::{Market, SimConfig, VenueSim};

fn start(futures: bool, tweak: impl FnOnce(&mut SimConfig)) -> VenueSim {
    let s = session(futures, 300, 21);
    let mut cfg = SimConfig::synthetic(vec![("s".into(), s.bytes, None)], KEY, SECRET);
    tweak(&mut cfg);
    VenueSim::start(cfg).unwrap()
}

fn subscribe_signature(ws: &mut Ws, key: &str, secret: &str, id: u64) -> Value {
    let ts = now_ms();
    let payload = format!("apiKey={key}&timestamp={ts}");
    let sig = hmac_hex(secret, payload.as_bytes());
    let req = json!({"id": id, "method": "userDataStream.subscribe.signature", "params": {"apiKey": key, "timestamp": ts, "signature": sig}});
    send_text(ws, &req.to_string());
    wait_json(ws, Duration::from_secs(5), |v| v["id"] == id).expect("answer")
}

fn event(ws: &mut Ws, pred: impl Fn(&Value) -> bool) -> Value {
    wait_json(ws, Duration::from_secs(10), |v| pred(v)).expect("event")
}

#[test]
fn ws_api_subscription_gets_execution_reports() {
    let sim = start(false, |_| {});
    let mut api = ws(sim.ws_addr(), "/ws-api/v3");
    send_text(&mut api, r#"{"id":"p","method":"ping"}"#);
    let v = wait_json(&mut api, Duration::from_secs(5), |v| v["id"] == "p").unwrap();
    assert_eq!(
        (v["status"].as_u64(), v["result"].clone()),
        (Some(200), json!({}))
    );
    assert!(v["rateLimits"].is_array());
    send_text(&mut api, r#"{"id":2,"method":"time"}"#);
    assert!(wait_json(&mut api, Duration::from_secs(5), |v| v["id"] == 2).unwrap()["result"]["serverTime"].is_u64());
    // A wrong signature and a wrong key, in the WS-API error shape.
    let bad = subscribe_signature(&mut api, KEY, "not-the-secret", 3);
    assert_eq!(
        (bad["status"].as_u64(), bad["error"]["code"].as_i64()),
        (Some(400), Some(-1022)),
        "{bad}"
    );
    let bad = subscribe_signature(&mut api, "other-key", SECRET, 4);
    assert_eq!(
        (bad["status"].as_u64(), bad["error"]["code"].as_i64()),
        (Some(401), Some(-2015)),
        "{bad}"
    );
    let ok = subscribe_signature(&mut api, KEY, SECRET, 5);
    assert_eq!(
        (
            ok["status"].as_u64(),
            ok["result"]["subscriptionId"].as_u64()
        ),
        (Some(200), Some(0)),
        "{ok}"
    );
    let again = subscribe_signature(&mut api, KEY, SECRET, 6);
    assert_eq!(again["error"]["code"], -2035);
    send_text(&mut api, r#"{"id":7,"method":"session.status"}"#);
    assert_eq!(
        wait_json(&mut api, Duration::from_secs(5), |v| v["id"] == 7).unwrap()["result"]["userDataStream"],
        true
    );
    // A resting buy at the bid, filled by a served trade.
    let mut http = Http::new(sim.http_addr());
    let r = http.signed(
        "POST",
        "/api/v3/order",
        &[
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "0.00100"),
            ("price", "60000.00"),
            ("newClientOrderId", "rest-1"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let new = event(&mut api, |v| v["event"]["e"] == "executionReport");
    assert_eq!(new["subscriptionId"], 0);
    assert_eq!(
        (
            new["event"]["x"].as_str(),
            new["event"]["X"].as_str(),
            new["event"]["c"].as_str()
        ),
        (Some("NEW"), Some("NEW"), Some("rest-1"))
    );
    let pos = event(&mut api, |v| v["event"]["e"] == "outboundAccountPosition");
    assert!(
        pos["event"]["B"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["a"] == "USDT" && b["l"] == "60.00000000"),
        "{pos}"
    );
    let _md = ws(sim.ws_addr(), "/ws");
    let fill = event(&mut api, |v| v["event"]["x"] == "TRADE");
    let e = &fill["event"];
    assert_eq!(
        (
            e["X"].as_str(),
            e["m"].as_bool(),
            e["L"].as_str(),
            e["z"].as_str()
        ),
        (
            Some("FILLED"),
            Some(true),
            Some("60000.00000000"),
            Some("0.00100000")
        ),
        "{fill}"
    );
    assert!(e["t"].as_i64().unwrap() > 0);
    let a = sim.account();
    assert_eq!(a.fills, 1);
    assert!(a.fill_list[0].maker);
    // Unsubscribe: eventStreamTerminated, then nothing more.
    send_text(
        &mut api,
        r#"{"id":8,"method":"userDataStream.unsubscribe"}"#,
    );
    let mut saw_terminated = false;
    let ans = wait_json(&mut api, Duration::from_secs(5), |v| {
        saw_terminated |= v["event"]["e"] == "eventStreamTerminated";
        v["id"] == 8
    })
    .unwrap();
    assert_eq!(ans["status"], 200);
    saw_terminated |= wait_json(&mut api, Duration::from_millis(500), |v| {
        v["event"]["e"] == "eventStreamTerminated"
    })
    .is_some();
    assert!(saw_terminated);
    send_text(
        &mut api,
        r#"{"id":9,"method":"userDataStream.unsubscribe"}"#,
    );
    assert_eq!(
        wait_json(&mut api, Duration::from_secs(5), |v| v["id"] == 9).unwrap()["error"]["code"],
        -2036
    );
    sim.stop();
}

#[test]
fn usdm_listen_key_create_keepalive_expiry_and_order_updates() {
    let sim = start(true, |c| c.listen_key_validity = Duration::from_millis(600));
    let mut http = Http::new(sim.http_addr());
    assert_eq!(
        http.send("POST", "/fapi/v1/listenKey", &[], "").code(),
        -2014
    );
    let k = http
        .send("POST", "/fapi/v1/listenKey", &[("X-MBX-APIKEY", KEY)], "")
        .json()["listenKey"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(k.len(), 64);
    let k2 = http
        .send("POST", "/fapi/v1/listenKey", &[("X-MBX-APIKEY", KEY)], "")
        .json()["listenKey"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(k, k2, "POST with an active key returns it");
    assert!(ws_try(sim.ws_addr(), "/private/ws?listenKey=nope").is_err());
    let mut user = ws(sim.ws_addr(), &format!("/private/ws?listenKey={k}"));
    let mut user2 = ws(sim.ws_addr(), &format!("/private/ws/{k}"));
    let mut user3 = ws(sim.ws_addr(), &format!("/private/stream?streams={k}"));
    let _md = ws(sim.ws_addr(), "/public/ws");
    assert!(eventually(Duration::from_secs(20), || sim
        .stats()
        .replay_finished));
    let r = http.signed(
        "POST",
        "/fapi/v1/order",
        &[
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "MARKET"),
            ("quantity", "0.002"),
            ("newClientOrderId", "m-1"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    for u in [&mut user, &mut user2] {
        let n = event(u, |v| v["e"] == "ORDER_TRADE_UPDATE");
        assert_eq!(
            (
                n["o"]["x"].as_str(),
                n["o"]["c"].as_str(),
                n["o"]["o"].as_str()
            ),
            (Some("NEW"), Some("m-1"), Some("MARKET")),
            "{n}"
        );
        let t = event(u, |v| {
            v["e"] == "ORDER_TRADE_UPDATE" && v["o"]["x"] == "TRADE"
        });
        assert_eq!(t["o"]["X"], "FILLED");
        for f in ["ap", "l", "z", "L", "rp", "ps", "m", "t", "T"] {
            assert!(t["o"].get(f).is_some(), "{f} missing: {t}");
        }
        let au = event(u, |v| v["e"] == "ACCOUNT_UPDATE");
        assert_eq!(au["a"]["P"][0]["pa"], "0.002", "{au}");
        assert_eq!(au["a"]["m"], "ORDER");
    }
    // The combined form wraps events with the key as the stream name.
    let c = event(&mut user3, |v| v["data"]["e"] == "ORDER_TRADE_UPDATE");
    assert_eq!(c["stream"], k.as_str());
    // Keep-alive extends it.
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(250));
        let r = http.send("PUT", "/fapi/v1/listenKey", &[("X-MBX-APIKEY", KEY)], "");
        assert_eq!(r.json()["listenKey"], k.as_str(), "{}", r.body);
    }
    // Then it expires: listenKeyExpired, and the stream closes.
    let ex = event(&mut user, |v| v["e"] == "listenKeyExpired");
    assert_eq!(ex["listenKey"], k.as_str());
    let closed = eventually(Duration::from_secs(3), || {
        read_one(&mut user) == Got::Closed
    });
    assert!(closed, "stream closed after listenKeyExpired");
    let r = http.send("PUT", "/fapi/v1/listenKey", &[("X-MBX-APIKEY", KEY)], "");
    assert_eq!((r.status, r.code()), (400, -1125));
    let k3 = http
        .send("POST", "/fapi/v1/listenKey", &[("X-MBX-APIKEY", KEY)], "")
        .json()["listenKey"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(k3, k);
    assert_eq!(
        http.send("DELETE", "/fapi/v1/listenKey", &[("X-MBX-APIKEY", KEY)], "")
            .body,
        "{}"
    );
    assert!(sim.stats().listen_keys_expired >= 1);
    sim.stop();
}

#[test]
fn fills_only_on_stream_hides_fills_from_the_order_answer() {
    let sim = start(true, |c| c.fills_only_on_stream = true);
    let mut http = Http::new(sim.http_addr());
    let k = http
        .send("POST", "/fapi/v1/listenKey", &[("X-MBX-APIKEY", KEY)], "")
        .json()["listenKey"]
        .as_str()
        .unwrap()
        .to_string();
    let mut user = ws(sim.ws_addr(), &format!("/private/ws/{k}"));
    let _md = ws(sim.ws_addr(), "/public/ws");
    assert!(eventually(Duration::from_secs(20), || sim
        .stats()
        .replay_finished));
    let r = http
        .signed(
            "POST",
            "/fapi/v1/order",
            &[
                ("symbol", "BTCUSDT"),
                ("side", "SELL"),
                ("type", "LIMIT"),
                ("timeInForce", "IOC"),
                ("quantity", "0.001"),
                ("price", "59990.0"),
                ("newClientOrderId", "h-1"),
                ("newOrderRespType", "RESULT"),
            ],
        )
        .json();
    assert_eq!(
        (r["status"].as_str(), r["executedQty"].as_str()),
        (Some("NEW"), Some("0.000")),
        "{r}"
    );
    let t = event(&mut user, |v| v["o"]["x"] == "TRADE");
    assert_eq!(t["o"]["X"], "FILLED");
    let q = http
        .signed(
            "GET",
            "/fapi/v1/order",
            &[("symbol", "BTCUSDT"), ("origClientOrderId", "h-1")],
        )
        .json();
    assert_eq!(q["status"], "FILLED", "queries answer truthfully");
    sim.stop();
}

#[test]
fn coinm_user_stream_on_ws_listen_key_and_inverse_positions() {
    let s = session(true, 200, 4);
    let text = String::from_utf8(s.bytes)
        .unwrap()
        .replace("BTCUSDT", "BTCUSD_PERP")
        .replace("btcusdt@", "btcusd_perp@");
    let sim = VenueSim::start(SimConfig::synthetic(
        vec![("c".into(), text.into_bytes(), None)],
        KEY,
        SECRET,
    ))
    .unwrap();
    let mut http = Http::new(sim.http_addr());
    let info = http.get("/dapi/v1/exchangeInfo").json();
    assert_eq!(
        info["symbols"][0]["symbol"], "BTCUSD_PERP",
        "market inferred from the `_`: {info}"
    );
    assert_eq!(info["symbols"][0]["contractSize"], 100);
    let k = http
        .send("POST", "/dapi/v1/listenKey", &[("X-MBX-APIKEY", KEY)], "")
        .json()["listenKey"]
        .as_str()
        .unwrap()
        .to_string();
    let mut user = ws(sim.ws_addr(), &format!("/coinm/ws/{k}"));
    let mut md = ws(sim.ws_addr(), "/coinm/stream?streams=btcusd_perp@aggTrade");
    assert!(
        wait_json(&mut md, Duration::from_secs(10), |v| v["stream"]
            == "btcusd_perp@aggTrade")
        .is_some()
    );
    while let Got::Text(_) = read_one(&mut md) {}
    assert!(eventually(Duration::from_secs(20), || {
        while let Got::Text(_) = read_one(&mut md) {}
        sim.stats().replay_finished
    }));
    let r = http
        .signed(
            "POST",
            "/dapi/v1/order",
            &[
                ("symbol", "BTCUSD_PERP"),
                ("side", "BUY"),
                ("type", "MARKET"),
                ("quantity", "1"),
                ("newOrderRespType", "RESULT"),
            ],
        )
        .json();
    assert_eq!(r["status"], "FILLED", "{r}");
    assert!(
        r.get("cumBase").is_some(),
        "COIN-M answers carry cumBase: {r}"
    );
    let t = event(&mut user, |v| v["o"]["x"] == "TRADE");
    assert_eq!(t["o"]["s"], "BTCUSD_PERP");
    let pr = http.signed("GET", "/dapi/v1/positionRisk", &[]).json();
    assert_eq!(pr[0]["positionAmt"], "1.000", "{pr}");
    assert_eq!(
        sim.account()
            .position(Market::CoinM, "BTCUSD_PERP")
            .to_string(),
        "1"
    );
    sim.stop();
}
