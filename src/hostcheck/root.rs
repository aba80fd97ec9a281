//! The filesystem root the checks read (`/` in production, a fixture tree in
//! tests), and tolerant file reading: every failure is a [`Problem`] value
//! that the checks turn into a finding, never an error or a panic.

use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// At most this many bytes of any one file are read (`/proc/interrupts` on a
/// large box is a few hundred KiB; a fixture file could be anything).
const MAX_READ: u64 = 4 << 20;

/// At most this many entries of one directory are looked at.
const MAX_DIR_ENTRIES: usize = 100_000;

/// Where to read `proc/...` and `sys/...` from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRoot {
    path: PathBuf,
}

impl HostRoot {
    /// A root at `path`: `proc/cmdline` is read from `path/proc/cmdline`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The running system's root, `/`.
    pub fn system() -> Self {
        Self::new("/")
    }

    /// The directory this root reads from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn full(&self, rel: &str) -> PathBuf {
        self.path.join(rel)
    }

    /// Reads a regular file (lossy UTF-8, at most 4 MiB). FIFOs, sockets and
    /// devices are refused so a hostile tree cannot block the check.
    pub(crate) fn read(&self, rel: &str) -> Result<String, Problem> {
        let path = self.full(rel);
        let meta = fs::metadata(&path).map_err(|e| Problem::from_io(rel, &e))?;
        if !meta.is_file() {
            let what = if meta.is_dir() {
                "is a directory"
            } else {
                "is not a regular file"
            };
            return Err(Problem::unreadable(rel, what));
        }
        let file = fs::File::open(&path).map_err(|e| Problem::from_io(rel, &e))?;
        let mut buf = Vec::new();
        file.take(MAX_READ)
            .read_to_end(&mut buf)
            .map_err(|e| Problem::from_io(rel, &e))?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    /// Reads a file and trims white space around its content.
    pub(crate) fn read_trimmed(&self, rel: &str) -> Result<String, Problem> {
        self.read(rel).map(|s| s.trim().to_string())
    }

    /// Whether `rel` exists (as anything).
    pub(crate) fn exists(&self, rel: &str) -> bool {
        fs::symlink_metadata(self.full(rel)).is_ok()
    }

    /// Numeric suffixes of the entries of `rel` named `<prefix><number>`,
    /// sorted (`list_numbered("sys/devices/system/node", "node")` gives
    /// `[0, 1]`). Other names are ignored.
    pub(crate) fn list_numbered(&self, rel: &str, prefix: &str) -> Result<Vec<usize>, Problem> {
        let dir = fs::read_dir(self.full(rel)).map_err(|e| Problem::from_io(rel, &e))?;
        let mut out = Vec::new();
        for entry in dir.take(MAX_DIR_ENTRIES) {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(num) = name.strip_prefix(prefix) else {
                continue;
            };
            if num.is_empty() || num.len() > 9 || !num.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            if let Ok(n) = num.parse::<usize>() {
                out.push(n);
            }
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }
}

/// Why a fact could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    /// Path as it would be on the live system (`/proc/cmdline`).
    pub path: String,
    pub kind: ProblemKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProblemKind {
    Missing,
    Unreadable(String),
    Malformed(String),
}

impl Problem {
    fn from_io(rel: &str, e: &std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::NotFound {
            Problem {
                path: shown(rel),
                kind: ProblemKind::Missing,
            }
        } else {
            Problem::unreadable(rel, &e.to_string())
        }
    }

    pub(crate) fn unreadable(rel: &str, why: &str) -> Self {
        Problem {
            path: shown(rel),
            kind: ProblemKind::Unreadable(why.to_string()),
        }
    }

    /// `content` is quoted (shortened, control characters escaped).
    pub(crate) fn malformed(rel: &str, content: &str, why: &str) -> Self {
        Problem {
            path: shown(rel),
            kind: ProblemKind::Malformed(format!("{} ({why})", snippet(content))),
        }
    }

    pub(crate) fn is_missing(&self) -> bool {
        self.kind == ProblemKind::Missing
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ProblemKind::Missing => write!(f, "{} is missing", self.path),
            ProblemKind::Unreadable(why) => write!(f, "cannot read {}: {why}", self.path),
            ProblemKind::Malformed(what) => write!(f, "cannot parse {}: {what}", self.path),
        }
    }
}

/// `proc/cmdline` → `/proc/cmdline`.
pub(crate) fn shown(rel: &str) -> String {
    format!("/{}", rel.trim_start_matches('/'))
}

/// A short, printable rendering of file content for messages: at most 40
/// characters, control characters escaped, in double quotes.
pub(crate) fn snippet(s: &str) -> String {
    let t = s.trim();
    let mut out = String::from("\"");
    for (i, c) in t.chars().enumerate() {
        if i == 40 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_escapes_and_shortens() {
        assert_eq!(snippet(" a\tb\n"), "\"a\\tb\"");
        let long = "x".repeat(100);
        assert_eq!(snippet(&long).chars().count(), 43);
        assert_eq!(snippet("\u{1b}[31m"), "\"\\u{1b}[31m\"");
    }

    #[test]
    fn shown_paths() {
        assert_eq!(shown("proc/cmdline"), "/proc/cmdline");
    }
}
