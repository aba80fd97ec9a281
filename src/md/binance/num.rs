//! Decimal strings to fixed point without a per-digit loop (SWAR on a
//! 16-byte window), falling back to [`parse_fixed`] for anything the window
//! does not cover. Results are identical to [`parse_fixed`] by construction
//! and by test (`swar_number_matches_parse_fixed`).

use crate::types::{FIXED_SCALE, parse_fixed};

/// `0x0101..01` over 16 bytes.
const ONES: u128 = u128::MAX / 255;
const HIGHS: u128 = ONES * 0x80;
const HIGH_NIBBLES: u128 = ONES * 0xF0;
const ASCII_ZEROS: u128 = ONES * 0x30;
const SIXES: u128 = ONES * 0x06;

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

/// Index (0..16) of the first byte equal to `c`, or 16 when there is none.
#[inline(always)]
fn first_eq(w: u128, c: u8) -> u32 {
    let x = w ^ (ONES * u128::from(c));
    // Exact for the lowest zero byte; borrows only create false hits above it.
    let t = x.wrapping_sub(ONES) & !x & HIGHS;
    t.trailing_zeros() / 8
}

/// Value of eight ASCII digits (or zero bytes, read as `0`), first byte most
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
#[inline(always)]
pub(super) fn fixed_in_string(b: &[u8], start: usize) -> Option<(i64, usize)> {
    if let Some(win) = b.get(start..start.saturating_add(16)) {
        let w = u128::from_le_bytes(win.try_into().ok()?);
        let q = first_eq(w, b'"');
        let d = first_eq(w, b'.');
        let int_len = d.min(q);
        let frac_len = if d < q { q - d - 1 } else { 0 };
        if q < 16 && (1..=8).contains(&int_len) && frac_len <= 8 {
            let mut mask = (1u128 << (8 * q)) - 1;
            if d < q {
                mask &= !(0xFFu128 << (8 * d));
            }
            let not_digit = ((w & HIGH_NIBBLES) ^ ASCII_ZEROS)
                | ((w.wrapping_add(SIXES) & HIGH_NIBBLES) ^ ASCII_ZEROS);
            if not_digit & mask == 0 {
                let int = eight_digits((w as u64) << (8 * (8 - int_len)));
                let frac = if d < q {
                    eight_digits(((w >> (8 * (d + 1))) as u64) & LOW_BYTES[frac_len as usize])
                } else {
                    0
                };
                // int < 1e8 and frac < 1e8, so this fits easily.
                let v = int * FIXED_SCALE as u64 + frac;
                return Some((v as i64, start + q as usize));
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
        fixed_in_string(&framed, 0).map(|(v, end)| {
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
