//! Opening several sources and merging them into one replay order.
//!
//! Each source is one instrument (market + symbol), inferred from its data
//! or given with `PATH@market`. Frames of all sources are merged by receive
//! time with a k-way merge of the sources' heads: each source keeps its own
//! file order, and ties go to the lower source index, so the merge is stable
//! and deterministic. The merged index is built once at open; reading a
//! frame afterwards allocates nothing.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::binary::{self, BinaryView};
use super::mmap::MappedFile;
use super::text::{self, TextCapture};
use super::{CaptureError, SourceArg, parse_source_arg};
use tickwire_core::types::{Market, SymbolName};

/// What was loaded from one source, for reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceInfo {
    /// The file (or the in-memory source's name).
    pub path: PathBuf,
    /// Market: the `@market` override, else the binary header's, else
    /// inferred from the first depth diff; `None` when nothing tells.
    pub market: Option<Market>,
    /// Symbol from the header or the first frame carrying `"s"`.
    pub symbol: Option<SymbolName>,
    /// Frames loaded from this source.
    pub frames: usize,
    /// Text lines skipped because their prefix was malformed.
    pub malformed_lines: usize,
    /// 1-based numbers of the first few of them.
    pub first_malformed: Vec<usize>,
    /// Set when the file was damaged (truncated gzip, partial binary record):
    /// what was wrong and what was ignored.
    pub truncated: Option<String>,
}

/// One frame of a capture, borrowed from the capture's buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameRef<'a> {
    /// Receive time, ns since the Unix epoch.
    pub rx_ns: u64,
    /// Index of the source in [`Capture::sources`].
    pub source: u16,
    /// The raw frame exactly as received.
    pub bytes: &'a [u8],
}

/// A source held in memory (e.g. a synthetic session): text (gzip or plain)
/// or binary bytes, detected by magic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InMemorySource {
    /// Name shown in reports.
    pub name: String,
    /// Market override; `None` infers it from the data.
    pub market: Option<Market>,
    /// The file contents.
    pub bytes: Vec<u8>,
}

#[derive(Debug)]
enum Backing {
    Owned(Vec<u8>),
    Mapped(MappedFile),
}

impl Backing {
    fn bytes(&self) -> &[u8] {
        match self {
            Backing::Owned(v) => v,
            Backing::Mapped(m) => m.bytes(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    rx_ns: u64,
    start: usize,
    len: u32,
    source: u16,
}

/// One or more recorded sources merged by receive time.
#[derive(Debug)]
pub struct Capture {
    backings: Vec<Backing>,
    sources: Vec<SourceInfo>,
    index: Vec<Entry>,
}

/// A loaded source before merging.
struct Loaded {
    backing: Backing,
    entries: Vec<Entry>,
    info: SourceInfo,
}

/// Finds `needle` in `hay` (byte-level; not a hot path).
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The value of the first `"s":"..."` field in a frame.
fn symbol_of(frame: &[u8]) -> Option<SymbolName> {
    const KEY: &[u8] = b"\"s\":\"";
    let at = find(frame, KEY)? + KEY.len();
    let rest = frame.get(at..)?;
    let end = rest.iter().position(|&b| b == b'"')?;
    SymbolName::new(rest.get(..end)?)
}

/// Infers a source's instrument from its frames, in file order.
///
/// The first `depthUpdate` frame decides: futures diffs carry `"pu":`; a
/// futures symbol containing `_` (`BTCUSD_PERP`) is COIN-M, otherwise USD-M;
/// no `pu` means spot. The symbol is that frame's `"s"`. Without any depth
/// diff the market is `None` (the caller decides) and the symbol is taken
/// from the first frame that has one.
pub fn infer_instrument<'a>(
    frames: impl Iterator<Item = &'a [u8]>,
) -> (Option<Market>, Option<SymbolName>) {
    let mut first_symbol = None;
    for f in frames {
        if find(f, b"\"depthUpdate\"").is_some() {
            let symbol = symbol_of(f).or(first_symbol);
            let market = if find(f, b"\"pu\":").is_some() {
                if symbol.is_some_and(|s| s.as_bytes().contains(&b'_')) {
                    Market::Coinm
                } else {
                    Market::Usdm
                }
            } else {
                Market::Spot
            };
            return (Some(market), symbol);
        }
        if first_symbol.is_none() {
            first_symbol = symbol_of(f);
        }
    }
    (None, first_symbol)
}

fn read_err(path: &Path) -> impl FnOnce(std::io::Error) -> CaptureError + '_ {
    move |source| CaptureError::Read {
        path: path.to_path_buf(),
        source,
    }
}

/// Builds the source from binary bytes held by `backing`.
fn from_binary(
    path: &Path,
    backing: Backing,
    market: Option<Market>,
) -> Result<Loaded, CaptureError> {
    let (entries, header, damage) = {
        let view = BinaryView::parse(backing.bytes()).map_err(|e| e.at(path))?;
        let mut it = view.records();
        let entries: Vec<Entry> = it
            .by_ref()
            .map(|r| Entry {
                rx_ns: r.rx_ns,
                start: r.offset,
                len: r.bytes.len() as u32,
                source: 0,
            })
            .collect();
        (entries, view.header(), it.damage().map(str::to_string))
    };
    if entries.is_empty() {
        return Err(CaptureError::NoFrames {
            path: path.to_path_buf(),
            detail: damage.unwrap_or_else(|| "binary capture with a header and no records".into()),
        });
    }
    let mut info = SourceInfo {
        path: path.to_path_buf(),
        market: market.or(header.market),
        symbol: header.symbol,
        frames: entries.len(),
        malformed_lines: 0,
        first_malformed: Vec::new(),
        truncated: damage,
    };
    if info.market.is_none() || info.symbol.is_none() {
        let bytes = backing.bytes();
        let (m, s) = infer_instrument(entries.iter().map(|e| slice(bytes, e)));
        info.market = info.market.or(m);
        info.symbol = info.symbol.or(s);
    }
    Ok(Loaded {
        backing,
        entries,
        info,
    })
}

fn slice<'a>(bytes: &'a [u8], e: &Entry) -> &'a [u8] {
    bytes
        .get(e.start..e.start.saturating_add(e.len as usize))
        .unwrap_or_default()
}

/// Builds the source from file contents already in memory.
fn from_raw(path: &Path, raw: Vec<u8>, market: Option<Market>) -> Result<Loaded, CaptureError> {
    if raw.is_empty() {
        return Err(CaptureError::Empty {
            path: path.to_path_buf(),
        });
    }
    if binary::looks_binary(&raw) {
        return from_binary(path, Backing::Owned(raw), market);
    }
    let (plain, damage) = if text::is_gzip(&raw) {
        text::gunzip(&raw)
    } else {
        (raw, None)
    };
    if binary::looks_binary(&plain) && damage.is_none() {
        return from_binary(path, Backing::Owned(plain), market);
    }
    let t = TextCapture::parse(plain, damage);
    let malformed_lines = t.malformed_lines();
    let first_malformed = t.first_malformed_lines().to_vec();
    let truncated = t.truncated().map(str::to_string);
    let problems = t.describe_problems();
    let (inferred_market, symbol) = infer_instrument(t.lines().iter().map(|l| t.line_bytes(l)));
    let (bytes, lines) = t.into_parts();
    let entries: Vec<Entry> = lines
        .iter()
        .map(|l| Entry {
            rx_ns: l.rx_ns,
            start: l.start,
            len: l.len,
            source: 0,
        })
        .collect();
    if entries.is_empty() {
        return Err(CaptureError::NoFrames {
            path: path.to_path_buf(),
            detail: problems,
        });
    }
    Ok(Loaded {
        backing: Backing::Owned(bytes),
        info: SourceInfo {
            path: path.to_path_buf(),
            market: market.or(inferred_market),
            symbol,
            frames: entries.len(),
            malformed_lines,
            first_malformed,
            truncated,
        },
        entries,
    })
}

/// Opens one file: binary captures are mapped, text captures read whole.
fn load_file(arg: &SourceArg) -> Result<Loaded, CaptureError> {
    let path = arg.path.as_path();
    let mut head = [0u8; 8];
    let mut file = std::fs::File::open(path).map_err(read_err(path))?;
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_err(path)(e)),
        }
    }
    drop(file);
    if got == 0 {
        return Err(CaptureError::Empty {
            path: path.to_path_buf(),
        });
    }
    if binary::looks_binary(&head[..got]) {
        let map = MappedFile::open(path).map_err(read_err(path))?;
        return from_binary(path, Backing::Mapped(map), arg.market);
    }
    let raw = std::fs::read(path).map_err(read_err(path))?;
    from_raw(path, raw, arg.market)
}

impl Capture {
    /// Opens sources given as `PATH` or `PATH@spot|usdm|coinm`: text captures
    /// (gzip or plain) or binary captures, detected by magic, merged by
    /// receive time.
    pub fn open(args: &[String]) -> Result<Capture, CaptureError> {
        let parsed = args
            .iter()
            .map(|a| parse_source_arg(a))
            .collect::<Result<Vec<_>, _>>()?;
        check_count(parsed.len())?;
        let loaded = parsed
            .iter()
            .map(load_file)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Capture::merge(loaded))
    }

    /// One in-memory text capture (such as a synthetic session).
    pub fn from_text_bytes(name: &str, bytes: Vec<u8>) -> Result<Capture, CaptureError> {
        Capture::from_sources(vec![InMemorySource {
            name: name.to_string(),
            market: None,
            bytes,
        }])
    }

    /// Several named in-memory text (or binary) sources, markets inferred,
    /// merged by receive time.
    pub fn from_text_sources(sources: Vec<(String, Vec<u8>)>) -> Result<Capture, CaptureError> {
        Capture::from_sources(
            sources
                .into_iter()
                .map(|(name, bytes)| InMemorySource {
                    name,
                    market: None,
                    bytes,
                })
                .collect(),
        )
    }

    /// Several in-memory sources (text or binary), merged by receive time.
    pub fn from_sources(sources: Vec<InMemorySource>) -> Result<Capture, CaptureError> {
        check_count(sources.len())?;
        let loaded = sources
            .into_iter()
            .map(|s| from_raw(Path::new(&s.name), s.bytes, s.market))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Capture::merge(loaded))
    }

    fn merge(loaded: Vec<Loaded>) -> Capture {
        let total: usize = loaded.iter().map(|l| l.entries.len()).sum();
        let mut index = Vec::with_capacity(total);
        let mut heads: BinaryHeap<Reverse<(u64, u16, usize)>> = BinaryHeap::new();
        for (s, l) in loaded.iter().enumerate() {
            if let Some(e) = l.entries.first() {
                heads.push(Reverse((e.rx_ns, s as u16, 0)));
            }
        }
        while let Some(Reverse((_, s, i))) = heads.pop() {
            let Some(entries) = loaded.get(usize::from(s)).map(|l| &l.entries) else {
                continue;
            };
            if let Some(e) = entries.get(i) {
                index.push(Entry { source: s, ..*e });
            }
            if let Some(next) = entries.get(i + 1) {
                heads.push(Reverse((next.rx_ns, s, i + 1)));
            }
        }
        let mut backings = Vec::with_capacity(loaded.len());
        let mut sources = Vec::with_capacity(loaded.len());
        for l in loaded {
            backings.push(l.backing);
            sources.push(l.info);
        }
        Capture {
            backings,
            sources,
            index,
        }
    }

    /// The sources, in argument order; [`FrameRef::source`] indexes this.
    pub fn sources(&self) -> &[SourceInfo] {
        &self.sources
    }

    /// Frames after the merge.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when the capture holds no frame.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Frame `i` in replay order, or `None` past the end. Never allocates.
    #[inline]
    pub fn get(&self, i: usize) -> Option<FrameRef<'_>> {
        let e = self.index.get(i)?;
        let bytes = self
            .backings
            .get(usize::from(e.source))
            .map_or(&[][..], |b| slice(b.bytes(), e));
        Some(FrameRef {
            rx_ns: e.rx_ns,
            source: e.source,
            bytes,
        })
    }

    /// Frame `i` in replay order. Never allocates.
    ///
    /// # Panics
    /// When `i >= self.len()` (a caller bug, like slice indexing); use
    /// [`Capture::get`] to probe.
    #[inline]
    pub fn frame(&self, i: usize) -> FrameRef<'_> {
        match self.get(i) {
            Some(f) => f,
            None => panic!("frame index {i} out of range (capture has {})", self.len()),
        }
    }

    /// All frames in replay order.
    pub fn iter(&self) -> impl Iterator<Item = FrameRef<'_>> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Receive time of the first frame in replay order (0 if empty).
    pub fn first_rx_ns(&self) -> u64 {
        self.index.first().map_or(0, |e| e.rx_ns)
    }

    /// Receive time of the last frame in replay order (0 if empty).
    pub fn last_rx_ns(&self) -> u64 {
        self.index.last().map_or(0, |e| e.rx_ns)
    }
}

fn check_count(count: usize) -> Result<(), CaptureError> {
    let max = usize::from(u16::MAX);
    if count == 0 {
        return Err(CaptureError::NoSources);
    }
    if count > max {
        return Err(CaptureError::TooManySources { count, max });
    }
    Ok(())
}
