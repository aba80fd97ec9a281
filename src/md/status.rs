//! [`MdStatus`]: the md stage's sync state per instrument, published for
//! the operator's monitor thread. Written only when a book changes state
//! (synced <-> stale), never per frame.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

use tickwire_core::msg::StaleReason;
use tickwire_core::types::SymbolId;

/// Instruments whose state is published (ids beyond are not).
pub(crate) const STATUS_SLOTS: usize = 64;

#[derive(Default)]
struct Slot {
    synced: AtomicBool,
    transitions: AtomicU64,
    reason: AtomicU8,
}

/// Sync state of the first `STATUS_SLOTS` instruments, readable from any thread.
pub struct MdStatus {
    slots: [Slot; STATUS_SLOTS],
}

impl Default for MdStatus {
    fn default() -> Self {
        MdStatus {
            slots: std::array::from_fn(|_| Slot::default()),
        }
    }
}

/// One instrument's published state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InstrumentStatus {
    /// The book is in sync with the venue.
    pub synced: bool,
    /// State changes so far (each stale and each synced counts one).
    pub transitions: u64,
    /// Why it last went stale.
    pub reason: Option<StaleReason>,
}

const REASONS: [StaleReason; 5] = [
    StaleReason::Gap,
    StaleReason::RingOverflow,
    StaleReason::Crossed,
    StaleReason::NoBridge,
    StaleReason::Reconnect,
];

impl MdStatus {
    /// Publishes a state change of `symbol`.
    pub fn publish(&self, symbol: SymbolId, synced: bool, reason: Option<StaleReason>) {
        let Some(slot) = self.slots.get(usize::from(symbol.0)) else {
            return;
        };
        let code = reason
            .and_then(|r| REASONS.iter().position(|x| *x == r))
            .map_or(0, |i| i as u8 + 1);
        slot.reason.store(code, Ordering::Relaxed);
        slot.synced.store(synced, Ordering::Relaxed);
        slot.transitions.fetch_add(1, Ordering::Release);
    }

    /// The state of `symbol` as last published.
    pub fn get(&self, symbol: SymbolId) -> InstrumentStatus {
        let Some(slot) = self.slots.get(usize::from(symbol.0)) else {
            return InstrumentStatus::default();
        };
        let transitions = slot.transitions.load(Ordering::Acquire);
        let code = slot.reason.load(Ordering::Relaxed);
        InstrumentStatus {
            synced: slot.synced.load(Ordering::Relaxed),
            transitions,
            reason: usize::from(code)
                .checked_sub(1)
                .and_then(|i| REASONS.get(i).copied()),
        }
    }
}

impl std::fmt::Debug for MdStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MdStatus { .. }")
    }
}
