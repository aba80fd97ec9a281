//! Capture sources: the hftbacktest collector text format, one frame per
//! line, `<rx_ns> <raw json>`, gzip or plain, from a file or from memory.
//!
//! Each source's decompressed bytes are held once; frames are slices of
//! them, read with a cursor in file order (no index is built).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Read;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::dec::Dec;
use crate::{Market, SimError};

/// Lines looked at to infer a source's market, symbol and tick/step.
const SCAN_LINES: usize = 20_000;
/// Largest decompressed source accepted (bytes).
const MAX_SOURCE_BYTES: u64 = 8 << 30;

/// One loaded source.
pub(crate) struct Source {
    /// Decompressed text.
    data: Vec<u8>,
    /// Market of every frame of the source.
    pub(crate) market: Market,
    /// First symbol seen (upper case): owner of the source's snapshot lines.
    pub(crate) symbol: Option<String>,
    /// Next byte to read.
    pos: usize,
    /// Lines skipped because they do not have the `<ns> <json>` shape.
    pub(crate) malformed: u64,
}

/// Decimal places seen per symbol while scanning: `(price, quantity)`.
pub(crate) type Digits = BTreeMap<String, (u32, u32)>;

/// Splits `PATH@market` (the suffix is optional).
pub(crate) fn parse_spec(spec: &str) -> Result<(String, Option<Market>), SimError> {
    if let Some((path, m)) = spec.rsplit_once('@') {
        if let Some(market) = Market::parse(m) {
            return Ok((path.to_string(), Some(market)));
        }
        if !m.contains('/') {
            return Err(SimError::Source {
                name: spec.to_string(),
                reason: format!("unknown market {m:?}; use spot, usdm or coinm"),
            });
        }
    }
    Ok((spec.to_string(), None))
}

/// Gunzips `bytes` when they start with the gzip magic.
fn decompress(name: &str, bytes: Vec<u8>) -> Result<Vec<u8>, SimError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .take(MAX_SOURCE_BYTES)
            .read_to_end(&mut out)
            .map_err(|e| SimError::Source {
                name: name.to_string(),
                reason: format!("cannot gunzip: {e}"),
            })?;
        Ok(out)
    } else {
        Ok(bytes)
    }
}

impl Source {
    /// Loads a file (`PATH` or `PATH@market`).
    pub(crate) fn open(spec: &str, digits: &mut Digits) -> Result<Source, SimError> {
        let (path, market) = parse_spec(spec)?;
        let bytes = std::fs::read(&path).map_err(|e| SimError::Source {
            name: path.clone(),
            reason: e.to_string(),
        })?;
        Source::from_bytes(path, bytes, market, digits)
    }

    /// A source from memory (gzip or plain text).
    pub(crate) fn from_bytes(
        name: String,
        bytes: Vec<u8>,
        market: Option<Market>,
        digits: &mut Digits,
    ) -> Result<Source, SimError> {
        let data = decompress(&name, bytes)?;
        let mut src = Source {
            data,
            market: market.unwrap_or(Market::Spot),
            symbol: None,
            pos: 0,
            malformed: 0,
        };
        let inferred = src.scan(digits);
        if market.is_none() {
            src.market = inferred;
        }
        Ok(src)
    }

    /// Looks at the first lines: market (futures diffs carry `pu`, COIN-M
    /// symbols contain `_`), first symbol, decimal places of prices and
    /// quantities.
    fn scan(&mut self, digits: &mut Digits) -> Market {
        let mut futures_diff = None;
        let mut snapshot_et = false;
        let mut pos = 0;
        let mut n = 0;
        while n < SCAN_LINES {
            let Some((_, json, next)) = line_at(&self.data, pos) else {
                break;
            };
            pos = next;
            n += 1;
            let Some(f) = json.and_then(|j| Frame::parse(j, None)) else {
                continue;
            };
            if f.kind == Kind::Snapshot {
                snapshot_et = f.event.get("T").is_some();
            }
            if let Some(sym) = &f.symbol {
                if self.symbol.is_none() {
                    self.symbol = Some(sym.clone());
                }
                if f.kind == Kind::Diff && futures_diff.is_none() {
                    futures_diff = Some((f.event.get("pu").is_some(), sym.contains('_')));
                }
            }
            let sym = f.symbol.clone().or_else(|| self.symbol.clone());
            if let (Some(sym), Kind::Snapshot | Kind::Diff) = (sym, f.kind) {
                let d = digits.entry(sym).or_insert((0, 0));
                for side in ["bids", "asks", "b", "a"] {
                    for (p, q) in levels(&f.event, side) {
                        if let (Some(p), Some(q)) = (Dec::parse(&p), Dec::parse(&q)) {
                            d.0 = d.0.max(p.scale_digits());
                            d.1 = d.1.max(q.scale_digits());
                        }
                    }
                }
            }
        }
        let coin = self.symbol.as_deref().is_some_and(|s| s.contains('_'));
        match futures_diff {
            Some((true, c)) => {
                if c || coin {
                    Market::CoinM
                } else {
                    Market::UsdM
                }
            }
            Some((false, _)) => Market::Spot,
            None if snapshot_et && coin => Market::CoinM,
            None if snapshot_et => Market::UsdM,
            None => Market::Spot,
        }
    }

    /// Receive time of the next frame, without consuming it.
    pub(crate) fn peek_ns(&mut self) -> Option<u64> {
        loop {
            let (ns, json, next) = line_at(&self.data, self.pos)?;
            match (ns, json) {
                (Some(ns), Some(_)) => return Some(ns),
                _ => {
                    // Blank or malformed line: skip it for good.
                    if next > self.pos + 1 {
                        self.malformed += 1;
                    }
                    self.pos = next;
                }
            }
        }
    }

    /// The next frame `(rx_ns, json text)`.
    pub(crate) fn next_frame(&mut self) -> Option<(u64, &str)> {
        self.peek_ns()?;
        let (ns, json, next) = line_at(&self.data, self.pos)?;
        self.pos = next;
        Some((ns?, json?))
    }
}

/// Splits the line starting at `pos`: `(rx_ns, json, next line start)`.
/// `None` at the end of the data; a malformed line yields `None` parts.
fn line_at(data: &[u8], pos: usize) -> Option<(Option<u64>, Option<&str>, usize)> {
    if pos >= data.len() {
        return None;
    }
    let rest = &data[pos..];
    let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let next = pos + end + 1;
    let line = &rest[..end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let Some(sp) = line.iter().position(|&b| b == b' ') else {
        return Some((None, None, next));
    };
    let ns = std::str::from_utf8(&line[..sp])
        .ok()
        .and_then(|s| s.parse::<u64>().ok());
    let json = std::str::from_utf8(&line[sp + 1..])
        .ok()
        .map(str::trim)
        .filter(|s| s.starts_with('{'));
    Some((ns, json, next))
}

/// What a frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// REST depth snapshot line (never sent on a WebSocket).
    Snapshot,
    /// `depthUpdate`.
    Diff,
    /// `bookTicker`.
    BookTicker,
    /// `trade`.
    Trade,
    /// `aggTrade`.
    AggTrade,
    /// Anything else (served, not interpreted).
    Other,
}

/// One decoded frame.
pub(crate) struct Frame<'a> {
    /// What it is.
    pub(crate) kind: Kind,
    /// Symbol, upper case (`None` for snapshot lines).
    pub(crate) symbol: Option<String>,
    /// Stream name (`btcusdt@depth@100ms`), from the envelope or built.
    pub(crate) stream: String,
    /// The event's raw text (the envelope's `data`, or the whole line).
    pub(crate) data: &'a str,
    /// The whole line when it is a combined-stream envelope.
    pub(crate) envelope: Option<&'a str>,
    /// The decoded event.
    pub(crate) event: serde_json::Value,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    stream: Option<Cow<'a, str>>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
}

impl<'a> Frame<'a> {
    /// Decodes a line's JSON; `source_symbol` names the instrument of a
    /// snapshot line. `None` when it is not a JSON object.
    pub(crate) fn parse(json: &'a str, source_symbol: Option<&str>) -> Option<Frame<'a>> {
        let env: Envelope<'a> = serde_json::from_str(json).ok()?;
        let (data, envelope, stream) = match (env.stream, env.data) {
            (Some(s), Some(d)) => (d.get(), Some(json), Some(s.into_owned())),
            _ => (json, None, None),
        };
        let event: serde_json::Value = serde_json::from_str(data).ok()?;
        if !event.is_object() {
            return None;
        }
        if event.get("lastUpdateId").is_some() && stream.is_none() {
            return Some(Frame {
                kind: Kind::Snapshot,
                symbol: source_symbol.map(str::to_string),
                stream: String::new(),
                data,
                envelope: None,
                event,
            });
        }
        let e = event.get("e").and_then(|v| v.as_str()).unwrap_or("");
        let sym_field = event.get("s").and_then(|v| v.as_str());
        let (symbol, stream_kind) = match &stream {
            Some(name) => {
                let mut parts = name.splitn(3, '@');
                let sym = parts.next().unwrap_or("").to_ascii_uppercase();
                let kind = parts.next().unwrap_or("").to_string();
                (sym, kind)
            }
            None => {
                let sym = sym_field.unwrap_or("").to_ascii_uppercase();
                let kind = match e {
                    "depthUpdate" => "depth".to_string(),
                    "markPriceUpdate" => "markPrice".to_string(),
                    "24hrTicker" => "ticker".to_string(),
                    "24hrMiniTicker" => "miniTicker".to_string(),
                    "kline" => {
                        let i = event
                            .get("k")
                            .and_then(|k| k.get("i"))
                            .and_then(|i| i.as_str())
                            .unwrap_or("1m");
                        format!("kline_{i}")
                    }
                    "" if event.get("B").is_some() && event.get("u").is_some() => {
                        "bookTicker".to_string()
                    }
                    other => other.to_string(),
                };
                (sym, kind)
            }
        };
        let kind = match stream_kind.as_str() {
            k if k.starts_with("depth") && (e == "depthUpdate" || e.is_empty()) => {
                if event.get("U").is_some() {
                    Kind::Diff
                } else {
                    Kind::Other
                }
            }
            "bookTicker" => Kind::BookTicker,
            "trade" => Kind::Trade,
            "aggTrade" => Kind::AggTrade,
            _ => Kind::Other,
        };
        let stream =
            stream.unwrap_or_else(|| format!("{}@{}", symbol.to_ascii_lowercase(), stream_kind));
        Some(Frame {
            kind,
            symbol: (!symbol.is_empty()).then_some(symbol),
            stream,
            data,
            envelope,
            event,
        })
    }
}

/// The `[price, qty]` string pairs of `event[side]`.
pub(crate) fn levels(event: &serde_json::Value, side: &str) -> Vec<(String, String)> {
    let Some(arr) = event.get(side).and_then(|v| v.as_array()) else {
        return Vec::new();
    };
    arr.iter()
        .filter_map(|l| {
            let l = l.as_array()?;
            let p = l.first()?.as_str()?;
            let q = l.get(1)?.as_str()?;
            Some((p.to_string(), q.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_classified_and_sliced_verbatim() {
        let line = r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":5,"u":7,"b":[["1.10","2"]],"a":[]}}"#;
        let f = Frame::parse(line, None).expect("frame");
        assert_eq!(f.kind, Kind::Diff);
        assert_eq!(f.symbol.as_deref(), Some("BTCUSDT"));
        assert_eq!(f.stream, "btcusdt@depth@100ms");
        assert_eq!(f.envelope, Some(line));
        assert!(f.data.starts_with(r#"{"e":"depthUpdate""#) && f.data.ends_with(r#""a":[]}"#));
        let raw = r#"{"u":9,"s":"ETHUSDT","b":"1","B":"2","a":"3","A":"4"}"#;
        let f = Frame::parse(raw, None).expect("raw");
        assert_eq!(
            (f.kind, f.stream.as_str()),
            (Kind::BookTicker, "ethusdt@bookTicker")
        );
        let snap = r#"{"lastUpdateId":3,"bids":[],"asks":[]}"#;
        let f = Frame::parse(snap, Some("ETHUSDT")).expect("snapshot");
        assert_eq!(
            (f.kind, f.symbol.as_deref()),
            (Kind::Snapshot, Some("ETHUSDT"))
        );
        assert!(Frame::parse("[1,2]", None).is_none());
        assert!(Frame::parse("{not json", None).is_none());
    }

    #[test]
    fn market_is_inferred_and_overridable() {
        let usdm = b"1 {\"stream\":\"btcusdt@depth@0ms\",\"data\":{\"e\":\"depthUpdate\",\"s\":\"BTCUSDT\",\"U\":1,\"u\":2,\"pu\":0,\"b\":[[\"1.5\",\"0.001\"]],\"a\":[]}}\n".to_vec();
        let mut d = Digits::new();
        let s = Source::from_bytes("x".into(), usdm.clone(), None, &mut d).unwrap();
        assert_eq!(s.market, Market::UsdM);
        assert_eq!(d.get("BTCUSDT"), Some(&(1, 3)));
        let s = Source::from_bytes("x".into(), usdm, Some(Market::CoinM), &mut d).unwrap();
        assert_eq!(s.market, Market::CoinM);
        let mut s = Source::from_bytes(
            "y".into(),
            b"garbage\n\n2 {\"a\":1}\n".to_vec(),
            None,
            &mut d,
        )
        .unwrap();
        assert_eq!(s.market, Market::Spot);
        assert_eq!(s.next_frame(), Some((2, "{\"a\":1}")));
        assert_eq!(s.next_frame(), None);
        assert!(parse_spec("f.gz@mars").is_err());
        assert_eq!(
            parse_spec("f.gz@usdm").unwrap(),
            ("f.gz".into(), Some(Market::UsdM))
        );
    }
}
