//! Live market data (issue 3): the WebSocket feed client on the md stage's
//! glommio executor (`ws`, `tls`, its rings and counters in `channel`,
//! typed errors in `error`), reconnect delays (`backoff`), REST
//! depth snapshots on a pinned helper thread (`snapshot`), and the
//! [`source::LiveSource`] that hands both to the md stage as a
//! [`tickwire_core::source::FrameSource`].

mod backoff;
mod channel;
mod error;
mod snapshot;
mod source;
mod tls;
mod ws;

pub use backoff::BackoffConfig;
pub use channel::{FeedChannels, FeedEvent, FeedItem, FeedReceiver, FeedStats, feed_channel};
pub use error::{DisconnectReason, WsError};
pub use snapshot::{
    SnapshotClient, SnapshotConfig, SnapshotError, SnapshotRequest, SnapshotResponse,
};
pub use source::{LiveEvent, LiveSource};
pub use tls::client_config_with_roots;
pub use ws::{FeedConfig, StreamKind, WsUrl, combined_path, run_feed};
