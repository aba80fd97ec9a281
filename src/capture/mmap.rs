//! Read-only memory map of a capture file: the only `unsafe` in `capture`.
#![allow(unsafe_code)] // reason: mapping a file is inherently unsafe in Rust; kept to this one call.

use std::fs::File;
use std::path::Path;

/// A file mapped read-only into memory.
#[derive(Debug)]
pub(crate) struct MappedFile {
    map: memmap2::Mmap,
}

impl MappedFile {
    /// Maps `path` read-only.
    pub(crate) fn open(path: &Path) -> std::io::Result<MappedFile> {
        let file = File::open(path)?;
        // SAFETY: the map is read-only and captures are append-only: writers
        // (import, live record) only ever add bytes past the end that was
        // mapped, which this map never sees. The invariant the caller accepts
        // is that nobody truncates or rewrites a capture file while it is
        // being replayed (that would raise SIGBUS or change bytes under us).
        let map = unsafe { memmap2::Mmap::map(&file)? };
        Ok(MappedFile { map })
    }

    /// The mapped bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map
    }
}
