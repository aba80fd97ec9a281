//! Host-wide checks (one finding each, `core: None`).

use crate::context::{CPU, Ctx, bytes_text, finding, list_or_none, read_plain_list};
use crate::cpulist::parse_cpu_mask;
use crate::report::{CheckId, Finding, Status};
use crate::root::Problem;

pub(crate) fn all(ctx: &Ctx) -> Vec<Finding> {
    vec![
        tsc_flags(ctx),
        clocksource(ctx),
        housekeeping(ctx),
        irq_default(ctx),
        thp(ctx),
        thp_defrag(ctx),
        swap(ctx),
        memlock(ctx),
        numa_balancing(ctx),
        watchdog(ctx),
        rt_throttling(ctx),
        boost(ctx),
    ]
}

fn host(
    check: CheckId,
    status: Status,
    observed: impl Into<String>,
    fix: Option<String>,
) -> Finding {
    finding(check, None, status, observed, fix)
}

/// FAIL without `constant_tsc` + `nonstop_tsc`: tickwire's timestamps are
/// raw TSC reads converted once, so a TSC that changes rate with frequency
/// or stops in deep idle makes every latency number wrong.
fn tsc_flags(ctx: &Ctx) -> Finding {
    let id = CheckId::TscFlags;
    let info = match &ctx.cpuinfo {
        Ok(i) => i,
        Err(p) => {
            return host(
                id,
                Status::Warn,
                format!("invariant TSC not verified: {p}"),
                None,
            );
        }
    };
    if info.flags.is_empty() {
        return host(
            id,
            Status::Warn,
            "no x86 `flags` line in /proc/cpuinfo: invariant TSC not verified (not an x86 CPU?)",
            None,
        );
    }
    let flags = info.common_flags();
    let missing: Vec<&str> = ["constant_tsc", "nonstop_tsc"]
        .into_iter()
        .filter(|f| !flags.contains(*f))
        .collect();
    if missing.is_empty() {
        return host(
            id,
            Status::Ok,
            format!(
                "constant_tsc and nonstop_tsc on all {} CPUs",
                info.flags.len()
            ),
            None,
        );
    }
    host(
        id,
        Status::Fail,
        format!(
            "{} missing: tickwire timestamps are raw TSC reads and need a TSC that ticks at a constant rate and never stops",
            missing.join(" and ")
        ),
        Some(
            "run on a CPU with an invariant TSC (constant_tsc and nonstop_tsc in /proc/cpuinfo)\n\
             in a KVM/QEMU guest expose it: -cpu host,+invtsc (libvirt: <feature policy='require' name='invtsc'/>)"
                .to_string(),
        ),
    )
}

/// WARN unless the clocksource is `tsc` (`clock_gettime` then stays in the
/// vDSO; `hpet`/`acpi_pm` make every call a slow device read).
fn clocksource(ctx: &Ctx) -> Finding {
    let id = CheckId::Clocksource;
    let dir = "sys/devices/system/clocksource/clocksource0";
    let current = match ctx.root.read_trimmed(&format!("{dir}/current_clocksource")) {
        Ok(s) if !s.is_empty() && !s.contains(char::is_whitespace) => s,
        Ok(s) => {
            let p = Problem::malformed(
                &format!("{dir}/current_clocksource"),
                &s,
                "expected one name",
            );
            return host(id, Status::Warn, p.to_string(), None);
        }
        Err(p) => {
            return host(
                id,
                Status::Warn,
                format!("clocksource not verified: {p}"),
                None,
            );
        }
    };
    let available = ctx
        .root
        .read_trimmed(&format!("{dir}/available_clocksource"))
        .unwrap_or_default();
    let avail: Vec<&str> = available.split_whitespace().collect();
    if current == "tsc" {
        return host(
            id,
            Status::Ok,
            format!("tsc (available: {})", avail.join(" ")),
            None,
        );
    }
    let shown_avail = if avail.is_empty() {
        "unknown".to_string()
    } else {
        avail.join(" ")
    };
    let fix = if avail.contains(&"tsc") {
        "echo tsc > /sys/devices/system/clocksource/clocksource0/current_clocksource\n\
         persist: boot with clocksource=tsc"
            .to_string()
    } else {
        "the kernel does not offer tsc (it marked the TSC unstable: dmesg | grep -i tsc)\n\
         only if the TSC is invariant and synchronized across sockets: boot with tsc=reliable clocksource=tsc"
            .to_string()
    };
    host(
        id,
        Status::Warn,
        format!("clocksource is {current}, not tsc (available: {shown_avail})"),
        Some(fix),
    )
}

/// WARN when every online CPU runs a busy-spinning stage: the kernel, IRQs
/// and helper threads then preempt a stage.
fn housekeeping(ctx: &Ctx) -> Finding {
    let id = CheckId::Housekeeping;
    if ctx.hot.is_empty() {
        return host(id, Status::Ok, "no busy-spinning stage planned", None);
    }
    let online = match &ctx.online {
        Ok(k) => k,
        Err(e) => return host(id, Status::Warn, format!("online CPUs unknown: {e}"), None),
    };
    let hk = online.cpus.difference(&ctx.hot);
    if hk.is_empty() {
        return host(
            id,
            Status::Warn,
            format!(
                "every online CPU ({}) runs a busy-spinning stage: kernel threads, IRQs and helper threads preempt the stages",
                list_or_none(&online.cpus)
            ),
            Some(
                "leave at least one online CPU (usually cpu0) without a busy-spinning stage for the OS, \
                 or set idle = \"park\" on one executor in conf/affinity.toml"
                    .to_string(),
            ),
        );
    }
    host(
        id,
        Status::Ok,
        format!(
            "CPUs without a busy-spinning stage, for the OS: {}",
            hk.to_list_string()
        ),
        None,
    )
}

/// WARN when `/proc/irq/default_smp_affinity` (where new IRQs go) includes a
/// hot core.
fn irq_default(ctx: &Ctx) -> Finding {
    let id = CheckId::IrqDefault;
    let rel = "proc/irq/default_smp_affinity";
    let mask = match ctx.root.read_trimmed(rel) {
        Ok(s) => match parse_cpu_mask(&s) {
            Ok(m) => m,
            Err(e) => {
                let st = if ctx.hot.is_empty() {
                    Status::Ok
                } else {
                    Status::Warn
                };
                return host(
                    id,
                    st,
                    Problem::malformed(rel, &s, &e.to_string()).to_string(),
                    None,
                );
            }
        },
        Err(p) => {
            let st = if ctx.hot.is_empty() {
                Status::Ok
            } else {
                Status::Warn
            };
            return host(
                id,
                st,
                format!("default IRQ affinity not verified: {p}"),
                None,
            );
        }
    };
    let on_hot = mask.intersection(&ctx.hot);
    if on_hot.is_empty() {
        return host(
            id,
            Status::Ok,
            format!(
                "new IRQs default to CPUs {}, no hot core",
                list_or_none(&mask)
            ),
            None,
        );
    }
    let fix = match ctx.irq_target() {
        Some(t) if !t.is_empty() => format!(
            "echo {} > /proc/irq/default_smp_affinity\npersist: boot with irqaffinity={}",
            t.to_mask_string(),
            t.to_list_string()
        ),
        _ => "no online CPU is free of busy-spinning stages to take IRQs: leave one (usually cpu0) to the OS".to_string(),
    };
    host(
        id,
        Status::Warn,
        format!(
            "new IRQs default to CPUs {}, including hot cores {}",
            list_or_none(&mask),
            on_hot.to_list_string()
        ),
        Some(fix),
    )
}

/// The bracketed choice of a sysfs selector (`always [madvise] never`).
fn selected(s: &str) -> Option<&str> {
    let start = s.find('[')?;
    let end = s[start..].find(']')? + start;
    let v = &s[start + 1..end];
    let sane = !v.is_empty() && v.len() <= 24 && v.bytes().all(|b| b.is_ascii_graphic());
    sane.then_some(v)
}

const THP: &str = "sys/kernel/mm/transparent_hugepage";

fn thp_mode(ctx: &Ctx, file: &str) -> Result<Option<String>, Problem> {
    let rel = format!("{THP}/{file}");
    match ctx.root.read_trimmed(&rel) {
        Ok(s) => match selected(&s) {
            Some(v) => Ok(Some(v.to_string())),
            None => Err(Problem::malformed(&rel, &s, "no [selected] value")),
        },
        Err(p) if p.is_missing() && !ctx.root.exists(THP) => Ok(None),
        Err(p) => Err(p),
    }
}

/// WARN for `enabled = always`: khugepaged collapses and page faults compact
/// memory behind the stages' backs.
fn thp(ctx: &Ctx) -> Finding {
    let id = CheckId::Thp;
    match thp_mode(ctx, "enabled") {
        Ok(None) => host(
            id,
            Status::Ok,
            "transparent huge pages not built into this kernel",
            None,
        ),
        Ok(Some(m)) if m == "always" => host(
            id,
            Status::Warn,
            "transparent_hugepage/enabled is [always]: khugepaged and huge-page faults stall the stages",
            Some(
                "echo never > /sys/kernel/mm/transparent_hugepage/enabled\npersist: boot with transparent_hugepage=never"
                    .to_string(),
                ),
        ),
        Ok(Some(m)) => host(
            id,
            Status::Ok,
            format!("transparent_hugepage/enabled is [{m}]"),
            None,
        ),
        Err(p) => host(
            id,
            Status::Warn,
            format!("THP mode not verified: {p}"),
            None,
        ),
    }
}

/// WARN for `defrag = always` (faults stall in direct compaction) unless THP
/// is off.
fn thp_defrag(ctx: &Ctx) -> Finding {
    let id = CheckId::ThpDefrag;
    if let Ok(Some(m)) = thp_mode(ctx, "enabled")
        && m == "never"
    {
        return host(
            id,
            Status::Ok,
            "THP is [never]: defrag does not matter",
            None,
        );
    }
    match thp_mode(ctx, "defrag") {
        Ok(None) => host(id, Status::Ok, "transparent huge pages not built into this kernel", None),
        Ok(Some(m)) if m == "always" => host(
            id,
            Status::Warn,
            "transparent_hugepage/defrag is [always]: page faults stall in direct compaction",
            Some(
                "echo madvise > /sys/kernel/mm/transparent_hugepage/defrag (or never; persist with a systemd unit or tuned profile)"
                    .to_string(),
            ),
        ),
        Ok(Some(m)) => host(id, Status::Ok, format!("transparent_hugepage/defrag is [{m}]"), None),
        Err(p) => host(id, Status::Warn, format!("THP defrag not verified: {p}"), None),
    }
}

/// WARN while any swap is active (a swapped-out page of a stage is a
/// millisecond stall).
fn swap(ctx: &Ctx) -> Finding {
    let id = CheckId::Swap;
    let swappiness = ctx
        .root
        .read_trimmed("proc/sys/vm/swappiness")
        .ok()
        .filter(|s| s.parse::<u32>().is_ok());
    let swappiness_text = swappiness
        .as_deref()
        .map(|s| format!("; vm.swappiness={s}"))
        .unwrap_or_default();
    let active: Result<Vec<String>, Problem> = match ctx.root.read("proc/swaps") {
        Ok(s) => Ok(s
            .lines()
            .skip(1)
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                let name = f.next()?;
                let kind = f.next().unwrap_or("?");
                let size = f
                    .next()
                    .and_then(|k| k.parse::<u64>().ok())
                    .map(|k| bytes_text(k.saturating_mul(1024)))
                    .unwrap_or_else(|| "?".into());
                Some(format!("{name} ({kind}, {size})"))
            })
            .collect()),
        Err(p) => match ctx.root.read("proc/meminfo") {
            Ok(m) => match meminfo_kib(&m, "SwapTotal") {
                Some(0) => Ok(Vec::new()),
                Some(k) => Ok(vec![format!(
                    "SwapTotal {}",
                    bytes_text(k.saturating_mul(1024))
                )]),
                None => Err(p),
            },
            Err(_) => Err(p),
        },
    };
    match active {
        Ok(v) if v.is_empty() => host(id, Status::Ok, format!("no active swap{swappiness_text}"), None),
        Ok(v) => host(
            id,
            Status::Warn,
            format!("swap active: {}{swappiness_text}", v.join(", ")),
            Some(
                "swapoff -a, and remove or comment out the swap lines in /etc/fstab (systemd: systemctl mask the .swap unit)\n\
                 if swap must stay: sysctl -w vm.swappiness=1 (persist in /etc/sysctl.d/)"
                    .to_string(),
            ),
        ),
        Err(p) => host(id, Status::Warn, format!("swap not verified: {p}"), None),
    }
}

fn meminfo_kib(s: &str, key: &str) -> Option<u64> {
    s.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.split_whitespace().next()?.parse().ok())?
    })
}

/// `Max locked memory` soft and hard limits from `/proc/self/limits`.
fn memlock_limits(s: &str) -> Option<(u64, u64)> {
    let line = s.lines().find(|l| l.starts_with("Max locked memory"))?;
    let rest = line.strip_prefix("Max locked memory")?;
    let mut f = rest.split_whitespace();
    let val = |t: Option<&str>| -> Option<u64> {
        match t? {
            "unlimited" => Some(u64::MAX),
            n => n.parse().ok(),
        }
    };
    let soft = val(f.next())?;
    let hard = val(f.next())?;
    Some((soft, hard))
}

/// Whether `CapEff` in `/proc/self/status` has CAP_IPC_LOCK (bit 14), which
/// lifts RLIMIT_MEMLOCK.
fn has_ipc_lock(ctx: &Ctx) -> bool {
    let Ok(s) = ctx.root.read("proc/self/status") else {
        return false;
    };
    s.lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << 14) != 0)
}

/// WARN (FAIL with `mlockall`) when the memlock soft limit is below
/// `memlock_min_bytes` and the process lacks CAP_IPC_LOCK.
fn memlock(ctx: &Ctx) -> Finding {
    let id = CheckId::Memlock;
    let rel = "proc/self/limits";
    let (soft, hard) = match ctx.root.read(rel) {
        Ok(s) => match memlock_limits(&s) {
            Some(l) => l,
            None => {
                let p = Problem::malformed(rel, &s, "no parsable `Max locked memory` line");
                return host(id, Status::Warn, p.to_string(), None);
            }
        },
        Err(p) => {
            return host(
                id,
                Status::Warn,
                format!("memlock limit not verified: {p}"),
                None,
            );
        }
    };
    let need = ctx.opts.memlock_min_bytes;
    let limits = format!(
        "memlock limit {} (hard {})",
        bytes_text(soft),
        bytes_text(hard)
    );
    if soft >= need {
        return host(
            id,
            Status::Ok,
            format!("{limits}, need {}", bytes_text(need)),
            None,
        );
    }
    if has_ipc_lock(ctx) {
        return host(
            id,
            Status::Ok,
            format!(
                "{limits}, below {} but the process has CAP_IPC_LOCK, which lifts it",
                bytes_text(need)
            ),
            None,
        );
    }
    let status = if ctx.opts.mlockall {
        Status::Fail
    } else {
        Status::Warn
    };
    host(
        id,
        status,
        format!("{limits}, below the {} tickwire needs", bytes_text(need)),
        Some(
            "systemd unit: LimitMEMLOCK=infinity\n\
             shell: ulimit -l unlimited (first raise the hard limit: '<user> - memlock unlimited' in /etc/security/limits.conf, then log in again)\n\
             container: docker run --ulimit memlock=-1:-1"
                .to_string(),
        ),
    )
}

/// WARN when automatic NUMA balancing is on and there is more than one node
/// (its hinting page faults land on the stages).
fn numa_balancing(ctx: &Ctx) -> Finding {
    let id = CheckId::NumaBalancing;
    let nodes = ctx
        .root
        .list_numbered("sys/devices/system/node", "node")
        .map(|v| v.len())
        .unwrap_or(1);
    match ctx.root.read_trimmed("proc/sys/kernel/numa_balancing") {
        Ok(v) if v == "0" => host(id, Status::Ok, "kernel.numa_balancing=0", None),
        Ok(v) if nodes <= 1 => host(
            id,
            Status::Ok,
            format!(
                "kernel.numa_balancing={} on a single NUMA node: inactive",
                plain(&v)
            ),
            None,
        ),
        Ok(v) => host(
            id,
            Status::Warn,
            format!(
                "kernel.numa_balancing={} with {nodes} NUMA nodes: hinting page faults hit the stages",
                plain(&v)
            ),
            Some(
                "sysctl -w kernel.numa_balancing=0 (persist in /etc/sysctl.d/; or boot with numa_balancing=disable)"
                    .to_string(),
                ),
        ),
        Err(p) if p.is_missing() => host(
            id,
            Status::Ok,
            "automatic NUMA balancing not built into this kernel",
            None,
        ),
        Err(p) => host(
            id,
            Status::Warn,
            format!("NUMA balancing not verified: {p}"),
            None,
        ),
    }
}

/// A short value as is when it is a plain number, else quoted and escaped.
fn plain(v: &str) -> String {
    if !v.is_empty() && v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit()) {
        v.to_string()
    } else {
        crate::root::snippet(v)
    }
}

/// WARN when the soft-lockup or NMI watchdog runs on a hot core (a timer or
/// NMI every few seconds on each CPU of `kernel.watchdog_cpumask`).
fn watchdog(ctx: &Ctx) -> Finding {
    let id = CheckId::Watchdog;
    let read_flag = |name: &str| -> Option<bool> {
        ctx.root
            .read_trimmed(&format!("proc/sys/kernel/{name}"))
            .ok()
            .and_then(|v| v.parse::<u32>().ok())
            .map(|v| v != 0)
    };
    let Some(master) = read_flag("watchdog") else {
        return host(
            id,
            Status::Ok,
            "no lockup detector exposed (proc/sys/kernel/watchdog missing or unreadable)",
            None,
        );
    };
    let nmi = read_flag("nmi_watchdog").unwrap_or(false);
    let soft = read_flag("soft_watchdog").unwrap_or(master);
    let mut running = Vec::new();
    if master && soft {
        running.push("soft-lockup");
    }
    if master && nmi {
        running.push("NMI");
    }
    if running.is_empty() {
        return host(id, Status::Ok, "lockup watchdogs off", None);
    }
    let mask = read_plain_list(ctx.root, "proc/sys/kernel/watchdog_cpumask")
        .ok()
        .or_else(|| ctx.online.as_ref().ok().map(|k| k.cpus.clone()));
    let on_hot = match &mask {
        Some(m) => m.intersection(&ctx.hot),
        None => ctx.hot.clone(),
    };
    let what = running.join(" and ");
    if on_hot.is_empty() {
        let mask_text = mask
            .as_ref()
            .map(list_or_none)
            .unwrap_or_else(|| "unknown".into());
        return host(
            id,
            Status::Ok,
            format!("{what} watchdog on CPUs {mask_text}, no hot core"),
            None,
        );
    }
    let fix = match ctx.irq_target() {
        Some(t) if !t.is_empty() => format!(
            "sysctl -w kernel.watchdog_cpumask={} (persist in /etc/sysctl.d/; nohz_full= sets it at boot)",
            t.to_list_string()
        ),
        _ => "sysctl -w kernel.nmi_watchdog=0 kernel.soft_watchdog=0 (or boot with nowatchdog)"
            .to_string(),
    };
    host(
        id,
        Status::Warn,
        format!(
            "{what} watchdog runs on hot cores {}",
            on_hot.to_list_string()
        ),
        Some(fix),
    )
}

/// Report only, unless `realtime`: then WARN when `sched_rt_runtime_us` is
/// not -1 (a SCHED_FIFO spinner is throttled for the rest of each period).
fn rt_throttling(ctx: &Ctx) -> Finding {
    let id = CheckId::RtThrottling;
    let runtime = match ctx.root.read_trimmed("proc/sys/kernel/sched_rt_runtime_us") {
        Ok(v) => match v.parse::<i64>() {
            Ok(n) => n,
            Err(_) => {
                let p =
                    Problem::malformed("proc/sys/kernel/sched_rt_runtime_us", &v, "not a number");
                let st = if ctx.opts.realtime {
                    Status::Warn
                } else {
                    Status::Ok
                };
                return host(id, st, p.to_string(), None);
            }
        },
        Err(p) => {
            let st = if ctx.opts.realtime && !p.is_missing() {
                Status::Warn
            } else {
                Status::Ok
            };
            return host(
                id,
                st,
                format!("real-time throttling not exposed: {p}"),
                None,
            );
        }
    };
    if runtime < 0 {
        return host(
            id,
            Status::Ok,
            "kernel.sched_rt_runtime_us=-1 (no RT throttling)",
            None,
        );
    }
    if !ctx.opts.realtime {
        return host(
            id,
            Status::Ok,
            format!(
                "kernel.sched_rt_runtime_us={runtime}; stages run SCHED_OTHER, so RT throttling does not apply"
            ),
            None,
        );
    }
    let period = ctx
        .root
        .read_trimmed("proc/sys/kernel/sched_rt_period_us")
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(1_000_000);
    host(
        id,
        Status::Warn,
        format!(
            "kernel.sched_rt_runtime_us={runtime} of sched_rt_period_us={period}: real-time stages are stopped for {} µs every period",
            period.saturating_sub(runtime).max(0)
        ),
        Some(
            "sysctl -w kernel.sched_rt_runtime_us=-1 (only with isolated cores: a spinning SCHED_FIFO task otherwise starves its core's kernel threads)"
                .to_string(),
        ),
    )
}

/// Report the turbo/boost state; WARN only when it differs from
/// `want_boost`.
fn boost(ctx: &Ctx) -> Finding {
    let id = CheckId::Boost;
    let flag = |rel: &str| -> Option<bool> {
        ctx.root
            .read_trimmed(rel)
            .ok()
            .and_then(|v| v.parse::<u32>().ok())
            .map(|v| v != 0)
    };
    // (boost on?, description, command to turn on, command to turn off)
    let state = if let Some(no_turbo) = flag(&format!("{CPU}/intel_pstate/no_turbo")) {
        Some((
            !no_turbo,
            format!("intel_pstate no_turbo={}", u8::from(no_turbo)),
            "echo 0 > /sys/devices/system/cpu/intel_pstate/no_turbo",
            "echo 1 > /sys/devices/system/cpu/intel_pstate/no_turbo",
        ))
    } else {
        flag(&format!("{CPU}/cpufreq/boost")).map(|b| {
            (
                b,
                format!("cpufreq boost={}", u8::from(b)),
                "echo 1 > /sys/devices/system/cpu/cpufreq/boost",
                "echo 0 > /sys/devices/system/cpu/cpufreq/boost",
            )
        })
    };
    let Some((on, desc, cmd_on, cmd_off)) = state else {
        return host(
            id,
            Status::Ok,
            format!("boost control not exposed ({})", ctx.absent_why()),
            None,
        );
    };
    let onoff = if on { "on" } else { "off" };
    match ctx.opts.want_boost {
        Some(want) if want != on => host(
            id,
            Status::Warn,
            format!(
                "turbo/boost is {onoff} ({desc}), wanted {}",
                if want { "on" } else { "off" }
            ),
            Some((if want { cmd_on } else { cmd_off }).to_string()),
        ),
        Some(_) => host(
            id,
            Status::Ok,
            format!("turbo/boost is {onoff} ({desc}) as wanted"),
            None,
        ),
        None => host(
            id,
            Status::Ok,
            format!(
                "turbo/boost is {onoff} ({desc}){}",
                if on {
                    "; clocks then vary with thermal headroom"
                } else {
                    ""
                }
            ),
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        assert_eq!(selected("always [madvise] never"), Some("madvise"));
        assert_eq!(selected("[always] madvise never"), Some("always"));
        assert_eq!(
            selected("always defer [defer+madvise] madvise never"),
            Some("defer+madvise")
        );
        assert_eq!(selected("always madvise never"), None);
        assert_eq!(selected("]["), None);
        assert_eq!(selected("[]"), None);
        assert_eq!(selected("[a\u{1b}b]"), None);
    }

    #[test]
    fn limits() {
        let s = "Limit                     Soft Limit           Hard Limit           Units     \n\
                 Max locked memory         8388608              8388608              bytes     \n";
        assert_eq!(memlock_limits(s), Some((8 << 20, 8 << 20)));
        let s = "Max locked memory         unlimited            unlimited            bytes\n";
        assert_eq!(memlock_limits(s), Some((u64::MAX, u64::MAX)));
        assert_eq!(memlock_limits("Max locked memory  x y"), None);
        assert_eq!(memlock_limits(""), None);
    }

    #[test]
    fn meminfo() {
        assert_eq!(
            meminfo_kib("SwapTotal:       1024 kB\n", "SwapTotal"),
            Some(1024)
        );
        assert_eq!(meminfo_kib("SwapTotal:\n", "SwapTotal"), None);
    }
}
