//! Pre-trade risk and paper venue behaviour, through the public API.

use proptest::prelude::*;
use tickwire_config::schema::{PaperConf, RiskConf};
use tickwire_core::counts::Counted;
use tickwire_core::money::Notional;
use tickwire_core::orders::{
    ExecKind, ExecReport, Order, OrderId, OrderIntent, PathStamps, RejectReason, RouterCmd,
    TimeInForce,
};
use tickwire_core::types::{FIXED_SCALE, Level, Px, Qty, Side, SymbolId};
use tickwire_risk::{RiskEngine, RiskError};
use tickwire_router::PaperVenue;

const S: i64 = FIXED_SCALE;

fn conf() -> RiskConf {
    RiskConf {
        max_order_qty: Qty(10 * S),
        max_order_notional: Notional::from_fixed(1_000_000 * S),
        max_position: Qty(100 * S),
        max_open_orders: 4,
        price_collar_bps: 50,
        orders_per_sec: 10,
        burst: 5,
        daily_loss_limit: Notional::from_fixed(1_000 * S),
        kill_switch: false,
    }
}

fn intent(side: Side, px: i64, qty: i64) -> OrderIntent {
    OrderIntent {
        symbol: SymbolId(0),
        side,
        px: Px(px * S),
        qty: Qty(qty * S),
        tif: TimeInForce::Gtc,
        mid: Px(px * S),
        stamps: PathStamps::default(),
    }
}

fn fill(order: &Order, px: i64, qty: i64, leaves: i64) -> ExecReport {
    ExecReport {
        id: order.id,
        symbol: order.symbol,
        side: order.side,
        kind: if leaves == 0 {
            ExecKind::Filled
        } else {
            ExecKind::PartialFill
        },
        last_qty: Qty(qty * S),
        last_px: Px(px * S),
        leaves_qty: Qty(leaves * S),
    }
}

/// Asserts the intent is rejected for `reason` and that no other reason was counted.
fn assert_only(risk: &mut RiskEngine, i: &OrderIntent, reason: RejectReason) {
    let before = risk.stats();
    assert_eq!(risk.check(i, 0), Err(reason));
    let after = risk.stats();
    for &r in <RejectReason as Counted>::ALL {
        let delta = after.rejected_for(r) - before.rejected_for(r);
        assert_eq!(delta, u64::from(r == reason), "counter of {}", r.name());
    }
}

#[test]
fn zero_quantity_is_invalid() {
    let mut risk = RiskEngine::new(&conf());
    assert_only(&mut risk, &intent(Side::Buy, 100, 0), RejectReason::Invalid);
    let mut i = intent(Side::Buy, 100, 1);
    i.px = Px(-1);
    assert_only(&mut risk, &i, RejectReason::Invalid);
}

#[test]
fn kill_switch_refuses_everything() {
    let mut risk = RiskEngine::new(&conf());
    risk.set_kill_switch(true);
    assert!(risk.kill_switch());
    assert_only(
        &mut risk,
        &intent(Side::Buy, 100, 1),
        RejectReason::KillSwitch,
    );
    risk.set_kill_switch(false);
    assert!(risk.check(&intent(Side::Buy, 100, 1), 0).is_ok());
}

#[test]
fn kill_switch_from_config_is_on_at_start() {
    let mut risk = RiskEngine::new(&RiskConf {
        kill_switch: true,
        ..conf()
    });
    assert_only(
        &mut risk,
        &intent(Side::Buy, 100, 1),
        RejectReason::KillSwitch,
    );
}

#[test]
fn stale_book_refuses_until_fresh() {
    let mut risk = RiskEngine::new(&conf());
    risk.mark_stale(SymbolId(0), true);
    assert_only(
        &mut risk,
        &intent(Side::Buy, 100, 1),
        RejectReason::StaleBook,
    );
    let mut other = intent(Side::Buy, 100, 1);
    other.symbol = SymbolId(9);
    assert!(
        risk.check(&other, 0).is_ok(),
        "only the stale symbol is blocked"
    );
    risk.mark_stale(SymbolId(0), false);
    assert!(risk.check(&intent(Side::Buy, 100, 1), 0).is_ok());
}

#[test]
fn daily_loss_rejects_and_engages_kill_switch() {
    let mut risk = RiskEngine::new(&conf());
    let order = risk
        .check(&intent(Side::Buy, 1000, 10), 0)
        .expect("accepted");
    risk.on_exec(&fill(&order, 1000, 10, 0))
        .expect("known order");
    // Long 10 from 1000: a mid of 901 is a 990 loss, 900 is the 1000 limit.
    assert!(risk.check(&intent(Side::Sell, 901, 1), 0).is_ok());
    assert!(!risk.kill_switch());
    assert_only(
        &mut risk,
        &intent(Side::Sell, 900, 1),
        RejectReason::DailyLoss,
    );
    assert!(risk.kill_switch());
    assert!(risk.stats().kill_switch);
    assert_only(
        &mut risk,
        &intent(Side::Sell, 1000, 1),
        RejectReason::KillSwitch,
    );
}

#[test]
fn realized_loss_alone_breaches_daily_limit() {
    let mut risk = RiskEngine::new(&conf());
    let buy = risk
        .check(&intent(Side::Buy, 1000, 10), 0)
        .expect("accepted");
    risk.on_exec(&fill(&buy, 1000, 10, 0)).expect("known");
    let sell = risk
        .check(&intent(Side::Sell, 1000, 10), 0)
        .expect("accepted");
    risk.on_exec(&fill(&sell, 900, 10, 0)).expect("known");
    assert_eq!(risk.position(SymbolId(0)), Qty(0));
    assert_eq!(risk.realized_pnl(), Notional::from_fixed(-1_000 * S));
    assert_only(
        &mut risk,
        &intent(Side::Buy, 1000, 1),
        RejectReason::DailyLoss,
    );
}

#[test]
fn order_quantity_above_limit() {
    let mut risk = RiskEngine::new(&conf());
    assert!(risk.check(&intent(Side::Buy, 100, 10), 0).is_ok());
    assert_only(
        &mut risk,
        &intent(Side::Buy, 100, 11),
        RejectReason::MaxOrderQty,
    );
}

#[test]
fn order_notional_above_limit() {
    let mut risk = RiskEngine::new(&RiskConf {
        max_order_notional: Notional::from_fixed(500 * S),
        ..conf()
    });
    assert!(risk.check(&intent(Side::Buy, 50, 10), 0).is_ok());
    assert_only(
        &mut risk,
        &intent(Side::Buy, 51, 10),
        RejectReason::MaxOrderNotional,
    );
}

#[test]
fn price_outside_collar() {
    let mut risk = RiskEngine::new(&conf());
    let mut i = intent(Side::Buy, 100, 1);
    i.px = Px(10_050 * S / 100); // exactly 50 bps above mid
    assert!(risk.check(&i, 0).is_ok());
    i.px = Px(i.px.0 + 1);
    assert_only(&mut risk, &i, RejectReason::PriceCollar);
    i.px = Px(9_949 * S / 100);
    assert_only(&mut risk, &i, RejectReason::PriceCollar);
}

#[test]
fn too_many_open_orders() {
    let mut risk = RiskEngine::new(&conf());
    for _ in 0..4 {
        assert!(risk.check(&intent(Side::Buy, 100, 1), 0).is_ok());
    }
    assert_eq!(risk.open_orders(), 4);
    assert_only(
        &mut risk,
        &intent(Side::Buy, 100, 1),
        RejectReason::MaxOpenOrders,
    );
}

#[test]
fn position_counts_working_orders_on_the_same_side() {
    let mut risk = RiskEngine::new(&RiskConf {
        max_position: Qty(15 * S),
        ..conf()
    });
    let buy = risk
        .check(&intent(Side::Buy, 100, 10), 0)
        .expect("accepted");
    risk.on_exec(&fill(&buy, 100, 4, 6)).expect("known");
    // Position 4, working 6: another 5 makes 15, 6 makes 16.
    assert_only(
        &mut risk,
        &intent(Side::Buy, 100, 6),
        RejectReason::MaxPosition,
    );
    assert!(risk.check(&intent(Side::Buy, 100, 5), 0).is_ok());
    // Selling reduces: 4 - 10 = -6 is fine.
    assert!(risk.check(&intent(Side::Sell, 100, 10), 0).is_ok());
}

#[test]
fn rate_limit_after_burst_refills_over_time() {
    let mut risk = RiskEngine::new(&RiskConf {
        max_open_orders: 100,
        ..conf()
    });
    for _ in 0..5 {
        assert!(risk.check(&intent(Side::Buy, 100, 1), 0).is_ok());
    }
    assert_only(
        &mut risk,
        &intent(Side::Buy, 100, 1),
        RejectReason::RateLimit,
    );
    // 10/s: one token per 100 ms.
    assert_eq!(
        risk.check(&intent(Side::Buy, 100, 1), 99_999_999),
        Err(RejectReason::RateLimit)
    );
    assert!(risk.check(&intent(Side::Buy, 100, 1), 100_000_000).is_ok());
    assert_eq!(
        risk.check(&intent(Side::Buy, 100, 1), 100_000_000),
        Err(RejectReason::RateLimit)
    );
    for _ in 0..5 {
        assert!(
            risk.check(&intent(Side::Buy, 100, 1), 10_000_000_000)
                .is_ok()
        );
    }
    assert_eq!(
        risk.check(&intent(Side::Buy, 100, 1), 10_000_000_000),
        Err(RejectReason::RateLimit)
    );
}

#[test]
fn rejected_intent_does_not_take_a_token() {
    let mut risk = RiskEngine::new(&RiskConf {
        burst: 1,
        orders_per_sec: 0,
        ..conf()
    });
    assert_eq!(
        risk.check(&intent(Side::Buy, 100, 50), 0),
        Err(RejectReason::MaxOrderQty)
    );
    assert!(risk.check(&intent(Side::Buy, 100, 1), 0).is_ok());
}

#[test]
fn router_full_undoes_booking_and_counts_ring_full() {
    let mut risk = RiskEngine::new(&RiskConf {
        burst: 1,
        orders_per_sec: 0,
        ..conf()
    });
    let order = risk.check(&intent(Side::Buy, 100, 1), 0).expect("accepted");
    risk.on_router_full(&order);
    let st = risk.stats();
    assert_eq!(risk.open_orders(), 0);
    assert_eq!(
        (st.accepted, st.rejected_for(RejectReason::RingFull)),
        (0, 1)
    );
    let again = risk
        .check(&intent(Side::Buy, 100, 1), 0)
        .expect("token returned");
    assert_eq!(again.id, OrderId(order.id.0 + 1), "ids are never reused");
}

#[test]
fn order_ids_are_sequential() {
    let mut risk = RiskEngine::new(&conf());
    let a = risk.check(&intent(Side::Buy, 100, 1), 0).expect("ok");
    let b = risk.check(&intent(Side::Buy, 100, 1), 0).expect("ok");
    assert_eq!((a.id, b.id), (OrderId(1), OrderId(2)));
}

#[test]
fn positions_and_realized_pnl_follow_average_cost() {
    let mut risk = RiskEngine::new(&RiskConf {
        max_open_orders: 10,
        burst: 10,
        ..conf()
    });
    let trade = |risk: &mut RiskEngine, side, px, qty| {
        let o = risk.check(&intent(side, px, qty), 0).expect("accepted");
        risk.on_exec(&fill(&o, px, qty, 0)).expect("known");
    };
    trade(&mut risk, Side::Buy, 100, 2);
    trade(&mut risk, Side::Buy, 101, 2); // long 4 at avg 100.5
    assert_eq!(risk.position(SymbolId(0)), Qty(4 * S));
    trade(&mut risk, Side::Sell, 101, 3); // realize 3 * 0.5
    assert_eq!(risk.position(SymbolId(0)), Qty(S));
    assert_eq!(risk.realized_pnl(), Notional::from_fixed(150 * S / 100));
    trade(&mut risk, Side::Sell, 99, 3); // close 1 at -1.5, short 2 at 99
    assert_eq!(risk.position(SymbolId(0)), Qty(-2 * S));
    assert_eq!(risk.realized_pnl(), Notional::ZERO);
    trade(&mut risk, Side::Buy, 98, 2); // short covered +2
    assert_eq!(risk.position(SymbolId(0)), Qty(0));
    assert_eq!(risk.realized_pnl(), Notional::from_fixed(2 * S));
    let st = risk.stats();
    assert_eq!((st.fills, st.filled_qty), (5, Qty(12 * S)));
    assert_eq!(risk.open_orders(), 0);
}

#[test]
fn unknown_exec_report_is_an_error_not_a_panic() {
    let mut risk = RiskEngine::new(&conf());
    let o = risk.check(&intent(Side::Buy, 100, 1), 0).expect("ok");
    risk.on_exec(&fill(&o, 100, 1, 0)).expect("known");
    assert_eq!(
        risk.on_exec(&fill(&o, 100, 1, 0)),
        Err(RiskError::UnknownOrder(o.id))
    );
    assert_eq!(risk.stats().unknown_exec, 1);
    assert_eq!(
        risk.position(SymbolId(0)),
        Qty(S),
        "late report changes nothing"
    );
}

#[test]
fn cancel_report_releases_working_quantity() {
    let mut risk = RiskEngine::new(&RiskConf {
        max_position: Qty(10 * S),
        ..conf()
    });
    let o = risk.check(&intent(Side::Buy, 100, 10), 0).expect("ok");
    assert_eq!(
        risk.check(&intent(Side::Buy, 100, 1), 0),
        Err(RejectReason::MaxPosition)
    );
    let cancel = ExecReport {
        kind: ExecKind::Cancelled,
        ..fill(&o, 0, 0, 0)
    };
    risk.on_exec(&cancel).expect("known");
    assert_eq!(risk.open_orders(), 0);
    assert!(risk.check(&intent(Side::Buy, 100, 10), 0).is_ok());
}

// ---------------------------------------------------------------- paper venue

fn order(id: u64, side: Side, px: i64, qty: i64, tif: TimeInForce) -> Order {
    Order {
        id: OrderId(id),
        symbol: SymbolId(1),
        side,
        px: Px(px),
        qty: Qty(qty),
        tif,
        stamps: PathStamps::default(),
    }
}

fn venue(pct: u32) -> PaperVenue {
    let mut v = PaperVenue::new(&PaperConf { max_take_pct: pct });
    v.on_top(
        SymbolId(1),
        Level {
            px: Px(99),
            qty: Qty(50),
        },
        Level {
            px: Px(101),
            qty: Qty(40),
        },
        &mut |_| panic!("no orders yet"),
    );
    v
}

fn send(v: &mut PaperVenue, cmd: RouterCmd) -> Vec<ExecReport> {
    let mut out = Vec::new();
    v.on_cmd(&cmd, &mut |r| out.push(r));
    out
}

fn kinds(reports: &[ExecReport]) -> Vec<(ExecKind, i64, i64, i64)> {
    reports
        .iter()
        .map(|r| (r.kind, r.last_px.0, r.last_qty.0, r.leaves_qty.0))
        .collect()
}

#[test]
fn marketable_buy_fills_at_best_ask_not_its_limit() {
    let mut v = venue(100);
    let r = send(
        &mut v,
        RouterCmd::New(order(1, Side::Buy, 105, 10, TimeInForce::Ioc)),
    );
    assert_eq!(kinds(&r), vec![(ExecKind::Filled, 101, 10, 0)]);
}

#[test]
fn marketable_ioc_takes_share_of_displayed_and_expires_the_rest() {
    let mut v = venue(50); // may take 20 of the 40 displayed
    let r = send(
        &mut v,
        RouterCmd::New(order(1, Side::Buy, 101, 30, TimeInForce::Ioc)),
    );
    assert_eq!(
        kinds(&r),
        vec![
            (ExecKind::PartialFill, 101, 20, 10),
            (ExecKind::Expired, 0, 0, 0)
        ]
    );
    // The 20 taken is gone from the displayed level until the next top.
    let r = send(
        &mut v,
        RouterCmd::New(order(2, Side::Buy, 101, 30, TimeInForce::Ioc)),
    );
    assert_eq!(kinds(&r)[0], (ExecKind::PartialFill, 101, 10, 20));
}

#[test]
fn non_marketable_ioc_expires_without_ack() {
    let mut v = venue(100);
    let r = send(
        &mut v,
        RouterCmd::New(order(1, Side::Sell, 100, 5, TimeInForce::Ioc)),
    );
    assert_eq!(kinds(&r), vec![(ExecKind::Expired, 0, 0, 0)]);
    assert_eq!(v.working(), 0);
}

#[test]
fn gtc_acks_then_partially_fills_and_rests() {
    let mut v = venue(100);
    let r = send(
        &mut v,
        RouterCmd::New(order(1, Side::Sell, 99, 60, TimeInForce::Gtc)),
    );
    assert_eq!(
        kinds(&r),
        vec![
            (ExecKind::Ack, 0, 0, 60),
            (ExecKind::PartialFill, 99, 50, 10)
        ]
    );
    assert_eq!(v.working(), 1);
}

#[test]
fn resting_buy_fills_on_sell_aggressor_trade_at_or_through_its_price() {
    let mut v = venue(100);
    send(
        &mut v,
        RouterCmd::New(order(1, Side::Buy, 100, 10, TimeInForce::Gtc)),
    );
    let mut out = Vec::new();
    v.on_trade(SymbolId(1), Px(100), Qty(4), false, &mut |r| out.push(r));
    assert!(out.is_empty(), "buy aggressor does not hit a resting buy");
    v.on_trade(SymbolId(1), Px(101), Qty(4), true, &mut |r| out.push(r));
    assert!(out.is_empty(), "print above the bid does not reach it");
    v.on_trade(SymbolId(1), Px(100), Qty(4), true, &mut |r| out.push(r));
    v.on_trade(SymbolId(1), Px(98), Qty(100), true, &mut |r| out.push(r));
    assert_eq!(
        kinds(&out),
        vec![
            (ExecKind::PartialFill, 100, 4, 6),
            (ExecKind::Filled, 100, 6, 0)
        ]
    );
    assert_eq!(v.working(), 0);
}

#[test]
fn one_print_is_shared_among_resting_orders() {
    let mut v = venue(100);
    send(
        &mut v,
        RouterCmd::New(order(1, Side::Sell, 102, 5, TimeInForce::Gtc)),
    );
    send(
        &mut v,
        RouterCmd::New(order(2, Side::Sell, 102, 5, TimeInForce::Gtc)),
    );
    let mut out = Vec::new();
    v.on_trade(SymbolId(1), Px(103), Qty(7), false, &mut |r| out.push(r));
    let filled: i64 = out.iter().map(|r| r.last_qty.0).sum();
    assert_eq!(filled, 7);
    assert_eq!(out[0].id, OrderId(1), "arrival order");
}

#[test]
fn resting_order_fills_when_opposite_best_crosses_it() {
    let mut v = venue(50);
    send(
        &mut v,
        RouterCmd::New(order(1, Side::Buy, 100, 30, TimeInForce::Gtc)),
    );
    let mut out = Vec::new();
    v.on_top(
        SymbolId(1),
        Level {
            px: Px(98),
            qty: Qty(5),
        },
        Level {
            px: Px(99),
            qty: Qty(40),
        },
        &mut |r| out.push(r),
    );
    assert_eq!(kinds(&out), vec![(ExecKind::PartialFill, 100, 20, 10)]);
}

#[test]
fn cancel_working_and_unknown() {
    let mut v = venue(100);
    send(
        &mut v,
        RouterCmd::New(order(1, Side::Buy, 90, 10, TimeInForce::Gtc)),
    );
    let r = send(&mut v, RouterCmd::Cancel(OrderId(1)));
    assert_eq!(kinds(&r), vec![(ExecKind::Cancelled, 0, 0, 0)]);
    let r = send(&mut v, RouterCmd::Cancel(OrderId(1)));
    assert_eq!(
        (r.len(), r[0].kind, r[0].id),
        (1, ExecKind::Rejected, OrderId(1))
    );
}

#[test]
fn cancel_all_cancels_every_working_order() {
    let mut v = venue(100);
    for id in 1..=3 {
        send(
            &mut v,
            RouterCmd::New(order(id, Side::Buy, 90, 10, TimeInForce::Gtc)),
        );
    }
    let r = send(&mut v, RouterCmd::CancelAll);
    assert_eq!(r.iter().map(|r| r.id.0).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert!(r.iter().all(|r| r.kind == ExecKind::Cancelled));
    assert_eq!(v.working(), 0);
}

#[test]
fn full_resting_table_rejects_gtc() {
    let mut v = PaperVenue::with_capacity(&PaperConf { max_take_pct: 100 }, 1);
    send(
        &mut v,
        RouterCmd::New(order(1, Side::Buy, 90, 10, TimeInForce::Gtc)),
    );
    let r = send(
        &mut v,
        RouterCmd::New(order(2, Side::Buy, 90, 10, TimeInForce::Gtc)),
    );
    assert_eq!(kinds(&r), vec![(ExecKind::Rejected, 0, 0, 0)]);
}

// ------------------------------------------------------ risk + venue property

/// Price step and quantity unit of the property test (realistic magnitudes so
/// pnl does not vanish in the final division by `FIXED_SCALE`).
const P: i64 = S / 10;
const Q: i64 = S / 1000;

#[derive(Clone, Debug)]
enum Step {
    Intent {
        buy: bool,
        offset: i64,
        qty: i64,
        gtc: bool,
    },
    Top {
        bid_qty: i64,
        ask_qty: i64,
        shift: i64,
    },
    Trade {
        offset: i64,
        qty: i64,
        buyer_is_maker: bool,
    },
    CancelAll,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (any::<bool>(), -3i64..=3, 1i64..=6, any::<bool>())
            .prop_map(|(buy, offset, qty, gtc)| Step::Intent { buy, offset, qty, gtc }),
        2 => (0i64..=20, 0i64..=20, -2i64..=2)
            .prop_map(|(bid_qty, ask_qty, shift)| Step::Top { bid_qty, ask_qty, shift }),
        2 => (-3i64..=3, 1i64..=8, any::<bool>())
            .prop_map(|(offset, qty, buyer_is_maker)| Step::Trade { offset, qty, buyer_is_maker }),
        1 => Just(Step::CancelAll),
    ]
}

proptest! {
    #[test]
    fn positions_equal_sum_of_fills_and_open_orders_stay_bounded(
        steps in proptest::collection::vec(step(), 1..200),
        pct in 1u32..=100,
    ) {
        let rc = RiskConf {
            max_order_qty: Qty(5 * Q),
            max_order_notional: Notional::from_fixed(1_000_000 * S),
            max_position: Qty(12 * Q),
            max_open_orders: 3,
            price_collar_bps: 500,
            orders_per_sec: 20,
            burst: 4,
            daily_loss_limit: Notional::from_fixed(i64::MAX / 2),
            kill_switch: false,
        };
        let mut risk = RiskEngine::new(&rc);
        let mut venue = PaperVenue::new(&PaperConf { max_take_pct: pct });
        let sym = SymbolId(2);
        let mut mid = 1000 * S;
        let (mut filled_pos, mut cash) = (0i64, 0i128);
        let mut reports = Vec::new();
        for (t, s) in steps.iter().enumerate() {
            let now_ns = t as u64 * 10_000_000;
            reports.clear();
            match *s {
                Step::Intent { buy, offset, qty, gtc } => {
                    let i = OrderIntent {
                        symbol: sym,
                        side: if buy { Side::Buy } else { Side::Sell },
                        px: Px(mid + offset * P),
                        qty: Qty(qty * Q),
                        tif: if gtc { TimeInForce::Gtc } else { TimeInForce::Ioc },
                        mid: Px(mid),
                        stamps: PathStamps::default(),
                    };
                    if let Ok(o) = risk.check(&i, now_ns) {
                        venue.on_cmd(&RouterCmd::New(o), &mut |r| reports.push(r));
                    }
                }
                Step::Top { bid_qty, ask_qty, shift } => {
                    mid += shift * P;
                    venue.on_top(
                        sym,
                        Level { px: Px(mid - P), qty: Qty(bid_qty * Q) },
                        Level { px: Px(mid + P), qty: Qty(ask_qty * Q) },
                        &mut |r| reports.push(r),
                    );
                }
                Step::Trade { offset, qty, buyer_is_maker } => {
                    venue.on_trade(sym, Px(mid + offset * P), Qty(qty * Q), buyer_is_maker, &mut |r| reports.push(r));
                }
                Step::CancelAll => venue.on_cmd(&RouterCmd::CancelAll, &mut |r| reports.push(r)),
            }
            for r in &reports {
                prop_assert_eq!(risk.on_exec(r), Ok(()));
                if matches!(r.kind, ExecKind::PartialFill | ExecKind::Filled) {
                    let signed = if r.side == Side::Buy { r.last_qty.0 } else { -r.last_qty.0 };
                    filled_pos += signed;
                    cash -= i128::from(signed) * i128::from(r.last_px.0);
                }
            }
            prop_assert_eq!(risk.position(sym), Qty(filled_pos));
            prop_assert!(risk.open_orders() <= 3);
            prop_assert_eq!(risk.open_orders(), venue.working());
            prop_assert!(filled_pos.abs() <= 12 * Q, "max_position holds with working orders");
            if filled_pos == 0 {
                prop_assert_eq!(risk.realized_pnl(), Notional(cash));
            }
            let st = risk.stats();
            prop_assert_eq!(st.intents, st.accepted + st.rejected.total());
        }
    }
}

#[test]
fn strategy_intent_flows_through_risk_to_a_paper_fill() {
    use tickwire_config::schema::{StrategyConf, StrategyKind};
    use tickwire_strategy::{BookTop, ImbalanceTaker, IntentSink, Strategy};
    let sc = StrategyConf {
        kind: StrategyKind::Imbalance,
        imbalance_pct: 60,
        clip_qty: Qty(S),
        cooldown_ms: 0,
        max_position: Qty(S),
        max_data_age_ms: 100,
    };
    let mut strat = ImbalanceTaker::new(&sc, 4);
    let mut risk = RiskEngine::new(&conf());
    let mut venue = PaperVenue::new(&PaperConf { max_take_pct: 100 });
    let (bid, ask) = (
        Level {
            px: Px(100 * S),
            qty: Qty(9 * S),
        },
        Level {
            px: Px(100 * S + S / 100),
            qty: Qty(S),
        },
    );
    venue.on_top(SymbolId(0), bid, ask, &mut |_| {});
    let top = BookTop {
        symbol: SymbolId(0),
        bid,
        ask,
        venue_time: tickwire_core::types::VenueMs(1),
    };
    let mut sink = IntentSink::new();
    for _ in 0..2 {
        strat.on_book(&top, &mut sink);
        for intent in sink.drain() {
            let order = risk.check(&intent, 0).expect("within limits");
            let mut reports = Vec::new();
            venue.on_cmd(&RouterCmd::New(order), &mut |r| reports.push(r));
            for r in reports {
                risk.on_exec(&r).expect("known order");
                strat.on_fill(r.symbol, r.side, r.last_qty);
            }
        }
    }
    assert_eq!(
        risk.position(SymbolId(0)),
        Qty(S),
        "second buy blocked by strategy max_position"
    );
    assert_eq!(risk.stats().accepted, 1);
}
