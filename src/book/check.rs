//! The venue's own ground truth, checked continuously: a Binance
//! `bookTicker` carries the update id `u` of the book it shows, so whenever
//! a ticker's `u` equals the `u` of an applied diff, the rebuilt best
//! bid/ask right after that diff must equal the ticker exactly.
//!
//! Tickers and diffs travel on separate venue streams, so a ticker may
//! arrive a little before or after its diff. The checker keeps the top of
//! book after each of the last [`HISTORY`] applied diffs (for late tickers)
//! and up to [`PENDING`] tickers ahead of the book (for early ones), both in
//! fixed arrays: no allocation per event.

use tickwire_core::types::Level;

/// Applied diffs remembered for tickers that arrive after their diff.
pub(crate) const HISTORY: usize = 256;
/// Tickers held that arrived before their diff.
pub(crate) const PENDING: usize = 64;

/// Best bid and ask after one diff (`None` side = empty).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Top {
    /// Best bid.
    pub bid: Option<Level>,
    /// Best ask.
    pub ask: Option<Level>,
}

/// Outcome counters of the check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CheckStats {
    /// Tickers whose `u` equalled an applied diff's `u`.
    pub checked: u64,
    /// ... whose best bid/ask equalled the book's.
    pub matched: u64,
    /// ... whose best bid/ask differed.
    pub mismatched: u64,
    /// Tickers that arrived while the book was stale or unsynced (never
    /// counted as matches).
    pub while_stale: u64,
    /// Tickers whose `u` matched no applied diff (normal: a ticker shows
    /// any book update, diffs batch many).
    pub no_matching_diff: u64,
    /// Tickers too far behind the remembered history to be checked.
    pub too_old: u64,
}

/// One mismatch, kept for the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The update id both shared.
    pub update_id: u64,
    /// What the venue showed.
    pub venue: Top,
    /// What the book held.
    pub book: Top,
}

#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    u: u64,
    top: Top,
}

/// Ground-truth checker of one instrument.
#[derive(Debug)]
pub struct TickerCheck {
    history: [Entry; HISTORY],
    hist_len: usize,
    hist_next: usize,
    pending: [Entry; PENDING],
    pending_len: usize,
    last_applied: Option<u64>,
    stats: CheckStats,
    first_mismatch: Option<Mismatch>,
}

impl Default for TickerCheck {
    fn default() -> Self {
        TickerCheck {
            history: [Entry::default(); HISTORY],
            hist_len: 0,
            hist_next: 0,
            pending: [Entry::default(); PENDING],
            pending_len: 0,
            last_applied: None,
            stats: CheckStats::default(),
            first_mismatch: None,
        }
    }
}

impl TickerCheck {
    /// Counters so far.
    pub fn stats(&self) -> CheckStats {
        self.stats
    }

    /// The first mismatch seen, if any.
    pub fn first_mismatch(&self) -> Option<Mismatch> {
        self.first_mismatch
    }

    /// The book went stale or was rebuilt: forget history and pending
    /// tickers (they describe a book that is gone).
    pub fn reset(&mut self) {
        self.hist_len = 0;
        self.hist_next = 0;
        self.pending_len = 0;
        self.last_applied = None;
    }

    /// Records the top of book right after applying diff `u`, and checks
    /// tickers that were waiting for it.
    pub fn on_diff_applied(&mut self, u: u64, top: Top) {
        self.history[self.hist_next] = Entry { u, top };
        self.hist_next = (self.hist_next + 1) % HISTORY;
        self.hist_len = (self.hist_len + 1).min(HISTORY);
        self.last_applied = Some(u);
        let mut kept = 0;
        for i in 0..self.pending_len {
            let t = self.pending[i];
            if t.u == u {
                self.compare(u, t.top, top);
            } else if t.u > u {
                self.pending[kept] = t;
                kept += 1;
            } else {
                self.stats.no_matching_diff += 1;
            }
        }
        self.pending_len = kept;
    }

    /// Handles a venue ticker. `synced` is false while the book is stale.
    pub fn on_ticker(&mut self, u: u64, venue: Top, synced: bool) {
        if !synced {
            self.stats.while_stale += 1;
            return;
        }
        match self.last_applied {
            Some(last) if u <= last => {
                let oldest = self.oldest_u();
                match self.find(u) {
                    Some(book) => self.compare(u, venue, book),
                    None if oldest.is_some_and(|o| u < o) => self.stats.too_old += 1,
                    None => self.stats.no_matching_diff += 1,
                }
            }
            _ => {
                if self.pending_len == PENDING {
                    // Drop the oldest waiting ticker to make room.
                    self.pending.copy_within(1..PENDING, 0);
                    self.pending_len -= 1;
                    self.stats.too_old += 1;
                }
                self.pending[self.pending_len] = Entry { u, top: venue };
                self.pending_len += 1;
            }
        }
    }

    fn compare(&mut self, u: u64, venue: Top, book: Top) {
        self.stats.checked += 1;
        if venue == book {
            self.stats.matched += 1;
        } else {
            self.stats.mismatched += 1;
            if self.first_mismatch.is_none() {
                self.first_mismatch = Some(Mismatch {
                    update_id: u,
                    venue,
                    book,
                });
            }
        }
    }

    fn oldest_u(&self) -> Option<u64> {
        if self.hist_len == 0 {
            return None;
        }
        let oldest = (self.hist_next + HISTORY - self.hist_len) % HISTORY;
        Some(self.history[oldest].u)
    }

    fn find(&self, u: u64) -> Option<Top> {
        // Newest first: late tickers are usually only a few diffs behind.
        (1..=self.hist_len)
            .map(|back| self.history[(self.hist_next + HISTORY - back) % HISTORY])
            .find(|e| e.u == u)
            .map(|e| e.top)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_core::types::{Px, Qty};

    fn top(b: i64, a: i64) -> Top {
        Top {
            bid: Some(Level {
                px: Px(b),
                qty: Qty(1),
            }),
            ask: Some(Level {
                px: Px(a),
                qty: Qty(1),
            }),
        }
    }

    #[test]
    fn ticker_after_its_diff_is_checked_against_history() {
        let mut c = TickerCheck::default();
        c.on_diff_applied(10, top(1, 2));
        c.on_diff_applied(20, top(3, 4));
        c.on_ticker(10, top(1, 2), true);
        c.on_ticker(20, top(3, 5), true);
        assert_eq!(c.stats().checked, 2);
        assert_eq!(c.stats().matched, 1);
        assert_eq!(c.stats().mismatched, 1);
        assert_eq!(c.first_mismatch().map(|m| m.update_id), Some(20));
    }

    #[test]
    fn ticker_before_its_diff_waits_for_it() {
        let mut c = TickerCheck::default();
        c.on_diff_applied(10, top(1, 2));
        c.on_ticker(30, top(5, 6), true);
        c.on_ticker(25, top(5, 6), true);
        assert_eq!(c.stats().checked, 0);
        c.on_diff_applied(30, top(5, 6));
        assert_eq!(c.stats().checked, 1);
        assert_eq!(c.stats().matched, 1);
        assert_eq!(c.stats().no_matching_diff, 1);
    }

    #[test]
    fn stale_book_never_counts_matches() {
        let mut c = TickerCheck::default();
        c.on_diff_applied(10, top(1, 2));
        c.on_ticker(10, top(1, 2), false);
        assert_eq!(c.stats().matched, 0);
        assert_eq!(c.stats().while_stale, 1);
    }
}
