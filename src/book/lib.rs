//! Book stage: L2 books, the venue ground-truth check, rkyv snapshots.

pub mod check;
pub mod l2;
mod mmap;
pub mod snapshot;
pub mod stage;
