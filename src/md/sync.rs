//! Binance snapshot + diff sequencing for one instrument, exactly as Binance
//! publishes it per market ("How to manage a local order book correctly").
//!
//! Spot:
//! 1. buffer diffs; a snapshot whose `lastUpdateId` is older than the first
//!    buffered diff (`lastUpdateId + 1 < U`) is refetched, not applied;
//! 2. drop buffered diffs with `u <= lastUpdateId`;
//! 3. the first applied diff satisfies `U <= lastUpdateId + 1 <= u`;
//! 4. afterwards `U == prev u + 1`.
//!
//! USD-M and COIN-M futures:
//! 1. buffer diffs; a snapshot older than the first buffered diff
//!    (`lastUpdateId < U`) is refetched;
//! 2. drop buffered diffs with `u < lastUpdateId` (strict: a diff ending
//!    exactly at `lastUpdateId` is kept);
//! 3. the first applied diff satisfies `U <= lastUpdateId <= u`;
//! 4. afterwards `pu == prev u`.
//!
//! A break in step 4 is a gap: the book is stale and the diff that broke the
//! chain starts a new buffer for the next snapshot. A diff with `u <= prev u`
//! is a duplicate and is skipped without harm. The buffer itself is kept a
//! chain: a buffered diff that does not chain to the one before it discards
//! the older ones (no snapshot could bridge across the hole). A snapshot
//! newer than the book (`lastUpdateId > prev u`) resyncs a book that is
//! already in sync (collectors write one per reconnect); an older or equal
//! one is ignored.

use crate::frame::{DepthDiff, DepthSnapshot};
use tickwire_core::msg::{MdEvent, StaleReason};
use tickwire_core::types::{Level, Market, Side, SymbolId, Tsc, VenueMs};

/// Most buffered diff levels kept while waiting for a snapshot; beyond
/// this the buffer is dropped (the next snapshot then cannot be bridged
/// and a fresh one is needed) and the drop is counted.
pub const MAX_BUFFERED_LEVELS: usize = 1 << 20;

/// Most buffered diffs kept while waiting for a snapshot (diffs without
/// levels would otherwise grow the buffer without bound); beyond this the
/// buffer is dropped and counted like a level overflow.
pub const MAX_BUFFERED_DIFFS: usize = 1 << 16;

/// Counters of one instrument's sequencing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// Diffs applied to the book.
    pub applied: u64,
    /// Diffs buffered while waiting for a snapshot.
    pub buffered: u64,
    /// Diffs dropped because the snapshot already holds them
    /// (spot `u <= lastUpdateId`, futures `u < lastUpdateId`).
    pub pre_snapshot_dropped: u64,
    /// Diffs skipped as duplicates (`u <= prev u`).
    pub duplicates: u64,
    /// Sequence gaps detected in a synced book.
    pub gaps: u64,
    /// Breaks in the chain of buffered diffs (older ones discarded).
    pub buffer_breaks: u64,
    /// Snapshots no buffered diff bridges (older than the buffer, or between
    /// two futures diffs): not applied, a new one is fetched.
    pub snapshots_refetched: u64,
    /// Snapshots applied whose first following diff did not bridge them.
    pub no_bridge: u64,
    /// Snapshots applied (initial sync, every resync, every newer snapshot).
    pub snapshots: u64,
    /// Snapshots ignored because the book was already at or past them.
    pub snapshots_ignored: u64,
    /// Diffs that arrived while the book was stale after having been in sync.
    pub stale_frames: u64,
    /// Times the book was marked stale (gap, overflow, crossed, no bridge).
    pub resyncs: u64,
    /// Times the diff buffer overflowed.
    pub buffer_overflows: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// No usable snapshot: diffs are buffered.
    Buffering,
    /// The book holds the snapshot at `snapshot_id`; the bridging diff is
    /// still awaited.
    Bridging { snapshot_id: u64 },
    /// The book is current at `last_u`.
    Live { last_u: u64 },
}

#[derive(Clone, Copy, Debug)]
struct BufferedDiff {
    first_id: u64,
    last_id: u64,
    prev_last_id: Option<u64>,
    venue_time: VenueMs,
    rx: Tsc,
    decoded: Tsc,
    start: usize,
    end: usize,
}

/// The ids of one diff, enough to sequence it.
#[derive(Clone, Copy, Debug)]
struct Ids {
    first: u64,
    last: u64,
    prev_last: Option<u64>,
}

/// What the rules say about one diff in a synced state.
enum Verdict {
    /// Already in the book (pre-snapshot or duplicate): skip.
    Skip,
    /// Apply it.
    Apply,
    /// It does not follow: gap (live) or no bridge (bridging).
    Break,
}

/// Sequencer of one instrument: decides which diffs reach the book.
#[derive(Debug)]
pub struct Sequencer {
    symbol: SymbolId,
    futures: bool,
    state: State,
    ever_synced: bool,
    diffs: Vec<BufferedDiff>,
    levels: Vec<(Side, Level)>,
    stats: SyncStats,
    last_stale: Option<StaleReason>,
    wants_snapshot: bool,
}

/// Timestamps of the frame being processed.
#[derive(Clone, Copy, Debug, Default)]
pub struct FrameStamps {
    /// Received.
    pub rx: Tsc,
    /// Decoded.
    pub decoded: Tsc,
}

impl Sequencer {
    /// A sequencer for `symbol` on `market`, waiting for its first snapshot.
    pub fn new(symbol: SymbolId, market: Market) -> Sequencer {
        Sequencer {
            symbol,
            futures: market != Market::Spot,
            state: State::Buffering,
            ever_synced: false,
            diffs: Vec::with_capacity(64),
            levels: Vec::with_capacity(4096),
            stats: SyncStats::default(),
            last_stale: None,
            wants_snapshot: false,
        }
    }

    /// Why the book last went stale, if it ever did.
    pub fn last_stale(&self) -> Option<StaleReason> {
        self.last_stale
    }

    /// Counters so far.
    pub fn stats(&self) -> SyncStats {
        self.stats
    }

    /// True while diffs are applied to the book (from the snapshot on).
    pub fn is_synced(&self) -> bool {
        !matches!(self.state, State::Buffering)
    }

    /// True once since the book last needed a fresh snapshot (it went
    /// stale, or a snapshot was too old to use): a live source fetches one.
    pub fn take_snapshot_request(&mut self) -> bool {
        std::mem::take(&mut self.wants_snapshot)
    }

    /// Handles one diff, emitting the events the book must see.
    pub fn on_diff(&mut self, d: &DepthDiff<'_>, st: FrameStamps, emit: &mut impl FnMut(MdEvent)) {
        let ids = Ids {
            first: d.first_id,
            last: d.last_id,
            prev_last: d.prev_last_id,
        };
        if self.state == State::Buffering {
            if self.ever_synced {
                self.stats.stale_frames += 1;
            }
            self.buffer(ids, d, st);
            return;
        }
        match self.verdict(ids) {
            Verdict::Skip => {}
            Verdict::Apply => {
                self.state = State::Live { last_u: ids.last };
                self.stats.applied += 1;
                send_levels(self.symbol, d.bids, d.asks, emit);
                emit(self.diff_end(ids.last, d.venue_time, st));
            }
            Verdict::Break => {
                self.on_break(emit);
                self.buffer(ids, d, st);
            }
        }
    }

    /// Handles a REST snapshot for this instrument.
    pub fn on_snapshot(&mut self, s: &DepthSnapshot<'_>, emit: &mut impl FnMut(MdEvent)) {
        let x = s.last_update_id;
        match self.state {
            State::Live { last_u: at } | State::Bridging { snapshot_id: at } if x <= at => {
                self.stats.snapshots_ignored += 1;
                return;
            }
            State::Buffering if !self.buffer_bridges(x) => {
                // Binance: a snapshot older than the buffered events is
                // refetched. The buffer is kept for the next one.
                self.stats.snapshots_refetched += 1;
                self.wants_snapshot = true;
                return;
            }
            _ => {}
        }
        self.stats.snapshots += 1;
        self.ever_synced = true;
        emit(MdEvent::SnapshotBegin {
            symbol: self.symbol,
        });
        send_levels(self.symbol, s.bids, s.asks, emit);
        emit(MdEvent::SnapshotEnd {
            symbol: self.symbol,
            last_update_id: x,
        });
        self.state = State::Bridging { snapshot_id: x };
        self.replay_buffer(emit);
    }

    /// Drops sync (ring overflow, crossed book, reconnect): the book is
    /// stale until the next snapshot.
    pub fn force_resync(&mut self, reason: StaleReason, emit: &mut impl FnMut(MdEvent)) {
        self.diffs.clear();
        self.levels.clear();
        if self.state == State::Buffering {
            return;
        }
        self.go_stale(reason, emit);
    }

    /// What the rules say about a diff while synced (bridging or live).
    fn verdict(&mut self, id: Ids) -> Verdict {
        match self.state {
            State::Bridging { snapshot_id: x } => {
                if self.in_snapshot(id.last, x) {
                    self.stats.pre_snapshot_dropped += 1;
                    Verdict::Skip
                } else if self.bridges(id.first, x) {
                    Verdict::Apply
                } else {
                    Verdict::Break
                }
            }
            State::Live { last_u } => {
                if id.last <= last_u {
                    self.stats.duplicates += 1;
                    return Verdict::Skip;
                }
                if self.chains(id, last_u) {
                    Verdict::Apply
                } else {
                    Verdict::Break
                }
            }
            State::Buffering => Verdict::Break,
        }
    }

    /// A diff that does not follow the synced book.
    fn on_break(&mut self, emit: &mut impl FnMut(MdEvent)) {
        let reason = match self.state {
            State::Bridging { .. } => {
                self.stats.no_bridge += 1;
                StaleReason::NoBridge
            }
            _ => {
                self.stats.gaps += 1;
                StaleReason::Gap
            }
        };
        self.go_stale(reason, emit);
    }

    /// Next diff's ids chain to a book at `last_u`.
    fn chains(&self, id: Ids, last_u: u64) -> bool {
        if self.futures {
            id.prev_last == Some(last_u)
        } else {
            id.first == last_u.wrapping_add(1)
        }
    }

    /// The buffered diffs can bridge a snapshot at `x`: the first one the
    /// snapshot does not already hold bridges it (or every one is held).
    fn buffer_bridges(&self, x: u64) -> bool {
        let first_new = self.diffs.iter().find(|b| !self.in_snapshot(b.last_id, x));
        first_new.is_none_or(|b| self.bridges(b.first_id, x))
    }

    /// A diff ending at `last` is already held by a snapshot at `x`
    /// (spot `u <= lastUpdateId`, futures `u < lastUpdateId`).
    fn in_snapshot(&self, last: u64, x: u64) -> bool {
        if self.futures { last < x } else { last <= x }
    }

    /// A diff starting at `first` (and not held by the snapshot) is the
    /// first one after a snapshot at `x` (spot `U <= lastUpdateId + 1`,
    /// futures `U <= lastUpdateId`).
    fn bridges(&self, first: u64, x: u64) -> bool {
        if self.futures {
            first <= x
        } else {
            first <= x.saturating_add(1)
        }
    }

    fn go_stale(&mut self, reason: StaleReason, emit: &mut impl FnMut(MdEvent)) {
        self.state = State::Buffering;
        self.last_stale = Some(reason);
        self.stats.resyncs += 1;
        self.wants_snapshot = true;
        self.diffs.clear();
        self.levels.clear();
        emit(MdEvent::Stale {
            symbol: self.symbol,
            reason,
        });
    }

    fn diff_end(&self, last_id: u64, venue_time: VenueMs, st: FrameStamps) -> MdEvent {
        MdEvent::DiffEnd {
            symbol: self.symbol,
            last_id,
            venue_time,
            rx: st.rx,
            decoded: st.decoded,
        }
    }

    fn buffer(&mut self, id: Ids, d: &DepthDiff<'_>, st: FrameStamps) {
        if let Some(prev) = self.diffs.last() {
            if id.last <= prev.last_id {
                self.stats.duplicates += 1;
                return;
            }
            if !self.chains(id, prev.last_id) {
                self.stats.buffer_breaks += 1;
                self.diffs.clear();
                self.levels.clear();
            }
        }
        let n = d.bids.len() + d.asks.len();
        if self.levels.len() + n > MAX_BUFFERED_LEVELS || self.diffs.len() >= MAX_BUFFERED_DIFFS {
            self.stats.buffer_overflows += 1;
            self.diffs.clear();
            self.levels.clear();
        }
        let start = self.levels.len();
        self.levels.extend(d.bids.iter().map(|l| (Side::Buy, *l)));
        self.levels.extend(d.asks.iter().map(|l| (Side::Sell, *l)));
        self.diffs.push(BufferedDiff {
            first_id: id.first,
            last_id: id.last,
            prev_last_id: id.prev_last,
            venue_time: d.venue_time,
            rx: st.rx,
            decoded: st.decoded,
            start,
            end: self.levels.len(),
        });
        self.stats.buffered += 1;
    }

    /// Runs the buffered diffs through the rules against the snapshot just
    /// applied (checked by `buffer_bridges`, so the first diff the snapshot
    /// does not hold bridges it).
    fn replay_buffer(&mut self, emit: &mut impl FnMut(MdEvent)) {
        let diffs = std::mem::take(&mut self.diffs);
        let levels = std::mem::take(&mut self.levels);
        for b in &diffs {
            let ids = Ids {
                first: b.first_id,
                last: b.last_id,
                prev_last: b.prev_last_id,
            };
            match self.verdict(ids) {
                Verdict::Skip => {}
                Verdict::Apply => {
                    self.state = State::Live { last_u: b.last_id };
                    self.stats.applied += 1;
                    for &(side, level) in levels.get(b.start..b.end).unwrap_or(&[]) {
                        emit(MdEvent::Level {
                            symbol: self.symbol,
                            side,
                            level,
                        });
                    }
                    let st = FrameStamps {
                        rx: b.rx,
                        decoded: b.decoded,
                    };
                    emit(self.diff_end(b.last_id, b.venue_time, st));
                }
                Verdict::Break => {
                    // Unreachable: the snapshot was checked against the
                    // buffer before it was applied. Handled like a live
                    // break all the same.
                    self.on_break(emit);
                    break;
                }
            }
        }
        // Keep the buffers' capacity for the next resync.
        self.diffs = diffs;
        self.diffs.clear();
        self.levels = levels;
        self.levels.clear();
    }
}

fn send_levels(symbol: SymbolId, bids: &[Level], asks: &[Level], emit: &mut impl FnMut(MdEvent)) {
    for &level in bids {
        emit(MdEvent::Level {
            symbol,
            side: Side::Buy,
            level,
        });
    }
    for &level in asks {
        emit(MdEvent::Level {
            symbol,
            side: Side::Sell,
            level,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_core::types::{Px, Qty, SymbolName};

    const LEVEL: [Level; 1] = [Level {
        px: Px(100),
        qty: Qty(1),
    }];

    fn diff(first: u64, last: u64, prev: Option<u64>) -> DepthDiff<'static> {
        DepthDiff {
            symbol: SymbolName::new(b"BTCUSDT").unwrap(),
            first_id: first,
            last_id: last,
            prev_last_id: prev,
            venue_time: VenueMs(0),
            bids: &LEVEL,
            asks: &[],
        }
    }

    fn fut(first: u64, last: u64, prev: u64) -> Step {
        Step::Diff(diff(first, last, Some(prev)))
    }

    fn spot(first: u64, last: u64) -> Step {
        Step::Diff(diff(first, last, None))
    }

    enum Step {
        Diff(DepthDiff<'static>),
        Snapshot(u64),
    }

    fn diff_ends(events: &[MdEvent]) -> Vec<u64> {
        events
            .iter()
            .filter_map(|e| match e {
                MdEvent::DiffEnd { last_id, .. } => Some(*last_id),
                _ => None,
            })
            .collect()
    }

    fn run(market: Market, steps: &[Step]) -> (Vec<MdEvent>, Sequencer) {
        let mut s = Sequencer::new(SymbolId(0), market);
        let mut out = Vec::new();
        for step in steps {
            match step {
                Step::Diff(d) => s.on_diff(d, FrameStamps::default(), &mut |e| out.push(e)),
                Step::Snapshot(id) => {
                    let snap = DepthSnapshot {
                        last_update_id: *id,
                        bids: &LEVEL,
                        asks: &[],
                    };
                    s.on_snapshot(&snap, &mut |e| out.push(e));
                }
            }
        }
        (out, s)
    }

    fn stale(events: &[MdEvent], reason: StaleReason) -> bool {
        events
            .iter()
            .any(|e| matches!(e, MdEvent::Stale { reason: r, .. } if *r == reason))
    }

    #[test]
    fn spot_buffers_until_snapshot_and_bridges_it() {
        use Step::Snapshot as S;
        let steps = [spot(1, 5), spot(6, 9), spot(10, 12), S(8), spot(13, 20)];
        let (ev, s) = run(Market::Spot, &steps);
        assert_eq!(diff_ends(&ev), vec![9, 12, 20]);
        assert_eq!(s.stats().pre_snapshot_dropped, 1);
        assert_eq!(s.stats().gaps, 0);
    }

    #[test]
    fn spot_drops_a_diff_ending_at_last_update_id() {
        let (ev, _) = run(Market::Spot, &[spot(5, 8), spot(9, 12), Step::Snapshot(8)]);
        assert_eq!(diff_ends(&ev), vec![12]);
    }

    #[test]
    fn futures_keep_the_bridging_diff_that_ends_at_last_update_id() {
        // u == lastUpdateId: spot would drop it, futures apply it
        // (drop only u < lastUpdateId; first applied U <= id <= u).
        let steps = [fut(90, 100, 80), fut(105, 110, 100), Step::Snapshot(100)];
        let (ev, s) = run(Market::Usdm, &steps);
        assert_eq!(diff_ends(&ev), vec![100, 110]);
        assert_eq!((s.stats().gaps, s.stats().no_bridge), (0, 0));
        // Same when the snapshot comes first and the diff after it.
        let steps = [Step::Snapshot(100), fut(90, 100, 80), fut(105, 110, 100)];
        let (ev, s) = run(Market::Coinm, &steps);
        assert_eq!(diff_ends(&ev), vec![100, 110]);
        assert!(s.is_synced());
    }

    #[test]
    fn spot_gap_marks_stale_and_buffers_for_the_next_snapshot() {
        let (ev, s) = run(Market::Spot, &[Step::Snapshot(4), spot(5, 6), spot(8, 9)]);
        assert_eq!(diff_ends(&ev), vec![6]);
        assert_eq!(s.stats().gaps, 1);
        assert!(stale(&ev, StaleReason::Gap));
    }

    #[test]
    fn futures_chain_on_pu_not_on_u_plus_one() {
        let steps = [
            Step::Snapshot(100),
            fut(90, 110, 80),
            fut(150, 160, 110),
            fut(170, 180, 165),
        ];
        let (ev, s) = run(Market::Usdm, &steps);
        assert_eq!(diff_ends(&ev), vec![110, 160]);
        assert_eq!(s.stats().gaps, 1);
    }

    #[test]
    fn snapshot_not_bridged_by_the_first_diff_after_it_is_stale() {
        let (ev, s) = run(Market::Spot, &[Step::Snapshot(10), spot(20, 30)]);
        assert!(diff_ends(&ev).is_empty());
        assert_eq!(s.stats().no_bridge, 1);
        assert!(stale(&ev, StaleReason::NoBridge));
        assert!(!s.is_synced());
    }

    #[test]
    fn snapshot_older_than_the_buffer_is_refetched_and_the_buffer_kept() {
        let mut steps = vec![spot(20, 25), spot(26, 30), Step::Snapshot(10)];
        let (ev, mut s) = run(Market::Spot, &steps);
        assert!(ev.is_empty(), "an unusable snapshot is not applied: {ev:?}");
        assert_eq!(s.stats().snapshots_refetched, 1);
        assert_eq!((s.stats().gaps, s.stats().no_bridge), (0, 0));
        assert!(s.take_snapshot_request());
        // The refetched snapshot bridges the kept buffer.
        steps.push(Step::Snapshot(27));
        let (ev, s) = run(Market::Spot, &steps);
        assert_eq!(diff_ends(&ev), vec![30]);
        assert!(s.is_synced());
    }

    #[test]
    fn futures_snapshot_between_two_diffs_is_refetched() {
        let steps = [fut(90, 100, 80), fut(105, 110, 100), Step::Snapshot(102)];
        let (ev, s) = run(Market::Usdm, &steps);
        assert!(diff_ends(&ev).is_empty());
        assert_eq!(s.stats().snapshots_refetched, 1);
        assert!(!s.is_synced());
    }

    #[test]
    fn a_newer_snapshot_resyncs_a_synced_book_and_an_older_one_is_ignored() {
        let steps = [
            Step::Snapshot(4),
            spot(5, 6),
            Step::Snapshot(3),
            Step::Snapshot(20),
            spot(7, 9),
            spot(18, 22),
        ];
        let (ev, s) = run(Market::Spot, &steps);
        assert_eq!(diff_ends(&ev), vec![6, 22]);
        let begins = ev
            .iter()
            .filter(|e| matches!(e, MdEvent::SnapshotBegin { .. }))
            .count();
        assert_eq!(begins, 2);
        let st = s.stats();
        assert_eq!((st.snapshots, st.snapshots_ignored), (2, 1));
        assert_eq!((st.pre_snapshot_dropped, st.gaps), (1, 0));
    }

    #[test]
    fn a_break_in_the_buffer_discards_the_older_diffs() {
        let steps = [spot(1, 5), spot(9, 12), Step::Snapshot(10), spot(13, 14)];
        let (ev, s) = run(Market::Spot, &steps);
        assert_eq!(diff_ends(&ev), vec![12, 14]);
        assert_eq!(s.stats().buffer_breaks, 1);
    }

    #[test]
    fn duplicate_diff_is_skipped_without_a_gap() {
        let steps = [Step::Snapshot(4), spot(5, 6), spot(5, 6), spot(7, 8)];
        let (ev, s) = run(Market::Spot, &steps);
        assert_eq!(diff_ends(&ev), vec![6, 8]);
        assert_eq!((s.stats().duplicates, s.stats().gaps), (1, 0));
    }

    #[test]
    fn stale_instrument_resyncs_on_the_next_snapshot() {
        let steps = [
            Step::Snapshot(4),
            spot(5, 6),
            spot(9, 10),
            spot(11, 12),
            Step::Snapshot(10),
            spot(13, 14),
        ];
        let (ev, s) = run(Market::Spot, &steps);
        assert_eq!(diff_ends(&ev), vec![6, 12, 14]);
        let st = s.stats();
        assert_eq!((st.gaps, st.snapshots, st.stale_frames), (1, 2, 1));
    }

    #[test]
    fn the_buffer_is_bounded_in_diffs_not_only_in_levels() {
        let mut s = Sequencer::new(SymbolId(0), Market::Spot);
        let empty = |u: u64| DepthDiff {
            bids: &[],
            ..diff(u, u, None)
        };
        for u in 1..=(MAX_BUFFERED_DIFFS as u64 + 10) {
            s.on_diff(&empty(u), FrameStamps::default(), &mut |_| {});
        }
        assert!(s.diffs.len() <= MAX_BUFFERED_DIFFS);
        assert_eq!(s.stats().buffer_overflows, 1);
    }
}
