//! What a stage task does between polls: give co-hosted stages a turn,
//! and with the `park` policy sleep once it has been idle for a while.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::config::schema::IdlePolicy;

/// Yields to the executor once (the task is rescheduled at once).
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// Future returned by [`yield_now`].
#[derive(Debug)]
pub struct YieldNow {
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
pub struct Idler {
    policy: IdlePolicy,
    park: Duration,
    shared: bool,
    idle_polls: u32,
    busy_polls: u32,
}

impl Idler {
    /// `shared` is true when other stages run on the same executor.
    pub fn new(policy: IdlePolicy, park_us: u64, shared: bool) -> Idler {
        Idler {
            policy,
            park: Duration::from_micros(park_us),
            shared,
            idle_polls: 0,
            busy_polls: 0,
        }
    }

    /// After a poll that did work.
    pub async fn after_busy(&mut self) {
        self.idle_polls = 0;
        self.busy_polls = self.busy_polls.wrapping_add(1);
        // Alone on a core, only hand control back now and then.
        if self.shared || self.busy_polls.is_multiple_of(1024) {
            yield_now().await;
        }
    }

    /// After a poll that found nothing to do.
    pub async fn after_idle(&mut self) {
        self.idle_polls = self.idle_polls.saturating_add(1);
        match self.policy {
            IdlePolicy::Park if self.idle_polls > SPINS_BEFORE_PARK => {
                glommio::timer::sleep(self.park).await;
            }
            _ => {
                if self.shared || self.idle_polls.is_multiple_of(1024) {
                    yield_now().await;
                } else {
                    std::hint::spin_loop();
                }
            }
        }
    }
}
