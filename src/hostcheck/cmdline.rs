//! `/proc/cmdline`: the kernel command line the box booted with.
//!
//! Parameters are separated by white space; double quotes protect spaces in
//! a value (`param="a b"`); everything after a lone `--` goes to init and is
//! not a kernel parameter. In parameter names `-` and `_` are the same, as
//! in the kernel. When a parameter is given twice the last one counts.

use crate::cpulist::{CpuSet, parse_cpu_list_with_last};

/// The parsed kernel command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Cmdline {
    params: Vec<(String, Option<String>)>,
}

impl Cmdline {
    pub(crate) fn parse(s: &str) -> Self {
        let mut params = Vec::new();
        for token in split_quoted(s) {
            if token == "--" {
                break;
            }
            let (key, value) = match token.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (token, None),
            };
            params.push((normalize(&key), value));
        }
        Cmdline { params }
    }

    /// `Some(value)` for the last occurrence of `name` (`Some(None)` when it
    /// is given without `=`), `None` when absent.
    pub(crate) fn get(&self, name: &str) -> Option<Option<&str>> {
        let name = normalize(name);
        self.params
            .iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_deref())
    }

    /// The CPUs of a cpu-list parameter (`nohz_full=`, `rcu_nocbs=`,
    /// `irqaffinity=`): `None` when absent, `Some(Err(text))` when its value
    /// does not parse.
    pub(crate) fn cpus(&self, name: &str, last: Option<usize>) -> Option<Result<CpuSet, String>> {
        let value = self.get(name)?.unwrap_or("");
        Some(parse_cpu_list_with_last(value, last).map_err(|_| value.to_string()))
    }

    /// `isolcpus=[flag,...,]<cpu-list>`: flags (`domain`, `nohz`,
    /// `managed_irq`) and CPUs. `None` when absent.
    pub(crate) fn isolcpus(&self, last: Option<usize>) -> Option<Result<Isolcpus, String>> {
        let value = self.get("isolcpus")?.unwrap_or("");
        let mut flags = Vec::new();
        let mut rest = value;
        while rest.starts_with(|c: char| c.is_ascii_lowercase()) {
            let (flag, tail) = rest.split_once(',').unwrap_or((rest, ""));
            if !matches!(flag, "nohz" | "domain" | "managed_irq") {
                // The kernel rejects unknown flags too.
                return Some(Err(value.to_string()));
            }
            flags.push(flag.to_string());
            rest = tail;
        }
        Some(
            parse_cpu_list_with_last(rest, last)
                .map(|cpus| Isolcpus { flags, cpus })
                .map_err(|_| value.to_string()),
        )
    }
}

/// The parsed value of `isolcpus=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Isolcpus {
    pub flags: Vec<String>,
    pub cpus: CpuSet,
}

impl Isolcpus {
    /// Whether this isolates from the scheduler's load balancing: the
    /// `domain` flag, or no flags at all (the default).
    pub(crate) fn domain(&self) -> bool {
        self.flags.is_empty() || self.flags.iter().any(|f| f == "domain")
    }
}

fn normalize(key: &str) -> String {
    key.replace('-', "_")
}

fn split_quoted(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_quotes = false;
    let mut any = false;
    for c in s.chars() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                any = true;
            }
            c if c.is_whitespace() && !in_quotes => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params() {
        let c = Cmdline::parse(
            "BOOT_IMAGE=/vmlinuz ro quiet isolcpus=2-3 nohz-full=2,3 x=\"a b\" isolcpus=managed_irq,domain,4-5 -- isolcpus=9\n",
        );
        assert_eq!(c.get("ro"), Some(None));
        assert_eq!(c.get("x"), Some(Some("a b")));
        assert_eq!(c.get("nohz_full"), Some(Some("2,3")));
        assert_eq!(c.get("absent"), None);
        let iso = c.isolcpus(None).unwrap().unwrap();
        assert_eq!(iso.flags, vec!["managed_irq", "domain"]);
        assert_eq!(iso.cpus.to_list_string(), "4-5");
        assert!(iso.domain());
        assert_eq!(
            c.cpus("nohz_full", None).unwrap().unwrap().to_list_string(),
            "2-3"
        );
    }

    #[test]
    fn isolcpus_forms() {
        let iso = |s: &str| Cmdline::parse(s).isolcpus(Some(7)).unwrap();
        assert_eq!(iso("isolcpus=1").unwrap().flags, Vec::<String>::new());
        assert!(iso("isolcpus=1").unwrap().domain());
        assert!(!iso("isolcpus=nohz,1").unwrap().domain());
        assert_eq!(iso("isolcpus=2-N").unwrap().cpus.to_list_string(), "2-7");
        assert!(iso("isolcpus=garbage!").is_err());
        assert!(iso("isolcpus").unwrap().cpus.is_empty());
    }

    #[test]
    fn quotes_unbalanced() {
        let c = Cmdline::parse("a=\"b c");
        assert_eq!(c.get("a"), Some(Some("b c")));
    }
}
