//! User-data streams: listen keys, `executionReport` events and the
//! WebSocket connection that carries them.

use std::collections::HashMap;
use std::net::TcpStream;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use async_tungstenite::tungstenite::{Message, WebSocket};

use super::engine::{Fill, OrderRec};
use super::{Shared, lock};
use tickwire_core::orders::TimeInForce;
use tickwire_core::types::{Px, Qty, Side};

/// Listen keys and the connections subscribed to them.
#[derive(Default)]
pub(crate) struct UserHub {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    keys: HashMap<String, Vec<Sender<String>>>,
    next: u64,
}

impl UserHub {
    /// Creates (or, as Binance does, returns the existing) listen key.
    pub(crate) fn create(&self) -> String {
        let mut g = lock(&self.inner);
        if let Some(k) = g.keys.keys().next() {
            return k.clone();
        }
        g.next += 1;
        let key = format!("simlistenkey{:052x}", g.next);
        g.keys.insert(key.clone(), Vec::new());
        key
    }

    /// True if `key` is a live listen key.
    pub(crate) fn known(&self, key: &str) -> bool {
        lock(&self.inner).keys.contains_key(key)
    }

    /// Closes a listen key.
    pub(crate) fn delete(&self, key: &str) -> bool {
        lock(&self.inner).keys.remove(key).is_some()
    }

    fn subscribe(&self, key: &str) -> Option<Receiver<String>> {
        let (tx, rx) = std::sync::mpsc::channel();
        lock(&self.inner).keys.get_mut(key)?.push(tx);
        Some(rx)
    }

    /// Sends events to every subscriber, forgetting closed ones.
    pub(crate) fn push(&self, events: &[String]) {
        if events.is_empty() {
            return;
        }
        let mut g = lock(&self.inner);
        for subs in g.keys.values_mut() {
            subs.retain(|tx| events.iter().all(|e| tx.send(e.clone()).is_ok()));
        }
    }
}

/// Serves one user-data connection.
pub(crate) fn serve(shared: &Shared, mut ws: WebSocket<TcpStream>, key: &str) {
    shared.stat(|s| s.user_connections += 1);
    let Some(rx) = shared.users.subscribe(key) else {
        // Closing a connection nobody may use; errors change nothing.
        let _ = ws.close(None);
        return;
    };
    while !shared.stopping() {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(ev) => {
                if ws.send(Message::text(ev)).is_err() {
                    return;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        if !super::feed::poll_control(&mut ws) {
            return;
        }
    }
}

/// One `executionReport` event in Binance's field names.
pub(crate) fn execution_report(rec: &OrderRec, exec: &str, fill: Option<Fill>) -> String {
    let v = &rec.view;
    let side = match v.side {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    };
    let tif = match rec.tif {
        TimeInForce::Gtc => "GTC",
        TimeInForce::Ioc => "IOC",
    };
    let (l, lp, t) = fill.map_or((Qty(0), Px(0), -1i64), |f| {
        (f.qty, f.px, i64::try_from(f.trade_id).unwrap_or(i64::MAX))
    });
    let now = super::now_ms();
    serde_json::json!({
        "e": "executionReport",
        "E": now,
        "s": v.symbol,
        "c": rec.client_id,
        "S": side,
        "o": "LIMIT",
        "f": tif,
        "q": v.orig_qty.to_string(),
        "p": v.price.to_string(),
        "x": exec,
        "X": v.status.name(),
        "r": "NONE",
        "i": v.order_id,
        "l": l.to_string(),
        "z": v.executed_qty.to_string(),
        "L": lp.to_string(),
        "n": "0",
        "N": null,
        "T": rec.update_ms,
        "t": t,
        "O": rec.time_ms,
        "Z": rec.cum_quote_qty().to_string(),
    })
    .to_string()
}
