//! The Binance decoder on any bytes: never panics, and every frame it
//! accepts is well formed (prices positive, quantities not negative,
//! levels within the per-side limit).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickwire_md::{Decoder, Frame};

fuzz_target!(|data: &[u8]| {
    let mut d = Decoder::new();
    if let Ok(frame) = d.decode(data) {
        let levels = match frame {
            Frame::Depth(x) => [x.bids, x.asks],
            Frame::Snapshot(x) => [x.bids, x.asks],
            _ => return,
        };
        for side in levels {
            assert!(side.len() <= tickwire_md::MAX_LEVELS_PER_SIDE);
            for l in side {
                assert!(l.px.0 > 0, "non-positive price accepted");
                assert!(l.qty.0 >= 0, "negative quantity accepted");
            }
        }
    }
});
