//! Market-data stage: frame intake, Binance decoding and per-instrument
//! snapshot + diff sequencing. `live` holds the WebSocket feed client, the
//! REST snapshot fetcher and the live frame source; `status` publishes each
//! book's sync state for the operator.

pub mod binance;
pub mod feed;
pub mod frame;
pub mod instruments;
pub mod stage;
pub mod status;
pub mod sync;
