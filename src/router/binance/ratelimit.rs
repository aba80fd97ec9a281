//! Venue rate limits as the venue reports them: the `X-MBX-USED-WEIGHT-1M`
//! and `X-MBX-ORDER-COUNT-10S` headers are checked against configured limits
//! before each request, and 429 / 418 answers hold all sending until their
//! `Retry-After` has passed.
//!
//! Binance's windows are aligned to the wall clock (a minute, ten seconds),
//! so a counter seen in one window is treated as reset once that window ends.
//! Time is passed in as wall-clock milliseconds so the logic is testable.

/// Configured limits (from the venue's `exchangeInfo` `rateLimits`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Request weight allowed per minute.
    pub weight_per_minute: u32,
    /// Orders allowed per ten seconds.
    pub orders_per_10s: u32,
}

impl Default for RateLimits {
    /// Binance spot defaults at the time of writing.
    fn default() -> RateLimits {
        RateLimits {
            weight_per_minute: 6000,
            orders_per_10s: 100,
        }
    }
}

/// Why sending is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldReason {
    /// The request weight for this minute would be exceeded.
    Weight,
    /// The order count for this ten-second window would be exceeded.
    OrderCount,
    /// The venue answered 429 (too many requests).
    TooManyRequests,
    /// The venue answered 418 (IP banned).
    Banned,
}

/// Sending must wait until `until_ms` (wall clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hold {
    /// Wall-clock time in ms when sending may resume.
    pub until_ms: u64,
    /// Why.
    pub reason: HoldReason,
}

/// What a response told the limiter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    /// HTTP status.
    pub status: u16,
    /// `X-MBX-USED-WEIGHT-1M`, if present.
    pub used_weight_1m: Option<u32>,
    /// `X-MBX-ORDER-COUNT-10S`, if present.
    pub order_count_10s: Option<u32>,
    /// `Retry-After` in seconds, if present.
    pub retry_after_s: Option<u64>,
}

/// Tracks the venue's counters and holds.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    limits: RateLimits,
    weight: u32,
    weight_window_end_ms: u64,
    orders: u32,
    orders_window_end_ms: u64,
    hold: Option<Hold>,
    /// 429 answers seen.
    pub too_many_requests: u64,
    /// 418 answers seen.
    pub bans: u64,
}

const MINUTE_MS: u64 = 60_000;
const TEN_S_MS: u64 = 10_000;
/// Retry-After assumed when a 429/418 comes without one.
const DEFAULT_RETRY_AFTER_S: u64 = 1;

impl RateLimiter {
    /// A limiter with no counters seen yet.
    pub fn new(limits: RateLimits) -> RateLimiter {
        RateLimiter {
            limits,
            weight: 0,
            weight_window_end_ms: 0,
            orders: 0,
            orders_window_end_ms: 0,
            hold: None,
            too_many_requests: 0,
            bans: 0,
        }
    }

    /// May a request of `weight` (and one order, if `is_order`) be sent at
    /// `now_ms`? `Err` says until when to wait.
    pub fn check(&self, now_ms: u64, weight: u32, is_order: bool) -> Result<(), Hold> {
        if let Some(h) = self.hold
            && now_ms < h.until_ms
        {
            return Err(h);
        }
        if now_ms < self.weight_window_end_ms
            && self.weight.saturating_add(weight) > self.limits.weight_per_minute
        {
            return Err(Hold {
                until_ms: self.weight_window_end_ms,
                reason: HoldReason::Weight,
            });
        }
        if is_order
            && now_ms < self.orders_window_end_ms
            && self.orders.saturating_add(1) > self.limits.orders_per_10s
        {
            return Err(Hold {
                until_ms: self.orders_window_end_ms,
                reason: HoldReason::OrderCount,
            });
        }
        Ok(())
    }

    /// Records what a response said. Returns the new hold for a 429 or 418.
    pub fn observe(&mut self, now_ms: u64, o: Observed) -> Option<Hold> {
        if let Some(w) = o.used_weight_1m {
            self.weight = w;
            self.weight_window_end_ms = (now_ms / MINUTE_MS + 1) * MINUTE_MS;
        }
        if let Some(c) = o.order_count_10s {
            self.orders = c;
            self.orders_window_end_ms = (now_ms / TEN_S_MS + 1) * TEN_S_MS;
        }
        let reason = match o.status {
            429 => {
                self.too_many_requests += 1;
                HoldReason::TooManyRequests
            }
            418 => {
                self.bans += 1;
                HoldReason::Banned
            }
            _ => return None,
        };
        let secs = o.retry_after_s.unwrap_or(DEFAULT_RETRY_AFTER_S);
        let h = Hold {
            until_ms: now_ms.saturating_add(secs.saturating_mul(1000)),
            reason,
        };
        self.hold = Some(match self.hold {
            Some(old) if old.until_ms > h.until_ms => old,
            _ => h,
        });
        Some(h)
    }

    /// The current hold from a 429/418, if any (it may have expired).
    pub fn hold(&self) -> Option<Hold> {
        self.hold
    }

    /// Last seen used weight for the current minute.
    pub fn used_weight(&self) -> u32 {
        self.weight
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(status: u16, w: Option<u32>, c: Option<u32>, ra: Option<u64>) -> Observed {
        Observed {
            status,
            used_weight_1m: w,
            order_count_10s: c,
            retry_after_s: ra,
        }
    }

    #[test]
    fn weight_near_limit_holds_until_the_minute_ends() {
        let mut l = RateLimiter::new(RateLimits {
            weight_per_minute: 10,
            orders_per_10s: 100,
        });
        l.observe(61_000, obs(200, Some(9), None, None));
        assert!(l.check(61_500, 1, false).is_ok());
        let h = l.check(61_500, 2, false).unwrap_err();
        assert_eq!(h.until_ms, 120_000);
        assert_eq!(h.reason, HoldReason::Weight);
        assert!(l.check(120_000, 2, false).is_ok());
    }

    #[test]
    fn order_count_limit_applies_to_orders_only() {
        let mut l = RateLimiter::new(RateLimits {
            weight_per_minute: 1000,
            orders_per_10s: 3,
        });
        l.observe(5_000, obs(200, None, Some(3), None));
        assert_eq!(l.check(5_001, 1, true).unwrap_err().until_ms, 10_000);
        assert!(l.check(5_001, 1, false).is_ok());
    }

    #[test]
    fn status_429_and_418_hold_for_retry_after() {
        let mut l = RateLimiter::new(RateLimits::default());
        let h = l.observe(1_000, obs(429, None, None, Some(2))).unwrap();
        assert_eq!(h.until_ms, 3_000);
        assert_eq!(
            l.check(2_999, 1, false).unwrap_err().reason,
            HoldReason::TooManyRequests
        );
        assert!(l.check(3_000, 1, false).is_ok());
        l.observe(4_000, obs(418, None, None, Some(60)));
        assert_eq!(
            l.check(5_000, 1, false).unwrap_err().reason,
            HoldReason::Banned
        );
        assert_eq!((l.too_many_requests, l.bans), (1, 1));
    }
}
