//! The only `unsafe` of the book module: mapping a snapshot file and
//! re-borrowing its already validated rkyv root.
#![allow(unsafe_code)] // memmap2::Mmap::map and rkyv::access_unchecked; each block states its invariant.

use std::fs::File;
use std::io;

use memmap2::Mmap;
use rkyv::rancor;

use super::format::ArchivedSnapshotFile;

/// Maps `file` read-only.
pub(super) fn map_read_only(file: &File) -> io::Result<Mmap> {
    // SAFETY: the mapping is read-only and owned by the caller. tickwire never
    // modifies a snapshot in place (writers write a temporary file and rename
    // it over the old one, which leaves a mapped inode intact); another
    // process truncating the file underneath is outside our control, as for
    // any mmap reader.
    unsafe { Mmap::map(file) }
}

/// A read-only mapping whose bytes passed rkyv/bytecheck validation as an
/// [`ArchivedSnapshotFile`].
pub(super) struct ValidatedMap {
    map: Mmap,
    /// Length of the archive at the start of the mapping (a trailer follows).
    len: usize,
}

impl ValidatedMap {
    /// Validates `map[..len]` once as an archive; corrupt bytes are an error.
    pub(super) fn new(map: Mmap, len: usize) -> Result<ValidatedMap, rancor::Error> {
        rkyv::access::<ArchivedSnapshotFile, rancor::Error>(map.get(..len).unwrap_or(&[]))?;
        Ok(ValidatedMap { map, len })
    }

    /// The archived root, without validating again.
    pub(super) fn root(&self) -> &ArchivedSnapshotFile {
        let bytes = self.map.get(..self.len).unwrap_or(&[]);
        // SAFETY: `new` validated exactly `map[..len]` with `rkyv::access`
        // (bytecheck) and is the only constructor (so `..len` is in bounds and
        // `bytes` is that same slice); the mapping is immutable and
        // page-aligned, so the root is still valid and aligned.
        unsafe { rkyv::access_unchecked::<ArchivedSnapshotFile>(bytes) }
    }
}
