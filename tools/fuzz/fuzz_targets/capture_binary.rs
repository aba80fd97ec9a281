//! The binary capture reader on any bytes behind a valid magic: a typed
//! error or frames inside the buffer, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickwire_capture::{Capture, InMemorySource};

fuzz_target!(|data: &[u8]| {
    // Force the binary path: the format's magic, then the fuzzer's bytes.
    let mut bytes = b"TWCAP\0\r\n".to_vec();
    bytes.extend_from_slice(data);
    let src = InMemorySource {
        name: "fuzz.twcap".into(),
        market: None,
        bytes,
    };
    if let Ok(c) = Capture::from_sources(vec![src]) {
        let n = c.iter().count();
        assert_eq!(n, c.len());
    }
});
