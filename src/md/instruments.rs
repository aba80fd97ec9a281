//! The md stage's instrument registry: (market, symbol) -> dense
//! [`SymbolId`]. A handful of instruments per process, so a linear scan
//! with a last-hit cache beats hashing.

use tickwire_core::types::{Market, SymbolId, SymbolName};

/// Maps instruments to dense ids in first-seen order.
#[derive(Debug, Default)]
pub(crate) struct Instruments {
    known: Vec<(Market, SymbolName)>,
    last_hit: usize,
}

/// Result of a lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// Already registered.
    Known(SymbolId),
    /// Registered just now: the caller announces it downstream.
    New(SymbolId),
    /// The registry is full (more than `u16::MAX` instruments).
    Full,
}

impl Instruments {
    /// Finds or registers `(market, name)`.
    #[inline]
    pub(crate) fn resolve(&mut self, market: Market, name: &SymbolName) -> Lookup {
        if let Some((m, n)) = self.known.get(self.last_hit)
            && *m == market
            && n == name
        {
            return Lookup::Known(SymbolId(self.last_hit as u16));
        }
        if let Some(i) = self
            .known
            .iter()
            .position(|(m, n)| *m == market && n == name)
        {
            self.last_hit = i;
            return Lookup::Known(SymbolId(i as u16));
        }
        if self.known.len() >= usize::from(u16::MAX) {
            return Lookup::Full;
        }
        self.known.push((market, *name));
        self.last_hit = self.known.len() - 1;
        Lookup::New(SymbolId(self.last_hit as u16))
    }

    /// The id of `(market, name)` if it is registered (never registers).
    pub(crate) fn find(&self, market: Market, name: &SymbolName) -> Option<SymbolId> {
        self.known
            .iter()
            .position(|(m, n)| *m == market && n == name)
            .map(|i| SymbolId(i as u16))
    }

    /// Market and name of a registered id.
    pub(crate) fn get(&self, id: SymbolId) -> Option<(Market, SymbolName)> {
        self.known.get(usize::from(id.0)).copied()
    }
}
