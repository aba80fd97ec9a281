//! The `tickwire` binary as a user runs it.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use base64::Engine as _;

fn tickwire(args: &[&str]) -> Output {
    let _guard = common::pipeline_lock();
    Command::new(env!("CARGO_BIN_EXE_tickwire"))
        .args(args)
        .output()
        .expect("run tickwire")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tickwire-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

fn json_replay(extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "replay",
        "--json",
        "--no-snapshots",
        "--synthetic-frames",
        "5000",
    ];
    args.extend_from_slice(extra);
    let out = tickwire(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("replay --json prints one JSON object")
}

#[test]
fn replay_json_has_the_documented_keys_and_exact_checks() {
    let v = json_replay(&[]);
    for key in [
        "frames",
        "decode_errors",
        "gaps",
        "book_checks",
        "latency_ns",
        "throughput_fps",
        "peak_rss_bytes",
    ] {
        assert!(v.get(key).is_some(), "missing key {key}");
    }
    let checks = &v["book_checks"];
    assert!(checks["checked"].as_u64().unwrap() > 0);
    assert_eq!(checks["checked"], checks["matched"]);
    assert_eq!(checks["mismatched"], 0);
    for stage in [
        "tick_to_trade",
        "decode",
        "book",
        "strategy",
        "risk",
        "router",
    ] {
        for p in ["p50", "p90", "p99", "p999", "max", "count"] {
            assert!(v["latency_ns"][stage][p].is_u64(), "latency_ns.{stage}.{p}");
        }
    }
    assert!(v["latency_ns"]["tick_to_trade"]["count"].as_u64().unwrap() > 0);
    assert!(v["peak_rss_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn hgrm_dir_gets_standard_histogram_logs_and_a_picture() {
    let dir = tmp("hgrm");
    let out = tickwire(&[
        "replay",
        "--no-snapshots",
        "--synthetic-frames",
        "5000",
        "--hgrm",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hgrm = std::fs::read_to_string(dir.join("tick_to_trade.hgrm")).expect("hgrm file");
    assert!(
        hgrm.contains("Percentile") && hgrm.contains("#[Max"),
        "{hgrm}"
    );
    let hlog = std::fs::read(dir.join("decode.hlog")).expect("hlog file");
    let mut n = 0;
    for entry in hdrhistogram::serialization::interval_log::IntervalLogIterator::new(&hlog) {
        if let Ok(hdrhistogram::serialization::interval_log::LogEntry::Interval(h)) = entry {
            let mut d = hdrhistogram::serialization::Deserializer::new();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(h.encoded_histogram())
                .expect("base64");
            let hist: hdrhistogram::Histogram<u64> =
                d.deserialize(&mut bytes.as_slice()).expect("V2 histogram");
            assert!(!hist.is_empty());
            n += 1;
        }
    }
    assert_eq!(n, 1, "one interval histogram in the log");
    let svg = std::fs::read_to_string(dir.join("latency.svg")).expect("svg");
    assert!(svg.starts_with("<svg") && svg.contains("polyline"));
}

/// A reader that is not ours: HdrHistogram's Python implementation (`pip
/// install hdrhistogram`, module `hdrh`) must read every `.hlog` and agree
/// with the `.hgrm` on the count. CI installs it and sets
/// `TICKWIRE_PY_HDRH=1`; without it the test says so and passes.
#[test]
fn hlog_files_are_read_by_hdrhistograms_own_python_reader() {
    if std::env::var_os("TICKWIRE_PY_HDRH").is_none() {
        eprintln!("skipping: set TICKWIRE_PY_HDRH=1 with python3 -m pip install hdrhistogram");
        return;
    }
    let dir = tmp("hlog-python");
    let out = tickwire(&[
        "replay",
        "--no-snapshots",
        "--synthetic-frames",
        "5000",
        "--hgrm",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let script = r#"
import sys
from hdrh.log import HistogramLogReader
from hdrh.histogram import HdrHistogram
for path in sys.argv[1:]:
    r = HistogramLogReader(path, HdrHistogram(1, 1 << 40, 3))
    h = r.get_next_interval_histogram()
    print(path, h.get_total_count(), h.get_max_value())
"#;
    let files: Vec<String> = [
        "decode",
        "book",
        "strategy",
        "risk",
        "router",
        "tick_to_trade",
    ]
    .iter()
    .map(|s| dir.join(format!("{s}.hlog")).display().to_string())
    .collect();
    let py = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(&files)
        .output()
        .expect("python3 runs");
    assert!(
        py.status.success(),
        "hdrh refused a file: {}",
        String::from_utf8_lossy(&py.stderr)
    );
    let text = String::from_utf8_lossy(&py.stdout);
    let decode_count: u64 = text
        .lines()
        .find(|l| l.contains("decode.hlog"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .expect("decode count");
    assert!(decode_count >= 5000, "{text}");
}

#[test]
fn compare_passes_equal_reports_and_fails_a_regression() {
    let dir = tmp("compare");
    let base = json_replay(&[]);
    let mut worse = base.clone();
    let p99 = worse["latency_ns"]["tick_to_trade"]["p99"]
        .as_u64()
        .unwrap();
    worse["latency_ns"]["tick_to_trade"]["p99"] = serde_json::json!(p99 * 2 + 1000);
    let (a, b) = (dir.join("base.json"), dir.join("new.json"));
    std::fs::write(&a, base.to_string()).unwrap();
    std::fs::write(&b, worse.to_string()).unwrap();
    let same = tickwire(&["compare", a.to_str().unwrap(), a.to_str().unwrap()]);
    assert!(same.status.success());
    let regressed = tickwire(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--max-regress",
        "p99=10%",
    ]);
    assert_eq!(regressed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&regressed.stdout).contains("regression: tick_to_trade.p99"));
}

#[test]
fn check_conf_prints_placement_and_rejects_bad_dirs_clearly() {
    let conf = concat!(env!("CARGO_MANIFEST_DIR"), "/conf");
    let ok = tickwire(&["check-conf", "--conf", conf]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let text = String::from_utf8_lossy(&ok.stdout);
    assert!(
        text.contains("configuration OK") && text.contains("md"),
        "{text}"
    );
    let bad = tickwire(&["check-conf", "--conf", "/nonexistent-tickwire-conf"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("affinity.toml"));
}

#[test]
fn imported_binary_capture_replays_like_its_text() {
    let dir = tmp("import");
    let text = dir.join("session.txt");
    std::fs::write(
        &text,
        tickwire_capture::synth::synthetic_session(3, tickwire_core::types::Market::Usdm, 5000),
    )
    .unwrap();
    let bin = dir.join("session.twcap");
    let out = tickwire(&["import", text.to_str().unwrap(), bin.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = |p: &PathBuf| -> serde_json::Value {
        let out = tickwire(&["replay", "--json", "--no-snapshots", p.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let (a, b) = (run(&text), run(&bin));
    assert_eq!(a["frames"], b["frames"]);
    assert_eq!(a["book_checks"]["matched"], b["book_checks"]["matched"]);
    assert_eq!(a["symbols"][0]["bid_levels"], b["symbols"][0]["bid_levels"]);
}

#[test]
fn snapshot_written_at_shutdown_prints_top_levels_and_garbage_is_refused() {
    let dir = tmp("snap");
    let out = tickwire(&[
        "replay",
        "--synthetic-frames",
        "5000",
        "--snapshot-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = dir.join("final.rkyv");
    let shown = tickwire(&["snapshot", file.to_str().unwrap(), "--depth", "3"]);
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        text.contains("spot BTCUSDT") && text.contains("usdm BTCUSDT"),
        "{text}"
    );
    let garbage = dir.join("garbage.rkyv");
    std::fs::write(&garbage, b"not an archive at all, definitely not").unwrap();
    let bad = tickwire(&["snapshot", garbage.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(!bad.stderr.is_empty());
}

#[test]
fn ctrl_c_stops_intake_drains_the_pipeline_and_still_reports() {
    let _guard = common::pipeline_lock();
    // At recorded pace the synthetic session lasts over a minute.
    let child = Command::new(env!("CARGO_BIN_EXE_tickwire"))
        .args([
            "replay",
            "--json",
            "--no-snapshots",
            "--pace",
            "recorded",
            "--speed",
            "1",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn tickwire");
    // Wait until both executors run (threads exist), then interrupt.
    let tasks = format!("/proc/{}/task", child.id());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::fs::read_dir(&tasks).map_or(0, |d| d.count()) < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "tickwire never started its executors"
        );
        std::thread::yield_now();
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "Ctrl-C must be a clean shutdown: {:?}",
        out.status
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a report after Ctrl-C");
    let frames = v["frames"].as_u64().unwrap();
    assert!(
        frames < 100_000,
        "intake should have stopped early, took {frames}"
    );
    assert_eq!(v["book_checks"]["mismatched"], 0);
}

#[test]
fn run_without_keys_refuses_clearly_before_connecting() {
    let out = Command::new(env!("CARGO_BIN_EXE_tickwire"))
        .args(["run", "--duration", "1"])
        .env_remove("TICKWIRE_API_KEY")
        .env_remove("TICKWIRE_API_SECRET")
        .output()
        .expect("run tickwire");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TICKWIRE_API_KEY"), "{err}");
}

#[test]
fn demo_json_reports_the_live_section_and_agreeing_positions() {
    let out = tickwire(&[
        "demo",
        "--json",
        "--synthetic-frames",
        "8000",
        "--speed",
        "100",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("demo --json prints one JSON object");
    let live = &v["live"];
    assert_eq!(live["feed"]["connects"], 1, "{live}");
    assert!(
        live["feed"]["frames"].as_u64().unwrap_or(0) >= 7000,
        "{live}"
    );
    assert_eq!(live["demo"]["positions_agree"], true, "{live}");
    assert!(live["router"]["sent"].as_u64().unwrap_or(0) > 0, "{live}");
    // The throwaway key pair (64 hex digits each) never reaches the output.
    let text = v.to_string();
    let longest_hex_run = text
        .split(|c: char| !c.is_ascii_hexdigit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(longest_hex_run < 64, "{text}");
    assert!(err.is_empty(), "--json prints no operator messages: {err}");
}

#[test]
fn check_host_audits_every_placed_core_and_its_exit_code_tells_fail() {
    let out = tickwire(&["check-host", "--json", "--conf", "conf"]);
    let code = out.status.code().expect("exit code");
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("check-host --json prints JSON");
    let findings = v["findings"].as_array().expect("findings");
    let cores: std::collections::BTreeSet<u64> =
        findings.iter().filter_map(|f| f["core"].as_u64()).collect();
    assert!(!cores.is_empty(), "no per-core finding: {v}");
    let any_fail = findings.iter().any(|f| f["status"] == "fail");
    assert_eq!(
        code,
        i32::from(any_fail),
        "exit code must be 1 exactly when a check fails"
    );
    // Every finding names its check and what was seen.
    for f in findings {
        assert!(f["check"].is_string() && f["observed"].is_string(), "{f}");
    }
}
