//! Garbage in every file, missing files, files where directories should be:
//! the checks must not panic and must still report on every planned core.

use std::fs;
use std::path::{Path, PathBuf};
use tickwire_hostcheck::{
    CheckId, CheckOptions, HostPlan, HostRoot, PlannedCore, Report, Status, check_host,
    render_json, render_table, summary_line,
};

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!("hostcheck-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dst);
        } else {
            fs::copy(e.path(), &dst).unwrap();
        }
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            files(&e.path(), out);
        } else {
            out.push(e.path());
        }
    }
}

/// xorshift64*: deterministic garbage without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const NASTY: &[&str] = &[
    "",
    "\n",
    "(null)\n",
    "-1\n",
    "0-\n",
    "3-1\n",
    "N\n",
    "0-4294967295\n",
    "99999999999999999999999999\n",
    "[\n",
    "]always[\n",
    "[]\n",
    "ffffffff,ffffffff,zz\n",
    "0x3\n",
    "processor : x\nflags :\n",
    "Max locked memory\n",
    "Max locked memory  unlimited\n",
    "Cpus_allowed_list:\t\nCpus_allowed:\t\n",
    "CapEff:\tffffffffffffffffffff\n",
    "CPU0 CPU1\n 1: 5 x 7\n2:\n:\n",
    "Filename Type\n\n \t \n",
    "\u{1b}[31mred\u{1b}[0m\n",
    "é\u{0}\u{7f}ü\n",
    "0-65535\n",
    "65535\n",
    "0-65535:1/2\n",
];

fn plan() -> HostPlan {
    HostPlan {
        cores: vec![
            PlannedCore::new(0, &["md+book"], true),
            PlannedCore::new(1, &["risk+router"], true),
            PlannedCore::new(2, &["feed thread"], false),
            PlannedCore::new(70_000, &["bogus"], true),
            PlannedCore::new(usize::MAX, &[], false),
        ],
        allowed_cpus: None,
    }
}

#[track_caller]
fn sane(r: &Report, plan: &HostPlan) {
    for c in &plan.cores {
        assert!(
            r.findings.iter().any(|f| f.core == Some(c.core)),
            "no finding for core {}\n{}",
            c.core,
            render_table(r)
        );
    }
    for check in [CheckId::TscFlags, CheckId::Memlock, CheckId::Swap] {
        assert!(r.get(check, None).is_some(), "no {check:?}");
    }
    // Renderers must cope with whatever ended up in the findings.
    let table = render_table(r);
    let _ = summary_line(r);
    let json = render_json(r);
    assert!(serde_json::from_str::<serde_json::Value>(&json).is_ok());
    // No raw control character from a file leaks into the table.
    assert!(
        !table.chars().any(|c| c.is_control() && c != '\n'),
        "control character in table:\n{table:?}"
    );
}

#[test]
fn nonexistent_root() {
    let plan = plan();
    let r = check_host(
        &HostRoot::new("/nonexistent/hostcheck/root"),
        &plan,
        &CheckOptions::default(),
    );
    sane(&r, &plan);
    // Nothing is known: the process affinity and online set are unknown, so
    // every core still gets its full set of (mostly "not verified") findings.
    assert_eq!(r.get(CheckId::TscFlags, None).unwrap().status, Status::Warn);
    assert_eq!(
        r.get(CheckId::CoreOnline, Some(0)).unwrap().status,
        Status::Warn
    );
    assert_eq!(
        r.get(CheckId::Isolcpus, Some(0)).unwrap().status,
        Status::Warn
    );
    assert_eq!(
        r.get(CheckId::Isolcpus, Some(2)).unwrap().status,
        Status::Ok
    );
}

#[test]
fn empty_root() {
    let s = Scratch::new("empty");
    let plan = plan();
    let r = check_host(&HostRoot::new(&s.0), &plan, &CheckOptions::default());
    sane(&r, &plan);
}

#[test]
fn every_file_garbage() {
    let plan = plan();
    for (round, base) in ["tuned", "untuned"]
        .iter()
        .cycle()
        .take(NASTY.len() * 2)
        .enumerate()
    {
        let s = Scratch::new(&format!("garbage{round}"));
        copy_tree(&fixture(base), &s.0);
        let mut all = Vec::new();
        files(&s.0, &mut all);
        // Round r: every file gets NASTY[r]; later rounds mix.
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ round as u64);
        for f in &all {
            let text = if round < NASTY.len() {
                NASTY[round].to_string()
            } else {
                match rng.below(4) {
                    0 => NASTY[rng.below(NASTY.len())].to_string(),
                    1 => {
                        let bytes: Vec<u8> =
                            (0..rng.below(300)).map(|_| rng.next() as u8).collect();
                        String::from_utf8_lossy(&bytes).into_owned()
                    }
                    2 => continue, // keep the real content
                    _ => {
                        fs::remove_file(f).unwrap();
                        continue;
                    }
                }
            };
            fs::write(f, text).unwrap();
        }
        let r = check_host(&HostRoot::new(&s.0), &plan, &CheckOptions::default());
        sane(&r, &plan);
    }
}

#[test]
fn random_bytes_in_every_file() {
    let plan = plan();
    for seed in 1..=6u64 {
        let s = Scratch::new(&format!("bytes{seed}"));
        copy_tree(&fixture("untuned"), &s.0);
        let mut all = Vec::new();
        files(&s.0, &mut all);
        let mut rng = Rng(seed.wrapping_mul(0x1234_5678_9abc_def1));
        for f in &all {
            let bytes: Vec<u8> = (0..rng.below(2000)).map(|_| rng.next() as u8).collect();
            fs::write(f, bytes).unwrap();
        }
        let r = check_host(&HostRoot::new(&s.0), &plan, &CheckOptions::default());
        sane(&r, &plan);
    }
}

#[test]
fn directories_where_files_belong_and_files_where_directories_belong() {
    let s = Scratch::new("shapes");
    copy_tree(&fixture("untuned"), &s.0);
    let root = &s.0;
    // Files turned into directories.
    for rel in [
        "proc/cmdline",
        "proc/cpuinfo",
        "proc/self/limits",
        "sys/devices/system/cpu/online",
    ] {
        let p = root.join(rel);
        fs::remove_file(&p).unwrap();
        fs::create_dir_all(p.join("inner")).unwrap();
    }
    // Directories turned into files.
    for rel in [
        "proc/irq",
        "sys/devices/system/node",
        "sys/devices/system/cpu/cpu0/cpuidle",
        "sys/devices/system/cpu/cpu1",
    ] {
        let p = root.join(rel);
        fs::remove_dir_all(&p).unwrap();
        fs::write(&p, "surprise\n").unwrap();
    }
    let plan = plan();
    let r = check_host(&HostRoot::new(root), &plan, &CheckOptions::default());
    sane(&r, &plan);
    let f = r.get(CheckId::TscFlags, None).unwrap();
    assert_eq!(f.status, Status::Warn);
    assert!(f.observed.contains("is a directory"), "{f:?}");
    // online is unreadable, cpuinfo too: cpu1 is "unknown", not "absent".
    assert_eq!(
        r.get(CheckId::CoreOnline, Some(1)).unwrap().status,
        Status::Warn
    );
}

#[cfg(unix)]
#[test]
fn fifo_is_not_read() {
    // A FIFO would block a naive read forever.
    let s = Scratch::new("fifo");
    copy_tree(&fixture("tuned"), &s.0);
    let p = s.0.join("proc/cmdline");
    fs::remove_file(&p).unwrap();
    let ok = std::process::Command::new("mkfifo")
        .arg(&p)
        .status()
        .is_ok_and(|st| st.success());
    if !ok {
        eprintln!("mkfifo unavailable; skipped");
        return;
    }
    let plan = plan();
    let r = check_host(&HostRoot::new(&s.0), &plan, &CheckOptions::default());
    sane(&r, &plan);
}

#[test]
fn virtual_machine_without_cpufreq_or_cpuidle() {
    let s = Scratch::new("vm");
    copy_tree(&fixture("tuned"), &s.0);
    let root = &s.0;
    for c in 0..8 {
        fs::remove_dir_all(root.join(format!("sys/devices/system/cpu/cpu{c}/cpufreq"))).unwrap();
        fs::remove_dir_all(root.join(format!("sys/devices/system/cpu/cpu{c}/cpuidle"))).unwrap();
    }
    fs::remove_dir_all(root.join("sys/devices/system/cpu/intel_pstate")).unwrap();
    fs::remove_dir_all(root.join("sys/devices/system/node")).unwrap();
    fs::remove_dir_all(root.join("sys/kernel/mm/transparent_hugepage")).unwrap();
    let cpuinfo = fs::read_to_string(root.join("proc/cpuinfo")).unwrap();
    fs::write(
        root.join("proc/cpuinfo"),
        cpuinfo.replace("flags\t\t: ", "flags\t\t: hypervisor "),
    )
    .unwrap();
    let plan = HostPlan {
        cores: vec![PlannedCore::new(2, &["md+book"], true)],
        allowed_cpus: None,
    };
    let r = check_host(&HostRoot::new(root), &plan, &CheckOptions::default());
    println!("{}", render_table(&r));
    for (check, core, text) in [
        (
            CheckId::Governor,
            Some(2),
            "cpufreq not exposed (virtual machine)",
        ),
        (
            CheckId::CStates,
            Some(2),
            "cpuidle not exposed (virtual machine)",
        ),
        (CheckId::NumaNode, Some(2), "no NUMA topology exposed"),
        (
            CheckId::Boost,
            None,
            "boost control not exposed (virtual machine)",
        ),
        (CheckId::Thp, None, "not built into this kernel"),
        (CheckId::ThpDefrag, None, "not built into this kernel"),
    ] {
        let f = r.get(check, core).unwrap();
        assert_eq!(f.status, Status::Ok, "{f:?}");
        assert!(f.observed.contains(text), "{f:?}");
    }
}
