//! The tuned and the untuned fixture boxes.

use std::path::PathBuf;
use tickwire_hostcheck::{
    CheckId, CheckOptions, Finding, HostPlan, HostRoot, PlannedCore, Report, Status, check_host,
    render_json, render_table, summary_line,
};

fn fixture(name: &str) -> HostRoot {
    HostRoot::new(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
}

fn tuned_plan() -> HostPlan {
    HostPlan {
        cores: vec![
            PlannedCore::new(2, &["md+book"], true),
            PlannedCore::new(3, &["risk+router"], true),
            PlannedCore::new(1, &["feed thread"], false),
            PlannedCore::new(1, &["router thread", "snapshot thread"], false),
        ],
        allowed_cpus: None,
    }
}

fn untuned_plan() -> HostPlan {
    HostPlan {
        cores: vec![
            PlannedCore::new(0, &["md+book"], true),
            PlannedCore::new(1, &["risk+router"], true),
            PlannedCore::new(2, &["feed thread"], false),
            PlannedCore::new(3, &["router thread"], false),
            PlannedCore::new(9, &["snapshot thread"], false),
        ],
        allowed_cpus: None,
    }
}

fn get(r: &Report, check: CheckId, core: Option<usize>) -> &Finding {
    r.get(check, core)
        .unwrap_or_else(|| panic!("no {check:?} finding for {core:?}\n{}", render_table(r)))
}

#[track_caller]
fn expect(r: &Report, check: CheckId, core: Option<usize>, status: Status) -> &Finding {
    let f = get(r, check, core);
    assert_eq!(
        f.status,
        status,
        "{check:?} {core:?}: {f:?}\n{}",
        render_table(r)
    );
    if status == Status::Ok {
        assert!(f.fix.is_none(), "OK with a fix: {f:?}");
    }
    f
}

#[track_caller]
fn fix_has(f: &Finding, needle: &str) {
    let fix = f.fix.as_deref().unwrap_or_else(|| panic!("no fix: {f:?}"));
    assert!(
        fix.contains(needle),
        "fix of {:?} lacks {needle:?}:\n{fix}",
        f.check
    );
}

fn run(name: &str, plan: &HostPlan, opts: &CheckOptions) -> Report {
    let r = check_host(&fixture(name), plan, opts);
    println!("== {name}\n{}\n{}", summary_line(&r), render_table(&r));
    r
}

const HOST_CHECKS: [CheckId; 12] = [
    CheckId::TscFlags,
    CheckId::Clocksource,
    CheckId::Housekeeping,
    CheckId::IrqDefault,
    CheckId::Thp,
    CheckId::ThpDefrag,
    CheckId::Swap,
    CheckId::Memlock,
    CheckId::NumaBalancing,
    CheckId::Watchdog,
    CheckId::RtThrottling,
    CheckId::Boost,
];

const CORE_CHECKS: [CheckId; 10] = [
    CheckId::CoreOnline,
    CheckId::CoreAllowed,
    CheckId::Isolcpus,
    CheckId::NohzFull,
    CheckId::RcuNocbs,
    CheckId::SmtSibling,
    CheckId::Governor,
    CheckId::CStates,
    CheckId::IrqAffinity,
    CheckId::NumaNode,
];

#[test]
fn tuned_box_is_all_ok() {
    let r = run("tuned", &tuned_plan(), &CheckOptions::default());
    for check in HOST_CHECKS {
        expect(&r, check, None, Status::Ok);
    }
    // Core 1 appears twice in the plan: merged into one set of findings.
    for core in [1, 2, 3] {
        for check in CORE_CHECKS {
            expect(&r, check, Some(core), Status::Ok);
        }
    }
    assert_eq!(r.findings.len(), HOST_CHECKS.len() + 3 * CORE_CHECKS.len());
    assert_eq!(r.worst(), Status::Ok);
    assert_eq!(r.exit_code(), 0);
    assert_eq!(r.counts(), (42, 0, 0));
    assert!(
        get(&r, CheckId::CoreOnline, Some(1))
            .observed
            .contains("feed thread, router thread, snapshot thread")
    );
    assert!(
        get(&r, CheckId::SmtSibling, Some(2))
            .observed
            .contains("cpu6 is isolated and unplanned")
    );
    assert!(
        get(&r, CheckId::RcuNocbs, Some(3))
            .observed
            .contains("rcu_nocbs=")
    );
    assert!(
        get(&r, CheckId::NumaNode, Some(2))
            .observed
            .contains("node 1")
    );
    assert!(
        get(&r, CheckId::IrqAffinity, Some(2))
            .observed
            .contains("none of 8")
    );
    assert_eq!(summary_line(&r), "host check: 42 ok, 0 warn, 0 fail");
    let table = render_table(&r);
    assert!(table.ends_with("42 ok, 0 warn, 0 fail\n"), "{table}");
    assert!(
        !table.contains("GRUB_CMDLINE_LINUX"),
        "no boot fix, no boot note"
    );
}

#[test]
fn tuned_box_started_without_taskset() {
    // isolcpus= keeps isolated CPUs out of the default affinity.
    let mut plan = tuned_plan();
    plan.allowed_cpus = Some(tickwire_hostcheck::parse_cpu_list("0-1,4-5").unwrap());
    let r = run("tuned", &plan, &CheckOptions::default());
    expect(&r, CheckId::CoreAllowed, Some(1), Status::Ok);
    for core in [2, 3] {
        let f = expect(&r, CheckId::CoreAllowed, Some(core), Status::Fail);
        assert!(
            f.observed.contains("isolcpus= takes isolated CPUs out"),
            "{f:?}"
        );
        fix_has(f, "taskset -c 0-5 tickwire run");
        fix_has(f, "CPUAffinity=0-5");
    }
    assert_eq!(r.exit_code(), 1);
}

#[test]
fn tuned_box_with_stricter_options() {
    let opts = CheckOptions {
        want_boost: Some(false),
        realtime: true,
        memlock_min_bytes: 1 << 30,
        mlockall: true,
        max_idle_latency_us: 1,
    };
    let r = run("tuned", &tuned_plan(), &opts);
    let f = expect(&r, CheckId::Boost, None, Status::Warn);
    assert_eq!(
        f.fix.as_deref(),
        Some("echo 1 > /sys/devices/system/cpu/intel_pstate/no_turbo")
    );
    let f = expect(&r, CheckId::RtThrottling, None, Status::Warn);
    fix_has(f, "sysctl -w kernel.sched_rt_runtime_us=-1");
    assert!(f.observed.contains("50000 µs"), "{f:?}");
    // Unlimited memlock satisfies any size.
    expect(&r, CheckId::Memlock, None, Status::Ok);
    // C1 (2 µs) is now too deep.
    let f = expect(&r, CheckId::CStates, Some(2), Status::Warn);
    assert!(f.observed.contains("C1 (2 µs)"), "{f:?}");
    fix_has(
        f,
        "echo 1 > /sys/devices/system/cpu/cpu2/cpuidle/state1/disable",
    );
    fix_has(f, "boot with intel_idle.max_cstate=1");
    assert!(
        !f.fix.as_deref().unwrap().contains("state2"),
        "state2 is already disabled"
    );
}

#[test]
fn untuned_box() {
    let r = run("untuned", &untuned_plan(), &CheckOptions::default());

    // Host-wide.
    let f = expect(&r, CheckId::TscFlags, None, Status::Fail);
    assert!(f.observed.contains("nonstop_tsc missing"), "{f:?}");
    assert!(
        !f.observed.contains("constant_tsc"),
        "constant_tsc is there: {f:?}"
    );
    fix_has(f, "+invtsc");
    let f = expect(&r, CheckId::Clocksource, None, Status::Warn);
    assert!(f.observed.contains("hpet"), "{f:?}");
    fix_has(f, "tsc=reliable");
    fix_has(f, "clocksource=tsc");
    let f = expect(&r, CheckId::Housekeeping, None, Status::Ok);
    assert!(f.observed.ends_with(": 2"), "{f:?}");
    let f = expect(&r, CheckId::IrqDefault, None, Status::Warn);
    fix_has(f, "echo 4 > /proc/irq/default_smp_affinity");
    fix_has(f, "irqaffinity=2");
    let f = expect(&r, CheckId::Thp, None, Status::Warn);
    fix_has(f, "transparent_hugepage=never");
    fix_has(
        f,
        "echo never > /sys/kernel/mm/transparent_hugepage/enabled",
    );
    let f = expect(&r, CheckId::ThpDefrag, None, Status::Warn);
    fix_has(
        f,
        "echo madvise > /sys/kernel/mm/transparent_hugepage/defrag",
    );
    let f = expect(&r, CheckId::Swap, None, Status::Warn);
    assert!(
        f.observed.contains("/dev/sda2 (partition, 8.0 GiB)"),
        "{f:?}"
    );
    assert!(f.observed.contains("vm.swappiness=60"), "{f:?}");
    fix_has(f, "swapoff -a");
    fix_has(f, "sysctl -w vm.swappiness=1");
    let f = expect(&r, CheckId::Memlock, None, Status::Warn);
    assert!(f.observed.contains("8 MiB"), "{f:?}");
    fix_has(f, "LimitMEMLOCK=infinity");
    fix_has(f, "ulimit -l unlimited");
    let f = expect(&r, CheckId::NumaBalancing, None, Status::Warn);
    fix_has(f, "sysctl -w kernel.numa_balancing=0");
    let f = expect(&r, CheckId::Watchdog, None, Status::Warn);
    assert!(f.observed.contains("soft-lockup and NMI"), "{f:?}");
    fix_has(f, "sysctl -w kernel.watchdog_cpumask=2");
    expect(&r, CheckId::RtThrottling, None, Status::Ok);
    expect(&r, CheckId::Boost, None, Status::Ok);

    // The two hot cores are SMT siblings of each other.
    for (core, other) in [(0, 1), (1, 0)] {
        expect(&r, CheckId::CoreOnline, Some(core), Status::Ok);
        expect(&r, CheckId::CoreAllowed, Some(core), Status::Ok);
        fix_has(
            expect(&r, CheckId::Isolcpus, Some(core), Status::Warn),
            "isolcpus=managed_irq,domain,0-1",
        );
        fix_has(
            expect(&r, CheckId::NohzFull, Some(core), Status::Warn),
            "nohz_full=0-1",
        );
        fix_has(
            expect(&r, CheckId::RcuNocbs, Some(core), Status::Warn),
            "rcu_nocbs=0-1",
        );
        let f = expect(&r, CheckId::SmtSibling, Some(core), Status::Fail);
        assert!(f.observed.contains(&format!("cpu{other} runs")), "{f:?}");
        fix_has(f, "echo off > /sys/devices/system/cpu/smt/control");
        fix_has(f, &format!("cpu{core} and cpu{other} are SMT siblings"));
        let f = expect(&r, CheckId::Governor, Some(core), Status::Warn);
        assert!(f.observed.contains("powersave"), "{f:?}");
        fix_has(
            f,
            &format!("cpupower -c {core} frequency-set -g performance"),
        );
        fix_has(
            f,
            &format!("/sys/devices/system/cpu/cpu{core}/cpufreq/scaling_governor"),
        );
        let f = expect(&r, CheckId::CStates, Some(core), Status::Warn);
        assert!(f.observed.contains("C1E (10 µs), C6 (133 µs)"), "{f:?}");
        fix_has(
            f,
            &format!("echo 1 > /sys/devices/system/cpu/cpu{core}/cpuidle/state2/disable"),
        );
        fix_has(
            f,
            &format!("echo 1 > /sys/devices/system/cpu/cpu{core}/cpuidle/state3/disable"),
        );
        fix_has(f, "boot with intel_idle.max_cstate=1");
        let f = expect(&r, CheckId::IrqAffinity, Some(core), Status::Warn);
        fix_has(f, "echo 2 > /proc/irq/$i/smp_affinity_list");
        fix_has(f, "IRQBALANCE_BANNED_CPULIST=0-1");
    }
    let f = get(&r, CheckId::IrqAffinity, Some(0));
    assert!(f.observed.contains(": 0,1,8,24;"), "{f:?}");
    assert!(f.observed.contains("541 delivered here"), "{f:?}");
    fix_has(f, "for i in 0 1 8 24; do");
    let f = get(&r, CheckId::IrqAffinity, Some(1));
    fix_has(f, "for i in 0 1 8 24 25; do");
    fix_has(
        get(&r, CheckId::NohzFull, Some(0)),
        "cpu0 is usually the boot CPU",
    );
    expect(&r, CheckId::NumaNode, Some(0), Status::Ok);
    let f = expect(&r, CheckId::NumaNode, Some(1), Status::Warn);
    fix_has(f, "move risk+router to a core of node 0 (CPUs 0,2)");

    // Helper core 2: only the idle states matter.
    for check in CORE_CHECKS {
        let want = if check == CheckId::CStates {
            Status::Warn
        } else {
            Status::Ok
        };
        expect(&r, check, Some(2), want);
    }
    fix_has(
        get(&r, CheckId::CStates, Some(2)),
        "cpu2/cpuidle/state2/disable",
    );

    // Offline and absent cores: one FAIL each, nothing else.
    let f = expect(&r, CheckId::CoreOnline, Some(3), Status::Fail);
    assert!(f.observed.contains("offline"), "{f:?}");
    assert_eq!(
        f.fix.as_deref(),
        Some("echo 1 > /sys/devices/system/cpu/cpu3/online")
    );
    let f = expect(&r, CheckId::CoreOnline, Some(9), Status::Fail);
    assert!(f.observed.contains("does not exist"), "{f:?}");
    fix_has(f, "online CPUs 0-2");
    for core in [3, 9] {
        assert_eq!(
            r.findings.iter().filter(|f| f.core == Some(core)).count(),
            1
        );
    }

    // Every non-OK finding here has a fix.
    for f in &r.findings {
        if f.status != Status::Ok {
            assert!(f.fix.is_some(), "no fix: {f:?}");
        }
    }
    assert_eq!(r.worst(), Status::Fail);
    assert_eq!(r.exit_code(), 1);
    let (ok, warn, fail) = r.counts();
    assert_eq!(fail, 5, "tsc, 2 × smt, 2 × core-online");
    assert_eq!(ok + warn + fail, r.findings.len());

    let table = render_table(&r);
    assert!(table.contains("FAIL  smt-sibling     cpu0"), "{table}");
    assert!(table.contains("GRUB_CMDLINE_LINUX"), "{table}");
    assert!(
        table.ends_with(&format!("{ok} ok, {warn} warn, {fail} fail\n")),
        "{table}"
    );
    let line = summary_line(&r);
    assert!(
        line.starts_with(&format!("host check: {ok} ok, {warn} warn, 5 fail; FAIL tsc-flags, smt-sibling(cpu0,cpu1), core-online(cpu3,cpu9); WARN ")),
        "{line}"
    );
    assert!(!line.contains('\n'));
}

#[test]
fn untuned_box_with_mlockall_fails_memlock() {
    let opts = CheckOptions {
        mlockall: true,
        ..CheckOptions::default()
    };
    let r = run("untuned", &untuned_plan(), &opts);
    expect(&r, CheckId::Memlock, None, Status::Fail);
}

#[test]
fn json_output() {
    let r = check_host(
        &fixture("untuned"),
        &untuned_plan(),
        &CheckOptions::default(),
    );
    let v: serde_json::Value = serde_json::from_str(&render_json(&r)).unwrap();
    assert_eq!(v["exit_code"], 1);
    assert_eq!(v["worst"], "fail");
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), r.findings.len());
    let smt = findings
        .iter()
        .find(|f| f["check"] == "smt-sibling" && f["core"] == 0)
        .unwrap();
    assert_eq!(smt["status"], "fail");
    assert!(smt["fix"].as_str().unwrap().contains("smt/control"));
    let tsc = findings.iter().find(|f| f["check"] == "tsc-flags").unwrap();
    assert!(tsc["core"].is_null());
    // The Report itself serializes too.
    let plain = serde_json::to_value(&r).unwrap();
    assert_eq!(
        plain["findings"].as_array().unwrap().len(),
        r.findings.len()
    );
}

#[test]
fn every_online_cpu_hot() {
    let plan = HostPlan {
        cores: (0..3)
            .map(|c| PlannedCore::new(c, &["stage"], true))
            .collect(),
        allowed_cpus: None,
    };
    let r = run("untuned", &plan, &CheckOptions::default());
    let f = expect(&r, CheckId::Housekeeping, None, Status::Warn);
    fix_has(f, "leave at least one online CPU");
    for check in [CheckId::Isolcpus, CheckId::NohzFull] {
        let f = expect(&r, check, Some(2), Status::Warn);
        fix_has(f, "the kernel keeps one CPU for itself");
    }
    fix_has(
        get(&r, CheckId::IrqAffinity, Some(0)),
        "no online CPU is free",
    );
    fix_has(get(&r, CheckId::Watchdog, None), "kernel.nmi_watchdog=0");
}
