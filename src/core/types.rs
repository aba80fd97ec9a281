//! Units of the domain: fixed-point prices and quantities, symbols, sides and
//! TSC timestamps. Every price or quantity in tickwire is one of these
//! newtypes; none is ever an `f64`.

use std::fmt;

/// Number of fractional decimal digits carried by [`Px`] and [`Qty`].
///
/// Binance publishes at most 8 decimals for any price or quantity, so one
/// fixed scale holds every instrument exactly; tick and lot sizes are learnt
/// per instrument on top of it.
pub const FIXED_DECIMALS: u32 = 8;
/// `10^FIXED_DECIMALS`: the integer that represents `1.0`.
pub const FIXED_SCALE: i64 = 100_000_000;

/// A price in units of `1e-8` of the quote currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Px(pub i64);

/// A quantity in units of `1e-8` of the base asset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Qty(pub i64);

/// Dense per-process instrument index (venue + market + symbol), assigned by
/// the market-data stage in the order instruments are first seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SymbolId(pub u16);

/// A raw CPU timestamp-counter reading, from `quanta::Clock::raw`.
/// Convert to nanoseconds off the hot path with `quanta::Clock::delta_as_nanos`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tsc(pub u64);

/// A venue timestamp: milliseconds since the Unix epoch, as the venue
/// stamps its events (`E`). Replays are driven by it, so decisions that
/// depend on time (cooldowns, the order-rate bucket, periodic snapshots)
/// are the same on every run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VenueMs(pub u64);

impl VenueMs {
    /// The same instant in nanoseconds (saturating).
    #[inline]
    pub fn as_nanos(self) -> u64 {
        self.0.saturating_mul(1_000_000)
    }

    /// Milliseconds from `earlier` to `self` (zero if `earlier` is later).
    #[inline]
    pub fn since(self, earlier: VenueMs) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// Order or book side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// Bid side / buy order.
    Buy,
    /// Ask side / sell order.
    Sell,
}

impl Side {
    /// The other side.
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }
}

/// One price level: a price and the total quantity resting at it
/// (zero means "remove the level").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Level {
    /// Level price.
    pub px: Px,
    /// Total quantity at `px`; zero deletes the level.
    pub qty: Qty,
}

/// Why a decimal string is not an exact fixed-point number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NumError {
    /// The string is empty or is only a sign or a dot.
    #[error("empty number")]
    Empty,
    /// A character that is not a digit, one leading `-`, or one `.`
    /// (exponents such as `1e400` land here).
    #[error("invalid character in number")]
    InvalidChar,
    /// The integer part does not fit the fixed-point range.
    #[error("number out of range")]
    Overflow,
    /// More than [`FIXED_DECIMALS`] significant fractional digits.
    #[error("more than 8 significant decimals")]
    TooPrecise,
}

/// Parses a decimal string such as `"61837.63000000"`, `"0.014"` or `"42"`
/// into an exact integer at [`FIXED_SCALE`]. Never goes through `f64`.
pub fn parse_fixed(s: &[u8]) -> Result<i64, NumError> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || digits == b"." {
        return Err(NumError::Empty);
    }
    let mut int: u64 = 0;
    let mut frac: u64 = 0;
    let mut frac_digits: u32 = 0;
    let mut seen_dot = false;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                let d = u64::from(b - b'0');
                if seen_dot {
                    if frac_digits < FIXED_DECIMALS {
                        frac = frac * 10 + d;
                        frac_digits += 1;
                    } else if d != 0 {
                        return Err(NumError::TooPrecise);
                    }
                } else {
                    int = int
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(d))
                        .ok_or(NumError::Overflow)?;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return Err(NumError::InvalidChar),
        }
    }
    let frac_scaled = frac * 10u64.pow(FIXED_DECIMALS - frac_digits);
    let v = int
        .checked_mul(FIXED_SCALE as u64)
        .and_then(|v| v.checked_add(frac_scaled))
        .filter(|&v| v <= i64::MAX as u64)
        .ok_or(NumError::Overflow)? as i64;
    Ok(if neg { -v } else { v })
}

/// Writes a fixed-point integer as a decimal string with trailing zeros
/// trimmed (at least one fractional digit is never forced).
pub fn fmt_fixed(v: i64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    let int = a / FIXED_SCALE as u64;
    let frac = a % FIXED_SCALE as u64;
    if frac == 0 {
        return write!(f, "{sign}{int}");
    }
    let mut s = format!("{frac:08}");
    while s.ends_with('0') {
        s.pop();
    }
    write!(f, "{sign}{int}.{s}")
}

impl fmt::Display for Px {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_fixed(self.0, f)
    }
}

impl fmt::Display for Qty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_fixed(self.0, f)
    }
}

/// Reads a fixed-point value from config: a decimal string (`"0.001"`) or an
/// integer. Floats are refused so config never rounds.
fn deserialize_fixed<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a decimal string such as \"0.001\" or an integer")
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<i64, E> {
            parse_fixed(s.as_bytes()).map_err(|e| E::custom(format!("{s:?}: {e}")))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
            v.checked_mul(FIXED_SCALE)
                .ok_or_else(|| E::custom(format!("{v}: {}", NumError::Overflow)))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v)
                .ok()
                .and_then(|v| v.checked_mul(FIXED_SCALE))
                .ok_or_else(|| E::custom(format!("{v}: {}", NumError::Overflow)))
        }
    }
    d.deserialize_any(V)
}

impl<'de> serde::Deserialize<'de> for Px {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_fixed(d).map(Px)
    }
}

impl<'de> serde::Deserialize<'de> for Qty {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_fixed(d).map(Qty)
    }
}

impl serde::Serialize for Px {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl serde::Serialize for Qty {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Maximum length of a venue symbol kept inline (no heap) in events.
pub const SYMBOL_MAX: usize = 23;

/// A venue symbol such as `BTCUSDT` or `BTCUSD_PERP`, stored inline so events
/// stay `Copy` and fixed-size.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SymbolName {
    len: u8,
    bytes: [u8; SYMBOL_MAX],
}

impl SymbolName {
    /// Builds a symbol; `None` when it is empty or longer than [`SYMBOL_MAX`].
    pub fn new(s: &[u8]) -> Option<SymbolName> {
        if s.is_empty() || s.len() > SYMBOL_MAX {
            return None;
        }
        let mut bytes = [0u8; SYMBOL_MAX];
        bytes[..s.len()].copy_from_slice(s);
        Some(SymbolName {
            len: s.len() as u8,
            bytes,
        })
    }

    /// The symbol's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The symbol as text (lossy for non-UTF-8 bytes).
    pub fn as_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.as_bytes())
    }
}

impl fmt::Debug for SymbolName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_str())
    }
}

impl fmt::Display for SymbolName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_str())
    }
}

/// Which Binance market a stream belongs to. Part of an instrument's
/// identity: spot `BTCUSDT` and USD-M `BTCUSDT` are two instruments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Market {
    /// Spot: diffs chain by `U == prev u + 1`.
    Spot,
    /// USD-M futures: diffs chain by `pu == prev u`.
    Usdm,
    /// COIN-M futures: diffs chain by `pu == prev u`.
    Coinm,
}

impl Market {
    /// Lower-case name used in reports and config.
    pub fn name(self) -> &'static str {
        match self {
            Market::Spot => "spot",
            Market::Usdm => "usdm",
            Market::Coinm => "coinm",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_decimals() {
        assert_eq!(parse_fixed(b"61837.63000000"), Ok(6_183_763_000_000));
        assert_eq!(parse_fixed(b"0.014"), Ok(1_400_000));
        assert_eq!(parse_fixed(b"42"), Ok(4_200_000_000));
        assert_eq!(parse_fixed(b"-1.5"), Ok(-150_000_000));
        assert_eq!(parse_fixed(b"0.000000010"), Ok(1));
    }

    #[test]
    fn rejects_absurd_numbers() {
        assert_eq!(parse_fixed(b"1e400"), Err(NumError::InvalidChar));
        assert_eq!(
            parse_fixed(b"1234567890123456789012345678901234567890"),
            Err(NumError::Overflow)
        );
        assert_eq!(parse_fixed(b"0.000000001"), Err(NumError::TooPrecise));
        assert_eq!(parse_fixed(b""), Err(NumError::Empty));
        assert_eq!(parse_fixed(b"1.2.3"), Err(NumError::InvalidChar));
        assert_eq!(
            parse_fixed(b"90000000000"),
            Ok(90_000_000_000 * FIXED_SCALE)
        );
        assert_eq!(parse_fixed(b"93000000000"), Err(NumError::Overflow));
    }

    #[test]
    fn formats_trimmed() {
        assert_eq!(Px(6_183_763_000_000).to_string(), "61837.63");
        assert_eq!(Qty(-150_000_000).to_string(), "-1.5");
        assert_eq!(Qty(4_200_000_000).to_string(), "42");
    }
}
