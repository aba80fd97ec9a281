//! CPU sets in the two notations the kernel uses.
//!
//! * **CPU lists** (`0-3,8,10-11`): sysfs `online`, `isolated`,
//!   `thread_siblings_list`, `nodeN/cpulist`, `/proc/irq/N/smp_affinity_list`,
//!   `Cpus_allowed_list`, and the values of `isolcpus=`, `nohz_full=`,
//!   `rcu_nocbs=`, `irqaffinity=`. Besides single CPUs and ranges the kernel
//!   accepts grouped ranges `a-b:used/group` (the first `used` CPUs of every
//!   `group`-sized block of `a..=b`) and `N` for the last CPU id. Commas and
//!   white space separate elements; empty elements are skipped, as the kernel
//!   does.
//! * **Hex masks** (`3`, `ff`, `00000000,000000ff`):
//!   `/proc/irq/default_smp_affinity`, `/proc/irq/N/smp_affinity`,
//!   `Cpus_allowed`. Comma-separated 32-bit words, most significant first;
//!   bit `i` of the whole mask is CPU `i`.

use std::collections::BTreeSet;
use std::fmt;

/// Largest CPU id this crate accepts (the kernel's `NR_CPUS` tops out at
/// 8192; anything larger in a file is treated as malformed rather than
/// allocated).
pub const MAX_CPU_ID: usize = 65_535;

/// Why a CPU list or mask did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CpuListError {
    /// An element is not a decimal CPU number (or `N`).
    #[error("`{0}` is not a CPU number")]
    BadNumber(String),
    /// A range whose end is below its start.
    #[error("range {start}-{end} is reversed")]
    Reversed {
        /// First CPU of the range as written.
        start: usize,
        /// Last CPU of the range as written.
        end: usize,
    },
    /// A CPU id above [`MAX_CPU_ID`].
    #[error("CPU id {0} is larger than {MAX_CPU_ID}")]
    TooLarge(u64),
    /// A `:used/group` suffix that is not two numbers with `group > 0` and
    /// `used <= group`.
    #[error("bad group `{0}`: expected <used>/<group> with group > 0 and used <= group")]
    BadGroup(String),
    /// `N` (the last CPU) was used where the number of CPUs is unknown.
    #[error("`N` (last CPU) used but the number of CPUs is unknown")]
    LastUnknown,
    /// A hex mask with no digits, a non-hex digit or a word longer than
    /// 8 digits.
    #[error("`{0}` is not a hex CPU mask")]
    BadMask(String),
}

/// A set of logical CPU ids, kept sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CpuSet(BTreeSet<usize>);

impl CpuSet {
    /// The empty set.
    pub fn new() -> Self {
        Self(BTreeSet::new())
    }

    /// Adds `cpu`; returns whether it was new.
    pub fn insert(&mut self, cpu: usize) -> bool {
        self.0.insert(cpu)
    }

    /// Whether `cpu` is in the set.
    pub fn contains(&self, cpu: usize) -> bool {
        self.0.contains(&cpu)
    }

    /// Number of CPUs in the set.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The CPUs in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().copied()
    }

    /// Lowest CPU id, if any.
    pub fn first(&self) -> Option<usize> {
        self.0.first().copied()
    }

    /// Highest CPU id, if any.
    pub fn last(&self) -> Option<usize> {
        self.0.last().copied()
    }

    /// CPUs in either set.
    pub fn union(&self, other: &CpuSet) -> CpuSet {
        CpuSet(self.0.union(&other.0).copied().collect())
    }

    /// CPUs in both sets.
    pub fn intersection(&self, other: &CpuSet) -> CpuSet {
        CpuSet(self.0.intersection(&other.0).copied().collect())
    }

    /// CPUs in `self` but not in `other`.
    pub fn difference(&self, other: &CpuSet) -> CpuSet {
        CpuSet(self.0.difference(&other.0).copied().collect())
    }

    /// Whether every CPU of `self` is in `other`.
    pub fn is_subset(&self, other: &CpuSet) -> bool {
        self.0.is_subset(&other.0)
    }

    /// Kernel list notation, ranges for runs of two or more (`0-3,8`);
    /// the empty string for the empty set. Same as `Display`.
    pub fn to_list_string(&self) -> String {
        format_cpu_list(self)
    }

    /// Kernel hex-mask notation (`3`, `1,00000000`); `0` for the empty set.
    pub fn to_mask_string(&self) -> String {
        format_cpu_mask(self)
    }
}

impl FromIterator<usize> for CpuSet {
    fn from_iter<I: IntoIterator<Item = usize>>(iter: I) -> Self {
        CpuSet(iter.into_iter().collect())
    }
}

impl fmt::Display for CpuSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_cpu_list(self))
    }
}

/// Parses a kernel CPU list (`0-3,8,10-11`, `0-15:2/4`, empty = no CPU).
/// `N` is rejected with [`CpuListError::LastUnknown`]; use
/// [`parse_cpu_list_with_last`] where the last CPU id is known.
pub fn parse_cpu_list(s: &str) -> Result<CpuSet, CpuListError> {
    parse_cpu_list_with_last(s, None)
}

/// Parses a kernel CPU list where `N` stands for `last` (the kernel's
/// `nr_cpu_ids - 1`).
pub fn parse_cpu_list_with_last(s: &str, last: Option<usize>) -> Result<CpuSet, CpuListError> {
    let mut set = BTreeSet::new();
    for elem in s.split(|c: char| c == ',' || c.is_whitespace()) {
        if elem.is_empty() {
            continue;
        }
        let (range, group) = match elem.split_once(':') {
            Some((r, g)) => (r, Some(g)),
            None => (elem, None),
        };
        let (start, end) = match range.split_once('-') {
            Some((a, b)) => (number(a, last)?, number(b, last)?),
            None => {
                if group.is_some() {
                    // The kernel only takes a group after a range.
                    return Err(CpuListError::BadGroup(short(elem)));
                }
                let n = number(range, last)?;
                (n, n)
            }
        };
        if end < start {
            return Err(CpuListError::Reversed { start, end });
        }
        let (used, size) = match group {
            None => (end - start + 1, end - start + 1),
            Some(g) => parse_group(g)?,
        };
        let mut block = start;
        while block <= end {
            let stop = end.min(block + used.saturating_sub(1));
            if used > 0 {
                set.extend(block..=stop);
            }
            block = match block.checked_add(size) {
                Some(b) => b,
                None => break,
            };
        }
    }
    Ok(CpuSet(set))
}

fn number(s: &str, last: Option<usize>) -> Result<usize, CpuListError> {
    if s == "N" {
        return last.ok_or(CpuListError::LastUnknown);
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CpuListError::BadNumber(short(s)));
    }
    let v: u64 = s.parse().map_err(|_| CpuListError::TooLarge(u64::MAX))?;
    if v > MAX_CPU_ID as u64 {
        return Err(CpuListError::TooLarge(v));
    }
    Ok(v as usize)
}

/// At most 40 characters of `s`, for error messages about huge inputs.
fn short(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

fn parse_group(g: &str) -> Result<(usize, usize), CpuListError> {
    let bad = || CpuListError::BadGroup(short(g));
    let (u, s) = g.split_once('/').ok_or_else(bad)?;
    let used = number(u, None).map_err(|_| bad())?;
    let size = number(s, None).map_err(|_| bad())?;
    if size == 0 || used > size {
        return Err(bad());
    }
    Ok((used, size))
}

/// Formats a set in kernel list notation (`0-3,8`); empty string when empty.
pub fn format_cpu_list(set: &CpuSet) -> String {
    let mut out = String::new();
    let mut iter = set.iter().peekable();
    while let Some(start) = iter.next() {
        let mut end = start;
        while end
            .checked_add(1)
            .is_some_and(|next| iter.peek() == Some(&next))
        {
            end += 1;
            iter.next();
        }
        if !out.is_empty() {
            out.push(',');
        }
        if end == start {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}-{end}"));
        }
    }
    out
}

/// Parses a kernel hex CPU mask (`3`, `ff`, `00000000,000000ff`). Words are
/// 1 to 8 hex digits, separated by commas, most significant first. A leading
/// `0x` is not accepted (the kernel never prints one).
pub fn parse_cpu_mask(s: &str) -> Result<CpuSet, CpuListError> {
    let t = s.trim();
    let bad = || CpuListError::BadMask(short(t));
    if t.is_empty() {
        return Err(bad());
    }
    let words: Vec<&str> = t.split(',').collect();
    if words.len() > MAX_CPU_ID / 32 + 1 {
        return Err(bad());
    }
    let mut set = BTreeSet::new();
    for (i, w) in words.iter().rev().enumerate() {
        if w.is_empty() || w.len() > 8 || !w.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let v = u32::from_str_radix(w, 16).map_err(|_| bad())?;
        for bit in 0..32 {
            if v & (1 << bit) != 0 {
                set.insert(i * 32 + bit);
            }
        }
    }
    Ok(CpuSet(set))
}

/// Formats a set as a kernel hex mask: the top word without padding, the
/// others as 8 digits (`1,00000000` is CPU 32); `0` when empty. CPUs above
/// [`MAX_CPU_ID`] are left out (a mask that wide would be megabytes).
pub fn format_cpu_mask(set: &CpuSet) -> String {
    let Some(max) = set.iter().filter(|c| *c <= MAX_CPU_ID).last() else {
        return "0".to_string();
    };
    let nwords = max / 32 + 1;
    let mut words = vec![0u32; nwords];
    for cpu in set.iter().filter(|c| *c <= MAX_CPU_ID) {
        words[cpu / 32] |= 1 << (cpu % 32);
    }
    let mut out = String::new();
    for (i, w) in words.iter().rev().enumerate() {
        if i == 0 {
            out.push_str(&format!("{w:x}"));
        } else {
            out.push_str(&format!(",{w:08x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[usize]) -> CpuSet {
        v.iter().copied().collect()
    }

    #[test]
    fn lists() {
        assert_eq!(parse_cpu_list("").unwrap(), set(&[]));
        assert_eq!(parse_cpu_list("\n").unwrap(), set(&[]));
        assert_eq!(parse_cpu_list("0").unwrap(), set(&[0]));
        assert_eq!(
            parse_cpu_list("0-3,8,10-11\n").unwrap(),
            set(&[0, 1, 2, 3, 8, 10, 11])
        );
        assert_eq!(parse_cpu_list("3,1,2").unwrap(), set(&[1, 2, 3]));
        assert_eq!(parse_cpu_list("1,,2,").unwrap(), set(&[1, 2]));
        assert_eq!(parse_cpu_list("5-5").unwrap(), set(&[5]));
        assert_eq!(parse_cpu_list("0-1,1-2").unwrap(), set(&[0, 1, 2]));
        assert_eq!(parse_cpu_list("0-9:2/4").unwrap(), set(&[0, 1, 4, 5, 8, 9]));
        assert_eq!(
            parse_cpu_list("100-130:2/25").unwrap(),
            set(&[100, 101, 125, 126])
        );
        assert_eq!(parse_cpu_list("0-3:0/2").unwrap(), set(&[]));
        assert_eq!(parse_cpu_list("0-3:4/4").unwrap(), set(&[0, 1, 2, 3]));
        assert_eq!(
            parse_cpu_list_with_last("2-N", Some(5)).unwrap(),
            set(&[2, 3, 4, 5])
        );
        assert_eq!(parse_cpu_list_with_last("N", Some(7)).unwrap(), set(&[7]));
    }

    #[test]
    fn list_errors() {
        assert!(matches!(
            parse_cpu_list("a"),
            Err(CpuListError::BadNumber(_))
        ));
        assert!(matches!(
            parse_cpu_list("-1"),
            Err(CpuListError::BadNumber(_))
        ));
        assert!(matches!(
            parse_cpu_list("1-"),
            Err(CpuListError::BadNumber(_))
        ));
        assert!(matches!(
            parse_cpu_list("1-2-3"),
            Err(CpuListError::BadNumber(_))
        ));
        assert!(matches!(
            parse_cpu_list("+1"),
            Err(CpuListError::BadNumber(_))
        ));
        assert!(matches!(
            parse_cpu_list("0x1"),
            Err(CpuListError::BadNumber(_))
        ));
        assert_eq!(
            parse_cpu_list("3-1"),
            Err(CpuListError::Reversed { start: 3, end: 1 })
        );
        assert_eq!(parse_cpu_list("65536"), Err(CpuListError::TooLarge(65536)));
        assert!(matches!(
            parse_cpu_list("99999999999999999999999"),
            Err(CpuListError::TooLarge(_))
        ));
        assert!(matches!(
            parse_cpu_list("0-3:3/2"),
            Err(CpuListError::BadGroup(_))
        ));
        assert!(matches!(
            parse_cpu_list("0-3:1/0"),
            Err(CpuListError::BadGroup(_))
        ));
        assert!(matches!(
            parse_cpu_list("0-3:1"),
            Err(CpuListError::BadGroup(_))
        ));
        assert!(matches!(
            parse_cpu_list("2:1/2"),
            Err(CpuListError::BadGroup(_))
        ));
        assert_eq!(parse_cpu_list("N"), Err(CpuListError::LastUnknown));
        assert!(matches!(
            parse_cpu_list("(null)"),
            Err(CpuListError::BadNumber(_))
        ));
        let long = "x".repeat(1000);
        match parse_cpu_list(&long) {
            Err(CpuListError::BadNumber(t)) => assert_eq!(t.chars().count(), 41),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn list_format() {
        assert_eq!(format_cpu_list(&set(&[])), "");
        assert_eq!(format_cpu_list(&set(&[4])), "4");
        assert_eq!(format_cpu_list(&set(&[0, 1])), "0-1");
        assert_eq!(
            format_cpu_list(&set(&[0, 1, 2, 3, 8, 10, 11])),
            "0-3,8,10-11"
        );
        assert_eq!(format_cpu_list(&set(&[1, 3, 5])), "1,3,5");
        assert_eq!(
            format_cpu_list(&set(&[usize::MAX - 1, usize::MAX])),
            format!("{}-{}", usize::MAX - 1, usize::MAX)
        );
    }

    #[test]
    fn masks() {
        assert_eq!(parse_cpu_mask("3\n").unwrap(), set(&[0, 1]));
        assert_eq!(parse_cpu_mask("0").unwrap(), set(&[]));
        assert_eq!(
            parse_cpu_mask("ff").unwrap(),
            set(&[0, 1, 2, 3, 4, 5, 6, 7])
        );
        assert_eq!(parse_cpu_mask("F0").unwrap(), set(&[4, 5, 6, 7]));
        assert_eq!(parse_cpu_mask("00000000,00000001").unwrap(), set(&[0]));
        assert_eq!(parse_cpu_mask("1,00000000").unwrap(), set(&[32]));
        assert_eq!(
            parse_cpu_mask("80000000,00000000,00000002").unwrap(),
            set(&[1, 95])
        );
        for bad in ["", " ", "0x3", "g", "1,,2", "123456789", ",1", "1,"] {
            assert!(parse_cpu_mask(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn mask_format() {
        assert_eq!(format_cpu_mask(&set(&[])), "0");
        assert_eq!(format_cpu_mask(&set(&[0, 1])), "3");
        assert_eq!(format_cpu_mask(&set(&[32])), "1,00000000");
        assert_eq!(
            format_cpu_mask(&set(&[1, 95])),
            "80000000,00000000,00000002"
        );
        assert_eq!(format_cpu_mask(&set(&[2, 3])), "c");
        assert_eq!(format_cpu_mask(&set(&[1, usize::MAX])), "2");
        assert_eq!(format_cpu_mask(&set(&[usize::MAX])), "0");
    }
}
