//! The risk stage: checks every intent, forwards accepted orders to the
//! router, and applies execution reports from the return ring.

use quanta::Clock;

use crate::{RiskEngine, RiskStats};
use tickwire_core::hist::TscHist;
use tickwire_core::msg::{FromRouter, RiskMsg, StrategyFill, ToRouter};
use tickwire_core::orders::RouterCmd;
use tickwire_core::stage::StageName;
use tickwire_core::stage::{Progress, Stage, StageError};
use tickwire_core::types::Tsc;

/// The risk stage's end-of-run report.
#[derive(Clone, Debug)]
pub struct RiskReport {
    /// Engine counters (intents, rejections by reason, fills, positions).
    pub stats: RiskStats,
    /// Strategy decided -> risk decided (includes the book -> risk hop).
    pub risk_latency: TscHist,
    /// Orders refused because the risk -> router ring was full.
    pub router_ring_full: u64,
    /// Execution reports risk could not match to an order.
    pub exec_errors: u64,
    /// Final position per symbol id.
    pub positions: Vec<tickwire_core::types::Qty>,
    /// Realized PnL, quote currency at the fixed scale.
    pub realized_pnl: tickwire_core::money::Notional,
    /// TSC when the last execution report was handled: the end of the run
    /// (risk is the last stage to finish).
    pub ended: Tsc,
}

/// Rings the risk stage owns.
pub struct RiskRings {
    /// From the book stage.
    pub input: rtrb::Consumer<RiskMsg>,
    /// To the router.
    pub router: rtrb::Producer<ToRouter>,
    /// Execution reports back from the router.
    pub execs: rtrb::Consumer<FromRouter>,
    /// Fills for the strategy, back to the book stage.
    pub fills: rtrb::Producer<StrategyFill>,
}

/// The risk stage.
pub struct RiskStage {
    rings: RiskRings,
    engine: RiskEngine,
    clock: Clock,
    input_done: bool,
    end_sent: bool,
    router_done: bool,
    max_symbol: usize,
    report_hist: TscHist,
    router_ring_full: u64,
    exec_errors: u64,
    cancel_all_pending: bool,
    /// Fills waiting for room on the ring to the book (never dropped).
    held_fills: Vec<StrategyFill>,
}

impl RiskStage {
    /// A risk stage around `engine`.
    pub fn new(rings: RiskRings, engine: RiskEngine, clock: Clock) -> RiskStage {
        RiskStage {
            rings,
            engine,
            clock,
            input_done: false,
            end_sent: false,
            router_done: false,
            max_symbol: 0,
            report_hist: TscHist::new(),
            router_ring_full: 0,
            exec_errors: 0,
            cancel_all_pending: false,
            held_fills: Vec::with_capacity(64),
        }
    }

    fn on_msg(&mut self, msg: RiskMsg) {
        match msg {
            RiskMsg::Intent { intent, venue_time } => {
                self.max_symbol = self.max_symbol.max(usize::from(intent.symbol.0) + 1);
                let now_ns = venue_time.as_nanos();
                let was_killed = self.engine.kill_switch();
                let verdict = self.engine.check(&intent, now_ns);
                let done = Tsc(self.clock.raw());
                if !was_killed && self.engine.kill_switch() {
                    // Daily loss tripped the kill switch: pull every working order.
                    self.cancel_all_pending = true;
                }
                self.report_hist.record(intent.stamps.decided, done);
                if let Ok(mut order) = verdict {
                    order.stamps.risk_done = done;
                    if self
                        .rings
                        .router
                        .push(ToRouter::Cmd(RouterCmd::New(order)))
                        .is_err()
                    {
                        self.engine.on_router_full(&order);
                        self.router_ring_full += 1;
                    }
                }
            }
            RiskMsg::BookStale(symbol, stale) => self.engine.mark_stale(symbol, stale),
            RiskMsg::End => self.input_done = true,
        }
    }
}

impl Stage for RiskStage {
    type Report = RiskReport;

    fn name(&self) -> StageName {
        StageName::Risk
    }

    fn poll(&mut self) -> Result<Progress, StageError> {
        let mut n = 0;
        // Execution reports first: they free position and open-order room.
        while let Ok(m) = self.rings.execs.pop() {
            n += 1;
            match m {
                FromRouter::Exec(r) => {
                    if self.engine.on_exec(&r).is_err() {
                        self.exec_errors += 1;
                    } else if r.last_qty.0 > 0 {
                        self.held_fills.push(StrategyFill {
                            symbol: r.symbol,
                            side: r.side,
                            qty: r.last_qty,
                        });
                    }
                }
                FromRouter::End => self.router_done = true,
            }
        }
        if !self.held_fills.is_empty() {
            let (_, rest) = self.rings.fills.push_partial_slice(&self.held_fills);
            let sent = self.held_fills.len() - rest.len();
            self.held_fills.drain(..sent);
        }
        while !self.input_done && n < 256 {
            let Ok(m) = self.rings.input.pop() else {
                break;
            };
            n += 1;
            self.on_msg(m);
        }
        if self.cancel_all_pending
            && self
                .rings
                .router
                .push(ToRouter::Cmd(RouterCmd::CancelAll))
                .is_ok()
        {
            self.cancel_all_pending = false;
        }
        if self.input_done && !self.end_sent && !self.cancel_all_pending {
            self.end_sent = self.rings.router.push(ToRouter::End).is_ok();
        }
        if self.router_done {
            return Ok(Progress::Done);
        }
        Ok(if n > 0 {
            Progress::Busy
        } else {
            Progress::Idle
        })
    }

    fn finish(self) -> RiskReport {
        let positions = (0..self.max_symbol)
            .map(|i| {
                self.engine
                    .position(tickwire_core::types::SymbolId(i as u16))
            })
            .collect();
        RiskReport {
            stats: self.engine.stats(),
            risk_latency: self.report_hist,
            router_ring_full: self.router_ring_full,
            exec_errors: self.exec_errors,
            positions,
            realized_pnl: self.engine.realized_pnl(),
            ended: Tsc(self.clock.raw()),
        }
    }
}
