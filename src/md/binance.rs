//! Binance market-data decoder (spot, USD-M and COIN-M futures).
//!
//! One [`Decoder`] turns one raw frame (a bare event, a combined-stream
//! envelope `{"stream":..,"data":{..}}` or a REST depth snapshot) into a
//! borrowed [`Frame`] whose level slices live in the decoder's reused buffers.
//!
//! Two paths produce identical results:
//! - `scan`: a strict scanner specialised to the exact bytes Binance sends
//!   (no whitespace, no escapes, plain decimal strings). It validates every
//!   byte it reads and declines (returns `None`) on anything it does not
//!   expect, including every error case.
//! - `general`: the general sonic-rs path. It handles any valid JSON (any
//!   key order, whitespace, escapes, unknown keys) and produces every error.
//!
//! Evidence for the hand-written scanner (house rule 7): bench
//! `decode_depth` in `benches/decode.rs` on the real USD-M `depthUpdate`
//! frames (avg 1,597 bytes, 68 levels): about 1.0 us per frame against
//! 4.3 us for serde_json borrowed structs and 4.0 us for sonic-rs serde
//! (4.4x; 4.7x fewer instructions). Numbers and method in `scan.rs`.

mod general;
mod nesting;
mod num;
mod scan;
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod simd;

#[cfg(test)]
mod tests;

use crate::frame::{BookTicker, DecodeError, DepthDiff, DepthSnapshot, Frame, OtherKind, Trade};
use tickwire_core::types::{Level, SymbolName, VenueMs};

/// Largest frame accepted, in bytes: 4 MiB. The biggest real frame is a
/// 5,000-level futures REST snapshot (about 250 KB); anything far beyond
/// that is not a Binance frame and is refused with [`DecodeError::TooLarge`]
/// before any parsing.
pub(crate) const MAX_FRAME_BYTES: usize = 4 << 20;

/// Deepest JSON nesting accepted. Binance frames nest at most four deep
/// (envelope, event, level list, level); the general path recurses per
/// level of nesting, so deeper input is refused before it is parsed.
pub const MAX_NESTING: usize = 16;

/// Most levels accepted on one side of one frame. Binance sends at most
/// 5,000 per side (a spot REST snapshot); a hostile snapshot up to this
/// size is still applied (in bounded chunks downstream), beyond it the
/// frame is refused. The frame-size limit bounds the buffers either way.
pub const MAX_LEVELS_PER_SIDE: usize = 1 << 18;

/// Level capacity kept per side after a frame that grew the buffers beyond
/// it (a hostile frame must not pin its memory).
const KEPT_LEVELS: usize = 16 * 1024;

/// Level capacity reserved per side at construction, so ordinary diffs never
/// grow the buffers; a large REST snapshot grows them once (warm-up).
const INITIAL_LEVELS: usize = 1024;

/// Decodes Binance frames into [`Frame`] views, reusing its level buffers
/// so steady-state decoding allocates nothing.
#[derive(Debug)]
pub struct Decoder {
    bids: Vec<Level>,
    asks: Vec<Level>,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

/// What a path decoded, without borrowing the level buffers (they are
/// attached by [`Decoder::view`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decoded {
    Depth {
        symbol: SymbolName,
        first_id: u64,
        last_id: u64,
        prev_last_id: Option<u64>,
        venue_time: VenueMs,
    },
    Snapshot {
        last_update_id: u64,
    },
    Ticker(BookTicker),
    Trade(Trade),
    Other(OtherKind),
}

/// Event type named by the `"e"` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EventKind {
    Depth,
    BookTicker,
    Trade,
    AggTrade,
    Other(OtherKind),
}

/// Maps the value of `"e"` to the event type.
fn event_kind(e: &[u8]) -> EventKind {
    match e {
        b"depthUpdate" => EventKind::Depth,
        b"bookTicker" => EventKind::BookTicker,
        b"trade" => EventKind::Trade,
        b"aggTrade" => EventKind::AggTrade,
        b"kline" | b"continuous_kline" | b"indexPrice_kline" | b"markPrice_kline" => {
            EventKind::Other(OtherKind::Kline)
        }
        b"markPriceUpdate" => EventKind::Other(OtherKind::MarkPrice),
        b"24hrTicker" | b"24hrMiniTicker" => EventKind::Other(OtherKind::Ticker24h),
        b"forceOrder" => EventKind::Other(OtherKind::Liquidation),
        _ => EventKind::Other(OtherKind::Unknown),
    }
}

impl Decoder {
    /// A decoder with level buffers reserved for ordinary diffs.
    pub fn new() -> Decoder {
        Decoder {
            bids: Vec::with_capacity(INITIAL_LEVELS),
            asks: Vec::with_capacity(INITIAL_LEVELS),
        }
    }

    /// Decodes one frame: raw event JSON, combined-stream envelope
    /// `{"stream":..,"data":{..}}`, or REST depth snapshot. The returned
    /// level slices stay valid until the next call.
    pub fn decode(&mut self, frame: &[u8]) -> Result<Frame<'_>, DecodeError> {
        if frame.len() > MAX_FRAME_BYTES {
            return Err(DecodeError::TooLarge);
        }
        let decoded = match scan::decode(frame, &mut self.bids, &mut self.asks) {
            Some(d) => d,
            None => self.general(frame)?,
        };
        self.check_levels()?;
        Ok(self.view(decoded))
    }

    /// The general path behind the nesting guard.
    fn general(&mut self, frame: &[u8]) -> Result<Decoded, DecodeError> {
        if !nesting::within(frame, MAX_NESTING) {
            return Err(DecodeError::TooDeep { max: MAX_NESTING });
        }
        general::decode(frame, &mut self.bids, &mut self.asks)
    }

    /// Refuses a frame with too many levels and gives back the memory a
    /// huge frame made the buffers take.
    fn check_levels(&mut self) -> Result<(), DecodeError> {
        let too_many =
            self.bids.len() > MAX_LEVELS_PER_SIDE || self.asks.len() > MAX_LEVELS_PER_SIDE;
        if too_many {
            self.bids.clear();
            self.asks.clear();
        }
        for v in [&mut self.bids, &mut self.asks] {
            if v.capacity() > KEPT_LEVELS && v.len() <= KEPT_LEVELS {
                v.shrink_to(KEPT_LEVELS);
            }
        }
        if too_many {
            return Err(DecodeError::TooManyLevels {
                max: MAX_LEVELS_PER_SIDE,
            });
        }
        Ok(())
    }

    /// Only the strict fast scanner: `None` when it declines the frame
    /// (anything unusual, including every error). For tests and benches that
    /// check the two paths agree.
    pub fn decode_fast(&mut self, frame: &[u8]) -> Option<Frame<'_>> {
        if frame.len() > MAX_FRAME_BYTES {
            return None;
        }
        let decoded = scan::decode(frame, &mut self.bids, &mut self.asks)?;
        Some(self.view(decoded))
    }

    /// Only the general sonic-rs path (what [`Decoder::decode`] falls back
    /// to). For tests and benches that check the two paths agree.
    pub fn decode_general(&mut self, frame: &[u8]) -> Result<Frame<'_>, DecodeError> {
        if frame.len() > MAX_FRAME_BYTES {
            return Err(DecodeError::TooLarge);
        }
        let decoded = self.general(frame)?;
        self.check_levels()?;
        Ok(self.view(decoded))
    }

    /// Attaches the level buffers to a decoded frame.
    fn view(&self, d: Decoded) -> Frame<'_> {
        match d {
            Decoded::Depth {
                symbol,
                first_id,
                last_id,
                prev_last_id,
                venue_time,
            } => Frame::Depth(DepthDiff {
                symbol,
                first_id,
                last_id,
                prev_last_id,
                venue_time,
                bids: &self.bids,
                asks: &self.asks,
            }),
            Decoded::Snapshot { last_update_id } => Frame::Snapshot(DepthSnapshot {
                last_update_id,
                bids: &self.bids,
                asks: &self.asks,
            }),
            Decoded::Ticker(t) => Frame::Ticker(t),
            Decoded::Trade(t) => Frame::Trade(t),
            Decoded::Other(k) => Frame::Other(k),
        }
    }
}
