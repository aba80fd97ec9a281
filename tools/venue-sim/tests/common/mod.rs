//! Test client written from Binance's documentation (std TCP HTTP/1.1
//! keep-alive, tungstenite, hmac + sha2) and a synthetic capture generator.

#![allow(dead_code, missing_docs)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

pub(crate) const KEY: &str = "sim-test-key-0123456789";
pub(crate) const SECRET: &str = "sim-test-secret-abcdefghijklmnop";

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

pub(crate) fn hmac_hex(secret: &str, payload: &[u8]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    m.update(payload);
    m.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn enc(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

pub(crate) fn query(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[derive(Debug)]
pub(crate) struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub(crate) fn header(&self, n: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
    }
    pub(crate) fn header_exact(&self, n: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    }
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
    pub(crate) fn code(&self) -> i64 {
        self.json()["code"].as_i64().unwrap_or(0)
    }
}

/// A keep-alive HTTP/1.1 client.
pub(crate) struct Http {
    addr: SocketAddr,
    conn: Option<TcpStream>,
    pub timeout: Duration,
    pub connects: u32,
}

impl Http {
    pub(crate) fn new(addr: SocketAddr) -> Http {
        Http {
            addr,
            conn: None,
            timeout: Duration::from_secs(10),
            connects: 0,
        }
    }

    fn read_resp(s: &mut TcpStream) -> std::io::Result<Resp> {
        let mut buf = Vec::new();
        let mut tmp = [0u8; 65536];
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_string();
                let mut lines = head.split("\r\n");
                let status: u16 = lines
                    .next()
                    .unwrap_or("")
                    .split(' ')
                    .nth(1)
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0);
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| {
                        l.split_once(':')
                            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    })
                    .collect();
                let len: usize = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                while buf.len() < end + 4 + len {
                    let n = s.read(&mut tmp)?;
                    if n == 0 {
                        return Err(std::io::ErrorKind::UnexpectedEof.into());
                    }
                    buf.extend_from_slice(&tmp[..n]);
                }
                let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string();
                return Ok(Resp {
                    status,
                    headers,
                    body,
                });
            }
            let n = s.read(&mut tmp)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            buf.extend_from_slice(&tmp[..n]);
        }
    }

    pub(crate) fn try_send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> std::io::Result<Resp> {
        let mut req = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        if !body.is_empty() {
            req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        }
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        for attempt in 0..2 {
            if self.conn.is_none() {
                let s = TcpStream::connect(self.addr)?;
                s.set_read_timeout(Some(self.timeout))?;
                s.set_nodelay(true)?;
                self.conn = Some(s);
                self.connects += 1;
            }
            let s = self.conn.as_mut().unwrap();
            s.set_read_timeout(Some(self.timeout))?;
            let r = s
                .write_all(req.as_bytes())
                .and_then(|()| Http::read_resp(s));
            match r {
                Ok(resp) => {
                    if resp
                        .header("connection")
                        .is_some_and(|c| c.eq_ignore_ascii_case("close"))
                    {
                        self.conn = None;
                    }
                    return Ok(resp);
                }
                Err(e)
                    if attempt == 0
                        && matches!(
                            e.kind(),
                            std::io::ErrorKind::UnexpectedEof
                                | std::io::ErrorKind::ConnectionReset
                                | std::io::ErrorKind::BrokenPipe
                        ) =>
                {
                    self.conn = None;
                }
                Err(e) => {
                    self.conn = None;
                    return Err(e);
                }
            }
        }
        Err(std::io::ErrorKind::UnexpectedEof.into())
    }

    pub(crate) fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Resp {
        self.try_send(method, target, headers, body)
            .unwrap_or_else(|e| panic!("{method} {target}: {e}"))
    }

    pub(crate) fn get(&mut self, target: &str) -> Resp {
        self.send("GET", target, &[], "")
    }

    /// A SIGNED request the documented way: params percent-encoded in the
    /// query string, `timestamp` added, HMAC over the encoded query.
    pub(crate) fn signed(&mut self, method: &str, path: &str, params: &[(&str, &str)]) -> Resp {
        let ts = now_ms().to_string();
        let mut p: Vec<(&str, &str)> = params.to_vec();
        p.push(("timestamp", &ts));
        let q = query(&p);
        let sig = hmac_hex(SECRET, q.as_bytes());
        self.send(
            method,
            &format!("{path}?{q}&signature={sig}"),
            &[("X-MBX-APIKEY", KEY)],
            "",
        )
    }

    /// Like [`Http::signed`] with the params in a form body.
    pub(crate) fn signed_body(
        &mut self,
        method: &str,
        path: &str,
        params: &[(&str, &str)],
    ) -> Resp {
        let ts = now_ms().to_string();
        let mut p: Vec<(&str, &str)> = params.to_vec();
        p.push(("timestamp", &ts));
        let q = query(&p);
        let sig = hmac_hex(SECRET, q.as_bytes());
        self.send(
            method,
            path,
            &[("X-MBX-APIKEY", KEY)],
            &format!("{q}&signature={sig}"),
        )
    }

    /// Polls a GET until it answers 200 or the deadline passes.
    pub(crate) fn get_until_ok(&mut self, target: &str, within: Duration) -> Resp {
        let deadline = Instant::now() + within;
        loop {
            let r = self.get(target);
            if r.status == 200 || Instant::now() > deadline {
                return r;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

pub(crate) type Ws = WebSocket<MaybeTlsStream<TcpStream>>;

pub(crate) fn ws_try(addr: SocketAddr, path: &str) -> Result<Ws, tungstenite::Error> {
    let (ws, _) = tungstenite::connect(format!("ws://{addr}{path}"))?;
    if let MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    }
    Ok(ws)
}

pub(crate) fn ws(addr: SocketAddr, path: &str) -> Ws {
    ws_try(addr, path).unwrap_or_else(|e| panic!("connect {path}: {e}"))
}

/// What one read gave.
#[derive(Debug, PartialEq)]
pub(crate) enum Got {
    Text(String),
    Pong,
    Ping,
    Nothing,
    Closed,
}

pub(crate) fn read_one(ws: &mut Ws) -> Got {
    match ws.read() {
        Ok(Message::Text(t)) => Got::Text(t.to_string()),
        Ok(Message::Pong(_)) => Got::Pong,
        Ok(Message::Ping(_)) => Got::Ping,
        Ok(Message::Close(_)) => Got::Closed,
        Ok(_) => Got::Nothing,
        Err(tungstenite::Error::Io(e))
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Got::Nothing
        }
        Err(_) => Got::Closed,
    }
}

/// The next text frame before `deadline` (`None` at the deadline or close).
pub(crate) fn next_text(ws: &mut Ws, deadline: Instant) -> Option<String> {
    while Instant::now() < deadline {
        match read_one(ws) {
            Got::Text(t) => return Some(t),
            Got::Closed => return None,
            _ => {}
        }
    }
    None
}

/// Reads until `pred` accepts a JSON text frame (returned) or the deadline.
pub(crate) fn wait_json(
    ws: &mut Ws,
    within: Duration,
    mut pred: impl FnMut(&Value) -> bool,
) -> Option<Value> {
    let deadline = Instant::now() + within;
    while let Some(t) = next_text(ws, deadline) {
        if let Ok(v) = serde_json::from_str::<Value>(&t)
            && pred(&v)
        {
            return Some(v);
        }
    }
    None
}

pub(crate) fn send_text(ws: &mut Ws, t: &str) {
    ws.send(Message::Text(t.to_string().into())).expect("send");
}

/// Polls `f` until it is true or the deadline passes.
pub(crate) fn eventually(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    f()
}

// ----- synthetic sessions -------------------------------------------------------

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A generated capture.
pub(crate) struct Session {
    pub bytes: Vec<u8>,
    /// Tickers emitted.
    pub tickers: usize,
    /// Diffs emitted.
    pub diffs: usize,
    /// Trades emitted.
    pub trades: usize,
    /// `lastUpdateId` of the snapshot line.
    pub snapshot_id: u64,
    /// `u` of every diff in order.
    pub diff_us: Vec<u64>,
    /// Every JSON line in order (for byte-exact checks).
    pub lines: Vec<String>,
}

/// A spot (`futures == false`) or USD-M session of `n` diffs after the
/// snapshot for BTCUSDT around 60000. Prices stay put (best bid 59999.xx /
/// 60000.00, best ask from 60000.01 (spot) / 60000.1 (futures)) so order
/// tests know what is marketable. Five diffs come before the snapshot line;
/// the snapshot is the book after the third (its id is that diff's `u`).
pub(crate) fn session(futures: bool, n: usize, seed: u64) -> Session {
    let mut rng = Rng(seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    // Price in ticks: spot tick 0.01, futures 0.1. Quantity units: 1e-5 / 1e-3.
    let (ticks_per_unit, mid): (i64, i64) = if futures {
        (10, 600_000)
    } else {
        (100, 6_000_000)
    };
    let fmt_p = |t: i64| -> String {
        if futures {
            format!("{}.{}0", t / ticks_per_unit, t % ticks_per_unit)
        } else {
            format!("{}.{:02}000000", t / ticks_per_unit, t % ticks_per_unit)
        }
    };
    let fmt_q = |q: i64| -> String {
        if futures {
            format!("{}.{:03}", q / 1000, q % 1000)
        } else {
            format!("{}.{:05}000", q / 100_000, q % 100_000)
        }
    };
    let mut bids: BTreeMap<i64, i64> = BTreeMap::new();
    let mut asks: BTreeMap<i64, i64> = BTreeMap::new();
    for i in 0..40 {
        bids.insert(mid - i, 1 + rng.below(5000) as i64);
        asks.insert(mid + 1 + i, 1 + rng.below(5000) as i64);
    }
    let mut lines: Vec<String> = Vec::new();
    let mut t_ns: u64 = 1_723_161_254_000_000_000;
    let mut id: u64 = 7_000_000;
    let mut prev_u: u64 = id - 1;
    let mut trade_id = 1u64;
    let mut tickers = 0;
    let mut trades = 0;
    let mut diffs = 0;
    let mut diff_us = Vec::new();
    let (depth_stream, sym) = if futures {
        ("btcusdt@depth@0ms", "BTCUSDT")
    } else {
        ("btcusdt@depth@100ms", "BTCUSDT")
    };
    let mut snapshot: Option<String> = None;
    let mut snapshot_id = 0;
    let total = n + 5;
    for k in 0..total {
        // One diff: 1-3 level changes near the top.
        let first = prev_u + 1;
        let last = first + rng.below(4);
        let mut b = Vec::new();
        let mut a = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let depth = rng.below(8) as i64;
            let zero = rng.below(4) == 0;
            let q = if zero { 0 } else { 1 + rng.below(5000) as i64 };
            if rng.below(2) == 0 {
                let p = mid - depth;
                // Keep at least 20 bids so the top never empties.
                if q == 0 && bids.len() < 20 {
                    continue;
                }
                if q == 0 {
                    bids.remove(&p)
                } else {
                    bids.insert(p, q)
                };
                b.push(format!("[\"{}\",\"{}\"]", fmt_p(p), fmt_q(q)));
            } else {
                let p = mid + 1 + depth;
                if q == 0 && asks.len() < 20 {
                    continue;
                }
                if q == 0 {
                    asks.remove(&p)
                } else {
                    asks.insert(p, q)
                };
                a.push(format!("[\"{}\",\"{}\"]", fmt_p(p), fmt_q(q)));
            }
        }
        t_ns += 1_000_000;
        let e_ms = t_ns / 1_000_000;
        let data = if futures {
            format!(
                "{{\"e\":\"depthUpdate\",\"E\":{e_ms},\"T\":{},\"s\":\"{sym}\",\"U\":{first},\"u\":{last},\"pu\":{prev_u},\"b\":[{}],\"a\":[{}]}}",
                e_ms - 1,
                b.join(","),
                a.join(",")
            )
        } else {
            format!(
                "{{\"e\":\"depthUpdate\",\"E\":{e_ms},\"s\":\"{sym}\",\"U\":{first},\"u\":{last},\"b\":[{}],\"a\":[{}]}}",
                b.join(","),
                a.join(",")
            )
        };
        lines.push(format!("{{\"stream\":\"{depth_stream}\",\"data\":{data}}}"));
        diffs += 1;
        diff_us.push(last);
        prev_u = last;
        id = last;
        let (bb, bq) = bids.iter().next_back().map(|(p, q)| (*p, *q)).unwrap();
        let (ba, aq) = asks.iter().next().map(|(p, q)| (*p, *q)).unwrap();
        if k == 2 {
            // The REST snapshot (written out after the fifth diff).
            let levels = |m: &BTreeMap<i64, i64>, rev: bool| -> String {
                let v: Vec<String> = if rev {
                    m.iter()
                        .rev()
                        .map(|(p, q)| format!("[\"{}\",\"{}\"]", fmt_p(*p), fmt_q(*q)))
                        .collect()
                } else {
                    m.iter()
                        .map(|(p, q)| format!("[\"{}\",\"{}\"]", fmt_p(*p), fmt_q(*q)))
                        .collect()
                };
                v.join(",")
            };
            snapshot_id = last;
            snapshot = Some(if futures {
                format!(
                    "{{\"lastUpdateId\":{last},\"E\":{e_ms},\"T\":{e_ms},\"bids\":[{}],\"asks\":[{}]}}",
                    levels(&bids, true),
                    levels(&asks, false)
                )
            } else {
                format!(
                    "{{\"lastUpdateId\":{last},\"bids\":[{}],\"asks\":[{}]}}",
                    levels(&bids, true),
                    levels(&asks, false)
                )
            });
        }
        if k == 4 {
            lines.push(snapshot.take().unwrap());
        }
        // A bookTicker of this book (u = the diff's u).
        let bt = if futures {
            format!(
                "{{\"e\":\"bookTicker\",\"u\":{last},\"s\":\"{sym}\",\"b\":\"{}\",\"B\":\"{}\",\"a\":\"{}\",\"A\":\"{}\",\"T\":{e_ms},\"E\":{e_ms}}}",
                fmt_p(bb),
                fmt_q(bq),
                fmt_p(ba),
                fmt_q(aq)
            )
        } else {
            format!(
                "{{\"u\":{last},\"s\":\"{sym}\",\"b\":\"{}\",\"B\":\"{}\",\"a\":\"{}\",\"A\":\"{}\"}}",
                fmt_p(bb),
                fmt_q(bq),
                fmt_p(ba),
                fmt_q(aq)
            )
        };
        lines.push(format!(
            "{{\"stream\":\"btcusdt@bookTicker\",\"data\":{bt}}}"
        ));
        tickers += 1;
        if k % 3 == 0 {
            // A trade at the bid or the ask, and its aggTrade.
            let (p, buyer_maker) = if rng.below(2) == 0 {
                (bb, true)
            } else {
                (ba, false)
            };
            let q = 1 + rng.below(3000) as i64;
            let tr = if futures {
                format!(
                    "{{\"e\":\"trade\",\"E\":{e_ms},\"T\":{e_ms},\"s\":\"{sym}\",\"t\":{trade_id},\"p\":\"{}\",\"q\":\"{}\",\"X\":\"MARKET\",\"m\":{buyer_maker}}}",
                    fmt_p(p),
                    fmt_q(q)
                )
            } else {
                format!(
                    "{{\"e\":\"trade\",\"E\":{e_ms},\"s\":\"{sym}\",\"t\":{trade_id},\"p\":\"{}\",\"q\":\"{}\",\"T\":{e_ms},\"m\":{buyer_maker},\"M\":true}}",
                    fmt_p(p),
                    fmt_q(q)
                )
            };
            lines.push(format!("{{\"stream\":\"btcusdt@trade\",\"data\":{tr}}}"));
            let ag = format!(
                "{{\"e\":\"aggTrade\",\"E\":{e_ms},\"s\":\"{sym}\",\"a\":{trade_id},\"p\":\"{}\",\"q\":\"{}\",\"f\":{trade_id},\"l\":{trade_id},\"T\":{e_ms},\"m\":{buyer_maker}}}",
                fmt_p(p),
                fmt_q(q)
            );
            lines.push(format!("{{\"stream\":\"btcusdt@aggTrade\",\"data\":{ag}}}"));
            if futures {
                let mp = format!(
                    "{{\"e\":\"markPriceUpdate\",\"E\":{e_ms},\"s\":\"{sym}\",\"p\":\"{}\",\"i\":\"{}\",\"P\":\"{}\",\"r\":\"0.00010000\",\"T\":{e_ms}}}",
                    fmt_p(bb),
                    fmt_p(bb),
                    fmt_p(bb)
                );
                lines.push(format!(
                    "{{\"stream\":\"btcusdt@markPrice\",\"data\":{mp}}}"
                ));
            }
            trade_id += 1;
            trades += 1;
        }
    }
    let _ = id;
    let mut bytes = Vec::new();
    let mut t = 1_723_161_254_000_000_000u64;
    for l in &lines {
        t += 100_000;
        bytes.extend_from_slice(format!("{t} {l}\n").as_bytes());
    }
    Session {
        bytes,
        tickers,
        diffs,
        trades,
        snapshot_id,
        diff_us,
        lines,
    }
}

// ----- a local book kept by the published rules ----------------------------------

/// A client-side book: Binance's "manage a local order book" procedure.
#[derive(Default)]
pub(crate) struct LocalBook {
    pub futures: bool,
    pub bids: BTreeMap<i128, (String, String)>,
    pub asks: BTreeMap<i128, (String, String)>,
    pub last: u64,
    pub synced: bool,
    /// Top `(b, B, a, A)` right after each applied diff, by `u`.
    pub tops: BTreeMap<u64, (String, String, String, String)>,
    pub applied: u64,
    /// `u` of the first diff applied after the snapshot.
    pub first_applied: Option<(u64, u64)>,
}

pub(crate) fn px_key(s: &str) -> i128 {
    let (i, f) = s.split_once('.').unwrap_or((s, ""));
    let mut f = f.to_string();
    while f.len() < 12 {
        f.push('0');
    }
    i.parse::<i128>().unwrap() * 1_000_000_000_000 + f[..12].parse::<i128>().unwrap()
}

fn is_zero(q: &str) -> bool {
    q.bytes().all(|b| b == b'0' || b == b'.')
}

impl LocalBook {
    pub(crate) fn load(&mut self, snap: &Value) {
        self.bids.clear();
        self.asks.clear();
        for (side, m) in [("bids", &mut self.bids), ("asks", &mut self.asks)] {
            for l in snap[side].as_array().unwrap() {
                let p = l[0].as_str().unwrap().to_string();
                let q = l[1].as_str().unwrap().to_string();
                m.insert(px_key(&p), (p, q));
            }
        }
        self.last = snap["lastUpdateId"].as_u64().unwrap();
        self.synced = false;
    }

    fn set(&mut self, d: &Value) {
        for (side, m) in [("b", &mut self.bids), ("a", &mut self.asks)] {
            for l in d[side].as_array().unwrap() {
                let p = l[0].as_str().unwrap().to_string();
                let q = l[1].as_str().unwrap().to_string();
                if is_zero(&q) {
                    m.remove(&px_key(&p));
                } else {
                    m.insert(px_key(&p), (p, q));
                }
            }
        }
    }

    /// Applies a diff by the market's rules; `Err` on a gap.
    pub(crate) fn on_diff(&mut self, d: &Value) -> Result<bool, String> {
        let (uu, u) = (d["U"].as_u64().unwrap(), d["u"].as_u64().unwrap());
        if !self.synced {
            let (old, bridges) = if self.futures {
                (u < self.last, uu <= self.last && self.last <= u)
            } else {
                (u <= self.last, uu <= self.last + 1 && self.last < u)
            };
            if old {
                return Ok(false);
            }
            if !bridges {
                return Err(format!("cannot bridge: U={uu} u={u} last={}", self.last));
            }
            self.synced = true;
            self.first_applied = Some((uu, u));
        } else if self.futures {
            let pu = d["pu"].as_u64().unwrap();
            if pu != self.last {
                return Err(format!("gap: pu={pu} last={}", self.last));
            }
        } else {
            if u <= self.last {
                return Ok(false);
            }
            if uu != self.last + 1 {
                return Err(format!("gap: U={uu} last={}", self.last));
            }
        }
        self.set(d);
        self.last = u;
        self.applied += 1;
        if let (Some((_, b)), Some((_, a))) =
            (self.bids.iter().next_back(), self.asks.iter().next())
        {
            self.tops
                .insert(u, (b.0.clone(), b.1.clone(), a.0.clone(), a.1.clone()));
        }
        Ok(true)
    }
}

/// Result of [`sync_and_check`].
#[derive(Debug, Default)]
pub(crate) struct SyncReport {
    pub depth_last_update_id: u64,
    pub first_applied: Option<(u64, u64)>,
    pub applied: u64,
    pub tickers: u64,
    pub checked: u64,
    pub mismatches: Vec<String>,
    pub best: Option<(String, String)>,
    pub levels: (usize, usize),
}

/// Connects to `ws_path` (combined stream of depth + bookTicker), fetches
/// `depth_path` as the docs say, keeps a local book until `idle` passes
/// without a frame (or `max` elapses), and checks every bookTicker whose
/// `u` matches an applied diff.
pub(crate) fn sync_and_check(
    http: &mut Http,
    ws_addr: SocketAddr,
    ws_path: &str,
    depth_path: &str,
    futures: bool,
    idle: Duration,
    max: Duration,
) -> SyncReport {
    let mut ws = ws(ws_addr, ws_path);
    let mut book = LocalBook {
        futures,
        ..LocalBook::default()
    };
    let mut tickers: Vec<Value> = Vec::new();
    let mut rep = SyncReport::default();
    // Depth is fetched right away (503 until the venue's book is synced).
    let snap = http.get_until_ok(depth_path, Duration::from_secs(20));
    assert_eq!(snap.status, 200, "depth never answered: {}", snap.body);
    let snap = snap.json();
    rep.depth_last_update_id = snap["lastUpdateId"].as_u64().unwrap();
    book.load(&snap);
    let start = Instant::now();
    let mut last_frame = Instant::now();
    loop {
        if start.elapsed() > max || last_frame.elapsed() > idle {
            break;
        }
        let Got::Text(t) = read_one(&mut ws) else {
            continue;
        };
        last_frame = Instant::now();
        let v: Value = serde_json::from_str(&t).unwrap();
        let stream = v["stream"].as_str().unwrap_or("").to_string();
        let data = v["data"].clone();
        if stream.contains("@depth") {
            if let Err(e) = book.on_diff(&data) {
                panic!("{e}");
            }
        } else if stream.ends_with("@bookTicker") {
            tickers.push(data);
        }
    }
    rep.tickers = tickers.len() as u64;
    for t in &tickers {
        let u = t["u"].as_u64().unwrap();
        if let Some(top) = book.tops.get(&u) {
            rep.checked += 1;
            let got = (
                t["b"].as_str().unwrap().to_string(),
                t["B"].as_str().unwrap().to_string(),
                t["a"].as_str().unwrap().to_string(),
                t["A"].as_str().unwrap().to_string(),
            );
            if &got != top {
                rep.mismatches
                    .push(format!("u={u}: ticker {got:?} book {top:?}"));
            }
        }
    }
    rep.first_applied = book.first_applied;
    rep.applied = book.applied;
    rep.best = match (book.bids.iter().next_back(), book.asks.iter().next()) {
        (Some((_, b)), Some((_, a))) => Some((b.0.clone(), a.0.clone())),
        _ => None,
    };
    rep.levels = (book.bids.len(), book.asks.len());
    rep
}

/// Prepends a frame `gap` before the session so that, at recorded pace,
/// several connections can join before the first real frame.
pub(crate) fn delayed(bytes: &[u8], gap: Duration) -> Vec<u8> {
    let first: u64 = std::str::from_utf8(bytes)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut out = format!(
        "{} {{\"e\":\"sim-test-start\"}}\n",
        first - gap.as_nanos() as u64
    )
    .into_bytes();
    out.extend_from_slice(bytes);
    out
}
