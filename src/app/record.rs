//! `tickwire record`: a live feed (one symbol's combined streams plus REST
//! depth snapshots) written to the binary capture format, so `replay` can
//! run it later exactly as received.
//!
//! The feed task (glommio, io_uring) and the writer share one executor; the
//! receive timestamp of every frame is taken by the feed task when the read
//! completes, so the writer's pace never distorts the recording. Snapshots
//! are fetched on every (re)connect and recorded as frames of the same
//! source, as in the hftbacktest captures, so a replay resyncs where the
//! live book did. One symbol per file: the file header names it, which is
//! how a replay assigns the symbol-less REST snapshots.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tickwire_capture::CaptureError;
use tickwire_capture::{CaptureWriter, Header};
use tickwire_core::source::{FrameSource, Next};
use tickwire_core::types::{Market, SymbolName};
use tickwire_md::feed::LiveSource;
use tickwire_md::feed::{self, FeedConfig, FeedStats, StreamKind, feed_channel, run_feed};
use tickwire_md::feed::{SnapshotClient, SnapshotConfig};

/// What to record and where.
#[derive(Clone, Debug)]
pub struct RecordOptions {
    /// WebSocket base, e.g. `wss://stream.binance.com:9443` or `ws://127.0.0.1:9000`.
    pub ws_base: String,
    /// REST base for depth snapshots, e.g. `https://api.binance.com`.
    pub rest_base: String,
    /// Market of the symbol.
    pub market: Market,
    /// Venue symbol.
    pub symbol: SymbolName,
    /// Output file (binary capture).
    pub out: PathBuf,
    /// Stop after this many frames.
    pub max_frames: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Core to pin the feed executor to (`None`: unpinned).
    pub core: Option<usize>,
}

/// What a recording did.
#[derive(Clone, Debug, Default)]
pub struct RecordStats {
    /// Frames written (including snapshots).
    pub frames: u64,
    /// REST snapshots written.
    pub snapshots: u64,
    /// Reconnects (each followed by a fresh snapshot).
    pub resyncs: u64,
    /// Bytes written to the file.
    pub file_bytes: u64,
    /// Last feed error, if any (reconnects retried it).
    pub last_error: Option<String>,
}

impl std::fmt::Display for RecordStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "recorded {} frames ({} snapshots, {} resyncs), {} bytes",
            self.frames, self.snapshots, self.resyncs, self.file_bytes
        )?;
        if let Some(e) = &self.last_error {
            write!(f, "; last feed error: {e}")?;
        }
        Ok(())
    }
}

/// Why a recording failed.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The output file could not be written.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The snapshot helper or the executor could not start.
    #[error("cannot start the recorder: {0}")]
    Start(String),
}

fn wall_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Records until `stop` is set, the frame or time budget is spent.
pub fn record(opts: RecordOptions, stop: Arc<AtomicBool>) -> Result<RecordStats, RecordError> {
    let base = opts.rest_base.clone();
    let (spot_base, usdm_base, coinm_base) = match opts.market {
        Market::Spot => (Some(base), None, None),
        Market::Usdm => (None, Some(base), None),
        Market::Coinm => (None, None, Some(base)),
    };
    let snapshots = SnapshotClient::spawn(SnapshotConfig {
        spot_base,
        usdm_base,
        coinm_base,
        ..SnapshotConfig::default()
    })
    .map_err(|e| RecordError::Start(e.to_string()))?;
    let mut writer = CaptureWriter::create(
        &opts.out,
        &Header {
            market: Some(opts.market),
            symbol: Some(opts.symbol),
        },
    )?;
    let symbol_lower = opts.symbol.as_str().to_lowercase();
    let path = feed::combined_path(
        opts.market,
        &[symbol_lower.as_str()],
        &[StreamKind::Depth, StreamKind::BookTicker, StreamKind::Trade],
    );
    let url = format!("{}{}", opts.ws_base.trim_end_matches('/'), path);
    let placement = match opts.core {
        Some(c) => glommio::Placement::Fixed(c),
        None => glommio::Placement::Unbound,
    };
    let feed_stats = Arc::new(FeedStats::default());
    let stats_for_task = Arc::clone(&feed_stats);
    let (market, symbol) = (opts.market, opts.symbol);
    let (max_frames, deadline) = (opts.max_frames, opts.duration.map(|d| Instant::now() + d));
    let handle = glommio::LocalExecutorBuilder::new(placement)
        .name("tickwire-record")
        .spawn(move || async move {
            let feed_stop = Arc::new(AtomicBool::new(false));
            let (tx, rx) = feed_channel(4096, 64 << 10);
            let mut src = LiveSource::new(Some(snapshots));
            let conn = src.add_connection(rx, market, vec![symbol]);
            let feed = glommio::spawn_local(run_feed(
                FeedConfig::new(url, conn),
                tx,
                stats_for_task,
                Arc::clone(&feed_stop),
            ));
            let mut stats = RecordStats::default();
            let result = loop {
                let done = stop.load(Ordering::Relaxed)
                    || max_frames.is_some_and(|m| stats.frames >= m)
                    || deadline.is_some_and(|d| Instant::now() >= d);
                if done {
                    break Ok(());
                }
                match src.next_frame(0) {
                    Next::Frame {
                        rx_ns,
                        bytes,
                        symbol,
                        ..
                    } => {
                        // Snapshots carry no receive time of their own.
                        let rx = if rx_ns == 0 { wall_ns() } else { rx_ns };
                        if let Err(e) = writer.append(rx, bytes) {
                            break Err(e);
                        }
                        stats.frames += 1;
                        if symbol.is_some() {
                            stats.snapshots += 1;
                        }
                    }
                    Next::NotYet => {
                        while src.take_control().is_some() {
                            stats.resyncs += 1;
                        }
                        glommio::timer::sleep(Duration::from_millis(1)).await;
                    }
                    Next::End => break Ok(()),
                }
            };
            feed_stop.store(true, Ordering::Relaxed);
            feed.await;
            result.and_then(|()| {
                stats.file_bytes = writer.finish()?;
                Ok(stats)
            })
        })
        .map_err(|e| RecordError::Start(e.to_string()))?;
    let mut stats = handle
        .join()
        .map_err(|e| RecordError::Start(e.to_string()))??;
    stats.last_error = feed_stats.last_error().map(|e| e.to_string());
    Ok(stats)
}
