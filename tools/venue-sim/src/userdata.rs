//! User data: futures listenKeys (one per market for the single account,
//! valid 60 minutes, `PUT` extends, `DELETE` closes, `POST` on an account
//! with an active key returns it and extends it) and the connections that
//! receive the account's events (spot through WebSocket API subscriptions,
//! futures through listenKey streams).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::engine::{ApiError, UserEvent};
use crate::{Market, Shared, lock, now_ms};

/// Events queued per user connection before it is dropped as too slow.
const USER_QUEUE: usize = 4096;

/// A message for a user-data connection.
#[derive(Clone, Debug)]
pub(crate) enum UserMsg {
    /// Send this text.
    Text(String),
    /// Send this text, then close the connection.
    Last(String),
    /// Close now (key deleted, queue overflow).
    Close,
}

/// Who a user connection is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SubKind {
    /// A spot WebSocket API subscription (`subscriptionId`).
    WsApi(u64),
    /// A futures listenKey stream; `combined` wraps events in `{"stream","data"}`.
    Key { key: String, combined: bool },
}

struct Sub {
    conn: u64,
    market: Market,
    kind: SubKind,
    tx: SyncSender<UserMsg>,
}

struct Key {
    key: String,
    expires: Instant,
    /// Expiry forced by the fault, keep-alives or not.
    hard: Option<Instant>,
}

/// listenKeys and user-data subscriptions.
#[derive(Default)]
pub(crate) struct UserHub {
    keys: Mutex<BTreeMap<Market, Key>>,
    subs: Mutex<Vec<Sub>>,
    next_conn: AtomicU64,
    seq: AtomicU64,
}

/// `-1125`.
fn no_key() -> ApiError {
    ApiError::bad(-1125, "This listenKey does not exist.")
}

impl UserHub {
    fn new_key(&self) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(now_ms() ^ (n << 32) ^ 0x5eed);
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..64)
            .map(|_| A[rng.random_range(0..A.len())] as char)
            .collect()
    }

    /// `POST listenKey`: the active key (extended) or a new one.
    pub(crate) fn create(
        &self,
        market: Market,
        validity: Duration,
        early: Option<Duration>,
    ) -> String {
        let now = Instant::now();
        let mut keys = lock(&self.keys);
        if let Some(k) = keys.get_mut(&market)
            && k.expires > now
            && k.hard.is_none_or(|h| h > now)
        {
            k.expires = now + validity;
            return k.key.clone();
        }
        let key = self.new_key();
        keys.insert(
            market,
            Key {
                key: key.clone(),
                expires: now + validity,
                hard: early.map(|d| now + d),
            },
        );
        key
    }

    /// `PUT listenKey`: extends the active key.
    pub(crate) fn keepalive(
        &self,
        market: Market,
        key: Option<&str>,
        validity: Duration,
    ) -> Result<String, ApiError> {
        let now = Instant::now();
        let mut keys = lock(&self.keys);
        match keys.get_mut(&market) {
            Some(k) if k.expires > now && key.is_none_or(|x| x == k.key) => {
                k.expires = now + validity;
                Ok(k.key.clone())
            }
            _ => Err(no_key()),
        }
    }

    /// `DELETE listenKey`: invalidates the key and closes its streams.
    pub(crate) fn delete(&self, market: Market) {
        let old = lock(&self.keys).remove(&market);
        if let Some(k) = old {
            for s in lock(&self.subs).iter() {
                if s.market == market
                    && matches!(&s.kind, SubKind::Key { key, .. } if *key == k.key)
                {
                    let _ = s.tx.try_send(UserMsg::Close);
                }
            }
        }
    }

    /// The market of an active key.
    pub(crate) fn key_market(&self, key: &str) -> Option<Market> {
        let now = Instant::now();
        lock(&self.keys)
            .iter()
            .find(|(_, k)| k.key == key && k.expires > now)
            .map(|(m, _)| *m)
    }

    /// Registers a user connection's subscription.
    pub(crate) fn add(&self, market: Market, kind: SubKind) -> (u64, Receiver<UserMsg>) {
        let conn = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = std::sync::mpsc::sync_channel(USER_QUEUE);
        lock(&self.subs).push(Sub {
            conn,
            market,
            kind,
            tx,
        });
        (conn, rx)
    }

    /// Adds another subscription to an existing connection (WS API).
    pub(crate) fn add_to(&self, conn: u64, market: Market, kind: SubKind, tx: SyncSender<UserMsg>) {
        lock(&self.subs).push(Sub {
            conn,
            market,
            kind,
            tx,
        });
    }

    /// A fresh connection id (WS API connections own their channel).
    pub(crate) fn conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Removes a connection's subscriptions (all, or one WS-API id).
    pub(crate) fn remove(&self, conn: u64, only: Option<u64>) -> usize {
        let mut subs = lock(&self.subs);
        let before = subs.len();
        subs.retain(|s| !(s.conn == conn && only.is_none_or(|id| s.kind == SubKind::WsApi(id))));
        before - subs.len()
    }

    /// WS-API subscription ids of a connection.
    pub(crate) fn ws_api_ids(&self, conn: u64) -> Vec<u64> {
        lock(&self.subs)
            .iter()
            .filter_map(|s| match s.kind {
                SubKind::WsApi(id) if s.conn == conn => Some(id),
                _ => None,
            })
            .collect()
    }

    /// Sends the account's events to the connections of their market.
    pub(crate) fn push(&self, events: &[UserEvent]) {
        if events.is_empty() {
            return;
        }
        let keys: BTreeMap<Market, String> = lock(&self.keys)
            .iter()
            .map(|(m, k)| (*m, k.key.clone()))
            .collect();
        let mut subs = lock(&self.subs);
        let mut dead = Vec::new();
        for ev in events {
            for s in subs.iter() {
                if s.market != ev.market {
                    continue;
                }
                let text = match &s.kind {
                    SubKind::WsApi(id) => {
                        format!("{{\"subscriptionId\":{id},\"event\":{}}}", ev.json)
                    }
                    SubKind::Key { key, combined } => {
                        if keys.get(&s.market) != Some(key) {
                            continue;
                        }
                        if *combined {
                            format!("{{\"stream\":{},\"data\":{}}}", json!(key), ev.json)
                        } else {
                            ev.json.clone()
                        }
                    }
                };
                match s.tx.try_send(UserMsg::Text(text)) {
                    Ok(()) => {}
                    Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                        dead.push(s.conn)
                    }
                }
            }
        }
        if !dead.is_empty() {
            for s in subs.iter().filter(|s| dead.contains(&s.conn)) {
                let _ = s.tx.try_send(UserMsg::Close);
            }
            subs.retain(|s| !dead.contains(&s.conn));
        }
    }

    /// Expires keys past their time: `listenKeyExpired` to their streams,
    /// then close. Returns `(expired, of which early)`.
    fn expire(&self) -> (u64, u64) {
        let now = Instant::now();
        let mut gone = Vec::new();
        {
            let mut keys = lock(&self.keys);
            keys.retain(|m, k| {
                let hard = k.hard.is_some_and(|h| h <= now);
                if k.expires <= now || hard {
                    gone.push((*m, k.key.clone(), hard && k.expires > now));
                    false
                } else {
                    true
                }
            });
        }
        let mut early = 0;
        for (m, key, e) in &gone {
            early += u64::from(*e);
            // USD-M's documented example writes E as a string, COIN-M's as a number.
            let ev = if *m == Market::UsdM {
                json!({"e": "listenKeyExpired", "E": now_ms().to_string(), "listenKey": key})
            } else {
                json!({"e": "listenKeyExpired", "E": now_ms(), "listenKey": key})
            };
            for s in lock(&self.subs).iter() {
                if let SubKind::Key { key: k, combined } = &s.kind
                    && k == key
                {
                    let text = if *combined {
                        format!("{{\"stream\":{},\"data\":{}}}", json!(key), ev)
                    } else {
                        ev.to_string()
                    };
                    let _ = s.tx.try_send(UserMsg::Last(text));
                }
            }
        }
        (gone.len() as u64, early)
    }
}

/// Expires listenKeys until the simulator stops.
pub(crate) fn run_expiry(shared: &Arc<Shared>) {
    while !shared.stopping() {
        let (n, early) = shared.users.expire();
        if n > 0 {
            shared.stat(|s| {
                s.listen_keys_expired += n;
                s.listen_keys_expired_early += early;
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
