//! The configuration loader on any pair of texts: a typed error or a
//! validated configuration, never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The first NUL splits the input into the two files.
    let (aff, app) = text.split_once('\0').unwrap_or((&text, ""));
    let shipped_app = include_str!("../../../conf/tickwire.toml");
    let shipped_aff = include_str!("../../../conf/affinity.toml");
    for (a, b) in [(aff, app), (aff, shipped_app), (shipped_aff, aff)] {
        let _ = tickwire_config::load_texts(
            Path::new("affinity.toml"),
            a,
            Path::new("tickwire.toml"),
            b,
            &[0, 1],
        );
    }
});
