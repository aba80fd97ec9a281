//! [`RemoteGateway`]: the router stage's side of the live REST router. The
//! stage stays on its executor and never blocks; commands cross to the
//! [`LiveRouter`] thread on one SPSC ring and reports come back on another.

use std::collections::VecDeque;

use crate::binance::{LiveRouter, RouterWaker};
use std::sync::{Arc, Mutex, PoisonError};

use crate::binance::RouterStats;
use crate::gateway::{OrderGateway, ReportOut};
use tickwire_core::msg::{FromRouter, ToRouter};
use tickwire_core::orders::{OrderId, RouterCmd};
use tickwire_core::types::Tsc;

/// Hands orders to the live router thread and relays its reports.
pub struct RemoteGateway {
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
    account: Arc<Mutex<Option<LiveRouterOutput>>>,
}

/// End-of-run account of the live router thread.
#[derive(Clone, Debug, Default)]
pub struct LiveRouterOutput {
    /// The router thread's counters.
    pub stats: RouterStats,
    /// `(order, frame receive TSC)` of the first orders, when tracing was
    /// asked for (wire-to-wire measurement in `demo`).
    pub trace: Vec<(OrderId, Tsc)>,
    /// Set when the router thread could not be joined cleanly.
    pub error: Option<String>,
}

/// Where a [`RemoteGateway`] leaves the live router's account when the
/// router stage finishes.
#[derive(Clone, Debug, Default)]
pub struct RemoteAccount(Arc<Mutex<Option<LiveRouterOutput>>>);

impl RemoteAccount {
    /// The account, once the router stage has finished.
    pub fn take(&self) -> Option<LiveRouterOutput> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

impl RemoteGateway {
    /// Talks to `router` over `tx`/`rx` (the rings `router` was spawned
    /// with). With `trace_cap > 0`, the frame receive TSC of the first
    /// `trace_cap` orders is kept (memory reserved now, never grown). The
    /// router's account is left in the returned [`RemoteAccount`] when the
    /// router stage finishes.
    pub fn new(
        router: LiveRouter,
        tx: rtrb::Producer<ToRouter>,
        rx: rtrb::Consumer<FromRouter>,
        trace_cap: usize,
    ) -> (RemoteGateway, RemoteAccount) {
        let account = RemoteAccount::default();
        let venue = RemoteGateway {
            tx,
            rx,
            backlog: VecDeque::with_capacity(1024),
            waker: router.waker(),
            router: Some(router),
            closing: false,
            ended: false,
            trace: Vec::with_capacity(trace_cap),
            trace_cap,
            account: Arc::clone(&account.0),
        };
        (venue, account)
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

impl OrderGateway for RemoteGateway {
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

    fn finish(&mut self) {
        let Some(router) = self.router.take() else {
            return;
        };
        let (stats, error) = match router.join() {
            Ok(s) => (s, None),
            Err(e) => (Default::default(), Some(e.to_string())),
        };
        let out = LiveRouterOutput {
            stats,
            trace: std::mem::take(&mut self.trace),
            error,
        };
        *self.account.lock().unwrap_or_else(PoisonError::into_inner) = Some(out);
    }
}
