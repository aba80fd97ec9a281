//! Turns `toml` parse and deserialize errors into [`ConfigError`]s that name
//! the dotted key (`executor[1].core`) and its line. `toml` 0.9 reports a byte
//! span but not the key path, so the path is recovered by walking the spanned
//! document (`toml::de::DeTable`) to the node that holds the span.

use std::ops::Range;
use std::path::Path;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::ConfigError;

/// One step of a key path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    /// A table key.
    Key(String),
    /// An array element.
    Index(usize),
}

/// Parses and deserializes one config file's text.
pub(crate) fn parse<T: DeserializeOwned>(file: &Path, text: &str) -> Result<T, ConfigError> {
    let doc = match DeTable::parse(text) {
        Ok(doc) => doc,
        Err(e) => return Err(malformed(file, text, &e)),
    };
    toml::from_str::<T>(text).map_err(|e| map_de_error(file, text, doc.get_ref(), &e))
}

/// 1-based line of the key at dotted path `key`, or of the deepest part of
/// the path that exists. `None` when the text does not parse or nothing matches.
pub(crate) fn line_of_key(text: &str, key: &str) -> Option<usize> {
    let doc = DeTable::parse(text).ok()?;
    let mut table: &DeTable<'_> = doc.get_ref();
    let mut value: Option<&DeValue<'_>> = None;
    let mut found: Option<usize> = None;
    for seg in split_path(key) {
        let next: Option<(usize, &DeValue<'_>)> = match (&seg, value) {
            (Seg::Key(k), None | Some(DeValue::Table(_))) => {
                if let Some(DeValue::Table(t)) = value {
                    table = t;
                }
                table
                    .iter()
                    .find(|(name, _)| name.get_ref().as_ref() == k.as_str())
                    .map(|(name, v)| (name.span().start, v.get_ref()))
            }
            (Seg::Index(i), Some(DeValue::Array(a))) => {
                a.get(*i).map(|v| (v.span().start, v.get_ref()))
            }
            _ => None,
        };
        match next {
            Some((offset, v)) => {
                found = Some(offset);
                value = Some(v);
            }
            None => break,
        }
    }
    found.map(|offset| line_col(text, offset).0)
}

/// Splits `executor[1].stages[0]` into segments.
fn split_path(key: &str) -> Vec<Seg> {
    let mut segs = Vec::new();
    for part in key.split('.') {
        let mut pieces = part.split('[');
        if let Some(name) = pieces.next()
            && !name.is_empty()
        {
            segs.push(Seg::Key(name.to_string()));
        }
        for idx in pieces {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                segs.push(Seg::Index(i));
            }
        }
    }
    segs
}

/// Renders segments as `a.b[1].c`.
fn join_path(segs: &[Seg]) -> String {
    let mut out = String::new();
    for seg in segs {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// 1-based (line, column) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// The trimmed text of 1-based line `line`, cut at 60 characters.
fn line_text(text: &str, line: usize) -> String {
    let l = text
        .lines()
        .nth(line.saturating_sub(1))
        .unwrap_or("")
        .trim();
    if l.chars().count() > 60 {
        format!("{}...", l.chars().take(60).collect::<String>())
    } else {
        l.to_string()
    }
}

fn malformed(file: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
    ConfigError::Malformed {
        file: file.to_path_buf(),
        line,
        column,
        message: e.message().trim().to_string(),
        snippet: line_text(text, line),
    }
}

/// True when `start` lies inside `span` (an empty span matches its start).
fn hits(span: &Range<usize>, start: usize) -> bool {
    span.contains(&start) || (span.is_empty() && span.start == start)
}

/// The deepest path whose key or value span holds byte `start`.
fn find_path(table: &DeTable<'_>, start: usize, prefix: &mut Vec<Seg>, best: &mut Vec<Seg>) {
    for (name, value) in table.iter() {
        prefix.push(Seg::Key(name.get_ref().to_string()));
        if (hits(&name.span(), start) || hits(&value.span(), start)) && prefix.len() > best.len() {
            *best = prefix.clone();
        }
        find_in_value(value, start, prefix, best);
        prefix.pop();
    }
}

fn find_in_value(
    value: &Spanned<DeValue<'_>>,
    start: usize,
    prefix: &mut Vec<Seg>,
    best: &mut Vec<Seg>,
) {
    match value.get_ref() {
        DeValue::Table(t) => find_path(t, start, prefix, best),
        DeValue::Array(a) => {
            for (i, item) in a.iter().enumerate() {
                prefix.push(Seg::Index(i));
                if hits(&item.span(), start) && prefix.len() > best.len() {
                    *best = prefix.clone();
                }
                find_in_value(item, start, prefix, best);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// The integer part of a TOML float's text (`2.5` -> `2`), for a fix.
fn whole(value: &str) -> &str {
    value.split(['.', 'e', 'E']).next().unwrap_or(value)
}

/// Every backtick-quoted word in `s`.
fn quoted(s: &str) -> Vec<String> {
    s.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn map_de_error(file: &Path, text: &str, doc: &DeTable<'_>, e: &toml::de::Error) -> ConfigError {
    let msg = e.message().trim();
    let span = e.span();
    let mut path = Vec::new();
    if let Some(s) = &span {
        find_path(doc, s.start, &mut Vec::new(), &mut path);
    }
    let line = span.as_ref().map(|s| line_col(text, s.start).0);
    let file = file.to_path_buf();

    if let Some(rest) = msg.strip_prefix("unknown field ") {
        let (name, valid) = match rest.split_once(", ") {
            Some((name, expected)) => (name, quoted(expected)),
            None => (rest, Vec::new()),
        };
        let key = if path.is_empty() {
            name.trim_matches('`').to_string()
        } else {
            join_path(&path)
        };
        return ConfigError::UnknownKey {
            file,
            line,
            key,
            valid,
        };
    }
    if let Some(rest) = msg.strip_prefix("missing field ") {
        path.push(Seg::Key(rest.trim_matches('`').to_string()));
        return ConfigError::MissingKey {
            file,
            line,
            key: join_path(&path),
        };
    }

    let value_text = span
        .as_ref()
        .and_then(|s| text.get(s.clone()))
        .map(|v| v.trim().chars().take(40).collect::<String>())
        .unwrap_or_default();
    let (head, expected) = match msg.split_once(", expected ") {
        Some((h, x)) => (h, Some(x)),
        None => (msg, None),
    };
    let key = join_path(&path);
    let integer = matches!(expected, Some("usize" | "u64" | "u32" | "u16" | "u8"));
    let fix = if head.contains("floating point") && integer {
        format!(
            "write a whole number without a decimal point, e.g. {key} = {}",
            whole(&value_text)
        )
    } else if head.contains("floating point") {
        format!("quote it: {key} = \"{value_text}\" (floats are refused so limits never round)")
    } else if head.starts_with("unknown variant") {
        format!("use {}", expected.unwrap_or("a documented value"))
    } else if let Some(x) = expected {
        match x {
            "usize" | "u64" | "u32" | "u16" | "u8" => "write a whole number >= 0".to_string(),
            _ => format!("write {x}"),
        }
    } else if head.contains("in number") || head.contains("decimals") || head.contains("empty") {
        "write a decimal string with at most 8 decimals, such as \"0.001\"".to_string()
    } else {
        "see docs/configuration.md for the valid values".to_string()
    };
    ConfigError::Invalid {
        file,
        line,
        key,
        problem: format!("= {value_text} is not valid ({head})"),
        fix,
    }
}
