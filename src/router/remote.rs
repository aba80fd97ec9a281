//! [`RemoteVenue`]: the router stage's side of the live REST router. The
//! stage stays on its executor and never blocks; commands cross to the
//! [`LiveRouter`] thread on one SPSC ring and reports come back on another.

use std::collections::VecDeque;

use crate::binance::worker::{LiveRouter, RouterWaker};
use crate::gateway::{LiveRouterOutput, OrderVenue, ReportOut};
use tickwire_core::msg::{FromRouter, ToRouter};
use tickwire_core::orders::{OrderId, RouterCmd};
use tickwire_core::types::Tsc;

/// Hands orders to the live router thread and relays its reports.
pub struct RemoteVenue {
    tx: rtrb::Producer<ToRouter>,
    rx: rtrb::Consumer<FromRouter>,
    /// Commands waiting for room on the ring (never dropped).
    backlog: VecDeque<ToRouter>,
    waker: RouterWaker,
    router: Option<LiveRouter>,
    closing: bool,
    ended: bool,
    trace: Vec<(OrderId, Tsc)>,
    trace_cap: usize,
}

impl RemoteVenue {
    /// Talks to `router` over `tx`/`rx` (the rings `router` was spawned
    /// with). With `trace_cap > 0`, the frame receive TSC of the first
    /// `trace_cap` orders is kept (memory reserved now, never grown).
    pub fn new(
        router: LiveRouter,
        tx: rtrb::Producer<ToRouter>,
        rx: rtrb::Consumer<FromRouter>,
        trace_cap: usize,
    ) -> RemoteVenue {
        RemoteVenue {
            tx,
            rx,
            backlog: VecDeque::with_capacity(1024),
            waker: router.waker(),
            router: Some(router),
            closing: false,
            ended: false,
            trace: Vec::with_capacity(trace_cap),
            trace_cap,
        }
    }

    fn send(&mut self, msg: ToRouter) {
        if !self.backlog.is_empty() {
            self.backlog.push_back(msg);
            return;
        }
        match self.tx.push(msg) {
            Ok(()) => self.waker.wake(),
            Err(rtrb::PushError::Full(m)) => self.backlog.push_back(m),
        }
    }

    fn flush(&mut self) {
        let mut sent = false;
        while let Some(m) = self.backlog.pop_front() {
            if let Err(rtrb::PushError::Full(m)) = self.tx.push(m) {
                self.backlog.push_front(m);
                break;
            }
            sent = true;
        }
        if sent {
            self.waker.wake();
        }
    }
}

impl OrderVenue for RemoteVenue {
    fn on_cmd(&mut self, cmd: &RouterCmd, _out: ReportOut<'_>) {
        if let RouterCmd::New(o) = cmd
            && self.trace.len() < self.trace_cap
        {
            self.trace.push((o.id, o.stamps.rx));
        }
        self.send(ToRouter::Cmd(*cmd));
    }

    fn poll(&mut self, out: ReportOut<'_>) -> usize {
        self.flush();
        let mut n = 0;
        while n < 256 {
            match self.rx.pop() {
                Ok(FromRouter::Exec(r)) => {
                    out(r);
                    n += 1;
                }
                Ok(FromRouter::End) => {
                    self.ended = true;
                    break;
                }
                Err(_) => {
                    // The thread ended without saying so (it failed).
                    if self.rx.is_abandoned() && self.rx.is_empty() {
                        self.ended = true;
                    }
                    break;
                }
            }
        }
        n
    }

    fn close(&mut self, out: ReportOut<'_>) -> bool {
        if !self.closing {
            // Nothing is left working at the venue after a run.
            self.closing = true;
            self.send(ToRouter::Cmd(RouterCmd::CancelAll));
            self.send(ToRouter::End);
        }
        self.poll(out);
        self.ended
    }

    fn finish(&mut self) -> Option<LiveRouterOutput> {
        let router = self.router.take()?;
        let (stats, error) = match router.join() {
            Ok(s) => (s, None),
            Err(e) => (Default::default(), Some(e.to_string())),
        };
        Some(LiveRouterOutput {
            stats,
            trace: std::mem::take(&mut self.trace),
            error,
        })
    }
}
