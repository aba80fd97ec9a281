//! Order-endpoint fault dice and the rate-limit windows behind the
//! `X-MBX-*` headers.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::Faults;

/// What happens to one new order.
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

/// Seeded fault dice plus request-weight and order-count windows.
pub(crate) struct Dice {
    rng: ChaCha8Rng,
    weights: VecDeque<(Instant, u32)>,
    orders: VecDeque<Instant>,
}

impl Dice {
    pub(crate) fn new(seed: u64) -> Dice {
        Dice {
            rng: ChaCha8Rng::seed_from_u64(seed),
            weights: VecDeque::new(),
            orders: VecDeque::new(),
        }
    }

    /// Draws the fault of one new order.
    pub(crate) fn roll(&mut self, f: &Faults) -> OrderFault {
        let r: u32 = self.rng.random_range(0..100);
        let a = u32::from(f.order_5xx_pct);
        let b = a + u32::from(f.order_429_pct);
        let c = b + u32::from(f.order_no_answer_pct);
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

    /// Adds a request of `weight` and returns the weight used in the last minute.
    pub(crate) fn add_weight(&mut self, weight: u32) -> u32 {
        let now = Instant::now();
        while self
            .weights
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > Duration::from_secs(60))
        {
            self.weights.pop_front();
        }
        self.weights.push_back((now, weight));
        self.weights.iter().map(|(_, w)| w).sum()
    }

    /// New orders in the last ten seconds (after forgetting older ones).
    pub(crate) fn order_count(&mut self) -> u32 {
        let now = Instant::now();
        while self
            .orders
            .front()
            .is_some_and(|t| now.duration_since(*t) > Duration::from_secs(10))
        {
            self.orders.pop_front();
        }
        u32::try_from(self.orders.len()).unwrap_or(u32::MAX)
    }

    /// Counts one new order.
    pub(crate) fn add_order(&mut self) {
        self.orders.push_back(Instant::now());
    }
}
