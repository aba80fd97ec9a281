//! [`Ticker`]: a named side thread that runs a closure at a fixed period
//! until stopped — the shape of the live run's monitor and the demo's end
//! watcher. Never used on a stage's thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// A running ticker thread.
pub struct Ticker {
    quit: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Ticker {
    /// Calls `tick` every `period` (first after one period) on a thread
    /// named `name` until [`Ticker::stop`] or `tick` returns false. A thread
    /// that cannot be spawned leaves a ticker that does nothing.
    pub fn start(
        name: &str,
        period: Duration,
        mut tick: impl FnMut() -> bool + Send + 'static,
    ) -> Ticker {
        let quit = Arc::new(AtomicBool::new(false));
        let q = Arc::clone(&quit);
        let handle = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                while !q.load(Ordering::Relaxed) {
                    std::thread::park_timeout(period);
                    if q.load(Ordering::Relaxed) || !tick() {
                        break;
                    }
                }
            })
            .ok();
        Ticker { quit, handle }
    }

    /// Stops the thread (at once, not after its period) and waits for it.
    pub fn stop(mut self) {
        self.quit.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            h.thread().unpark();
            let _ = h.join();
        }
    }
}
