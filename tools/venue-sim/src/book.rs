//! The simulator's own order book per instrument, kept by Binance's
//! published rules for a local book ("How to manage a local order book
//! correctly"):
//!
//! - Spot (web-socket-streams.md): drop a diff with `u <= lastUpdateId`;
//!   the first applied diff has `U <= lastUpdateId + 1 <= u`; later a diff
//!   with `u <=` the book's id is ignored and one with `U >` the book's id
//!   + 1 is a gap (normally `U == previous u + 1`).
//! - USD-M / COIN-M futures: drop a diff with `u < lastUpdateId`; the
//!   first applied diff has `U <= lastUpdateId <= u` (so a diff with
//!   `u == lastUpdateId` *is* applied); every later one has
//!   `pu == previous u`.
//!
//! Diffs that arrive before the first snapshot line are buffered (bounded)
//! and bridged when it arrives; a later snapshot line resyncs. Quantities
//! are absolute: `0` removes the level. Each level keeps the price and
//! quantity strings exactly as the capture wrote them.

use std::collections::{BTreeMap, VecDeque};

use crate::dec::Dec;

/// Diffs kept while waiting for a snapshot line.
const BUFFER_CAP: usize = 100_000;

/// One price level as the capture wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Level {
    /// Price string.
    pub(crate) px: String,
    /// Quantity string.
    pub(crate) qty: String,
    /// Parsed quantity.
    pub(crate) q: Dec,
}

/// A depth diff.
#[derive(Clone, Debug, Default)]
pub(crate) struct Diff {
    /// `U`.
    pub(crate) first: u64,
    /// `u`.
    pub(crate) last: u64,
    /// `pu` (futures).
    pub(crate) prev: Option<u64>,
    /// `b`.
    pub(crate) bids: Vec<(String, String)>,
    /// `a`.
    pub(crate) asks: Vec<(String, String)>,
    /// `E`.
    pub(crate) e_ms: u64,
    /// `T` (futures).
    pub(crate) t_ms: u64,
}

/// Where the book is in the sync procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SyncState {
    /// No snapshot line yet: diffs are buffered.
    NoSnapshot,
    /// Snapshot loaded; waiting for the bridging diff.
    Bridging,
    /// Applying diffs in sequence.
    Synced,
    /// A gap was seen: wrong until the next snapshot line.
    Broken,
}

/// What became of one diff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Applied.
    Applied,
    /// Older than the book: dropped as the rules say.
    Dropped,
    /// Kept until a snapshot arrives.
    Buffered,
    /// Out of sequence: the book is broken until the next snapshot.
    Gap,
}

/// A book kept by the rules of one market family.
pub(crate) struct Book {
    futures: bool,
    pub(crate) bids: BTreeMap<Dec, Level>,
    pub(crate) asks: BTreeMap<Dec, Level>,
    pub(crate) state: SyncState,
    /// `lastUpdateId` of the snapshot, then `u` of the last applied diff.
    pub(crate) last_id: u64,
    /// `E` / `T` of the last applied diff (or the snapshot).
    pub(crate) e_ms: u64,
    pub(crate) t_ms: u64,
    buffer: VecDeque<Diff>,
    /// Diffs applied / dropped / gaps seen.
    pub(crate) applied: u64,
    pub(crate) gaps: u64,
}

fn set_levels(side: &mut BTreeMap<Dec, Level>, levels: &[(String, String)]) {
    for (p, q) in levels {
        let (Some(px), Some(qd)) = (Dec::parse(p), Dec::parse(q)) else {
            continue;
        };
        if qd.is_zero() {
            side.remove(&px);
        } else {
            side.insert(
                px,
                Level {
                    px: p.clone(),
                    qty: q.clone(),
                    q: qd,
                },
            );
        }
    }
}

impl Book {
    /// An empty book for spot (`futures == false`) or futures rules.
    pub(crate) fn new(futures: bool) -> Book {
        Book {
            futures,
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            state: SyncState::NoSnapshot,
            last_id: 0,
            e_ms: 0,
            t_ms: 0,
            buffer: VecDeque::new(),
            applied: 0,
            gaps: 0,
        }
    }

    /// Loads a snapshot and bridges the buffered diffs.
    pub(crate) fn on_snapshot(
        &mut self,
        last_id: u64,
        bids: &[(String, String)],
        asks: &[(String, String)],
        e_ms: u64,
        t_ms: u64,
    ) {
        self.bids.clear();
        self.asks.clear();
        set_levels(&mut self.bids, bids);
        set_levels(&mut self.asks, asks);
        self.last_id = last_id;
        self.e_ms = e_ms;
        self.t_ms = t_ms;
        self.state = SyncState::Bridging;
        let buffered = std::mem::take(&mut self.buffer);
        for d in buffered {
            self.on_diff(d);
        }
    }

    /// Applies one diff by the market's rules.
    pub(crate) fn on_diff(&mut self, d: Diff) -> Outcome {
        match self.state {
            SyncState::NoSnapshot => {
                if self.buffer.len() >= BUFFER_CAP {
                    self.buffer.pop_front();
                }
                self.buffer.push_back(d);
                Outcome::Buffered
            }
            SyncState::Broken => Outcome::Gap,
            SyncState::Bridging => {
                let l = self.last_id;
                let (old, bridges) = if self.futures {
                    (d.last < l, d.first <= l && l <= d.last)
                } else {
                    (d.last <= l, d.first <= l + 1 && l < d.last)
                };
                if old {
                    Outcome::Dropped
                } else if bridges {
                    self.apply(d);
                    self.state = SyncState::Synced;
                    Outcome::Applied
                } else {
                    self.gaps += 1;
                    self.state = SyncState::Broken;
                    Outcome::Gap
                }
            }
            SyncState::Synced => {
                if !self.futures && d.last <= self.last_id {
                    // Spot: "ignore the event" when it is older than the book.
                    return Outcome::Dropped;
                }
                let next = if self.futures {
                    d.prev == Some(self.last_id)
                } else {
                    d.first <= self.last_id + 1
                };
                if next {
                    self.apply(d);
                    Outcome::Applied
                } else {
                    self.gaps += 1;
                    self.state = SyncState::Broken;
                    Outcome::Gap
                }
            }
        }
    }

    fn apply(&mut self, d: Diff) {
        set_levels(&mut self.bids, &d.bids);
        set_levels(&mut self.asks, &d.asks);
        self.last_id = d.last;
        self.e_ms = d.e_ms;
        self.t_ms = d.t_ms;
        self.applied += 1;
    }

    /// True when the depth endpoint may answer from this book.
    pub(crate) fn ready(&self) -> bool {
        matches!(self.state, SyncState::Bridging | SyncState::Synced)
    }

    /// Best bid `(price, qty)`.
    pub(crate) fn best_bid(&self) -> Option<(Dec, &Level)> {
        self.bids.iter().next_back().map(|(p, l)| (*p, l))
    }

    /// Best ask `(price, qty)`.
    pub(crate) fn best_ask(&self) -> Option<(Dec, &Level)> {
        self.asks.iter().next().map(|(p, l)| (*p, l))
    }

    /// Bids best first.
    pub(crate) fn bids_desc(&self) -> impl Iterator<Item = (&Dec, &Level)> {
        self.bids.iter().rev()
    }

    /// Asks best first.
    pub(crate) fn asks_asc(&self) -> impl Iterator<Item = (&Dec, &Level)> {
        self.asks.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(first: u64, last: u64, prev: Option<u64>, bid: (&str, &str)) -> Diff {
        Diff {
            first,
            last,
            prev,
            bids: vec![(bid.0.into(), bid.1.into())],
            ..Diff::default()
        }
    }

    #[test]
    fn spot_rules_drop_old_bridge_then_chain() {
        let mut b = Book::new(false);
        assert_eq!(b.on_diff(diff(1, 5, None, ("1.0", "1"))), Outcome::Buffered);
        b.on_snapshot(10, &[("2.0".into(), "1".into())], &[], 0, 0);
        assert_eq!(b.state, SyncState::Bridging);
        assert_eq!(b.on_diff(diff(6, 10, None, ("3.0", "1"))), Outcome::Dropped);
        assert_eq!(
            b.on_diff(diff(9, 12, None, ("4.0", "2.50"))),
            Outcome::Applied
        );
        assert_eq!(
            b.best_bid().map(|(_, l)| l.qty.clone()),
            Some("2.50".into())
        );
        assert_eq!(
            b.on_diff(diff(13, 13, None, ("4.0", "0.000"))),
            Outcome::Applied
        );
        assert_eq!(b.best_bid().map(|(_, l)| l.px.clone()), Some("2.0".into()));
        assert_eq!(b.on_diff(diff(15, 16, None, ("1", "1"))), Outcome::Gap);
        assert!(!b.ready());
    }

    #[test]
    fn futures_bridge_applies_the_diff_ending_at_last_update_id() {
        let mut b = Book::new(true);
        b.on_snapshot(100, &[], &[], 0, 0);
        assert_eq!(
            b.on_diff(diff(90, 99, Some(89), ("1", "1"))),
            Outcome::Dropped
        );
        // u == lastUpdateId: applied by the futures rules.
        assert_eq!(
            b.on_diff(diff(95, 100, Some(99), ("2", "1"))),
            Outcome::Applied
        );
        assert_eq!(
            b.on_diff(diff(101, 120, Some(100), ("3", "1"))),
            Outcome::Applied
        );
        assert_eq!(b.last_id, 120);
        assert_eq!(
            b.on_diff(diff(121, 130, Some(119), ("3", "1"))),
            Outcome::Gap
        );
        b.on_snapshot(200, &[], &[], 0, 0);
        assert!(b.ready());
    }
}
