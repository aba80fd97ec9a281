//! General path on sonic-rs: any valid JSON (whitespace, any key order,
//! escapes, unknown keys of any type), and the single owner of error
//! reporting. Used when the strict scanner declines a frame.
//!
//! Fields are captured as raw [`LazyValue`]s in one validating pass (the
//! meaning of `b` and `a` depends on the event type, which may come later),
//! then interpreted. Allocates nothing unless a string holds escapes or an
//! error is reported.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use sonic_rs::{JsonValueTrait, LazyValue};

use super::{Decoded, EventKind, event_kind};
use crate::frame::{BookTicker, DecodeError, OtherKind, Trade};
use tickwire_core::types::{Level, NumError, Px, Qty, SymbolName, VenueMs, parse_fixed};

/// Decodes any frame; see the module docs.
pub(super) fn decode(
    frame: &[u8],
    bids: &mut Vec<Level>,
    asks: &mut Vec<Level>,
) -> Result<Decoded, DecodeError> {
    let text = std::str::from_utf8(frame).map_err(|_| DecodeError::InvalidUtf8)?;
    let mut de = sonic_rs::Deserializer::from_str(text);
    let top: LazyValue<'_> = de.deserialize().map_err(|_| DecodeError::InvalidJson)?;
    de.end().map_err(|_| DecodeError::InvalidJson)?;
    if !top.is_object() {
        return Ok(Decoded::Other(OtherKind::Unknown));
    }
    let outer = Obj::parse(top.as_raw_str())?;
    if outer.stream.is_none() {
        return event(&outer, bids, asks);
    }
    let data = outer
        .data
        .as_ref()
        .filter(|d| d.is_object())
        .ok_or(DecodeError::MissingField("data"))?;
    event(&Obj::parse(data.as_raw_str())?, bids, asks)
}

/// The fields of one object that tickwire reads, as raw JSON values.
#[derive(Default)]
struct Obj<'a> {
    stream: Option<LazyValue<'a>>,
    data: Option<LazyValue<'a>>,
    e: Option<LazyValue<'a>>,
    big_e: Option<LazyValue<'a>>,
    big_t: Option<LazyValue<'a>>,
    s: Option<LazyValue<'a>>,
    big_u: Option<LazyValue<'a>>,
    u: Option<LazyValue<'a>>,
    pu: Option<LazyValue<'a>>,
    b: Option<LazyValue<'a>>,
    a: Option<LazyValue<'a>>,
    big_b: Option<LazyValue<'a>>,
    big_a: Option<LazyValue<'a>>,
    t: Option<LazyValue<'a>>,
    p: Option<LazyValue<'a>>,
    q: Option<LazyValue<'a>>,
    m: Option<LazyValue<'a>>,
    last_update_id: Option<LazyValue<'a>>,
    bids: Option<LazyValue<'a>>,
    asks: Option<LazyValue<'a>>,
    result: Option<LazyValue<'a>>,
    id: Option<LazyValue<'a>>,
}

impl<'a> Obj<'a> {
    /// Captures the known keys of the (already validated) object `raw`.
    /// A repeated key keeps its last value.
    fn parse(raw: &'a str) -> Result<Obj<'a>, DecodeError> {
        let mut de = sonic_rs::Deserializer::from_str(raw);
        (&mut de)
            .deserialize_map(ObjVisitor)
            .map_err(|_| DecodeError::InvalidJson)
    }

    fn slot(&mut self, key: &str) -> Option<&mut Option<LazyValue<'a>>> {
        Some(match key {
            "stream" => &mut self.stream,
            "data" => &mut self.data,
            "e" => &mut self.e,
            "E" => &mut self.big_e,
            "T" => &mut self.big_t,
            "s" => &mut self.s,
            "U" => &mut self.big_u,
            "u" => &mut self.u,
            "pu" => &mut self.pu,
            "b" => &mut self.b,
            "a" => &mut self.a,
            "B" => &mut self.big_b,
            "A" => &mut self.big_a,
            "t" => &mut self.t,
            "p" => &mut self.p,
            "q" => &mut self.q,
            "m" => &mut self.m,
            "lastUpdateId" => &mut self.last_update_id,
            "bids" => &mut self.bids,
            "asks" => &mut self.asks,
            "result" => &mut self.result,
            "id" => &mut self.id,
            _ => return None,
        })
    }
}

/// Keys of interest, matched without allocating.
enum Key {
    Known(&'static str),
    Other,
}

const KNOWN_KEYS: [&str; 22] = [
    "stream",
    "data",
    "e",
    "E",
    "T",
    "s",
    "U",
    "u",
    "pu",
    "b",
    "a",
    "B",
    "A",
    "t",
    "p",
    "q",
    "m",
    "lastUpdateId",
    "bids",
    "asks",
    "result",
    "id",
];

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_identifier(KeySeed)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(KNOWN_KEYS
            .iter()
            .find(|k| **k == v)
            .map_or(Key::Other, |k| Key::Known(k)))
    }
}

struct ObjVisitor;

impl<'de> Visitor<'de> for ObjVisitor {
    type Value = Obj<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Obj<'de>, M::Error> {
        let mut obj = Obj::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match key {
                Key::Known(k) => {
                    let v: LazyValue<'de> = map.next_value()?;
                    if let Some(slot) = obj.slot(k) {
                        *slot = Some(v);
                    }
                }
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(obj)
    }
}

/// Interprets one event object by the event-type rules:
/// `e` names the type; without `e`, `lastUpdateId` means a REST snapshot,
/// `u` with `b` a spot bookTicker, `result` or `id` a subscription response.
fn event(
    o: &Obj<'_>,
    bids: &mut Vec<Level>,
    asks: &mut Vec<Level>,
) -> Result<Decoded, DecodeError> {
    let kind = match &o.e {
        Some(e) => Some(event_kind(
            e.as_str().ok_or(DecodeError::MissingField("e"))?.as_bytes(),
        )),
        None => None,
    };
    match kind {
        Some(EventKind::Depth) => Ok(Decoded::Depth {
            symbol: symbol(&o.s)?,
            venue_time: VenueMs(uint(&o.big_e, "E")?),
            first_id: uint(&o.big_u, "U")?,
            last_id: uint(&o.u, "u")?,
            prev_last_id: match &o.pu {
                Some(_) => Some(uint(&o.pu, "pu")?),
                None => None,
            },
        })
        .and_then(|d| {
            levels(&o.b, "b", bids)?;
            levels(&o.a, "a", asks)?;
            Ok(d)
        }),
        Some(EventKind::BookTicker) => ticker(o),
        Some(EventKind::Trade) => trade(o, uint(&o.t, "t")?, false),
        Some(EventKind::AggTrade) => trade(o, uint(&o.a, "a")?, true),
        Some(EventKind::Other(k)) => Ok(Decoded::Other(k)),
        None if o.last_update_id.is_some() => {
            let last_update_id = uint(&o.last_update_id, "lastUpdateId")?;
            levels(&o.bids, "bids", bids)?;
            levels(&o.asks, "asks", asks)?;
            Ok(Decoded::Snapshot { last_update_id })
        }
        None if o.u.is_some() && o.b.is_some() => ticker(o),
        None if o.result.is_some() || o.id.is_some() => Ok(Decoded::Other(OtherKind::Response)),
        None => Ok(Decoded::Other(OtherKind::Unknown)),
    }
}

fn ticker(o: &Obj<'_>) -> Result<Decoded, DecodeError> {
    Ok(Decoded::Ticker(BookTicker {
        symbol: symbol(&o.s)?,
        update_id: uint(&o.u, "u")?,
        bid_px: px(&o.b, "b")?,
        bid_qty: qty(&o.big_b, "B")?,
        ask_px: px(&o.a, "a")?,
        ask_qty: qty(&o.big_a, "A")?,
    }))
}

fn trade(o: &Obj<'_>, trade_id: u64, aggregate: bool) -> Result<Decoded, DecodeError> {
    Ok(Decoded::Trade(Trade {
        symbol: symbol(&o.s)?,
        trade_id,
        px: px(&o.p, "p")?,
        qty: qty(&o.q, "q")?,
        buyer_is_maker: o
            .m
            .as_ref()
            .and_then(|m| m.as_bool())
            .ok_or(DecodeError::MissingField("m"))?,
        trade_time_ms: uint(&o.big_t, "T")?,
        aggregate,
    }))
}

fn string<'v>(v: &'v Option<LazyValue<'_>>, field: &'static str) -> Result<&'v str, DecodeError> {
    v.as_ref()
        .and_then(|v| v.as_str())
        .ok_or(DecodeError::MissingField(field))
}

fn symbol(v: &Option<LazyValue<'_>>) -> Result<SymbolName, DecodeError> {
    SymbolName::new(string(v, "s")?.as_bytes()).ok_or(DecodeError::BadSymbol)
}

/// An unsigned integer field. A JSON number that is not an unsigned integer
/// fitting `u64` is a [`DecodeError::BadNumber`]; any other type is missing.
fn uint(v: &Option<LazyValue<'_>>, field: &'static str) -> Result<u64, DecodeError> {
    let raw = v
        .as_ref()
        .filter(|v| v.is_number())
        .ok_or(DecodeError::MissingField(field))?
        .as_raw_str()
        .as_bytes();
    let bad = |err| DecodeError::BadNumber { field, err };
    if !raw.iter().all(u8::is_ascii_digit) {
        return Err(bad(NumError::InvalidChar));
    }
    raw.iter().try_fold(0u64, |acc, &c| {
        acc.checked_mul(10)
            .and_then(|a| a.checked_add(u64::from(c - b'0')))
            .ok_or(bad(NumError::Overflow))
    })
}

fn fixed_str(s: &str, field: &'static str) -> Result<i64, DecodeError> {
    parse_fixed(s.as_bytes()).map_err(|err| DecodeError::BadNumber { field, err })
}

fn check_px(v: i64, field: &'static str) -> Result<Px, DecodeError> {
    if v <= 0 {
        return Err(DecodeError::NonPositivePx(field));
    }
    Ok(Px(v))
}

fn check_qty(v: i64, field: &'static str) -> Result<Qty, DecodeError> {
    if v < 0 {
        return Err(DecodeError::NegativeQty(field));
    }
    Ok(Qty(v))
}

fn px(v: &Option<LazyValue<'_>>, field: &'static str) -> Result<Px, DecodeError> {
    check_px(fixed_str(string(v, field)?, field)?, field)
}

fn qty(v: &Option<LazyValue<'_>>, field: &'static str) -> Result<Qty, DecodeError> {
    check_qty(fixed_str(string(v, field)?, field)?, field)
}

/// A levels array `[["px","qty"],..]` into `out` (cleared first). Each
/// level is exactly two decimal strings.
fn levels(
    v: &Option<LazyValue<'_>>,
    field: &'static str,
    out: &mut Vec<Level>,
) -> Result<(), DecodeError> {
    let raw = v
        .as_ref()
        .filter(|v| v.is_array())
        .ok_or(DecodeError::MissingField(field))?
        .as_raw_str();
    out.clear();
    let mut err = None;
    let mut de = sonic_rs::Deserializer::from_str(raw);
    let parsed = (&mut de).deserialize_seq(LevelsVisitor {
        out,
        err: &mut err,
        field,
    });
    match (err, parsed) {
        (Some(e), _) => Err(e),
        (None, Err(_)) => Err(DecodeError::MissingField(field)),
        (None, Ok(())) => Ok(()),
    }
}

/// Pushes each level; stores the first decode error in `err` and aborts.
struct LevelsVisitor<'o> {
    out: &'o mut Vec<Level>,
    err: &'o mut Option<DecodeError>,
    field: &'static str,
}

impl<'de> Visitor<'de> for LevelsVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of [price, quantity] levels")
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while let Some(level) = seq.next_element_seed(LevelSeed)? {
            let (px, qty) = level;
            let level = (|| {
                let px = px.map_err(|err| DecodeError::BadNumber {
                    field: self.field,
                    err,
                })?;
                let qty = qty.map_err(|err| DecodeError::BadNumber {
                    field: self.field,
                    err,
                })?;
                Ok(Level {
                    px: check_px(px, self.field)?,
                    qty: check_qty(qty, self.field)?,
                })
            })();
            match level {
                Ok(l) => self.out.push(l),
                Err(e) => {
                    *self.err = Some(e);
                    return Err(de::Error::custom("bad level"));
                }
            }
        }
        Ok(())
    }
}

/// Parsed number strings of one level; a level that is not two strings is
/// a serde type error (reported as `MissingField` by [`levels`]).
type RawLevel = (Result<i64, NumError>, Result<i64, NumError>);

struct LevelSeed;

impl<'de> DeserializeSeed<'de> for LevelSeed {
    type Value = RawLevel;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<RawLevel, D::Error> {
        d.deserialize_seq(LevelSeed)
    }
}

impl<'de> Visitor<'de> for LevelSeed {
    type Value = RawLevel;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a [price, quantity] pair of strings")
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<RawLevel, S::Error> {
        let px = seq.next_element_seed(FixedSeed)?;
        let qty = seq.next_element_seed(FixedSeed)?;
        let extra = seq.next_element::<IgnoredAny>()?;
        match (px, qty, extra) {
            (Some(px), Some(qty), None) => Ok((px, qty)),
            _ => Err(de::Error::custom("level is not a pair")),
        }
    }
}

/// A decimal string parsed to fixed point; non-strings are a type error.
struct FixedSeed;

impl<'de> DeserializeSeed<'de> for FixedSeed {
    type Value = Result<i64, NumError>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(FixedSeed)
    }
}

impl Visitor<'_> for FixedSeed {
    type Value = Result<i64, NumError>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(parse_fixed(v.as_bytes()))
    }
}
