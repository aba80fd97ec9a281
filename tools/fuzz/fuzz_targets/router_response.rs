//! The order-entry answer parser on any text: a typed error or an order,
//! never a panic (and no secret can be in it: the parser never sees one).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = tickwire_router::binance::parse_order(&text);
});
