//! Live market data (issue 3): the WebSocket feed client on the md stage's
//! glommio executor ([`ws`], [`tls`], its rings and counters in [`channel`],
//! typed errors in [`error`]), reconnect delays ([`backoff`]), REST
//! depth snapshots on a pinned helper thread ([`snapshot`]), and the
//! [`source::LiveSource`] that hands both to the md stage as a
//! [`tickwire_core::source::FrameSource`].

pub mod backoff;
pub mod channel;
pub mod error;
pub mod snapshot;
pub mod source;
pub mod tls;
pub mod ws;
