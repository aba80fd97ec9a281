//! Per-core checks: one finding per check for every planned core.

use std::collections::BTreeMap;

use crate::context::{CPU, Ctx, Planned, finding, list_or_none, read_plain_list};
use crate::cpulist::{CpuSet, parse_cpu_mask};
use crate::report::{CheckId, Finding, Status};
use crate::root::{Problem, snippet};

/// A core known not to be online gets only its `core-online` FAIL: nothing
/// else about it can be checked or matters until it is.
pub(crate) fn all(ctx: &Ctx, p: &Planned, irqs: &IrqTable) -> Vec<Finding> {
    if ctx.not_online(p.core) {
        return vec![core_online(ctx, p)];
    }
    vec![
        core_online(ctx, p),
        core_allowed(ctx, p),
        isolcpus(ctx, p),
        nohz_full(ctx, p),
        rcu_nocbs(ctx, p),
        smt_sibling(ctx, p),
        governor(ctx, p),
        c_states(ctx, p),
        irq_affinity(ctx, p, irqs),
        numa_node(ctx, p),
    ]
}

fn at(
    p: &Planned,
    check: CheckId,
    status: Status,
    observed: impl Into<String>,
    fix: Option<String>,
) -> Finding {
    finding(check, Some(p.core), status, observed, fix)
}

/// A WARN for hot cores, OK for helpers, when a fact is unknown.
fn unverified(p: &Planned, check: CheckId, why: impl std::fmt::Display) -> Finding {
    let status = if p.hot { Status::Warn } else { Status::Ok };
    at(p, check, status, format!("not verified: {why}"), None)
}

/// FAIL when the core does not exist or is offline.
fn core_online(ctx: &Ctx, p: &Planned) -> Finding {
    let id = CheckId::CoreOnline;
    let what = format!("runs {} ({})", p.roles_text(), p.kind());
    let online = match &ctx.online {
        Ok(k) => k,
        Err(e) => {
            return at(
                p,
                id,
                Status::Warn,
                format!("{what}; whether cpu{} is online is unknown: {e}", p.core),
                None,
            );
        }
    };
    if online.cpus.contains(p.core) {
        return at(p, id, Status::Ok, format!("online; {what}"), None);
    }
    let present = ctx.root.exists(&format!("{CPU}/cpu{}", p.core));
    if present {
        at(
            p,
            id,
            Status::Fail,
            format!(
                "cpu{} exists but is offline (online: {}); {what}",
                p.core,
                list_or_none(&online.cpus)
            ),
            Some(format!(
                "echo 1 > /sys/devices/system/cpu/cpu{}/online",
                p.core
            )),
        )
    } else {
        at(
            p,
            id,
            Status::Fail,
            format!(
                "cpu{} does not exist (online: {}); {what}",
                p.core,
                list_or_none(&online.cpus)
            ),
            Some(format!(
                "use one of the online CPUs {} in conf/affinity.toml",
                list_or_none(&online.cpus)
            )),
        )
    }
}

/// FAIL when this process may not run on the core (tickwire pins only to
/// CPUs in its affinity).
fn core_allowed(ctx: &Ctx, p: &Planned) -> Finding {
    let id = CheckId::CoreAllowed;
    let allowed = match &ctx.allowed {
        Ok(a) => a,
        Err(e) => {
            return at(
                p,
                id,
                Status::Warn,
                format!("affinity not verified: {e}"),
                None,
            );
        }
    };
    if allowed.contains(p.core) {
        return at(
            p,
            id,
            Status::Ok,
            format!(
                "in this process's allowed CPUs ({})",
                allowed.to_list_string()
            ),
            None,
        );
    }
    let isolated = ctx.isolated.as_ref().is_ok_and(|k| k.cpus.contains(p.core));
    let why = if isolated {
        " (isolcpus= takes isolated CPUs out of the default affinity)"
    } else {
        ""
    };
    let planned: CpuSet = ctx
        .plan
        .iter()
        .map(|q| q.core)
        .filter(|c| !ctx.not_online(*c))
        .collect();
    let wanted = allowed.union(&planned);
    at(
        p,
        id,
        Status::Fail,
        format!(
            "cpu{} is not in this process's allowed CPUs ({}){why}",
            p.core,
            list_or_none(allowed)
        ),
        Some(format!(
            "start tickwire with an affinity that includes it: taskset -c {} tickwire run ...\n\
             systemd unit: CPUAffinity={}; container or cgroup: add it to cpuset.cpus",
            wanted.to_list_string(),
            wanted.to_list_string()
        )),
    )
}

/// The isolcpus flags to recommend: the ones already on the command line,
/// else `managed_irq,domain`.
fn isolcpus_flags(ctx: &Ctx) -> String {
    let existing = ctx
        .cmdline
        .as_ref()
        .ok()
        .and_then(|c| c.isolcpus(ctx.last_cpu))
        .and_then(Result::ok)
        .map(|i| i.flags)
        .unwrap_or_default();
    recommended_flags(&existing)
}

/// `managed_irq,domain,` when no flags were given; otherwise the given flags
/// plus `domain` if missing (without it the CPUs are not isolated from the
/// scheduler and this check would still warn).
fn recommended_flags(existing: &[String]) -> String {
    if existing.is_empty() {
        return "managed_irq,domain,".to_string();
    }
    let mut flags: Vec<&str> = existing.iter().map(String::as_str).collect();
    if !flags.contains(&"domain") {
        flags.push("domain");
    }
    format!("{},", flags.join(","))
}

/// When every online CPU is hot, isolating them all is impossible (the
/// kernel keeps at least one housekeeping CPU): the fix is to free one.
fn no_housekeeping_fix(ctx: &Ctx, param: &str) -> Option<String> {
    let hk = ctx.housekeeping()?;
    hk.is_empty().then(|| {
        format!(
            "every online CPU runs a busy-spinning stage and the kernel keeps one CPU for itself: \
             first leave one CPU (usually cpu0) to the OS (see housekeeping), then boot with {param}= \
             listing the remaining busy-spinning cores"
        )
    })
}

/// Hot core: WARN when not isolated from the scheduler.
fn isolcpus(ctx: &Ctx, p: &Planned) -> Finding {
    let id = CheckId::Isolcpus;
    let iso = match &ctx.isolated {
        Ok(k) => k,
        Err(e) => return unverified(p, id, e),
    };
    let member = iso.cpus.contains(p.core);
    if !p.hot {
        let yes = if member { "isolated" } else { "not isolated" };
        return at(
            p,
            id,
            Status::Ok,
            format!("helper core, {yes}; isolation optional"),
            None,
        );
    }
    if member {
        return at(
            p,
            id,
            Status::Ok,
            format!("isolated (isolated CPUs: {})", iso.cpus.to_list_string()),
            None,
        );
    }
    let want = iso.cpus.union(&ctx.hot_online());
    at(
        p,
        id,
        Status::Warn,
        format!(
            "busy-spinning core not isolated from the scheduler (isolated CPUs: {}, from {})",
            list_or_none(&iso.cpus),
            iso.source
        ),
        Some(no_housekeeping_fix(ctx, "isolcpus").unwrap_or_else(|| {
            format!(
                "boot with isolcpus={}{}",
                isolcpus_flags(ctx),
                want.to_list_string()
            )
        })),
    )
}

/// Hot core: WARN when the scheduler tick is not stopped (`nohz_full=`).
fn nohz_full(ctx: &Ctx, p: &Planned) -> Finding {
    let id = CheckId::NohzFull;
    let nohz = match &ctx.nohz {
        Ok(k) => k,
        Err(e) => return unverified(p, id, e),
    };
    let member = nohz.cpus.contains(p.core);
    if !p.hot {
        let yes = if member { "in" } else { "not in" };
        return at(
            p,
            id,
            Status::Ok,
            format!("helper core, {yes} nohz_full; optional"),
            None,
        );
    }
    if member {
        return at(
            p,
            id,
            Status::Ok,
            format!("tick stopped (nohz_full: {})", nohz.cpus.to_list_string()),
            None,
        );
    }
    let want = nohz.cpus.union(&ctx.hot_online());
    let mut observed = format!(
        "busy-spinning core still takes the scheduler tick (nohz_full: {}, from {})",
        list_or_none(&nohz.cpus),
        nohz.source
    );
    if let Some(note) = &ctx.nohz_note {
        observed.push_str("; ");
        observed.push_str(note);
    }
    let mut fix = no_housekeeping_fix(ctx, "nohz_full")
        .unwrap_or_else(|| format!("boot with nohz_full={}", want.to_list_string()));
    if p.core == 0 {
        fix.push_str("\ncpu0 is usually the boot CPU, which older kernels keep out of nohz_full: prefer another core for this stage");
    }
    at(p, id, Status::Warn, observed, Some(fix))
}

/// Hot core: WARN when its RCU callbacks run on it (not in `rcu_nocbs=`
/// and not implied by `nohz_full=`).
fn rcu_nocbs(ctx: &Ctx, p: &Planned) -> Finding {
    let id = CheckId::RcuNocbs;
    let cmdline = match &ctx.cmdline {
        Ok(c) => c,
        Err(e) => return unverified(p, id, e),
    };
    let listed = match cmdline.cpus("rcu_nocbs", ctx.last_cpu) {
        Some(Ok(s)) => s,
        Some(Err(v)) => {
            return unverified(p, id, format!("rcu_nocbs={} does not parse", snippet(&v)));
        }
        None => CpuSet::new(),
    };
    let nohz = ctx
        .nohz
        .as_ref()
        .map(|k| k.cpus.clone())
        .unwrap_or_default();
    let offloaded = listed.union(&nohz);
    let how = if listed.contains(p.core) {
        "in rcu_nocbs="
    } else if nohz.contains(p.core) {
        "implied by nohz_full="
    } else {
        ""
    };
    if !p.hot {
        let yes = if how.is_empty() {
            "not offloaded"
        } else {
            "offloaded"
        };
        return at(
            p,
            id,
            Status::Ok,
            format!("helper core, RCU callbacks {yes}; optional"),
            None,
        );
    }
    if !how.is_empty() {
        return at(
            p,
            id,
            Status::Ok,
            format!("RCU callbacks offloaded ({how})"),
            None,
        );
    }
    let want = listed.union(&ctx.hot_online());
    at(
        p,
        id,
        Status::Warn,
        format!(
            "RCU callbacks run on this busy-spinning core (offloaded CPUs: {})",
            list_or_none(&offloaded)
        ),
        Some(format!("boot with rcu_nocbs={}", want.to_list_string())),
    )
}

/// Hot core: FAIL when an SMT sibling runs another busy-spinning stage;
/// WARN when it runs a helper or is left to the OS; OK when the siblings
/// are isolated and unplanned (idle).
fn smt_sibling(ctx: &Ctx, p: &Planned) -> Finding {
    let id = CheckId::SmtSibling;
    let rel = format!("{CPU}/cpu{}/topology/thread_siblings_list", p.core);
    let siblings = match read_plain_list(ctx.root, &rel) {
        Ok(s) => s,
        Err(e) => return unverified(p, id, e),
    };
    let only_self: CpuSet = std::iter::once(p.core).collect();
    let others = siblings.difference(&only_self);
    if others.is_empty() {
        return at(
            p,
            id,
            Status::Ok,
            "no SMT sibling (one thread on this physical core)",
            None,
        );
    }
    let iso = ctx
        .isolated
        .as_ref()
        .map(|k| k.cpus.clone())
        .unwrap_or_default();
    let mut status = Status::Ok;
    let mut notes = Vec::new();
    let mut fixes = Vec::new();
    for s in others.iter() {
        match ctx.planned(s) {
            Some(q) if q.hot => {
                notes.push(format!("cpu{s} runs {} (busy-spinning)", q.roles_text()));
                if p.hot {
                    status = status.max(Status::Fail);
                    fixes.push(format!(
                        "put {} and {} on different physical cores (cpu{} and cpu{s} are SMT siblings), \
                         or turn SMT off: echo off > /sys/devices/system/cpu/smt/control (boot: nosmt)",
                        p.roles_text(),
                        q.roles_text(),
                        p.core
                    ));
                }
            }
            Some(q) => {
                notes.push(format!("cpu{s} runs helper {}", q.roles_text()));
                if p.hot {
                    status = status.max(Status::Warn);
                    fixes.push(format!(
                        "move {} off cpu{s} (SMT sibling of this busy-spinning core) to a core on another physical core",
                        q.roles_text()
                    ));
                }
            }
            None if iso.contains(s) => {
                notes.push(format!("cpu{s} is isolated and unplanned (idle)"))
            }
            None => {
                notes.push(format!("cpu{s} is left to the OS"));
                if p.hot {
                    status = status.max(Status::Warn);
                    fixes.push(format!(
                        "keep the OS off cpu{s}: echo 0 > /sys/devices/system/cpu/cpu{s}/online \
                         (or add cpu{s} to isolcpus=, or boot with nosmt)"
                    ));
                }
            }
        }
    }
    let prefix = if p.hot { "" } else { "helper core; " };
    let observed = format!("{prefix}SMT siblings: {}", notes.join(", "));
    let fix = (!fixes.is_empty()).then(|| fixes.join("\n"));
    at(p, id, status, observed, fix)
}

/// Hot core: WARN unless the cpufreq governor is `performance`. OK when
/// cpufreq is not exposed (the hypervisor or firmware sets the clock).
fn governor(ctx: &Ctx, p: &Planned) -> Finding {
    let id = CheckId::Governor;
    let dir = format!("{CPU}/cpu{}/cpufreq", p.core);
    if !ctx.root.exists(&dir) {
        return at(
            p,
            id,
            Status::Ok,
            format!(
                "cpufreq not exposed ({}): the OS does not scale this core's clock",
                ctx.absent_why()
            ),
            None,
        );
    }
    let rel = format!("{dir}/scaling_governor");
    let gov = match ctx.root.read_trimmed(&rel) {
        Ok(g) if !g.is_empty() && g.len() <= 32 && g.bytes().all(|b| b.is_ascii_graphic()) => g,
        Ok(g) => return unverified(p, id, Problem::malformed(&rel, &g, "not a governor name")),
        Err(e) => return unverified(p, id, e),
    };
    if gov == "performance" {
        return at(p, id, Status::Ok, "governor performance", None);
    }
    if !p.hot {
        return at(
            p,
            id,
            Status::Ok,
            format!("helper core, governor {gov}"),
            None,
        );
    }
    at(
        p,
        id,
        Status::Warn,
        format!(
            "governor {gov} on a busy-spinning core: the clock ramps and the stage runs slower"
        ),
        Some(format!(
            "cpupower -c {c} frequency-set -g performance\n\
             without cpupower: echo performance > /sys/devices/system/cpu/cpu{c}/cpufreq/scaling_governor\n\
             persist: tuned-adm profile latency-performance, or a systemd unit running the command at boot",
            c = p.core
        )),
    )
}

/// WARN on every planned core (hot or helper) with an enabled idle state
/// whose exit latency exceeds `max_idle_latency_us`: a busy-spinning
/// executor never idles, but its helper threads and any sleeper on the core
/// pay the wake-up. OK when cpuidle is not exposed (default idle is HLT).
fn c_states(ctx: &Ctx, p: &Planned) -> Finding {
    let id = CheckId::CStates;
    if let Ok(c) = &ctx.cmdline
        && c.get("idle") == Some(Some("poll"))
    {
        return at(
            p,
            id,
            Status::Ok,
            "idle=poll: the core never leaves C0",
            None,
        );
    }
    let dir = format!("{CPU}/cpu{}/cpuidle", p.core);
    let states = match ctx.root.list_numbered(&dir, "state") {
        Ok(s) => s,
        Err(e) if e.is_missing() => {
            return at(
                p,
                id,
                Status::Ok,
                format!(
                    "cpuidle not exposed ({}): the kernel's default idle (HLT, C1) is used",
                    ctx.absent_why()
                ),
                None,
            );
        }
        Err(e) => return at(p, id, Status::Warn, format!("not verified: {e}"), None),
    };
    let max = ctx.opts.max_idle_latency_us;
    let mut deep = Vec::new();
    let mut unknown = Vec::new();
    let mut shallow = Vec::new();
    for k in &states {
        let sd = format!("{dir}/state{k}");
        let name = ctx
            .root
            .read_trimmed(&format!("{sd}/name"))
            .ok()
            .filter(|n| !n.is_empty() && n.len() <= 32 && !n.contains(char::is_control))
            .unwrap_or_else(|| format!("state{k}"));
        let latency = ctx
            .root
            .read_trimmed(&format!("{sd}/latency"))
            .ok()
            .and_then(|v| v.parse::<u64>().ok());
        let disabled = ctx
            .root
            .read_trimmed(&format!("{sd}/disable"))
            .ok()
            .and_then(|v| v.parse::<u64>().ok());
        if name == "POLL" || disabled.is_some_and(|d| d != 0) {
            continue;
        }
        match (latency, disabled) {
            (Some(l), Some(_)) if l <= max => shallow.push(format!("{name} ({l} µs)")),
            (Some(l), _) if l > max => deep.push((*k, format!("{name} ({l} µs)"))),
            _ => unknown.push(format!("state{k}")),
        }
    }
    if deep.is_empty() && unknown.is_empty() {
        let enabled = if shallow.is_empty() {
            "only POLL".to_string()
        } else {
            format!("POLL and {}", shallow.join(", "))
        };
        return at(
            p,
            id,
            Status::Ok,
            format!("no idle state deeper than {max} µs enabled ({enabled})"),
            None,
        );
    }
    if deep.is_empty() {
        return at(
            p,
            id,
            Status::Warn,
            format!(
                "idle states with unreadable latency or disable flag: {}",
                unknown.join(", ")
            ),
            None,
        );
    }
    let driver = ctx
        .root
        .read_trimmed(&format!("{CPU}/cpuidle/current_driver"))
        .unwrap_or_default();
    let boot = match driver.as_str() {
        "intel_idle" => "intel_idle.max_cstate=1",
        "acpi_idle" => "processor.max_cstate=1",
        _ => "intel_idle.max_cstate=1 processor.max_cstate=1",
    };
    let mut fix: Vec<String> = deep
        .iter()
        .map(|(k, _)| {
            format!(
                "echo 1 > /sys/devices/system/cpu/cpu{}/cpuidle/state{k}/disable",
                p.core
            )
        })
        .collect();
    fix.push(format!("persist: boot with {boot}"));
    let names: Vec<&str> = deep.iter().map(|(_, n)| n.as_str()).collect();
    let why = if p.hot {
        "helper threads and wake-ups on this core pay the exit latency"
    } else {
        "every wake-up of this helper core pays the exit latency"
    };
    at(
        p,
        id,
        Status::Warn,
        format!(
            "idle states deeper than {max} µs enabled: {}; {why}",
            names.join(", ")
        ),
        Some(fix.join("\n")),
    )
}

/// Device IRQs: number → CPUs it may be delivered to; and per-CPU counts
/// from `/proc/interrupts`.
pub(crate) struct IrqTable {
    pub affinity: Result<BTreeMap<usize, CpuSet>, Problem>,
    pub unreadable: usize,
    /// IRQ → (cpu → count).
    pub counts: BTreeMap<usize, BTreeMap<usize, u64>>,
}

impl IrqTable {
    pub(crate) fn read(ctx: &Ctx) -> Self {
        let mut unreadable = 0;
        let affinity = ctx.root.list_numbered("proc/irq", "").map(|irqs| {
            let mut map = BTreeMap::new();
            for n in irqs {
                let list = read_plain_list(ctx.root, &format!("proc/irq/{n}/smp_affinity_list"))
                    .or_else(|_| {
                        let rel = format!("proc/irq/{n}/smp_affinity");
                        let s = ctx.root.read_trimmed(&rel)?;
                        parse_cpu_mask(&s).map_err(|e| Problem::malformed(&rel, &s, &e.to_string()))
                    });
                match list {
                    Ok(l) => {
                        map.insert(n, l);
                    }
                    Err(_) => unreadable += 1,
                }
            }
            map
        });
        let counts = ctx
            .root
            .read("proc/interrupts")
            .map(|s| parse_interrupts(&s))
            .unwrap_or_default();
        IrqTable {
            affinity,
            unreadable,
            counts,
        }
    }
}

/// `/proc/interrupts`: a header of `CPUn` columns, then `N: count count …`
/// rows. Rows with a non-numeric name (`LOC`, `NMI`) are skipped.
pub(crate) fn parse_interrupts(s: &str) -> BTreeMap<usize, BTreeMap<usize, u64>> {
    let mut lines = s.lines();
    let Some(header) = lines.next() else {
        return BTreeMap::new();
    };
    let cols: Vec<Option<usize>> = header
        .split_whitespace()
        .map(|t| t.strip_prefix("CPU").and_then(|n| n.parse().ok()))
        .collect();
    let mut out = BTreeMap::new();
    for line in lines {
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let Ok(irq) = name.trim().parse::<usize>() else {
            continue;
        };
        let mut per_cpu = BTreeMap::new();
        for (col, tok) in rest.split_whitespace().enumerate().take(cols.len()) {
            let Ok(v) = tok.parse::<u64>() else { break };
            if let Some(Some(cpu)) = cols.get(col) {
                per_cpu.insert(*cpu, v);
            }
        }
        out.insert(irq, per_cpu);
    }
    out
}

/// Hot core: WARN when any device IRQ may be delivered to it.
fn irq_affinity(ctx: &Ctx, p: &Planned, irqs: &IrqTable) -> Finding {
    let id = CheckId::IrqAffinity;
    let map = match &irqs.affinity {
        Ok(m) => m,
        Err(e) => return unverified(p, id, e),
    };
    let here: Vec<usize> = map
        .iter()
        .filter(|(_, cpus)| cpus.contains(p.core))
        .map(|(n, _)| *n)
        .collect();
    let fired: u64 = here
        .iter()
        .filter_map(|n| irqs.counts.get(n)?.get(&p.core))
        .fold(0u64, |a, b| a.saturating_add(*b));
    let unreadable = if irqs.unreadable > 0 {
        format!(" ({} IRQs with unreadable affinity)", irqs.unreadable)
    } else {
        String::new()
    };
    if here.is_empty() {
        return at(
            p,
            id,
            Status::Ok,
            format!(
                "none of {} device IRQs may be delivered here{unreadable}",
                map.len()
            ),
            None,
        );
    }
    let list = short_list(&here);
    if !p.hot {
        return at(
            p,
            id,
            Status::Ok,
            format!(
                "helper core; {} IRQs may be delivered here ({list})",
                here.len()
            ),
            None,
        );
    }
    let observed = format!(
        "{} of {} device IRQs may be delivered to this busy-spinning core: {list}; {fired} delivered here since boot{unreadable}",
        here.len(),
        map.len()
    );
    let fix = match ctx.irq_target() {
        Some(t) if !t.is_empty() => {
            let nums: Vec<String> = here.iter().map(|n| n.to_string()).collect();
            format!(
                "for i in {}; do echo {} > /proc/irq/$i/smp_affinity_list; done\n\
                 keep irqbalance from moving them back: IRQBALANCE_BANNED_CPULIST={} in /etc/default/irqbalance \
                 (older irqbalance: IRQBALANCE_BANNED_CPUS={}), or systemctl disable --now irqbalance\n\
                 kernel-managed IRQs (NVMe, virtio queues) refuse the write: boot with isolcpus=managed_irq,...",
                nums.join(" "),
                t.to_list_string(),
                ctx.hot_online().to_list_string(),
                ctx.hot_online().to_mask_string()
            )
        }
        _ => "no online CPU is free of busy-spinning stages to take the IRQs: leave one (usually cpu0) to the OS"
            .to_string(),
    };
    at(p, id, Status::Warn, observed, Some(fix))
}

fn short_list(v: &[usize]) -> String {
    let shown: Vec<String> = v.iter().take(12).map(|n| n.to_string()).collect();
    if v.len() > 12 {
        format!("{},… ({} more)", shown.join(","), v.len() - 12)
    } else {
        shown.join(",")
    }
}

/// WARN for a hot core on a different NUMA node from the other hot cores
/// (the node with the most hot cores, lowest id on ties); OK otherwise and
/// when no NUMA topology is exposed.
fn numa_node(ctx: &Ctx, p: &Planned) -> Finding {
    let id = CheckId::NumaNode;
    let nodes = match &ctx.numa {
        Ok(n) if !n.is_empty() => n,
        Ok(_) => {
            return at(
                p,
                id,
                Status::Ok,
                "no NUMA topology exposed (one node)",
                None,
            );
        }
        Err(e) if e.is_missing() => {
            return at(
                p,
                id,
                Status::Ok,
                "no NUMA topology exposed (one node)",
                None,
            );
        }
        Err(e) => return unverified(p, id, e),
    };
    let node_of = |cpu: usize| nodes.iter().find(|(_, c)| c.contains(cpu)).map(|(n, _)| *n);
    let Some(mine) = node_of(p.core) else {
        return at(
            p,
            id,
            Status::Ok,
            format!("cpu{} is in no node's cpulist", p.core),
            None,
        );
    };
    if nodes.len() <= 1 || !p.hot {
        return at(p, id, Status::Ok, format!("node {mine}"), None);
    }
    let mut per_node: BTreeMap<usize, usize> = BTreeMap::new();
    for c in ctx.hot.iter() {
        if let Some(n) = node_of(c) {
            *per_node.entry(n).or_default() += 1;
        }
    }
    let best = per_node
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(n, _)| *n)
        .unwrap_or(mine);
    if best == mine {
        return at(
            p,
            id,
            Status::Ok,
            format!("node {mine}, with the other busy-spinning cores"),
            None,
        );
    }
    let best_cpus = nodes
        .iter()
        .find(|(n, _)| *n == best)
        .map(|(_, c)| c.to_list_string())
        .unwrap_or_default();
    at(
        p,
        id,
        Status::Warn,
        format!(
            "node {mine}, but most busy-spinning cores are on node {best}: every ring hop crosses the interconnect"
        ),
        Some(format!(
            "move {} to a core of node {best} (CPUs {best_cpus}) in conf/affinity.toml",
            p.roles_text()
        )),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interrupts() {
        let s = "           CPU0       CPU1       \n  24:          1          0  IO-APIC   5-edge      ACPI:Ged\n  26:          0         16  IO-APIC   4-edge      ttyS0\nNMI:          0          0   Non-maskable interrupts\nERR:          0\n";
        let m = parse_interrupts(s);
        assert_eq!(m.len(), 2);
        assert_eq!(m[&26][&1], 16);
        assert_eq!(m[&24][&0], 1);
        assert!(parse_interrupts("").is_empty());
        assert!(
            parse_interrupts("garbage\n1: x y")
                .get(&1)
                .is_some_and(|m| m.is_empty())
        );
    }

    #[test]
    fn isolcpus_flag_advice() {
        let v = |f: &[&str]| f.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(recommended_flags(&[]), "managed_irq,domain,");
        assert_eq!(recommended_flags(&v(&["nohz"])), "nohz,domain,");
        assert_eq!(
            recommended_flags(&v(&["domain", "managed_irq"])),
            "domain,managed_irq,"
        );
    }

    #[test]
    fn short_lists() {
        assert_eq!(short_list(&[1, 2]), "1,2");
        let v: Vec<usize> = (0..20).collect();
        assert!(short_list(&v).ends_with("(8 more)"));
    }
}
