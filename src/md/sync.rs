//! Binance snapshot + diff sequencing for one instrument.
//!
//! Rules (Binance "how to manage a local order book correctly"):
//! buffer diffs until a REST snapshot arrives; drop buffered diffs with
//! `u <= lastUpdateId`; the first applied diff must bridge the snapshot
//! (spot `U <= lastUpdateId + 1 <= u`, futures `U <= lastUpdateId <= u`);
//! afterwards every diff must chain to the previous one (spot
//! `U == prev u + 1`, futures `pu == prev u`). A break is a gap: the book is
//! stale until the next snapshot. A diff with `u <= prev u` is a duplicate
//! and is skipped without harm.

use crate::md::frame::{DepthDiff, DepthSnapshot};
use crate::runtime::msg::{MdEvent, StaleReason};
use crate::types::{Level, Market, Side, SymbolId, Tsc};

/// Most buffered diff levels kept while waiting for a snapshot; beyond
/// this the buffer is dropped (the next snapshot then cannot be bridged
/// and a fresh one is needed) and the drop is counted.
pub const MAX_BUFFERED_LEVELS: usize = 1 << 20;

/// Counters of one instrument's sequencing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// Diffs applied to the book.
    pub applied: u64,
    /// Diffs buffered while waiting for a snapshot.
    pub buffered: u64,
    /// Buffered diffs dropped because `u <= lastUpdateId`.
    pub pre_snapshot_dropped: u64,
    /// Diffs skipped as duplicates (`u <= prev u`).
    pub duplicates: u64,
    /// Sequence gaps detected.
    pub gaps: u64,
    /// Snapshots that could not be bridged by the buffered diffs.
    pub no_bridge: u64,
    /// Snapshots applied (initial sync and every resync).
    pub snapshots: u64,
    /// Snapshots ignored because the book was already in sync.
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
    /// Never synced: buffering diffs for the first snapshot.
    Initial,
    /// Was synced, lost it: buffering for the next snapshot.
    Stale,
    /// Synced at `last_u`; `bridge` while the first diff after the
    /// snapshot is still awaited.
    Synced { last_u: u64, bridge: bool },
}

#[derive(Clone, Copy, Debug)]
struct BufferedDiff {
    first_id: u64,
    last_id: u64,
    prev_last_id: Option<u64>,
    venue_time_ms: u64,
    rx: Tsc,
    decoded: Tsc,
    start: usize,
    end: usize,
}

/// Sequencer of one instrument: decides which diffs reach the book.
#[derive(Debug)]
pub struct Sequencer {
    symbol: SymbolId,
    futures: bool,
    state: State,
    diffs: Vec<BufferedDiff>,
    levels: Vec<(Side, Level)>,
    stats: SyncStats,
    last_stale: Option<StaleReason>,
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
            state: State::Initial,
            diffs: Vec::with_capacity(64),
            levels: Vec::with_capacity(4096),
            stats: SyncStats::default(),
            last_stale: None,
        }
    }

    /// Why the book last went stale, if it ever did.
    pub fn last_stale(&self) -> Option<StaleReason> {
        self.last_stale
    }

    /// Counters so far.
    /// Times the book went stale so far (cheap; for change detection).
    #[inline]
    pub fn resyncs(&self) -> u64 {
        self.stats.resyncs
    }

    /// Counters so far.
    pub fn stats(&self) -> SyncStats {
        self.stats
    }

    /// True while diffs are applied to the book.
    pub fn is_synced(&self) -> bool {
        matches!(self.state, State::Synced { .. })
    }

    /// Handles one diff, emitting the events the book must see.
    pub fn on_diff(&mut self, d: &DepthDiff<'_>, st: FrameStamps, emit: &mut impl FnMut(MdEvent)) {
        match self.state {
            State::Initial | State::Stale => {
                if self.state == State::Stale {
                    self.stats.stale_frames += 1;
                }
                self.buffer(d, st);
            }
            State::Synced { last_u, bridge } => {
                if d.last_id <= last_u {
                    if bridge {
                        self.stats.pre_snapshot_dropped += 1;
                    } else {
                        self.stats.duplicates += 1;
                    }
                    return;
                }
                let ok = if bridge {
                    self.bridges(d.first_id, d.last_id, last_u)
                } else {
                    self.chains(d.first_id, d.prev_last_id, last_u)
                };
                if ok {
                    self.state = State::Synced {
                        last_u: d.last_id,
                        bridge: false,
                    };
                    self.stats.applied += 1;
                    send_levels(self.symbol, d.bids, d.asks, emit);
                    emit(MdEvent::DiffEnd {
                        symbol: self.symbol,
                        last_id: d.last_id,
                        venue_time_ms: d.event_time_ms,
                        rx: st.rx,
                        decoded: st.decoded,
                    });
                } else {
                    let reason = if bridge {
                        self.stats.no_bridge += 1;
                        StaleReason::NoBridge
                    } else {
                        self.stats.gaps += 1;
                        StaleReason::Gap
                    };
                    self.go_stale(reason, emit);
                    self.buffer(d, st);
                }
            }
        }
    }

    /// Handles a REST snapshot for this instrument.
    pub fn on_snapshot(&mut self, s: &DepthSnapshot<'_>, emit: &mut impl FnMut(MdEvent)) {
        if self.is_synced() {
            self.stats.snapshots_ignored += 1;
            return;
        }
        self.stats.snapshots += 1;
        emit(MdEvent::SnapshotBegin {
            symbol: self.symbol,
        });
        send_levels(self.symbol, s.bids, s.asks, emit);
        emit(MdEvent::SnapshotEnd {
            symbol: self.symbol,
            last_update_id: s.last_update_id,
        });
        self.state = State::Synced {
            last_u: s.last_update_id,
            bridge: true,
        };
        self.replay_buffer(emit);
    }

    /// Drops sync (ring overflow, crossed book): the book is stale until the
    /// next snapshot.
    pub fn force_resync(&mut self, reason: StaleReason, emit: &mut impl FnMut(MdEvent)) {
        if self.state == State::Stale {
            return;
        }
        self.go_stale(reason, emit);
    }

    fn go_stale(&mut self, reason: StaleReason, emit: &mut impl FnMut(MdEvent)) {
        self.state = State::Stale;
        self.last_stale = Some(reason);
        self.stats.resyncs += 1;
        self.diffs.clear();
        self.levels.clear();
        emit(MdEvent::Stale {
            symbol: self.symbol,
            reason,
        });
    }

    fn bridges(&self, first: u64, last: u64, snapshot_id: u64) -> bool {
        if self.futures {
            first <= snapshot_id && snapshot_id <= last
        } else {
            first <= snapshot_id + 1 && snapshot_id < last
        }
    }

    fn chains(&self, first: u64, prev_last: Option<u64>, last_u: u64) -> bool {
        if self.futures {
            prev_last == Some(last_u)
        } else {
            first == last_u + 1
        }
    }

    fn buffer(&mut self, d: &DepthDiff<'_>, st: FrameStamps) {
        let n = d.bids.len() + d.asks.len();
        if self.levels.len() + n > MAX_BUFFERED_LEVELS {
            self.stats.buffer_overflows += 1;
            self.diffs.clear();
            self.levels.clear();
        }
        let start = self.levels.len();
        self.levels.extend(d.bids.iter().map(|l| (Side::Buy, *l)));
        self.levels.extend(d.asks.iter().map(|l| (Side::Sell, *l)));
        self.diffs.push(BufferedDiff {
            first_id: d.first_id,
            last_id: d.last_id,
            prev_last_id: d.prev_last_id,
            venue_time_ms: d.event_time_ms,
            rx: st.rx,
            decoded: st.decoded,
            start,
            end: self.levels.len(),
        });
        self.stats.buffered += 1;
    }

    fn replay_buffer(&mut self, emit: &mut impl FnMut(MdEvent)) {
        let diffs = std::mem::take(&mut self.diffs);
        let levels = std::mem::take(&mut self.levels);
        for b in &diffs {
            let State::Synced { last_u, bridge } = self.state else {
                break;
            };
            if b.last_id <= last_u {
                self.stats.pre_snapshot_dropped += 1;
                continue;
            }
            let ok = if bridge {
                self.bridges(b.first_id, b.last_id, last_u)
            } else {
                self.chains(b.first_id, b.prev_last_id, last_u)
            };
            if !ok {
                let reason = if bridge {
                    self.stats.no_bridge += 1;
                    StaleReason::NoBridge
                } else {
                    self.stats.gaps += 1;
                    StaleReason::Gap
                };
                self.go_stale(reason, emit);
                break;
            }
            self.state = State::Synced {
                last_u: b.last_id,
                bridge: false,
            };
            self.stats.applied += 1;
            for &(side, level) in levels.get(b.start..b.end).unwrap_or(&[]) {
                emit(MdEvent::Level {
                    symbol: self.symbol,
                    side,
                    level,
                });
            }
            emit(MdEvent::DiffEnd {
                symbol: self.symbol,
                last_id: b.last_id,
                venue_time_ms: b.venue_time_ms,
                rx: b.rx,
                decoded: b.decoded,
            });
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
    use crate::types::{Px, Qty, SymbolName};

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
            event_time_ms: 0,
            bids: &LEVEL,
            asks: &[],
        }
    }

    fn snapshot(id: u64) -> DepthSnapshot<'static> {
        DepthSnapshot {
            last_update_id: id,
            bids: &LEVEL,
            asks: &[],
        }
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

    fn run(market: Market, steps: &[Result<DepthDiff<'static>, u64>]) -> (Vec<MdEvent>, SyncStats) {
        let mut s = Sequencer::new(SymbolId(0), market);
        let mut out = Vec::new();
        for step in steps {
            match step {
                Ok(d) => s.on_diff(d, FrameStamps::default(), &mut |e| out.push(e)),
                Err(id) => s.on_snapshot(&snapshot(*id), &mut |e| out.push(e)),
            }
        }
        (out, s.stats())
    }

    #[test]
    fn spot_buffers_until_snapshot_and_bridges_it() {
        let (ev, st) = run(
            Market::Spot,
            &[
                Ok(diff(1, 5, None)),
                Ok(diff(6, 9, None)),
                Ok(diff(10, 12, None)),
                Err(8),
                Ok(diff(13, 20, None)),
            ],
        );
        assert_eq!(diff_ends(&ev), vec![9, 12, 20]);
        assert_eq!(st.pre_snapshot_dropped, 1);
        assert_eq!(st.gaps, 0);
    }

    #[test]
    fn spot_gap_marks_stale_and_buffers_for_the_next_snapshot() {
        let (ev, st) = run(
            Market::Spot,
            &[Err(4), Ok(diff(5, 6, None)), Ok(diff(8, 9, None))],
        );
        assert_eq!(diff_ends(&ev), vec![6]);
        assert_eq!(st.gaps, 1);
        assert!(ev.iter().any(|e| matches!(
            e,
            MdEvent::Stale {
                reason: StaleReason::Gap,
                ..
            }
        )));
    }

    #[test]
    fn futures_chain_on_pu_not_on_u_plus_one() {
        let (ev, st) = run(
            Market::Usdm,
            &[
                Err(100),
                Ok(diff(90, 110, Some(80))),
                Ok(diff(150, 160, Some(110))),
                Ok(diff(170, 180, Some(165))),
            ],
        );
        assert_eq!(diff_ends(&ev), vec![110, 160]);
        assert_eq!(st.gaps, 1);
    }

    #[test]
    fn snapshot_not_bridged_by_first_diff_is_stale() {
        let (ev, st) = run(Market::Spot, &[Err(10), Ok(diff(20, 30, None))]);
        assert!(diff_ends(&ev).is_empty());
        assert_eq!(st.no_bridge, 1);
        assert!(ev.iter().any(|e| matches!(
            e,
            MdEvent::Stale {
                reason: StaleReason::NoBridge,
                ..
            }
        )));
    }

    #[test]
    fn duplicate_diff_is_skipped_without_a_gap() {
        let (ev, st) = run(
            Market::Spot,
            &[
                Err(4),
                Ok(diff(5, 6, None)),
                Ok(diff(5, 6, None)),
                Ok(diff(7, 8, None)),
            ],
        );
        assert_eq!(diff_ends(&ev), vec![6, 8]);
        assert_eq!((st.duplicates, st.gaps), (1, 0));
    }

    #[test]
    fn stale_instrument_resyncs_on_the_next_snapshot() {
        let (ev, st) = run(
            Market::Spot,
            &[
                Err(4),
                Ok(diff(5, 6, None)),
                Ok(diff(9, 10, None)),
                Ok(diff(11, 12, None)),
                Err(10),
                Ok(diff(13, 14, None)),
            ],
        );
        assert_eq!(diff_ends(&ev), vec![6, 12, 14]);
        assert_eq!((st.gaps, st.snapshots, st.stale_frames), (1, 2, 1));
    }
}
