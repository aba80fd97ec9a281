//! Circuit breaker for order entry: after `threshold` consecutive failures
//! (5xx, timeouts, connection errors) or on a 418 ban it opens, and every new
//! order is rejected at once until a cool-down has passed; then one probe is
//! let through (half-open) and the first success closes it again.

use std::time::{Duration, Instant};

/// Where the breaker stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    /// Orders flow.
    Closed,
    /// New orders are rejected until the cool-down ends.
    Open,
    /// One probe is allowed; success closes, failure reopens.
    HalfOpen,
}

impl BreakerState {
    /// Name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// Counts failures and decides whether new orders may go out.
#[derive(Debug, Clone)]
pub(super) struct Breaker {
    threshold: u32,
    cooldown: Duration,
    consecutive: u32,
    state: BreakerState,
    open_until: Option<Instant>,
    /// Times the breaker opened.
    pub opens: u64,
    /// New orders rejected because it was open.
    pub rejects: u64,
}

impl Breaker {
    /// Opens after `threshold` consecutive failures (at least 1), stays open
    /// for `cooldown`.
    pub(super) fn new(threshold: u32, cooldown: Duration) -> Breaker {
        Breaker {
            threshold: threshold.max(1),
            cooldown,
            consecutive: 0,
            state: BreakerState::Closed,
            open_until: None,
            opens: 0,
            rejects: 0,
        }
    }

    /// Current state as of `now` (an open breaker past its cool-down reads
    /// as half-open).
    pub(super) fn state(&mut self, now: Instant) -> BreakerState {
        if self.state == BreakerState::Open && self.open_until.is_none_or(|t| now >= t) {
            self.state = BreakerState::HalfOpen;
        }
        self.state
    }

    /// May a new order be sent now? Counts a rejection when not.
    pub(super) fn allow(&mut self, now: Instant) -> bool {
        let ok = self.state(now) != BreakerState::Open;
        if !ok {
            self.rejects += 1;
        }
        ok
    }

    /// The venue answered (any definite answer, even a business reject).
    pub(super) fn on_success(&mut self) {
        self.consecutive = 0;
        self.state = BreakerState::Closed;
        self.open_until = None;
    }

    /// A 5xx, timeout or connection error.
    pub(super) fn on_failure(&mut self, now: Instant) {
        self.consecutive = self.consecutive.saturating_add(1);
        if self.state == BreakerState::HalfOpen || self.consecutive >= self.threshold {
            self.open(now, self.cooldown);
        }
    }

    /// Opens at once for at least `for_` (a 418 ban: its `Retry-After`).
    pub(super) fn trip(&mut self, now: Instant, for_: Duration) {
        self.open(now, for_.max(self.cooldown));
    }

    fn open(&mut self, now: Instant, for_: Duration) {
        if self.state != BreakerState::Open {
            self.opens += 1;
        }
        self.state = BreakerState::Open;
        let until = now + for_;
        self.open_until = Some(self.open_until.map_or(until, |t| t.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_closes_after_probe_success() {
        let t0 = Instant::now();
        let mut b = Breaker::new(3, Duration::from_secs(5));
        b.on_failure(t0);
        b.on_failure(t0);
        assert!(b.allow(t0));
        b.on_failure(t0);
        assert!(!b.allow(t0));
        assert_eq!((b.opens, b.rejects), (1, 1));
        let later = t0 + Duration::from_secs(5);
        assert_eq!(b.state(later), BreakerState::HalfOpen);
        assert!(b.allow(later));
        b.on_success();
        assert_eq!(b.state(later), BreakerState::Closed);
    }

    #[test]
    fn half_open_failure_reopens() {
        let t0 = Instant::now();
        let mut b = Breaker::new(1, Duration::from_secs(1));
        b.on_failure(t0);
        let t1 = t0 + Duration::from_secs(1);
        assert!(b.allow(t1));
        b.on_failure(t1);
        assert!(!b.allow(t1));
        assert_eq!(b.opens, 2);
    }

    #[test]
    fn ban_trips_for_retry_after() {
        let t0 = Instant::now();
        let mut b = Breaker::new(10, Duration::from_secs(1));
        b.trip(t0, Duration::from_secs(30));
        assert!(!b.allow(t0 + Duration::from_secs(29)));
        assert!(b.allow(t0 + Duration::from_secs(30)));
    }
}
