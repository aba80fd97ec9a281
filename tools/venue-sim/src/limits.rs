//! Rate limits (request weight per minute, new orders per interval, the
//! 429 → 418 escalation) and the seeded order-fault dice.
//!
//! Limits are per market family, like Binance's separate hosts
//! (`api.binance.com`, `fapi.binance.com`, `dapi.binance.com`).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{Market, SimConfig};

/// Entries a window keeps at most (older ones are forgotten).
const WINDOW_CAP: usize = 1 << 20;

/// What happens to one new order (the dice).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OrderFault {
    /// Handled normally.
    None,
    /// 503, not placed.
    ServerError,
    /// 429 + Retry-After, not placed.
    TooMany,
    /// Placed, never answered.
    NoAnswer,
}

/// A sliding window of `(time, amount)`.
#[derive(Default)]
struct Window {
    q: VecDeque<(Instant, u32)>,
    sum: u64,
}

impl Window {
    fn prune(&mut self, now: Instant, span: Duration) {
        while let Some(&(t, w)) = self.q.front() {
            if now.duration_since(t) >= span || self.q.len() > WINDOW_CAP {
                self.q.pop_front();
                self.sum -= u64::from(w);
            } else {
                break;
            }
        }
    }

    fn add(&mut self, now: Instant, w: u32) {
        self.q.push_back((now, w));
        self.sum += u64::from(w);
    }

    /// Seconds until the oldest entry leaves the window.
    fn retry_after(&self, now: Instant, span: Duration) -> u64 {
        self.q.front().map_or(1, |(t, _)| {
            span.saturating_sub(now.duration_since(*t)).as_secs().max(1)
        })
    }
}

/// Per-family state.
#[derive(Default)]
struct Family {
    weight: Window,
    orders_10s: Window,
    orders_long: Window,
    /// After a 429, until when continuing earns a ban.
    warned_until: Option<Instant>,
    banned_until: Option<Instant>,
}

/// Result of admitting a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Go on; the weight used in the last minute.
    Ok(u64),
    /// 429 `-1003`, `Retry-After` seconds.
    TooMuchWeight {
        used: u64,
        retry_after: u64,
        limit: u32,
    },
    /// 418, banned for `retry_after` more seconds.
    Banned { used: u64, retry_after: u64 },
}

/// Rate-limit state and fault dice.
pub(crate) struct Limits {
    rng: ChaCha8Rng,
    fams: [Family; 3],
    ban: Duration,
    max_10s_override: Option<u32>,
    /// New orders seen (1-based numbering for the "Nth order" faults).
    pub(crate) new_orders: u64,
    /// Depth requests failed so far by the fault.
    pub(crate) depth_failed: u32,
    pub(crate) ban_fired: bool,
}

fn idx(m: Market) -> usize {
    match m {
        Market::Spot => 0,
        Market::UsdM => 1,
        Market::CoinM => 2,
    }
}

/// Documented limits: `(weight per minute, orders per 10 s, orders per
/// long interval, long interval)`.
pub(crate) fn documented(m: Market) -> (u32, u32, u32, Duration) {
    match m {
        // Spot exchangeInfo: REQUEST_WEIGHT 6000/1m, ORDERS 100/10s, 200000/1d.
        Market::Spot => (6000, 100, 200_000, Duration::from_secs(86_400)),
        // USD-M: REQUEST_WEIGHT 2400/1m, ORDERS 300/10s, 1200/1m.
        Market::UsdM => (2400, 300, 1200, Duration::from_secs(60)),
        // COIN-M: REQUEST_WEIGHT 2400/1m, ORDERS 1200/1m (10 s kept at 300).
        Market::CoinM => (2400, 300, 1200, Duration::from_secs(60)),
    }
}

impl Limits {
    pub(crate) fn new(cfg: &SimConfig) -> Limits {
        Limits {
            rng: ChaCha8Rng::seed_from_u64(cfg.faults.seed),
            fams: Default::default(),
            ban: cfg.ban_duration,
            max_10s_override: cfg.faults.max_orders_10s,
            new_orders: 0,
            depth_failed: 0,
            ban_fired: false,
        }
    }

    /// The orders-per-10 s limit in force for `m`.
    pub(crate) fn orders_10s_limit(&self, m: Market) -> u32 {
        self.max_10s_override.unwrap_or(documented(m).1)
    }

    /// Admits a request of `weight`.
    pub(crate) fn admit(&mut self, m: Market, weight: u32) -> Admit {
        let now = Instant::now();
        let (limit, ..) = documented(m);
        let minute = Duration::from_secs(60);
        let ban = self.ban;
        let f = &mut self.fams[idx(m)];
        f.weight.prune(now, minute);
        if let Some(until) = f.banned_until {
            if now < until {
                let left = until.duration_since(now).as_secs().max(1);
                return Admit::Banned {
                    used: f.weight.sum,
                    retry_after: left,
                };
            }
            f.banned_until = None;
        }
        f.weight.add(now, weight);
        let used = f.weight.sum;
        if used > u64::from(limit) {
            if f.warned_until.is_some_and(|w| now < w) {
                f.banned_until = Some(now + ban);
                f.warned_until = None;
                return Admit::Banned {
                    used,
                    retry_after: ban.as_secs().max(1),
                };
            }
            let retry_after = f.weight.retry_after(now, minute);
            f.warned_until = Some(now + Duration::from_secs(retry_after));
            return Admit::TooMuchWeight {
                used,
                retry_after,
                limit,
            };
        }
        Admit::Ok(used)
    }

    /// Weight used in the last minute.
    pub(crate) fn used(&mut self, m: Market) -> u64 {
        let f = &mut self.fams[idx(m)];
        f.weight.prune(Instant::now(), Duration::from_secs(60));
        f.weight.sum
    }

    /// Counts one new order unless a limit is exceeded; returns the counts
    /// `(10 s, long)` or the 429 `-1015` message and `Retry-After`.
    pub(crate) fn order(&mut self, m: Market) -> Result<(u64, u64), (String, u64)> {
        let now = Instant::now();
        let (_, _, long_limit, long) = documented(m);
        let limit10 = self.orders_10s_limit(m);
        let f = &mut self.fams[idx(m)];
        let ten = Duration::from_secs(10);
        f.orders_10s.prune(now, ten);
        f.orders_long.prune(now, long);
        if f.orders_10s.sum >= u64::from(limit10) {
            let s = f.orders_10s.retry_after(now, ten);
            return Err((
                format!("Too many new orders; current limit is {limit10} orders per 10 SECOND."),
                s,
            ));
        }
        if f.orders_long.sum >= u64::from(long_limit) {
            let unit = if m == Market::Spot {
                "1 DAY"
            } else {
                "1 MINUTE"
            };
            let s = f.orders_long.retry_after(now, long);
            return Err((
                format!("Too many new orders; current limit is {long_limit} orders per {unit}."),
                s,
            ));
        }
        f.orders_10s.add(now, 1);
        f.orders_long.add(now, 1);
        Ok((f.orders_10s.sum, f.orders_long.sum))
    }

    /// Draws the fault of one new order.
    pub(crate) fn roll(&mut self, five: u8, too_many: u8, no_answer: u8) -> OrderFault {
        let r: u32 = self.rng.random_range(0..100);
        let a = u32::from(five);
        let b = a + u32::from(too_many);
        let c = b + u32::from(no_answer);
        if r < a {
            OrderFault::ServerError
        } else if r < b {
            OrderFault::TooMany
        } else if r < c {
            OrderFault::NoAnswer
        } else {
            OrderFault::None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_429_then_418() {
        let mut cfg = SimConfig::synthetic(Vec::new(), "k", "s");
        cfg.ban_duration = Duration::from_secs(5);
        let mut l = Limits::new(&cfg);
        assert_eq!(l.admit(Market::UsdM, 2400), Admit::Ok(2400));
        assert!(matches!(
            l.admit(Market::UsdM, 1),
            Admit::TooMuchWeight { limit: 2400, .. }
        ));
        assert!(matches!(
            l.admit(Market::UsdM, 1),
            Admit::Banned { retry_after: 5, .. }
        ));
        assert!(matches!(l.admit(Market::UsdM, 1), Admit::Banned { .. }));
        // Another family is not affected.
        assert_eq!(l.admit(Market::Spot, 1), Admit::Ok(1));
    }

    #[test]
    fn order_count_limit() {
        let mut cfg = SimConfig::synthetic(Vec::new(), "k", "s");
        cfg.faults.max_orders_10s = Some(2);
        let mut l = Limits::new(&cfg);
        assert_eq!(l.order(Market::Spot), Ok((1, 1)));
        assert_eq!(l.order(Market::Spot), Ok((2, 2)));
        let e = l.order(Market::Spot).unwrap_err();
        assert!(
            e.0.contains("current limit is 2 orders per 10 SECOND"),
            "{e:?}"
        );
    }
}
