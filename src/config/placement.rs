//! The resolved placement: which core and idle policy each stage runs with.

use super::loaded::Config;
use super::schema::{IdlePolicy, StageName};

/// One pinned executor as the runtime starts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedExecutor {
    /// Logical CPU id the executor is pinned to.
    pub core: usize,
    /// Stages run as tasks on it, in the order the file lists them.
    pub stages: Vec<StageName>,
    /// What the executor does when idle.
    pub idle: IdlePolicy,
    /// Sleep per idle round in microseconds; 0 with `busy-spin`.
    pub park_us: u64,
}

/// Every executor, in file order (`executor[0]` first). A validated
/// [`Config`] places each stage on exactly one executor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// The executors.
    pub executors: Vec<ResolvedExecutor>,
}

impl Placement {
    /// The executor that runs `stage`, if any.
    pub fn executor_of(&self, stage: StageName) -> Option<&ResolvedExecutor> {
        self.executors.iter().find(|e| e.stages.contains(&stage))
    }

    /// The core `stage` runs on.
    ///
    /// # Panics
    /// When `stage` is not placed, which validation rules out: only a
    /// hand-built, unvalidated [`Config`] can get here.
    pub fn core_of(&self, stage: StageName) -> usize {
        match self.executor_of(stage) {
            Some(e) => e.core,
            None => panic!(
                "stage {} is not placed; validate the config before placing it",
                stage.name()
            ),
        }
    }

    /// True when `a` and `b` run on the same executor (their ring never
    /// crosses cores).
    pub fn shares_core(&self, a: StageName, b: StageName) -> bool {
        match (self.executor_of(a), self.executor_of(b)) {
            (Some(x), Some(y)) => x.core == y.core,
            _ => false,
        }
    }
}

impl Config {
    /// The resolved placement of every stage.
    pub fn placement(&self) -> Placement {
        let executors = self
            .affinity
            .executor
            .iter()
            .map(|e| ResolvedExecutor {
                core: e.core,
                stages: e.stages.clone(),
                idle: e.idle,
                park_us: match e.idle {
                    IdlePolicy::BusySpin => 0,
                    IdlePolicy::Park => e.park_us,
                },
            })
            .collect();
        Placement { executors }
    }
}
