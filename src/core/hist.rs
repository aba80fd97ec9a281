//! Stage-local latency histograms. The hot path records raw TSC deltas
//! (a subtraction and an array increment, no allocation); conversion to
//! nanoseconds and merging happen after the run.

use hdrhistogram::Histogram;

use crate::types::Tsc;

/// Highest recordable TSC delta (about 7 minutes at 3 GHz); larger values
/// saturate instead of failing.
const MAX_TICKS: u64 = 1 << 40;

/// A latency histogram in TSC ticks, pre-sized so recording never allocates.
#[derive(Clone, Debug)]
pub struct TscHist {
    hist: Histogram<u64>,
}

impl Default for TscHist {
    fn default() -> Self {
        TscHist::new()
    }
}

impl TscHist {
    /// An empty histogram covering 1 tick .. 2^40 ticks at 3 significant digits.
    pub fn new() -> TscHist {
        let mut hist =
            Histogram::new_with_bounds(1, MAX_TICKS, 3).expect("static histogram bounds are valid");
        hist.auto(false);
        TscHist { hist }
    }

    /// Records `end - start` (zero if the clock went backwards).
    #[inline]
    pub fn record(&mut self, start: Tsc, end: Tsc) {
        self.hist
            .saturating_record(end.0.saturating_sub(start.0).max(1));
    }

    /// Number of samples.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// Adds another histogram's samples.
    pub fn merge(&mut self, other: &TscHist) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.hist.add(&other.hist);
    }

    /// Converts to a nanosecond histogram with `ticks_to_ns`.
    pub fn to_nanos(&self, ticks_to_ns: impl Fn(u64) -> u64) -> Histogram<u64> {
        let mut ns =
            Histogram::new_with_bounds(1, MAX_TICKS, 3).expect("static histogram bounds are valid");
        for v in self.hist.iter_recorded() {
            ns.saturating_record_n(
                ticks_to_ns(v.value_iterated_to()).max(1),
                v.count_at_value(),
            );
        }
        ns
    }
}

/// Percentile summary of a latency histogram, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LatencySummary {
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest sample.
    pub max: u64,
    /// Number of samples.
    pub count: u64,
}

impl LatencySummary {
    /// Summarises a nanosecond histogram.
    pub fn of(h: &Histogram<u64>) -> LatencySummary {
        if h.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            count: h.len(),
        }
    }
}
