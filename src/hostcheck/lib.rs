//! `tickwire check-host`: audits a Linux box for a thread-per-core placement.
//!
//! Reads `/proc` and `/sys` under a [`HostRoot`] (`/` in production, a
//! fixture tree in tests) and checks every planned core and a few host-wide
//! settings against what a busy-spinning, low-latency pipeline needs. Each
//! [`Finding`] is OK, WARN or FAIL with the exact fix: a kernel command-line
//! parameter, a sysctl or a command.
//!
//! ```no_run
//! use tickwire_hostcheck::{CheckOptions, HostPlan, HostRoot, PlannedCore, check_host, render_table};
//!
//! let plan = HostPlan {
//!     cores: vec![
//!         PlannedCore::new(2, &["md+book", "feed thread"], true),
//!         PlannedCore::new(3, &["risk+router"], true),
//!     ],
//!     allowed_cpus: None,
//! };
//! let report = check_host(&HostRoot::system(), &plan, &CheckOptions::default());
//! print!("{}", render_table(&report));
//! std::process::exit(i32::from(report.exit_code()));
//! ```
//!
//! Nothing here fails or panics on file content: a missing, unreadable or
//! garbled file becomes a finding ("not verified: …" or "not exposed"), and
//! parsing is tolerant throughout.
//!
//! # Severities
//!
//! "Hot" is a core whose [`PlannedCore::hot`] is true (a busy-spinning stage
//! executor); "helper" is any other planned core. When a fact that matters
//! for a hot core cannot be read, the finding is WARN ("not verified"); for a
//! helper it is OK.
//!
//! Per planned core:
//!
//! | check | OK | WARN | FAIL |
//! |---|---|---|---|
//! | `core-online` | in `/sys/devices/system/cpu/online` | online set unknown | offline (fix: `echo 1 > …/cpuN/online`) or absent (fix: pick an online CPU) |
//! | `core-allowed` | in `Cpus_allowed_list` of `/proc/self/status` (or [`HostPlan::allowed_cpus`]) | unknown | not allowed: tickwire pins only inside its affinity (fix: `taskset -c …`, systemd `CPUAffinity=`, `cpuset.cpus`). Note `isolcpus=` removes isolated CPUs from the default affinity, so a tuned box needs the `taskset` |
//! | `isolcpus` | hot core in `/sys/devices/system/cpu/isolated` (or `isolcpus=`); any helper | hot core not isolated (fix: `isolcpus=managed_irq,domain,<isolated ∪ hot>`, keeping flags already given and adding `domain`; when every online CPU is hot the fix is to free one first, as the kernel keeps a housekeeping CPU) | |
//! | `nohz-full` | hot core in `/sys/devices/system/cpu/nohz_full` (or `nohz_full=`); any helper | hot core keeps the tick (fix: `nohz_full=<nohz ∪ hot>`) | |
//! | `rcu-nocbs` | hot core in `rcu_nocbs=` or `nohz_full` (which implies it); any helper | hot core runs its RCU callbacks (fix: `rcu_nocbs=<listed ∪ hot>`) | |
//! | `smt-sibling` | no sibling, or siblings isolated and unplanned; any helper | a sibling of a hot core runs a helper, or is left to the OS (fix: move the helper / `echo 0 > …/cpuS/online` / `nosmt`) | a sibling of a hot core runs another hot stage (fix: different physical cores, or `echo off > /sys/devices/system/cpu/smt/control`) |
//! | `governor` | `performance`; cpufreq not exposed (VM or no driver: the OS does not scale the clock); any helper | hot core with another governor (fix: `cpupower -c N frequency-set -g performance`) | |
//! | `c-states` | no enabled idle state above [`CheckOptions::max_idle_latency_us`] (POLL ignored); `idle=poll`; cpuidle not exposed (default HLT idle) | such a state enabled, on hot **and** helper cores: the spinning executor never idles, but helper threads and wake-ups on the core pay the exit latency (fix: `echo 1 > …/cpuidle/stateK/disable`, persist `intel_idle.max_cstate=1` / `processor.max_cstate=1` per `cpuidle/current_driver`) | |
//! | `irq-affinity` | no device IRQ's `smp_affinity_list` includes the core; any helper | IRQs may be delivered to a hot core (fix: a `for` loop writing the housekeeping CPUs to each `/proc/irq/N/smp_affinity_list`, irqbalance banning, `isolcpus=managed_irq`) | |
//! | `numa-node` | node shown; single node or no NUMA topology | hot core on another node than most hot cores (fix: move it to a core of that node) | |
//!
//! Host-wide:
//!
//! | check | OK | WARN | FAIL |
//! |---|---|---|---|
//! | `tsc-flags` | `constant_tsc` and `nonstop_tsc` on every CPU | cpuinfo unreadable or no x86 `flags` line | a flag missing: timestamps are raw TSC reads (fix: invariant-TSC hardware; KVM `-cpu host,+invtsc`) |
//! | `clocksource` | `tsc` | anything else or unknown (fix: `echo tsc > …/current_clocksource` + `clocksource=tsc`, or `tsc=reliable` when the kernel dropped the TSC) | |
//! | `housekeeping` | some online CPU runs no hot stage | every online CPU is hot (the OS preempts the stages) | |
//! | `irq-default` | `/proc/irq/default_smp_affinity` avoids hot cores | includes a hot core (fix: `echo <mask> > /proc/irq/default_smp_affinity`, `irqaffinity=<list>`) | |
//! | `thp` | `madvise`, `never`, or not built in | `always` (fix: `echo never > …/enabled`, `transparent_hugepage=never`) | |
//! | `thp-defrag` | not `always`, or THP `never` | `always` (fix: `echo madvise > …/defrag`) | |
//! | `swap` | no active swap | any active swap (fix: `swapoff -a` + `/etc/fstab`, or `sysctl -w vm.swappiness=1`) | |
//! | `memlock` | soft `RLIMIT_MEMLOCK` ≥ [`CheckOptions::memlock_min_bytes`], or CAP_IPC_LOCK | below it (fix: `LimitMEMLOCK=infinity`, `ulimit -l unlimited`, limits.conf) | below it with [`CheckOptions::mlockall`] |
//! | `numa-balancing` | off, single node, or not built in | on with several nodes (fix: `sysctl -w kernel.numa_balancing=0`) | |
//! | `watchdog` | lockup watchdogs off or kept off hot cores by `kernel.watchdog_cpumask` | soft-lockup/NMI watchdog on a hot core (fix: `sysctl -w kernel.watchdog_cpumask=<housekeeping>`) | |
//! | `rt-throttling` | reported only (tickwire runs SCHED_OTHER) | with [`CheckOptions::realtime`], `sched_rt_runtime_us` ≠ -1 (fix: `sysctl -w kernel.sched_rt_runtime_us=-1`) | |
//! | `boost` | reported only, or as [`CheckOptions::want_boost`] asks | differs from `want_boost` (fix: `intel_pstate/no_turbo` or `cpufreq/boost`) | |
//!
//! A planned core known not to be online gets only its `core-online` FAIL.
//! Fixes that change the kernel command line read `boot with <param>`;
//! [`render_table`] adds one line on how to do that (GRUB) under the table.
//! Fix lists name only online hot cores, merged with what is already set.
//!
//! `/proc/self/limits` and `/proc/self/status` describe the process that
//! runs the check: call it from the `tickwire` process itself (as `run`
//! does at start) for the limits and affinity that the stages will get.
//!
//! Exit code: [`Report::exit_code`] is 0 when no finding is FAIL (warnings
//! included), 1 otherwise.

mod checks_core;
mod checks_host;
mod cmdline;
mod context;
pub mod cpulist;
mod plan;
mod report;
mod root;

pub use cpulist::{
    CpuListError, CpuSet, MAX_CPU_ID, format_cpu_list, format_cpu_mask, parse_cpu_list,
    parse_cpu_list_with_last, parse_cpu_mask,
};
pub use plan::{CheckOptions, HostPlan, PlannedCore};
pub use report::{CheckId, Finding, Report, Status, render_json, render_table, summary_line};
pub use root::HostRoot;

/// Runs every check against the host under `root` for `plan`: host-wide
/// findings first, then the findings of each planned core (merged by core,
/// ascending). Never fails: what cannot be read is reported as a finding.
pub fn check_host(root: &HostRoot, plan: &HostPlan, opts: &CheckOptions) -> Report {
    let ctx = context::Ctx::new(root, plan, opts);
    let mut findings = checks_host::all(&ctx);
    let irqs = checks_core::IrqTable::read(&ctx);
    for p in &ctx.plan {
        findings.extend(checks_core::all(&ctx, p, &irqs));
    }
    Report { findings }
}
