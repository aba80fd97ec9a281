//! `tickwire compare`: the latency-regression gate. Reads two `--json`
//! reports and compares every stage's percentiles side by side; a
//! percentile that grew beyond its threshold fails the gate.

use std::fmt::Write as _;

use serde_json::Value;

/// A threshold such as `p99=10%`.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    /// Percentile key as in the report (`p50`, `p90`, `p99`, `p999`, `max`).
    pub key: String,
    /// Allowed growth in percent.
    pub max_pct: f64,
}

/// Why a comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// A `--max-regress` item is not `pNN=X%`.
    #[error(
        "bad --max-regress item {0:?}: expected e.g. p99=10%,p999=20% (keys p50 p90 p99 p999 max)"
    )]
    BadThreshold(String),
    /// A report file is not a tickwire JSON report.
    #[error("{0}: not a tickwire --json report (missing latency_ns): {1}")]
    BadReport(String, String),
}

/// Parses `p99=10%,p999=20%`.
pub fn parse_thresholds(s: &str) -> Result<Vec<Threshold>, CompareError> {
    s.split(',')
        .filter(|x| !x.trim().is_empty())
        .map(|item| {
            let bad = || CompareError::BadThreshold(item.to_string());
            let (k, v) = item.trim().split_once('=').ok_or_else(bad)?;
            let k = k.trim();
            if !["p50", "p90", "p99", "p999", "max"].contains(&k) {
                return Err(bad());
            }
            let v: f64 = v.trim().trim_end_matches('%').parse().map_err(|_| bad())?;
            if v.is_nan() || v < 0.0 {
                return Err(bad());
            }
            Ok(Threshold {
                key: k.to_string(),
                max_pct: v,
            })
        })
        .collect()
}

/// Result of a comparison.
#[derive(Debug)]
pub struct Comparison {
    /// The side-by-side table.
    pub table: String,
    /// Regressions beyond their threshold (`stage.pXX +N%`).
    pub regressions: Vec<String>,
}

fn latency(v: &Value, name: &str) -> Result<serde_json::Map<String, Value>, CompareError> {
    v.get("latency_ns")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| CompareError::BadReport(name.to_string(), "no latency_ns object".into()))
}

/// Compares `base` with `new` (parsed JSON reports).
pub fn compare(
    base: &Value,
    new: &Value,
    thresholds: &[Threshold],
    names: (&str, &str),
) -> Result<Comparison, CompareError> {
    let b = latency(base, names.0)?;
    let n = latency(new, names.1)?;
    let keys = ["p50", "p90", "p99", "p999", "max"];
    let mut table = String::new();
    let _ = writeln!(
        table,
        "{:<14} {:<5} {:>12} {:>12} {:>9}",
        "stage", "pct", "baseline", "new", "change"
    );
    let mut regressions = Vec::new();
    for (stage, bv) in &b {
        let Some(nv) = n.get(stage) else { continue };
        for k in keys {
            let (Some(x), Some(y)) = (
                bv.get(k).and_then(Value::as_u64),
                nv.get(k).and_then(Value::as_u64),
            ) else {
                continue;
            };
            let pct = if x == 0 {
                0.0
            } else {
                (y as f64 - x as f64) * 100.0 / x as f64
            };
            let mut flag = "";
            if let Some(t) = thresholds.iter().find(|t| t.key == k)
                && x > 0
                && pct > t.max_pct
            {
                flag = "  REGRESSION";
                regressions.push(format!("{stage}.{k} {pct:+.1}% (limit {}%)", t.max_pct));
            }
            let _ = writeln!(
                table,
                "{stage:<14} {k:<5} {x:>12} {y:>12} {pct:>+8.1}%{flag}"
            );
        }
    }
    for key in ["throughput_fps", "frames"] {
        if let (Some(x), Some(y)) = (
            base.get(key).and_then(Value::as_f64),
            new.get(key).and_then(Value::as_f64),
        ) {
            let _ = writeln!(table, "{key:<20} {x:>12.0} {y:>12.0}");
        }
    }
    Ok(Comparison { table, regressions })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(p99: u64) -> Value {
        serde_json::json!({"latency_ns": {"tick_to_trade": {"p50": 100, "p90": 200, "p99": p99, "p999": 900, "max": 1000, "count": 10}}})
    }

    #[test]
    fn regression_beyond_threshold_is_flagged() {
        let t = parse_thresholds("p99=10%").unwrap();
        let c = compare(&report(500), &report(600), &t, ("a", "b")).unwrap();
        assert_eq!(c.regressions.len(), 1);
        assert!(c.regressions[0].starts_with("tick_to_trade.p99 +20.0%"));
        let c = compare(&report(500), &report(540), &t, ("a", "b")).unwrap();
        assert!(c.regressions.is_empty());
    }

    #[test]
    fn bad_thresholds_are_errors() {
        assert!(parse_thresholds("p98=10%").is_err());
        assert!(parse_thresholds("p99").is_err());
        assert!(parse_thresholds("p99=-3%").is_err());
        assert_eq!(parse_thresholds("p99=10%,p999=20%").unwrap().len(), 2);
    }
}
