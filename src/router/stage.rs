//! The router stage. In replay it hands orders to the [`PaperVenue`],
//! which fills them against the replayed market; live, to the REST router
//! thread through a [`RemoteGateway`](crate::remote::RemoteGateway).
//! Execution reports go back to risk on the return ring. Tick-to-trade
//! ends here: the TSC taken when an order is handed to the venue.

use quanta::Clock;

use crate::gateway::OrderGateway;
use crate::paper::PaperVenue;
use tickwire_core::counts::Counts;
use tickwire_core::hist::TscHist;
use tickwire_core::msg::{FromRouter, MarketMsg, ToRouter};
use tickwire_core::orders::{ExecKind, ExecReport, RouterCmd};
use tickwire_core::stage::StageName;
use tickwire_core::stage::{Progress, Stage, StageError};
use tickwire_core::types::Tsc;

/// The router stage's end-of-run report.
#[derive(Clone, Debug, Default)]
pub struct RouterReport {
    /// Orders handed to the venue.
    pub orders: u64,
    /// Cancels handed to the venue.
    pub cancels: u64,
    /// Execution reports by kind.
    pub execs: Counts<ExecKind>,
    /// Risk decided -> handed to the venue (includes the risk -> router hop).
    pub router_latency: TscHist,
    /// Frame received -> order handed to the venue.
    pub tick_to_trade: TscHist,
}

/// Rings the router stage owns.
pub struct RouterRings {
    /// Orders from risk.
    pub input: rtrb::Consumer<ToRouter>,
    /// Market state from the book stage.
    pub market: rtrb::Consumer<MarketMsg>,
    /// Execution reports to risk.
    pub execs: rtrb::Producer<FromRouter>,
}

/// The router stage over a venue (the paper venue unless told otherwise).
pub struct RouterStage<V: OrderGateway = PaperVenue> {
    rings: RouterRings,
    venue: V,
    clock: Clock,
    /// Reports waiting for room on the return ring (never dropped).
    pending: Vec<ExecReport>,
    orders_done: bool,
    market_done: bool,
    end_sent: bool,
    report: RouterReport,
}

impl<V: OrderGateway> RouterStage<V> {
    /// A router stage handing orders to `venue`.
    pub fn new(rings: RouterRings, venue: V, clock: Clock) -> RouterStage<V> {
        RouterStage {
            rings,
            venue,
            clock,
            pending: Vec::with_capacity(256),
            orders_done: false,
            market_done: false,
            end_sent: false,
            report: RouterReport::default(),
        }
    }

    fn flush(&mut self) -> bool {
        let mut sent = 0;
        for r in &self.pending {
            if self.rings.execs.push(FromRouter::Exec(*r)).is_err() {
                break;
            }
            sent += 1;
        }
        self.pending.drain(..sent);
        self.pending.is_empty()
    }
}

impl<V: OrderGateway> Stage for RouterStage<V> {
    type Report = RouterReport;

    fn name(&self) -> StageName {
        StageName::Router
    }

    fn poll(&mut self) -> Result<Progress, StageError> {
        if !self.flush() {
            return Ok(Progress::Idle);
        }
        let mut n = 0;
        let RouterStage {
            rings,
            venue,
            pending,
            report,
            ..
        } = self;
        let mut out = |r: ExecReport| {
            report.execs.bump(r.kind);
            pending.push(r);
        };
        while n < 256 {
            let Ok(m) = rings.market.pop() else { break };
            n += 1;
            match m {
                MarketMsg::Top { symbol, bid, ask } => venue.on_top(symbol, bid, ask, &mut out),
                MarketMsg::Trade {
                    symbol,
                    px,
                    qty,
                    buyer_is_maker,
                } => venue.on_trade(symbol, px, qty, buyer_is_maker, &mut out),
                MarketMsg::End => self.market_done = true,
            }
        }
        while n < 512 {
            let Ok(m) = rings.input.pop() else { break };
            n += 1;
            match m {
                ToRouter::Cmd(cmd) => {
                    let handed = Tsc(self.clock.raw());
                    if let RouterCmd::New(o) = cmd {
                        report.orders += 1;
                        report.router_latency.record(o.stamps.risk_done, handed);
                        report.tick_to_trade.record(o.stamps.rx, handed);
                    } else {
                        report.cancels += 1;
                    }
                    venue.on_cmd(&cmd, &mut out);
                }
                ToRouter::End => self.orders_done = true,
            }
        }
        n += venue.poll(&mut out);
        let closed = self.orders_done && self.market_done && venue.close(&mut out);
        if !self.flush() {
            return Ok(Progress::Busy);
        }
        if closed && !self.end_sent {
            self.end_sent = self.rings.execs.push(FromRouter::End).is_ok();
        }
        if self.end_sent {
            return Ok(Progress::Done);
        }
        Ok(if n > 0 {
            Progress::Busy
        } else {
            Progress::Idle
        })
    }

    fn finish(mut self) -> RouterReport {
        self.venue.finish();
        self.report
    }
}
