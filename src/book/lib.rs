//! Book stage: L2 books, the venue ground-truth check, rkyv snapshots.

mod check;
mod format;
mod l2;
mod mmap;
mod snapshot;
mod stage;

pub use check::{TickerCheck, Top};
pub use l2::{L2Book, WINDOW_LOG2};
pub use snapshot::{MappedSnapshot, SnapshotError, check_snapshot_bytes, print_top};
pub use stage::{BookReport, BookRings, BookStage, BookState, SnapshotPolicy};
