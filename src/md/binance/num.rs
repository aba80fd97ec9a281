//! Decimal strings to fixed point without a per-digit loop (SWAR on a
//! 16-byte window), falling back to [`parse_fixed`] for anything the window
//! does not cover. Results are identical to [`parse_fixed`] by construction
//! and by test (`swar_number_matches_parse_fixed`).

use tickwire_core::types::{FIXED_SCALE, parse_fixed};

/// `LOW_BYTES[k]` keeps the low `k` bytes of a `u64`.
const LOW_BYTES: [u64; 9] = [
    0,
    0xFF,
    0xFFFF,
    0xFF_FFFF,
    0xFFFF_FFFF,
    0xFF_FFFF_FFFF,
    0xFFFF_FFFF_FFFF,
    0xFF_FFFF_FFFF_FFFF,
    u64::MAX,
];

/// Portable version: plain 64-bit SWAR. Used where SSE2 is not enabled;
/// always compiled so the equivalence tests cover it on every machine.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
mod swar {
    use super::LOW_BYTES;
    use tickwire_core::types::FIXED_SCALE;

    /// `0x0101..01`.
    const ONES: u64 = u64::MAX / 255;
    const HIGHS: u64 = ONES * 0x80;
    const HIGH_NIBBLES: u64 = ONES * 0xF0;
    const ASCII_ZEROS: u64 = ONES * 0x30;
    const SIXES: u64 = ONES * 0x06;

    /// Eight bytes at `at`, first byte lowest.
    #[inline(always)]
    fn word(b: &[u8], at: usize) -> Option<u64> {
        let w: [u8; 8] = b.get(at..at.checked_add(8)?)?.try_into().ok()?;
        Some(u64::from_le_bytes(w))
    }

    /// Index (0..8) of the first byte equal to `c`, or 8 when there is none.
    #[inline(always)]
    fn first_eq(w: u64, c: u8) -> usize {
        let x = w ^ (ONES * u64::from(c));
        // Exact for the lowest zero byte; borrows only create false hits above it.
        let t = x.wrapping_sub(ONES) & !x & HIGHS;
        (t.trailing_zeros() / 8) as usize
    }

    /// Non-zero in the bytes of `w` that are not ASCII digits.
    #[inline(always)]
    fn non_digits(w: u64) -> u64 {
        // A carry out of a byte only happens for bytes >= 0xFA, which fail the
        // first test themselves, and only moves upwards.
        ((w & HIGH_NIBBLES) ^ ASCII_ZEROS) | ((w.wrapping_add(SIXES) & HIGH_NIBBLES) ^ ASCII_ZEROS)
    }

    /// Value of eight ASCII digits (zero bytes read as `0`), first byte most
    /// significant.
    #[inline(always)]
    fn eight_digits(v: u64) -> u64 {
        let v = (v & 0x0F0F_0F0F_0F0F_0F0F).wrapping_mul(2561) >> 8;
        let v = (v & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601) >> 16;
        (v & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001) >> 32
    }

    /// Parses the body of a JSON string holding a non-negative decimal number;
    /// `start` is just after the opening quote. Returns the fixed-point value
    /// and the index of the closing quote, or `None` when the body is not a
    /// number [`parse_fixed`] accepts or is negative.
    ///
    /// Fast shape (every real Binance number): 1..=7 integer digits, a dot,
    /// 0..=8 fraction digits, read as two 8-byte words (integer word at the
    /// start, fraction word just after the dot); anything else goes byte by byte.
    #[inline(always)]
    pub(super) fn fixed_in_string_swar(b: &[u8], start: usize) -> Option<(i64, usize)> {
        if let Some(w0) = word(b, start) {
            let d = first_eq(w0, b'.');
            let frac_at = start + d + 1;
            if let (1..=7, Some(w1)) = (d, word(b, frac_at)) {
                let mut k = first_eq(w1, b'"');
                if k == 8 && b.get(frac_at + 8) == Some(&b'"') {
                    k = 8;
                } else if k == 8 {
                    k = 9;
                }
                if k <= 8 {
                    let bad = (non_digits(w0) & LOW_BYTES[d]) | (non_digits(w1) & LOW_BYTES[k]);
                    if bad == 0 {
                        let int = eight_digits(w0 << (8 * (8 - d)));
                        let frac = eight_digits(w1 & LOW_BYTES[k]);
                        // int < 1e7 and frac < 1e8: no overflow.
                        let v = int * FIXED_SCALE as u64 + frac;
                        return Some((v as i64, frac_at + k));
                    }
                }
            }
        }
        super::fixed_in_string_slow(b, start)
    }
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
pub(super) use swar::fixed_in_string_swar as fixed_in_string;

/// x86-64 version of [`swar::fixed_in_string_swar`]: SSE2 (baseline on x86-64)
/// classifies a 16-byte window into quote, dot and digit bitmasks in a few
/// instructions; the digits are then converted with the same SWAR
/// multiplies. Fast shape: 1..=8 integer digits, a dot, 0..=8 fraction
/// digits, closing quote within the window.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub(super) fn fixed_in_string(b: &[u8], start: usize) -> Option<(i64, usize)> {
    use super::simd::{classify, two_eight_digit_words};
    let end = start.saturating_add(16);
    if let Some(win) = b.get(start..end) {
        let w = u128::from_le_bytes(win.try_into().ok()?);
        let (quotes, dots, digits) = classify(w);
        let q = quotes.trailing_zeros() as usize; // 32 when none
        let d = dots.trailing_zeros() as usize;
        // 1..=7 integer digits, then 0..=8 fraction digits, quote in window.
        if d.wrapping_sub(1) < 7 && q > d && q - d <= 9 {
            let below = (1u32 << q) - 1;
            let first_dot = dots & dots.wrapping_neg();
            // The fraction word lies inside the window: d + 1 + 8 <= 16.
            let frac_word = b.get(start + d + 1..start + d + 9)?;
            if (digits | first_dot) & below == below {
                let frac_word = u64::from_le_bytes(frac_word.try_into().ok()?);
                let (int, frac) = two_eight_digit_words(
                    (w as u64) << (8 * (8 - d)),
                    frac_word & LOW_BYTES[q - d - 1],
                );
                // int < 1e7 and frac < 1e8: no overflow.
                let v = u64::from(int) * FIXED_SCALE as u64 + u64::from(frac);
                return Some((v as i64, start + q));
            }
        }
    }
    fixed_in_string_slow(b, start)
}

/// Byte-by-byte version of [`fixed_in_string`] for long numbers and the
/// last bytes of a frame.
#[cold]
fn fixed_in_string_slow(b: &[u8], start: usize) -> Option<(i64, usize)> {
    let rest = b.get(start..)?;
    let len = rest.iter().position(|&c| c == b'"')?;
    let v = parse_fixed(rest.get(..len)?).ok()?;
    (v >= 0).then_some((v, start + len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn via_swar(body: &str) -> Option<i64> {
        let mut framed = body.as_bytes().to_vec();
        framed.extend_from_slice(b"\",\"0.1\"]]}}");
        let fast = fixed_in_string(&framed, 0);
        let portable = swar::fixed_in_string_swar(&framed, 0);
        assert_eq!(fast, portable, "{body:?}: SSE2 and portable SWAR disagree");
        fast.map(|(v, end)| {
            assert_eq!(end, body.len(), "closing quote found at the wrong place");
            v
        })
    }

    fn via_parse_fixed(body: &str) -> Option<i64> {
        parse_fixed(body.as_bytes()).ok().filter(|v| *v >= 0)
    }

    #[test]
    fn swar_parses_binance_shapes_exactly() {
        assert_eq!(via_swar("61837.63000000"), Some(6_183_763_000_000));
        assert_eq!(via_swar("0.00000000"), Some(0));
        assert_eq!(via_swar("61800.30"), Some(6_180_030_000_000));
        assert_eq!(via_swar("12.111"), Some(1_211_100_000));
        assert_eq!(via_swar("42"), Some(4_200_000_000));
        assert_eq!(via_swar("99999999.99999999"), Some(9_999_999_999_999_999));
        assert_eq!(via_swar("1234567890.5"), Some(123_456_789_050_000_000));
        assert_eq!(via_swar("1e400"), None);
        assert_eq!(via_swar("-1.5"), None);
        assert_eq!(via_swar(""), None);
        assert_eq!(via_swar("1.2.3"), None);
        assert_eq!(via_swar("0.000000001"), None);
    }

    proptest! {
        #[test]
        fn swar_number_matches_parse_fixed(body in "[0-9.\\-e:/ ]{0,22}") {
            prop_assert_eq!(via_swar(&body), via_parse_fixed(&body));
        }

        #[test]
        fn swar_number_matches_parse_fixed_on_decimals(
            int in "[0-9]{0,12}", dot in any::<bool>(), frac in "[0-9]{0,11}"
        ) {
            let body = if dot { format!("{int}.{frac}") } else { format!("{int}{frac}") };
            prop_assert_eq!(via_swar(&body), via_parse_fixed(&body));
        }
    }
}
