//! What the checks are checked against: the placement and a few thresholds.

use crate::cpulist::CpuSet;

/// The placement to check the host against (mapped from `conf/affinity.toml`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPlan {
    /// Every core the placement uses. The same core may appear more than
    /// once (a stage executor and a helper thread): entries are merged, the
    /// roles joined and the core counted hot if any entry is hot.
    pub cores: Vec<PlannedCore>,
    /// The CPUs this process may run on. `None` reads `Cpus_allowed_list`
    /// from `proc/self/status` under the root (what `check-host` should do).
    pub allowed_cpus: Option<CpuSet>,
}

/// One core of the placement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedCore {
    /// Logical CPU id, as in `/proc/cpuinfo`.
    pub core: usize,
    /// What runs there: `"md+book"`, `"risk+router"`, `"feed thread"`, …
    pub roles: Vec<String>,
    /// `true` for a busy-spinning stage executor (the core is never idle and
    /// every interruption is latency); `false` for helper threads that sleep
    /// until work arrives (parked executors, feed, REST threads).
    pub hot: bool,
}

impl PlannedCore {
    /// A core running `roles`, hot or not.
    pub fn new(core: usize, roles: &[&str], hot: bool) -> Self {
        Self {
            core,
            roles: roles.iter().map(|r| r.to_string()).collect(),
            hot,
        }
    }
}

/// Thresholds and intentions that change severities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOptions {
    /// Locked memory the process needs (`RLIMIT_MEMLOCK`), bytes. Default
    /// 64 MiB: rings, books and buffers of the default placement.
    pub memlock_min_bytes: u64,
    /// The run will call `mlockall`: a memlock limit below
    /// `memlock_min_bytes` is then FAIL instead of WARN. Default `false`.
    pub mlockall: bool,
    /// Idle states whose exit latency (`cpuidle/stateK/latency`, µs) is
    /// above this count as deep. Default 2: keeps POLL and C1 (Intel C1 is
    /// 1-2 µs), flags C1E (~10 µs) and deeper.
    pub max_idle_latency_us: u64,
    /// Stages run with a real-time policy (SCHED_FIFO/RR): real-time
    /// throttling is then WARN. tickwire runs SCHED_OTHER today, so the
    /// default `false` only reports it.
    pub realtime: bool,
    /// Wanted turbo/boost state: `Some(false)` = must be off (steadier
    /// clocks), `Some(true)` = must be on, `None` (default) = only report.
    pub want_boost: Option<bool>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            memlock_min_bytes: 64 << 20,
            mlockall: false,
            max_idle_latency_us: 2,
            realtime: false,
            want_boost: None,
        }
    }
}
