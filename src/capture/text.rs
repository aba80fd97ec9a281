//! The hftbacktest collector's text capture: one frame per line,
//! `<rx_ns> <raw json>\n`, where `rx_ns` is the local receive time in
//! nanoseconds since the Unix epoch. Usually gzip-compressed (possibly
//! several gzip members back to back); detected by the magic `1f 8b`.
//!
//! The whole file is decompressed into one `Vec<u8>` and its lines are
//! indexed once; frames are then borrowed from that buffer.
//!
//! Robustness rules:
//! - a damaged gzip stream (truncated, bad CRC, trailing garbage) keeps every
//!   complete line decoded before the damage, and [`TextCapture::truncated`]
//!   says what happened;
//! - a line whose prefix is not a decimal `u64` followed by one space and a
//!   non-empty payload is counted as malformed and skipped (the first few line
//!   numbers are kept for the report);
//! - empty lines are skipped silently; a trailing `\r` (CRLF) is dropped;
//! - payload bytes are kept as they are, even if not UTF-8 (the decoder
//!   reports those).

use std::io::Read;
use std::path::Path;

use super::CaptureError;

/// How many malformed line numbers are kept for the report.
pub(crate) const MALFORMED_KEPT: usize = 5;

/// One indexed line: receive time and where its payload lies in the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Line {
    /// Receive time, ns since the Unix epoch.
    pub rx_ns: u64,
    /// Offset of the payload (the JSON, after the space) in the buffer.
    pub start: usize,
    /// Payload length in bytes (without `\r`/`\n`).
    pub len: u32,
}

/// A text capture held in memory with its line index.
#[derive(Debug)]
pub(crate) struct TextCapture {
    bytes: Vec<u8>,
    lines: Vec<Line>,
    malformed: usize,
    first_malformed: Vec<usize>,
    truncated: Option<String>,
}

/// True when `bytes` start with the gzip magic `1f 8b`.
pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Decompresses a (possibly multi-member) gzip stream. On damage, returns
/// everything decoded before it together with a description of the damage.
pub(crate) fn gunzip(compressed: &[u8]) -> (Vec<u8>, Option<String>) {
    // ISIZE (last 4 bytes) is the size mod 2^32 of the last member; use it as
    // a capacity hint only, capped so a corrupt trailer cannot over-allocate.
    let hint = compressed
        .len()
        .checked_sub(4)
        .and_then(|at| compressed.get(at..))
        .and_then(|t| <[u8; 4]>::try_from(t).ok())
        .map_or(0, |t| u32::from_le_bytes(t) as usize)
        .min(compressed.len().saturating_mul(64));
    let mut out = Vec::with_capacity(hint);
    let mut dec = flate2::read::MultiGzDecoder::new(compressed);
    // `read_to_end` appends every byte decoded before an error to `out`.
    match dec.read_to_end(&mut out) {
        Ok(_) => (out, None),
        Err(e) => {
            let msg = format!(
                "gzip stream damaged after {} decompressed bytes ({e}); lines before the damage were kept",
                out.len()
            );
            (out, Some(msg))
        }
    }
}

/// Parses `<digits> <payload>`; returns the receive time and the payload
/// offset within the line, or `None` when the prefix or payload is missing.
fn parse_prefix(line: &[u8]) -> Option<(u64, usize)> {
    let mut rx: u64 = 0;
    let mut i = 0;
    while let Some(&b) = line.get(i) {
        if !b.is_ascii_digit() {
            break;
        }
        rx = rx.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        i += 1;
    }
    if i == 0 || line.get(i) != Some(&b' ') || line.len() <= i + 1 {
        return None;
    }
    Some((rx, i + 1))
}

impl TextCapture {
    /// Reads a text capture from disk, decompressing it when it is gzip.
    pub(crate) fn load(path: &Path) -> Result<TextCapture, CaptureError> {
        let raw = std::fs::read(path).map_err(|source| CaptureError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if raw.is_empty() {
            return Err(CaptureError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(TextCapture::from_raw(raw))
    }

    /// Builds a capture from file contents, gzip or plain. Never fails:
    /// problems are reported by [`TextCapture::truncated`] and
    /// [`TextCapture::malformed_lines`].
    pub(crate) fn from_raw(raw: Vec<u8>) -> TextCapture {
        if is_gzip(&raw) {
            let (plain, damage) = gunzip(&raw);
            TextCapture::parse(plain, damage)
        } else {
            TextCapture::parse(raw, None)
        }
    }

    /// Indexes already-decompressed text. `damage` tells that the text was
    /// cut short, in which case an unterminated last line is dropped.
    pub(crate) fn parse(bytes: Vec<u8>, damage: Option<String>) -> TextCapture {
        let mut lines = Vec::with_capacity(bytes.len() / 256 + 1);
        let mut malformed = 0usize;
        let mut first_malformed = Vec::new();
        let mut truncated = damage;
        let mut pos = 0usize;
        let mut line_no = 0usize;
        while pos < bytes.len() {
            line_no += 1;
            let rest = bytes.get(pos..).unwrap_or_default();
            let (body_len, next, terminated) = match rest.iter().position(|&b| b == b'\n') {
                Some(n) => (n, pos + n + 1, true),
                None => (rest.len(), bytes.len(), false),
            };
            let mut body = rest.get(..body_len).unwrap_or_default();
            if let Some(stripped) = body.strip_suffix(b"\r") {
                body = stripped;
            }
            if !terminated && truncated.is_some() {
                if let Some(msg) = truncated.as_mut() {
                    msg.push_str(&format!(
                        "; incomplete line {line_no} ({} bytes) dropped",
                        body.len()
                    ));
                }
                break;
            }
            if !body.is_empty() {
                match parse_prefix(body) {
                    Some((rx_ns, off)) if body.len() - off <= u32::MAX as usize => {
                        lines.push(Line {
                            rx_ns,
                            start: pos + off,
                            len: (body.len() - off) as u32,
                        });
                    }
                    _ => {
                        malformed += 1;
                        if first_malformed.len() < MALFORMED_KEPT {
                            first_malformed.push(line_no);
                        }
                    }
                }
            }
            pos = next;
        }
        TextCapture {
            bytes,
            lines,
            malformed,
            first_malformed,
            truncated,
        }
    }

    /// The indexed frames, in file order.
    pub(crate) fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// The payload of one indexed line (empty if `l` is not from this capture).
    pub(crate) fn line_bytes(&self, l: &Line) -> &[u8] {
        self.bytes
            .get(l.start..l.start.saturating_add(l.len as usize))
            .unwrap_or_default()
    }

    /// Lines skipped because their prefix was not `<u64> ` or had no payload.
    pub(crate) fn malformed_lines(&self) -> usize {
        self.malformed
    }

    /// 1-based numbers of the first [`MALFORMED_KEPT`] malformed lines.
    pub(crate) fn first_malformed_lines(&self) -> &[usize] {
        &self.first_malformed
    }

    /// What was wrong with the compressed stream, if it was damaged.
    pub(crate) fn truncated(&self) -> Option<&str> {
        self.truncated.as_deref()
    }

    /// One sentence summarising malformed lines and damage, for reports.
    pub(crate) fn describe_problems(&self) -> String {
        let mut parts = Vec::new();
        if self.malformed > 0 {
            parts.push(format!(
                "{} malformed lines, first at lines {:?}",
                self.malformed, self.first_malformed
            ));
        }
        if let Some(t) = &self.truncated {
            parts.push(t.clone());
        }
        if parts.is_empty() {
            parts.push("no lines".to_string());
        }
        parts.join("; ")
    }

    /// Hands over the buffer and the index (for [`super::Capture`]).
    pub(crate) fn into_parts(self) -> (Vec<u8>, Vec<Line>) {
        (self.bytes, self.lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_must_be_digits_then_space_then_payload() {
        assert_eq!(parse_prefix(b"12 {}"), Some((12, 3)));
        assert_eq!(parse_prefix(b"12{}"), None);
        assert_eq!(parse_prefix(b" 12 {}"), None);
        assert_eq!(parse_prefix(b"12 "), None);
        assert_eq!(parse_prefix(b"99999999999999999999 {}"), None);
        assert_eq!(parse_prefix(b"x {}"), None);
    }

    #[test]
    fn crlf_and_empty_lines_are_tolerated() {
        let t = TextCapture::parse(b"1 {\"a\":1}\r\n\r\n\n2 {}\n3 {}".to_vec(), None);
        let got: Vec<(u64, &[u8])> = t
            .lines()
            .iter()
            .map(|l| (l.rx_ns, t.line_bytes(l)))
            .collect();
        assert_eq!(
            got,
            vec![(1, &b"{\"a\":1}"[..]), (2, &b"{}"[..]), (3, &b"{}"[..])]
        );
        assert_eq!(t.malformed_lines(), 0);
    }

    #[test]
    fn non_utf8_payload_is_kept_verbatim() {
        let t = TextCapture::parse(b"5 {\"s\":\"\xff\xfe\"}\n".to_vec(), None);
        assert_eq!(t.line_bytes(&t.lines()[0]), b"{\"s\":\"\xff\xfe\"}");
    }
}
