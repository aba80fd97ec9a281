//! Order-rate token bucket in integer nanoseconds.
//!
//! The level is kept in "token-nanoseconds": one token is `1e9` units and
//! every elapsed nanosecond adds `orders_per_sec` units, so refill is exact
//! integer arithmetic with no rounding drift. Time comes from the caller
//! (venue or replay time), which keeps the bucket deterministic; a clock
//! that goes backwards adds nothing.

const UNITS_PER_TOKEN: u128 = 1_000_000_000;

/// A token bucket refilled at `rate` tokens per second up to `burst` tokens.
/// It starts full.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    level: u128,
    capacity: u128,
    rate_per_ns: u128,
    last_ns: u64,
}

impl TokenBucket {
    /// A full bucket of `burst` tokens refilled at `per_sec` tokens/second.
    pub fn new(per_sec: u32, burst: u32) -> TokenBucket {
        let capacity = u128::from(burst) * UNITS_PER_TOKEN;
        TokenBucket {
            level: capacity,
            capacity,
            rate_per_ns: u128::from(per_sec),
            last_ns: 0,
        }
    }

    fn refill(&mut self, now_ns: u64) {
        if now_ns > self.last_ns {
            let add = u128::from(now_ns - self.last_ns) * self.rate_per_ns;
            self.level = self.level.saturating_add(add).min(self.capacity);
            self.last_ns = now_ns;
        }
    }

    /// Takes one token if one is available at `now_ns`.
    pub fn try_take(&mut self, now_ns: u64) -> bool {
        self.refill(now_ns);
        if self.level >= UNITS_PER_TOKEN {
            self.level -= UNITS_PER_TOKEN;
            true
        } else {
            false
        }
    }

    /// Returns one token (an order that was taken but never sent).
    pub fn refund(&mut self) {
        self.level = (self.level + UNITS_PER_TOKEN).min(self.capacity);
    }

    /// Whole tokens available at `now_ns`.
    pub fn available(&mut self, now_ns: u64) -> u64 {
        self.refill(now_ns);
        u64::try_from(self.level / UNITS_PER_TOKEN).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_empty() {
        let mut b = TokenBucket::new(10, 3);
        assert!(b.try_take(0) && b.try_take(0) && b.try_take(0));
        assert!(!b.try_take(0));
    }

    #[test]
    fn refills_one_token_per_period_exactly() {
        let mut b = TokenBucket::new(10, 2); // one token per 100 ms
        assert!(b.try_take(0) && b.try_take(0));
        assert!(!b.try_take(99_999_999));
        assert!(b.try_take(100_000_000));
        assert!(!b.try_take(100_000_000));
        assert_eq!(b.available(1_000_000_000), 2, "capped at burst");
    }

    #[test]
    fn backwards_clock_adds_nothing() {
        let mut b = TokenBucket::new(1, 1);
        assert!(b.try_take(5_000_000_000));
        assert!(!b.try_take(1_000_000_000));
        assert!(b.try_take(6_000_000_000));
    }

    #[test]
    fn refund_is_capped_at_burst() {
        let mut b = TokenBucket::new(1, 1);
        b.refund();
        assert_eq!(b.available(0), 1);
        assert!(b.try_take(0));
        b.refund();
        assert!(b.try_take(0));
    }
}
