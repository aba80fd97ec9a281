//! Where the md stage gets frames from: one small trait, implemented by a
//! replayed capture (`tickwire_capture::ReplaySource`) and by the live
//! feed (`tickwire_md::feed::LiveSource`).

use crate::types::{Market, SymbolName};

/// The answer of [`FrameSource::next_frame`].
#[derive(Debug)]
pub enum Next<'a> {
    /// A frame is ready.
    Frame {
        /// Capture receive time (ns since epoch); 0 when live.
        rx_ns: u64,
        /// Index of the source (file or connection) it came from.
        source: u16,
        /// Raw frame bytes.
        bytes: &'a [u8],
        /// The source's market, when known.
        market: Option<Market>,
        /// The source's symbol, when known (owner of symbol-less snapshots).
        symbol: Option<SymbolName>,
    },
    /// Nothing yet (recorded pace: the next frame is not due).
    NotYet,
    /// The source is exhausted.
    End,
}

/// A control event from a live source, taken by the md stage between
/// frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceControl {
    /// The connection carrying this instrument was re-established: its
    /// book missed diffs and must resync from a fresh snapshot.
    Resync {
        /// Market of the instrument.
        market: Market,
        /// Venue symbol.
        symbol: SymbolName,
    },
}

/// A stream of raw frames for the md stage.
pub trait FrameSource: Send {
    /// The next frame, if one is ready. `now_ns` is the stage's monotonic
    /// clock in nanoseconds since the stage started.
    fn next_frame(&mut self, now_ns: u64) -> Next<'_>;
    /// Frames handed out so far and in total (for progress), if known.
    fn progress(&self) -> (u64, Option<u64>);
    /// The next control event, if any (replays have none).
    fn take_control(&mut self) -> Option<SourceControl> {
        None
    }
    /// The md stage lost sync on an instrument (gap, crossed book, ring
    /// overflow): a live source fetches a fresh snapshot. Replays carry
    /// their snapshots and ignore it.
    fn request_resync(&mut self, _market: Market, _symbol: SymbolName) {}
}

/// Replay pace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pace {
    /// As fast as the pipeline takes frames.
    Max,
    /// At the recorded inter-arrival times divided by `speed`.
    Recorded {
        /// Speed-up factor (1.0 = real time).
        speed: f64,
    },
}
