//! Facts read once and shared by the checks: the merged plan, the kernel
//! command line, online / isolated / nohz_full CPUs, `/proc/cpuinfo`.

use std::collections::BTreeSet;

use crate::cmdline::Cmdline;
use crate::cpulist::{CpuSet, parse_cpu_list, parse_cpu_list_with_last};
use crate::plan::{CheckOptions, HostPlan};
use crate::report::{CheckId, Finding, Status};
use crate::root::{HostRoot, Problem};

pub(crate) const CPU: &str = "sys/devices/system/cpu";

/// One planned core after merging duplicate entries.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub core: usize,
    pub roles: Vec<String>,
    pub hot: bool,
}

impl Planned {
    /// `md+book, feed thread`, or `(no role)`.
    pub(crate) fn roles_text(&self) -> String {
        if self.roles.is_empty() {
            "(no role)".to_string()
        } else {
            self.roles.join(", ")
        }
    }

    /// `busy-spinning` or `helper`.
    pub(crate) fn kind(&self) -> &'static str {
        if self.hot { "busy-spinning" } else { "helper" }
    }
}

/// What `/proc/cpuinfo` says.
#[derive(Debug, Clone, Default)]
pub(crate) struct CpuInfo {
    pub processors: Vec<usize>,
    /// Flags of each processor block that had a `flags` line.
    pub flags: Vec<BTreeSet<String>>,
}

impl CpuInfo {
    pub(crate) fn parse(s: &str) -> Self {
        let mut info = CpuInfo::default();
        for line in s.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            match key.trim() {
                "processor" => {
                    if let Ok(n) = value.trim().parse::<usize>() {
                        info.processors.push(n);
                    }
                }
                "flags" => info
                    .flags
                    .push(value.split_whitespace().map(str::to_string).collect()),
                _ => {}
            }
        }
        info
    }

    /// Flags every processor has.
    pub(crate) fn common_flags(&self) -> BTreeSet<String> {
        let mut iter = self.flags.iter();
        let Some(first) = iter.next() else {
            return BTreeSet::new();
        };
        iter.fold(first.clone(), |acc, f| {
            acc.intersection(f).cloned().collect()
        })
    }

    pub(crate) fn is_vm(&self) -> bool {
        self.flags.iter().any(|f| f.contains("hypervisor"))
    }
}

/// A CPU set with where it came from, or why it is unknown.
#[derive(Debug, Clone)]
pub(crate) struct Known {
    pub cpus: CpuSet,
    /// `isolcpus=`, `/sys/.../isolated`, …
    pub source: String,
}

pub(crate) struct Ctx<'a> {
    pub root: &'a HostRoot,
    pub opts: &'a CheckOptions,
    pub plan: Vec<Planned>,
    pub hot: CpuSet,
    pub cmdline: Result<Cmdline, Problem>,
    pub cpuinfo: Result<CpuInfo, Problem>,
    pub online: Result<Known, String>,
    pub last_cpu: Option<usize>,
    pub isolated: Result<Known, String>,
    pub nohz: Result<Known, String>,
    /// Set when the kernel shows no sign of nohz_full support.
    pub nohz_note: Option<String>,
    /// CPUs this process may run on.
    pub allowed: Result<CpuSet, String>,
    /// NUMA nodes and their CPUs.
    pub numa: Result<Vec<(usize, CpuSet)>, Problem>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(root: &'a HostRoot, plan: &HostPlan, opts: &'a CheckOptions) -> Self {
        let merged = merge(plan);
        let hot: CpuSet = merged.iter().filter(|p| p.hot).map(|p| p.core).collect();
        let cmdline = root.read("proc/cmdline").map(|s| Cmdline::parse(&s));
        let cpuinfo = root.read("proc/cpuinfo").map(|s| CpuInfo::parse(&s));

        let online = match read_list(root, &format!("{CPU}/online"), None) {
            Ok(cpus) => Ok(Known {
                cpus,
                source: "/sys/devices/system/cpu/online".into(),
            }),
            Err(p) => match &cpuinfo {
                Ok(info) if !info.processors.is_empty() => Ok(Known {
                    cpus: info.processors.iter().copied().collect(),
                    source: "/proc/cpuinfo".into(),
                }),
                _ => Err(p.to_string()),
            },
        };
        let last_cpu = read_list(root, &format!("{CPU}/possible"), None)
            .ok()
            .and_then(|s| s.last())
            .or_else(|| online.as_ref().ok().and_then(|k| k.cpus.last()));

        let isolated = match read_list(root, &format!("{CPU}/isolated"), last_cpu) {
            Ok(cpus) => Ok(Known {
                cpus,
                source: "/sys/devices/system/cpu/isolated".into(),
            }),
            Err(p) => match &cmdline {
                Ok(c) => match c.isolcpus(last_cpu) {
                    Some(Ok(iso)) => Ok(Known {
                        cpus: if iso.domain() {
                            iso.cpus
                        } else {
                            CpuSet::new()
                        },
                        source: "isolcpus= on /proc/cmdline".into(),
                    }),
                    Some(Err(v)) => Err(format!("{p}; isolcpus={v} does not parse")),
                    None => Ok(Known {
                        cpus: CpuSet::new(),
                        source: "/proc/cmdline (no isolcpus=)".into(),
                    }),
                },
                Err(e) => Err(format!("{p}; {e}")),
            },
        };

        let mut nohz_note = None;
        let nohz_path = format!("{CPU}/nohz_full");
        let nohz = match root.read_trimmed(&nohz_path) {
            // Kernels print "(null)" when nohz_full= was not given.
            Ok(s) if s == "(null)" => Ok(Known {
                cpus: CpuSet::new(),
                source: "/sys/devices/system/cpu/nohz_full".into(),
            }),
            Ok(s) => match parse_cpu_list_with_last(&s, last_cpu) {
                Ok(cpus) => Ok(Known {
                    cpus,
                    source: "/sys/devices/system/cpu/nohz_full".into(),
                }),
                Err(e) => Err(Problem::malformed(&nohz_path, &s, &e.to_string()).to_string()),
            },
            Err(p) => {
                if p.is_missing() {
                    nohz_note = Some(
                        "/sys/devices/system/cpu/nohz_full is missing: the kernel may be built without CONFIG_NO_HZ_FULL"
                            .to_string(),
                    );
                }
                match &cmdline {
                    Ok(c) => match c.cpus("nohz_full", last_cpu) {
                        Some(Ok(cpus)) => Ok(Known {
                            cpus,
                            source: "nohz_full= on /proc/cmdline".into(),
                        }),
                        Some(Err(v)) => Err(format!("{p}; nohz_full={v} does not parse")),
                        None => Ok(Known {
                            cpus: CpuSet::new(),
                            source: "/proc/cmdline (no nohz_full=)".into(),
                        }),
                    },
                    Err(e) => Err(format!("{p}; {e}")),
                }
            }
        };

        let allowed = read_allowed(root, plan.allowed_cpus.as_ref());
        let numa = read_numa(root);

        Ctx {
            allowed,
            numa,
            root,
            opts,
            plan: merged,
            hot,
            cmdline,
            cpuinfo,
            online,
            last_cpu,
            isolated,
            nohz,
            nohz_note,
        }
    }

    /// Online CPUs that run no busy-spinning stage; `None` when the online
    /// set is unknown.
    pub(crate) fn housekeeping(&self) -> Option<CpuSet> {
        self.online
            .as_ref()
            .ok()
            .map(|k| k.cpus.difference(&self.hot))
    }

    /// Hot cores that are online (all hot cores when the online set is
    /// unknown): what fixes name.
    pub(crate) fn hot_online(&self) -> CpuSet {
        match &self.online {
            Ok(k) => self.hot.intersection(&k.cpus),
            Err(_) => self
                .hot
                .iter()
                .filter(|c| *c <= crate::cpulist::MAX_CPU_ID)
                .collect(),
        }
    }

    /// Where IRQs, watchdogs and kernel threads should go: housekeeping CPUs
    /// that are not isolated, or all housekeeping CPUs if every one is.
    pub(crate) fn irq_target(&self) -> Option<CpuSet> {
        let hk = self.housekeeping()?;
        let iso = self
            .isolated
            .as_ref()
            .map(|k| k.cpus.clone())
            .unwrap_or_default();
        let preferred = hk.difference(&iso);
        Some(if preferred.is_empty() { hk } else { preferred })
    }

    /// Whether `core` is known to be offline or absent (unknown = no).
    pub(crate) fn not_online(&self, core: usize) -> bool {
        matches!(&self.online, Ok(k) if !k.cpus.contains(core))
    }

    pub(crate) fn is_vm(&self) -> bool {
        self.cpuinfo.as_ref().is_ok_and(CpuInfo::is_vm)
    }

    /// `(virtual machine)` or `(no driver loaded?)` for "not exposed" notes.
    pub(crate) fn absent_why(&self) -> &'static str {
        if self.is_vm() {
            "virtual machine"
        } else {
            "no driver loaded?"
        }
    }

    pub(crate) fn planned(&self, core: usize) -> Option<&Planned> {
        self.plan.iter().find(|p| p.core == core)
    }
}

/// The allowed CPUs: from the plan, else `Cpus_allowed_list` (or the
/// `Cpus_allowed` mask) of `proc/self/status`.
fn read_allowed(root: &HostRoot, given: Option<&CpuSet>) -> Result<CpuSet, String> {
    if let Some(g) = given {
        return Ok(g.clone());
    }
    let rel = "proc/self/status";
    let s = root.read(rel).map_err(|p| p.to_string())?;
    let field = |name: &str| {
        s.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
    };
    if let Some(v) = field("Cpus_allowed_list:") {
        return parse_cpu_list(&v)
            .map_err(|e| Problem::malformed(rel, &v, &e.to_string()).to_string());
    }
    if let Some(v) = field("Cpus_allowed:") {
        return crate::cpulist::parse_cpu_mask(&v)
            .map_err(|e| Problem::malformed(rel, &v, &e.to_string()).to_string());
    }
    Err(format!(
        "no Cpus_allowed_list in {}",
        crate::root::shown(rel)
    ))
}

/// `sys/devices/system/node/nodeN/cpulist` for every node; a node whose
/// cpulist is unreadable is left out.
fn read_numa(root: &HostRoot) -> Result<Vec<(usize, CpuSet)>, Problem> {
    let dir = "sys/devices/system/node";
    let nodes = root.list_numbered(dir, "node")?;
    Ok(nodes
        .into_iter()
        .filter_map(|n| {
            Some((
                n,
                read_plain_list(root, &format!("{dir}/node{n}/cpulist")).ok()?,
            ))
        })
        .collect())
}

fn merge(plan: &HostPlan) -> Vec<Planned> {
    let mut out: Vec<Planned> = Vec::new();
    for pc in &plan.cores {
        match out.iter_mut().find(|p| p.core == pc.core) {
            Some(p) => {
                for r in &pc.roles {
                    if !p.roles.contains(r) {
                        p.roles.push(r.clone());
                    }
                }
                p.hot |= pc.hot;
            }
            None => out.push(Planned {
                core: pc.core,
                roles: pc.roles.clone(),
                hot: pc.hot,
            }),
        }
    }
    out.sort_by_key(|p| p.core);
    out
}

/// Reads and parses a CPU-list file.
pub(crate) fn read_list(
    root: &HostRoot,
    rel: &str,
    last: Option<usize>,
) -> Result<CpuSet, Problem> {
    let s = root.read_trimmed(rel)?;
    parse_cpu_list_with_last(&s, last).map_err(|e| Problem::malformed(rel, &s, &e.to_string()))
}

/// Reads and parses a CPU-list file that never contains `N`.
pub(crate) fn read_plain_list(root: &HostRoot, rel: &str) -> Result<CpuSet, Problem> {
    let s = root.read_trimmed(rel)?;
    parse_cpu_list(&s).map_err(|e| Problem::malformed(rel, &s, &e.to_string()))
}

/// `none` for an empty set, else the list.
pub(crate) fn list_or_none(set: &CpuSet) -> String {
    if set.is_empty() {
        "none".to_string()
    } else {
        set.to_list_string()
    }
}

pub(crate) fn finding(
    check: CheckId,
    core: Option<usize>,
    status: Status,
    observed: impl Into<String>,
    fix: Option<String>,
) -> Finding {
    Finding {
        check,
        core,
        status,
        observed: printable(&observed.into(), 600),
        fix: fix.map(|f| {
            f.lines()
                .map(|l| printable(l, 600))
                .collect::<Vec<_>>()
                .join("\n")
        }),
    }
}

/// `s` with control characters escaped (file content can hold anything,
/// and findings end up on terminals), cut at `max` characters.
pub(crate) fn printable(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A human size: `8 MiB`, `8.0 GiB`, `512 KiB`, `100 bytes`, `unlimited`.
pub(crate) fn bytes_text(b: u64) -> String {
    if b == u64::MAX {
        return "unlimited".into();
    }
    const UNITS: [(&str, u64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    for (name, size) in UNITS {
        if b >= size {
            return if b.is_multiple_of(size) {
                format!("{} {name}", b / size)
            } else {
                format!("{:.1} {name}", b as f64 / size as f64)
            };
        }
    }
    format!("{b} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes() {
        assert_eq!(printable("a\u{1b}b\tc", 100), "a\\u{1b}b\\tc");
        assert_eq!(printable("abcdef", 3), "abc…");
    }

    #[test]
    fn sizes() {
        assert_eq!(bytes_text(8 << 20), "8 MiB");
        assert_eq!(bytes_text(8_388_604 * 1024), "8.0 GiB");
        assert_eq!(bytes_text(1536), "1.5 KiB");
        assert_eq!(bytes_text(100), "100 bytes");
        assert_eq!(bytes_text(u64::MAX), "unlimited");
    }

    #[test]
    fn cpuinfo() {
        let i = CpuInfo::parse(
            "processor\t: 0\nflags\t\t: a b hypervisor\n\nprocessor\t: 1\nflags\t\t: b hypervisor\n",
        );
        assert_eq!(i.processors, vec![0, 1]);
        assert_eq!(
            i.common_flags().into_iter().collect::<Vec<_>>(),
            vec!["b", "hypervisor"]
        );
        assert!(i.is_vm());
    }
}
