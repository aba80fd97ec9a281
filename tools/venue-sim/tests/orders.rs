//! Signed order endpoints, filters, signing and rate limits, spot and USD-M.

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;
use venue_sim::{Dec, Market, SimConfig, VenueSim};

fn sim(futures: bool) -> (VenueSim, Session) {
    let s = session(futures, 300, 5);
    let sim = VenueSim::start(SimConfig::synthetic(
        vec![("s".into(), s.bytes.clone(), None)],
        KEY,
        SECRET,
    ))
    .unwrap();
    (sim, s)
}

/// Opens a market-data connection subscribed to nothing so the replay runs
/// to its end; returns once it has.
fn finish_replay(sim: &VenueSim) -> Ws {
    let w = ws(sim.ws_addr(), "/ws");
    assert!(eventually(Duration::from_secs(20), || sim
        .stats()
        .replay_finished));
    w
}

fn spot_order(http: &mut Http, side: &str, tif: &str, qty: &str, price: &str, id: &str) -> Resp {
    http.signed(
        "POST",
        "/api/v3/order",
        &[
            ("symbol", "BTCUSDT"),
            ("side", side),
            ("type", "LIMIT"),
            ("timeInForce", tif),
            ("quantity", qty),
            ("price", price),
            ("newClientOrderId", id),
        ],
    )
}

fn fut_order(
    http: &mut Http,
    side: &str,
    tif: &str,
    qty: &str,
    price: &str,
    id: &str,
    resp: &str,
) -> Resp {
    http.signed(
        "POST",
        "/fapi/v1/order",
        &[
            ("symbol", "BTCUSDT"),
            ("side", side),
            ("type", "LIMIT"),
            ("timeInForce", tif),
            ("quantity", qty),
            ("price", price),
            ("newClientOrderId", id),
            ("newOrderRespType", resp),
        ],
    )
}

fn bal(v: &Value, asset: &str) -> (Dec, Dec) {
    let b = v["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["asset"] == asset)
        .unwrap();
    (
        Dec::parse(b["free"].as_str().unwrap()).unwrap(),
        Dec::parse(b["locked"].as_str().unwrap()).unwrap(),
    )
}

#[test]
fn spot_place_query_open_cancel_and_cancel_all() {
    let (sim, _) = sim(false);
    let mut http = Http::new(sim.http_addr());
    let r = spot_order(&mut http, "BUY", "GTC", "0.01000", "59000.00", "a-1");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.header_exact("X-MBX-USED-WEIGHT-1M").is_some(),
        "{:?}",
        r.headers
    );
    assert_eq!(r.header_exact("X-MBX-ORDER-COUNT-10S"), Some("1"));
    assert_eq!(r.header_exact("X-MBX-ORDER-COUNT-1D"), Some("1"));
    let v = r.json();
    assert_eq!(
        (
            v["status"].as_str(),
            v["price"].as_str(),
            v["origQty"].as_str()
        ),
        (Some("NEW"), Some("59000.00000000"), Some("0.01000000"))
    );
    assert!(
        v["fills"].as_array().unwrap().is_empty(),
        "FULL is the default for LIMIT: {v}"
    );
    let id = v["orderId"].as_u64().unwrap();
    // 590 USDT locked.
    let acct = http.signed("GET", "/api/v3/account", &[]).json();
    assert_eq!(
        bal(&acct, "USDT"),
        (Dec::parse("999410").unwrap(), Dec::parse("590").unwrap())
    );
    // Duplicate client id of an open order.
    let d = spot_order(&mut http, "BUY", "GTC", "0.01000", "59000.00", "a-1");
    assert_eq!(
        (d.status, d.code(), d.json()["msg"].as_str()),
        (400, -2010, Some("Duplicate order sent."))
    );
    let q = http.signed(
        "GET",
        "/api/v3/order",
        &[("symbol", "BTCUSDT"), ("orderId", &id.to_string())],
    );
    assert_eq!(q.json()["clientOrderId"], "a-1");
    let open = http
        .signed("GET", "/api/v3/openOrders", &[("symbol", "BTCUSDT")])
        .json();
    assert_eq!(open.as_array().unwrap().len(), 1);
    let c = http.signed(
        "DELETE",
        "/api/v3/order",
        &[("symbol", "BTCUSDT"), ("origClientOrderId", "a-1")],
    );
    assert_eq!(
        (
            c.status,
            c.json()["status"].as_str(),
            c.json()["origClientOrderId"].as_str()
        ),
        (200, Some("CANCELED"), Some("a-1"))
    );
    let acct = http.signed("GET", "/api/v3/account", &[]).json();
    assert_eq!(bal(&acct, "USDT"), (Dec::from_int(1_000_000), Dec::ZERO));
    assert_eq!(
        http.signed(
            "DELETE",
            "/api/v3/order",
            &[("symbol", "BTCUSDT"), ("origClientOrderId", "a-1")]
        )
        .code(),
        -2011
    );
    assert_eq!(
        http.signed(
            "GET",
            "/api/v3/order",
            &[("symbol", "BTCUSDT"), ("orderId", "999999")]
        )
        .code(),
        -2013
    );
    assert_eq!(
        http.signed(
            "GET",
            "/api/v3/order",
            &[("symbol", "BTCUSDT"), ("orderId", &id.to_string())]
        )
        .json()["status"],
        "CANCELED"
    );
    assert_eq!(
        http.signed("DELETE", "/api/v3/openOrders", &[("symbol", "BTCUSDT")])
            .code(),
        -2011
    );
    spot_order(&mut http, "BUY", "GTC", "0.01000", "59000.00", "b-1");
    spot_order(&mut http, "SELL", "GTC", "0.01000", "61000.00", "b-2");
    let all = http.signed("DELETE", "/api/v3/openOrders", &[("symbol", "BTCUSDT")]);
    let arr = all.json();
    assert_eq!(arr.as_array().map(Vec::len), Some(2), "{}", all.body);
    assert!(
        arr.as_array()
            .unwrap()
            .iter()
            .all(|o| o["status"] == "CANCELED")
    );
    assert!(
        http.signed("GET", "/api/v3/openOrders", &[])
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    let acct = sim.account();
    assert_eq!(acct.orders["b-2"].status, venue_sim::OrderStatus::Canceled);
    // Keep-alive: one connection served every request.
    assert_eq!(http.connects, 1);
    sim.stop();
}

#[test]
fn spot_filters_are_enforced_with_binance_errors() {
    let (sim, _) = sim(false);
    let mut http = Http::new(sim.http_addr());
    let info = http.get("/api/v3/exchangeInfo?symbol=BTCUSDT").json();
    let f = &info["symbols"][0]["filters"];
    let by = |t: &str| {
        f.as_array()
            .unwrap()
            .iter()
            .find(|x| x["filterType"] == t)
            .cloned()
            .unwrap_or_else(|| panic!("{t} missing: {f}"))
    };
    assert_eq!(by("PRICE_FILTER")["tickSize"], "0.01000000");
    assert_eq!(by("LOT_SIZE")["stepSize"], "0.00001000");
    assert_eq!(by("NOTIONAL")["minNotional"], "5.00000000");
    assert_eq!(by("PERCENT_PRICE_BY_SIDE")["bidMultiplierUp"], "5");
    let rl = info["rateLimits"].as_array().unwrap();
    assert!(
        rl.iter()
            .any(|l| l["rateLimitType"] == "REQUEST_WEIGHT" && l["limit"] == 6000)
    );
    assert!(rl.iter().any(|l| l["rateLimitType"] == "ORDERS"
        && l["interval"] == "SECOND"
        && l["intervalNum"] == 10));
    let msg = |r: Resp| (r.code(), r.json()["msg"].as_str().unwrap_or("").to_string());
    assert_eq!(
        msg(spot_order(
            &mut http,
            "BUY",
            "GTC",
            "0.01000",
            "59000.005",
            "f1"
        )),
        (-1013, "Filter failure: PRICE_FILTER".into())
    );
    assert_eq!(
        msg(spot_order(
            &mut http, "BUY", "GTC", "0.010001", "59000.00", "f2"
        )),
        (-1013, "Filter failure: LOT_SIZE".into())
    );
    assert_eq!(
        msg(spot_order(
            &mut http, "BUY", "GTC", "0.00001", "59000.00", "f3"
        )),
        (-1013, "Filter failure: NOTIONAL".into())
    );
    assert_eq!(
        spot_order(&mut http, "BUY", "GTC", "0.000000001", "59000.00", "f4").code(),
        -1111
    );
    assert_eq!(
        spot_order(&mut http, "UP", "GTC", "0.01", "59000.00", "f5").code(),
        -1117
    );
    assert_eq!(
        spot_order(&mut http, "BUY", "DAY", "0.01", "59000.00", "f6").code(),
        -1115
    );
    assert_eq!(
        spot_order(&mut http, "BUY", "GTC", "1e3", "59000.00", "f7").code(),
        -1100
    );
    let r = http.signed(
        "POST",
        "/api/v3/order",
        &[
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "STOP"),
            ("quantity", "1"),
        ],
    );
    assert_eq!(r.code(), -1116);
    let r = http.signed(
        "POST",
        "/api/v3/order",
        &[
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("price", "59000"),
        ],
    );
    assert_eq!(
        (r.code(), r.json()["msg"].as_str()),
        (
            -1102,
            Some("Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.")
        )
    );
    let r = http.signed(
        "POST",
        "/api/v3/order",
        &[
            ("symbol", "ETHUSDT"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "1"),
            ("price", "1"),
        ],
    );
    assert_eq!(r.code(), -1121);
    // With a reference price (replayed book), PERCENT_PRICE_BY_SIDE applies.
    let _w = finish_replay(&sim);
    assert_eq!(
        msg(spot_order(
            &mut http,
            "SELL",
            "GTC",
            "0.01000",
            "400000.00",
            "f8"
        )),
        (-1013, "Filter failure: PERCENT_PRICE_BY_SIDE".into())
    );
    assert_eq!(sim.stats().filter_rejects, 4);
    assert!(sim.account().orders.is_empty());
    sim.stop();
}

#[test]
fn signing_follows_the_2026_percent_encoding_rule() {
    let (sim, _) = sim(false);
    let mut http = Http::new(sim.http_addr());
    let ts = now_ms().to_string();
    // Non-ASCII value, percent-encoded on the wire.
    let encoded = format!(
        "symbol={}&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&timestamp={ts}",
        enc("１２３４５６")
    );
    let raw = format!(
        "symbol=１２３４５６&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&timestamp={ts}"
    );
    let good = hmac_hex(SECRET, encoded.as_bytes());
    let r = http.send(
        "POST",
        &format!("/api/v3/order?{encoded}&signature={good}"),
        &[("X-MBX-APIKEY", KEY)],
        "",
    );
    // Signature accepted: the request fails later, on the symbol.
    assert_eq!(r.code(), -1121, "{}", r.body);
    let bad = hmac_hex(SECRET, raw.as_bytes());
    let r = http.send(
        "POST",
        &format!("/api/v3/order?{encoded}&signature={bad}"),
        &[("X-MBX-APIKEY", KEY)],
        "",
    );
    assert_eq!((r.status, r.code()), (400, -1022), "{}", r.body);
    assert_eq!(r.json()["msg"], "Signature for this request is not valid.");
    // Upper-case hex is accepted (HMAC signatures are case-insensitive).
    let r = http.send(
        "POST",
        &format!("/api/v3/order?{encoded}&signature={}", good.to_uppercase()),
        &[("X-MBX-APIKEY", KEY)],
        "",
    );
    assert_eq!(r.code(), -1121);
    // Query string + body are signed together.
    let q = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=59000&newClientOrderId=mix";
    let b = format!("timestamp={}", now_ms());
    let sig = hmac_hex(SECRET, format!("{q}{b}").as_bytes());
    let r = http.send(
        "POST",
        &format!("/api/v3/order?{q}"),
        &[("X-MBX-APIKEY", KEY)],
        &format!("{b}&signature={sig}"),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = http.signed_body(
        "DELETE",
        "/api/v3/order",
        &[("symbol", "BTCUSDT"), ("origClientOrderId", "mix")],
    );
    assert_eq!(r.json()["status"], "CANCELED");
    // Keys and timing.
    let r = http.send(
        "GET",
        "/api/v3/account?timestamp=1&signature=00",
        &[("X-MBX-APIKEY", "wrong")],
        "",
    );
    assert_eq!((r.status, r.code()), (401, -2015));
    let r = http.send("GET", "/api/v3/account?timestamp=1&signature=00", &[], "");
    assert_eq!((r.status, r.code()), (401, -2014));
    let stale = format!("timestamp={}", now_ms() - 10_000);
    let r = http.send(
        "GET",
        &format!(
            "/api/v3/account?{stale}&signature={}",
            hmac_hex(SECRET, stale.as_bytes())
        ),
        &[("X-MBX-APIKEY", KEY)],
        "",
    );
    assert_eq!(r.code(), -1021);
    let ok = format!("timestamp={}&recvWindow=20000", now_ms() - 10_000);
    let r = http.send(
        "GET",
        &format!(
            "/api/v3/account?{ok}&signature={}",
            hmac_hex(SECRET, ok.as_bytes())
        ),
        &[("X-MBX-APIKEY", KEY)],
        "",
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = http.send(
        "GET",
        "/api/v3/account?timestamp=1",
        &[("X-MBX-APIKEY", KEY)],
        "",
    );
    assert_eq!(r.code(), -1102);
    let st = sim.stats();
    assert_eq!(
        (
            st.signature_failures,
            st.timestamp_failures,
            st.key_failures
        ),
        (1, 1, 2)
    );
    // Spot listenKey endpoints were removed in 2026.
    for m in ["POST", "PUT", "DELETE"] {
        let r = http.send(m, "/api/v3/userDataStream", &[("X-MBX-APIKEY", KEY)], "");
        assert_eq!((r.status, r.code()), (410, -1020), "{m}");
    }
    assert_eq!(http.get("/api/v3/ping").body, "{}");
    assert!(
        http.get("/api/v3/time").json()["serverTime"]
            .as_u64()
            .unwrap()
            > 1_700_000_000_000
    );
    assert_eq!(http.get("/api/v3/nope").status, 404);
    sim.stop();
}

#[test]
fn spot_marketable_order_fills_against_the_book_and_moves_balances() {
    let (sim, _) = sim(false);
    let mut http = Http::new(sim.http_addr());
    let _w = finish_replay(&sim);
    let d = http.get("/api/v3/depth?symbol=BTCUSDT&limit=1").json();
    let ask = Dec::parse(d["asks"][0][0].as_str().unwrap()).unwrap();
    let ask_q = Dec::parse(d["asks"][0][1].as_str().unwrap()).unwrap();
    let r = spot_order(&mut http, "BUY", "IOC", "0.00100", "60001.00", "t-1");
    let v = r.json();
    assert_eq!(v["status"], "FILLED", "{v}");
    let fills = v["fills"].as_array().unwrap();
    assert_eq!(Dec::parse(fills[0]["price"].as_str().unwrap()), Some(ask));
    assert!(ask_q >= Dec::parse("0.001").unwrap());
    let acct = http.signed("GET", "/api/v3/account", &[]).json();
    assert_eq!(bal(&acct, "BTC").0, Dec::parse("1000000.001").unwrap());
    let cost = ask.checked_mul(Dec::parse("0.001").unwrap()).unwrap();
    assert_eq!(bal(&acct, "USDT").0, Dec::from_int(1_000_000).minus(cost));
    let a = sim.account();
    assert_eq!(
        a.position(Market::Spot, "BTCUSDT"),
        Dec::parse("0.001").unwrap()
    );
    assert_eq!(a.fills, 1);
    // IOC remainder beyond the book's level share ends EXPIRED.
    let r = spot_order(
        &mut http,
        "BUY",
        "IOC",
        "10.00000",
        &ask.fmt_fixed(2),
        "t-2",
    )
    .json();
    assert_eq!(r["status"], "EXPIRED", "{r}");
    assert!(
        Dec::parse(r["executedQty"].as_str().unwrap())
            .unwrap()
            .is_positive()
    );
    // LIMIT_MAKER that would take is rejected.
    let r = http.signed(
        "POST",
        "/api/v3/order",
        &[
            ("symbol", "BTCUSDT"),
            ("side", "BUY"),
            ("type", "LIMIT_MAKER"),
            ("quantity", "0.001"),
            ("price", "60001.00"),
        ],
    );
    assert_eq!(
        (r.code(), r.json()["msg"].as_str()),
        (-2010, Some("Order would immediately match and take."))
    );
    sim.stop();
}

#[test]
fn usdm_orders_in_the_futures_shape() {
    let (sim, _) = sim(true);
    let mut http = Http::new(sim.http_addr());
    let r = fut_order(&mut http, "BUY", "GTC", "0.010", "59000.0", "u-1", "ACK");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.header_exact("X-MBX-USED-WEIGHT-1m").is_some(),
        "{:?}",
        r.headers
    );
    assert_eq!(r.header_exact("X-MBX-ORDER-COUNT-1M"), Some("1"));
    let v = r.json();
    for k in [
        "orderId",
        "avgPrice",
        "cumQuote",
        "cumQty",
        "executedQty",
        "updateTime",
        "positionSide",
        "reduceOnly",
        "origType",
    ] {
        assert!(v.get(k).is_some(), "{k} missing in {v}");
    }
    assert_eq!(
        (
            v["status"].as_str(),
            v["price"].as_str(),
            v["origQty"].as_str()
        ),
        (Some("NEW"), Some("59000.0"), Some("0.010"))
    );
    assert_eq!(
        fut_order(&mut http, "BUY", "GTC", "0.010", "59000.0", "u-1", "ACK").code(),
        -4116
    );
    assert_eq!(
        fut_order(&mut http, "BUY", "GTC", "0.010", "59000.05", "u-2", "ACK").code(),
        -1111
    );
    let info = http.get("/fapi/v1/exchangeInfo").json();
    let s = &info["symbols"][0];
    assert_eq!(
        (
            s["pricePrecision"].as_u64(),
            s["quantityPrecision"].as_u64()
        ),
        (Some(1), Some(3))
    );
    let f = s["filters"].as_array().unwrap();
    assert!(
        f.iter()
            .any(|x| x["filterType"] == "PRICE_FILTER" && x["tickSize"] == "0.1")
    );
    assert!(
        f.iter()
            .any(|x| x["filterType"] == "MIN_NOTIONAL" && x["notional"] == "5")
    );
    assert!(
        info["rateLimits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["limit"] == 2400)
    );
    let r = fut_order(&mut http, "BUY", "GTC", "0.001", "1000.0", "u-3", "ACK");
    assert_eq!(r.code(), -4164, "{}", r.body);
    let q = http
        .signed(
            "GET",
            "/fapi/v1/order",
            &[("symbol", "BTCUSDT"), ("origClientOrderId", "u-1")],
        )
        .json();
    assert_eq!(q["status"], "NEW");
    fut_order(
        &mut http, "SELL", "GTC", "0.010", "61000.0", "u-4", "RESULT",
    );
    let open = http
        .signed("GET", "/fapi/v1/openOrders", &[("symbol", "BTCUSDT")])
        .json();
    assert_eq!(open.as_array().unwrap().len(), 2);
    let c = http
        .signed(
            "DELETE",
            "/fapi/v1/order",
            &[("symbol", "BTCUSDT"), ("origClientOrderId", "u-1")],
        )
        .json();
    assert_eq!(c["status"], "CANCELED");
    let all = http.signed("DELETE", "/fapi/v1/allOpenOrders", &[("symbol", "BTCUSDT")]);
    assert_eq!(
        (all.status, all.body.as_str()),
        (
            200,
            r#"{"code":200,"msg":"The operation of cancel all open order is done."}"#
        )
    );
    assert!(
        http.signed("GET", "/fapi/v1/openOrders", &[])
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Nothing left: still the same answer.
    assert_eq!(
        http.signed("DELETE", "/fapi/v1/allOpenOrders", &[("symbol", "BTCUSDT")])
            .code(),
        200
    );
    assert_eq!(
        http.signed(
            "DELETE",
            "/fapi/v1/order",
            &[("symbol", "BTCUSDT"), ("orderId", "424242")]
        )
        .code(),
        -2011
    );
    assert_eq!(http.get("/fapi/v1/ping").body, "{}");
    sim.stop();
}

#[test]
fn usdm_fills_move_position_entry_and_realized_pnl() {
    let (sim, _) = sim(true);
    let mut http = Http::new(sim.http_addr());
    let _w = finish_replay(&sim);
    let d = http.get("/fapi/v1/depth?symbol=BTCUSDT&limit=5").json();
    let bid = Dec::parse(d["bids"][0][0].as_str().unwrap()).unwrap();
    let ask = Dec::parse(d["asks"][0][0].as_str().unwrap()).unwrap();
    let r = fut_order(&mut http, "BUY", "IOC", "0.001", "60010.0", "p-1", "RESULT").json();
    assert_eq!(r["status"], "FILLED", "{r}");
    assert_eq!(Dec::parse(r["avgPrice"].as_str().unwrap()), Some(ask));
    let pr = http.signed("GET", "/fapi/v3/positionRisk", &[]).json();
    assert_eq!(pr.as_array().unwrap().len(), 1, "{pr}");
    assert_eq!(pr[0]["positionAmt"], "0.001");
    assert_eq!(Dec::parse(pr[0]["entryPrice"].as_str().unwrap()), Some(ask));
    let r = fut_order(
        &mut http, "SELL", "IOC", "0.001", "59990.0", "p-2", "RESULT",
    )
    .json();
    assert_eq!(r["status"], "FILLED", "{r}");
    let pnl = bid
        .minus(ask)
        .checked_mul(Dec::parse("0.001").unwrap())
        .unwrap();
    let a = sim.account();
    assert_eq!(a.realized_pnl["usdm:BTCUSDT"], pnl);
    assert!(a.position(Market::UsdM, "BTCUSDT").is_zero());
    // v3 lists only symbols with a position or open orders.
    assert!(
        http.signed("GET", "/fapi/v3/positionRisk", &[])
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    let acct = http.signed("GET", "/fapi/v3/account", &[]).json();
    assert_eq!(
        Dec::parse(acct["totalWalletBalance"].as_str().unwrap()),
        Some(Dec::from_int(1_000_000).plus(pnl)),
        "{acct}"
    );
    let v2 = http.signed("GET", "/fapi/v2/account", &[]);
    assert_eq!(v2.status, 200);
    let bal = http.signed("GET", "/fapi/v3/balance", &[]).json();
    assert_eq!(bal[0]["asset"], "USDT");
    // A short: the sign shows in positionAmt.
    fut_order(&mut http, "SELL", "IOC", "0.002", "59990.0", "p-3", "ACK");
    assert_eq!(
        sim.account().position(Market::UsdM, "BTCUSDT"),
        Dec::parse("-0.002").unwrap()
    );
    assert_eq!(
        sim.account().position(Market::UsdM, "BTCUSDT").to_i64_e8(),
        -200_000
    );
    sim.stop();
}

#[test]
fn weight_limit_429_then_418_and_order_count_limit() {
    let s = session(false, 50, 9);
    let mut cfg = SimConfig::synthetic(vec![("s".into(), s.bytes, None)], KEY, SECRET);
    cfg.faults.max_orders_10s = Some(3);
    let sim = VenueSim::start(cfg).unwrap();
    let mut http = Http::new(sim.http_addr());
    for i in 1..=3 {
        let r = spot_order(
            &mut http,
            "BUY",
            "GTC",
            "0.01000",
            "59000.00",
            &format!("c{i}"),
        );
        assert_eq!(
            r.header_exact("X-MBX-ORDER-COUNT-10S"),
            Some(i.to_string().as_str())
        );
    }
    let r = spot_order(&mut http, "BUY", "GTC", "0.01000", "59000.00", "c4");
    assert_eq!((r.status, r.code()), (429, -1015));
    assert_eq!(
        r.json()["msg"],
        "Too many new orders; current limit is 3 orders per 10 SECOND."
    );
    assert!(r.header("Retry-After").is_some());
    // depth limit=5000 weighs 250: 6000 / 250 = 24 requests fit in a minute.
    let mut statuses = Vec::new();
    for _ in 0..26 {
        let r = http.get("/api/v3/depth?symbol=BTCUSDT&limit=5000");
        statuses.push((
            r.status,
            r.header("Retry-After").is_some(),
            r.header_exact("X-MBX-USED-WEIGHT-1M").map(str::to_string),
        ));
    }
    // (503 while unsynced, weight still counted.)
    let first_429 = statuses.iter().position(|s| s.0 == 429).expect("a 429");
    assert!(statuses[first_429].1, "429 carries Retry-After");
    assert_eq!(statuses[first_429 + 1].0, 418, "{statuses:?}");
    assert!(statuses[first_429 + 1].1, "418 carries Retry-After");
    let r = http.get("/api/v3/ping");
    assert_eq!((r.status, r.code()), (418, -1003));
    // Other markets are other hosts on Binance: not banned.
    assert_eq!(http.get("/fapi/v1/ping").status, 200);
    let st = sim.stats();
    assert!(st.weight_429 >= 1 && st.banned_418 >= 2, "{st:?}");
    sim.stop();
}

#[test]
fn fok_gtx_and_the_level_share_limit() {
    let s = session(true, 300, 5);
    let mut cfg = SimConfig::synthetic(vec![("s".into(), s.bytes, None)], KEY, SECRET);
    cfg.max_take_pct = 50;
    let sim = VenueSim::start(cfg).unwrap();
    let mut http = Http::new(sim.http_addr());
    let _w = finish_replay(&sim);
    let d = http.get("/fapi/v1/depth?symbol=BTCUSDT&limit=1").json();
    let ask = d["asks"][0][0].as_str().unwrap().to_string();
    let ask_q = Dec::parse(d["asks"][0][1].as_str().unwrap()).unwrap();
    let half = ask_q
        .checked_div(Dec::from_int(2))
        .unwrap()
        .floor_to(Dec::parse("0.001").unwrap());
    assert!(half.is_positive(), "level {ask_q}");
    // IOC at the best ask for more than the level: half of it, then EXPIRED.
    let r = fut_order(&mut http, "BUY", "IOC", "9.000", &ask, "s-1", "RESULT").json();
    assert_eq!(r["status"], "EXPIRED", "{r}");
    assert_eq!(Dec::parse(r["executedQty"].as_str().unwrap()), Some(half));
    // FOK that cannot fill completely: EXPIRED without fills.
    let r = fut_order(&mut http, "BUY", "FOK", "9.000", &ask, "s-2", "RESULT").json();
    assert_eq!(
        (r["status"].as_str(), r["executedQty"].as_str()),
        (Some("EXPIRED"), Some("0.000")),
        "{r}"
    );
    // GTX (post only) that would take: EXPIRED.
    let r = fut_order(&mut http, "BUY", "GTX", "0.001", &ask, "s-3", "RESULT").json();
    assert_eq!(
        (r["status"].as_str(), r["executedQty"].as_str()),
        (Some("EXPIRED"), Some("0.000")),
        "{r}"
    );
    // GTX that rests: NEW.
    let r = fut_order(&mut http, "BUY", "GTX", "0.001", "59000.0", "s-4", "RESULT").json();
    assert_eq!(r["status"], "NEW");
    assert_eq!(sim.account().fills, 1);
    sim.stop();
}
