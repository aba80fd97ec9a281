//! Configuration loading and strict validation: one test per error kind,
//! and the shipped files must validate.

use std::path::{Path, PathBuf};

use tickwire_config::{
    self as config, ConfigError, IdlePolicy, StageName, StrategyKind, embedded_default,
    embedded_default_for_cores, load, load_files_with_cores, render_check,
};
use tickwire_core::types::Qty;

const AFFINITY: &str = include_str!("../conf/affinity.toml");
const AFFINITY_1CORE: &str = include_str!("../conf/affinity-1core.toml");
const APP: &str = include_str!("../conf/tickwire.toml");
const TWO_CORES: &[usize] = &[0, 1];

/// Writes `affinity.toml` and `tickwire.toml` into a fresh directory named
/// after the test.
fn write_dir(name: &str, affinity: &str, app: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("config-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("affinity.toml"), affinity).unwrap();
    std::fs::write(dir.join("tickwire.toml"), app).unwrap();
    dir
}

/// Loads the shipped files after replacing `from` with `to` in one of them,
/// on a pretend machine with cores 0 and 1.
fn load_edited(
    name: &str,
    in_affinity: bool,
    from: &str,
    to: &str,
) -> Result<config::Config, ConfigError> {
    let (aff, app) = if in_affinity {
        assert!(
            AFFINITY.contains(from),
            "test edit {from:?} not in affinity.toml"
        );
        (AFFINITY.replacen(from, to, 1), APP.to_string())
    } else {
        assert!(
            APP.contains(from),
            "test edit {from:?} not in tickwire.toml"
        );
        (AFFINITY.to_string(), APP.replacen(from, to, 1))
    };
    let dir = write_dir(name, &aff, &app);
    load_files_with_cores(
        &dir.join("affinity.toml"),
        &dir.join("tickwire.toml"),
        TWO_CORES,
    )
}

/// 1-based line of the first line of `text` that starts with `prefix`.
fn line_of(text: &str, prefix: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(prefix))
        .expect("prefix in shipped file")
        + 1
}

fn expect_err(r: Result<config::Config, ConfigError>) -> ConfigError {
    match r {
        Ok(_) => panic!("config was accepted but must be refused"),
        Err(e) => e,
    }
}

/// Asserts the error names the file, the key and contains `needle`.
fn assert_names(e: &ConfigError, file: &str, key: &str, needle: &str) {
    let msg = e.to_string();
    assert!(msg.contains(file), "message does not name {file}: {msg}");
    assert_eq!(e.key(), Some(key), "wrong key in: {msg}");
    assert!(msg.contains(key), "message does not name {key}: {msg}");
    assert!(msg.contains(needle), "message lacks {needle:?}: {msg}");
    assert!(!msg.contains('\n'), "message must be one line: {msg}");
}

#[test]
fn shipped_files_validate_and_place_stages_as_documented() {
    let dir = write_dir("shipped", AFFINITY, APP);
    let cfg = load_files_with_cores(
        &dir.join("affinity.toml"),
        &dir.join("tickwire.toml"),
        TWO_CORES,
    )
    .unwrap_or_else(|e| panic!("shipped files refused: {e}"));
    let p = cfg.placement();
    assert_eq!(p.core_of(StageName::Md), 0);
    assert_eq!(p.core_of(StageName::Book), 0);
    assert_eq!(p.core_of(StageName::Risk), 1);
    assert_eq!(p.core_of(StageName::Router), 1);
    assert!(
        p.executors
            .iter()
            .all(|e| e.idle == IdlePolicy::BusySpin && e.park_us == 0)
    );
    assert_eq!(cfg.affinity.rings.md_to_book, 65536);
    assert_eq!(cfg.app.strategy.kind, StrategyKind::Imbalance);
    assert_eq!(cfg.app.strategy.clip_qty, Qty(100_000));
    assert_eq!(cfg.app.risk.max_order_notional.to_string(), "1000");
    assert_eq!(cfg.app.report.snapshot_dir, "snapshots");
}

#[test]
fn shipped_one_core_layout_validates_on_core_zero() {
    let dir = write_dir("shipped-1core", AFFINITY_1CORE, APP);
    let cfg = load_files_with_cores(&dir.join("affinity.toml"), &dir.join("tickwire.toml"), &[0])
        .unwrap_or_else(|e| panic!("shipped 1-core file refused: {e}"));
    let p = cfg.placement();
    assert_eq!(p.executors.len(), 1);
    assert!(StageName::ALL.iter().all(|&s| p.core_of(s) == 0));
    assert_eq!(p.executors[0].idle, IdlePolicy::Park);
    assert_eq!(p.executors[0].park_us, 50);
}

#[test]
fn embedded_defaults_pick_layout_by_core_count() {
    let two = embedded_default_for_cores(2);
    assert_eq!(two.placement().executors.len(), 2);
    assert!(two.is_embedded());
    let one = embedded_default_for_cores(1);
    assert_eq!(one.placement().executors.len(), 1);
    config::validate_with_cores(&one, &[0]).unwrap();
    let def = embedded_default();
    config::validate_with_cores(&def, TWO_CORES).unwrap();
    assert_eq!(def.app.risk.max_open_orders, 8);
}

#[test]
fn check_conf_report_shows_files_placement_and_limits() {
    let out = render_check(&embedded_default());
    for needle in [
        "affinity.toml",
        "tickwire.toml",
        "md, book",
        "risk, router",
        "busy-spin",
        "65536",
        "imbalance",
        "max_order_notional  1000",
        "ticks are inferred",
    ] {
        assert!(
            out.contains(needle),
            "check-conf output lacks {needle:?}:\n{out}"
        );
    }
}

#[test]
fn unknown_key_names_file_key_line_and_valid_keys() {
    let e = expect_err(load_edited(
        "unknown-key",
        true,
        "park_us = 50",
        "park_us = 50\ncolour = 3",
    ));
    assert!(matches!(e, ConfigError::UnknownKey { .. }), "{e}");
    assert_names(
        &e,
        "affinity.toml",
        "executor[0].colour",
        "remove it or check spelling",
    );
    assert!(
        e.to_string()
            .contains("valid keys: core, stages, idle, park_us"),
        "{e}"
    );
    assert_eq!(e.line(), Some(line_of(AFFINITY, "park_us") + 1));
}

#[test]
fn unknown_table_in_app_file_is_refused() {
    let e = expect_err(load_edited("unknown-table", false, "[paper]", "[papr]"));
    assert!(matches!(e, ConfigError::UnknownKey { .. }), "{e}");
    assert_names(
        &e,
        "tickwire.toml",
        "papr",
        "valid keys: symbol, strategy, risk, paper, report",
    );
}

#[test]
fn missing_key_names_its_dotted_path() {
    let e = expect_err(load_edited("missing-key", true, "book_to_md = 64", ""));
    assert!(matches!(e, ConfigError::MissingKey { .. }), "{e}");
    assert_names(&e, "affinity.toml", "rings.book_to_md", "add it");
}

#[test]
fn stage_placed_twice_is_refused() {
    let e = expect_err(load_edited(
        "stage-twice",
        true,
        "[\"risk\", \"router\"]",
        "[\"risk\", \"router\", \"book\"]",
    ));
    assert_names(
        &e,
        "affinity.toml",
        "executor[1].stages",
        "already on executor[0]",
    );
}

#[test]
fn stage_not_placed_is_refused() {
    let e = expect_err(load_edited(
        "stage-missing",
        true,
        "[\"risk\", \"router\"]",
        "[\"risk\"]",
    ));
    assert_names(&e, "affinity.toml", "executor", "add \"router\"");
}

#[test]
fn executor_without_stages_is_refused() {
    let e = expect_err(load_edited(
        "empty-executor",
        true,
        "[rings]",
        "[[executor]]\ncore = 1\nstages = []\nidle = \"park\"\n\n[rings]",
    ));
    assert_names(
        &e,
        "affinity.toml",
        "executor[2].stages",
        "remove this [[executor]]",
    );
}

#[test]
fn two_executors_on_one_core_are_refused() {
    let e = expect_err(load_edited("same-core", true, "core = 1 ", "core = 0 "));
    assert_names(
        &e,
        "affinity.toml",
        "executor[1].core",
        "already used by executor[0]",
    );
    assert_eq!(e.line(), Some(line_of(AFFINITY, "core = 1")));
}

#[test]
fn core_missing_on_this_machine_lists_available_cores() {
    let absolute = AFFINITY.replacen(
        "core_numbering = \"allowed\"",
        "core_numbering = \"absolute\"",
        1,
    );
    let dir = write_dir("no-core", &absolute, APP);
    let e = expect_err(load_files_with_cores(
        &dir.join("affinity.toml"),
        &dir.join("tickwire.toml"),
        &[0],
    ));
    assert_names(
        &e,
        "affinity.toml",
        "executor[1].core",
        "core 1 does not exist",
    );
    assert!(e.to_string().contains("(available: 0)"), "{e}");
    assert!(
        e.to_string().contains("core = 0"),
        "the fix names a core that exists: {e}"
    );
}

#[test]
fn allowed_numbering_places_the_layout_on_the_cpus_this_process_may_use() {
    // As under `taskset -c 2,3`: the shipped layout lands on cores 2 and 3.
    let dir = write_dir("allowed-2-3", AFFINITY, APP);
    let cfg = load_files_with_cores(
        &dir.join("affinity.toml"),
        &dir.join("tickwire.toml"),
        &[3, 2],
    )
    .expect("the shipped layout fits any two CPUs");
    let cores: Vec<usize> = cfg.affinity.executor.iter().map(|e| e.core).collect();
    assert_eq!(cores, [2, 3]);
    assert_eq!(cfg.affinity.threads.feed, Some(2));
    assert_eq!(cfg.affinity.threads.router, Some(3));
    // The built-in defaults under `taskset -c 1` (one CPU) use core 1.
    let one = tickwire_config::embedded_default_for_allowed(&[1]).expect("fits one CPU");
    assert!(
        one.affinity.executor.iter().all(|e| e.core == 1),
        "{:?}",
        one.affinity.executor
    );
}

#[test]
fn an_allowed_position_beyond_the_cpu_set_names_the_set() {
    let dir = write_dir("allowed-short", AFFINITY, APP);
    let e = expect_err(load_files_with_cores(
        &dir.join("affinity.toml"),
        &dir.join("tickwire.toml"),
        &[5],
    ));
    assert_names(&e, "affinity.toml", "executor[1].core", "only 1 CPUs (5)");
}

#[test]
fn ring_capacity_not_power_of_two_suggests_next() {
    let e = expect_err(load_edited(
        "ring-pow2",
        true,
        "md_to_book = 65536",
        "md_to_book = 1000",
    ));
    assert_names(&e, "affinity.toml", "rings.md_to_book", "use 1024");
    let file = e.file().display().to_string();
    assert_eq!(
        e.to_string(),
        format!(
            "{file}:{}: rings.md_to_book = 1000 is not a power of two; use 1024",
            line_of(AFFINITY, "md_to_book")
        )
    );
}

#[test]
fn ring_capacity_zero_is_refused() {
    let e = expect_err(load_edited(
        "ring-zero",
        true,
        "book_to_md = 64",
        "book_to_md = 0",
    ));
    assert_names(&e, "affinity.toml", "rings.book_to_md", "power of two");
}

#[test]
fn negative_risk_limit_is_refused() {
    let e = expect_err(load_edited(
        "neg-limit",
        false,
        "max_position = \"0.02\"",
        "max_position = \"-0.02\"",
    ));
    assert_names(&e, "tickwire.toml", "risk.max_position", "is negative");
}

#[test]
fn float_quantity_is_refused_with_quoting_fix() {
    let e = expect_err(load_edited(
        "float-qty",
        false,
        "clip_qty = \"0.001\"",
        "clip_qty = 0.001",
    ));
    assert_names(&e, "tickwire.toml", "strategy.clip_qty", "quote it");
}

#[test]
fn float_in_an_integer_key_is_told_to_write_a_whole_number_not_to_quote_it() {
    let e = expect_err(load_edited(
        "float-int",
        false,
        "max_open_orders = 8",
        "max_open_orders = 8.5",
    ));
    assert_names(&e, "tickwire.toml", "risk.max_open_orders", "whole number");
    assert!(!e.to_string().contains("quote it"), "{e}");
}

#[test]
fn zero_clip_qty_is_refused() {
    let e = expect_err(load_edited(
        "zero-clip",
        false,
        "clip_qty = \"0.001\"",
        "clip_qty = \"0\"",
    ));
    assert_names(
        &e,
        "tickwire.toml",
        "strategy.clip_qty",
        "positive quantity",
    );
}

#[test]
fn imbalance_pct_outside_51_to_99_is_refused() {
    for bad in ["50", "100"] {
        let e = expect_err(load_edited(
            &format!("imbalance-{bad}"),
            false,
            "imbalance_pct = 80",
            &format!("imbalance_pct = {bad}"),
        ));
        assert_names(
            &e,
            "tickwire.toml",
            "strategy.imbalance_pct",
            "outside 51..=99",
        );
    }
}

#[test]
fn max_take_pct_outside_1_to_100_is_refused() {
    for bad in ["0", "101"] {
        let e = expect_err(load_edited(
            &format!("take-{bad}"),
            false,
            "max_take_pct = 100",
            &format!("max_take_pct = {bad}"),
        ));
        assert_names(&e, "tickwire.toml", "paper.max_take_pct", "outside 1..=100");
    }
}

#[test]
fn zero_burst_with_positive_rate_is_refused() {
    let e = expect_err(load_edited("burst-zero", false, "burst = 10", "burst = 0"));
    assert_names(&e, "tickwire.toml", "risk.burst", "burst >= 1");
}

#[test]
fn zero_report_depth_is_refused() {
    let e = expect_err(load_edited("depth-zero", false, "depth = 10", "depth = 0"));
    assert_names(&e, "tickwire.toml", "report.depth", "at least 1");
}

#[test]
fn unknown_idle_policy_lists_valid_values() {
    let e = expect_err(load_edited(
        "idle-bad",
        true,
        "idle = \"busy-spin\"",
        "idle = \"sleep\"",
    ));
    assert_names(
        &e,
        "affinity.toml",
        "executor[0].idle",
        "`busy-spin` or `park`",
    );
}

#[test]
fn missing_file_names_it_and_the_conf_dir_layout() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("config-tests/does-not-exist");
    let e = expect_err(load(&dir));
    assert!(matches!(e, ConfigError::MissingFile { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("does-not-exist/affinity.toml"), "{msg}");
    assert!(
        msg.contains("`--conf DIR` expects affinity.toml and tickwire.toml"),
        "{msg}"
    );
}

#[test]
fn malformed_toml_names_file_and_line() {
    let e = expect_err(load_edited(
        "malformed",
        false,
        "depth = 10",
        "depth = 10 levels",
    ));
    assert!(matches!(e, ConfigError::Malformed { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("tickwire.toml:"), "{msg}");
    assert!(msg.contains("depth = 10 levels"), "{msg}");
    assert!(msg.contains("fix the TOML syntax"), "{msg}");
    assert_eq!(
        e.line(),
        Some(
            APP.lines()
                .position(|l| l.starts_with("depth = 10"))
                .unwrap()
                + 1
        )
    );
}

#[test]
fn zero_daily_loss_limit_is_refused_with_kill_switch_hint() {
    let e = expect_err(load_edited(
        "zero-loss",
        false,
        "daily_loss_limit = \"500\"",
        "daily_loss_limit = \"0\"",
    ));
    assert_names(&e, "tickwire.toml", "risk.daily_loss_limit", "kill_switch");
}

#[test]
fn venue_table_is_checked_key_by_key() {
    let e = expect_err(load_edited(
        "venue-no-symbols",
        false,
        "symbols = [\"BTCUSDT\"]",
        "symbols = []",
    ));
    assert_names(
        &e,
        "tickwire.toml",
        "venue.symbols",
        "subscribes to nothing",
    );
    let e = expect_err(load_edited(
        "venue-bad-ws",
        false,
        "ws_url = \"wss://stream.testnet.binance.vision\"",
        "ws_url = \"https://stream.testnet.binance.vision\"",
    ));
    assert_names(&e, "tickwire.toml", "venue.ws_url", "wss://");
    let e = expect_err(load_edited(
        "venue-cap-below-base",
        false,
        "reconnect_cap_ms = 10000",
        "reconnect_cap_ms = 10",
    ));
    assert_names(
        &e,
        "tickwire.toml",
        "venue.reconnect_cap_ms",
        "outside 100..=",
    );
    let e = expect_err(load_edited(
        "venue-breaker-zero",
        false,
        "breaker_threshold = 5",
        "breaker_threshold = 0",
    ));
    assert_names(
        &e,
        "tickwire.toml",
        "venue.breaker_threshold",
        "before the first order",
    );
}

#[test]
fn a_config_without_venue_still_loads_for_replay() {
    let start = APP.find("[venue]").expect("shipped [venue]");
    let app = &APP[..start];
    let dir = write_dir("no-venue", AFFINITY, app);
    let cfg = load_files_with_cores(
        &dir.join("affinity.toml"),
        &dir.join("tickwire.toml"),
        TWO_CORES,
    )
    .expect("replay needs no [venue]");
    assert!(cfg.app.venue.is_none());
}

#[test]
fn helper_thread_core_must_exist() {
    let e = expect_err(load_edited(
        "threads-router-core",
        true,
        "router = 1 ",
        "router = 7 ",
    ));
    assert_names(&e, "affinity.toml", "threads.router", "position 7");
}
