//! WebSocket listener: accepts connections, routes each by its request
//! path to a market-data or user-data connection thread.

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use async_tungstenite::tungstenite;
use async_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};

use super::Shared;
use tickwire_core::types::Market;

/// What a connection asked for.
enum Route {
    Market(Market, Vec<(String, String)>),
    User(String),
}

/// Accepts until the simulator stops.
pub(crate) fn run_accept(shared: &Arc<Shared>, listener: &TcpListener) {
    for stream in listener.incoming() {
        if shared.stopping() {
            return;
        }
        let Ok(stream) = stream else { continue };
        let s = shared.clone();
        // A failed spawn only loses this connection.
        let _ = shared.spawn("venue-ws-conn", move || connection(&s, stream));
    }
}

// tungstenite's handshake callback type fixes the error type's size.
#[allow(clippy::result_large_err)]
fn connection(shared: &Shared, stream: TcpStream) {
    // Bounded handshake and writes: a client that stops reading is dropped.
    if stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .and_then(|()| stream.set_write_timeout(Some(Duration::from_secs(10))))
        .and_then(|()| stream.set_nodelay(true))
        .is_err()
    {
        return;
    }
    let mut route = None;
    let cb = |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        match parse_route(shared, req.uri().path(), req.uri().query().unwrap_or("")) {
            Some(r) => {
                route = Some(r);
                Ok(resp)
            }
            None => {
                let mut e = ErrorResponse::new(Some("unknown stream path".into()));
                *e.status_mut() = tungstenite::http::StatusCode::NOT_FOUND;
                Err(e)
            }
        }
    };
    let Ok(ws) = tungstenite::accept_hdr(stream, cb) else {
        return;
    };
    match route {
        Some(Route::Market(m, streams)) => super::feed::serve(shared, ws, m, streams),
        Some(Route::User(key)) => super::userdata::serve(shared, ws, &key),
        None => {}
    }
}

/// The market of an unprefixed `/stream`: spot, unless the capture holds
/// only futures instruments of one market (one simulator per venue host,
/// as with Binance's separate spot and futures stream hosts).
fn default_market(shared: &Shared) -> Market {
    let eng = super::lock(&shared.engine);
    let mut markets = eng.insts.iter().map(|i| i.market);
    match markets.next() {
        Some(first) if first != Market::Spot && markets.all(|m| m == first) => first,
        _ => Market::Spot,
    }
}

fn parse_route(shared: &Shared, path: &str, query: &str) -> Option<Route> {
    let (market, rest) = if let Some(r) = path.strip_prefix("/fapi") {
        (Market::Usdm, r)
    } else if let Some(r) = path.strip_prefix("/dapi") {
        (Market::Coinm, r)
    } else {
        (default_market(shared), path)
    };
    if rest == "/stream" {
        let streams = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("streams="))
            .map(super::feed::parse_streams)
            .unwrap_or_default();
        return Some(Route::Market(market, streams));
    }
    let key = rest.strip_prefix("/ws/")?;
    shared
        .users
        .known(key)
        .then(|| Route::User(key.to_string()))
}
