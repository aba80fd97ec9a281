//! The fast scanner against the general sonic-rs path: whenever the
//! scanner accepts a frame, the general path must decode it to exactly the
//! same frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickwire_md::Decoder;

fuzz_target!(|data: &[u8]| {
    let mut fast = Decoder::new();
    let mut general = Decoder::new();
    if let Some(f) = fast.decode_fast(data) {
        let g = general.decode_general(data);
        assert_eq!(Ok(f), g, "fast and general paths disagree");
    }
});
