//! Recorded feeds: raw frames exactly as received plus their receive
//! timestamps, so replay exercises the decoder too.
//!
//! Two on-disk formats are read:
//! - `text`: the hftbacktest collector's `<rx_ns> <raw json>` lines, gzip or
//!   plain (detected by the gzip magic `1f 8b`, not by file extension);
//! - `binary`: tickwire's own append-only, mmap-friendly format, written by
//!   [`binary::CaptureWriter`] (used by [`import`] and by live recording).
//!
//! [`Capture::open`] loads one or more sources (`PATH` or `PATH@spot|usdm|coinm`),
//! infers each source's instrument from its data and merges all frames by
//! receive time into one index that [`Capture::frame`] reads without
//! allocating. [`synth`] generates deterministic Binance sessions in the text
//! format for demos and tests.

mod binary;
mod merge;
mod mmap;
mod replay;
pub mod synth;
mod text;

use std::path::{Path, PathBuf};

use tickwire_core::types::{Market, SymbolName};

pub use binary::{BinaryFile, CaptureWriter, Header};
pub use merge::{Capture, FrameRef, InMemorySource, SourceInfo, infer_instrument};
pub use replay::ReplaySource;

/// Everything that can go wrong reading, writing or importing a capture.
/// Every message names the file and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The file could not be opened, read or mapped.
    #[error("cannot read capture {path}: {source}; check the path and its permissions")]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file could not be created or written.
    #[error("cannot write capture {path}: {source}; check free space and directory permissions")]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The file is empty.
    #[error(
        "capture {path} is empty; pass a hftbacktest text capture or a tickwire binary capture"
    )]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The file starts like a tickwire binary capture but its header is damaged.
    #[error(
        "binary capture {path} has a bad header ({reason}); the file is corrupt or not a tickwire capture: re-import it from the text capture"
    )]
    BadHeader {
        /// The file.
        path: PathBuf,
        /// What is wrong with the header.
        reason: String,
    },
    /// A binary capture written by a newer (or unknown) format version.
    #[error(
        "binary capture {path} has format version {version}, this build reads version {supported}; upgrade tickwire or re-import the text capture"
    )]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// Version found in the header.
        version: u16,
        /// Version this build reads and writes.
        supported: u16,
    },
    /// The file holds no usable frame.
    #[error(
        "capture {path} holds no frames ({detail}); expected `<rx_ns> <json>` lines or a tickwire binary capture"
    )]
    NoFrames {
        /// The file.
        path: PathBuf,
        /// Why nothing was usable (malformed lines, truncation, ...).
        detail: String,
    },
    /// A source argument could not be parsed.
    #[error("bad capture argument {arg:?}: {reason}")]
    BadSourceArg {
        /// The argument as given.
        arg: String,
        /// What is wrong and how to write it.
        reason: String,
    },
    /// No source was given.
    #[error("no capture given; pass at least one PATH or PATH@spot|usdm|coinm")]
    NoSources,
    /// More sources than a `u16` source tag can name.
    #[error("{count} capture sources given; at most {max} can be replayed together")]
    TooManySources {
        /// Sources given.
        count: usize,
        /// Limit.
        max: usize,
    },
    /// A frame too large for the binary format's `u32` length field.
    #[error("frame of {len} bytes is too large for a binary capture (limit {max} bytes)")]
    FrameTooLarge {
        /// Frame length.
        len: usize,
        /// Largest frame the format stores.
        max: usize,
    },
}

/// One parsed source argument: a path and an optional market override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceArg {
    /// The capture file.
    pub path: PathBuf,
    /// Market given explicitly with `@spot`, `@usdm` or `@coinm`; `None` means
    /// "infer from the data".
    pub market: Option<Market>,
}

/// Parses `PATH` or `PATH@spot|usdm|coinm` (market name case-insensitive).
///
/// A suffix after the last `@` that contains `/` or `.` is taken as part of
/// the path (file names may contain `@`); any other unknown suffix is an
/// error, so a typo such as `x.gz@usd` is not silently read as a path.
pub fn parse_source_arg(arg: &str) -> Result<SourceArg, CaptureError> {
    let bad = |reason: &str| CaptureError::BadSourceArg {
        arg: arg.to_string(),
        reason: reason.to_string(),
    };
    if arg.is_empty() {
        return Err(bad("empty path; write PATH or PATH@spot|usdm|coinm"));
    }
    let Some((path, suffix)) = arg.rsplit_once('@') else {
        return Ok(SourceArg {
            path: PathBuf::from(arg),
            market: None,
        });
    };
    let market = match suffix.to_ascii_lowercase().as_str() {
        "spot" => Market::Spot,
        "usdm" => Market::Usdm,
        "coinm" => Market::Coinm,
        _ if suffix.contains('/') || suffix.contains('.') => {
            return Ok(SourceArg {
                path: PathBuf::from(arg),
                market: None,
            });
        }
        _ => {
            return Err(bad(
                "unknown market after `@`; use spot, usdm or coinm (or drop `@...` to infer it)",
            ));
        }
    };
    if path.is_empty() {
        return Err(bad("missing path before `@`; write PATH@market"));
    }
    Ok(SourceArg {
        path: PathBuf::from(path),
        market: Some(market),
    })
}

/// What [`import`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportStats {
    /// Frames written to the binary capture.
    pub frames: usize,
    /// Payload bytes written (frames only, no headers or padding).
    pub payload_bytes: u64,
    /// Total size of the binary file.
    pub file_bytes: u64,
    /// Text lines skipped because their `<rx_ns> ` prefix was malformed.
    pub malformed_lines: usize,
    /// Set when the text capture was damaged (truncated gzip, ...): what was
    /// wrong. Every complete line before the damage was imported.
    pub truncated: Option<String>,
    /// Market recorded in the header (inferred from the data).
    pub market: Option<Market>,
    /// Symbol recorded in the header (inferred from the data).
    pub symbol: Option<SymbolName>,
}

impl std::fmt::Display for ImportStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let market = self.market.map_or("unknown", Market::name);
        let symbol = self
            .symbol
            .map_or_else(|| "unknown".to_string(), |s| s.to_string());
        write!(
            f,
            "imported {} frames ({} payload bytes, {} file bytes), market {market}, symbol {symbol}",
            self.frames, self.payload_bytes, self.file_bytes
        )?;
        if self.malformed_lines > 0 {
            write!(f, "; {} malformed lines skipped", self.malformed_lines)?;
        }
        if let Some(t) = &self.truncated {
            write!(f, "; source damaged: {t}")?;
        }
        Ok(())
    }
}

/// Converts a text capture (gzip or plain) into a binary capture at `out`,
/// with the market and symbol inferred from the data. The file is written to
/// a temporary sibling and renamed into place, so a failed import never
/// leaves a half-written `out`.
pub fn import(text: &Path, out: &Path) -> Result<ImportStats, CaptureError> {
    import_with_market(text, None, out)
}

/// [`import`] with an explicit market (as given by `FILE@usdm`), which wins
/// over inference.
pub fn import_with_market(
    text: &Path,
    market: Option<Market>,
    out: &Path,
) -> Result<ImportStats, CaptureError> {
    let loaded = text::TextCapture::load(text)?;
    if loaded.lines().is_empty() {
        return Err(CaptureError::NoFrames {
            path: text.to_path_buf(),
            detail: loaded.describe_problems(),
        });
    }
    let (inferred_market, symbol) =
        infer_instrument(loaded.lines().iter().map(|l| loaded.line_bytes(l)));
    let market = market.or(inferred_market);
    let header = binary::Header { market, symbol };
    let mut tmp_name = out.as_os_str().to_os_string();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let write = || -> Result<(u64, u64), CaptureError> {
        let mut w = binary::CaptureWriter::create(&tmp, &header)?;
        for l in loaded.lines() {
            w.append(l.rx_ns, loaded.line_bytes(l))?;
        }
        let payload = w.payload_bytes();
        let file = w.finish()?;
        Ok((payload, file))
    };
    let (payload_bytes, file_bytes) = match write() {
        Ok(v) => v,
        Err(e) => {
            // Best effort: the temporary file is useless after a failure.
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    std::fs::rename(&tmp, out).map_err(|source| CaptureError::Write {
        path: out.to_path_buf(),
        source,
    })?;
    Ok(ImportStats {
        frames: loaded.lines().len(),
        payload_bytes,
        file_bytes,
        malformed_lines: loaded.malformed_lines(),
        truncated: loaded.truncated().map(str::to_string),
        market,
        symbol,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_arg_with_market_suffix_is_split() {
        let a = parse_source_arg("x.gz@usdm").unwrap();
        assert_eq!(a.path, PathBuf::from("x.gz"));
        assert_eq!(a.market, Some(Market::Usdm));
        let a = parse_source_arg("dir/y@COINM").unwrap();
        assert_eq!(a.market, Some(Market::Coinm));
    }

    #[test]
    fn source_arg_without_market_keeps_path() {
        let a = parse_source_arg("data/a@b.gz").unwrap();
        assert_eq!(a.path, PathBuf::from("data/a@b.gz"));
        assert_eq!(a.market, None);
        assert_eq!(parse_source_arg("plain.gz").unwrap().market, None);
    }

    #[test]
    fn source_arg_with_unknown_market_is_an_error() {
        assert!(matches!(
            parse_source_arg("x.gz@usd"),
            Err(CaptureError::BadSourceArg { .. })
        ));
        assert!(parse_source_arg("@spot").is_err());
        assert!(parse_source_arg("").is_err());
    }
}
