//! The simulator's exchange: instruments (own book + filters), the account
//! (spot balances, futures wallets and positions), orders and matching.
//!
//! Matching (the simulator's own, deliberately simple):
//! - A marketable LIMIT (price through the opposite best) or MARKET order
//!   takes from the simulator's own book, best level first, at most
//!   `max_take_pct` % of each level (rounded down to the step), at the
//!   level's price. The book itself is never changed by our fills: it stays
//!   the capture's book.
//! - A resting order fills when a served `trade`/`aggTrade` prints at or
//!   through its price: `min(remaining, trade qty)` at the order's price
//!   (maker). Several resting orders share one trade's quantity in time
//!   priority.
//! - GTC remainders rest; IOC and MARKET remainders end `EXPIRED`; FOK ends
//!   `EXPIRED` without fills unless it can fill completely; LIMIT_MAKER
//!   (spot) is rejected `-2010` and GTX (futures) ends `EXPIRED` when it
//!   would take.
//! - No commissions (`n` = `0`). No margin checks on futures.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::{Value, json};

use crate::book::{Book, Diff, Outcome};
use crate::dec::Dec;
use crate::source::{Digits, Frame, Kind, Source, levels};
use crate::{
    AccountView, FillView, Market, OrderStatus, OrderView, Side, SimConfig, SimError, now_ms,
    position_key,
};

/// Closed orders kept for queries (the oldest are forgotten past this).
const MAX_ORDERS: usize = 200_000;
/// Fills kept for [`AccountView::fill_list`].
const MAX_FILLS: usize = 100_000;

/// A Binance error answer: HTTP status, `code`, `msg`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) code: i64,
    pub(crate) msg: String,
}

impl ApiError {
    pub(crate) fn new(status: u16, code: i64, msg: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            msg: msg.into(),
        }
    }

    /// A 400 answer.
    pub(crate) fn bad(code: i64, msg: impl Into<String>) -> ApiError {
        ApiError::new(400, code, msg)
    }

    pub(crate) fn body(&self) -> String {
        json!({"code": self.code, "msg": self.msg}).to_string()
    }
}

/// Trading rules of one symbol (what `exchangeInfo` shows and new orders
/// are checked against).
#[derive(Clone, Debug)]
pub(crate) struct Rules {
    pub(crate) tick: Dec,
    pub(crate) step: Dec,
    pub(crate) min_price: Dec,
    pub(crate) max_price: Dec,
    pub(crate) min_qty: Dec,
    pub(crate) max_qty: Dec,
    pub(crate) min_notional: Dec,
    pub(crate) max_notional: Dec,
    pub(crate) price_dec: u32,
    pub(crate) qty_dec: u32,
    pub(crate) base: String,
    pub(crate) quote: String,
    /// Futures margin asset (USD-M: quote; COIN-M: base).
    pub(crate) margin: String,
    /// COIN-M contract size in USD (100 for BTC, 10 otherwise).
    pub(crate) contract_size: Dec,
}

const QUOTES: [&str; 14] = [
    "USDT", "USDC", "FDUSD", "TUSD", "BUSD", "USD", "BTC", "ETH", "BNB", "EUR", "TRY", "BRL",
    "JPY", "DAI",
];

fn split_symbol(market: Market, symbol: &str) -> (String, String) {
    if market == Market::CoinM {
        let pair = symbol.split('_').next().unwrap_or(symbol);
        let base = pair.strip_suffix("USD").unwrap_or(pair);
        return (base.to_string(), "USD".to_string());
    }
    for q in QUOTES {
        if let Some(b) = symbol.strip_suffix(q)
            && !b.is_empty()
        {
            return (b.to_string(), q.to_string());
        }
    }
    let mut cut = symbol.len().saturating_sub(4);
    while !symbol.is_char_boundary(cut) {
        cut -= 1;
    }
    (symbol[..cut].to_string(), symbol[cut..].to_string())
}

impl Rules {
    fn derive(market: Market, symbol: &str, digits: Option<(u32, u32)>, cfg: &SimConfig) -> Rules {
        let (pd, qd) = digits.unwrap_or((2, 3));
        let (pd, qd) = (pd.min(8), qd.min(8));
        let (base, quote) = split_symbol(market, symbol);
        let ov = cfg.symbol_rules.iter().find(|r| r.symbol == symbol);
        let tick = ov
            .and_then(|o| o.tick_size.as_deref())
            .and_then(Dec::parse)
            .filter(Dec::is_positive)
            .unwrap_or(Dec::unit(pd));
        let step = ov
            .and_then(|o| o.step_size.as_deref())
            .and_then(Dec::parse)
            .filter(Dec::is_positive)
            .unwrap_or(Dec::unit(qd));
        let min_notional = ov
            .and_then(|o| o.min_notional.as_deref())
            .and_then(Dec::parse)
            .unwrap_or(if market == Market::CoinM {
                Dec::ZERO
            } else {
                Dec::from_int(5)
            });
        let margin = if market == Market::CoinM {
            base.clone()
        } else {
            quote.clone()
        };
        let contract_size = if market == Market::CoinM && base == "BTC" {
            Dec::from_int(100)
        } else {
            Dec::from_int(10)
        };
        Rules {
            tick,
            step,
            min_price: tick,
            max_price: Dec::from_int(10_000_000),
            min_qty: step,
            max_qty: Dec::from_int(100_000),
            min_notional,
            max_notional: Dec::from_int(9_000_000_000),
            price_dec: tick.scale_digits(),
            qty_dec: step.scale_digits(),
            base,
            quote,
            margin,
            contract_size,
        }
    }
}

/// One instrument: its own book and rules.
pub(crate) struct Instrument {
    pub(crate) book: Book,
    pub(crate) rules: Rules,
    pub(crate) last_trade: Option<Dec>,
    /// Snapshot lines loaded so far.
    pub(crate) snapshots: u64,
    /// True once a depth request was answered from this book.
    pub(crate) depth_served: bool,
}

impl Instrument {
    /// Reference price for PERCENT_PRICE checks: last trade, else mid.
    fn reference(&self) -> Option<Dec> {
        self.last_trade.or_else(|| {
            let b = self.book.best_bid()?.0;
            let a = self.book.best_ask()?.0;
            b.checked_add(a)?.checked_div(Dec::from_int(2))
        })
    }

    fn mark(&self) -> Option<Dec> {
        self.reference()
    }
}

/// Order type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OType {
    Limit,
    Market,
    LimitMaker,
}

impl OType {
    fn as_str(&self) -> &'static str {
        match self {
            OType::Limit => "LIMIT",
            OType::Market => "MARKET",
            OType::LimitMaker => "LIMIT_MAKER",
        }
    }
}

/// Time in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tif {
    Gtc,
    Ioc,
    Fok,
    Gtx,
}

impl Tif {
    fn as_str(&self) -> &'static str {
        match self {
            Tif::Gtc => "GTC",
            Tif::Ioc => "IOC",
            Tif::Fok => "FOK",
            Tif::Gtx => "GTX",
        }
    }
}

/// `newOrderRespType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RespType {
    Ack,
    Result,
    Full,
}

/// A validated new-order request.
#[derive(Clone, Debug)]
pub(crate) struct NewOrder {
    pub(crate) symbol: String,
    pub(crate) side: Side,
    pub(crate) otype: OType,
    pub(crate) tif: Tif,
    pub(crate) qty: Dec,
    pub(crate) price: Dec,
    pub(crate) client_id: String,
    pub(crate) resp: RespType,
    pub(crate) reduce_only: bool,
}

/// How an order is named in a cancel or query.
#[derive(Clone, Debug)]
pub(crate) enum OrderRef {
    Id(u64),
    Client(String),
}

/// One fill of an order.
#[derive(Clone, Debug)]
pub(crate) struct Fill {
    pub(crate) price: Dec,
    pub(crate) qty: Dec,
    pub(crate) trade_id: u64,
    pub(crate) maker: bool,
    pub(crate) realized: Dec,
}

/// An order.
#[derive(Clone, Debug)]
pub(crate) struct Order {
    pub(crate) id: u64,
    pub(crate) client_id: String,
    pub(crate) market: Market,
    pub(crate) symbol: String,
    pub(crate) side: Side,
    pub(crate) otype: OType,
    pub(crate) tif: Tif,
    pub(crate) price: Dec,
    pub(crate) orig_qty: Dec,
    pub(crate) executed: Dec,
    /// Quote (spot, USD-M) or base (COIN-M) transacted.
    pub(crate) cum_quote: Dec,
    pub(crate) status: OrderStatus,
    pub(crate) time: u64,
    pub(crate) update: u64,
    /// Spot: amount still locked for the order (quote for buys, base for sells).
    pub(crate) locked: Dec,
    pub(crate) reduce_only: bool,
    pub(crate) fills: Vec<Fill>,
}

impl Order {
    fn remaining(&self) -> Dec {
        self.orig_qty.minus(self.executed)
    }
}

/// Futures position (one-way mode).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Position {
    pub(crate) amt: Dec,
    pub(crate) entry: Dec,
    pub(crate) realized: Dec,
    pub(crate) update: u64,
}

/// A user-data event for the account, not yet wrapped.
#[derive(Clone, Debug)]
pub(crate) struct UserEvent {
    pub(crate) market: Market,
    pub(crate) json: String,
}

/// Instrument key.
type Key = (Market, String);

/// The exchange.
pub(crate) struct Engine {
    pub(crate) instruments: BTreeMap<Key, Instrument>,
    digits: Digits,
    orders: BTreeMap<u64, Order>,
    open: BTreeMap<Key, BTreeSet<u64>>,
    closed: VecDeque<u64>,
    /// Spot balances: asset -> (free, locked).
    balances: BTreeMap<String, (Dec, Dec)>,
    /// Futures wallets: (market, asset) -> balance.
    wallets: BTreeMap<(Market, String), Dec>,
    positions: BTreeMap<Key, Position>,
    /// Spot: net base bought per instrument.
    spot_net: BTreeMap<Key, Dec>,
    fill_list: VecDeque<FillView>,
    fills: u64,
    next_order: u64,
    next_trade: u64,
    max_take_pct: u32,
    initial: Dec,
    initial_overrides: BTreeMap<String, Dec>,
    cfg_rules: SimConfig,
    /// Events produced since the last drain.
    pub(crate) events: Vec<UserEvent>,
}

fn dec_of(v: &Value, k: &str) -> Option<Dec> {
    v.get(k).and_then(|x| x.as_str()).and_then(Dec::parse)
}

fn u64_of(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(Value::as_u64).unwrap_or(0)
}

/// Formats a spot amount (8 decimals, as Binance spot answers).
fn s8(d: Dec) -> String {
    d.fmt_fixed(8)
}

impl Engine {
    pub(crate) fn new(
        cfg: &SimConfig,
        sources: &[Source],
        digits: &Digits,
    ) -> Result<Engine, SimError> {
        let mut e = Engine {
            instruments: BTreeMap::new(),
            digits: digits.clone(),
            orders: BTreeMap::new(),
            open: BTreeMap::new(),
            closed: VecDeque::new(),
            balances: BTreeMap::new(),
            wallets: BTreeMap::new(),
            positions: BTreeMap::new(),
            spot_net: BTreeMap::new(),
            fill_list: VecDeque::new(),
            fills: 0,
            next_order: 1,
            next_trade: 1,
            max_take_pct: cfg.max_take_pct.clamp(1, 100),
            initial: Dec::parse(&cfg.initial_balance).unwrap_or(Dec::ZERO),
            initial_overrides: cfg
                .initial_balances
                .iter()
                .filter_map(|(a, v)| Some((a.to_ascii_uppercase(), Dec::parse(v)?)))
                .collect(),
            cfg_rules: SimConfig {
                memory_sources: Vec::new(),
                ..cfg.clone()
            },
            events: Vec::new(),
        };
        for s in sources {
            if let Some(sym) = &s.symbol {
                e.instrument(s.market, sym);
            }
        }
        Ok(e)
    }

    fn instrument(&mut self, market: Market, symbol: &str) -> &mut Instrument {
        let key = (market, symbol.to_string());
        if !self.instruments.contains_key(&key) {
            let rules = Rules::derive(
                market,
                symbol,
                self.digits.get(symbol).copied(),
                &self.cfg_rules,
            );
            self.instruments.insert(
                key.clone(),
                Instrument {
                    book: Book::new(market.futures()),
                    rules,
                    last_trade: None,
                    snapshots: 0,
                    depth_served: false,
                },
            );
            for asset in [
                self.instruments[&key].rules.base.clone(),
                self.instruments[&key].rules.quote.clone(),
            ] {
                self.spot_balance(&asset);
            }
        }
        self.instruments.get_mut(&key).expect("just inserted")
    }

    fn initial_of(&self, asset: &str) -> Dec {
        self.initial_overrides
            .get(asset)
            .copied()
            .unwrap_or(self.initial)
    }

    fn spot_balance(&mut self, asset: &str) -> &mut (Dec, Dec) {
        let init = self.initial_of(asset);
        self.balances
            .entry(asset.to_string())
            .or_insert((init, Dec::ZERO))
    }

    fn wallet(&mut self, market: Market, asset: &str) -> &mut Dec {
        let init = self.initial_of(asset);
        self.wallets
            .entry((market, asset.to_string()))
            .or_insert(init)
    }

    /// Notes that a depth request was answered (see `hold_at_snapshot`).
    pub(crate) fn mark_depth_served(&mut self, market: Market, symbol: &str) {
        if let Some(i) = self.instruments.get_mut(&(market, symbol.to_string())) {
            i.depth_served = true;
        }
    }

    /// Looks up an instrument of `market`.
    pub(crate) fn get(&self, market: Market, symbol: &str) -> Option<&Instrument> {
        self.instruments.get(&(market, symbol.to_string()))
    }

    // ----- market data -----------------------------------------------------

    /// Feeds one frame: books, trades (fills of resting orders). Returns
    /// `(kind, symbol, book outcome of a diff)`.
    pub(crate) fn on_frame(&mut self, market: Market, frame: &Frame<'_>) -> Option<Outcome> {
        let sym = frame.symbol.as_deref()?;
        match frame.kind {
            Kind::Snapshot => {
                let ev = &frame.event;
                let last = u64_of(ev, "lastUpdateId");
                let (e, t) = (u64_of(ev, "E"), u64_of(ev, "T"));
                let bids = levels(ev, "bids");
                let asks = levels(ev, "asks");
                self.instrument(market, sym)
                    .book
                    .on_snapshot(last, &bids, &asks, e, t);
                None
            }
            Kind::Diff => {
                let ev = &frame.event;
                let d = Diff {
                    first: u64_of(ev, "U"),
                    last: u64_of(ev, "u"),
                    prev: ev.get("pu").and_then(Value::as_u64),
                    bids: levels(ev, "b"),
                    asks: levels(ev, "a"),
                    e_ms: u64_of(ev, "E"),
                    t_ms: u64_of(ev, "T"),
                };
                Some(self.instrument(market, sym).book.on_diff(d))
            }
            Kind::Trade | Kind::AggTrade => {
                let (Some(p), Some(q)) = (dec_of(&frame.event, "p"), dec_of(&frame.event, "q"))
                else {
                    return None;
                };
                self.instrument(market, sym).last_trade = Some(p);
                self.on_trade(market, sym, p, q);
                None
            }
            _ => None,
        }
    }

    fn on_trade(&mut self, market: Market, sym: &str, px: Dec, qty: Dec) {
        let key = (market, sym.to_string());
        let Some(ids) = self.open.get(&key) else {
            return;
        };
        let ids: Vec<u64> = ids.iter().copied().collect();
        let mut left = qty;
        for id in ids {
            if !left.is_positive() {
                break;
            }
            let Some(o) = self.orders.get(&id) else {
                continue;
            };
            let crosses = match o.side {
                Side::Buy => px <= o.price,
                Side::Sell => px >= o.price,
            };
            if !crosses || o.otype == OType::Market {
                continue;
            }
            let q = o.remaining().min(left);
            if !q.is_positive() {
                continue;
            }
            left = left.minus(q);
            let price = o.price;
            self.fill(id, price, q, true);
            self.after_change(id);
        }
    }

    // ----- orders ------------------------------------------------------------

    fn check_filters(
        &self,
        market: Market,
        inst: &Instrument,
        n: &NewOrder,
    ) -> Result<(), ApiError> {
        let r = &inst.rules;
        let fut = market.futures();
        if n.otype != OType::Market {
            if !n.price.is_positive() {
                return Err(if fut {
                    ApiError::bad(-4013, "Price less than min price.")
                } else {
                    ApiError::bad(-1013, "Filter failure: PRICE_FILTER")
                });
            }
            if n.price < r.min_price || n.price > r.max_price {
                return Err(if fut {
                    if n.price < r.min_price {
                        ApiError::bad(-4013, "Price less than min price.")
                    } else {
                        ApiError::bad(-4014, "Price not increased by tick size.")
                    }
                } else {
                    ApiError::bad(-1013, "Filter failure: PRICE_FILTER")
                });
            }
            if !n.price.minus(r.min_price).is_multiple_of(r.tick) {
                return Err(if fut {
                    ApiError::bad(-4014, "Price not increased by tick size.")
                } else {
                    ApiError::bad(-1013, "Filter failure: PRICE_FILTER")
                });
            }
        }
        if !n.qty.is_positive() {
            return Err(if fut {
                ApiError::bad(-4003, "Quantity less than or equal to zero.")
            } else {
                ApiError::bad(-1013, "Filter failure: LOT_SIZE")
            });
        }
        if n.qty < r.min_qty || n.qty > r.max_qty || !n.qty.minus(r.min_qty).is_multiple_of(r.step)
        {
            return Err(if fut {
                if n.qty.is_multiple_of(r.step) {
                    ApiError::bad(-4005, "Quantity greater than max quantity.")
                } else {
                    ApiError::bad(-4023, "Quantity not increased by step size.")
                }
            } else {
                ApiError::bad(-1013, "Filter failure: LOT_SIZE")
            });
        }
        let refp = inst.reference();
        let px = if n.otype == OType::Market {
            refp
        } else {
            Some(n.price)
        };
        if market != Market::CoinM
            && let Some(px) = px
        {
            let notional = px.times(n.qty);
            if notional < r.min_notional && !(fut && n.reduce_only) {
                return Err(if fut {
                    ApiError::bad(
                        -4164,
                        format!(
                            "Order's notional must be no smaller than {} (unless you choose reduce only).",
                            r.min_notional
                        ),
                    )
                } else {
                    ApiError::bad(-1013, "Filter failure: NOTIONAL")
                });
            }
            if !fut && notional > r.max_notional {
                return Err(ApiError::bad(-1013, "Filter failure: NOTIONAL"));
            }
        }
        if n.otype != OType::Market
            && let Some(refp) = refp
        {
            if fut {
                let up = refp.times(Dec::parse("1.05").unwrap_or(Dec::ONE));
                let down = refp.times(Dec::parse("0.95").unwrap_or(Dec::ONE));
                if n.side == Side::Buy && n.price > up {
                    return Err(ApiError::bad(
                        -4016,
                        format!(
                            "Limit price can't be higher than {}.",
                            up.fmt_fixed(r.price_dec)
                        ),
                    ));
                }
                if n.side == Side::Sell && n.price < down {
                    return Err(ApiError::bad(
                        -4024,
                        format!(
                            "Limit price can't be lower than {}.",
                            down.fmt_fixed(r.price_dec)
                        ),
                    ));
                }
            } else {
                let up = refp.times(Dec::from_int(5));
                let down = refp.times(Dec::parse("0.2").unwrap_or(Dec::ONE));
                if n.price > up || n.price < down {
                    return Err(ApiError::bad(
                        -1013,
                        "Filter failure: PERCENT_PRICE_BY_SIDE",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Levels a taker order may take: `(price, qty available to us)`.
    fn takeable(&self, key: &Key, n: &NewOrder) -> Vec<(Dec, Dec)> {
        let Some(inst) = self.instruments.get(key) else {
            return Vec::new();
        };
        let pct = Dec::from_int(i64::from(self.max_take_pct));
        let hundred = Dec::from_int(100);
        let step = inst.rules.step;
        let limit = n.otype != OType::Market;
        let take = |(p, l): (&Dec, &crate::book::Level)| {
            let share = l.q.times(pct).checked_div(hundred).unwrap_or(Dec::ZERO);
            let share = share.floor_to(step);
            (*p, share)
        };
        let mut out = Vec::new();
        match n.side {
            Side::Buy => {
                for (p, l) in inst.book.asks_asc() {
                    if limit && *p > n.price {
                        break;
                    }
                    out.push(take((p, l)));
                    if out.len() >= 1000 {
                        break;
                    }
                }
            }
            Side::Sell => {
                for (p, l) in inst.book.bids_desc() {
                    if limit && *p < n.price {
                        break;
                    }
                    out.push(take((p, l)));
                    if out.len() >= 1000 {
                        break;
                    }
                }
            }
        }
        out.retain(|(_, q)| q.is_positive());
        out
    }

    /// Places a new order. Returns the order id.
    pub(crate) fn new_order(&mut self, market: Market, n: NewOrder) -> Result<u64, ApiError> {
        let key = (market, n.symbol.clone());
        let Some(inst) = self.instruments.get(&key) else {
            return Err(ApiError::bad(-1121, "Invalid symbol."));
        };
        self.check_filters(market, inst, &n)?;
        let rules = inst.rules.clone();
        let dup = self.open.get(&key).is_some_and(|ids| {
            ids.iter().any(|id| {
                self.orders
                    .get(id)
                    .is_some_and(|o| o.client_id == n.client_id)
            })
        });
        if dup {
            return Err(if market.futures() {
                ApiError::bad(-4116, "ClientOrderId is duplicated.")
            } else {
                ApiError::bad(-2010, "Duplicate order sent.")
            });
        }
        let levels = self.takeable(&key, &n);
        let avail: Dec = levels.iter().fold(Dec::ZERO, |a, (_, q)| a.plus(*q));
        let marketable = !levels.is_empty();
        if n.otype == OType::LimitMaker && marketable {
            return Err(ApiError::bad(
                -2010,
                "Order would immediately match and take.",
            ));
        }
        // Spot balance check and lock.
        let mut locked = Dec::ZERO;
        if market == Market::Spot {
            let (asset, need) = match (n.side, n.otype) {
                (Side::Buy, OType::Market) => {
                    // Cost of what the book can give us now.
                    let mut left = n.qty;
                    let mut cost = Dec::ZERO;
                    for (p, q) in &levels {
                        let t = left.min(*q);
                        cost = cost.plus(p.times(t));
                        left = left.minus(t);
                        if !left.is_positive() {
                            break;
                        }
                    }
                    (rules.quote.clone(), cost)
                }
                (Side::Buy, _) => (rules.quote.clone(), n.price.times(n.qty)),
                (Side::Sell, _) => (rules.base.clone(), n.qty),
            };
            let bal = self.spot_balance(&asset);
            if bal.0 < need {
                return Err(ApiError::bad(
                    -2010,
                    "Account has insufficient balance for requested action.",
                ));
            }
            if n.otype != OType::Market {
                bal.0 = bal.0.minus(need);
                bal.1 = bal.1.plus(need);
                locked = need;
            }
        }
        let now = now_ms();
        let id = self.next_order;
        self.next_order += 1;
        let order = Order {
            id,
            client_id: n.client_id.clone(),
            market,
            symbol: n.symbol.clone(),
            side: n.side,
            otype: n.otype,
            tif: if n.otype == OType::Market {
                Tif::Gtc
            } else {
                n.tif
            },
            price: if n.otype == OType::Market {
                Dec::ZERO
            } else {
                n.price
            },
            orig_qty: n.qty,
            executed: Dec::ZERO,
            cum_quote: Dec::ZERO,
            status: OrderStatus::New,
            time: now,
            update: now,
            locked,
            reduce_only: n.reduce_only,
            fills: Vec::new(),
        };
        self.orders.insert(id, order);
        self.open.entry(key.clone()).or_default().insert(id);
        self.emit_order(id, "NEW", None);
        if market == Market::Spot {
            self.emit_spot_balances(&rules);
        }
        let fok_short = n.tif == Tif::Fok && avail < n.qty;
        let gtx_takes = n.tif == Tif::Gtx && marketable && market.futures();
        if !fok_short && !gtx_takes {
            let mut left = n.qty;
            for (p, q) in levels {
                if !left.is_positive() {
                    break;
                }
                let t = left.min(q);
                left = left.minus(t);
                self.fill(id, p, t, false);
            }
        }
        let Some(o) = self.orders.get(&id) else {
            return Ok(id);
        };
        if o.status.is_open()
            && (n.otype == OType::Market || matches!(o.tif, Tif::Ioc | Tif::Fok) || gtx_takes)
        {
            self.finish(id, OrderStatus::Expired);
        } else if o.executed.is_positive() {
            self.after_change(id);
        }
        Ok(id)
    }

    /// Applies one fill to the order and the account, and emits its events.
    fn fill(&mut self, id: u64, price: Dec, qty: Dec, maker: bool) {
        let trade_id = self.next_trade;
        self.next_trade += 1;
        let Some(o) = self.orders.get(&id) else {
            return;
        };
        let (market, symbol, side) = (o.market, o.symbol.clone(), o.side);
        let Some(rules) = self
            .instruments
            .get(&(market, symbol.clone()))
            .map(|i| i.rules.clone())
        else {
            return;
        };
        let quote_amt = if market == Market::CoinM {
            // Base transacted: contracts * size / price.
            qty.times(rules.contract_size)
                .checked_div(price)
                .unwrap_or(Dec::ZERO)
        } else {
            price.times(qty)
        };
        let mut realized = Dec::ZERO;
        match market {
            Market::Spot => {
                let order_px = o.price;
                let otype = o.otype;
                let (base, quote) = (rules.base.clone(), rules.quote.clone());
                match side {
                    Side::Buy => {
                        if otype == OType::Market {
                            let b = self.spot_balance(&quote);
                            b.0 = b.0.minus(quote_amt);
                        } else {
                            let reserved = order_px.times(qty);
                            let b = self.spot_balance(&quote);
                            b.1 = b.1.minus(reserved);
                            b.0 = b.0.plus(reserved.minus(quote_amt));
                            if let Some(o) = self.orders.get_mut(&id) {
                                o.locked = o.locked.minus(reserved);
                            }
                        }
                        let b = self.spot_balance(&base);
                        b.0 = b.0.plus(qty);
                    }
                    Side::Sell => {
                        let b = self.spot_balance(&base);
                        if otype == OType::Market {
                            b.0 = b.0.minus(qty);
                        } else {
                            b.1 = b.1.minus(qty);
                            if let Some(o) = self.orders.get_mut(&id) {
                                o.locked = o.locked.minus(qty);
                            }
                        }
                        let b = self.spot_balance(&quote);
                        b.0 = b.0.plus(quote_amt);
                    }
                }
                let net = self.spot_net.entry((market, symbol.clone())).or_default();
                *net = if side == Side::Buy {
                    net.plus(qty)
                } else {
                    net.minus(qty)
                };
            }
            Market::UsdM | Market::CoinM => {
                let signed = if side == Side::Buy {
                    qty
                } else {
                    qty.negated()
                };
                let pos = self.positions.entry((market, symbol.clone())).or_default();
                realized = apply_position(pos, signed, price, market, rules.contract_size);
                pos.update = now_ms();
                let w = self.wallet(market, &rules.margin);
                *w = w.plus(realized);
            }
        }
        let Some(o) = self.orders.get_mut(&id) else {
            return;
        };
        o.executed = o.executed.plus(qty);
        o.cum_quote = o.cum_quote.plus(quote_amt);
        o.update = now_ms();
        o.status = if o.remaining().is_positive() {
            OrderStatus::PartiallyFilled
        } else {
            OrderStatus::Filled
        };
        let f = Fill {
            price,
            qty,
            trade_id,
            maker,
            realized,
        };
        o.fills.push(f.clone());
        if o.fills.len() > 1000 {
            o.fills.remove(0);
        }
        let view = FillView {
            market,
            symbol: symbol.clone(),
            client_order_id: o.client_id.clone(),
            side,
            price,
            qty,
            trade_id,
            maker,
        };
        self.fills += 1;
        self.fill_list.push_back(view);
        if self.fill_list.len() > MAX_FILLS {
            self.fill_list.pop_front();
        }
        self.emit_order(id, "TRADE", Some(&f));
        if self
            .orders
            .get(&id)
            .is_some_and(|o| o.status == OrderStatus::Filled)
        {
            self.close(id);
        }
    }

    /// Balance/position events after an order's fills.
    fn after_change(&mut self, id: u64) {
        let Some(o) = self.orders.get(&id) else {
            return;
        };
        let (market, symbol) = (o.market, o.symbol.clone());
        let Some(rules) = self.get(market, &symbol).map(|i| i.rules.clone()) else {
            return;
        };
        if market == Market::Spot {
            self.emit_spot_balances(&rules);
        } else {
            self.emit_account_update(market, &symbol, &rules);
        }
    }

    fn close(&mut self, id: u64) {
        let Some(o) = self.orders.get(&id) else {
            return;
        };
        let key = (o.market, o.symbol.clone());
        if let Some(s) = self.open.get_mut(&key) {
            s.remove(&id);
        }
        self.closed.push_back(id);
        while self.orders.len() > MAX_ORDERS {
            match self.closed.pop_front() {
                Some(old) => {
                    self.orders.remove(&old);
                }
                None => break,
            }
        }
    }

    /// Ends an open order (cancel or expiry), unlocking what it held.
    fn finish(&mut self, id: u64, status: OrderStatus) {
        let Some(o) = self.orders.get_mut(&id) else {
            return;
        };
        if !o.status.is_open() {
            return;
        }
        o.status = status;
        o.update = now_ms();
        let (market, symbol, side, locked) = (o.market, o.symbol.clone(), o.side, o.locked);
        o.locked = Dec::ZERO;
        let exec = if status == OrderStatus::Canceled {
            "CANCELED"
        } else {
            "EXPIRED"
        };
        if market == Market::Spot
            && let Some(rules) = self.get(market, &symbol).map(|i| i.rules.clone())
        {
            let asset = if side == Side::Buy {
                rules.quote.clone()
            } else {
                rules.base.clone()
            };
            let b = self.spot_balance(&asset);
            b.1 = b.1.minus(locked);
            b.0 = b.0.plus(locked);
            self.emit_order(id, exec, None);
            self.emit_spot_balances(&rules);
        } else {
            self.emit_order(id, exec, None);
        }
        self.close(id);
    }

    fn find(&self, market: Market, symbol: &str, r: &OrderRef) -> Option<u64> {
        match r {
            OrderRef::Id(id) => self
                .orders
                .get(id)
                .filter(|o| o.market == market && o.symbol == symbol)
                .map(|o| o.id),
            OrderRef::Client(c) => self
                .orders
                .values()
                .rev()
                .find(|o| o.market == market && o.symbol == symbol && &o.client_id == c)
                .map(|o| o.id),
        }
    }

    /// Cancels one order.
    pub(crate) fn cancel(
        &mut self,
        market: Market,
        symbol: &str,
        r: &OrderRef,
    ) -> Result<u64, ApiError> {
        if self.get(market, symbol).is_none() {
            return Err(ApiError::bad(-1121, "Invalid symbol."));
        }
        // An open order with that client id first, else any.
        let id = match r {
            OrderRef::Client(c) => self
                .open
                .get(&(market, symbol.to_string()))
                .and_then(|ids| {
                    ids.iter()
                        .copied()
                        .find(|id| self.orders.get(id).is_some_and(|o| &o.client_id == c))
                })
                .or_else(|| self.find(market, symbol, r)),
            OrderRef::Id(_) => self.find(market, symbol, r),
        };
        match id {
            Some(id) if self.orders.get(&id).is_some_and(|o| o.status.is_open()) => {
                self.finish(id, OrderStatus::Canceled);
                Ok(id)
            }
            _ => Err(ApiError::bad(-2011, "Unknown order sent.")),
        }
    }

    /// Cancels every open order of `symbol`; returns their ids.
    pub(crate) fn cancel_all(
        &mut self,
        market: Market,
        symbol: &str,
    ) -> Result<Vec<u64>, ApiError> {
        if self.get(market, symbol).is_none() {
            return Err(ApiError::bad(-1121, "Invalid symbol."));
        }
        let ids: Vec<u64> = self
            .open
            .get(&(market, symbol.to_string()))
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        for id in &ids {
            self.finish(*id, OrderStatus::Canceled);
        }
        Ok(ids)
    }

    /// Finds an order for a query.
    pub(crate) fn query(
        &self,
        market: Market,
        symbol: &str,
        r: &OrderRef,
    ) -> Result<&Order, ApiError> {
        if self.get(market, symbol).is_none() {
            return Err(ApiError::bad(-1121, "Invalid symbol."));
        }
        self.find(market, symbol, r)
            .and_then(|id| self.orders.get(&id))
            .ok_or_else(|| ApiError::bad(-2013, "Order does not exist."))
    }

    /// An order by id.
    pub(crate) fn order(&self, id: u64) -> Option<&Order> {
        self.orders.get(&id)
    }

    /// Open orders of one symbol or all symbols of the market.
    pub(crate) fn open_orders(
        &self,
        market: Market,
        symbol: Option<&str>,
    ) -> Result<Vec<&Order>, ApiError> {
        if let Some(s) = symbol
            && self.get(market, s).is_none()
        {
            return Err(ApiError::bad(-1121, "Invalid symbol."));
        }
        Ok(self
            .open
            .iter()
            .filter(|((m, s), _)| *m == market && symbol.is_none_or(|x| x == s))
            .flat_map(|(_, ids)| ids.iter().filter_map(|id| self.orders.get(id)))
            .collect())
    }

    // ----- answers -----------------------------------------------------------

    /// Rules of an order's instrument.
    pub(crate) fn rules_of(&self, o: &Order) -> Option<&Rules> {
        self.get(o.market, &o.symbol).map(|i| &i.rules)
    }

    /// Spot order in the query shape (`GET /api/v3/order`).
    pub(crate) fn spot_order_json(&self, o: &Order, hide_fills: bool) -> Value {
        let (exec, cum, status) = shown(o, hide_fills);
        json!({
            "symbol": o.symbol,
            "orderId": o.id,
            "orderListId": -1,
            "clientOrderId": o.client_id,
            "price": s8(o.price),
            "origQty": s8(o.orig_qty),
            "executedQty": s8(exec),
            "cummulativeQuoteQty": s8(cum),
            "status": status.as_str(),
            "timeInForce": o.tif.as_str(),
            "type": o.otype.as_str(),
            "side": o.side.as_str(),
            "stopPrice": s8(Dec::ZERO),
            "icebergQty": s8(Dec::ZERO),
            "time": o.time,
            "updateTime": o.update,
            "isWorking": true,
            "workingTime": o.time,
            "origQuoteOrderQty": s8(Dec::ZERO),
            "selfTradePreventionMode": "NONE",
        })
    }

    /// Spot new-order answer of the requested type.
    pub(crate) fn spot_new_json(&self, o: &Order, resp: RespType, hide_fills: bool) -> Value {
        let mut v = json!({
            "symbol": o.symbol,
            "orderId": o.id,
            "orderListId": -1,
            "clientOrderId": o.client_id,
            "transactTime": o.time,
        });
        if resp == RespType::Ack {
            return v;
        }
        let (exec, cum, status) = shown(o, hide_fills);
        if let Some(m) = v.as_object_mut() {
            m.insert("price".into(), s8(o.price).into());
            m.insert("origQty".into(), s8(o.orig_qty).into());
            m.insert("executedQty".into(), s8(exec).into());
            m.insert("origQuoteOrderQty".into(), s8(Dec::ZERO).into());
            m.insert("cummulativeQuoteQty".into(), s8(cum).into());
            m.insert("status".into(), status.as_str().into());
            m.insert("timeInForce".into(), o.tif.as_str().into());
            m.insert("type".into(), o.otype.as_str().into());
            m.insert("side".into(), o.side.as_str().into());
            m.insert("workingTime".into(), o.time.into());
            m.insert("selfTradePreventionMode".into(), "NONE".into());
            if resp == RespType::Full {
                let quote = self
                    .rules_of(o)
                    .map(|r| r.quote.clone())
                    .unwrap_or_default();
                let fills: Vec<Value> = if hide_fills {
                    Vec::new()
                } else {
                    o.fills
                        .iter()
                        .map(|f| {
                            json!({"price": s8(f.price), "qty": s8(f.qty), "commission": s8(Dec::ZERO),
                                   "commissionAsset": quote, "tradeId": f.trade_id})
                        })
                        .collect()
                };
                m.insert("fills".into(), fills.into());
            }
        }
        v
    }

    /// Spot cancel answer.
    pub(crate) fn spot_cancel_json(&self, o: &Order) -> Value {
        json!({
            "symbol": o.symbol,
            "origClientOrderId": o.client_id,
            "orderId": o.id,
            "orderListId": -1,
            "clientOrderId": format!("cancel-{}", o.id),
            "transactTime": o.update,
            "price": s8(o.price),
            "origQty": s8(o.orig_qty),
            "executedQty": s8(o.executed),
            "origQuoteOrderQty": s8(Dec::ZERO),
            "cummulativeQuoteQty": s8(o.cum_quote),
            "status": o.status.as_str(),
            "timeInForce": o.tif.as_str(),
            "type": o.otype.as_str(),
            "side": o.side.as_str(),
            "selfTradePreventionMode": "NONE",
        })
    }

    /// Futures order in Binance's futures shape. `ack` shows the order as
    /// accepted (nothing executed), like Binance's default ACK answer.
    pub(crate) fn fut_order_json(&self, o: &Order, ack: bool) -> Value {
        let (pd, qd) = self
            .rules_of(o)
            .map_or((2, 3), |r| (r.price_dec, r.qty_dec));
        let (exec, cum, status) = shown(o, ack);
        let avg = if exec.is_positive() {
            if o.market == Market::CoinM {
                // Contracts / base transacted * size: the harmonic mean.
                let size = self
                    .rules_of(o)
                    .map_or(Dec::from_int(100), |r| r.contract_size);
                exec.times(size).checked_div(cum).unwrap_or(Dec::ZERO)
            } else {
                cum.checked_div(exec).unwrap_or(Dec::ZERO)
            }
        } else {
            Dec::ZERO
        };
        let mut v = json!({
            "orderId": o.id,
            "symbol": o.symbol,
            "status": status.as_str(),
            "clientOrderId": o.client_id,
            "price": o.price.fmt_fixed(pd),
            "avgPrice": avg.fmt_fixed(pd.clamp(5, 8)),
            "origQty": o.orig_qty.fmt_fixed(qd),
            "executedQty": exec.fmt_fixed(qd),
            "cumQty": exec.fmt_fixed(qd),
            "timeInForce": o.tif.as_str(),
            "type": o.otype.as_str(),
            "reduceOnly": o.reduce_only,
            "closePosition": false,
            "side": o.side.as_str(),
            "positionSide": "BOTH",
            "stopPrice": Dec::ZERO.fmt_fixed(pd),
            "workingType": "CONTRACT_PRICE",
            "priceProtect": false,
            "origType": o.otype.as_str(),
            "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "goodTillDate": 0,
            "time": o.time,
            "updateTime": if ack { o.time } else { o.update },
        });
        if let Some(m) = v.as_object_mut() {
            let (k, dec) = if o.market == Market::CoinM {
                ("cumBase", 8)
            } else {
                ("cumQuote", (pd + qd).clamp(5, 8))
            };
            m.insert(k.into(), cum.fmt_fixed(dec).into());
            if o.market == Market::CoinM {
                let pair = o.symbol.split('_').next().unwrap_or(&o.symbol).to_string();
                m.insert("pair".into(), pair.into());
            }
        }
        v
    }

    /// The depth answer (`None` while the book is not synced).
    pub(crate) fn depth_json(
        &self,
        market: Market,
        symbol: &str,
        limit: usize,
        huge: Option<usize>,
    ) -> Option<String> {
        let inst = self.get(market, symbol)?;
        let b = &inst.book;
        if !b.ready() {
            return None;
        }
        let n = huge.unwrap_or(limit);
        let q = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"0\"".into());
        let mut out = String::with_capacity(64 + n * 40);
        out.push_str(&format!("{{\"lastUpdateId\":{}", b.last_id));
        if market.futures() {
            out.push_str(&format!(
                ",\"E\":{},\"T\":{}",
                now_ms(),
                if b.t_ms > 0 { b.t_ms } else { now_ms() }
            ));
        }
        let tick = inst.rules.tick;
        let pd = inst.rules.price_dec;
        for (name, buy) in [("bids", true), ("asks", false)] {
            out.push_str(&format!(",\"{name}\":["));
            let mut k = 0;
            let mut last: Option<Dec> = None;
            let it: Box<dyn Iterator<Item = (&Dec, &crate::book::Level)>> = if buy {
                Box::new(b.bids_desc())
            } else {
                Box::new(b.asks_asc())
            };
            for (p, l) in it.take(n) {
                if k > 0 {
                    out.push(',');
                }
                out.push_str(&format!("[{},{}]", q(&l.px), q(&l.qty)));
                k += 1;
                last = Some(*p);
            }
            if huge.is_some() {
                let mut p = last.unwrap_or(Dec::from_int(1000));
                while k < n {
                    p = if buy { p.minus(tick) } else { p.plus(tick) };
                    if !p.is_positive() {
                        break;
                    }
                    if k > 0 {
                        out.push(',');
                    }
                    out.push_str(&format!("[\"{}\",\"1\"]", p.fmt_fixed(pd)));
                    k += 1;
                }
            }
            out.push(']');
        }
        out.push('}');
        Some(out)
    }

    /// The `symbols` of `exchangeInfo`.
    pub(crate) fn symbols_json(&self, market: Market, only: Option<&[String]>) -> Vec<Value> {
        self.instruments
            .iter()
            .filter(|((m, s), _)| *m == market && only.is_none_or(|o| o.contains(s)))
            .map(|((_, s), i)| symbol_json(market, s, &i.rules))
            .collect()
    }

    /// Spot `GET /api/v3/account`.
    pub(crate) fn spot_account_json(&self) -> Value {
        let balances: Vec<Value> = self
            .balances
            .iter()
            .map(|(a, (f, l))| json!({"asset": a, "free": s8(*f), "locked": s8(*l)}))
            .collect();
        json!({
            "makerCommission": 0, "takerCommission": 0, "buyerCommission": 0, "sellerCommission": 0,
            "commissionRates": {"maker": "0.00000000", "taker": "0.00000000", "buyer": "0.00000000", "seller": "0.00000000"},
            "canTrade": true, "canWithdraw": false, "canDeposit": false, "brokered": false,
            "requireSelfTradePrevention": false, "preventSor": false,
            "updateTime": now_ms(), "accountType": "SPOT", "balances": balances,
            "permissions": ["SPOT"], "uid": 1,
        })
    }

    fn fut_assets(&mut self, market: Market) -> Vec<String> {
        let mut assets: BTreeSet<String> = self
            .instruments
            .iter()
            .filter(|((m, _), _)| *m == market)
            .map(|(_, i)| i.rules.margin.clone())
            .collect();
        assets.extend(
            self.wallets
                .keys()
                .filter(|(m, _)| *m == market)
                .map(|(_, a)| a.clone()),
        );
        for a in &assets {
            self.wallet(market, a);
        }
        assets.into_iter().collect()
    }

    fn unrealized(&self, market: Market, sym: &str, p: &Position) -> Dec {
        let Some(inst) = self.get(market, sym) else {
            return Dec::ZERO;
        };
        let Some(mark) = inst.mark() else {
            return Dec::ZERO;
        };
        if p.amt.is_zero() || p.entry.is_zero() {
            return Dec::ZERO;
        }
        if market == Market::CoinM {
            let cs = inst.rules.contract_size;
            let inv = |x: Dec| Dec::ONE.checked_div(x).unwrap_or(Dec::ZERO);
            p.amt.times(cs).times(inv(p.entry).minus(inv(mark)))
        } else {
            mark.minus(p.entry).times(p.amt)
        }
    }

    /// Futures positions of the market as `positionRisk` rows (v3: only
    /// symbols with a position or open orders).
    pub(crate) fn position_rows(
        &self,
        market: Market,
        symbol: Option<&str>,
        all: bool,
    ) -> Vec<Value> {
        let mut out = Vec::new();
        for ((m, s), inst) in &self.instruments {
            if *m != market || symbol.is_some_and(|x| x != s) {
                continue;
            }
            let p = self
                .positions
                .get(&(market, s.clone()))
                .copied()
                .unwrap_or_default();
            let has_orders = self
                .open
                .get(&(market, s.clone()))
                .is_some_and(|o| !o.is_empty());
            if !all && p.amt.is_zero() && !has_orders {
                continue;
            }
            let r = &inst.rules;
            let mark = inst.mark().unwrap_or(Dec::ZERO);
            let up = self.unrealized(market, s, &p);
            let notional = if market == Market::CoinM {
                p.amt
                    .times(r.contract_size)
                    .checked_div(mark)
                    .unwrap_or(Dec::ZERO)
            } else {
                p.amt.times(mark)
            };
            let mut row = json!({
                "symbol": s,
                "positionSide": "BOTH",
                "positionAmt": p.amt.fmt_fixed(r.qty_dec),
                "entryPrice": p.entry.fmt_fixed(8),
                "breakEvenPrice": p.entry.fmt_fixed(8),
                "markPrice": mark.fmt_fixed(8),
                "unRealizedProfit": up.fmt_fixed(8),
                "liquidationPrice": "0",
                "isolatedMargin": "0",
                "notional": notional.fmt_fixed(8),
                "marginAsset": r.margin,
                "isolatedWallet": "0",
                "initialMargin": "0",
                "maintMargin": "0",
                "positionInitialMargin": "0",
                "openOrderInitialMargin": "0",
                "adl": 0,
                "bidNotional": "0",
                "askNotional": "0",
                "leverage": "20",
                "marginType": "cross",
                "updateTime": p.update,
            });
            if market == Market::CoinM
                && let Some(m) = row.as_object_mut()
            {
                m.insert("notionalValue".into(), notional.fmt_fixed(8).into());
            }
            out.push(row);
        }
        out
    }

    /// Futures `account` (v2/v3 for USD-M, v1 for COIN-M).
    pub(crate) fn fut_account_json(&mut self, market: Market) -> Value {
        let assets = self.fut_assets(market);
        let mut total_w = Dec::ZERO;
        let mut total_u = Dec::ZERO;
        let mut rows = Vec::new();
        for a in &assets {
            let w = self
                .wallets
                .get(&(market, a.clone()))
                .copied()
                .unwrap_or(Dec::ZERO);
            let u = self
                .positions
                .iter()
                .filter(|((m, s), _)| {
                    *m == market && self.get(market, s).is_some_and(|i| &i.rules.margin == a)
                })
                .fold(Dec::ZERO, |acc, ((_, s), p)| {
                    acc.plus(self.unrealized(market, s, p))
                });
            total_w = total_w.plus(w);
            total_u = total_u.plus(u);
            rows.push(json!({
                "asset": a, "walletBalance": w.fmt_fixed(8), "unrealizedProfit": u.fmt_fixed(8),
                "marginBalance": w.plus(u).fmt_fixed(8), "maintMargin": "0.00000000",
                "initialMargin": "0.00000000", "positionInitialMargin": "0.00000000",
                "openOrderInitialMargin": "0.00000000", "crossWalletBalance": w.fmt_fixed(8),
                "crossUnPnl": u.fmt_fixed(8), "availableBalance": w.plus(u).fmt_fixed(8),
                "maxWithdrawAmount": w.fmt_fixed(8), "updateTime": now_ms(),
            }));
        }
        let positions = self.position_rows(market, None, false);
        json!({
            "totalInitialMargin": "0.00000000", "totalMaintMargin": "0.00000000",
            "totalWalletBalance": total_w.fmt_fixed(8), "totalUnrealizedProfit": total_u.fmt_fixed(8),
            "totalMarginBalance": total_w.plus(total_u).fmt_fixed(8),
            "totalPositionInitialMargin": "0.00000000", "totalOpenOrderInitialMargin": "0.00000000",
            "totalCrossWalletBalance": total_w.fmt_fixed(8), "totalCrossUnPnl": total_u.fmt_fixed(8),
            "availableBalance": total_w.plus(total_u).fmt_fixed(8), "maxWithdrawAmount": total_w.fmt_fixed(8),
            "canTrade": true, "canDeposit": false, "canWithdraw": false, "feeTier": 0,
            "updateTime": now_ms(), "assets": rows, "positions": positions,
        })
    }

    /// Futures `balance` rows.
    pub(crate) fn fut_balance_json(&mut self, market: Market) -> Value {
        let assets = self.fut_assets(market);
        let rows: Vec<Value> = assets
            .iter()
            .map(|a| {
                let w = self
                    .wallets
                    .get(&(market, a.clone()))
                    .copied()
                    .unwrap_or(Dec::ZERO);
                json!({"accountAlias": "sim", "asset": a, "balance": w.fmt_fixed(8),
                       "crossWalletBalance": w.fmt_fixed(8), "crossUnPnl": "0.00000000",
                       "availableBalance": w.fmt_fixed(8), "maxWithdrawAmount": w.fmt_fixed(8),
                       "marginAvailable": true, "updateTime": now_ms()})
            })
            .collect();
        Value::Array(rows)
    }

    /// The account for [`crate::VenueSim::account`].
    pub(crate) fn account(&self) -> AccountView {
        let mut v = AccountView::default();
        for o in self.orders.values() {
            v.orders.insert(
                o.client_id.clone(),
                OrderView {
                    order_id: o.id,
                    market: o.market,
                    symbol: o.symbol.clone(),
                    side: o.side,
                    price: o.price,
                    orig_qty: o.orig_qty,
                    executed_qty: o.executed,
                    status: o.status,
                },
            );
        }
        for ((m, s), net) in &self.spot_net {
            v.positions.insert(position_key(*m, s), *net);
        }
        for ((m, s), p) in &self.positions {
            let k = position_key(*m, s);
            v.positions.insert(k.clone(), p.amt);
            v.entry_prices.insert(k.clone(), p.entry);
            v.realized_pnl.insert(k, p.realized);
        }
        v.balances = self.balances.clone();
        v.fill_list = self.fill_list.iter().cloned().collect();
        v.fills = self.fills;
        v
    }

    // ----- events -------------------------------------------------------------

    fn emit_order(&mut self, id: u64, exec: &str, fill: Option<&Fill>) {
        let Some(o) = self.orders.get(&id) else {
            return;
        };
        let now = now_ms();
        let (pd, qd, quote) = self.rules_of(o).map_or((8, 8, String::new()), |r| {
            (r.price_dec, r.qty_dec, r.quote.clone())
        });
        let (lq, lp, tid, maker, rp) = match fill {
            Some(f) => (f.qty, f.price, f.trade_id as i64, f.maker, f.realized),
            None => (Dec::ZERO, Dec::ZERO, -1, false, Dec::ZERO),
        };
        let json = if o.market == Market::Spot {
            json!({
                "e": "executionReport", "E": now, "s": o.symbol, "c": o.client_id,
                "S": o.side.as_str(), "o": o.otype.as_str(), "f": o.tif.as_str(),
                "q": s8(o.orig_qty), "p": s8(o.price), "P": s8(Dec::ZERO), "F": s8(Dec::ZERO),
                "g": -1, "C": "", "x": exec, "X": o.status.as_str(), "r": "NONE", "i": o.id,
                "l": s8(lq), "z": s8(o.executed), "L": s8(lp), "n": "0",
                "N": if fill.is_some() { Value::from(quote) } else { Value::Null },
                "T": o.update, "t": tid, "I": self.next_trade * 2 + id, "w": o.status.is_open(),
                "m": maker, "M": false, "O": o.time, "Z": s8(o.cum_quote), "Y": s8(lp.times(lq)),
                "Q": s8(Dec::ZERO), "W": o.time, "V": "NONE",
            })
        } else {
            let avg = if o.executed.is_positive() {
                if o.market == Market::CoinM {
                    let size = self
                        .rules_of(o)
                        .map_or(Dec::from_int(100), |r| r.contract_size);
                    o.executed
                        .times(size)
                        .checked_div(o.cum_quote)
                        .unwrap_or(Dec::ZERO)
                } else {
                    o.cum_quote.checked_div(o.executed).unwrap_or(Dec::ZERO)
                }
            } else {
                Dec::ZERO
            };
            let margin = self.rules_of(o).map_or(String::new(), |r| r.margin.clone());
            json!({
                "e": "ORDER_TRADE_UPDATE", "E": now, "T": o.update,
                "o": {
                    "s": o.symbol, "c": o.client_id, "S": o.side.as_str(), "o": o.otype.as_str(),
                    "f": o.tif.as_str(), "q": o.orig_qty.fmt_fixed(qd), "p": o.price.fmt_fixed(pd),
                    "ap": avg.fmt_fixed(pd.clamp(5, 8)), "sp": "0", "x": exec, "X": o.status.as_str(),
                    "i": o.id, "l": lq.fmt_fixed(qd), "z": o.executed.fmt_fixed(qd), "L": lp.fmt_fixed(pd),
                    "N": margin, "n": "0", "T": o.update, "t": if tid < 0 { 0 } else { tid },
                    "b": "0", "a": "0", "m": maker, "R": o.reduce_only, "wt": "CONTRACT_PRICE",
                    "ot": o.otype.as_str(), "ps": "BOTH", "cp": false, "rp": rp.fmt_fixed(8),
                    "pP": false, "si": 0, "ss": 0, "V": "EXPIRE_MAKER", "pm": "NONE", "gtd": 0,
                }
            })
        };
        self.events.push(UserEvent {
            market: o.market,
            json: json.to_string(),
        });
    }

    fn emit_spot_balances(&mut self, rules: &Rules) {
        let now = now_ms();
        let mut b = Vec::new();
        for a in [&rules.base, &rules.quote] {
            let (f, l) = self.balances.get(a).copied().unwrap_or_default();
            b.push(json!({"a": a, "f": s8(f), "l": s8(l)}));
        }
        let json = json!({"e": "outboundAccountPosition", "E": now, "u": now, "B": b});
        self.events.push(UserEvent {
            market: Market::Spot,
            json: json.to_string(),
        });
    }

    fn emit_account_update(&mut self, market: Market, symbol: &str, rules: &Rules) {
        let now = now_ms();
        let w = *self.wallet(market, &rules.margin);
        let p = self
            .positions
            .get(&(market, symbol.to_string()))
            .copied()
            .unwrap_or_default();
        let up = self.unrealized(market, symbol, &p);
        let json = json!({
            "e": "ACCOUNT_UPDATE", "E": now, "T": now,
            "a": {
                "m": "ORDER",
                "B": [{"a": rules.margin, "wb": w.fmt_fixed(8), "cw": w.fmt_fixed(8), "bc": "0"}],
                "P": [{"s": symbol, "pa": p.amt.fmt_fixed(rules.qty_dec), "ep": p.entry.fmt_fixed(8),
                       "bep": p.entry.fmt_fixed(8), "cr": p.realized.fmt_fixed(8), "up": up.fmt_fixed(8),
                       "mt": "cross", "iw": "0", "ps": "BOTH"}],
            }
        });
        self.events.push(UserEvent {
            market,
            json: json.to_string(),
        });
    }
}

/// What an answer shows of an order: everything, or (when fills are told
/// only on the stream) the order as accepted.
fn shown(o: &Order, hide_fills: bool) -> (Dec, Dec, OrderStatus) {
    if hide_fills {
        (Dec::ZERO, Dec::ZERO, OrderStatus::New)
    } else {
        (o.executed, o.cum_quote, o.status)
    }
}

/// Applies a signed fill to a one-way position; returns the realized PnL
/// (quote for USD-M, base for COIN-M inverse contracts).
fn apply_position(p: &mut Position, signed: Dec, price: Dec, market: Market, size: Dec) -> Dec {
    let inv = |x: Dec| Dec::ONE.checked_div(x).unwrap_or(Dec::ZERO);
    let same = p.amt.is_zero() || (p.amt.is_negative() == signed.is_negative());
    if same {
        let old = p.amt.abs();
        let add = signed.abs();
        let total = old.plus(add);
        p.entry = if market == Market::CoinM {
            // Harmonic average for inverse contracts.
            let denom = old.times(inv(p.entry)).plus(add.times(inv(price)));
            total.checked_div(denom).unwrap_or(price)
        } else {
            old.times(p.entry)
                .plus(add.times(price))
                .checked_div(total)
                .unwrap_or(price)
        };
        if p.amt.is_zero() {
            p.entry = price;
        }
        p.amt = p.amt.plus(signed);
        return Dec::ZERO;
    }
    let closing = signed.abs().min(p.amt.abs());
    let long = p.amt.is_positive();
    let pnl = if market == Market::CoinM {
        let d = inv(p.entry).minus(inv(price));
        let v = closing.times(size).times(d);
        if long { v } else { v.negated() }
    } else {
        let d = price.minus(p.entry).times(closing);
        if long { d } else { d.negated() }
    };
    p.realized = p.realized.plus(pnl);
    p.amt = p.amt.plus(signed);
    if p.amt.is_zero() {
        p.entry = Dec::ZERO;
    } else if p.amt.is_negative() == signed.is_negative() {
        // Flipped: the rest opens at the fill price.
        p.entry = price;
    }
    pnl
}

/// One `symbols` entry of `exchangeInfo`.
fn symbol_json(market: Market, s: &str, r: &Rules) -> Value {
    let pd = r.price_dec;
    let qd = r.qty_dec;
    if market == Market::Spot {
        return json!({
            "symbol": s, "status": "TRADING", "baseAsset": r.base, "baseAssetPrecision": 8,
            "quoteAsset": r.quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
            "icebergAllowed": false, "ocoAllowed": false, "otoAllowed": false,
            "quoteOrderQtyMarketAllowed": false, "allowTrailingStop": false, "cancelReplaceAllowed": false,
            "amendAllowed": false, "isSpotTradingAllowed": true, "isMarginTradingAllowed": false,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": s8(r.min_price), "maxPrice": s8(r.max_price), "tickSize": s8(r.tick)},
                {"filterType": "LOT_SIZE", "minQty": s8(r.min_qty), "maxQty": s8(r.max_qty), "stepSize": s8(r.step)},
                {"filterType": "NOTIONAL", "minNotional": s8(r.min_notional), "applyMinToMarket": true,
                 "maxNotional": s8(r.max_notional), "applyMaxToMarket": false, "avgPriceMins": 5},
                {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5", "bidMultiplierDown": "0.2",
                 "askMultiplierUp": "5", "askMultiplierDown": "0.2", "avgPriceMins": 5},
            ],
            "permissions": [], "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "NONE", "allowedSelfTradePreventionModes": ["NONE"],
        });
    }
    let mut v = json!({
        "symbol": s, "pair": s.split('_').next().unwrap_or(s),
        "contractType": "PERPETUAL", "deliveryDate": 4133404800000u64, "onboardDate": 1569398400000u64,
        "status": "TRADING", "baseAsset": r.base, "quoteAsset": r.quote, "marginAsset": r.margin,
        "pricePrecision": pd, "quantityPrecision": qd, "baseAssetPrecision": 8, "quotePrecision": 8,
        "underlyingType": "COIN", "triggerProtect": "0.0500", "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": r.min_price.to_string(), "maxPrice": r.max_price.to_string(), "tickSize": r.tick.to_string()},
            {"filterType": "LOT_SIZE", "minQty": r.min_qty.to_string(), "maxQty": r.max_qty.to_string(), "stepSize": r.step.to_string()},
            {"filterType": "MARKET_LOT_SIZE", "minQty": r.min_qty.to_string(), "maxQty": r.max_qty.to_string(), "stepSize": r.step.to_string()},
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500", "multiplierDown": "0.9500", "multiplierDecimal": "4"},
        ],
        "orderTypes": ["LIMIT", "MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    });
    if let Some(m) = v.as_object_mut() {
        if market == Market::UsdM {
            if let Some(Value::Array(f)) = m.get_mut("filters") {
                f.push(
                    json!({"filterType": "MIN_NOTIONAL", "notional": r.min_notional.to_string()}),
                );
            }
        } else {
            let size = r.contract_size.to_string().parse::<u64>().unwrap_or(100);
            m.insert("contractSize".into(), size.into());
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dec {
        Dec::parse(s).unwrap()
    }

    #[test]
    fn usdm_position_average_close_and_flip() {
        let mut p = Position::default();
        assert_eq!(
            apply_position(&mut p, d("1"), d("100"), Market::UsdM, Dec::ONE),
            Dec::ZERO
        );
        apply_position(&mut p, d("1"), d("110"), Market::UsdM, Dec::ONE);
        assert_eq!(p.entry, d("105"));
        let pnl = apply_position(&mut p, d("-3"), d("120"), Market::UsdM, Dec::ONE);
        assert_eq!(pnl, d("30"));
        assert_eq!(p.amt, d("-1"));
        assert_eq!(p.entry, d("120"));
        let pnl = apply_position(&mut p, d("1"), d("100"), Market::UsdM, Dec::ONE);
        assert_eq!(pnl, d("20"));
        assert!(p.amt.is_zero() && p.entry.is_zero());
        assert_eq!(p.realized, d("50"));
    }

    #[test]
    fn coinm_pnl_is_inverse() {
        let mut p = Position::default();
        apply_position(&mut p, d("10"), d("50000"), Market::CoinM, d("100"));
        let pnl = apply_position(&mut p, d("-10"), d("62500"), Market::CoinM, d("100"));
        // 10 * 100 * (1/50000 - 1/62500) = 0.004 BTC
        assert_eq!(pnl, d("0.004"));
    }

    #[test]
    fn symbols_split_into_assets() {
        assert_eq!(
            split_symbol(Market::Spot, "BTCUSDT"),
            ("BTC".into(), "USDT".into())
        );
        assert_eq!(
            split_symbol(Market::Spot, "ETHBTC"),
            ("ETH".into(), "BTC".into())
        );
        assert_eq!(
            split_symbol(Market::CoinM, "BTCUSD_PERP"),
            ("BTC".into(), "USD".into())
        );
    }
}
