//! What the Binance decoder produces from one raw frame: a borrowed,
//! allocation-free view whose level slices live in the decoder's reused
//! buffers until the next `decode` call.

use tickwire_core::types::{Level, Px, Qty, SymbolName, VenueMs};

/// One decoded frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A `depthUpdate` diff.
    Depth(DepthDiff<'a>),
    /// A REST depth snapshot (`lastUpdateId`, `bids`, `asks`); carries no
    /// symbol, so it belongs to the instrument of the file or request it
    /// came from.
    Snapshot(DepthSnapshot<'a>),
    /// A `bookTicker` (with or without the `e` field).
    Ticker(BookTicker),
    /// A `trade` or `aggTrade`.
    Trade(Trade),
    /// A well-formed event of a type tickwire does not use (kline,
    /// markPrice, ...): counted and skipped.
    Other(OtherKind),
}

/// A depth diff: levels replace the quantity at their price (zero deletes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthDiff<'a> {
    /// Venue symbol (`s`).
    pub symbol: SymbolName,
    /// First update id in the event (`U`).
    pub first_id: u64,
    /// Final update id in the event (`u`).
    pub last_id: u64,
    /// Final update id of the previous event (`pu`); present on futures only.
    pub prev_last_id: Option<u64>,
    /// Event time in ms since epoch (`E`).
    pub venue_time: VenueMs,
    /// Bid levels (`b`), in frame order.
    pub bids: &'a [Level],
    /// Ask levels (`a`), in frame order.
    pub asks: &'a [Level],
}

/// A REST depth snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthSnapshot<'a> {
    /// `lastUpdateId`: the snapshot reflects every update up to this id.
    pub last_update_id: u64,
    /// Bid levels, best first.
    pub bids: &'a [Level],
    /// Ask levels, best first.
    pub asks: &'a [Level],
}

/// Best bid/ask as published by the venue, tagged with the book update id it
/// shows (`u`): the ground truth the rebuilt book is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookTicker {
    /// Venue symbol (`s`).
    pub symbol: SymbolName,
    /// Order-book update id (`u`) of the book this ticker shows.
    pub update_id: u64,
    /// Best bid price (`b`).
    pub bid_px: Px,
    /// Best bid quantity (`B`).
    pub bid_qty: Qty,
    /// Best ask price (`a`).
    pub ask_px: Px,
    /// Best ask quantity (`A`).
    pub ask_qty: Qty,
}

/// A public trade print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trade {
    /// Venue symbol (`s`).
    pub symbol: SymbolName,
    /// Trade id (`t`), or aggregate trade id (`a`) for `aggTrade`.
    pub trade_id: u64,
    /// Price (`p`).
    pub px: Px,
    /// Quantity (`q`).
    pub qty: Qty,
    /// `m`: the buyer was the maker (so the aggressor sold).
    pub buyer_is_maker: bool,
    /// Trade time in ms since epoch (`T`).
    pub trade_time_ms: u64,
    /// True for `aggTrade` events.
    pub aggregate: bool,
}

tickwire_core::counted! {
    /// Event types that are recognised but not used.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum OtherKind {
        /// `kline` / `continuous_kline`.
        Kline = "kline",
        /// `markPriceUpdate`.
        MarkPrice = "mark_price",
        /// `24hrTicker`, `24hrMiniTicker` and similar.
        Ticker24h = "ticker_24h",
        /// `forceOrder` liquidation.
        Liquidation = "liquidation",
        /// A subscription response such as `{"result":null,"id":1}`.
        Response = "response",
        /// Any other event type.
        Unknown = "unknown",
    }
}

/// Why a frame could not be decoded. Every variant is counted separately in
/// the replay report under its [`DecodeErrorKind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not valid UTF-8.
    #[error("frame is not valid UTF-8")]
    InvalidUtf8,
    /// The bytes are not valid JSON (including truncated frames).
    #[error("frame is not valid JSON")]
    InvalidJson,
    /// A field an event of this type must have is absent or of the wrong
    /// JSON type.
    #[error("missing or mistyped field `{0}`")]
    MissingField(&'static str),
    /// A price or quantity string is not an exact fixed-point number.
    #[error("bad number in field `{field}`: {err}")]
    BadNumber {
        /// The JSON field that held the number.
        field: &'static str,
        /// What is wrong with it.
        err: tickwire_core::types::NumError,
    },
    /// A quantity is negative.
    #[error("negative quantity in field `{0}`")]
    NegativeQty(&'static str),
    /// A price is zero or negative.
    #[error("non-positive price in field `{0}`")]
    NonPositivePx(&'static str),
    /// The symbol is empty or longer than the inline limit.
    #[error("symbol empty or too long")]
    BadSymbol,
    /// A frame larger than the decoder accepts.
    #[error("frame too large")]
    TooLarge,
    /// JSON nested deeper than any Binance frame (refused before parsing).
    #[error("JSON nested deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// More levels on one side than the decoder accepts.
    #[error("more than {max} levels on one side")]
    TooManyLevels {
        /// The limit.
        max: usize,
    },
}

tickwire_core::counted! {
    /// The kind of a [`DecodeError`], for counters.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub enum DecodeErrorKind {
        /// [`DecodeError::InvalidUtf8`].
        InvalidUtf8 = "invalid_utf8",
        /// [`DecodeError::InvalidJson`].
        InvalidJson = "invalid_json",
        /// [`DecodeError::MissingField`].
        MissingField = "missing_field",
        /// [`DecodeError::BadNumber`].
        BadNumber = "bad_number",
        /// [`DecodeError::NegativeQty`].
        NegativeQty = "negative_qty",
        /// [`DecodeError::NonPositivePx`].
        NonPositivePx = "non_positive_px",
        /// [`DecodeError::BadSymbol`].
        BadSymbol = "bad_symbol",
        /// [`DecodeError::TooLarge`].
        TooLarge = "too_large",
        /// [`DecodeError::TooDeep`].
        TooDeep = "too_deep",
        /// [`DecodeError::TooManyLevels`].
        TooManyLevels = "too_many_levels",
    }
}

impl DecodeError {
    /// The error's kind, for counters.
    pub fn kind(&self) -> DecodeErrorKind {
        match self {
            DecodeError::InvalidUtf8 => DecodeErrorKind::InvalidUtf8,
            DecodeError::InvalidJson => DecodeErrorKind::InvalidJson,
            DecodeError::MissingField(_) => DecodeErrorKind::MissingField,
            DecodeError::BadNumber { .. } => DecodeErrorKind::BadNumber,
            DecodeError::NegativeQty(_) => DecodeErrorKind::NegativeQty,
            DecodeError::NonPositivePx(_) => DecodeErrorKind::NonPositivePx,
            DecodeError::BadSymbol => DecodeErrorKind::BadSymbol,
            DecodeError::TooLarge => DecodeErrorKind::TooLarge,
            DecodeError::TooDeep { .. } => DecodeErrorKind::TooDeep,
            DecodeError::TooManyLevels { .. } => DecodeErrorKind::TooManyLevels,
        }
    }
}
