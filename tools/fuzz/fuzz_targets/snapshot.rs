//! The rkyv book-snapshot reader (trailer check, then bytecheck
//! validation) on any bytes: an error or a valid archive, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tickwire_book::check_snapshot_bytes(data);
});
