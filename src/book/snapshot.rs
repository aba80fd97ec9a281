//! Book snapshots as rkyv archives: written atomically (temporary file,
//! fsync, rename) and read zero-copy (mmap, validated once with bytecheck,
//! then accessed in place; nothing is deserialized).
//!
//! File layout: the rkyv archive of a [`SnapshotFile`], then a 24-byte
//! trailer: magic `TWSNAP01`, archive length (u64 LE), FNV-1a 64 of the
//! archive (u64 LE). rkyv archives are not self-delimiting (a file cut just
//! before its root can still validate), so the trailer is what turns every
//! truncation and most corruption into an error before bytecheck runs.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use rkyv::rancor;

use super::format::{
    ArchivedSnapLevel, ArchivedSnapshotFile, BookSnapshot, SnapLevel, SnapshotFile,
};
use super::l2::L2Book;
use super::mmap::{ValidatedMap, map_read_only};
use tickwire_core::types::{Market, Px, Qty, Side};

/// Why a snapshot could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The file system refused; check that the path exists and is writable
    /// (or readable).
    #[error("snapshot file {}: {source} (check the path and its permissions)", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Serializing the books failed (out of memory or an rkyv limit).
    #[error("cannot serialize snapshot: {0}")]
    Serialize(#[source] rancor::Error),
    /// The file is not a valid snapshot archive.
    #[error(
        "{} is not a valid tickwire snapshot ({reason}); it is truncated, corrupt or from another version: take a new snapshot",
        path.display()
    )]
    Invalid {
        /// The file involved.
        path: PathBuf,
        /// What validation found.
        reason: String,
    },
}

const MAGIC: &[u8; 8] = b"TWSNAP01";
const TRAILER: usize = 24;

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn trailer(archive: &[u8]) -> [u8; TRAILER] {
    let mut t = [0u8; TRAILER];
    t[..8].copy_from_slice(MAGIC);
    t[8..16].copy_from_slice(&(archive.len() as u64).to_le_bytes());
    t[16..].copy_from_slice(&fnv1a(archive).to_le_bytes());
    t
}

/// Checks the trailer and returns the archive length, or why the file is bad.
fn check_trailer(file: &[u8]) -> Result<usize, &'static str> {
    let split = file
        .len()
        .checked_sub(TRAILER)
        .ok_or("shorter than its trailer")?;
    let (archive, t) = file.split_at(split);
    let word = |r: std::ops::Range<usize>| {
        t.get(r)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map_or(0, u64::from_le_bytes)
    };
    if t.get(..8) != Some(&MAGIC[..]) {
        return Err("no snapshot trailer (bad magic)");
    }
    if word(8..16) != archive.len() as u64 {
        return Err("length in trailer does not match the file");
    }
    if word(16..24) != fnv1a(archive) {
        return Err("checksum mismatch");
    }
    Ok(archive.len())
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SnapshotError + '_ {
    move |source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Copies a book into a snapshot: `depth` levels per side, best first
/// (`depth == 0` keeps every level). Allocates; call off the hot path.
pub(crate) fn snapshot_of(
    book: &L2Book,
    market: Market,
    symbol: &str,
    last_update_id: u64,
    taken_at_ns: u64,
    stale: bool,
    depth: usize,
) -> BookSnapshot {
    let take = if depth == 0 { usize::MAX } else { depth };
    let side = |s: Side| -> Vec<SnapLevel> {
        book.levels(s)
            .take(take)
            .map(|l| SnapLevel {
                px: l.px.0,
                qty: l.qty.0,
            })
            .collect()
    };
    BookSnapshot {
        market: market.name().to_string(),
        symbol: symbol.to_string(),
        last_update_id,
        taken_at_ns,
        stale,
        bids: side(Side::Buy),
        asks: side(Side::Sell),
    }
}

/// Writes `file` to `path` atomically: a temporary file in the same
/// directory is written, fsynced and renamed over `path`, then the directory
/// is fsynced. Readers never see a partial file.
pub(crate) fn write_snapshot(path: &Path, file: &SnapshotFile) -> Result<(), SnapshotError> {
    let bytes = rkyv::to_bytes::<rancor::Error>(file).map_err(SnapshotError::Serialize)?;
    let name = path.file_name().ok_or_else(|| SnapshotError::Io {
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"),
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = (|| {
        let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(&bytes).map_err(io_err(&tmp))?;
        f.write_all(&trailer(&bytes)).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
        std::fs::rename(&tmp, path).map_err(io_err(path))
    })();
    if result.is_err() {
        // Best effort: do not leave the temporary file behind.
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// A snapshot file mapped into memory and validated once; the books are read
/// in place through [`MappedSnapshot::archived`].
pub struct MappedSnapshot {
    map: ValidatedMap,
}

impl MappedSnapshot {
    /// Maps and validates the snapshot at `path`. A truncated, empty or
    /// corrupt file is [`SnapshotError::Invalid`], never a panic.
    pub fn open(path: &Path) -> Result<MappedSnapshot, SnapshotError> {
        let file = File::open(path).map_err(io_err(path))?;
        let map = map_read_only(&file).map_err(io_err(path))?;
        let invalid = |reason: String| SnapshotError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        let len = check_trailer(&map).map_err(|r| invalid(r.to_string()))?;
        let map = ValidatedMap::new(map, len).map_err(|e| SnapshotError::Invalid {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        Ok(MappedSnapshot { map })
    }

    /// The archived books, zero-copy.
    pub fn archived(&self) -> &ArchivedSnapshotFile {
        self.map.root()
    }
}

/// Validates a snapshot file's bytes exactly as [`MappedSnapshot::open`]
/// does (trailer, then rkyv/bytecheck) and returns how many books it holds.
/// For the fuzz target: any bytes give an answer, never a panic.
pub fn check_snapshot_bytes(bytes: &[u8]) -> Result<usize, String> {
    let len = check_trailer(bytes).map_err(str::to_string)?;
    let archive = bytes.get(..len).unwrap_or(&[]);
    // Copy to an aligned buffer, as a page-aligned mapping would be.
    let mut aligned = rkyv::util::AlignedVec::<16>::with_capacity(archive.len());
    aligned.extend_from_slice(archive);
    let root =
        rkyv::access::<ArchivedSnapshotFile, rancor::Error>(&aligned).map_err(|e| e.to_string())?;
    Ok(root.books.len())
}

/// Prints each book as a readable table: the top `depth` levels per side,
/// bids on the left, asks on the right.
pub fn print_top(snap: &ArchivedSnapshotFile, depth: usize, out: &mut dyn Write) -> io::Result<()> {
    for b in snap.books.iter() {
        writeln!(
            out,
            "{} {}  last_update_id {}  taken_at_ns {}  levels {} bid / {} ask{}",
            b.market.as_str(),
            b.symbol.as_str(),
            b.last_update_id.to_native(),
            b.taken_at_ns.to_native(),
            b.bids.len(),
            b.asks.len(),
            if b.stale { "  STALE" } else { "" },
        )?;
        writeln!(
            out,
            "{:>4}  {:>18} {:>18}  {:<18} {:<18}",
            "#", "bid qty", "bid px", "ask px", "ask qty"
        )?;
        let rows = b.bids.len().max(b.asks.len()).min(depth);
        for i in 0..rows {
            let cell = |levels: &rkyv::vec::ArchivedVec<ArchivedSnapLevel>| {
                levels.get(i).map_or((String::new(), String::new()), |l| {
                    (
                        Px(l.px.to_native()).to_string(),
                        Qty(l.qty.to_native()).to_string(),
                    )
                })
            };
            let (bid_px, bid_qty) = cell(&b.bids);
            let (ask_px, ask_qty) = cell(&b.asks);
            writeln!(
                out,
                "{:>4}  {bid_qty:>18} {bid_px:>18}  {ask_px:<18} {ask_qty:<18}",
                i + 1
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickwire_core::types::Px;

    fn temp_path(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tickwire-snap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        dir.join(name)
    }

    fn sample_book() -> L2Book {
        let mut b = L2Book::new(None);
        for i in 0..50 {
            b.apply(Side::Buy, Px((61_000 - i) * 100_000_000), Qty(1_000 + i));
            b.apply(Side::Sell, Px((61_001 + i) * 100_000_000), Qty(2_000 + i));
        }
        b
    }

    fn sample_file() -> SnapshotFile {
        let book = sample_book();
        SnapshotFile {
            books: vec![
                snapshot_of(
                    &book,
                    Market::Usdm,
                    "BTCUSDT",
                    42,
                    1_723_161_255_000_000_000,
                    false,
                    0,
                ),
                snapshot_of(&L2Book::new(None), Market::Spot, "ETHUSDT", 7, 1, true, 10),
            ],
        }
    }

    #[test]
    fn snapshot_round_trips_through_mmap() {
        let path = temp_path("round_trip.rkyv");
        let file = sample_file();
        write_snapshot(&path, &file).expect("write");
        let snap = MappedSnapshot::open(&path).expect("open");
        let arch = snap.archived();
        assert_eq!(arch.books.len(), 2);
        let b = &arch.books[0];
        assert_eq!(b.symbol.as_str(), "BTCUSDT");
        assert_eq!(b.market.as_str(), "usdm");
        assert_eq!(b.bids.len(), 50);
        assert_eq!(b.bids[0].px.to_native(), 61_000 * 100_000_000);
        assert_eq!(b.asks[0].qty.to_native(), 2_000);
        let back: SnapshotFile =
            rkyv::deserialize::<SnapshotFile, rancor::Error>(arch).expect("deserialize");
        assert_eq!(back, file);
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn empty_book_snapshot_round_trips() {
        let path = temp_path("empty_book.rkyv");
        let file = SnapshotFile {
            books: vec![snapshot_of(
                &L2Book::new(None),
                Market::Coinm,
                "BTCUSD_PERP",
                0,
                0,
                true,
                0,
            )],
        };
        write_snapshot(&path, &file).expect("write");
        let snap = MappedSnapshot::open(&path).expect("open");
        let b = &snap.archived().books[0];
        assert!(b.bids.is_empty() && b.asks.is_empty());
        assert!(b.stale);
        let mut out = Vec::new();
        print_top(snap.archived(), 5, &mut out).expect("print");
        let text = String::from_utf8(out).expect("utf8");
        assert!(text.contains("coinm BTCUSD_PERP"), "{text}");
        assert!(text.contains("STALE"), "{text}");
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn snapshot_depth_limits_levels_per_side() {
        let s = snapshot_of(&sample_book(), Market::Usdm, "BTCUSDT", 1, 1, false, 5);
        assert_eq!(s.bids.len(), 5);
        assert_eq!(s.asks.len(), 5);
        assert_eq!(s.asks[4].px, 61_005 * 100_000_000);
    }

    #[test]
    fn truncated_file_is_an_error() {
        let path = temp_path("truncated.rkyv");
        write_snapshot(&path, &sample_file()).expect("write");
        let full = std::fs::read(&path).expect("read");
        for cut in 0..full.len() {
            std::fs::write(&path, &full[..cut]).expect("write cut");
            let r = MappedSnapshot::open(&path);
            assert!(
                matches!(r, Err(SnapshotError::Invalid { .. })),
                "cut at {cut} of {} accepted",
                full.len()
            );
        }
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn flipped_byte_is_an_error() {
        let path = temp_path("flipped.rkyv");
        write_snapshot(&path, &sample_file()).expect("write");
        let mut bytes = std::fs::read(&path).expect("read");
        let mid = bytes.len() / 3;
        bytes[mid] ^= 0x40;
        std::fs::write(&path, &bytes).expect("write flipped");
        assert!(matches!(
            MappedSnapshot::open(&path),
            Err(SnapshotError::Invalid { .. })
        ));
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn archive_with_valid_trailer_but_bad_structure_is_an_error() {
        let path = temp_path("bad_structure.rkyv");
        let mut bytes = vec![0xffu8; 64];
        let t = trailer(&bytes);
        bytes.extend_from_slice(&t);
        std::fs::write(&path, &bytes).expect("write");
        let r = MappedSnapshot::open(&path);
        assert!(
            matches!(r, Err(SnapshotError::Invalid { .. })),
            "{:?}",
            r.err()
        );
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn garbage_and_empty_files_are_errors() {
        let path = temp_path("garbage.rkyv");
        let garbage: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        std::fs::write(&path, &garbage).expect("write");
        assert!(matches!(
            MappedSnapshot::open(&path),
            Err(SnapshotError::Invalid { .. })
        ));
        std::fs::write(&path, b"").expect("write");
        assert!(matches!(
            MappedSnapshot::open(&path),
            Err(SnapshotError::Invalid { .. })
        ));
        std::fs::remove_file(&path).ok();
        assert!(matches!(
            MappedSnapshot::open(&path),
            Err(SnapshotError::Io { .. })
        ));
    }

    #[test]
    fn print_top_shows_best_levels_formatted() {
        let file = sample_file();
        let bytes = rkyv::to_bytes::<rancor::Error>(&file).expect("serialize");
        let arch = rkyv::access::<ArchivedSnapshotFile, rancor::Error>(&bytes).expect("access");
        let mut out = Vec::new();
        print_top(arch, 3, &mut out).expect("print");
        let text = String::from_utf8(out).expect("utf8");
        assert!(text.contains("usdm BTCUSDT"), "{text}");
        assert!(text.contains("61000"), "{text}");
        assert!(text.contains("61001"), "{text}");
        assert!(text.contains("0.00001"), "{text}");
        assert!(
            !text.contains("60997"),
            "depth 3 must stop at the third level: {text}"
        );
    }
}
