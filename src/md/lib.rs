//! Market-data stage: frame intake, Binance decoding and per-instrument
//! snapshot + diff sequencing. `live` holds the WebSocket feed client, the
//! REST snapshot fetcher and the live frame source; `status` publishes each
//! book's sync state for the operator.

mod binance;
pub mod feed;
mod frame;
mod instruments;
mod stage;
mod status;
mod sync;

pub use binance::{Decoder, MAX_LEVELS_PER_SIDE, MAX_NESTING};
pub use frame::{DecodeError, DecodeErrorKind, DepthDiff, DepthSnapshot, Frame, OtherKind};
pub use stage::{MdReport, MdStage, OnFull};
pub use status::{InstrumentStatus, MdStatus};
pub use sync::{FrameStamps, MAX_BUFFERED_DIFFS, MAX_BUFFERED_LEVELS, Sequencer, SyncStats};
