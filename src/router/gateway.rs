//! [`OrderGateway`]: where the router stage sends orders. The paper venue
//! matches them in the stage itself; [`RemoteGateway`](super::remote::RemoteGateway)
//! hands them to the live REST router thread.

use tickwire_core::orders::{ExecReport, RouterCmd};
use tickwire_core::types::{Level, Px, Qty, SymbolId};

/// Reports go out through this callback, in order.
pub(crate) type ReportOut<'a> = &'a mut dyn FnMut(ExecReport);

/// An order destination driven by the router stage.
pub trait OrderGateway: Send + 'static {
    /// Top of book of `symbol` changed (venues that match locally use it).
    fn on_top(&mut self, _symbol: SymbolId, _bid: Level, _ask: Level, _out: ReportOut<'_>) {}
    /// A public trade printed (venues that match locally use it).
    fn on_trade(
        &mut self,
        _symbol: SymbolId,
        _px: Px,
        _qty: Qty,
        _buyer_is_maker: bool,
        _out: ReportOut<'_>,
    ) {
    }
    /// One command from risk.
    fn on_cmd(&mut self, cmd: &RouterCmd, out: ReportOut<'_>);
    /// Reports that arrived on their own; returns how many.
    fn poll(&mut self, _out: ReportOut<'_>) -> usize {
        0
    }
    /// Risk sent its last command: wind down (a live venue cancels every
    /// working order). True once no further report can come.
    fn close(&mut self, _out: ReportOut<'_>) -> bool {
        true
    }
    /// The stage is finishing: release what the venue holds (a live venue
    /// joins its order-entry thread and leaves its account where its
    /// owner can read it).
    fn finish(&mut self) {}
}

impl OrderGateway for super::paper::PaperVenue {
    fn on_top(&mut self, symbol: SymbolId, bid: Level, ask: Level, out: ReportOut<'_>) {
        super::paper::PaperVenue::on_top(self, symbol, bid, ask, &mut |r| out(r));
    }

    fn on_trade(
        &mut self,
        symbol: SymbolId,
        px: Px,
        qty: Qty,
        buyer_is_maker: bool,
        out: ReportOut<'_>,
    ) {
        super::paper::PaperVenue::on_trade(self, symbol, px, qty, buyer_is_maker, &mut |r| out(r));
    }

    fn on_cmd(&mut self, cmd: &RouterCmd, out: ReportOut<'_>) {
        super::paper::PaperVenue::on_cmd(self, cmd, &mut |r| out(r));
    }
}
