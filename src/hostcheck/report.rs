//! Findings, the report, and its renderings (table, one-line summary, JSON).

use serde::Serialize;
use std::fmt::Write as _;

/// How bad a finding is. Ordered: `Ok < Warn < Fail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// As a low-latency box should be, or not applicable here.
    Ok,
    /// Costs latency or jitter, or could not be verified; tickwire still runs.
    Warn,
    /// tickwire cannot run as placed, or its timestamps cannot be trusted.
    Fail,
}

impl Status {
    /// `OK`, `WARN` or `FAIL`.
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        }
    }
}

/// Which check produced a finding. Serialized in kebab-case
/// (`"core-online"`), the same text as [`CheckId::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckId {
    // Host-wide checks.
    /// `constant_tsc` and `nonstop_tsc` in `/proc/cpuinfo`.
    TscFlags,
    /// Current clocksource is `tsc`.
    Clocksource,
    /// At least one online CPU runs no busy-spinning stage.
    Housekeeping,
    /// `/proc/irq/default_smp_affinity` keeps new IRQs off hot cores.
    IrqDefault,
    /// Transparent huge pages `enabled` is not `always`.
    Thp,
    /// Transparent huge pages `defrag` is not `always`.
    ThpDefrag,
    /// No active swap.
    Swap,
    /// `RLIMIT_MEMLOCK` (from `/proc/self/limits`) is large enough.
    Memlock,
    /// Automatic NUMA balancing off on multi-node boxes.
    NumaBalancing,
    /// NMI and soft-lockup watchdogs kept off hot cores.
    Watchdog,
    /// Real-time throttling (`kernel.sched_rt_runtime_us`).
    RtThrottling,
    /// Turbo / boost state.
    Boost,
    // Per planned core.
    /// The core exists and is online.
    CoreOnline,
    /// The core is in this process's allowed CPUs.
    CoreAllowed,
    /// The core is in `isolcpus=` (scheduler domain isolation).
    Isolcpus,
    /// The core is in `nohz_full=`.
    NohzFull,
    /// The core's RCU callbacks are offloaded (`rcu_nocbs=`).
    RcuNocbs,
    /// The core's SMT siblings are not used by another stage or the OS.
    SmtSibling,
    /// cpufreq governor is `performance`.
    Governor,
    /// No idle state deeper than the allowed exit latency is enabled.
    CStates,
    /// No device IRQ may be delivered to the core.
    IrqAffinity,
    /// The core's NUMA node (hot cores on one node).
    NumaNode,
}

impl CheckId {
    /// The kebab-case name used in the table and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            CheckId::TscFlags => "tsc-flags",
            CheckId::Clocksource => "clocksource",
            CheckId::Housekeeping => "housekeeping",
            CheckId::IrqDefault => "irq-default",
            CheckId::Thp => "thp",
            CheckId::ThpDefrag => "thp-defrag",
            CheckId::Swap => "swap",
            CheckId::Memlock => "memlock",
            CheckId::NumaBalancing => "numa-balancing",
            CheckId::Watchdog => "watchdog",
            CheckId::RtThrottling => "rt-throttling",
            CheckId::Boost => "boost",
            CheckId::CoreOnline => "core-online",
            CheckId::CoreAllowed => "core-allowed",
            CheckId::Isolcpus => "isolcpus",
            CheckId::NohzFull => "nohz-full",
            CheckId::RcuNocbs => "rcu-nocbs",
            CheckId::SmtSibling => "smt-sibling",
            CheckId::Governor => "governor",
            CheckId::CStates => "c-states",
            CheckId::IrqAffinity => "irq-affinity",
            CheckId::NumaNode => "numa-node",
        }
    }
}

/// One observation about the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The check.
    pub check: CheckId,
    /// The planned core it is about; `None` for host-wide checks.
    pub core: Option<usize>,
    /// Verdict.
    pub status: Status,
    /// What was seen, in one line.
    pub observed: String,
    /// The exact remedy (kernel parameter, sysctl, command); may span
    /// several lines. Present on every WARN and FAIL that has one.
    pub fix: Option<String>,
}

/// All findings of one `check-host` run: host-wide checks first, then each
/// planned core in ascending order, checks in [`CheckId`] order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The findings.
    pub findings: Vec<Finding>,
}

impl Report {
    /// The worst status of any finding (`Ok` when there are none).
    pub fn worst(&self) -> Status {
        self.findings
            .iter()
            .map(|f| f.status)
            .max()
            .unwrap_or(Status::Ok)
    }

    /// Process exit code for `check-host`: `0` when no finding is FAIL
    /// (warnings do not fail the command), `1` when at least one is.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.worst() == Status::Fail)
    }

    /// Numbers of OK, WARN and FAIL findings.
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |s| self.findings.iter().filter(|f| f.status == s).count();
        (n(Status::Ok), n(Status::Warn), n(Status::Fail))
    }

    /// The finding of `check` for `core` (`None` = host-wide), if any.
    pub fn get(&self, check: CheckId, core: Option<usize>) -> Option<&Finding> {
        self.findings
            .iter()
            .find(|f| f.check == check && f.core == core)
    }
}

/// Printed once under the table when a fix changes the kernel command line.
const BOOT_HOWTO: &str = "boot with ...: add the parameters to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub (or grub2-mkconfig -o /boot/grub2/grub.cfg), reboot, and check /proc/cmdline";

fn counts_text(report: &Report) -> String {
    let (ok, warn, fail) = report.counts();
    format!("{ok} ok, {warn} warn, {fail} fail")
}

/// The report as a table: one line per finding (status, check, `host` or
/// `cpuN`, what was observed), its fix indented on the lines below, a note
/// on how to change the kernel command line when a fix says `boot with`,
/// and a closing line `N ok, N warn, N fail`.
pub fn render_table(report: &Report) -> String {
    let width = report
        .findings
        .iter()
        .map(|f| f.check.name().len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<4}  {:<width$}  {:<6} OBSERVED",
        "", "CHECK", "WHERE"
    );
    for f in &report.findings {
        let place = match f.core {
            Some(c) => format!("cpu{c}"),
            None => "host".to_string(),
        };
        let _ = writeln!(
            out,
            "{:<4}  {:<width$}  {:<6} {}",
            f.status.label(),
            f.check.name(),
            place,
            one_line(&f.observed)
        );
        if let Some(fix) = &f.fix {
            for (i, line) in fix.lines().enumerate() {
                let lead = if i == 0 { "fix: " } else { "     " };
                let _ = writeln!(out, "      {lead}{line}");
            }
        }
    }
    if report
        .findings
        .iter()
        .any(|f| f.fix.as_deref().is_some_and(|x| x.contains("boot with")))
    {
        let _ = writeln!(out, "{BOOT_HOWTO}");
    }
    let _ = writeln!(out, "{}", counts_text(report));
    out
}

/// One line for `tickwire run` to print at start, e.g.
/// `host check: 18 ok, 6 warn, 1 fail; FAIL core-allowed(cpu2); WARN isolcpus(cpu0,cpu1), thp`.
/// At most eight problem checks are named; `tickwire check-host` shows the fixes.
pub fn summary_line(report: &Report) -> String {
    let mut out = format!("host check: {}", counts_text(report));
    let mut named = 0usize;
    let mut left = 0usize;
    for status in [Status::Fail, Status::Warn] {
        let mut groups: Vec<(CheckId, Vec<usize>, bool)> = Vec::new();
        for f in report.findings.iter().filter(|f| f.status == status) {
            match groups.iter_mut().find(|g| g.0 == f.check) {
                Some(g) => match f.core {
                    Some(c) => g.1.push(c),
                    None => g.2 = true,
                },
                None => groups.push((f.check, f.core.into_iter().collect(), f.core.is_none())),
            }
        }
        if groups.is_empty() {
            continue;
        }
        let mut parts = Vec::new();
        for (check, cores, _) in groups {
            if named == 8 {
                left += 1;
                continue;
            }
            named += 1;
            if cores.is_empty() {
                parts.push(check.name().to_string());
            } else {
                let cpus: Vec<String> = cores.iter().map(|c| format!("cpu{c}")).collect();
                parts.push(format!("{}({})", check.name(), cpus.join(",")));
            }
        }
        if !parts.is_empty() {
            let _ = write!(out, "; {} {}", status.label(), parts.join(", "));
        }
    }
    if left > 0 {
        let _ = write!(out, " and {left} more");
    }
    if named > 0 {
        out.push_str(" (tickwire check-host prints the fixes)");
    }
    out
}

/// The report as pretty-printed JSON: `{"findings":[{"check":"isolcpus",
/// "core":2,"status":"warn","observed":"…","fix":"…"},…],"worst":"warn",
/// "exit_code":0}`.
pub fn render_json(report: &Report) -> String {
    #[derive(Serialize)]
    struct Out<'a> {
        findings: &'a [Finding],
        worst: Status,
        exit_code: u8,
    }
    let out = Out {
        findings: &report.findings,
        worst: report.worst(),
        exit_code: report.exit_code(),
    };
    // Serializing plain strings, numbers and enums cannot fail.
    serde_json::to_string_pretty(&out).unwrap_or_else(|_| "{}".to_string())
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(check: CheckId, core: Option<usize>, status: Status) -> Finding {
        Finding {
            check,
            core,
            status,
            observed: "seen".into(),
            fix: (status != Status::Ok).then(|| "do a\ndo b".into()),
        }
    }

    #[test]
    fn worst_and_exit() {
        let mut r = Report::default();
        assert_eq!(r.worst(), Status::Ok);
        assert_eq!(r.exit_code(), 0);
        r.findings.push(f(CheckId::Thp, None, Status::Warn));
        assert_eq!(r.exit_code(), 0);
        r.findings
            .push(f(CheckId::CoreOnline, Some(3), Status::Fail));
        assert_eq!(r.worst(), Status::Fail);
        assert_eq!(r.exit_code(), 1);
    }

    #[test]
    fn table_and_summary() {
        let r = Report {
            findings: vec![
                f(CheckId::TscFlags, None, Status::Ok),
                f(CheckId::Thp, None, Status::Warn),
                f(CheckId::Isolcpus, Some(0), Status::Warn),
                f(CheckId::Isolcpus, Some(1), Status::Warn),
                f(CheckId::CoreAllowed, Some(2), Status::Fail),
            ],
        };
        let t = render_table(&r);
        assert!(t.contains("WARN  thp"), "{t}");
        assert!(t.contains("      fix: do a\n           do b\n"), "{t}");
        assert!(t.ends_with("1 ok, 3 warn, 1 fail\n"), "{t}");
        assert_eq!(
            summary_line(&r),
            "host check: 1 ok, 3 warn, 1 fail; FAIL core-allowed(cpu2); WARN thp, isolcpus(cpu0,cpu1) (tickwire check-host prints the fixes)"
        );
        let j = render_json(&r);
        assert!(j.contains("\"check\": \"core-allowed\""), "{j}");
        assert!(j.contains("\"status\": \"fail\""), "{j}");
        assert!(j.contains("\"exit_code\": 1"), "{j}");
    }
}
