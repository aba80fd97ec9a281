//! The market-data stage: takes frames from a [`FrameSource`], stamps
//! them, decodes, sequences per instrument and pushes normalized events to
//! the book stage.
//!
//! Events of one frame are staged in a reused buffer and pushed to the ring
//! in as few chunks as fit, so a full ring never blocks the executor (the
//! book stage may share it). With [`OnFull::Wait`] the next frame is not
//! decoded until the staged events are delivered (lossless replay); with
//! [`OnFull::DropAndResync`] undeliverable events are dropped, the
//! instruments they belonged to are marked stale and resynced, and the drop
//! is counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use quanta::Clock;

use crate::binance::Decoder;
use crate::frame::{DecodeErrorKind, Frame, OtherKind};
use crate::instruments::{Instruments, Lookup};
use crate::status::MdStatus;
use crate::sync::{FrameStamps, Sequencer, SyncStats};
use tickwire_core::counts::Counts;
use tickwire_core::hist::TscHist;
use tickwire_core::msg::{BookRequest, MdEvent, StaleReason};
use tickwire_core::source::{FrameSource, Next, SourceControl};
use tickwire_core::stage::StageName;
use tickwire_core::stage::{Progress, Stage, StageError};
use tickwire_core::types::{Level, Market, SymbolId, SymbolName, Tsc};

/// What the md stage does when the md -> book ring is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFull {
    /// Hold the remaining events and stop taking frames until they fit.
    Wait,
    /// Drop them, mark the affected books stale and resync.
    DropAndResync,
}

/// Per-instrument counters.
#[derive(Clone, Debug)]
pub struct InstrumentReport {
    /// Dense id.
    pub symbol: SymbolId,
    /// Market.
    pub market: Market,
    /// Venue symbol.
    pub name: SymbolName,
    /// Sequencing counters.
    pub sync: SyncStats,
    /// Depth diffs seen.
    pub diffs: u64,
    /// Book tickers seen.
    pub tickers: u64,
    /// Trades seen.
    pub trades: u64,
    /// Breaks in consecutive trade ids (`trade` events).
    pub trade_id_gaps: u64,
    /// Last trade id seen.
    pub last_trade_id: Option<u64>,
}

/// The md stage's end-of-run report.
#[derive(Clone, Debug, Default)]
pub struct MdReport {
    /// Frames taken from the source.
    pub frames: u64,
    /// Frame bytes taken.
    pub bytes: u64,
    /// Decode errors by kind.
    pub decode_errors: Counts<DecodeErrorKind>,
    /// First few decode errors, with the frame index, for the report.
    pub first_errors: Vec<(u64, String)>,
    /// Skipped event types.
    pub skipped: Counts<OtherKind>,
    /// REST snapshots whose instrument could not be told.
    pub orphan_snapshots: u64,
    /// Frames whose instrument could not be registered.
    pub unregistered: u64,
    /// Times a push found the md -> book ring full.
    pub ring_full: u64,
    /// Events dropped on a full ring (drop policy only).
    pub dropped_events: u64,
    /// Per instrument.
    pub instruments: Vec<InstrumentReport>,
    /// Decode latency: frame received -> decoded.
    pub decode_latency: TscHist,
    /// TSC when the first frame was taken (start of the active run).
    pub started: Tsc,
    /// Stage end.
    pub ended: Tsc,
}

/// How many decode errors are kept verbatim for the report.
const KEPT_ERRORS: usize = 8;

/// Everything the md stage mutates per frame except the source and the
/// decoder (kept apart so a decoded frame can borrow the decoder while
/// events are staged here).
struct MdCore {
    instruments: Instruments,
    sequencers: Vec<Sequencer>,
    per_instrument: Vec<InstrumentReport>,
    /// Last instrument resolved per source, for symbol-less snapshots.
    source_last: Vec<Option<SymbolId>>,
    staged: Vec<MdEvent>,
    report: MdReport,
    /// Instruments that went stale since the source was last told (a live
    /// source fetches them a fresh snapshot).
    want_snapshot: Vec<SymbolId>,
    /// Sync state last published per instrument.
    published: Vec<bool>,
    status: Arc<MdStatus>,
}

/// Where a frame came from.
#[derive(Clone, Copy)]
struct Origin {
    source: u16,
    market: Option<Market>,
    symbol: Option<SymbolName>,
}

impl MdCore {
    fn instrument(&mut self, market: Market, name: &SymbolName, source: u16) -> Option<SymbolId> {
        let id = self.register(market, name)?;
        let slot = usize::from(source);
        if self.source_last.len() <= slot {
            self.source_last.resize(slot + 1, None);
        }
        self.source_last[slot] = Some(id);
        Some(id)
    }

    /// Finds or registers an instrument (announcing a new one downstream).
    fn register(&mut self, market: Market, name: &SymbolName) -> Option<SymbolId> {
        let id = match self.instruments.resolve(market, name) {
            Lookup::Known(id) => id,
            Lookup::New(id) => {
                self.sequencers.push(Sequencer::new(id, market));
                self.per_instrument.push(InstrumentReport {
                    symbol: id,
                    market,
                    name: *name,
                    sync: SyncStats::default(),
                    diffs: 0,
                    tickers: 0,
                    trades: 0,
                    trade_id_gaps: 0,
                    last_trade_id: None,
                });
                self.staged.push(MdEvent::Instrument {
                    symbol: id,
                    market,
                    name: *name,
                });
                id
            }
            Lookup::Full => {
                self.report.unregistered += 1;
                return None;
            }
        };
        Some(id)
    }

    /// Instrument of an event frame: the source's market when known, else
    /// told by the frame (futures diffs carry `pu`; COIN-M symbols have `_`).
    fn event_instrument(&mut self, o: Origin, has_pu: bool, name: &SymbolName) -> Option<SymbolId> {
        let market = match o.market {
            Some(m) => m,
            None if has_pu && name.as_bytes().contains(&b'_') => Market::Coinm,
            None if has_pu => Market::Usdm,
            None => Market::Spot,
        };
        self.instrument(market, name, o.source)
    }

    fn on_frame(&mut self, frame: Frame<'_>, o: Origin, stamps: FrameStamps) {
        match frame {
            Frame::Depth(d) => {
                let Some(id) = self.event_instrument(o, d.prev_last_id.is_some(), &d.symbol) else {
                    return;
                };
                let i = usize::from(id.0);
                self.per_instrument[i].diffs += 1;
                let staged = &mut self.staged;
                let seq = &mut self.sequencers[i];
                seq.on_diff(&d, stamps, &mut |e| staged.push(e));
                if seq.take_snapshot_request() {
                    self.want_snapshot.push(id);
                }
                self.publish_state(id);
            }
            Frame::Snapshot(s) => {
                let id = match (o.market, o.symbol) {
                    (Some(m), Some(name)) => self.instrument(m, &name, o.source),
                    _ => self
                        .source_last
                        .get(usize::from(o.source))
                        .copied()
                        .flatten(),
                };
                let Some(id) = id else {
                    self.report.orphan_snapshots += 1;
                    return;
                };
                let staged = &mut self.staged;
                let seq = &mut self.sequencers[usize::from(id.0)];
                seq.on_snapshot(&s, &mut |e| staged.push(e));
                if seq.take_snapshot_request() {
                    self.want_snapshot.push(id);
                }
                self.publish_state(id);
            }
            Frame::Ticker(t) => {
                let Some(id) = self.event_instrument(o, false, &t.symbol) else {
                    return;
                };
                self.per_instrument[usize::from(id.0)].tickers += 1;
                self.staged.push(MdEvent::Ticker {
                    symbol: id,
                    update_id: t.update_id,
                    bid: Level {
                        px: t.bid_px,
                        qty: t.bid_qty,
                    },
                    ask: Level {
                        px: t.ask_px,
                        qty: t.ask_qty,
                    },
                });
            }
            Frame::Trade(t) => {
                let Some(id) = self.event_instrument(o, false, &t.symbol) else {
                    return;
                };
                let r = &mut self.per_instrument[usize::from(id.0)];
                r.trades += 1;
                if !t.aggregate {
                    if let Some(prev) = r.last_trade_id
                        && t.trade_id != prev.wrapping_add(1)
                    {
                        r.trade_id_gaps += 1;
                    }
                    r.last_trade_id = Some(t.trade_id);
                }
                self.staged.push(MdEvent::Trade {
                    symbol: id,
                    px: t.px,
                    qty: t.qty,
                    buyer_is_maker: t.buyer_is_maker,
                });
            }
            Frame::Other(kind) => {
                self.report.skipped.bump(kind);
            }
        }
    }

    fn resync(&mut self, symbol: SymbolId, reason: StaleReason) {
        if let Some(seq) = self.sequencers.get_mut(usize::from(symbol.0)) {
            let staged = &mut self.staged;
            seq.force_resync(reason, &mut |e| staged.push(e));
            // A reconnect already fetches fresh snapshots by itself.
            if seq.take_snapshot_request() && reason != StaleReason::Reconnect {
                self.want_snapshot.push(symbol);
            }
            self.publish_state(symbol);
        }
    }

    /// Publishes a change of `id`'s sync state (a branch per frame, a few
    /// atomic stores per change).
    #[inline]
    fn publish_state(&mut self, id: SymbolId) {
        let i = usize::from(id.0);
        let Some(seq) = self.sequencers.get(i) else {
            return;
        };
        let synced = seq.is_synced();
        if self.published.len() <= i {
            self.published.resize(i + 1, false);
        }
        if self.published[i] != synced {
            self.published[i] = synced;
            self.status.publish(id, synced, seq.last_stale());
        }
    }
}

/// The market-data stage.
pub struct MdStage<S: FrameSource> {
    source: S,
    decoder: Decoder,
    core: MdCore,
    staged_pos: usize,
    out: rtrb::Producer<MdEvent>,
    requests: rtrb::Consumer<BookRequest>,
    on_full: OnFull,
    clock: Clock,
    /// Pace clock origin: set at the first poll, not at construction.
    start_raw: Option<u64>,
    stop: Arc<AtomicBool>,
    progress: Arc<AtomicU64>,
    ended: bool,
}

impl<S: FrameSource> MdStage<S> {
    /// A stage reading `source` and pushing to `out`; `stop` ends intake
    /// (Ctrl-C), `progress` receives the frame count now and then.
    pub fn new(
        source: S,
        out: rtrb::Producer<MdEvent>,
        requests: rtrb::Consumer<BookRequest>,
        on_full: OnFull,
        clock: Clock,
        stop: Arc<AtomicBool>,
        progress: Arc<AtomicU64>,
    ) -> Self {
        MdStage {
            source,
            decoder: Decoder::new(),
            core: MdCore {
                instruments: Instruments::default(),
                sequencers: Vec::new(),
                per_instrument: Vec::new(),
                source_last: Vec::new(),
                staged: Vec::with_capacity(1 << 14),
                report: MdReport::default(),
                want_snapshot: Vec::with_capacity(16),
                published: Vec::with_capacity(16),
                status: Arc::new(MdStatus::default()),
            },
            staged_pos: 0,
            out,
            requests,
            on_full,
            clock,
            start_raw: None,
            stop,
            progress,
            ended: false,
        }
    }

    /// The published sync state of every book (for the operator's monitor).
    pub fn status(&self) -> Arc<MdStatus> {
        Arc::clone(&self.core.status)
    }

    /// Registers instruments before the first frame, in order, so their
    /// ids are known up front (0, 1, .. for a fresh stage): a live router
    /// maps ids to venue symbols with them.
    pub fn register(&mut self, instruments: &[(Market, SymbolName)]) -> Vec<Option<SymbolId>> {
        instruments
            .iter()
            .map(|(m, n)| self.core.register(*m, n))
            .collect()
    }

    /// Pushes as many staged events as fit. True when all are delivered.
    fn flush(&mut self) -> bool {
        let staged = &mut self.core.staged;
        if self.staged_pos == staged.len() {
            staged.clear();
            self.staged_pos = 0;
            return true;
        }
        let (_, rest) = self.out.push_partial_slice(&staged[self.staged_pos..]);
        self.staged_pos = staged.len() - rest.len();
        if rest.is_empty() {
            staged.clear();
            self.staged_pos = 0;
            return true;
        }
        self.core.report.ring_full += 1;
        false
    }

    /// Drop policy: discard undeliverable events except control events and
    /// resync every instrument that lost data.
    fn drop_undelivered(&mut self) {
        let core = &mut self.core;
        let mut lost: Vec<SymbolId> = Vec::new();
        let mut kept = 0;
        for i in self.staged_pos..core.staged.len() {
            let ev = core.staged[i];
            match ev {
                MdEvent::Instrument { .. } | MdEvent::Stale { .. } | MdEvent::End => {
                    core.staged[kept] = ev;
                    kept += 1;
                }
                MdEvent::Level { symbol, .. }
                | MdEvent::DiffEnd { symbol, .. }
                | MdEvent::SnapshotBegin { symbol }
                | MdEvent::SnapshotEnd { symbol, .. } => {
                    core.report.dropped_events += 1;
                    if !lost.contains(&symbol) {
                        lost.push(symbol);
                    }
                }
                MdEvent::Ticker { .. } | MdEvent::Trade { .. } => core.report.dropped_events += 1,
            }
        }
        core.staged.truncate(kept);
        self.staged_pos = 0;
        for symbol in lost {
            core.resync(symbol, StaleReason::RingOverflow);
        }
    }

    /// Takes, decodes and sequences one frame: `Some(true)` when a frame was
    /// handled, `Some(false)` when none is due yet, `None` at end of input.
    fn take_frame(&mut self) -> Option<bool> {
        let now = self.clock.raw();
        let origin = *self.start_raw.get_or_insert(now);
        let now_ns = self.clock.delta_as_nanos(origin, now);
        let (rx, origin, bytes) = match self.source.next_frame(now_ns) {
            Next::Frame {
                source,
                bytes,
                market,
                symbol,
                ..
            } => (
                Tsc(self.clock.raw()),
                Origin {
                    source,
                    market,
                    symbol,
                },
                bytes,
            ),
            Next::NotYet => return Some(false),
            Next::End => return None,
        };
        let report = &mut self.core.report;
        if report.frames == 0 {
            report.started = rx;
        }
        let frame_index = report.frames;
        report.frames += 1;
        report.bytes += bytes.len() as u64;
        if report.frames.is_multiple_of(4096) {
            self.progress.store(report.frames, Ordering::Relaxed);
        }
        let decoded = self.decoder.decode(bytes);
        let decoded_at = Tsc(self.clock.raw());
        match decoded {
            Ok(frame) => {
                report.decode_latency.record(rx, decoded_at);
                let stamps = FrameStamps {
                    rx,
                    decoded: decoded_at,
                };
                self.core.on_frame(frame, origin, stamps);
            }
            Err(e) => {
                report.decode_errors.bump(e.kind());
                if report.first_errors.len() < KEPT_ERRORS {
                    report.first_errors.push((frame_index, e.to_string()));
                }
            }
        }
        Some(true)
    }
}

impl<S: FrameSource + 'static> Stage for MdStage<S> {
    type Report = MdReport;

    fn name(&self) -> StageName {
        StageName::Md
    }

    fn poll(&mut self) -> Result<Progress, StageError> {
        if !self.flush() {
            match self.on_full {
                OnFull::Wait => return Ok(Progress::Idle),
                OnFull::DropAndResync => {
                    self.drop_undelivered();
                    if !self.flush() {
                        return Ok(Progress::Idle);
                    }
                }
            }
        }
        if self.ended {
            return Ok(Progress::Done);
        }
        while let Ok(BookRequest::Resync(symbol)) = self.requests.pop() {
            self.core.resync(symbol, StaleReason::Crossed);
        }
        while let Some(SourceControl::Resync { market, symbol }) = self.source.take_control() {
            // An instrument not seen yet has no book to resync.
            if let Some(id) = self.core.instruments.find(market, &symbol) {
                self.core.resync(id, StaleReason::Reconnect);
            }
        }
        let mut busy = false;
        // A small batch per poll keeps co-hosted stages responsive; a frame
        // that closed a diff ends the batch at once so the book (and the
        // strategy) see it without waiting behind later frames.
        for _ in 0..16 {
            let next = if self.stop.load(Ordering::Relaxed) {
                None
            } else {
                self.take_frame()
            };
            match next {
                Some(true) => {
                    busy = true;
                    let closed_diff = self.core.staged[self.staged_pos..]
                        .last()
                        .is_some_and(|e| matches!(e, MdEvent::DiffEnd { .. }));
                    if closed_diff {
                        self.flush();
                        break;
                    }
                }
                Some(false) => break,
                None => {
                    self.core.staged.push(MdEvent::End);
                    self.ended = true;
                    break;
                }
            }
            if !self.flush() {
                break;
            }
        }
        self.flush();
        let core = &mut self.core;
        for id in core.want_snapshot.drain(..) {
            if let Some((market, symbol)) = core.instruments.get(id) {
                self.source.request_resync(market, symbol);
            }
        }
        Ok(if busy || self.ended {
            Progress::Busy
        } else {
            Progress::Idle
        })
    }

    fn finish(self) -> MdReport {
        let MdStage {
            core,
            clock,
            progress,
            ..
        } = self;
        let MdCore {
            per_instrument,
            sequencers,
            mut report,
            ..
        } = core;
        progress.store(report.frames, Ordering::Relaxed);
        report.instruments = per_instrument;
        for (r, seq) in report.instruments.iter_mut().zip(&sequencers) {
            r.sync = seq.stats();
        }
        report.ended = Tsc(clock.raw());
        report
    }
}
