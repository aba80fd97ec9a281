//! Money: [`Notional`], an exact amount of quote currency.
//!
//! A price ([`Px`], 1e-8 units) times a quantity ([`Qty`], 1e-8 units) is
//! an integer at 1e-16 units; `Notional` keeps exactly that, in an `i128`,
//! so fills, costs and pnl accumulate without rounding. The scale is stated
//! here once ([`NOTIONAL_SCALE`]); everything that adds, compares or prints
//! money goes through this type.

use std::fmt;

use crate::types::{FIXED_SCALE, Px, Qty, parse_fixed};

/// Decimal places carried by a [`Notional`] (price decimals + quantity
/// decimals).
pub const NOTIONAL_DECIMALS: u32 = 16;
/// `10^NOTIONAL_DECIMALS`: the integer that represents one unit of quote.
pub const NOTIONAL_SCALE: i128 = 10_000_000_000_000_000;

/// An exact amount of quote currency, in units of 1e-16.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Notional(pub i128);

impl Notional {
    /// Zero.
    pub const ZERO: Notional = Notional(0);

    /// `px * qty`, exact.
    #[inline]
    pub fn of(px: Px, qty: Qty) -> Notional {
        Notional(i128::from(px.0) * i128::from(qty.0))
    }

    /// An amount given at the 1e-8 scale of [`Px`]/[`Qty`] (a decimal
    /// parsed by [`parse_fixed`]).
    pub fn from_fixed(v: i64) -> Notional {
        Notional(i128::from(v) * i128::from(FIXED_SCALE))
    }

    /// Adds, saturating at the `i128` range.
    #[inline]
    pub fn saturating_add(self, o: Notional) -> Notional {
        Notional(self.0.saturating_add(o.0))
    }

    /// Subtracts, saturating at the `i128` range.
    #[inline]
    pub fn saturating_sub(self, o: Notional) -> Notional {
        Notional(self.0.saturating_sub(o.0))
    }
}

impl std::ops::Neg for Notional {
    type Output = Notional;
    /// Minus this amount (saturating).
    fn neg(self) -> Notional {
        Notional(self.0.saturating_neg())
    }
}

impl fmt::Display for Notional {
    /// Decimal quote amount, shown to 8 decimals (truncated toward zero),
    /// trailing zeros dropped: `-12.5`, `0.00000001`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.0 / i128::from(FIXED_SCALE);
        let sign = if shown < 0 { "-" } else { "" };
        let a = shown.unsigned_abs();
        let scale = FIXED_SCALE as u128;
        let (int, frac) = (a / scale, a % scale);
        if frac == 0 {
            return write!(f, "{sign}{int}");
        }
        let mut s = format!("{frac:08}");
        while s.ends_with('0') {
            s.pop();
        }
        write!(f, "{sign}{int}.{s}")
    }
}

impl serde::Serialize for Notional {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Notional {
    /// A decimal string of quote currency (`"5000"`, `"0.5"`) or an integer;
    /// at most 8 decimals, never a float.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Notional;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal string of quote currency such as \"5000\" or an integer")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Notional, E> {
                parse_fixed(s.as_bytes())
                    .map(Notional::from_fixed)
                    .map_err(|e| E::custom(format!("{s:?}: {e}")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Notional, E> {
                Ok(Notional(i128::from(v) * NOTIONAL_SCALE))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Notional, E> {
                Ok(Notional(i128::from(v) * NOTIONAL_SCALE))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notional_is_exact_and_prints_quote_currency() {
        let n = Notional::of(Px(6_180_000_000_000), Qty(1_000_000)); // 61800 x 0.01
        assert_eq!(n.to_string(), "618");
        assert_eq!(Notional::from_fixed(50_000_000).to_string(), "0.5");
        assert_eq!(Notional(-NOTIONAL_SCALE / 4).to_string(), "-0.25");
        // Below the shown precision, kept exactly, shown as zero.
        assert_eq!(Notional(1).to_string(), "0");
        assert_eq!(Notional(1).saturating_add(Notional(2)), Notional(3));
    }
}
