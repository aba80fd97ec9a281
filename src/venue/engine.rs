//! The simulator's market and account: one book per instrument (tickwire's
//! own `Decoder` + `Sequencer` + `L2Book`), a `PaperVenue` for matching, and
//! the orders, fills and positions of the one account.

use std::collections::{BTreeMap, HashMap};

use tickwire_book::L2Book;
use tickwire_capture::Capture;
use tickwire_config::schema::PaperConf;
use tickwire_core::msg::MdEvent;
use tickwire_core::orders::{
    ExecKind, ExecReport, Order, OrderId, PathStamps, RouterCmd, TimeInForce,
};
use tickwire_core::types::{FIXED_SCALE, Level, Market, Px, Qty, Side, SymbolId, SymbolName};
use tickwire_md::Decoder;
use tickwire_md::Frame;
use tickwire_md::{FrameStamps, Sequencer};
use tickwire_router::PaperVenue;

use super::{AccountView, OrderStatus, OrderView, position_key};

/// One instrument the simulator keeps a book for.
pub(crate) struct Inst {
    pub(crate) market: Market,
    pub(crate) name: SymbolName,
    seq: Sequencer,
    pub(crate) book: L2Book,
    /// `u` of the last diff applied (0 before the first).
    pub(crate) last_u: u64,
}

/// What a served frame was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A depth diff.
    Diff,
    /// A bookTicker.
    Ticker,
    /// A trade (`aggregate` for aggTrade).
    Trade { aggregate: bool },
    /// A REST snapshot line (never sent).
    Snapshot,
    /// Another well-formed event.
    Other,
    /// Undecodable.
    Bad,
}

/// One fill of an order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fill {
    pub(crate) px: Px,
    pub(crate) qty: Qty,
    pub(crate) trade_id: u64,
}

/// One order of the account.
#[derive(Clone, Debug)]
pub(crate) struct OrderRec {
    pub(crate) view: OrderView,
    pub(crate) client_id: String,
    pub(crate) tif: TimeInForce,
    pub(crate) time_ms: u64,
    pub(crate) update_ms: u64,
    /// Sum of px * qty in 1e-16 units.
    pub(crate) cum_quote: i128,
    pub(crate) fills: Vec<Fill>,
}

impl OrderRec {
    /// Cumulative quote quantity as a fixed-point value.
    pub(crate) fn cum_quote_qty(&self) -> Qty {
        Qty(i64::try_from(self.cum_quote / i128::from(FIXED_SCALE)).unwrap_or(i64::MAX))
    }
}

/// A new order as parsed from a request.
#[derive(Clone, Debug)]
pub(crate) struct NewOrder {
    pub(crate) inst: usize,
    pub(crate) side: Side,
    pub(crate) tif: TimeInForce,
    pub(crate) px: Px,
    pub(crate) qty: Qty,
    pub(crate) client_id: String,
}

/// The simulator's market and account.
pub(crate) struct Engine {
    pub(crate) insts: Vec<Inst>,
    decoder: Decoder,
    paper: PaperVenue,
    pub(crate) orders: HashMap<String, OrderRec>,
    pub(crate) by_id: HashMap<u64, String>,
    next_order_id: u64,
    next_trade_id: u64,
    fills: u64,
    positions: BTreeMap<String, i64>,
    /// Execution events not yet pushed to user-data streams.
    pub(crate) events: Vec<String>,
    /// Futures only: `(instrument, u of a diff)` -> `U` of the next diff.
    next_first: HashMap<(usize, u64), u64>,
}

impl Engine {
    /// An engine knowing the instruments of `capture`'s sources.
    pub(crate) fn new(capture: &Capture, max_take_pct: u32) -> Engine {
        let mut e = Engine {
            insts: Vec::new(),
            decoder: Decoder::new(),
            paper: PaperVenue::new(&PaperConf { max_take_pct }),
            orders: HashMap::new(),
            by_id: HashMap::new(),
            next_order_id: 1,
            next_trade_id: 1,
            fills: 0,
            positions: BTreeMap::new(),
            events: Vec::new(),
            next_first: HashMap::new(),
        };
        for s in capture.sources() {
            if let Some(name) = s.symbol {
                e.inst(s.market.unwrap_or(Market::Spot), name);
            }
        }
        e.scan_futures_diffs(capture);
        e
    }

    /// Futures snapshots must name an id inside the next diff's range
    /// (`U <= lastUpdateId <= u`), so the ids of consecutive diffs are
    /// learnt up front.
    fn scan_futures_diffs(&mut self, capture: &Capture) {
        let mut last: HashMap<usize, u64> = HashMap::new();
        for f in capture.iter() {
            let market = match capture.sources().get(usize::from(f.source)) {
                Some(s) => s.market.unwrap_or(Market::Spot),
                None => Market::Spot,
            };
            if market == Market::Spot {
                continue;
            }
            let Ok(Frame::Depth(d)) = self.decoder.decode(f.bytes) else {
                continue;
            };
            let (first, u, sym) = (d.first_id, d.last_id, d.symbol);
            let i = inst_of(&mut self.insts, market, sym);
            if let Some(prev) = last.insert(i, u) {
                self.next_first.insert((i, prev), first);
            }
        }
    }

    /// The `lastUpdateId` a depth snapshot of `inst` reports: `u` of the
    /// last diff applied on spot (the next diff has `U = u + 1`); on
    /// futures the next diff's `U`, since the book already holds every
    /// update before it and re-applying that diff's levels is harmless.
    pub(crate) fn snapshot_id(&self, inst: usize) -> u64 {
        let Some(n) = self.insts.get(inst) else {
            return 0;
        };
        if n.market == Market::Spot {
            return n.last_u;
        }
        self.next_first
            .get(&(inst, n.last_u))
            .copied()
            .unwrap_or(n.last_u)
    }

    /// Index of the instrument, created on first sight.
    pub(crate) fn inst(&mut self, market: Market, name: SymbolName) -> usize {
        inst_of(&mut self.insts, market, name)
    }

    /// Index of a known instrument.
    pub(crate) fn find(&self, market: Market, name: &SymbolName) -> Option<usize> {
        self.insts
            .iter()
            .position(|i| i.market == market && i.name == *name)
    }

    /// True when the instrument's book is synced.
    pub(crate) fn synced(&self, inst: usize) -> bool {
        self.insts.get(inst).is_some_and(|i| i.seq.is_synced())
    }

    /// Applies one capture frame to the books and the paper venue, and
    /// says what it was and whose symbol it carries.
    pub(crate) fn on_frame(
        &mut self,
        bytes: &[u8],
        market: Option<Market>,
        source_symbol: Option<SymbolName>,
    ) -> (Kind, Option<SymbolName>) {
        let market = market.unwrap_or(Market::Spot);
        let Engine {
            insts,
            decoder,
            paper,
            ..
        } = self;
        let mut reports: Vec<ExecReport> = Vec::new();
        let out = match decoder.decode(bytes) {
            Err(_) => (Kind::Bad, None),
            Ok(Frame::Depth(d)) => {
                let i = inst_of(insts, market, d.symbol);
                let inst = &mut insts[i];
                let Inst {
                    seq, book, last_u, ..
                } = inst;
                seq.on_diff(&d, FrameStamps::default(), &mut |ev| {
                    apply(book, last_u, ev)
                });
                if seq.is_synced()
                    && let (Some(bid), Some(ask)) = (book.best_bid(), book.best_ask())
                {
                    paper.on_top(SymbolId(i as u16), bid, ask, &mut |r| reports.push(r));
                }
                (Kind::Diff, Some(d.symbol))
            }
            Ok(Frame::Snapshot(s)) => {
                if let Some(name) = source_symbol {
                    let i = inst_of(insts, market, name);
                    let Inst {
                        seq, book, last_u, ..
                    } = &mut insts[i];
                    seq.on_snapshot(&s, &mut |ev| apply(book, last_u, ev));
                }
                (Kind::Snapshot, source_symbol)
            }
            Ok(Frame::Ticker(t)) => (Kind::Ticker, Some(t.symbol)),
            Ok(Frame::Trade(t)) => {
                let i = inst_of(insts, market, t.symbol);
                paper.on_trade(
                    SymbolId(i as u16),
                    t.px,
                    t.qty,
                    t.buyer_is_maker,
                    &mut |r| reports.push(r),
                );
                (
                    Kind::Trade {
                        aggregate: t.aggregate,
                    },
                    Some(t.symbol),
                )
            }
            Ok(Frame::Other(_)) => (Kind::Other, None),
        };
        for r in reports {
            self.on_report(&r);
        }
        out
    }

    /// Places a new order (the caller checked the client id is new).
    pub(crate) fn new_order(&mut self, o: NewOrder) -> String {
        let id = self.next_order_id;
        self.next_order_id += 1;
        let now = super::now_ms();
        let inst = &self.insts[o.inst];
        let rec = OrderRec {
            view: OrderView {
                order_id: id,
                market: inst.market,
                symbol: inst.name.to_string(),
                side: o.side,
                price: o.px,
                orig_qty: o.qty,
                executed_qty: Qty(0),
                status: OrderStatus::New,
            },
            client_id: o.client_id.clone(),
            tif: o.tif,
            time_ms: now,
            update_ms: now,
            cum_quote: 0,
            fills: Vec::new(),
        };
        self.events
            .push(super::userdata::execution_report(&rec, "NEW", None));
        self.orders.insert(o.client_id.clone(), rec);
        self.by_id.insert(id, o.client_id.clone());
        let order = Order {
            id: OrderId(id),
            symbol: SymbolId(o.inst as u16),
            side: o.side,
            px: o.px,
            qty: o.qty,
            tif: o.tif,
            stamps: PathStamps::default(),
        };
        self.cmd(&RouterCmd::New(order));
        o.client_id
    }

    /// Cancels one open order by client id; false if it is not open.
    pub(crate) fn cancel(&mut self, client_id: &str) -> bool {
        let Some(rec) = self.orders.get(client_id) else {
            return false;
        };
        if !rec.view.status.is_open() {
            return false;
        }
        let id = rec.view.order_id;
        self.cmd(&RouterCmd::Cancel(OrderId(id)));
        true
    }

    fn cmd(&mut self, cmd: &RouterCmd) {
        let mut reports = Vec::new();
        self.paper.on_cmd(cmd, &mut |r| reports.push(r));
        for r in reports {
            self.on_report(&r);
        }
    }

    fn on_report(&mut self, r: &ExecReport) {
        let Some(cid) = self.by_id.get(&r.id.0) else {
            return;
        };
        let Some(rec) = self.orders.get_mut(cid) else {
            return;
        };
        rec.update_ms = super::now_ms();
        let (exec, fill) = match r.kind {
            ExecKind::Ack => return,
            ExecKind::PartialFill | ExecKind::Filled => {
                let fill = Fill {
                    px: r.last_px,
                    qty: r.last_qty,
                    trade_id: self.next_trade_id,
                };
                self.next_trade_id += 1;
                self.fills += 1;
                rec.view.executed_qty.0 += r.last_qty.0;
                rec.cum_quote += i128::from(r.last_px.0) * i128::from(r.last_qty.0);
                rec.fills.push(fill);
                rec.view.status = if r.kind == ExecKind::Filled {
                    OrderStatus::Filled
                } else {
                    OrderStatus::PartiallyFilled
                };
                let signed = match rec.view.side {
                    Side::Buy => r.last_qty.0,
                    Side::Sell => -r.last_qty.0,
                };
                *self
                    .positions
                    .entry(position_key(rec.view.market, &rec.view.symbol))
                    .or_default() += signed;
                ("TRADE", Some(fill))
            }
            ExecKind::Cancelled => {
                rec.view.status = OrderStatus::Canceled;
                ("CANCELED", None)
            }
            ExecKind::Expired => {
                rec.view.status = OrderStatus::Expired;
                ("EXPIRED", None)
            }
            ExecKind::Rejected => {
                rec.view.status = OrderStatus::Rejected;
                ("REJECTED", None)
            }
        };
        let ev = super::userdata::execution_report(rec, exec, fill);
        self.events.push(ev);
    }

    /// Open orders of one instrument (or of all when `inst` is `None`),
    /// oldest first.
    pub(crate) fn open_orders(&self, inst: Option<usize>) -> Vec<&OrderRec> {
        let mut v: Vec<&OrderRec> = self
            .orders
            .values()
            .filter(|r| r.view.status.is_open())
            .filter(|r| {
                inst.is_none_or(|i| {
                    let n = &self.insts[i];
                    r.view.market == n.market && r.view.symbol == n.name.to_string()
                })
            })
            .collect();
        v.sort_by_key(|r| r.view.order_id);
        v
    }

    /// Snapshot of the account.
    pub(crate) fn account(&self) -> AccountView {
        AccountView {
            positions: self
                .positions
                .iter()
                .map(|(k, v)| (k.clone(), Qty(*v)))
                .collect(),
            orders: self
                .orders
                .iter()
                .map(|(k, r)| (k.clone(), r.view.clone()))
                .collect(),
            fills: self.fills,
        }
    }
}

fn inst_of(insts: &mut Vec<Inst>, market: Market, name: SymbolName) -> usize {
    if let Some(i) = insts
        .iter()
        .position(|i| i.market == market && i.name == name)
    {
        return i;
    }
    let id = SymbolId(u16::try_from(insts.len()).unwrap_or(u16::MAX));
    insts.push(Inst {
        market,
        name,
        seq: Sequencer::new(id, market),
        book: L2Book::new(None),
        last_u: 0,
    });
    insts.len() - 1
}

/// Applies one sequencer event to the simulator's book.
fn apply(book: &mut L2Book, last_u: &mut u64, ev: MdEvent) {
    match ev {
        MdEvent::SnapshotBegin { .. } => book.clear(),
        MdEvent::Level { side, level, .. } => book.apply(side, level.px, level.qty),
        MdEvent::SnapshotEnd { last_update_id, .. } => *last_u = last_update_id,
        MdEvent::DiffEnd { last_id, .. } => *last_u = last_id,
        _ => {}
    }
}

/// Levels of one side, best first, at most `limit`.
pub(crate) fn levels(book: &L2Book, side: Side, limit: usize) -> Vec<Level> {
    book.levels(side).take(limit).collect()
}
