//! Order-state logic of the live router, free of threads and rings so it can
//! be driven directly: commands in, execution reports out through a callback.
//!
//! Idempotency: every order goes out with `newClientOrderId` =
//! `tw<session>-<OrderId>`, so a re-send can never make a second order. A new
//! order whose outcome is unknown (5xx, timeout, connection lost, garbled
//! answer) is never re-sent blindly: it is queried first; only if the venue
//! does not know the id is it re-sent, with the same id. Cancels and queries
//! are safe to repeat.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use super::breaker::{Breaker, BreakerState};
use super::client::{
    BinanceClient, CODE_CANCEL_REJECTED, CODE_NEW_ORDER_REJECTED, CODE_NO_SUCH_ORDER, OrderStatus,
    VenueError, VenueOrder, wall_ms,
};
use hdrhistogram::Histogram;
use tickwire_core::hist::LatencySummary;
use tickwire_core::orders::{ExecKind, ExecReport, Order, OrderId, RouterCmd};
use tickwire_core::types::{FIXED_SCALE, Px, Qty, SymbolId, SymbolName};

/// Tuning of the router's retry and safety behaviour.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Process session id, part of every client order id.
    pub session: u32,
    /// Venue symbol names by id.
    pub symbols: Vec<(SymbolId, SymbolName)>,
    /// Consecutive failures that open the breaker.
    pub breaker_threshold: u32,
    /// How long the breaker stays open.
    pub breaker_cooldown: Duration,
    /// Queries made to settle an unknown outcome before reporting it unknown.
    pub reconcile_attempts: u32,
    /// First pause between reconciliation attempts (doubles, capped at 2 s).
    pub reconcile_backoff: Duration,
    /// Attempts for cancels (safe to repeat).
    pub cancel_attempts: u32,
    /// Longest wait for a rate-limit hold before a new order is rejected.
    pub max_hold: Duration,
}

impl EngineConfig {
    /// Defaults: breaker 5 failures / 10 s, 5 reconciliation queries from
    /// 100 ms, 3 cancel attempts, 2 s longest hold.
    pub fn new(session: u32, symbols: Vec<(SymbolId, SymbolName)>) -> EngineConfig {
        EngineConfig {
            session,
            symbols,
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(10),
            reconcile_attempts: 5,
            reconcile_backoff: Duration::from_millis(100),
            cancel_attempts: 3,
            max_hold: Duration::from_secs(2),
        }
    }
}

/// Router counters, for reports and for risk.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct RouterStats {
    /// New orders sent (first send only).
    pub sent: u64,
    /// Orders the venue acknowledged.
    pub acked: u64,
    /// Fill reports.
    pub fills: u64,
    /// Orders completely filled.
    pub filled: u64,
    /// Orders cancelled.
    pub cancelled: u64,
    /// Orders the venue expired (IOC remainders).
    pub expired: u64,
    /// Venue rejections by Binance error code (status REJECTED counts as 0).
    pub rejected_by_code: BTreeMap<i64, u64>,
    /// Orders rejected here without a venue answer (breaker open, unknown
    /// symbol, rate-limit hold too long, ban).
    pub rejected_local: u64,
    /// Of those, rejected because the breaker was open.
    pub breaker_rejects: u64,
    /// Re-sends of a new order (same client id) and repeated cancels.
    pub retries: u64,
    /// Unknown outcomes that were reconciled by query.
    pub reconciliations: u64,
    /// Orders whose outcome stayed unknown after reconciliation (total).
    pub unknown: u64,
    /// Orders unknown right now (retried on each poll).
    pub unknown_open: u64,
    /// Times the breaker opened.
    pub breaker_opens: u64,
    /// 429 answers.
    pub too_many_requests: u64,
    /// 418 answers.
    pub bans: u64,
    /// Waits for a rate-limit hold.
    pub holds: u64,
    /// Cancels for an order id the router does not know.
    pub cancel_unknown: u64,
    /// Cancels the venue refused while the order stays working.
    pub cancel_rejects: u64,
    /// Venue clock minus local clock at the last successful sync (ms).
    pub clock_offset_ms: i64,
    /// Clock syncs that failed (the previous offset stays in use).
    pub clock_sync_failures: u64,
    /// New order sent -> answer parsed, for orders answered at the first
    /// send (ns): the venue round trip as this thread sees it, including
    /// signing, the HTTP exchange and parsing.
    pub new_order_rtt: LatencySummary,
}

struct Working {
    order: Order,
    symbol: String,
    cid: String,
    acked: bool,
    cum_qty: i64,
    cum_quote: i64,
    unknown: bool,
}

/// The deterministic client order id for `id` in `session`.
pub fn client_order_id(session: u32, id: OrderId) -> String {
    format!("tw{session}-{}", id.0)
}

/// The live router's state machine.
pub struct Engine {
    client: BinanceClient,
    conf: EngineConfig,
    names: HashMap<SymbolId, String>,
    working: HashMap<OrderId, Working>,
    breaker: Breaker,
    stats: RouterStats,
    rtt: Histogram<u64>,
}

type Out<'a> = &'a mut dyn FnMut(ExecReport);

impl Engine {
    /// An engine sending through `client`.
    pub fn new(client: BinanceClient, conf: EngineConfig) -> Engine {
        let names = conf
            .symbols
            .iter()
            .map(|(id, n)| (*id, n.as_str().into_owned()))
            .collect();
        Engine {
            client,
            breaker: Breaker::new(conf.breaker_threshold, conf.breaker_cooldown),
            conf,
            names,
            working: HashMap::new(),
            stats: RouterStats::default(),
            rtt: Histogram::new_with_bounds(1, 600_000_000_000, 3)
                .expect("static histogram bounds are valid"),
        }
    }

    /// Counters as of now.
    pub fn stats(&self) -> RouterStats {
        let mut s = self.stats.clone();
        s.breaker_opens = self.breaker.opens;
        s.too_many_requests = self.client.limiter().too_many_requests;
        s.bans = self.client.limiter().bans;
        s.unknown_open = self.working.values().filter(|w| w.unknown).count() as u64;
        s.new_order_rtt = LatencySummary::of(&self.rtt);
        s
    }

    /// Syncs the request timestamps to the venue's clock (`GET .../time`);
    /// on failure the previous offset stays and the failure is counted.
    pub fn sync_clock(&mut self) -> Result<i64, VenueError> {
        match self.client.sync_time() {
            Ok(ms) => {
                self.stats.clock_offset_ms = ms;
                Ok(ms)
            }
            Err(e) => {
                self.stats.clock_sync_failures += 1;
                Err(e)
            }
        }
    }

    /// Breaker state as of now.
    pub fn breaker_state(&mut self) -> BreakerState {
        self.breaker.state(Instant::now())
    }

    /// Orders still working or unknown.
    pub fn working(&self) -> usize {
        self.working.len()
    }

    /// Handles one command from risk.
    pub fn on_cmd(&mut self, cmd: RouterCmd, out: Out) {
        match cmd {
            RouterCmd::New(o) => self.new_order(o, out),
            RouterCmd::Cancel(id) => self.cancel(id, out),
            RouterCmd::CancelAll => self.cancel_all(out),
        }
    }

    /// Re-checks unknown and working orders by query (call when idle).
    pub fn poll(&mut self, out: Out) {
        let ids: Vec<OrderId> = self.working.keys().copied().collect();
        for id in ids {
            if self.working.get(&id).is_some_and(|w| w.unknown) {
                self.settle(id, 1, out);
            } else {
                self.refresh(id, out);
            }
        }
    }

    fn new_order(&mut self, order: Order, out: Out) {
        if self.working.contains_key(&order.id) {
            // Risk reused a live id; the live order is left alone.
            self.stats.rejected_local += 1;
            return;
        }
        let Some(symbol) = self.names.get(&order.symbol).cloned() else {
            self.stats.rejected_local += 1;
            out(report(&order, ExecKind::Rejected, 0, 0, 0));
            return;
        };
        if !self.breaker.allow(Instant::now()) {
            self.stats.rejected_local += 1;
            self.stats.breaker_rejects += 1;
            out(report(&order, ExecKind::Rejected, 0, 0, 0));
            return;
        }
        let cid = client_order_id(self.conf.session, order.id);
        self.working.insert(
            order.id,
            Working {
                order,
                symbol: symbol.clone(),
                cid: cid.clone(),
                acked: false,
                cum_qty: 0,
                cum_quote: 0,
                unknown: false,
            },
        );
        self.stats.sent += 1;
        let sent_at = Instant::now();
        let r = self.gated(|c| c.new_order(&order, &symbol, &cid));
        if r.is_ok() {
            let ns = u64::try_from(sent_at.elapsed().as_nanos()).unwrap_or(u64::MAX);
            self.rtt.saturating_record(ns.max(1));
        }
        match r {
            Ok(vo) => self.apply(order.id, &vo, out),
            Err(VenueError::Api { code, msg, .. })
                if code == CODE_NEW_ORDER_REJECTED && msg.contains("Duplicate") =>
            {
                self.settle(order.id, self.conf.reconcile_attempts, out)
            }
            Err(VenueError::Api { code, .. }) => self.reject(order.id, Some(code), out),
            Err(e) if e.outcome_unknown() || matches!(e, VenueError::Connect(_)) => {
                self.stats.reconciliations += 1;
                self.settle(order.id, self.conf.reconcile_attempts, out)
            }
            Err(_) => self.reject(order.id, None, out),
        }
    }

    /// Settles an order whose send outcome is unknown: query; if the venue
    /// does not know it, re-send with the same client id; else adopt.
    fn settle(&mut self, id: OrderId, attempts: u32, out: Out) {
        let Some(w) = self.working.get(&id) else {
            return;
        };
        let (order, symbol, cid) = (w.order, w.symbol.clone(), w.cid.clone());
        let mut pause = self.conf.reconcile_backoff;
        for attempt in 0..attempts {
            if attempt > 0 {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            match self.gated_query(|c| c.query(&symbol, &cid)) {
                Ok(vo) => return self.apply(id, &vo, out),
                Err(VenueError::Api { code, .. }) if code == CODE_NO_SUCH_ORDER => {
                    self.stats.retries += 1;
                    match self.gated(|c| c.new_order(&order, &symbol, &cid)) {
                        Ok(vo) => return self.apply(id, &vo, out),
                        Err(VenueError::Api { code, msg, .. })
                            if !(code == CODE_NEW_ORDER_REJECTED && msg.contains("Duplicate")) =>
                        {
                            return self.reject(id, Some(code), out);
                        }
                        Err(_) => continue,
                    }
                }
                Err(VenueError::Api { .. }) => break,
                Err(_) => continue,
            }
        }
        if let Some(w) = self.working.get_mut(&id)
            && !w.unknown
        {
            w.unknown = true;
            self.stats.unknown += 1;
        }
    }

    fn refresh(&mut self, id: OrderId, out: Out) {
        let Some(w) = self.working.get(&id) else {
            return;
        };
        let (symbol, cid) = (w.symbol.clone(), w.cid.clone());
        if let Ok(vo) = self.gated_query(|c| c.query(&symbol, &cid)) {
            self.apply(id, &vo, out);
        }
    }

    fn cancel(&mut self, id: OrderId, out: Out) {
        let Some(w) = self.working.get(&id) else {
            self.stats.cancel_unknown += 1;
            return;
        };
        let (symbol, cid) = (w.symbol.clone(), w.cid.clone());
        for attempt in 0..self.conf.cancel_attempts.max(1) {
            if attempt > 0 {
                self.stats.retries += 1;
                std::thread::sleep(self.conf.reconcile_backoff);
            }
            match self.gated(|c| c.cancel(&symbol, &cid)) {
                Ok(vo) => return self.apply(id, &vo, out),
                Err(VenueError::Api { code, .. })
                    if code == CODE_CANCEL_REJECTED || code == CODE_NO_SUCH_ORDER =>
                {
                    // Already done or never placed: learn which.
                    return self.refresh(id, out);
                }
                Err(VenueError::Api { .. }) => {
                    self.stats.cancel_rejects += 1;
                    return;
                }
                Err(_) => continue,
            }
        }
    }

    fn cancel_all(&mut self, out: Out) {
        let mut symbols: Vec<String> = self.names.values().cloned().collect();
        symbols.sort();
        for symbol in symbols {
            for attempt in 0..self.conf.cancel_attempts.max(1) {
                if attempt > 0 {
                    self.stats.retries += 1;
                    std::thread::sleep(self.conf.reconcile_backoff);
                }
                match self.gated(|c| c.cancel_all(&symbol)) {
                    Ok(list) => {
                        for vo in &list {
                            if let Some(id) = self.id_of(&vo.client_order_id) {
                                self.apply(id, vo, out);
                            }
                        }
                        break;
                    }
                    Err(VenueError::Api { .. }) => break,
                    Err(_) => continue,
                }
            }
            // Anything of ours still listed as working is settled by query.
            let left: Vec<OrderId> = self
                .working
                .iter()
                .filter(|(_, w)| w.symbol == symbol)
                .map(|(id, _)| *id)
                .collect();
            for id in left {
                self.refresh(id, out);
            }
        }
    }

    fn id_of(&self, cid: &str) -> Option<OrderId> {
        self.working
            .iter()
            .find(|(_, w)| w.cid == cid)
            .map(|(id, _)| *id)
    }

    /// Runs a venue call behind the rate limiter and the breaker's counters.
    fn gated<T>(
        &mut self,
        f: impl FnMut(&mut BinanceClient) -> Result<T, VenueError>,
    ) -> Result<T, VenueError> {
        self.gated_with(true, f)
    }

    /// [`Engine::gated`] for an order query: its failures count against the
    /// breaker but its answers do not close it (a venue that answers queries
    /// while failing every order is still failing).
    fn gated_query<T>(
        &mut self,
        f: impl FnMut(&mut BinanceClient) -> Result<T, VenueError>,
    ) -> Result<T, VenueError> {
        self.gated_with(false, f)
    }

    fn gated_with<T>(
        &mut self,
        success_resets: bool,
        mut f: impl FnMut(&mut BinanceClient) -> Result<T, VenueError>,
    ) -> Result<T, VenueError> {
        let mut tries = 0;
        loop {
            tries += 1;
            let r = f(&mut self.client);
            match &r {
                Ok(_) | Err(VenueError::Api { .. }) if !success_resets => {}
                Ok(_) | Err(VenueError::Api { .. }) => self.breaker.on_success(),
                Err(e) if e.is_failure() => self.breaker.on_failure(Instant::now()),
                Err(VenueError::Banned { retry_after_s }) => self.breaker.trip(
                    Instant::now(),
                    Duration::from_secs(retry_after_s.unwrap_or(60)),
                ),
                Err(VenueError::Held(h)) if tries <= 4 => {
                    let wait = Duration::from_millis(h.until_ms.saturating_sub(wall_ms()));
                    if wait <= self.conf.max_hold {
                        self.stats.holds += 1;
                        std::thread::sleep(wait);
                        continue;
                    }
                }
                // A 429 sets a hold in the limiter: the next round waits it out.
                Err(VenueError::RateLimited { .. }) if tries <= 4 => continue,
                Err(_) => {}
            }
            return r;
        }
    }

    fn reject(&mut self, id: OrderId, code: Option<i64>, out: Out) {
        let Some(w) = self.working.remove(&id) else {
            return;
        };
        match code {
            Some(c) => *self.stats.rejected_by_code.entry(c).or_default() += 1,
            None => self.stats.rejected_local += 1,
        }
        out(report(&w.order, ExecKind::Rejected, 0, 0, 0));
    }

    /// Adopts the venue's view of an order: Ack, fills since last seen, end state.
    fn apply(&mut self, id: OrderId, vo: &VenueOrder, out: Out) {
        if vo.status == OrderStatus::Rejected {
            *self.stats.rejected_by_code.entry(0).or_default() += 1;
            if let Some(w) = self.working.remove(&id) {
                out(report(&w.order, ExecKind::Rejected, 0, 0, 0));
            }
            return;
        }
        let Some(w) = self.working.get_mut(&id) else {
            return;
        };
        let orig = w.order.qty.0;
        w.unknown = false;
        if !w.acked {
            w.acked = true;
            self.stats.acked += 1;
            out(report(&w.order, ExecKind::Ack, 0, 0, orig - w.cum_qty));
        }
        let new_cum = vo.executed_qty.0.min(orig);
        if new_cum > w.cum_qty {
            let fill_sum: i64 = vo.fills.iter().map(|f| f.qty.0).sum();
            if w.cum_qty == 0 && fill_sum == new_cum {
                for f in &vo.fills {
                    w.cum_qty += f.qty.0;
                    w.cum_quote += quote(f.price, f.qty);
                    self.stats.fills += 1;
                    out(fill_report(w, f.qty.0, f.price.0));
                }
            } else {
                let dq = new_cum - w.cum_qty;
                let dquote = vo.cum_quote - w.cum_quote;
                let px = if dquote > 0 {
                    i64::try_from(i128::from(dquote) * i128::from(FIXED_SCALE) / i128::from(dq))
                        .unwrap_or(vo.price.0)
                } else {
                    vo.price.0
                };
                w.cum_qty = new_cum;
                w.cum_quote = vo.cum_quote;
                self.stats.fills += 1;
                out(fill_report(w, dq, px));
            }
        }
        let done = w.cum_qty >= orig;
        match vo.status {
            _ if done => {
                self.stats.filled += 1;
                self.working.remove(&id);
            }
            OrderStatus::Filled => {
                // The venue says filled but reported less: close it out.
                self.stats.filled += 1;
                out(report(&w.order, ExecKind::Filled, 0, 0, 0));
                self.working.remove(&id);
            }
            OrderStatus::Canceled => {
                self.stats.cancelled += 1;
                out(report(&w.order, ExecKind::Cancelled, 0, 0, 0));
                self.working.remove(&id);
            }
            OrderStatus::Expired => {
                self.stats.expired += 1;
                out(report(&w.order, ExecKind::Expired, 0, 0, 0));
                self.working.remove(&id);
            }
            _ => {}
        }
    }
}

fn quote(px: Px, qty: Qty) -> i64 {
    i64::try_from(i128::from(px.0) * i128::from(qty.0) / i128::from(FIXED_SCALE))
        .unwrap_or(i64::MAX)
}

fn fill_report(w: &Working, qty: i64, px: i64) -> ExecReport {
    let leaves = (w.order.qty.0 - w.cum_qty).max(0);
    let kind = if leaves == 0 {
        ExecKind::Filled
    } else {
        ExecKind::PartialFill
    };
    report(&w.order, kind, qty, px, leaves)
}

fn report(o: &Order, kind: ExecKind, last_qty: i64, last_px: i64, leaves: i64) -> ExecReport {
    ExecReport {
        id: o.id,
        symbol: o.symbol,
        side: o.side,
        kind,
        last_qty: Qty(last_qty),
        last_px: Px(last_px),
        leaves_qty: Qty(leaves),
    }
}
