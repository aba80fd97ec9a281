//! The real machine's `/`: must not panic and must report on every planned
//! core. Run with `--nocapture` to see the table.

use tickwire_hostcheck::{
    CheckOptions, HostPlan, HostRoot, PlannedCore, check_host, render_table, summary_line,
};

#[test]
fn this_machine() {
    // The shipped conf/affinity.toml: md+book on core 0 with the feed
    // executor, risk+router on core 1 with the REST threads, both busy-spin.
    let plan = HostPlan {
        cores: vec![
            PlannedCore::new(0, &["md+book", "feed thread"], true),
            PlannedCore::new(
                1,
                &["risk+router", "router thread", "snapshot thread"],
                true,
            ),
        ],
        allowed_cpus: None,
    };
    let report = check_host(&HostRoot::system(), &plan, &CheckOptions::default());
    println!("{}", summary_line(&report));
    println!("{}", render_table(&report));
    for c in &plan.cores {
        assert!(
            report.findings.iter().any(|f| f.core == Some(c.core)),
            "no finding for core {}",
            c.core
        );
    }
    assert!(report.exit_code() <= 1);
}
