//! The REST server loop: routing, Binance-shaped errors, rate-limit
//! headers, held ("no answer") requests.

use std::io::Read;

use tiny_http::{Header, Method, Request, Response, Server};

use super::{Shared, lock};
use tickwire_core::types::Market;

/// Largest request body read (bytes).
const MAX_BODY: u64 = 64 * 1024;
/// Most requests held unanswered at once; beyond this they are answered.
const MAX_HELD: usize = 1024;

/// A Binance error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) http: u16,
    pub(crate) code: i64,
    pub(crate) msg: String,
    pub(crate) retry_after: Option<u32>,
}

impl ApiError {
    /// A 400 with `code` and `msg`.
    pub(crate) fn bad(code: i64, msg: String) -> ApiError {
        ApiError {
            http: 400,
            code,
            msg,
            retry_after: None,
        }
    }
}

/// What to do with a request.
pub(crate) enum Answer {
    /// Respond with this status and JSON body.
    Json(u16, String),
    /// A Binance error.
    Err(ApiError),
    /// Never answer.
    Hold,
}

impl From<ApiError> for Answer {
    fn from(e: ApiError) -> Answer {
        Answer::Err(e)
    }
}

/// One parsed request, as the handlers see it.
pub(crate) struct Req<'a> {
    pub(crate) method: &'a Method,
    pub(crate) market: Market,
    pub(crate) endpoint: &'a str,
    pub(crate) query: &'a str,
    pub(crate) body: &'a str,
    pub(crate) api_key: Option<&'a str>,
}

/// Serves REST until the simulator stops.
pub(crate) fn run(shared: &Shared, server: &Server) {
    let mut held: Vec<Request> = Vec::new();
    while !shared.stopping() {
        match server.recv() {
            Ok(req) => {
                if shared.stopping() {
                    break;
                }
                handle(shared, req, &mut held);
            }
            // An accept error is not the end of the server.
            Err(_) if !shared.stopping() => {}
            Err(_) => break,
        }
    }
    // Held requests are answered 500 as they drop; their clients gave up.
    drop(held);
}

fn handle(shared: &Shared, mut req: Request, held: &mut Vec<Request>) {
    shared.stat(|s| s.http_requests += 1);
    let mut body = String::new();
    let read = req.as_reader().take(MAX_BODY).read_to_string(&mut body);
    let url = req.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let api_key = req
        .headers()
        .iter()
        .find(|h| h.field.equiv("X-MBX-APIKEY"))
        .map(|h| h.value.as_str().to_string());
    let answer = if read.is_err() {
        Answer::Err(ApiError::bad(
            -1100,
            "Request body is not valid UTF-8.".into(),
        ))
    } else {
        match split_path(path) {
            Some((market, endpoint)) => {
                let r = Req {
                    method: req.method(),
                    market,
                    endpoint,
                    query,
                    body: &body,
                    api_key: api_key.as_deref(),
                };
                route(shared, &r)
            }
            None => Answer::Json(404, "{\"code\":-1000,\"msg\":\"Unknown path.\"}".into()),
        }
    };
    let weight = if path.ends_with("/depth") { 50 } else { 1 };
    let (used, orders) = {
        let mut d = lock(&shared.dice);
        (d.add_weight(weight), d.order_count())
    };
    let (status, text, retry) = match answer {
        Answer::Hold if held.len() < MAX_HELD => {
            held.push(req);
            return;
        }
        Answer::Hold => (
            503,
            "{\"code\":-1001,\"msg\":\"Internal error; unable to process your request. Please try again.\"}".to_string(),
            None,
        ),
        Answer::Json(s, t) => (s, t, None),
        Answer::Err(e) => (
            e.http,
            serde_json::json!({"code": e.code, "msg": e.msg}).to_string(),
            e.retry_after,
        ),
    };
    let mut resp = Response::from_string(text)
        .with_status_code(status)
        .with_header(header("Content-Type", "application/json;charset=UTF-8"))
        .with_header(header("X-MBX-USED-WEIGHT-1M", &used.to_string()))
        .with_header(header("X-MBX-ORDER-COUNT-10S", &orders.to_string()));
    if let Some(r) = retry {
        resp = resp.with_header(header("Retry-After", &r.to_string()));
    }
    // A client that hung up needs no answer.
    let _ = req.respond(resp);
}

fn header(k: &str, v: &str) -> Header {
    Header::from_bytes(k.as_bytes(), v.as_bytes())
        .unwrap_or_else(|()| unreachable!("static header names and ASCII values are valid"))
}

/// `/api/v3/order` -> (Spot, "order"); `/fapi/v1/order` -> (Usdm, "order").
fn split_path(path: &str) -> Option<(Market, &str)> {
    if let Some(e) = path.strip_prefix("/api/v3/") {
        Some((Market::Spot, e))
    } else if let Some(e) = path.strip_prefix("/fapi/v1/") {
        Some((Market::Usdm, e))
    } else {
        path.strip_prefix("/dapi/v1/").map(|e| (Market::Coinm, e))
    }
}

fn route(shared: &Shared, r: &Req<'_>) -> Answer {
    let cfg = &shared.cfg;
    match (r.method, r.endpoint) {
        (Method::Get, "ping") => Answer::Json(200, "{}".into()),
        (Method::Get, "time") => {
            Answer::Json(200, format!("{{\"serverTime\":{}}}", super::now_ms()))
        }
        (Method::Get, "depth") => super::depth::answer(shared, r),
        (m, "userDataStream" | "listenKey") => {
            if let Err(e) = super::auth::check_key(&cfg.api_key, r.api_key) {
                return e.into();
            }
            match m {
                Method::Post => Answer::Json(
                    200,
                    serde_json::json!({"listenKey": shared.users.create()}).to_string(),
                ),
                Method::Put => Answer::Json(200, "{}".into()),
                Method::Delete => {
                    let p = super::auth::Params::parse(r.query, r.body);
                    if let Some(k) = p.get("listenKey") {
                        shared.users.delete(k);
                    }
                    Answer::Json(200, "{}".into())
                }
                _ => Answer::Json(
                    405,
                    "{\"code\":-1000,\"msg\":\"Method not allowed.\"}".into(),
                ),
            }
        }
        (_, "order" | "openOrders" | "allOpenOrders") => super::orders::handle(shared, r),
        _ => Answer::Json(404, "{\"code\":-1000,\"msg\":\"Unknown path.\"}".into()),
    }
}
