//! Typed errors of the WebSocket feed and the small reason tag that
//! travels in the event ring.

/// Everything that can end a connection attempt or a connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WsError {
    /// The URL is not `ws://host[:port]/path` or `wss://...`.
    #[error(
        "bad WebSocket URL {url:?}: {reason}; write ws://HOST:PORT/stream?streams=... or wss://..."
    )]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// TCP connect failed or timed out.
    #[error("cannot connect to {host}:{port}: {reason}; check the host, port and network")]
    Connect {
        /// Host.
        host: String,
        /// Port.
        port: u16,
        /// The underlying error.
        reason: String,
    },
    /// The server's certificate was rejected.
    #[error(
        "TLS certificate of {host} rejected: {reason}; the server is not who it claims to be or its CA is not trusted"
    )]
    Certificate {
        /// Host whose certificate failed.
        host: String,
        /// Why it was rejected.
        reason: String,
    },
    /// Any other TLS failure.
    #[error("TLS handshake with {host} failed: {reason}")]
    Tls {
        /// Host.
        host: String,
        /// The underlying error.
        reason: String,
    },
    /// The HTTP upgrade was refused or malformed.
    #[error(
        "WebSocket handshake with {host} failed: {reason}; check the URL path and stream names"
    )]
    Handshake {
        /// Host.
        host: String,
        /// The underlying error.
        reason: String,
    },
    /// A message exceeded the configured maximum size.
    #[error(
        "message larger than the {max} byte limit ({detail}); raise max_frame_bytes if the venue really sends this"
    )]
    Oversized {
        /// The configured limit.
        max: usize,
        /// tungstenite's description.
        detail: String,
    },
    /// A text message was not valid UTF-8.
    #[error("text frame is not valid UTF-8: {0}; the connection is dropped as RFC 6455 requires")]
    InvalidUtf8(String),
    /// The peer broke the WebSocket protocol (includes closing mid-frame).
    #[error("WebSocket protocol error: {0}")]
    Protocol(String),
    /// The socket failed.
    #[error("socket error: {0}")]
    Io(String),
    /// Nothing received for longer than the silence timeout.
    #[error("no data for {ms} ms (silence timeout); reconnecting")]
    Silence {
        /// The timeout that expired.
        ms: u64,
    },
}

/// Why a connection ended, as a small `Copy` tag for the event ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The server closed the connection (close frame or clean EOF).
    Closed,
    /// Silence timeout.
    Silence,
    /// Oversized message.
    Oversized,
    /// Invalid UTF-8 in a text message.
    InvalidUtf8,
    /// Protocol violation, including a close in the middle of a frame.
    Protocol,
    /// Socket error.
    Io,
    /// The connect, TLS or WebSocket handshake failed (see `FeedStats::last_error`).
    ConnectFailed,
    /// The server's certificate was rejected.
    Certificate,
    /// The task was told to stop.
    Stopped,
}

impl WsError {
    /// The event tag for this error.
    pub fn reason(&self) -> DisconnectReason {
        match self {
            WsError::Oversized { .. } => DisconnectReason::Oversized,
            WsError::InvalidUtf8(_) => DisconnectReason::InvalidUtf8,
            WsError::Protocol(_) => DisconnectReason::Protocol,
            WsError::Io(_) => DisconnectReason::Io,
            WsError::Silence { .. } => DisconnectReason::Silence,
            WsError::Certificate { .. } => DisconnectReason::Certificate,
            WsError::BadUrl { .. }
            | WsError::Connect { .. }
            | WsError::Tls { .. }
            | WsError::Handshake { .. } => DisconnectReason::ConnectFailed,
        }
    }
}
