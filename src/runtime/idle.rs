//! What an executor's task does between rounds of polling its stages:
//! hand control back to glommio now and then for its housekeeping, and with
//! the `park` policy sleep once every stage has been idle for a while.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tickwire_config::schema::IdlePolicy;

/// Yields to the executor once (the task is rescheduled at once).
pub(crate) fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// Future returned by [`yield_now`].
#[derive(Debug)]
pub(crate) struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Empty polls before a parking stage sleeps.
const SPINS_BEFORE_PARK: u32 = 4096;

/// Idle state of one stage task.
#[derive(Debug)]
pub(crate) struct Idler {
    policy: IdlePolicy,
    park: Duration,
    idle_polls: u32,
    busy_polls: u32,
}

impl Idler {
    /// An idler for `policy`; `park_us` is the sleep of [`IdlePolicy::Park`].
    pub(crate) fn new(policy: IdlePolicy, park_us: u64) -> Idler {
        Idler {
            policy,
            park: Duration::from_micros(park_us),
            idle_polls: 0,
            busy_polls: 0,
        }
    }

    /// After a round in which some stage did work.
    pub(crate) async fn after_busy(&mut self) {
        self.idle_polls = 0;
        self.busy_polls = self.busy_polls.wrapping_add(1);
        if self.busy_polls.is_multiple_of(1024) {
            yield_now().await;
        }
    }

    /// After a round in which no stage had work.
    pub(crate) async fn after_idle(&mut self) {
        self.idle_polls = self.idle_polls.saturating_add(1);
        match self.policy {
            IdlePolicy::Park if self.idle_polls > SPINS_BEFORE_PARK => {
                glommio::timer::sleep(self.park).await;
            }
            _ => {
                if self.idle_polls.is_multiple_of(1024) {
                    yield_now().await;
                } else {
                    std::hint::spin_loop();
                }
            }
        }
    }
}
