//! A stage as an executor hosts it: type-erased behind [`Hosted`], with its
//! report delivered at the end into a [`ReportSlot`] that the code which
//! built the stage keeps. Executors host any mix of stages; only the
//! pipeline knows which stages (and report types) exist.

use std::sync::{Arc, Mutex, PoisonError};

use tickwire_core::stage::{Progress, Stage, StageError, StageName};

/// A stage an executor can poll without knowing its report type.
pub trait Hosted: Send {
    /// Which stage this is.
    fn name(&self) -> StageName;
    /// Does a bounded amount of work (see [`Stage::poll`]).
    fn poll(&mut self) -> Result<Progress, StageError>;
    /// Ends the stage and delivers its report to its slot.
    fn finish(self: Box<Self>);
}

/// Where a hosted stage leaves its report. Written once, at the end of the
/// run (never on the hot path), read after the executors have joined.
pub struct ReportSlot<R>(Arc<Mutex<Option<R>>>);

impl<R> ReportSlot<R> {
    /// The report, once the stage has finished (`None` if it never did).
    pub fn take(&self) -> Option<R> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

struct WithSlot<S: Stage> {
    stage: S,
    slot: Arc<Mutex<Option<S::Report>>>,
}

impl<S: Stage> Hosted for WithSlot<S> {
    #[inline]
    fn name(&self) -> StageName {
        self.stage.name()
    }

    #[inline]
    fn poll(&mut self) -> Result<Progress, StageError> {
        self.stage.poll()
    }

    fn finish(self: Box<Self>) {
        let WithSlot { stage, slot } = *self;
        let report = stage.finish();
        *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(report);
    }
}

/// Wraps `stage` for an executor and returns the slot its report will be
/// left in.
pub fn host<S: Stage>(stage: S) -> (Box<dyn Hosted>, ReportSlot<S::Report>) {
    let slot = Arc::new(Mutex::new(None));
    let hosted = Box::new(WithSlot {
        stage,
        slot: Arc::clone(&slot),
    });
    (hosted, ReportSlot(slot))
}
