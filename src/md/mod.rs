//! Market-data stage: frame intake, Binance decoding and per-instrument
//! snapshot + diff sequencing. `live` holds the WebSocket feed client and
//! the REST snapshot fetcher (tested on loopback, not yet wired into a live
//! pipeline).

pub mod binance;
pub mod frame;
pub mod instruments;
pub mod live;
pub mod source;
pub mod stage;
pub mod sync;
