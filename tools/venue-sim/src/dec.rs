//! The simulator's own fixed-point decimal: an `i128` count of 1e-12 units.
//!
//! Binance sends prices and quantities as decimal strings of at most 8
//! fractional digits; 12 leaves room for products and averages without
//! ever going through floating point.

use std::fmt;

/// Fractional digits kept.
const SCALE_DIGITS: u32 = 12;
/// 10^SCALE_DIGITS.
const SCALE: i128 = 1_000_000_000_000;

/// A signed decimal with 12 fractional digits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dec(i128);

impl Dec {
    /// Zero.
    pub const ZERO: Dec = Dec(0);
    /// One.
    pub const ONE: Dec = Dec(SCALE);

    /// Parses a plain decimal string (`"61837.63000000"`, `"-1.5"`, `"3"`).
    /// Exponents, more than 12 fractional digits, empty parts and values too
    /// large for the type are refused (`None`).
    pub fn parse(s: &str) -> Option<Dec> {
        let (neg, body) = match s.as_bytes().first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if int.len() > 24 || frac.len() > SCALE_DIGITS as usize {
            return None;
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut v: i128 = 0;
        for b in int.bytes() {
            v = v.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
        }
        v = v.checked_mul(SCALE)?;
        let mut f: i128 = 0;
        for b in frac.bytes() {
            f = f * 10 + i128::from(b - b'0');
        }
        f *= 10i128.pow(SCALE_DIGITS - frac.len() as u32);
        v = v.checked_add(f)?;
        Some(Dec(if neg { -v } else { v }))
    }

    /// An integer value.
    pub fn from_int(v: i64) -> Dec {
        Dec(i128::from(v) * SCALE)
    }

    /// The value in 1e-8 units, truncated toward zero (saturating).
    pub fn to_i64_e8(&self) -> i64 {
        let v = self.0 / 10_000;
        i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
    }

    /// The raw count of 1e-12 units.
    pub fn raw(&self) -> i128 {
        self.0
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }

    /// True below zero.
    pub fn is_negative(&self) -> bool {
        self.0 < 0
    }

    /// True above zero.
    pub fn is_positive(&self) -> bool {
        self.0 > 0
    }

    /// Absolute value.
    pub fn abs(&self) -> Dec {
        Dec(self.0.saturating_abs())
    }

    /// Sum, `None` on overflow.
    pub fn checked_add(self, o: Dec) -> Option<Dec> {
        self.0.checked_add(o.0).map(Dec)
    }

    /// Difference, `None` on overflow.
    pub fn checked_sub(self, o: Dec) -> Option<Dec> {
        self.0.checked_sub(o.0).map(Dec)
    }

    /// Product truncated to 12 digits, `None` on overflow.
    pub fn checked_mul(self, o: Dec) -> Option<Dec> {
        // Split to keep the intermediate small: a*b/S = a*(bi) + a*bf/S.
        let bi = o.0 / SCALE;
        let bf = o.0 % SCALE;
        let hi = self.0.checked_mul(bi)?;
        let lo = self.0.checked_mul(bf)? / SCALE;
        hi.checked_add(lo).map(Dec)
    }

    /// Quotient truncated to 12 digits, `None` on division by zero or overflow.
    pub fn checked_div(self, o: Dec) -> Option<Dec> {
        if o.0 == 0 {
            return None;
        }
        // (a*S)/b computed in two steps to limit overflow.
        let q = self.0.checked_div(o.0)?;
        let r = self.0.checked_rem(o.0)?;
        let hi = q.checked_mul(SCALE)?;
        let lo = r.checked_mul(SCALE)? / o.0;
        hi.checked_add(lo).map(Dec)
    }

    /// Saturating sum (for counters that must never panic).
    pub fn plus(self, o: Dec) -> Dec {
        Dec(self.0.saturating_add(o.0))
    }

    /// Saturating difference.
    pub fn minus(self, o: Dec) -> Dec {
        Dec(self.0.saturating_sub(o.0))
    }

    /// Product, saturating to zero-safe bounds on overflow.
    pub fn times(self, o: Dec) -> Dec {
        self.checked_mul(o).unwrap_or(if (self.0 < 0) ^ (o.0 < 0) {
            Dec(i128::MIN / 2)
        } else {
            Dec(i128::MAX / 2)
        })
    }

    /// Negation.
    pub fn negated(self) -> Dec {
        Dec(-self.0)
    }

    /// Smaller of two.
    pub fn min(self, o: Dec) -> Dec {
        if self <= o { self } else { o }
    }

    /// True when `self` is a whole multiple of `step` (a zero step accepts all).
    pub fn is_multiple_of(&self, step: Dec) -> bool {
        step.0 == 0 || self.0 % step.0 == 0
    }

    /// Rounded down (toward zero) to a whole multiple of `step`.
    pub fn floor_to(&self, step: Dec) -> Dec {
        if step.0 <= 0 {
            return *self;
        }
        Dec(self.0 / step.0 * step.0)
    }

    /// Number of fractional digits needed to write the value exactly.
    pub fn scale_digits(&self) -> u32 {
        let mut v = self.0.unsigned_abs() % SCALE as u128;
        if v == 0 {
            return 0;
        }
        let mut d = SCALE_DIGITS;
        while v.is_multiple_of(10) {
            v /= 10;
            d -= 1;
        }
        d
    }

    /// `10^-digits` (digits ≤ 12).
    pub fn unit(digits: u32) -> Dec {
        Dec(10i128.pow(SCALE_DIGITS - digits.min(SCALE_DIGITS)))
    }

    /// Written with exactly `digits` fractional digits (truncating).
    pub fn fmt_fixed(&self, digits: u32) -> String {
        let digits = digits.min(SCALE_DIGITS);
        let neg = self.0 < 0;
        let a = self.0.unsigned_abs();
        let s = SCALE as u128;
        let int = a / s;
        let frac = (a % s) / 10u128.pow(SCALE_DIGITS - digits);
        let mut out = String::new();
        if neg && (int != 0 || frac != 0) {
            out.push('-');
        }
        out.push_str(&int.to_string());
        if digits > 0 {
            out.push('.');
            out.push_str(&format!("{:0width$}", frac, width = digits as usize));
        }
        out
    }
}

impl fmt::Display for Dec {
    /// The shortest exact form: `1.5`, `0.001`, `-3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.fmt_fixed(self.scale_digits()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_exactly() {
        let d = Dec::parse("61837.63000000").expect("parses");
        assert_eq!(d.to_string(), "61837.63");
        assert_eq!(d.fmt_fixed(8), "61837.63000000");
        assert_eq!(d.to_i64_e8(), 6_183_763_000_000);
        assert_eq!(
            Dec::parse("-0.001").map(|d| d.to_string()),
            Some("-0.001".into())
        );
        assert_eq!(Dec::parse("3").map(|d| d.to_string()), Some("3".into()));
        assert_eq!(Dec::parse(".5").map(|d| d.to_string()), Some("0.5".into()));
        for bad in ["", "-", ".", "1e5", "1.2.3", "abc", "0.0000000000001", "1 "] {
            assert_eq!(Dec::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn arithmetic_is_exact() {
        let p = Dec::parse("61800.2").unwrap();
        let q = Dec::parse("0.003").unwrap();
        assert_eq!(p.checked_mul(q).unwrap().to_string(), "185.4006");
        assert_eq!(
            Dec::ONE.checked_div(Dec::from_int(4)).unwrap().to_string(),
            "0.25"
        );
        assert!(
            Dec::parse("0.30")
                .unwrap()
                .is_multiple_of(Dec::parse("0.1").unwrap())
        );
        assert!(
            !Dec::parse("0.35")
                .unwrap()
                .is_multiple_of(Dec::parse("0.1").unwrap())
        );
        assert_eq!(Dec::parse("61800.20").unwrap().scale_digits(), 1);
        assert_eq!(Dec::unit(2).to_string(), "0.01");
        assert_eq!(Dec::ZERO.checked_div(Dec::ZERO), None);
        // Extremes saturate or refuse; they never panic.
        let big = Dec::parse("-999999999999999999999999").unwrap();
        let low = big
            .times(big.negated())
            .plus(big.times(big.negated()))
            .minus(Dec::ONE);
        assert!(low.is_negative());
        let _ = (
            low.abs(),
            low.scale_digits(),
            low.to_i64_e8(),
            low.to_string(),
        );
        assert_eq!(
            low.checked_div(Dec::parse("-0.000000000001").unwrap()),
            None
        );
    }
}
