//! Strict fast path: a scanner for the exact byte shapes Binance sends.
//!
//! It accepts a subset of JSON: no whitespace, no escapes, printable ASCII
//! strings, unsigned integers without leading zeros, prices and quantities
//! as plain non-negative decimal strings, objects whose keys it knows (any
//! order) or whose unknown keys hold a string, integer, `true`, `false` or
//! `null`. It checks every byte it reads. On anything else, and on every
//! error (a zero price, a missing field, a duplicate key, trailing bytes...)
//! it returns `None` and the frame goes to the general sonic-rs path, which
//! owns all error reporting. Equal output on every real frame is tested in
//! `tests/decode_real.rs`.
//!
//! Why hand-written (house rule 7): the libraries are the bottleneck on
//! these frames. Bench `decode_depth` (benches/decode.rs), all 6,551 real
//! USD-M depthUpdate frames (avg 1,597 bytes, 68 levels), 2-core Xeon VM
//! under load from other builds, `cargo bench --bench decode --
//! --warm-up-time 1 --measurement-time 3`, median per frame (two runs):
//! `tickwire` 1.32 / 0.98 us, `serde_json_borrowed` 4.48 / 4.31 us,
//! `sonic_rs_serde` 4.71 / 3.99 us, `tickwire_general` (sonic-rs path
//! alone) 9.5 / 10.3 us: 3.4x / 4.4x faster than serde_json (the first run
//! was the noisier one). Instruction counts (callgrind, same frames):
//! 17,854 per frame against 84,191 for serde_json borrowed, 4.7x fewer.
//! Within the scanner, the SSE2 classification in `simd.rs` cut the number
//! parsing from ~110 to ~60 instructions per number (21,883 -> 17,852 per
//! frame, ~2.0 -> ~1.0 us/frame best-of-5).

use super::num::fixed_in_string;
use super::{Decoded, EventKind, event_kind};
use crate::frame::{BookTicker, Trade};
use tickwire_core::types::{Level, Px, Qty, SymbolName, VenueMs};

const ENVELOPE_HEAD: &[u8] = b"{\"stream\":\"";
const ENVELOPE_DATA: &[u8] = b",\"data\":";

/// Decodes `b` if it has exactly the expected shape; `None` declines.
pub(super) fn decode(b: &[u8], bids: &mut Vec<Level>, asks: &mut Vec<Level>) -> Option<Decoded> {
    let mut s = Scan { b, i: 0 };
    let decoded = if b.starts_with(ENVELOPE_HEAD) {
        s.i = ENVELOPE_HEAD.len();
        s.string_rest()?;
        s.lit(ENVELOPE_DATA)?;
        let d = event(&mut s, bids, asks)?;
        s.byte(b'}')?;
        d
    } else {
        event(&mut s, bids, asks)?
    };
    (s.i == b.len()).then_some(decoded)
}

/// A cursor over the frame. Every read is bounds-checked through `get`.
struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scan<'a> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline(always)]
    fn byte(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    #[inline(always)]
    fn lit(&mut self, lit: &[u8]) -> Option<()> {
        let end = self.i + lit.len();
        (self.b.get(self.i..end)? == lit).then(|| self.i = end)
    }

    /// Rest of a string after its opening quote: printable ASCII without
    /// escapes. Returns the body and moves past the closing quote.
    #[inline]
    fn string_rest(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        loop {
            match self.peek()? {
                b'"' => break,
                b'\\' => return None,
                0x20..=0x7E => self.i += 1,
                _ => return None,
            }
        }
        let body = self.b.get(start..self.i)?;
        self.i += 1;
        Some(body)
    }

    #[inline]
    fn string(&mut self) -> Option<&'a [u8]> {
        self.byte(b'"')?;
        self.string_rest()
    }

    /// An unsigned JSON integer. A leading zero followed by digits, a
    /// fraction or an exponent leaves a byte the caller refuses.
    #[inline]
    fn uint(&mut self) -> Option<u64> {
        let first = self.peek()?;
        if !first.is_ascii_digit() {
            return None;
        }
        self.i += 1;
        let mut v = u64::from(first - b'0');
        if first == b'0' {
            return Some(0);
        }
        while let Some(c) = self.peek().filter(u8::is_ascii_digit) {
            v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
            self.i += 1;
        }
        Some(v)
    }

    /// A decimal string such as `"61800.30"`.
    #[inline(always)]
    fn fixed(&mut self) -> Option<i64> {
        self.byte(b'"')?;
        let (v, end) = fixed_in_string(self.b, self.i)?;
        self.i = end + 1;
        Some(v)
    }

    #[inline]
    fn boolean(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' => self.lit(b"true").map(|()| true),
            b'f' => self.lit(b"false").map(|()| false),
            _ => None,
        }
    }

    /// Skips a value of a key we do not use, if it is a simple one.
    #[inline]
    fn skip_simple(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'0'..=b'9' => self.uint().map(drop),
            b't' => self.lit(b"true"),
            b'f' => self.lit(b"false"),
            b'n' => self.lit(b"null"),
            _ => None,
        }
    }

    /// `[["px","qty"],...]` into `out` (cleared first). Declines on a
    /// non-positive price. This loop is the hot spot of the decoder.
    #[inline]
    fn levels(&mut self, out: &mut Vec<Level>) -> Option<()> {
        out.clear();
        self.byte(b'[')?;
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            self.lit(b"[\"")?;
            let (px, end) = fixed_in_string(self.b, self.i)?;
            self.i = end;
            self.lit(b"\",\"")?;
            let (qty, end) = fixed_in_string(self.b, self.i)?;
            self.i = end;
            self.lit(b"\"]")?;
            if px == 0 {
                return None;
            }
            out.push(Level {
                px: Px(px),
                qty: Qty(qty),
            });
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

/// A value that is a levels array, a decimal string or an integer depending
/// on the event (`b` and `a`).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Poly {
    #[default]
    Absent,
    Levels,
    Fixed(i64),
    Int(u64),
}

/// Fields seen in one event object.
#[derive(Default)]
struct Fields<'a> {
    seen: u32,
    kind: Option<EventKind>,
    symbol: Option<&'a [u8]>,
    event_time: Option<u64>,
    trade_time: Option<u64>,
    first_id: Option<u64>,
    last_id: Option<u64>,
    prev_last_id: Option<u64>,
    trade_id: Option<u64>,
    last_update_id: Option<u64>,
    b: Poly,
    a: Poly,
    bid_qty: Option<i64>,
    ask_qty: Option<i64>,
    px: Option<i64>,
    qty: Option<i64>,
    maker: Option<bool>,
    bids_written: bool,
    asks_written: bool,
}

/// Writes the levels of `b`/`bids` (or `a`/`asks`) into `out`, declining if
/// a second key targets the same buffer.
#[inline]
fn levels_once(s: &mut Scan<'_>, out: &mut Vec<Level>, written: &mut bool) -> Option<()> {
    if std::mem::replace(written, true) {
        return None;
    }
    s.levels(out)
}

/// `b` or `a`: levels, a price string, or an integer (aggTrade `a`).
#[inline]
fn poly(s: &mut Scan<'_>, out: &mut Vec<Level>, written: &mut bool) -> Option<Poly> {
    match s.peek()? {
        b'[' => levels_once(s, out, written).map(|()| Poly::Levels),
        b'"' => s.fixed().map(Poly::Fixed),
        _ => s.uint().map(Poly::Int),
    }
}

/// One event object, keys in any order.
fn event(s: &mut Scan<'_>, bids: &mut Vec<Level>, asks: &mut Vec<Level>) -> Option<Decoded> {
    s.byte(b'{')?;
    let mut f = Fields::default();
    if s.peek()? == b'}' {
        return None;
    }
    loop {
        let key = s.string()?;
        s.byte(b':')?;
        let bit = match key {
            b"e" => 1 << 0,
            b"E" => 1 << 1,
            b"T" => 1 << 2,
            b"s" => 1 << 3,
            b"U" => 1 << 4,
            b"u" => 1 << 5,
            b"pu" => 1 << 6,
            b"b" => 1 << 7,
            b"a" => 1 << 8,
            b"B" => 1 << 9,
            b"A" => 1 << 10,
            b"t" => 1 << 11,
            b"p" => 1 << 12,
            b"q" => 1 << 13,
            b"m" => 1 << 14,
            b"lastUpdateId" => 1 << 15,
            b"bids" => 1 << 16,
            b"asks" => 1 << 17,
            b"stream" => return None,
            _ => 0,
        };
        if f.seen & bit != 0 {
            return None;
        }
        f.seen |= bit;
        match key {
            b"e" => f.kind = Some(event_kind(s.string()?)),
            b"E" => f.event_time = Some(s.uint()?),
            b"T" => f.trade_time = Some(s.uint()?),
            b"s" => f.symbol = Some(s.string()?),
            b"U" => f.first_id = Some(s.uint()?),
            b"u" => f.last_id = Some(s.uint()?),
            b"pu" => f.prev_last_id = Some(s.uint()?),
            b"t" => f.trade_id = Some(s.uint()?),
            b"lastUpdateId" => f.last_update_id = Some(s.uint()?),
            b"b" => f.b = poly(s, bids, &mut f.bids_written)?,
            b"a" => f.a = poly(s, asks, &mut f.asks_written)?,
            b"bids" => levels_once(s, bids, &mut f.bids_written)?,
            b"asks" => levels_once(s, asks, &mut f.asks_written)?,
            b"B" => f.bid_qty = Some(s.fixed()?),
            b"A" => f.ask_qty = Some(s.fixed()?),
            b"p" => f.px = Some(s.fixed()?),
            b"q" => f.qty = Some(s.fixed()?),
            b"m" => f.maker = Some(s.boolean()?),
            _ => s.skip_simple()?,
        }
        match s.peek()? {
            b',' => s.i += 1,
            b'}' => {
                s.i += 1;
                break;
            }
            _ => return None,
        }
    }
    build(&f)
}

/// Applies the same event-type rules as the general path; declines on any
/// missing field or invalid value.
fn build(f: &Fields<'_>) -> Option<Decoded> {
    const BIDS_KEY: u32 = 1 << 16;
    const ASKS_KEY: u32 = 1 << 17;
    match f.kind {
        Some(EventKind::Depth) => {
            (f.b == Poly::Levels && f.a == Poly::Levels).then_some(())?;
            Some(Decoded::Depth {
                symbol: SymbolName::new(f.symbol?)?,
                first_id: f.first_id?,
                last_id: f.last_id?,
                prev_last_id: f.prev_last_id,
                venue_time: VenueMs(f.event_time?),
            })
        }
        Some(EventKind::BookTicker) => ticker(f),
        Some(EventKind::Trade) => trade(f, f.trade_id?, false),
        Some(EventKind::AggTrade) => match f.a {
            Poly::Int(id) => trade(f, id, true),
            _ => None,
        },
        Some(EventKind::Other(_)) => None,
        None if f.last_update_id.is_some() => {
            (f.seen & BIDS_KEY != 0 && f.seen & ASKS_KEY != 0).then_some(())?;
            Some(Decoded::Snapshot {
                last_update_id: f.last_update_id?,
            })
        }
        None if f.last_id.is_some() && f.b != Poly::Absent => ticker(f),
        None => None,
    }
}

fn ticker(f: &Fields<'_>) -> Option<Decoded> {
    let (Poly::Fixed(bid_px), Poly::Fixed(ask_px)) = (f.b, f.a) else {
        return None;
    };
    (bid_px > 0 && ask_px > 0).then_some(())?;
    Some(Decoded::Ticker(BookTicker {
        symbol: SymbolName::new(f.symbol?)?,
        update_id: f.last_id?,
        bid_px: Px(bid_px),
        bid_qty: Qty(f.bid_qty?),
        ask_px: Px(ask_px),
        ask_qty: Qty(f.ask_qty?),
    }))
}

fn trade(f: &Fields<'_>, trade_id: u64, aggregate: bool) -> Option<Decoded> {
    let px = f.px.filter(|&p| p > 0)?;
    Some(Decoded::Trade(Trade {
        symbol: SymbolName::new(f.symbol?)?,
        trade_id,
        px: Px(px),
        qty: Qty(f.qty?),
        buyer_is_maker: f.maker?,
        trade_time_ms: f.trade_time?,
        aggregate,
    }))
}
