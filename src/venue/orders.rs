//! Signed order endpoints: new, cancel, query, open orders, cancel all.

use serde_json::{Value, json};
use tiny_http::Method;

use super::auth::{Params, check_signed};
use super::engine::{Engine, NewOrder, OrderRec};
use super::faults::OrderFault;
use super::http::{Answer, ApiError, Req};
use super::{Shared, lock};
use tickwire_core::orders::TimeInForce;
use tickwire_core::types::{Px, Qty, Side, SymbolName, parse_fixed};

/// Seconds a 429 asks the client to wait.
const RETRY_AFTER_S: u32 = 1;

/// Handles `/order` and `/openOrders`.
pub(crate) fn handle(shared: &Shared, r: &Req<'_>) -> Answer {
    let cfg = &shared.cfg;
    let p = match check_signed(
        &cfg.api_key,
        &cfg.api_secret,
        r.api_key,
        r.query,
        r.body,
        super::now_ms(),
    ) {
        Ok(p) => p,
        Err(e) => {
            match e.code {
                -1022 => shared.stat(|s| s.signature_failures += 1),
                -1021 => shared.stat(|s| s.timestamp_failures += 1),
                _ => {}
            }
            return e.into();
        }
    };
    let out = match (r.method, r.endpoint) {
        (Method::Post, "order") => return new_order(shared, r, &p),
        (Method::Delete, "order") => cancel(shared, r, &p),
        (Method::Get, "order") => query(shared, r, &p),
        (Method::Get, "openOrders") => open_orders(shared, r, &p),
        // Futures name cancel-all `allOpenOrders`.
        (Method::Delete, "openOrders" | "allOpenOrders") => cancel_all(shared, r, &p),
        _ => Err(ApiError {
            http: 405,
            code: -1000,
            msg: "Method not allowed.".into(),
            retry_after: None,
        }),
    };
    match out {
        Ok(v) => Answer::Json(200, v.to_string()),
        Err(e) => e.into(),
    }
}

fn instrument(eng: &Engine, r: &Req<'_>, p: &Params) -> Result<usize, ApiError> {
    let sym = p.need("symbol")?.to_ascii_uppercase();
    SymbolName::new(sym.as_bytes())
        .and_then(|n| eng.find(r.market, &n))
        .ok_or_else(|| ApiError::bad(-1121, "Invalid symbol.".into()))
}

fn fixed(p: &Params, key: &str) -> Result<i64, ApiError> {
    let v = parse_fixed(p.need(key)?.as_bytes()).map_err(|_| {
        ApiError::bad(
            -1100,
            format!("Illegal characters found in parameter '{key}'."),
        )
    })?;
    if v <= 0 {
        return Err(ApiError::bad(
            -1013,
            format!("Filter failure: {key} must be greater than zero."),
        ));
    }
    Ok(v)
}

fn parse_new(eng: &Engine, r: &Req<'_>, p: &Params, seq: u64) -> Result<NewOrder, ApiError> {
    let inst = instrument(eng, r, p)?;
    let side = match p.need("side")? {
        "BUY" => Side::Buy,
        "SELL" => Side::Sell,
        _ => return Err(ApiError::bad(-1117, "Invalid side.".into())),
    };
    if p.need("type")? != "LIMIT" {
        return Err(ApiError::bad(-1116, "Invalid orderType.".into()));
    }
    let tif = match p.need("timeInForce")? {
        "GTC" => TimeInForce::Gtc,
        "IOC" => TimeInForce::Ioc,
        _ => return Err(ApiError::bad(-1115, "Invalid timeInForce.".into())),
    };
    let qty = Qty(fixed(p, "quantity")?);
    let px = Px(fixed(p, "price")?);
    let client_id = p
        .get("newClientOrderId")
        .map_or_else(|| format!("sim{seq}"), str::to_string);
    if client_id.len() > 36 {
        return Err(ApiError::bad(
            -1100,
            "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.".into(),
        ));
    }
    Ok(NewOrder {
        inst,
        side,
        tif,
        px,
        qty,
        client_id,
    })
}

fn new_order(shared: &Shared, r: &Req<'_>, p: &Params) -> Answer {
    if let Some(cid) = p.get("newClientOrderId") {
        shared.wire.order_received(cid);
    }
    shared.stat(|s| s.orders_received += 1);
    let seq = lock(&shared.stats).orders_received;
    let mut eng = lock(&shared.engine);
    let o = match parse_new(&eng, r, p, seq) {
        Ok(o) => o,
        Err(e) => return e.into(),
    };
    if eng.orders.contains_key(&o.client_id) {
        shared.stat(|s| s.duplicates_refused += 1);
        return ApiError::bad(-2010, "Duplicate order sent.".into()).into();
    }
    // `seq` counts every authenticated new order once: this fires once.
    if shared.cfg.faults.ban_after_orders == Some(seq) {
        shared.stat(|s| s.order_418 += 1);
        return Answer::Err(ApiError {
            http: 418,
            code: -1003,
            msg: "Way too many requests; IP banned until further notice.".into(),
            retry_after: Some(2),
        });
    }
    let fault = {
        let mut d = lock(&shared.dice);
        let limit = shared.cfg.max_orders_10s;
        if limit > 0 && d.order_count() >= limit {
            drop(d);
            shared.stat(|s| s.order_429 += 1);
            return Answer::Err(ApiError {
                http: 429,
                code: -1015,
                msg: format!(
                    "Too many new orders; current limit is {limit} orders per TEN_SECONDS."
                ),
                retry_after: Some(RETRY_AFTER_S),
            });
        }
        let f = d.roll(&shared.cfg.faults);
        if matches!(f, OrderFault::None | OrderFault::NoAnswer) {
            d.add_order();
        }
        f
    };
    match fault {
        OrderFault::ServerError => {
            shared.stat(|s| s.order_5xx += 1);
            return Answer::Err(ApiError {
                http: 503,
                code: -1001,
                msg: "Internal error; unable to process your request. Please try again.".into(),
                retry_after: None,
            });
        }
        OrderFault::TooMany => {
            shared.stat(|s| s.order_429 += 1);
            return Answer::Err(ApiError {
                http: 429,
                code: -1003,
                msg: "Too many requests; current limit of IP is exceeded; please back off.".into(),
                retry_after: Some(RETRY_AFTER_S),
            });
        }
        OrderFault::NoAnswer | OrderFault::None => {}
    }
    let resp_type = p.get("newOrderRespType").unwrap_or("FULL").to_string();
    let cid = eng.new_order(o);
    let events = std::mem::take(&mut eng.events);
    let body = eng.orders.get(&cid).map(|rec| placed(rec, &resp_type));
    drop(eng);
    shared.users.push(&events);
    if fault == OrderFault::NoAnswer {
        shared.stat(|s| s.order_no_answer += 1);
        return Answer::Hold;
    }
    match body {
        Some(b) => Answer::Json(200, b.to_string()),
        None => Answer::Json(500, "{\"code\":-1000,\"msg\":\"order lost\"}".into()),
    }
}

/// Finds the order named by `origClientOrderId` or `orderId`.
fn find<'e>(
    eng: &'e Engine,
    r: &Req<'_>,
    p: &Params,
    unknown: ApiError,
) -> Result<&'e OrderRec, ApiError> {
    let inst = instrument(eng, r, p)?;
    let rec = if let Some(c) = p.get("origClientOrderId") {
        eng.orders.get(c)
    } else if let Some(id) = p.get("orderId") {
        let id: u64 = id.parse().map_err(|_| {
            ApiError::bad(
                -1100,
                "Illegal characters found in parameter 'orderId'.".into(),
            )
        })?;
        eng.by_id.get(&id).and_then(|c| eng.orders.get(c))
    } else {
        return Err(ApiError::bad(
            -1102,
            "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!".into(),
        ));
    };
    let n = &eng.insts[inst];
    rec.filter(|o| o.view.market == n.market && o.view.symbol == n.name.to_string())
        .ok_or(unknown)
}

fn query(shared: &Shared, r: &Req<'_>, p: &Params) -> Result<Value, ApiError> {
    let eng = lock(&shared.engine);
    let rec = find(
        &eng,
        r,
        p,
        ApiError::bad(-2013, "Order does not exist.".into()),
    )?;
    Ok(order_json(rec))
}

fn unknown_order() -> ApiError {
    ApiError::bad(-2011, "Unknown order sent.".into())
}

fn cancel(shared: &Shared, r: &Req<'_>, p: &Params) -> Result<Value, ApiError> {
    let mut eng = lock(&shared.engine);
    let cid = find(&eng, r, p, unknown_order())?.client_id.clone();
    if !eng.cancel(&cid) {
        return Err(unknown_order());
    }
    let events = std::mem::take(&mut eng.events);
    let v = eng
        .orders
        .get(&cid)
        .map(|rec| cancelled(rec, p))
        .unwrap_or(Value::Null);
    drop(eng);
    shared.users.push(&events);
    Ok(v)
}

fn cancel_all(shared: &Shared, r: &Req<'_>, p: &Params) -> Result<Value, ApiError> {
    let mut eng = lock(&shared.engine);
    let inst = instrument(&eng, r, p)?;
    let ids: Vec<String> = eng
        .open_orders(Some(inst))
        .iter()
        .map(|o| o.client_id.clone())
        .collect();
    if ids.is_empty() {
        return Err(unknown_order());
    }
    let mut out = Vec::new();
    for c in &ids {
        if eng.cancel(c)
            && let Some(rec) = eng.orders.get(c)
        {
            out.push(cancelled(rec, p));
        }
    }
    let events = std::mem::take(&mut eng.events);
    drop(eng);
    shared.users.push(&events);
    Ok(Value::Array(out))
}

fn open_orders(shared: &Shared, r: &Req<'_>, p: &Params) -> Result<Value, ApiError> {
    let eng = lock(&shared.engine);
    let inst = match p.get("symbol") {
        Some(_) => Some(instrument(&eng, r, p)?),
        None => None,
    };
    Ok(Value::Array(
        eng.open_orders(inst).into_iter().map(order_json).collect(),
    ))
}

fn side_name(s: Side) -> &'static str {
    match s {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

fn tif_name(t: TimeInForce) -> &'static str {
    match t {
        TimeInForce::Gtc => "GTC",
        TimeInForce::Ioc => "IOC",
    }
}

/// The common order fields.
fn base(rec: &OrderRec) -> serde_json::Map<String, Value> {
    let v = &rec.view;
    let mut m = serde_json::Map::new();
    m.insert("symbol".into(), json!(v.symbol));
    m.insert("orderId".into(), json!(v.order_id));
    m.insert("orderListId".into(), json!(-1));
    m.insert("clientOrderId".into(), json!(rec.client_id));
    m.insert("price".into(), json!(v.price.to_string()));
    m.insert("origQty".into(), json!(v.orig_qty.to_string()));
    m.insert("executedQty".into(), json!(v.executed_qty.to_string()));
    m.insert(
        "cummulativeQuoteQty".into(),
        json!(rec.cum_quote_qty().to_string()),
    );
    m.insert("status".into(), json!(v.status.name()));
    m.insert("timeInForce".into(), json!(tif_name(rec.tif)));
    m.insert("type".into(), json!("LIMIT"));
    m.insert("side".into(), json!(side_name(v.side)));
    m.insert("selfTradePreventionMode".into(), json!("NONE"));
    m
}

/// Answer to a new order in the requested response type.
fn placed(rec: &OrderRec, resp_type: &str) -> Value {
    if resp_type == "ACK" {
        return json!({
            "symbol": rec.view.symbol,
            "orderId": rec.view.order_id,
            "orderListId": -1,
            "clientOrderId": rec.client_id,
            "transactTime": rec.time_ms,
        });
    }
    let mut m = base(rec);
    m.insert("transactTime".into(), json!(rec.time_ms));
    m.insert("workingTime".into(), json!(rec.time_ms));
    if resp_type != "RESULT" {
        let fills: Vec<Value> = rec
            .fills
            .iter()
            .map(|f| {
                json!({
                    "price": f.px.to_string(),
                    "qty": f.qty.to_string(),
                    "commission": "0",
                    "commissionAsset": "USDT",
                    "tradeId": f.trade_id,
                })
            })
            .collect();
        m.insert("fills".into(), Value::Array(fills));
    }
    Value::Object(m)
}

/// Answer to a query.
fn order_json(rec: &OrderRec) -> Value {
    let mut m = base(rec);
    m.insert("stopPrice".into(), json!("0"));
    m.insert("icebergQty".into(), json!("0"));
    m.insert("time".into(), json!(rec.time_ms));
    m.insert("updateTime".into(), json!(rec.update_ms));
    m.insert("isWorking".into(), json!(true));
    m.insert("workingTime".into(), json!(rec.time_ms));
    m.insert("origQuoteOrderQty".into(), json!("0"));
    Value::Object(m)
}

/// Answer to a cancel.
fn cancelled(rec: &OrderRec, p: &Params) -> Value {
    let mut m = base(rec);
    m.insert("origClientOrderId".into(), json!(rec.client_id));
    let new_id = p
        .get("newClientOrderId")
        .map_or_else(|| format!("cancel{}", rec.view.order_id), str::to_string);
    m.insert("clientOrderId".into(), json!(new_id));
    m.insert("transactTime".into(), json!(super::now_ms()));
    Value::Object(m)
}
