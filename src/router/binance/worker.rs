//! The live router thread: blocking REST calls on their own thread pinned
//! with `core_affinity`, fed by the risk -> router ring and answering on the
//! router -> risk ring (waiting, never dropping, when that ring is full).

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::breaker::BreakerState;
use super::engine::{Engine, RouterStats};
use tickwire_core::msg::{FromRouter, ToRouter};
use tickwire_core::orders::ExecReport;

/// Why the live router could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// The requested core is not one this process may run on.
    #[error(
        "router core {core} does not exist or is not allowed (available: {available:?}): pick one of those"
    )]
    NoSuchCore {
        /// Requested core.
        core: usize,
        /// Cores this process may use.
        available: Vec<usize>,
    },
    /// The OS refused to pin the thread.
    #[error("cannot pin the router thread to core {0}: check the process's CPU affinity mask")]
    PinFailed(usize),
    /// The thread could not be spawned.
    #[error("cannot spawn the router thread: {0}")]
    Spawn(#[from] std::io::Error),
    /// The thread panicked.
    #[error("the router thread panicked")]
    Panicked,
}

/// State the router publishes for other threads (risk, ctl): counters and
/// the breaker, refreshed after every command.
#[derive(Debug, Default)]
pub struct RouterShared {
    stats: Mutex<RouterStats>,
    breaker: AtomicU8,
}

impl RouterShared {
    /// Counters as of the last command handled.
    pub fn stats(&self) -> RouterStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Breaker state as of the last command handled or poll.
    pub fn breaker(&self) -> BreakerState {
        match self.breaker.load(Ordering::Acquire) {
            1 => BreakerState::Open,
            2 => BreakerState::HalfOpen,
            _ => BreakerState::Closed,
        }
    }

    fn publish(&self, engine: &mut Engine) {
        if let Ok(mut s) = self.stats.lock() {
            *s = engine.stats();
        }
        let b = match engine.breaker_state() {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        };
        self.breaker.store(b, Ordering::Release);
    }
}

/// Thread settings.
#[derive(Clone, Debug)]
pub struct LiveConfig {
    /// Logical core to pin the router thread to.
    pub core: usize,
    /// How often working and unknown orders are re-queried when idle
    /// (`None`: never).
    pub poll_interval: Option<Duration>,
}

/// A running live router thread.
pub struct LiveRouter {
    thread: JoinHandle<RouterStats>,
    shared: Arc<RouterShared>,
    parked: Arc<AtomicBool>,
}

/// Wakes the router thread when it sleeps; costs one atomic load when it
/// does not (the thread spins briefly after each command before parking).
#[derive(Clone, Debug)]
pub struct RouterWaker {
    thread: std::thread::Thread,
    parked: Arc<AtomicBool>,
}

impl RouterWaker {
    /// Call after pushing a command.
    #[inline]
    pub fn wake(&self) {
        // Orders the caller's push before the load (the thread stores
        // `parked` then re-checks the ring: one of the two sees the other).
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.parked.load(Ordering::SeqCst) {
            self.thread.unpark();
        }
    }
}

impl LiveRouter {
    /// Pins a new thread to `conf.core` and runs `engine` there until risk
    /// sends [`ToRouter::End`] (or drops its producer). Fails at once if the
    /// core does not exist.
    pub fn spawn(
        mut engine: Engine,
        conf: LiveConfig,
        mut rx: rtrb::Consumer<ToRouter>,
        mut tx: rtrb::Producer<FromRouter>,
    ) -> Result<LiveRouter, LiveError> {
        let cores = core_affinity::get_core_ids().unwrap_or_default();
        let Some(core) = cores.iter().copied().find(|c| c.id == conf.core) else {
            return Err(LiveError::NoSuchCore {
                core: conf.core,
                available: cores.iter().map(|c| c.id).collect(),
            });
        };
        let core_no = conf.core;
        let shared = Arc::new(RouterShared::default());
        let sh = Arc::clone(&shared);
        let parked = Arc::new(AtomicBool::new(false));
        let park_flag = Arc::clone(&parked);
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("tw-router-live".into())
            .spawn(move || {
                let pinned = core_affinity::set_for_current(core);
                let _ = ready_tx.send(pinned);
                if !pinned {
                    return engine.stats();
                }
                run(&mut engine, &conf, &mut rx, &mut tx, &sh, &park_flag);
                sh.publish(&mut engine);
                engine.stats()
            })?;
        match ready_rx.recv() {
            Ok(true) => Ok(LiveRouter {
                thread,
                shared,
                parked,
            }),
            _ => {
                let _ = thread.join();
                Err(LiveError::PinFailed(core_no))
            }
        }
    }

    /// A handle that wakes the thread after a command was pushed.
    pub fn waker(&self) -> RouterWaker {
        RouterWaker {
            thread: self.thread.thread().clone(),
            parked: Arc::clone(&self.parked),
        }
    }

    /// Counters and breaker state, readable from any thread.
    pub fn shared(&self) -> Arc<RouterShared> {
        Arc::clone(&self.shared)
    }

    /// Waits for the thread to end and returns its final counters.
    pub fn join(self) -> Result<RouterStats, LiveError> {
        self.thread.join().map_err(|_| LiveError::Panicked)
    }
}

/// How often the request clock is re-synced to the venue's (when idle).
const CLOCK_SYNC_EVERY: Duration = Duration::from_secs(300);

/// Empty polls of the command ring before the thread parks.
const SPINS_BEFORE_PARK: u32 = 2000;
/// Longest sleep between polls of working orders and the ring.
const PARK: Duration = Duration::from_millis(5);

/// Pushes, waiting while the ring is full. Returns false only when the
/// consumer is gone (nobody left to tell).
fn push_wait(tx: &mut rtrb::Producer<FromRouter>, mut msg: FromRouter) -> bool {
    loop {
        match tx.push(msg) {
            Ok(()) => return true,
            Err(rtrb::PushError::Full(m)) => {
                if tx.is_abandoned() {
                    return false;
                }
                msg = m;
                std::thread::yield_now();
            }
        }
    }
}

fn run(
    engine: &mut Engine,
    conf: &LiveConfig,
    rx: &mut rtrb::Consumer<ToRouter>,
    tx: &mut rtrb::Producer<FromRouter>,
    shared: &RouterShared,
    parked: &AtomicBool,
) {
    let mut last_poll = Instant::now();
    let mut idle_spins = 0u32;
    // Timestamps follow the venue's clock, not only the host's NTP.
    let _ = engine.sync_clock();
    shared.publish(engine);
    let mut last_sync = Instant::now();
    loop {
        match rx.pop() {
            Ok(ToRouter::Cmd(cmd)) => {
                idle_spins = 0;
                engine.on_cmd(cmd, &mut |r: ExecReport| {
                    push_wait(tx, FromRouter::Exec(r));
                });
                shared.publish(engine);
            }
            Ok(ToRouter::End) => {
                push_wait(tx, FromRouter::End);
                return;
            }
            Err(_) => {
                if rx.is_abandoned() && rx.is_empty() {
                    push_wait(tx, FromRouter::End);
                    return;
                }
                if let Some(every) = conf.poll_interval
                    && engine.working() > 0
                    && last_poll.elapsed() >= every
                {
                    last_poll = Instant::now();
                    engine.poll(&mut |r: ExecReport| {
                        push_wait(tx, FromRouter::Exec(r));
                    });
                    shared.publish(engine);
                }
                if last_sync.elapsed() >= CLOCK_SYNC_EVERY {
                    last_sync = Instant::now();
                    let _ = engine.sync_clock();
                    shared.publish(engine);
                }
                // Spin a little after work (the next command often follows
                // at once), then sleep until woken or the poll is due.
                idle_spins += 1;
                if idle_spins < SPINS_BEFORE_PARK {
                    std::hint::spin_loop();
                    continue;
                }
                parked.store(true, Ordering::SeqCst);
                if rx.is_empty() {
                    std::thread::park_timeout(PARK);
                }
                parked.store(false, Ordering::Release);
            }
        }
    }
}
