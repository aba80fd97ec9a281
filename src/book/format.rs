//! The on-disk shape of a book snapshot: the rkyv-archived types that
//! `snapshot` writes and `mmap` validates and reads in place.

/// One price level of a snapshot, in the fixed-point units of
/// [`Px`](tickwire_core::types::Px) and [`Qty`](tickwire_core::types::Qty).
#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapLevel {
    /// Price, `Px` units (1e-8).
    pub px: i64,
    /// Quantity, `Qty` units (1e-8).
    pub qty: i64,
}

/// One instrument's book at one moment.
#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, Debug, Clone, PartialEq)]
pub struct BookSnapshot {
    /// `"spot"`, `"usdm"` or `"coinm"` ([`Market::name`](tickwire_core::types::Market::name)).
    pub market: String,
    /// Venue symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// Update id of the last diff applied to the book.
    pub last_update_id: u64,
    /// Wall-clock time the snapshot was taken, ns since the Unix epoch.
    pub taken_at_ns: u64,
    /// The book was marked stale (awaiting resync) when taken.
    pub stale: bool,
    /// Bid levels, best (highest) first.
    pub bids: Vec<SnapLevel>,
    /// Ask levels, best (lowest) first.
    pub asks: Vec<SnapLevel>,
}

/// The archived root of a snapshot file: every book it holds.
#[derive(rkyv::Archive, rkyv::Serialize, rkyv::Deserialize, Debug, Clone, PartialEq, Default)]
pub struct SnapshotFile {
    /// One entry per instrument.
    pub books: Vec<BookSnapshot>,
}
