//! SSE2 byte classification of a 16-byte window, the only `unsafe` of the
//! decoder. SSE2 is part of the x86-64 baseline, so this module is compiled
//! only when the build statically enables it; the intrinsics take no
//! pointers and read no memory.
#![allow(unsafe_code)]

use std::arch::x86_64::{
    _mm_and_si128, _mm_cmpeq_epi8, _mm_cvtsi128_si32, _mm_madd_epi16, _mm_min_epu8,
    _mm_movemask_epi8, _mm_packs_epi32, _mm_set_epi64x, _mm_set1_epi8, _mm_set1_epi32,
    _mm_setzero_si128, _mm_srli_si128, _mm_sub_epi8, _mm_unpackhi_epi8, _mm_unpacklo_epi8,
};

/// Bitmasks (bit `i` = byte `i`, first byte lowest) of the bytes of `w`
/// that are `"`, `.` and ASCII digits.
#[inline(always)]
pub(super) fn classify(w: u128) -> (u32, u32, u32) {
    // SAFETY: this module is compiled only with `target_feature = "sse2"`
    // enabled for the whole build (see the `cfg` on its declaration), so the
    // CPU running this code supports every SSE2 instruction used.
    unsafe { classify_sse2(w) }
}

#[target_feature(enable = "sse2")]
fn classify_sse2(w: u128) -> (u32, u32, u32) {
    let v = _mm_set_epi64x((w >> 64) as i64, w as i64);
    let quotes = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8))) as u32;
    let dots = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'.' as i8))) as u32;
    // Digit iff (byte - '0') as unsigned <= 9.
    let t = _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8));
    let digits = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(9)), t)) as u32;
    (quotes, dots, digits)
}

/// Values of two words of eight ASCII digits each (zero bytes read as `0`,
/// first byte most significant), converted together with SSE2
/// multiply-adds instead of six scalar multiplies.
#[inline(always)]
pub(super) fn two_eight_digit_words(a: u64, b: u64) -> (u32, u32) {
    // SAFETY: as in `classify`, SSE2 is statically enabled for this build.
    unsafe { two_eight_digit_words_sse2(a, b) }
}

#[target_feature(enable = "sse2")]
fn two_eight_digit_words_sse2(a: u64, b: u64) -> (u32, u32) {
    let x = _mm_and_si128(_mm_set_epi64x(b as i64, a as i64), _mm_set1_epi8(0x0F));
    let zero = _mm_setzero_si128();
    // i16 lanes of pairs (10, 1), (100, 1) and (10000, 1).
    let tens = _mm_set1_epi32(0x0001_000A);
    let hundreds = _mm_set1_epi32(0x0001_0064);
    let ten_thousands = _mm_set1_epi32(0x0001_2710);
    let pairs_a = _mm_madd_epi16(_mm_unpacklo_epi8(x, zero), tens);
    let pairs_b = _mm_madd_epi16(_mm_unpackhi_epi8(x, zero), tens);
    let quads = _mm_madd_epi16(_mm_packs_epi32(pairs_a, pairs_b), hundreds);
    let eights = _mm_madd_epi16(_mm_packs_epi32(quads, quads), ten_thousands);
    let va = _mm_cvtsi128_si32(eights) as u32;
    let vb = _mm_cvtsi128_si32(_mm_srli_si128::<4>(eights)) as u32;
    (va, vb)
}
