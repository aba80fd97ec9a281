//! Replays a [`Capture`] as a [`FrameSource`], at max or recorded pace.

use tickwire_core::source::{FrameSource, Next, Pace};

use crate::Capture;

/// Replays a [`Capture`].
pub struct ReplaySource {
    capture: Capture,
    next: usize,
    pace: Pace,
    first_rx_ns: u64,
}

impl ReplaySource {
    /// Replays `capture` at `pace`.
    pub fn new(capture: Capture, pace: Pace) -> ReplaySource {
        let first_rx_ns = capture.first_rx_ns();
        ReplaySource {
            capture,
            next: 0,
            pace,
            first_rx_ns,
        }
    }
}

impl FrameSource for ReplaySource {
    #[inline]
    fn next_frame(&mut self, now_ns: u64) -> Next<'_> {
        if self.next >= self.capture.len() {
            return Next::End;
        }
        let f = self.capture.frame(self.next);
        if let Pace::Recorded { speed } = self.pace {
            let offset = f.rx_ns.saturating_sub(self.first_rx_ns);
            // Float only for pacing arithmetic, never for prices.
            let due = (offset as f64 / speed) as u64;
            if now_ns < due {
                return Next::NotYet;
            }
        }
        self.next += 1;
        let (market, symbol) = match self.capture.sources().get(usize::from(f.source)) {
            Some(s) => (s.market, s.symbol),
            None => (None, None),
        };
        Next::Frame {
            rx_ns: f.rx_ns,
            source: f.source,
            bytes: f.bytes,
            market,
            symbol,
        }
    }

    fn progress(&self) -> (u64, Option<u64>) {
        (self.next as u64, Some(self.capture.len() as u64))
    }
}
