//! Executors: stages on pinned glommio executors, failure propagation.

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tickwire_config::schema::{IdlePolicy, StageName};
use tickwire_core::stage::{Progress, Stage, StageError};
use tickwire_runtime::executors::{self, ExecutorPlan, RunError};
use tickwire_runtime::host;

/// A stage that waits for ever (like a consumer whose producer died).
struct Waits(StageName);

impl Stage for Waits {
    type Report = ();
    fn name(&self) -> StageName {
        self.0
    }
    fn poll(&mut self) -> Result<Progress, StageError> {
        Ok(Progress::Idle)
    }
    fn finish(self) {}
}

/// A stage that fails after a few polls, by error or by panic.
struct Fails {
    polls: u32,
    panic: bool,
}

impl Stage for Fails {
    type Report = ();
    fn name(&self) -> StageName {
        StageName::Md
    }
    fn poll(&mut self) -> Result<Progress, StageError> {
        self.polls += 1;
        if self.polls < 100 {
            return Ok(Progress::Busy);
        }
        if self.panic {
            panic!("decoder exploded");
        }
        Err(StageError::Failed {
            stage: StageName::Md,
            source: "capture file vanished".into(),
        })
    }
    fn finish(self) {}
}

fn run_with_failing_stage(panic: bool) -> RunError {
    let _guard = common::pipeline_lock();
    let plans = vec![
        ExecutorPlan {
            core: 0,
            idle: IdlePolicy::BusySpin,
            park_us: 0,
            stages: vec![
                host(Fails { polls: 0, panic }).0,
                host(Waits(StageName::Book)).0,
            ],
        },
        ExecutorPlan {
            core: 1.min(core_affinity::get_core_ids().map_or(1, |c| c.len()) - 1),
            idle: IdlePolicy::Park,
            park_us: 50,
            stages: vec![host(Waits(StageName::Risk)).0],
        },
    ];
    executors::run(plans, Arc::new(AtomicBool::new(false)))
        .expect_err("a failing stage must fail the run")
}

#[test]
fn failing_stage_stops_every_executor_and_reports_its_own_error() {
    let e = run_with_failing_stage(false);
    assert_eq!(e.to_string(), "stage md failed: capture file vanished");
    assert!(matches!(
        e,
        RunError::Stage(StageError::Failed {
            stage: StageName::Md,
            ..
        })
    ));
}

#[test]
fn panicking_stage_is_a_stage_error_not_a_hang() {
    let e = run_with_failing_stage(true);
    assert!(
        matches!(&e, RunError::Stage(StageError::Panicked { stage: StageName::Md, message }) if message == "decoder exploded"),
        "{e}"
    );
}
