//! The book stage: applies md events to one [`L2Book`] per instrument,
//! runs the venue ground-truth check, marks books stale on crossing, feeds
//! the paper venue and runs the strategy on every applied diff.

use std::path::PathBuf;

use quanta::Clock;

use crate::check::{CheckStats, Mismatch, TickerCheck, Top};
use crate::format::SnapshotFile;
use crate::l2::L2Book;
use crate::snapshot::{snapshot_of, write_snapshot};
use tickwire_core::counts::Counts;
use tickwire_core::hist::TscHist;
use tickwire_core::msg::{BookRequest, MarketMsg, MdEvent, RiskMsg, StaleReason, StrategyFill};
use tickwire_core::orders::PathStamps;
use tickwire_core::stage::StageName;
use tickwire_core::stage::{Progress, Stage, StageError};
use tickwire_core::types::{Level, Market, Px, SymbolId, SymbolName, Tsc, VenueMs};
use tickwire_strategy::{BookTop, IntentSink, Strategy};

/// Where a book stands in its sync cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookState {
    /// No snapshot yet.
    Unsynced,
    /// Snapshot levels are arriving.
    Building,
    /// In sync with the venue.
    Synced,
    /// Not trusted until the next snapshot.
    Stale,
}

/// Per-instrument end-of-run figures.
#[derive(Clone, Debug)]
pub struct BookSymbolReport {
    /// Dense id.
    pub symbol: SymbolId,
    /// Market.
    pub market: Market,
    /// Venue symbol.
    pub name: SymbolName,
    /// Ground-truth check counters.
    pub check: CheckStats,
    /// First mismatch, if any.
    pub first_mismatch: Option<Mismatch>,
    /// Times the book was found crossed.
    pub crossed: u64,
    /// Stale markings received from md, by reason.
    pub stale_events: Counts<StaleReason>,
    /// Diffs applied.
    pub diffs_applied: u64,
    /// Level updates applied (snapshots and diffs).
    pub levels_applied: u64,
    /// State at the end.
    pub state: BookState,
    /// Bid levels at the end.
    pub bid_levels: usize,
    /// Ask levels at the end.
    pub ask_levels: usize,
    /// Best bid at the end.
    pub best_bid: Option<Level>,
    /// Best ask at the end.
    pub best_ask: Option<Level>,
    /// Last applied update id.
    pub last_update_id: u64,
}

/// The book stage's end-of-run report.
#[derive(Clone, Debug, Default)]
pub struct BookReport {
    /// Per instrument, by id.
    pub symbols: Vec<BookSymbolReport>,
    /// Decoded -> applied latency per diff (includes the md -> book hop).
    pub book_latency: TscHist,
    /// Applied -> strategy decided, per diff evaluated.
    pub strategy_latency: TscHist,
    /// Intents the strategy produced.
    pub intents: u64,
    /// Diffs not shown to the strategy because their data was older than
    /// `strategy.max_data_age_ms` when applied.
    pub stale_data_skipped: u64,
    /// Intents lost because the book -> risk ring was full (an order-path
    /// rejection with reason `ring_full`).
    pub intents_ring_full: u64,
    /// Resync requests that could not be sent (ring full); md resyncs on
    /// the next crossing.
    pub requests_dropped: u64,
    /// Snapshot files written.
    pub snapshots_written: Vec<PathBuf>,
    /// Snapshot write failures.
    pub snapshot_errors: Vec<String>,
}

struct Slot {
    market: Market,
    name: SymbolName,
    book: L2Book,
    state: BookState,
    last_u: u64,
    check: TickerCheck,
    crossed: u64,
    stale_events: Counts<StaleReason>,
    diffs_applied: u64,
    levels_applied: u64,
}

/// Book snapshot settings.
#[derive(Clone, Debug)]
pub struct SnapshotPolicy {
    /// Directory to write into; `None` disables snapshots.
    pub dir: Option<PathBuf>,
    /// Venue-time interval between periodic snapshots (ms); 0 = at shutdown only.
    pub interval_ms: u64,
    /// Levels per side kept.
    pub depth: usize,
}

/// Rings the book stage owns.
pub struct BookRings {
    /// From md.
    pub input: rtrb::Consumer<MdEvent>,
    /// Back to md.
    pub requests: rtrb::Producer<BookRequest>,
    /// To risk.
    pub risk: rtrb::Producer<RiskMsg>,
    /// To the router's paper venue.
    pub market: rtrb::Producer<MarketMsg>,
    /// Fills of the strategy's orders, from risk.
    pub fills: rtrb::Consumer<StrategyFill>,
}

/// The book stage.
pub struct BookStage {
    rings: BookRings,
    slots: Vec<Slot>,
    ticks: Vec<(Market, SymbolName, Px)>,
    strategy: Box<dyn Strategy + Send>,
    sink: IntentSink,
    backlog: Vec<MarketMsg>,
    risk_backlog: Vec<RiskMsg>,
    clock: Clock,
    snapshots: SnapshotPolicy,
    max_data_age_ns: u64,
    last_snapshot: VenueMs,
    ending: bool,
    report: BookReport,
}

/// Events handled per poll before yielding to co-hosted stages.
const BATCH: usize = 256;

impl BookStage {
    /// A book stage; `ticks` gives configured tick sizes (others are
    /// learnt from the data).
    pub fn new(
        rings: BookRings,
        strategy: Box<dyn Strategy + Send>,
        ticks: Vec<(Market, SymbolName, Px)>,
        snapshots: SnapshotPolicy,
        max_data_age: std::time::Duration,
        clock: Clock,
    ) -> BookStage {
        BookStage {
            rings,
            slots: Vec::new(),
            ticks,
            strategy,
            sink: IntentSink::default(),
            backlog: Vec::with_capacity(64),
            risk_backlog: Vec::with_capacity(16),
            clock,
            snapshots,
            max_data_age_ns: u64::try_from(max_data_age.as_nanos()).unwrap_or(u64::MAX),
            last_snapshot: VenueMs(0),
            ending: false,
            report: BookReport::default(),
        }
    }

    /// Delivers held market/control messages; true when none is left.
    fn flush_backlog(&mut self) -> bool {
        flush_held(&mut self.backlog, &mut self.rings.market)
            && flush_held(&mut self.risk_backlog, &mut self.rings.risk)
    }

    fn send_market(&mut self, m: MarketMsg) {
        if !self.backlog.is_empty() || self.rings.market.push(m).is_err() {
            self.backlog.push(m);
        }
    }

    /// Control messages to risk (stale flags, end) must arrive: held if full.
    fn send_risk_control(&mut self, m: RiskMsg) {
        if !self.risk_backlog.is_empty() || self.rings.risk.push(m).is_err() {
            self.risk_backlog.push(m);
        }
    }

    fn slot(&mut self, symbol: SymbolId) -> Option<&mut Slot> {
        self.slots.get_mut(usize::from(symbol.0))
    }

    fn mark_stale(&mut self, symbol: SymbolId) {
        if let Some(s) = self.slot(symbol) {
            s.state = BookState::Stale;
            s.book.clear();
            s.check.reset();
        }
        self.send_risk_control(RiskMsg::BookStale(symbol, true));
    }

    fn on_event(&mut self, ev: MdEvent) {
        match ev {
            MdEvent::Instrument {
                symbol,
                market,
                name,
            } => {
                let tick = self
                    .ticks
                    .iter()
                    .find(|(m, n, _)| *m == market && *n == name)
                    .map(|t| t.2);
                debug_assert_eq!(usize::from(symbol.0), self.slots.len());
                self.slots.push(Slot {
                    market,
                    name,
                    book: L2Book::new(tick),
                    state: BookState::Unsynced,
                    last_u: 0,
                    check: TickerCheck::default(),
                    crossed: 0,
                    stale_events: Counts::default(),
                    diffs_applied: 0,
                    levels_applied: 0,
                });
            }
            MdEvent::SnapshotBegin { symbol } => {
                if let Some(s) = self.slot(symbol) {
                    s.book.clear();
                    s.check.reset();
                    s.state = BookState::Building;
                }
            }
            MdEvent::Level {
                symbol,
                side,
                level,
            } => {
                if let Some(s) = self.slot(symbol)
                    && matches!(s.state, BookState::Building | BookState::Synced)
                {
                    s.book.apply(side, level.px, level.qty);
                    s.levels_applied += 1;
                }
            }
            MdEvent::SnapshotEnd {
                symbol,
                last_update_id,
            } => {
                let crossed = match self.slot(symbol) {
                    Some(s) => {
                        s.state = BookState::Synced;
                        s.last_u = last_update_id;
                        s.book.is_crossed()
                    }
                    None => false,
                };
                if crossed {
                    self.on_crossed(symbol);
                } else {
                    self.send_risk_control(RiskMsg::BookStale(symbol, false));
                }
            }
            MdEvent::DiffEnd {
                symbol,
                last_id,
                venue_time,
                rx,
                decoded,
            } => self.on_diff_end(symbol, last_id, venue_time, rx, decoded),
            MdEvent::Ticker {
                symbol,
                update_id,
                bid,
                ask,
            } => {
                if let Some(s) = self.slot(symbol) {
                    let synced = s.state == BookState::Synced;
                    let venue = Top {
                        bid: Some(bid),
                        ask: Some(ask),
                    };
                    s.check.on_ticker(update_id, venue, synced);
                }
            }
            MdEvent::Trade {
                symbol,
                px,
                qty,
                buyer_is_maker,
            } => self.send_market(MarketMsg::Trade {
                symbol,
                px,
                qty,
                buyer_is_maker,
            }),
            MdEvent::Stale { symbol, reason } => {
                if let Some(s) = self.slot(symbol) {
                    s.stale_events.bump(reason);
                }
                self.mark_stale(symbol);
            }
            MdEvent::End => {
                self.ending = true;
                self.send_risk_control(RiskMsg::End);
                self.send_market(MarketMsg::End);
            }
        }
    }

    fn on_crossed(&mut self, symbol: SymbolId) {
        if let Some(s) = self.slot(symbol) {
            s.crossed += 1;
        }
        self.mark_stale(symbol);
        if self
            .rings
            .requests
            .push(BookRequest::Resync(symbol))
            .is_err()
        {
            self.report.requests_dropped += 1;
        }
    }

    fn on_diff_end(
        &mut self,
        symbol: SymbolId,
        u: u64,
        venue_time: VenueMs,
        rx: Tsc,
        decoded: Tsc,
    ) {
        let Some(s) = self.slots.get_mut(usize::from(symbol.0)) else {
            return;
        };
        if s.state != BookState::Synced {
            return;
        }
        s.last_u = u;
        s.diffs_applied += 1;
        let applied = Tsc(self.clock.raw());
        self.report.book_latency.record(decoded, applied);
        if s.book.is_crossed() {
            self.on_crossed(symbol);
            return;
        }
        let (bid, ask) = (s.book.best_bid(), s.book.best_ask());
        s.check.on_diff_applied(u, Top { bid, ask });
        let (Some(bid), Some(ask)) = (bid, ask) else {
            return;
        };
        // Never trade on old data: diffs replayed from the sync buffer, or
        // queued behind a slow stage, update the book but decide nothing.
        if self.clock.delta_as_nanos(rx.0, applied.0) > self.max_data_age_ns {
            self.report.stale_data_skipped += 1;
            return;
        }
        let top = BookTop {
            symbol,
            bid,
            ask,
            venue_time,
        };
        self.strategy.on_book(&top, &mut self.sink);
        let decided = Tsc(self.clock.raw());
        self.report.strategy_latency.record(applied, decided);
        let stamps = PathStamps {
            rx,
            decoded,
            applied,
            decided,
            risk_done: Tsc(0),
        };
        for mut intent in self.sink.drain() {
            intent.stamps = stamps;
            self.report.intents += 1;
            let msg = RiskMsg::Intent { intent, venue_time };
            if self.rings.risk.push(msg).is_err() {
                self.report.intents_ring_full += 1;
            }
        }
        // After the intents: risk sees them first; the router still reads
        // this top before any order risk sends, as it drains market data
        // before orders in each poll.
        self.send_market(MarketMsg::Top { symbol, bid, ask });
        self.maybe_snapshot(venue_time);
    }

    fn maybe_snapshot(&mut self, venue_time: VenueMs) {
        if self.snapshots.interval_ms == 0 || self.snapshots.dir.is_none() {
            return;
        }
        if self.last_snapshot == VenueMs(0) {
            self.last_snapshot = venue_time;
            return;
        }
        if venue_time.since(self.last_snapshot) >= self.snapshots.interval_ms {
            self.last_snapshot = venue_time;
            self.write_snapshot(&format!("periodic-{}.rkyv", venue_time.0));
        }
    }

    /// Writes every book to `dir/name`. File I/O: only at an interval or at
    /// shutdown, never per event.
    fn write_snapshot(&mut self, name: &str) {
        let Some(dir) = self.snapshots.dir.clone() else {
            return;
        };
        let taken_at_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let file = SnapshotFile {
            books: self
                .slots
                .iter()
                .map(|s| {
                    snapshot_of(
                        &s.book,
                        s.market,
                        &s.name.as_str(),
                        s.last_u,
                        taken_at_ns,
                        s.state != BookState::Synced,
                        self.snapshots.depth,
                    )
                })
                .collect(),
        };
        let path = dir.join(name);
        let result = std::fs::create_dir_all(&dir)
            .map_err(|e| e.to_string())
            .and_then(|()| write_snapshot(&path, &file).map_err(|e| e.to_string()));
        match result {
            Ok(()) => self.report.snapshots_written.push(path),
            Err(e) => self
                .report
                .snapshot_errors
                .push(format!("{}: {e}", path.display())),
        }
    }
}

/// Pushes held messages in order, as many as fit; true when none is left.
fn flush_held<T: Copy>(held: &mut Vec<T>, ring: &mut rtrb::Producer<T>) -> bool {
    let (_, rest) = ring.push_partial_slice(held);
    let sent = held.len() - rest.len();
    held.drain(..sent);
    held.is_empty()
}

impl Stage for BookStage {
    type Report = BookReport;

    fn name(&self) -> StageName {
        StageName::Book
    }

    fn poll(&mut self) -> Result<Progress, StageError> {
        if !self.flush_backlog() {
            return Ok(Progress::Idle);
        }
        if self.ending {
            return Ok(Progress::Done);
        }
        let mut n = 0;
        while let Ok(f) = self.rings.fills.pop() {
            n += 1;
            self.strategy.on_fill(f.symbol, f.side, f.qty);
        }
        while n < BATCH {
            let Ok(ev) = self.rings.input.pop() else {
                break;
            };
            n += 1;
            self.on_event(ev);
            if self.ending || !self.backlog.is_empty() || !self.risk_backlog.is_empty() {
                break;
            }
        }
        if self.ending && self.flush_backlog() {
            return Ok(Progress::Done);
        }
        Ok(if n > 0 {
            Progress::Busy
        } else {
            Progress::Idle
        })
    }

    fn finish(mut self) -> BookReport {
        if self.snapshots.dir.is_some() {
            self.write_snapshot("final.rkyv");
        }
        let symbols = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| BookSymbolReport {
                symbol: SymbolId(i as u16),
                market: s.market,
                name: s.name,
                check: s.check.stats(),
                first_mismatch: s.check.first_mismatch(),
                crossed: s.crossed,
                stale_events: s.stale_events,
                diffs_applied: s.diffs_applied,
                levels_applied: s.levels_applied,
                state: s.state,
                bid_levels: s.book.bid_depth(),
                ask_levels: s.book.ask_depth(),
                best_bid: s.book.best_bid(),
                best_ask: s.book.best_ask(),
                last_update_id: s.last_u,
            })
            .collect();
        let mut report = std::mem::take(&mut self.report);
        report.symbols = symbols;
        report
    }
}
