//! The text capture reader (plain or gzip) and its replay on any bytes:
//! a typed error or frames, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickwire_capture::Capture;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = Capture::from_text_bytes("fuzz", data.to_vec()) {
        for f in c.iter() {
            assert!(f.bytes.len() <= data.len().max(1) * 1024);
        }
    }
});
