//! Capped exponential backoff with jitter, deterministic given a seed.
//!
//! Delay for attempt `n` (0-based): `e = min(cap, base * 2^n)`, then "equal
//! jitter": `e/2 + uniform(0..=e/2)`. Spreading reconnects this way keeps a
//! fleet of clients from hammering the venue in lockstep after an outage,
//! while never waiting longer than `cap`.

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Backoff parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackoffConfig {
    /// Delay scale of the first retry (before jitter).
    pub base: Duration,
    /// Largest delay ever returned.
    pub cap: Duration,
    /// Seed of the jitter generator (same seed, same delays).
    pub seed: u64,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        BackoffConfig {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(10),
            seed: 0x7469_636b,
        }
    }
}

/// Hands out successive retry delays; [`Backoff::reset`] after a success.
#[derive(Clone, Debug)]
pub(super) struct Backoff {
    cfg: BackoffConfig,
    attempt: u32,
    rng: ChaCha8Rng,
}

impl Backoff {
    /// A fresh backoff (next delay is the first one).
    pub(super) fn new(cfg: BackoffConfig) -> Backoff {
        Backoff {
            cfg,
            attempt: 0,
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
        }
    }

    /// Back to the first delay (call after a successful connect/request).
    pub(super) fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The next delay: never above `cap`, at least half the un-jittered one.
    pub(super) fn next_delay(&mut self) -> Duration {
        let base = u64::try_from(self.cfg.base.as_nanos()).unwrap_or(u64::MAX);
        let cap = u64::try_from(self.cfg.cap.as_nanos()).unwrap_or(u64::MAX);
        let shift = self.attempt.min(40);
        let exp = base.saturating_mul(1u64 << shift).min(cap);
        self.attempt = self.attempt.saturating_add(1);
        let half = exp / 2;
        let jitter = if exp - half == 0 {
            0
        } else {
            self.rng.random_range(0..=exp - half)
        };
        Duration::from_nanos(half + jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(seed: u64) -> BackoffConfig {
        BackoffConfig {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(300),
            seed,
        }
    }

    #[test]
    fn delays_grow_then_stay_under_the_cap() {
        let mut b = Backoff::new(cfg(1));
        let d: Vec<Duration> = (0..12).map(|_| b.next_delay()).collect();
        for (n, x) in d.iter().enumerate() {
            let exp = Duration::from_millis(10 * (1u64 << n.min(20))).min(cfg(1).cap);
            assert!(*x <= exp, "attempt {n}: {x:?} > {exp:?}");
            assert!(*x >= exp / 2, "attempt {n}: {x:?} < half of {exp:?}");
        }
        assert_eq!(b.attempt, 12);
    }

    #[test]
    fn same_seed_gives_same_delays_and_reset_restarts() {
        let mut a = Backoff::new(cfg(7));
        let mut b = Backoff::new(cfg(7));
        let da: Vec<Duration> = (0..8).map(|_| a.next_delay()).collect();
        let db: Vec<Duration> = (0..8).map(|_| b.next_delay()).collect();
        assert_eq!(da, db);
        let mut c = Backoff::new(cfg(8));
        let dc: Vec<Duration> = (0..8).map(|_| c.next_delay()).collect();
        assert_ne!(da, dc, "different seeds should jitter differently");
        a.reset();
        assert_eq!(a.attempt, 0);
        assert!(a.next_delay() <= Duration::from_millis(10));
    }
}
