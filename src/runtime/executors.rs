//! One glommio `LocalExecutor` per configured core, pinned with
//! `Placement::Fixed`; each stage placed on it runs as a task.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tickwire_config::schema::IdlePolicy;
use tickwire_core::stage::{Progress, StageError, StageName};

use crate::hosted::Hosted;
use crate::idle::Idler;

/// One executor to start: its core, policy and the stages it hosts.
pub struct ExecutorPlan {
    /// Logical CPU to pin to.
    pub core: usize,
    /// Idle policy.
    pub idle: IdlePolicy,
    /// Park duration for [`IdlePolicy::Park`].
    pub park_us: u64,
    /// Stages to run as tasks.
    pub stages: Vec<Box<dyn Hosted>>,
}

/// Why the run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// An executor could not be created or pinned.
    #[error(
        "cannot start the executor on core {core}: {message}. Check `executor[].core` in conf/affinity.toml against `nproc`/taskset"
    )]
    Executor {
        /// Core it was meant for.
        core: usize,
        /// glommio's error.
        message: String,
    },
    /// A stage failed.
    #[error(transparent)]
    Stage(#[from] StageError),
    /// A stage ended without leaving its report (it was never placed).
    #[error("stage {stage} did not report; check that every stage is placed in conf/affinity.toml")]
    NoReport {
        /// The stage.
        stage: StageName,
    },
}

/// Polls a stage, turning a panic into a [`StageError`].
fn poll_guarded(stage: &mut Box<dyn Hosted>, name: StageName) -> Result<Progress, StageError> {
    // A panicking stage is a failed stage: the others are told to stop
    // instead of waiting forever on its rings.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| stage.poll())).unwrap_or_else(
        |panic| {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panicked".into());
            Err(StageError::Panicked {
                stage: name,
                message,
            })
        },
    )
}

/// The task of one executor: polls its stages in turn, in placement order,
/// until every one is done. Co-hosted stages hand over by returning from
/// `poll`, not through the scheduler (see docs/performance.md, "co-hosted
/// stages"); the executor still gets control back now and then for its own
/// housekeeping, and with `park` the task sleeps when all stages are idle.
async fn drive(
    stages: Vec<Box<dyn Hosted>>,
    mut idler: Idler,
    abort: Arc<AtomicBool>,
) -> Vec<StageError> {
    let mut live: Vec<Option<Box<dyn Hosted>>> = stages.into_iter().map(Some).collect();
    let mut errors = Vec::new();
    let mut remaining = live.len();
    while remaining > 0 {
        let mut busy = false;
        for slot in live.iter_mut() {
            let Some(stage) = slot else { continue };
            let name = stage.name();
            if abort.load(Ordering::Relaxed) {
                if let Some(s) = slot.take() {
                    s.finish();
                }
                errors.push(StageError::Aborted { stage: name });
                remaining -= 1;
                continue;
            }
            match poll_guarded(stage, name) {
                Ok(Progress::Done) => {
                    if let Some(s) = slot.take() {
                        s.finish();
                    }
                    remaining -= 1;
                    busy = true;
                }
                Ok(Progress::Busy) => busy = true,
                Ok(Progress::Idle) => {}
                Err(e) => {
                    abort.store(true, Ordering::Relaxed);
                    slot.take();
                    errors.push(e);
                    remaining -= 1;
                }
            }
        }
        if busy {
            idler.after_busy().await;
        } else {
            idler.after_idle().await;
        }
    }
    errors
}

/// Starts every executor and runs the stages to completion; each stage
/// leaves its report in its slot. Blocks the calling thread until every
/// executor has finished.
pub fn run(plans: Vec<ExecutorPlan>, abort: Arc<AtomicBool>) -> Result<(), RunError> {
    let total = plans.len();
    let mut handles = Vec::with_capacity(total);
    for plan in plans {
        let core = plan.core;
        let task_abort = abort.clone();
        let (idle, park_us) = (plan.idle, plan.park_us);
        let stages = plan.stages;
        let handle = glommio::LocalExecutorBuilder::new(glommio::Placement::Fixed(core))
            .name(&format!("tickwire-core{core}"))
            .spawn(
                move || async move { drive(stages, Idler::new(idle, park_us), task_abort).await },
            )
            .map_err(|e| RunError::Executor {
                core,
                message: e.to_string(),
            });
        match handle {
            Ok(h) => handles.push((core, h)),
            Err(e) => {
                abort.store(true, Ordering::Relaxed);
                for (_, h) in handles {
                    let _ = h.join();
                }
                return Err(e);
            }
        }
    }
    let mut errors: Vec<RunError> = Vec::new();
    for (core, h) in handles {
        match h.join() {
            Ok(failed) => errors.extend(failed.into_iter().map(RunError::Stage)),
            Err(e) => errors.push(RunError::Executor {
                core,
                message: e.to_string(),
            }),
        }
    }
    // Report the root cause, not the aborts it caused in other stages.
    let is_abort = |e: &RunError| matches!(e, RunError::Stage(s) if s.is_abort());
    match errors.iter().position(|e| !is_abort(e)) {
        Some(i) => Err(errors.swap_remove(i)),
        None => errors.pop().map_or(Ok(()), Err),
    }
}
