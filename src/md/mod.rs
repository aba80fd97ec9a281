//! Market-data stage: frame intake, Binance decoding and per-instrument
//! snapshot + diff sequencing.

pub mod binance;
pub mod frame;
pub mod instruments;
pub mod source;
pub mod stage;
pub mod sync;
