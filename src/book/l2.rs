//! One instrument's L2 price levels: a dense tick ladder around the touch
//! plus a sorted overflow store for the far levels.
//!
//! # Design
//!
//! Each side is a `Ladder` over integer *keys* where a larger key is a
//! better price: bids use `key = px / tick`, asks `key = -(px / tick)`, so
//! one implementation serves both sides and "best" is always "max key".
//!
//! - **Window.** `qty[WINDOW]` is indexed by `key - base`. An occupancy bitmap
//!   (`bits`, one bit per slot) and a summary bitmap (one bit per non-zero
//!   `bits` word) find the next best level after the best is deleted in a
//!   couple of word scans.
//! - **Overflow.** Levels with `key < base` (far from the touch) live in a
//!   `Vec<(key, qty)>` sorted ascending, so its best end is the tail.
//! - **Invariant.** No level is above the window, and when the side is not
//!   empty its best level is inside the window (cached as `best_off`).
//! - **Re-centring.** An insert above the window, an emptied window, or a best
//!   that drifts into the bottom quarter of the window while overflow holds
//!   levels rebuilds the side with the best at 3/4 of the window. It costs
//!   O(levels + WINDOW/64) and reuses `overflow` and `scratch`, which keep
//!   their capacity, so steady state does not allocate.
//! - **Tick.** Configured or learnt as the gcd of prices seen. A price that is
//!   not a multiple of the tick shrinks the tick to the gcd and re-lays out
//!   both sides. Division by the tick uses a precomputed multiply-shift
//!   (no `idiv` on the hot path).
//!
//! # Evidence
//!
//! `cargo bench --bench book -- --warm-up-time 1 --measurement-time 3`,
//! group `book_apply` (all level updates after the REST snapshot of the real
//! Binance BTCUSDT captures of 2024-08-08), 2-core noisy VM, criterion means:
//!
//! | capture | updates | `l2book` | `btreemap` | ratio |
//! |---|---|---|---|---|
//! | USD-M (tick 0.1) | 443,262 | 8.2–8.9 ns | 63–66 ns | 7.5–7.7x |
//! | spot (tick 0.01) | 124,073 | 11.7–14.1 ns | 61–94 ns | 5.2–6.6x |
//!
//! Window size (same bench, one run each, ns/update USD-M / spot):
//! 2^14 slots 11 / 22, 2^15 9.4 / 14.7, 2^16 8.6 / 11.3. Smaller windows
//! send more updates to the overflow `Vec`, whose memmove dominates on spot
//! (2^14: 17% of spot updates inserted or removed there, moving ~360 entries
//! each; 2^16: 4.5%).
//!
//! Re-measured on a quiet machine (criterion medians, total ms for all
//! updates, l2book vs btreemap in the same run): 2^16 USD-M 3.79 vs 24.65
//! (6.5x), spot 1.48 vs 7.23 (4.9x); 2^17 USD-M 3.45 vs 25.00 (7.2x), spot
//! 1.40 vs 7.40 (5.3x); 2^18 USD-M 3.43 vs 24.77 (7.2x), spot 1.29 vs 7.28
//! (5.7x). 2^18 is the default: spot needs the wider window to stay clear
//! of the 5x bar, and the extra memory is only address space until touched.

use tickwire_core::types::{Level, Px, Qty, Side};

/// log2 of the dense window size in ticks (see "Evidence" in the module docs).
///
/// 2^18 slots = 26,214 USD of USD-M BTCUSDT (tick 0.1) or 2,621 USD of spot
/// (tick 0.01); 2 MiB of quantities + 32 KiB of bitmap per side. Only the
/// cache lines near live levels are touched.
pub const WINDOW_LOG2: u32 = 18;
const WINDOW: usize = 1 << WINDOW_LOG2;
const WORDS: usize = WINDOW / 64;
const SUMMARY_WORDS: usize = WORDS.div_ceil(64);
/// Where the best level sits after a re-centre (offset from `base`).
const BEST_AT: i64 = (WINDOW as i64 / 4) * 3;
/// A best below this offset (while overflow holds levels) triggers a re-centre.
const LOW_WATER: usize = WINDOW / 4;
/// Capacity reserved up front for the overflow and scratch stores.
const RESERVE: usize = 4096;

/// Exact division of positive `i64` by a fixed positive divisor without
/// `idiv`: `q = (n * magic) >> shift` (Granlund–Montgomery, numerators below
/// 2^63).
#[derive(Clone, Copy, Debug)]
struct TickDiv {
    tick: i64,
    magic: u128,
    shift: u32,
}

impl TickDiv {
    fn new(tick: i64) -> TickDiv {
        debug_assert!(tick > 0);
        let d = tick as u64;
        // l = ceil(log2 d)
        let l = 64 - (d - 1).leading_zeros();
        let shift = 63 + l;
        let magic = (1u128 << shift).div_ceil(u128::from(d));
        TickDiv { tick, magic, shift }
    }

    /// `Some(n / tick)` when `n` is a multiple of the tick, for `n > 0`.
    #[inline]
    fn exact(&self, n: i64) -> Option<i64> {
        let q = ((n as u128 * self.magic) >> self.shift) as i64;
        (q.wrapping_mul(self.tick) == n).then_some(q)
    }
}

fn gcd(mut a: i64, mut b: i64) -> i64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// One side of the book over keys where larger is better.
struct Ladder {
    /// `1` for bids, `-1` for asks: `key = sign * px / tick`.
    sign: i64,
    /// Key of slot 0 of the window.
    base: i64,
    qty: Box<[i64]>,
    bits: Box<[u64]>,
    summary: Box<[u64]>,
    /// Number of occupied window slots.
    in_window: usize,
    /// Offset of the best level; meaningful when `in_window > 0`.
    best_off: usize,
    /// Levels with `key < base`, sorted ascending by key.
    overflow: Vec<(i64, i64)>,
    /// Re-layout buffer, kept to avoid allocation.
    scratch: Vec<(i64, i64)>,
}

impl Ladder {
    fn new(sign: i64) -> Ladder {
        Ladder {
            sign,
            base: 0,
            qty: vec![0; WINDOW].into_boxed_slice(),
            bits: vec![0; WORDS].into_boxed_slice(),
            summary: vec![0; SUMMARY_WORDS].into_boxed_slice(),
            in_window: 0,
            best_off: 0,
            overflow: Vec::with_capacity(RESERVE),
            scratch: Vec::with_capacity(RESERVE),
        }
    }

    fn len(&self) -> usize {
        self.in_window + self.overflow.len()
    }

    /// Best `(key, qty)`.
    #[inline]
    fn best(&self) -> Option<(i64, i64)> {
        (self.in_window > 0).then(|| {
            (
                self.base.wrapping_add(self.best_off as i64),
                self.qty[self.best_off],
            )
        })
    }

    fn clear(&mut self) {
        self.clear_window();
        self.overflow.clear();
    }

    /// Empties the window, touching only non-zero words.
    fn clear_window(&mut self) {
        for s in 0..SUMMARY_WORDS {
            let mut sw = self.summary[s];
            while sw != 0 {
                let w = s * 64 + sw.trailing_zeros() as usize;
                sw &= sw - 1;
                let mut bw = self.bits[w];
                while bw != 0 {
                    self.qty[w * 64 + bw.trailing_zeros() as usize] = 0;
                    bw &= bw - 1;
                }
                self.bits[w] = 0;
            }
            self.summary[s] = 0;
        }
        self.in_window = 0;
    }

    #[inline]
    fn set_bit(&mut self, off: usize) {
        let w = off / 64;
        self.bits[w] |= 1 << (off % 64);
        self.summary[w / 64] |= 1 << (w % 64);
    }

    #[inline]
    fn clear_bit(&mut self, off: usize) {
        let w = off / 64;
        self.bits[w] &= !(1 << (off % 64));
        if self.bits[w] == 0 {
            self.summary[w / 64] &= !(1 << (w % 64));
        }
    }

    /// Highest occupied offset strictly below `off`.
    fn prev_below(&self, off: usize) -> Option<usize> {
        let w = off / 64;
        let masked = self.bits[w] & ((1u64 << (off % 64)) - 1);
        if masked != 0 {
            return Some(w * 64 + 63 - masked.leading_zeros() as usize);
        }
        // Words strictly below `w`, via the summary.
        let mut s = w / 64;
        let mut sw = self.summary[s] & ((1u64 << (w % 64)) - 1);
        loop {
            if sw != 0 {
                let pw = s * 64 + 63 - sw.leading_zeros() as usize;
                let bw = self.bits[pw];
                return Some(pw * 64 + 63 - bw.leading_zeros() as usize);
            }
            if s == 0 {
                return None;
            }
            s -= 1;
            sw = self.summary[s];
        }
    }

    /// Sets the quantity at `key`; `qty == 0` deletes.
    #[inline]
    fn set(&mut self, key: i64, qty: i64) {
        if self.in_window == 0 {
            // Empty side (by the invariant): place the window around `key`.
            if qty != 0 {
                self.base = key.saturating_sub(BEST_AT);
                let off = key.wrapping_sub(self.base) as usize;
                self.set_in_window(off, qty);
            }
            return;
        }
        let off = key.wrapping_sub(self.base) as u64;
        if off < WINDOW as u64 {
            self.set_in_window(off as usize, qty);
        } else if key < self.base {
            self.set_overflow(key, qty);
        } else if qty != 0 {
            // Above the window: a new best far from the old one.
            self.rebuild(|k| k, Some((key, qty)));
        }
    }

    #[inline]
    fn set_in_window(&mut self, off: usize, qty: i64) {
        let old = self.qty[off];
        self.qty[off] = qty;
        if qty != 0 {
            if old == 0 {
                self.set_bit(off);
                if self.in_window == 0 || off > self.best_off {
                    self.best_off = off;
                }
                self.in_window += 1;
            }
        } else if old != 0 {
            self.clear_bit(off);
            self.in_window -= 1;
            if off == self.best_off {
                self.best_removed();
            }
        }
    }

    #[cold]
    fn best_removed(&mut self) {
        match self.prev_below(self.best_off) {
            Some(off) => {
                self.best_off = off;
                if off < LOW_WATER && !self.overflow.is_empty() {
                    self.rebuild(|k| k, None);
                }
            }
            None => {
                if !self.overflow.is_empty() {
                    self.rebuild(|k| k, None);
                }
            }
        }
    }

    fn set_overflow(&mut self, key: i64, qty: i64) {
        match self.overflow.binary_search_by_key(&key, |e| e.0) {
            Ok(i) => {
                if qty == 0 {
                    self.overflow.remove(i);
                } else {
                    self.overflow[i].1 = qty;
                }
            }
            Err(i) => {
                if qty != 0 {
                    self.overflow.insert(i, (key, qty));
                }
            }
        }
    }

    /// Gathers every level (keys mapped through `map`, which must be strictly
    /// increasing), appends `extra` (a key above all others), and lays the
    /// side out again with the best at [`BEST_AT`].
    #[cold]
    fn rebuild(&mut self, map: impl Fn(i64) -> i64, extra: Option<(i64, i64)>) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.extend(self.overflow.drain(..).map(|(k, q)| (map(k), q)));
        for w in 0..WORDS {
            let mut bw = self.bits[w];
            while bw != 0 {
                let off = w * 64 + bw.trailing_zeros() as usize;
                bw &= bw - 1;
                let key = self.base.wrapping_add(off as i64);
                scratch.push((map(key), self.qty[off]));
            }
        }
        self.clear_window();
        scratch.extend(extra);
        if let Some(&(top, _)) = scratch.last() {
            self.base = top.saturating_sub(BEST_AT);
            for &(key, qty) in &scratch {
                if key < self.base {
                    self.overflow.push((key, qty));
                } else {
                    let off = key.wrapping_sub(self.base) as usize;
                    self.qty[off] = qty;
                    self.set_bit(off);
                    self.in_window += 1;
                    self.best_off = off;
                }
            }
        }
        self.scratch = scratch;
    }

    fn iter(&self, tick: i64) -> LadderIter<'_> {
        let (word, bits) = if self.in_window > 0 {
            let w = self.best_off / 64;
            (w, self.bits[w])
        } else {
            (0, 0)
        };
        LadderIter {
            ladder: self,
            tick,
            word,
            bits,
            overflow_left: self.overflow.len(),
        }
    }
}

/// Best-first iterator over one side: window (bitmap, descending keys), then
/// the overflow store from its tail.
struct LadderIter<'a> {
    ladder: &'a Ladder,
    tick: i64,
    word: usize,
    bits: u64,
    overflow_left: usize,
}

impl Iterator for LadderIter<'_> {
    type Item = Level;

    #[inline]
    fn next(&mut self) -> Option<Level> {
        let l = self.ladder;
        let (key, qty) = loop {
            if self.bits != 0 {
                let b = 63 - self.bits.leading_zeros() as usize;
                self.bits &= !(1u64 << b);
                let off = self.word * 64 + b;
                break (l.base.wrapping_add(off as i64), l.qty[off]);
            }
            if self.word > 0 {
                self.word -= 1;
                self.bits = l.bits[self.word];
                continue;
            }
            self.overflow_left = self.overflow_left.checked_sub(1)?;
            break *l.overflow.get(self.overflow_left)?;
        };
        Some(Level {
            px: Px(l.sign * key * self.tick),
            qty: Qty(qty),
        })
    }
}

/// One instrument's L2 book: bid and ask price levels with exact fixed-point
/// quantities. See the module docs for the layout and its measurements.
pub struct L2Book {
    tick: Option<TickDiv>,
    bids: Ladder,
    asks: Ladder,
}

impl L2Book {
    /// An empty book. `tick` comes from config, or `None` to learn it from the
    /// prices seen (gcd). A configured tick that the data violates is
    /// refined the same way rather than trusted.
    pub fn new(tick: Option<Px>) -> L2Book {
        L2Book {
            tick: tick.filter(|t| t.0 > 0).map(|t| TickDiv::new(t.0)),
            bids: Ladder::new(1),
            asks: Ladder::new(-1),
        }
    }

    /// Drops every level (resync) but keeps the tick and all allocations.
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }

    /// Sets the quantity resting at `px` on `side` (`Side::Buy` = bids).
    /// `qty == 0` deletes the level; deleting an absent level is a no-op.
    /// Prices `<= 0` cannot be levels and are ignored.
    #[inline]
    pub fn apply(&mut self, side: Side, px: Px, qty: Qty) {
        if px.0 <= 0 {
            return;
        }
        let idx = match self.tick.and_then(|t| t.exact(px.0)) {
            Some(idx) => idx,
            None => {
                if qty.0 == 0 {
                    // Off the grid, so certainly absent.
                    return;
                }
                self.refine_tick(px.0)
            }
        };
        match side {
            Side::Buy => self.bids.set(idx, qty.0),
            Side::Sell => self.asks.set(-idx, qty.0),
        }
    }

    /// Shrinks the tick so that `px` is on the grid, re-lays out both sides
    /// and returns `px / tick`.
    #[cold]
    fn refine_tick(&mut self, px: i64) -> i64 {
        let new = match self.tick {
            Some(t) => gcd(t.tick, px),
            None => px,
        };
        if let Some(old) = self.tick {
            let factor = old.tick / new;
            // key * factor cannot overflow: |key| * old <= i64::MAX and new >= 1.
            self.bids.rebuild(|k| k * factor, None);
            self.asks.rebuild(|k| k * factor, None);
        }
        self.tick = Some(TickDiv::new(new));
        px / new
    }

    fn ladder(&self, side: Side) -> &Ladder {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    fn level(&self, side: Side, (key, qty): (i64, i64)) -> Level {
        let tick = self.tick.map_or(0, |t| t.tick);
        Level {
            px: Px(self.ladder(side).sign * key * tick),
            qty: Qty(qty),
        }
    }

    /// Highest bid.
    #[inline]
    pub fn best_bid(&self) -> Option<Level> {
        self.bids.best().map(|b| self.level(Side::Buy, b))
    }

    /// Lowest ask.
    #[inline]
    pub fn best_ask(&self) -> Option<Level> {
        self.asks.best().map(|a| self.level(Side::Sell, a))
    }

    /// Number of bid levels.
    pub fn bid_depth(&self) -> usize {
        self.bids.len()
    }

    /// Number of ask levels.
    pub fn ask_depth(&self) -> usize {
        self.asks.len()
    }

    /// `true` when the best bid is at or above the best ask.
    pub fn is_crossed(&self) -> bool {
        match (self.best_bid(), self.best_ask()) {
            (Some(b), Some(a)) => b.px >= a.px,
            _ => false,
        }
    }

    /// Copies up to `out.len()` levels of `side`, best first, into `out` and
    /// returns how many were written. Does not allocate.
    pub fn top(&self, side: Side, out: &mut [Level]) -> usize {
        let mut n = 0;
        for (slot, level) in out.iter_mut().zip(self.levels(side)) {
            *slot = level;
            n += 1;
        }
        n
    }

    /// Every level of `side`, best first.
    pub fn levels(&self, side: Side) -> impl Iterator<Item = Level> + '_ {
        self.ladder(side).iter(self.tick.map_or(0, |t| t.tick))
    }

    /// The tick in use (configured or learnt so far); `None` before the first
    /// price when not configured.
    pub fn tick(&self) -> Option<Px> {
        self.tick.map(|t| Px(t.tick))
    }
}

impl std::fmt::Debug for L2Book {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("L2Book")
            .field("tick", &self.tick())
            .field("best_bid", &self.best_bid())
            .field("best_ask", &self.best_ask())
            .field("bid_depth", &self.bid_depth())
            .field("ask_depth", &self.ask_depth())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn px(v: i64) -> Px {
        Px(v)
    }

    #[test]
    fn tick_division_matches_hardware_division() {
        let ticks = [
            1,
            3,
            7,
            10,
            1_000_000,
            10_000_000,
            999_999_937,
            i64::MAX / 3,
            i64::MAX,
        ];
        let nums = [
            1,
            2,
            9,
            10,
            11,
            6_180_020_000_000,
            i64::MAX - 1,
            i64::MAX,
            1 << 62,
        ];
        for &t in &ticks {
            let d = TickDiv::new(t);
            for &n in &nums {
                let want = (n % t == 0).then_some(n / t);
                assert_eq!(d.exact(n), want, "n={n} t={t}");
                let m = (n / t) * t;
                if m > 0 {
                    assert_eq!(d.exact(m), Some(n / t), "m={m} t={t}");
                }
            }
        }
    }

    #[test]
    fn tick_is_learnt_as_gcd_of_prices() {
        let mut b = L2Book::new(None);
        b.apply(Side::Buy, px(6_180_020_000_000), Qty(1));
        b.apply(Side::Buy, px(6_180_010_000_000), Qty(2));
        assert_eq!(b.tick(), Some(Px(10_000_000)));
        assert_eq!(
            b.best_bid(),
            Some(Level {
                px: px(6_180_020_000_000),
                qty: Qty(1)
            })
        );
        assert_eq!(b.bid_depth(), 2);
    }

    #[test]
    fn off_grid_price_refines_configured_tick_and_keeps_levels() {
        let mut b = L2Book::new(Some(Px(100)));
        b.apply(Side::Sell, px(1_000), Qty(5));
        b.apply(Side::Sell, px(1_100), Qty(6));
        b.apply(Side::Sell, px(1_050), Qty(7));
        assert_eq!(b.tick(), Some(Px(50)));
        let asks: Vec<_> = b.levels(Side::Sell).map(|l| l.px.0).collect();
        assert_eq!(asks, vec![1_000, 1_050, 1_100]);
    }

    #[test]
    fn deleting_the_best_far_from_the_rest_pulls_levels_from_overflow() {
        let mut b = L2Book::new(Some(Px(1)));
        b.apply(Side::Buy, px(10), Qty(1));
        b.apply(Side::Buy, px(10 + 5 * WINDOW as i64), Qty(2));
        assert_eq!(b.best_bid().map(|l| l.px.0), Some(10 + 5 * WINDOW as i64));
        b.apply(Side::Buy, px(10 + 5 * WINDOW as i64), Qty(0));
        assert_eq!(
            b.best_bid(),
            Some(Level {
                px: px(10),
                qty: Qty(1)
            })
        );
        assert_eq!(b.bid_depth(), 1);
    }

    #[test]
    fn extreme_prices_do_not_panic() {
        let mut b = L2Book::new(None);
        for p in [1, i64::MAX, i64::MAX - 1, 2, 3, i64::MAX / 2] {
            b.apply(Side::Buy, px(p), Qty(1));
            b.apply(Side::Sell, px(p), Qty(1));
        }
        assert_eq!(b.bid_depth(), 6);
        assert_eq!(b.best_ask().map(|l| l.px.0), Some(1));
        assert_eq!(b.best_bid().map(|l| l.px.0), Some(i64::MAX));
        assert!(b.is_crossed());
    }
}
