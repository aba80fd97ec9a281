//! The rings between a feed task and the md stage (frames with pooled
//! buffers, lifecycle events) and the feed's counters.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::{DisconnectReason, WsError};

/// Connection lifecycle news, in order with the frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedEvent {
    /// Connected; `session` counts connections from 0.
    Connected {
        /// Connection index.
        conn: u16,
        /// 0 for the first connection, then 1, 2, ...
        session: u32,
    },
    /// A reconnect happened: every book of this connection must resync.
    /// Sent right after `Connected` with `session > 0`, before any frame of
    /// the new session.
    Resync {
        /// Connection index.
        conn: u16,
        /// The new session.
        session: u32,
    },
    /// A connection (or attempt) ended.
    Disconnected {
        /// Connection index.
        conn: u16,
        /// Why.
        reason: DisconnectReason,
    },
    /// The task ended (stop flag or `max_attempts`); no more items follow.
    Stopped {
        /// Connection index.
        conn: u16,
    },
}

/// What travels from the WS task to the md stage.
#[derive(Debug)]
pub enum FeedItem {
    /// One message's bytes; return `buf` through [`FeedReceiver::free`].
    Frame {
        /// Raw TSC when the read completed.
        tsc: u64,
        /// Wall clock (ns since the Unix epoch) at the same moment, for recording.
        wall_ns: u64,
        /// Message payload (pooled buffer).
        buf: Vec<u8>,
    },
    /// Lifecycle news.
    Event(FeedEvent),
}

/// Task side of a feed's rings.
pub struct FeedChannels {
    pub(crate) items: rtrb::Producer<FeedItem>,
    pub(crate) free: rtrb::Consumer<Vec<u8>>,
}

/// md side of a feed's rings.
pub struct FeedReceiver {
    /// Frames and events, in order.
    pub items: rtrb::Consumer<FeedItem>,
    /// Where consumed frame buffers go back to the task.
    pub free: rtrb::Producer<Vec<u8>>,
}

/// A feed's ring pair holding `capacity` items, with `capacity + 1`
/// buffers of `buf_capacity` bytes pre-allocated in the pool.
pub fn feed_channel(capacity: usize, buf_capacity: usize) -> (FeedChannels, FeedReceiver) {
    let capacity = capacity.max(1);
    let (items_tx, items_rx) = rtrb::RingBuffer::new(capacity);
    let (mut free_tx, free_rx) = rtrb::RingBuffer::new(capacity + 2);
    for _ in 0..=capacity {
        let _ = free_tx.push(Vec::with_capacity(buf_capacity));
    }
    (
        FeedChannels {
            items: items_tx,
            free: free_rx,
        },
        FeedReceiver {
            items: items_rx,
            free: free_tx,
        },
    )
}

/// Counters of one feed, readable from any thread.
#[derive(Debug, Default)]
pub struct FeedStats {
    /// Messages delivered.
    pub frames: AtomicU64,
    /// Payload bytes delivered.
    pub bytes: AtomicU64,
    /// Successful connections.
    pub connects: AtomicU64,
    /// Failed connection attempts.
    pub connect_failures: AtomicU64,
    /// Connections ended by the server closing.
    pub closes: AtomicU64,
    /// Connections ended by the silence timeout.
    pub silence_timeouts: AtomicU64,
    /// Oversized messages (each ends its connection).
    pub oversized: AtomicU64,
    /// Text messages with invalid UTF-8 (each ends its connection).
    pub invalid_utf8: AtomicU64,
    /// Protocol violations, including a close mid-frame.
    pub protocol_errors: AtomicU64,
    /// Socket errors.
    pub io_errors: AtomicU64,
    /// Certificate rejections.
    pub certificate_errors: AtomicU64,
    /// Pings received from the server (each answered with a pong).
    pub pings_received: AtomicU64,
    /// Pings the client sent.
    pub pings_sent: AtomicU64,
    /// Pongs received.
    pub pongs_received: AtomicU64,
    /// Frames that found the md ring full and waited for room (the socket
    /// is not read meanwhile; nothing is dropped).
    pub ring_full_waits: AtomicU64,
    /// Frames that needed a fresh buffer because the pool was empty.
    pub pool_misses: AtomicU64,
    last_error: Mutex<Option<WsError>>,
}

impl FeedStats {
    /// The most recent error, if any.
    pub fn last_error(&self) -> Option<WsError> {
        self.last_error.lock().ok().and_then(|g| g.clone())
    }

    pub(crate) fn note_error(&self, e: &WsError) {
        let counter = match e.reason() {
            DisconnectReason::Oversized => &self.oversized,
            DisconnectReason::InvalidUtf8 => &self.invalid_utf8,
            DisconnectReason::Protocol => &self.protocol_errors,
            DisconnectReason::Io => &self.io_errors,
            DisconnectReason::Silence => &self.silence_timeouts,
            DisconnectReason::Certificate => &self.certificate_errors,
            DisconnectReason::ConnectFailed => &self.connect_failures,
            DisconnectReason::Closed | DisconnectReason::Stopped => &self.closes,
        };
        bump(counter);
        if e.reason() == DisconnectReason::Certificate {
            bump(&self.connect_failures);
        }
        if let Ok(mut g) = self.last_error.lock() {
            *g = Some(e.clone());
        }
    }
}

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}
