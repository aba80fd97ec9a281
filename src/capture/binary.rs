//! tickwire's own capture format: append-only, mmap-friendly, zero-copy.
//!
//! All integers are little-endian. Every record starts at a multiple of 8
//! bytes from the start of the file.
//!
//! File header (64 bytes):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0  | 8  | magic `b"TWCAP\0\r\n"` (the `\r\n` catches text-mode mangling) |
//! | 8  | 2  | format version `u16` = [`VERSION`] |
//! | 10 | 2  | header length `u16` = offset of the first record (64; a multiple of 8, at least 64, so later versions can grow it) |
//! | 12 | 1  | market `u8`: 0 unknown, 1 spot, 2 usdm, 3 coinm |
//! | 13 | 1  | symbol length `u8`, 0 = unknown, at most 23 |
//! | 14 | 2  | reserved, 0 |
//! | 16 | 24 | symbol bytes, zero padded |
//! | 40 | 24 | reserved, 0 |
//!
//! Record (at offset `r`, a multiple of 8):
//!
//! | offset | size | field |
//! |---|---|---|
//! | r+0  | 8   | `rx_ns` `u64`: receive time, ns since the Unix epoch |
//! | r+8  | 4   | `len` `u32`: payload length |
//! | r+12 | 4   | `!len` `u32` (bitwise complement): catches a corrupt or torn length |
//! | r+16 | len | payload: the raw frame exactly as received |
//! | r+16+len | 0..7 | zero padding to the next multiple of 8 |
//!
//! The next record starts at `r + 16 + round_up(len, 8)`. A file being
//! written may end in a partial record; readers stop there, report it and
//! ignore it. A record whose `!len` check fails ends the readable part too.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::CaptureError;
use super::mmap::MappedFile;
use tickwire_core::types::{Market, SYMBOL_MAX, SymbolName};

/// File magic, bytes 0..8.
pub(crate) const MAGIC: [u8; 8] = *b"TWCAP\0\r\n";
/// Format version written and read by this build.
pub(crate) const VERSION: u16 = 1;
/// Header length written by this build; the first record starts here.
pub(crate) const HEADER_LEN: usize = 64;
/// Bytes before each record's payload.
pub(crate) const RECORD_HEADER_LEN: usize = 16;
/// Largest payload a record can hold.
pub(crate) const MAX_FRAME: usize = u32::MAX as usize;

/// True when `bytes` start like a binary capture (first 5 magic bytes), so
/// a damaged rest of the magic is reported as a bad header rather than read
/// as text.
pub(crate) fn looks_binary(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC[..5])
}

/// Instrument recorded in the header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// Market of the source, if known.
    pub market: Option<Market>,
    /// Symbol of the source, if known.
    pub symbol: Option<SymbolName>,
}

fn market_code(m: Option<Market>) -> u8 {
    match m {
        None => 0,
        Some(Market::Spot) => 1,
        Some(Market::Usdm) => 2,
        Some(Market::Coinm) => 3,
    }
}

impl Header {
    /// The 64-byte on-disk header.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[0..8].copy_from_slice(&MAGIC);
        h[8..10].copy_from_slice(&VERSION.to_le_bytes());
        h[10..12].copy_from_slice(&(HEADER_LEN as u16).to_le_bytes());
        h[12] = market_code(self.market);
        if let Some(s) = self.symbol {
            let b = s.as_bytes();
            h[13] = b.len() as u8;
            h[16..16 + b.len()].copy_from_slice(b);
        }
        h
    }
}

/// Why a header was refused (turned into a [`CaptureError`] with the path).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// The header is damaged; the text says how.
    Bad(String),
    /// The header is intact but from another format version.
    Version(u16),
}

impl HeaderError {
    /// Attaches the file name.
    pub fn at(self, path: &Path) -> CaptureError {
        match self {
            HeaderError::Bad(reason) => CaptureError::BadHeader {
                path: path.to_path_buf(),
                reason,
            },
            HeaderError::Version(version) => CaptureError::UnsupportedVersion {
                path: path.to_path_buf(),
                version,
                supported: VERSION,
            },
        }
    }
}

/// A parsed binary capture over borrowed bytes (usually an mmap).
#[derive(Clone, Copy, Debug)]
pub struct BinaryView<'a> {
    header: Header,
    bytes: &'a [u8],
    body_start: usize,
}

fn le_u16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2)
        .and_then(|s| <[u8; 2]>::try_from(s).ok())
        .map(u16::from_le_bytes)
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(u32::from_le_bytes)
}

fn le_u64(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map(u64::from_le_bytes)
}

impl<'a> BinaryView<'a> {
    /// Validates the header of a whole binary capture.
    pub fn parse(bytes: &'a [u8]) -> Result<BinaryView<'a>, HeaderError> {
        let bad = |s: String| Err(HeaderError::Bad(s));
        if bytes.len() < HEADER_LEN {
            return bad(format!(
                "file is {} bytes, shorter than the {HEADER_LEN}-byte header",
                bytes.len()
            ));
        }
        if bytes.get(..8) != Some(&MAGIC[..]) {
            return bad("wrong magic bytes".to_string());
        }
        let version = le_u16(bytes, 8).unwrap_or(0);
        if version != VERSION {
            return Err(HeaderError::Version(version));
        }
        let header_len = usize::from(le_u16(bytes, 10).unwrap_or(0));
        if header_len < HEADER_LEN || !header_len.is_multiple_of(8) || header_len > bytes.len() {
            return bad(format!(
                "header length {header_len} is not a multiple of 8 between {HEADER_LEN} and the file size"
            ));
        }
        let market = match bytes.get(12).copied().unwrap_or(u8::MAX) {
            0 => None,
            1 => Some(Market::Spot),
            2 => Some(Market::Usdm),
            3 => Some(Market::Coinm),
            m => return bad(format!("unknown market code {m}")),
        };
        let sym_len = usize::from(bytes.get(13).copied().unwrap_or(u8::MAX));
        if sym_len > SYMBOL_MAX {
            return bad(format!("symbol length {sym_len} exceeds {SYMBOL_MAX}"));
        }
        let symbol = match sym_len {
            0 => None,
            n => bytes.get(16..16 + n).and_then(SymbolName::new),
        };
        Ok(BinaryView {
            header: Header { market, symbol },
            bytes,
            body_start: header_len,
        })
    }

    /// The header's instrument.
    pub fn header(&self) -> Header {
        self.header
    }

    /// Iterates the records, zero-copy.
    pub fn records(&self) -> Records<'a> {
        Records {
            bytes: self.bytes,
            pos: self.body_start,
            damage: None,
        }
    }
}

/// A binary capture file mapped read-only, with its header validated.
#[derive(Debug)]
pub struct BinaryFile {
    map: MappedFile,
    header: Header,
    body_start: usize,
}

impl BinaryFile {
    /// Maps `path` and validates its header. Frames appended later by a
    /// writer are not visible through this map; open the file again.
    pub fn open(path: &Path) -> Result<BinaryFile, CaptureError> {
        let map = MappedFile::open(path).map_err(|source| CaptureError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let view = BinaryView::parse(map.bytes()).map_err(|e| e.at(path))?;
        let (header, body_start) = (view.header, view.body_start);
        Ok(BinaryFile {
            map,
            header,
            body_start,
        })
    }

    /// A zero-copy view of the mapped bytes.
    pub fn view(&self) -> BinaryView<'_> {
        BinaryView {
            header: self.header,
            bytes: self.map.bytes(),
            body_start: self.body_start,
        }
    }
}

/// One record, borrowed from the file bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// Receive time, ns since the Unix epoch.
    pub rx_ns: u64,
    /// Offset of the payload in the file.
    pub offset: usize,
    /// The raw frame.
    pub bytes: &'a [u8],
}

/// Iterator over the records of a [`BinaryView`]. Stops at the end of the
/// file or at the first partial or corrupt record; [`Records::damage`] then
/// says what was ignored. A last record whose payload is whole but whose
/// padding was cut off is still yielded (and reported).
#[derive(Clone, Debug)]
pub struct Records<'a> {
    bytes: &'a [u8],
    pos: usize,
    damage: Option<String>,
}

impl Records<'_> {
    /// After iteration: a description of the trailing bytes that were
    /// ignored (partial or corrupt record), or `None` if the file ended
    /// cleanly.
    pub fn damage(&self) -> Option<&str> {
        self.damage.as_deref()
    }

    fn stop(&mut self, why: &str) {
        let ignored = self.bytes.len().saturating_sub(self.pos);
        self.damage = Some(format!(
            "{why} at byte offset {}; the trailing {ignored} bytes were ignored",
            self.pos
        ));
        self.pos = self.bytes.len();
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Record<'a>> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let (Some(rx_ns), Some(len), Some(check)) = (
            le_u64(self.bytes, self.pos),
            le_u32(self.bytes, self.pos + 8),
            le_u32(self.bytes, self.pos + 12),
        ) else {
            self.stop("partial record header");
            return None;
        };
        if check != !len {
            self.stop("corrupt record length (check word mismatch)");
            return None;
        }
        let start = self.pos + RECORD_HEADER_LEN;
        let Some(payload) = start
            .checked_add(len as usize)
            .and_then(|end| self.bytes.get(start..end))
        else {
            self.stop("partial record payload");
            return None;
        };
        let padded = (len as usize).div_ceil(8) * 8;
        self.pos = start.saturating_add(padded);
        if self.pos > self.bytes.len() {
            // The frame is whole; only its padding was cut off.
            self.damage = Some(format!(
                "file ends inside the padding of the record at byte offset {}; the record was read",
                start - RECORD_HEADER_LEN
            ));
            self.pos = self.bytes.len();
        }
        Some(Record {
            rx_ns,
            offset: start,
            bytes: payload,
        })
    }
}

/// Appends frames to a binary capture. Works incrementally: records go
/// through the writer `W` (a `BufWriter<File>` from [`CaptureWriter::create`])
/// and reach the file on [`CaptureWriter::flush`] or [`CaptureWriter::finish`].
#[derive(Debug)]
pub struct CaptureWriter<W: Write> {
    out: W,
    path: PathBuf,
    frames: u64,
    payload_bytes: u64,
    file_bytes: u64,
}

impl CaptureWriter<BufWriter<File>> {
    /// Creates (or truncates) `path` and writes the header.
    pub fn create(path: &Path, header: &Header) -> Result<Self, CaptureError> {
        let file = File::create(path).map_err(|source| CaptureError::Write {
            path: path.to_path_buf(),
            source,
        })?;
        CaptureWriter::new(BufWriter::with_capacity(1 << 20, file), path, header)
    }
}

const PAD: [u8; 8] = [0; 8];

impl<W: Write> CaptureWriter<W> {
    /// Writes the header to `out`; `path` only names the target in errors.
    pub fn new(mut out: W, path: &Path, header: &Header) -> Result<Self, CaptureError> {
        let path = path.to_path_buf();
        out.write_all(&header.encode())
            .map_err(|source| CaptureError::Write {
                path: path.clone(),
                source,
            })?;
        Ok(CaptureWriter {
            out,
            path,
            frames: 0,
            payload_bytes: 0,
            file_bytes: HEADER_LEN as u64,
        })
    }

    fn io(&self, source: std::io::Error) -> CaptureError {
        CaptureError::Write {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends one frame received at `rx_ns`.
    pub fn append(&mut self, rx_ns: u64, frame: &[u8]) -> Result<(), CaptureError> {
        let len = u32::try_from(frame.len()).map_err(|_| CaptureError::FrameTooLarge {
            len: frame.len(),
            max: MAX_FRAME,
        })?;
        let mut head = [0u8; RECORD_HEADER_LEN];
        head[0..8].copy_from_slice(&rx_ns.to_le_bytes());
        head[8..12].copy_from_slice(&len.to_le_bytes());
        head[12..16].copy_from_slice(&(!len).to_le_bytes());
        let pad = frame.len().div_ceil(8) * 8 - frame.len();
        let res = self
            .out
            .write_all(&head)
            .and_then(|()| self.out.write_all(frame))
            .and_then(|()| self.out.write_all(&PAD[..pad]));
        res.map_err(|e| self.io(e))?;
        self.frames += 1;
        self.payload_bytes += u64::from(len);
        self.file_bytes += (RECORD_HEADER_LEN + frame.len() + pad) as u64;
        Ok(())
    }

    /// Pushes buffered records to the underlying writer.
    pub fn flush(&mut self) -> Result<(), CaptureError> {
        self.out.flush().map_err(|e| self.io(e))
    }

    /// Frames appended so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Payload bytes appended so far.
    pub fn payload_bytes(&self) -> u64 {
        self.payload_bytes
    }

    /// Flushes and returns the total file size written.
    pub fn finish(mut self) -> Result<u64, CaptureError> {
        self.flush()?;
        Ok(self.file_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_mem(frames: &[(u64, &[u8])]) -> Vec<u8> {
        let mut w = CaptureWriter::new(
            Vec::new(),
            Path::new("mem"),
            &Header {
                market: Some(Market::Usdm),
                symbol: SymbolName::new(b"BTCUSDT"),
            },
        )
        .unwrap();
        for (rx, f) in frames {
            w.append(*rx, f).unwrap();
        }
        w.out
    }

    #[test]
    fn records_are_eight_byte_aligned() {
        let buf = write_mem(&[(1, b"abc"), (2, b"12345678"), (3, b"")]);
        let view = BinaryView::parse(&buf).unwrap();
        let recs: Vec<_> = view.records().collect();
        assert_eq!(recs.len(), 3);
        assert!(
            recs.iter()
                .all(|r| (r.offset - RECORD_HEADER_LEN).is_multiple_of(8))
        );
        assert_eq!(buf.len(), 64 + 24 + 24 + 16);
    }

    #[test]
    fn every_truncation_point_is_survived() {
        let buf = write_mem(&[(1, b"{\"a\":1}"), (2, b"{\"b\":22}"), (3, b"x")]);
        for cut in HEADER_LEN..buf.len() {
            let view = BinaryView::parse(&buf[..cut]).unwrap();
            let mut it = view.records();
            let n = it.by_ref().count();
            // The last payload ends at 129; its padding is not needed to read it.
            let clean = [64, 88, 112].contains(&cut);
            assert_eq!(n == 3, cut >= 129, "cut {cut}");
            assert_eq!(it.damage().is_none(), clean, "cut {cut}");
        }
    }

    #[test]
    fn corrupt_length_stops_reading() {
        let mut buf = write_mem(&[(1, b"abc"), (2, b"def")]);
        buf[64 + 24 + 8] = 0xff;
        let view = BinaryView::parse(&buf).unwrap();
        let mut it = view.records();
        assert_eq!(it.by_ref().count(), 1);
        assert!(it.damage().unwrap().contains("corrupt"));
    }
}
