//! Checks a parsed [`Config`] once at start-up: placement, ring capacities
//! and every limit. The first problem found is returned as a
//! [`ConfigError::Invalid`] naming file, key and fix.

use std::collections::HashSet;
use std::path::Path;

use super::error::ConfigError;
use super::loaded::Config;
use super::schema::{AffinityConfig, AppConfig, CoreNumbering, IdlePolicy, StageName, VenueConf};
use tickwire_core::money::Notional;
use tickwire_core::types::{Qty, SYMBOL_MAX, SymbolName};

/// Largest ring capacity accepted (slots). Bigger rings only hide a stalled
/// consumer and cost memory.
pub const MAX_RING_CAPACITY: usize = 1 << 24;
/// Longest park accepted, in microseconds.
pub const MAX_PARK_US: u64 = 1_000_000;

/// Validates everything, including that every executor core is one of
/// `available_cores` (logical CPU ids this process may use).
pub fn validate_with_cores(cfg: &Config, available_cores: &[usize]) -> Result<(), ConfigError> {
    validate_values(cfg)?;
    check_cores(&cfg.affinity_path, &cfg.affinity, available_cores)
}

/// Validates everything except whether the cores exist on this machine.
pub fn validate_values(cfg: &Config) -> Result<(), ConfigError> {
    check_placement(&cfg.affinity_path, &cfg.affinity)?;
    check_rings(&cfg.affinity_path, &cfg.affinity)?;
    check_app(&cfg.app_path, &cfg.app)
}

fn check_placement(file: &Path, aff: &AffinityConfig) -> Result<(), ConfigError> {
    let mut placed: Vec<(StageName, usize)> = Vec::new();
    for (i, ex) in aff.executor.iter().enumerate() {
        let key = format!("executor[{i}]");
        if ex.stages.is_empty() {
            return Err(ConfigError::invalid(
                file,
                format!("{key}.stages"),
                "= [] places no stage on this executor",
                "add stages to it or remove this [[executor]] block",
            ));
        }
        if let Some(j) = aff.executor[..i].iter().position(|e| e.core == ex.core) {
            return Err(ConfigError::invalid(
                file,
                format!("{key}.core"),
                format!("= {} is already used by executor[{j}]", ex.core),
                format!(
                    "put both executors' stages in executor[{j}] (stages may share one core) or pick another core"
                ),
            ));
        }
        for &stage in &ex.stages {
            if let Some(&(_, j)) = placed.iter().find(|(s, _)| *s == stage) {
                return Err(ConfigError::invalid(
                    file,
                    format!("{key}.stages"),
                    format!(
                        "places stage \"{}\" again (already on executor[{j}])",
                        stage.name()
                    ),
                    format!("remove \"{}\" from one of the two executors", stage.name()),
                ));
            }
            placed.push((stage, i));
        }
        if ex.idle == IdlePolicy::Park && (ex.park_us == 0 || ex.park_us > MAX_PARK_US) {
            return Err(ConfigError::invalid(
                file,
                format!("{key}.park_us"),
                format!("= {} is outside 1..={MAX_PARK_US}", ex.park_us),
                "use e.g. 50, or idle = \"busy-spin\" to never sleep",
            ));
        }
    }
    for stage in StageName::ALL {
        if !placed.iter().any(|(s, _)| *s == stage) {
            return Err(ConfigError::invalid(
                file,
                "executor",
                format!("does not place stage \"{}\" on any executor", stage.name()),
                format!(
                    "add \"{}\" to the stages of one [[executor]] (each of md, book, risk, router exactly once)",
                    stage.name()
                ),
            ));
        }
    }
    Ok(())
}

/// Turns `core_numbering = "allowed"` positions into logical CPU ids of
/// `available` (the process's allowed CPUs, ascending); afterwards every
/// core number is absolute. A position beyond the allowed set is an error
/// that lists the set.
pub fn resolve_cores(
    file: &Path,
    aff: &mut AffinityConfig,
    available: &[usize],
) -> Result<(), ConfigError> {
    if aff.core_numbering == CoreNumbering::Absolute {
        return Ok(());
    }
    let mut sorted = available.to_vec();
    sorted.sort_unstable();
    let list = sorted
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let pick = |key: String, n: usize| {
        sorted.get(n).copied().ok_or_else(|| {
            ConfigError::invalid(
                file,
                key,
                format!(
                    "= {n}: with core_numbering = \"allowed\" that is position {n}, but this process may use only {} CPUs ({list})",
                    sorted.len()
                ),
                format!(
                    "use a position from 0 to {}, or run on more CPUs (taskset -c / CPUAffinity=){}",
                    sorted.len().saturating_sub(1),
                    if sorted.len() < 2 {
                        "; with one CPU, start from conf/affinity-1core.toml"
                    } else {
                        ""
                    }
                ),
            )
        })
    };
    for (i, ex) in aff.executor.iter_mut().enumerate() {
        ex.core = pick(format!("executor[{i}].core"), ex.core)?;
    }
    let t = &mut aff.threads;
    for (key, core) in [
        ("threads.feed", &mut t.feed),
        ("threads.router", &mut t.router),
        ("threads.snapshot", &mut t.snapshot),
    ] {
        if let Some(c) = core {
            *c = pick(key.to_string(), *c)?;
        }
    }
    aff.core_numbering = CoreNumbering::Absolute;
    Ok(())
}

fn check_cores(file: &Path, aff: &AffinityConfig, available: &[usize]) -> Result<(), ConfigError> {
    for (i, ex) in aff.executor.iter().enumerate() {
        if !available.contains(&ex.core) {
            let list: Vec<String> = available.iter().map(usize::to_string).collect();
            return Err(ConfigError::invalid(
                file,
                format!("executor[{i}].core"),
                format!(
                    "= {}: core {} does not exist or is not usable on this machine (available: {})",
                    ex.core,
                    ex.core,
                    list.join(", ")
                ),
                format!(
                    "use one of the available cores (core = {}), or set core_numbering = \"allowed\" to count cores within this process's CPU set{}",
                    available.iter().min().copied().unwrap_or(0),
                    if available.len() < 2 {
                        "; with one core, start from conf/affinity-1core.toml"
                    } else {
                        ""
                    }
                ),
            ));
        }
    }
    let helpers = [
        ("threads.feed", aff.threads.feed),
        ("threads.router", aff.threads.router),
        ("threads.snapshot", aff.threads.snapshot),
    ];
    for (key, core) in helpers {
        if let Some(c) = core
            && !available.contains(&c)
        {
            return Err(ConfigError::invalid(
                file,
                key,
                format!(
                    "= {c}: core {c} does not exist or is not usable on this machine (available: {})",
                    available
                        .iter()
                        .map(usize::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "use one of the cores the executors use, or remove the key",
            ));
        }
    }
    Ok(())
}

fn check_rings(file: &Path, aff: &AffinityConfig) -> Result<(), ConfigError> {
    for (name, cap) in aff.rings.all() {
        let key = format!("rings.{name}");
        if cap == 0 {
            return Err(ConfigError::invalid(
                file,
                key,
                "= 0: a ring needs at least one slot",
                "use a power of two such as 1024",
            ));
        }
        if cap > MAX_RING_CAPACITY {
            return Err(ConfigError::invalid(
                file,
                key,
                format!("= {cap} exceeds the maximum {MAX_RING_CAPACITY}"),
                format!("use at most {MAX_RING_CAPACITY}"),
            ));
        }
        if !cap.is_power_of_two() {
            let up = cap.next_power_of_two();
            return Err(ConfigError::invalid(
                file,
                key,
                format!("= {cap} is not a power of two"),
                format!("use {up}"),
            ));
        }
    }
    Ok(())
}

fn check_app(file: &Path, app: &AppConfig) -> Result<(), ConfigError> {
    check_symbols(file, app)?;
    let s = &app.strategy;
    if !(51..=99).contains(&s.imbalance_pct) {
        return Err(ConfigError::invalid(
            file,
            "strategy.imbalance_pct",
            format!("= {} is outside 51..=99", s.imbalance_pct),
            "use a percentage between 51 and 99, e.g. 80",
        ));
    }
    if s.clip_qty.0 == 0 {
        return Err(ConfigError::invalid(
            file,
            "strategy.clip_qty",
            "= \"0\": the strategy could never send an order",
            "use a positive quantity such as \"0.001\" (or strategy.kind = \"off\")",
        ));
    }
    non_negative(file, "strategy.clip_qty", s.clip_qty)?;
    non_negative(file, "strategy.max_position", s.max_position)?;

    let r = &app.risk;
    non_negative(file, "risk.max_order_qty", r.max_order_qty)?;
    non_negative_money(file, "risk.max_order_notional", r.max_order_notional)?;
    non_negative(file, "risk.max_position", r.max_position)?;
    non_negative_money(file, "risk.daily_loss_limit", r.daily_loss_limit)?;
    if r.daily_loss_limit.0 == 0 {
        // Risk stops trading once pnl <= -limit, which a zero limit meets
        // before the first order.
        return Err(ConfigError::invalid(
            file,
            "risk.daily_loss_limit",
            "= \"0\": every order would be refused as a daily-loss breach",
            "use a positive amount such as \"500\"; to refuse all orders set risk.kill_switch = true",
        ));
    }
    if r.burst == 0 && r.orders_per_sec > 0 {
        return Err(ConfigError::invalid(
            file,
            "risk.burst",
            format!(
                "= 0 with risk.orders_per_sec = {}: the token bucket could never hold a token",
                r.orders_per_sec
            ),
            "use burst >= 1 (e.g. 10), or orders_per_sec = 0 to send no orders",
        ));
    }
    if !(1..=100).contains(&app.paper.max_take_pct) {
        return Err(ConfigError::invalid(
            file,
            "paper.max_take_pct",
            format!("= {} is outside 1..=100", app.paper.max_take_pct),
            "use a percentage between 1 and 100, e.g. 100",
        ));
    }
    if app.report.depth == 0 {
        return Err(ConfigError::invalid(
            file,
            "report.depth",
            "= 0 would print and snapshot empty books",
            "use at least 1, e.g. 10",
        ));
    }
    if app.report.snapshot_dir.trim().is_empty() {
        return Err(ConfigError::invalid(
            file,
            "report.snapshot_dir",
            "= \"\" is empty",
            "name a directory, e.g. \"snapshots\"",
        ));
    }
    if let Some(v) = &app.venue {
        check_venue(file, v)?;
    }
    Ok(())
}

fn check_venue(file: &Path, v: &VenueConf) -> Result<(), ConfigError> {
    if v.symbols.is_empty() {
        return Err(ConfigError::invalid(
            file,
            "venue.symbols",
            "= [] subscribes to nothing",
            "list the venue symbols to trade, e.g. [\"BTCUSDT\"]",
        ));
    }
    let mut seen = HashSet::new();
    for (i, s) in v.symbols.iter().enumerate() {
        if SymbolName::new(s.as_bytes()).is_none() {
            return Err(ConfigError::invalid(
                file,
                format!("venue.symbols[{i}]"),
                format!("= {s:?} is empty or longer than {SYMBOL_MAX} bytes"),
                "use the venue symbol, e.g. \"BTCUSDT\"",
            ));
        }
        if !seen.insert(s.to_ascii_uppercase()) {
            return Err(ConfigError::invalid(
                file,
                format!("venue.symbols[{i}]"),
                format!("repeats {s}"),
                "list each symbol once",
            ));
        }
    }
    let urls = [
        (
            "venue.ws_url",
            &v.ws_url,
            ["ws://", "wss://"],
            "wss://stream.binance.com:9443",
        ),
        (
            "venue.rest_url",
            &v.rest_url,
            ["http://", "https://"],
            "https://api.binance.com",
        ),
    ];
    for (key, url, schemes, example) in urls {
        let host = schemes.iter().find_map(|p| url.strip_prefix(p));
        if host.is_none_or(str::is_empty) {
            return Err(ConfigError::invalid(
                file,
                key,
                format!("= {url:?} is not a {} or {} URL", schemes[0], schemes[1]),
                format!("use e.g. \"{example}\""),
            ));
        }
    }
    let ranges: [(&str, u64, u64, u64); 6] = [
        ("venue.recv_window_ms", v.recv_window_ms, 1, 60_000),
        ("venue.order_timeout_ms", v.order_timeout_ms, 1, 60_000),
        (
            "venue.breaker_cooldown_ms",
            v.breaker_cooldown_ms,
            1,
            3_600_000,
        ),
        (
            "venue.silence_timeout_ms",
            v.silence_timeout_ms,
            100,
            3_600_000,
        ),
        ("venue.reconnect_base_ms", v.reconnect_base_ms, 1, 600_000),
        (
            "venue.reconnect_cap_ms",
            v.reconnect_cap_ms,
            v.reconnect_base_ms.max(1),
            3_600_000,
        ),
    ];
    for (key, value, lo, hi) in ranges {
        if !(lo..=hi).contains(&value) {
            return Err(ConfigError::invalid(
                file,
                key,
                format!("= {value} is outside {lo}..={hi}"),
                "see docs/configuration.md for the meaning and a sensible value",
            ));
        }
    }
    if v.breaker_threshold == 0 {
        return Err(ConfigError::invalid(
            file,
            "venue.breaker_threshold",
            "= 0 would open the breaker before the first order",
            "use e.g. 5 consecutive failures",
        ));
    }
    Ok(())
}

fn check_symbols(file: &Path, app: &AppConfig) -> Result<(), ConfigError> {
    let mut seen = HashSet::new();
    for (i, sym) in app.symbol.iter().enumerate() {
        if SymbolName::new(sym.name.as_bytes()).is_none() {
            return Err(ConfigError::invalid(
                file,
                format!("symbol[{i}].name"),
                format!(
                    "= {:?} is empty or longer than {SYMBOL_MAX} bytes",
                    sym.name
                ),
                "use the venue symbol, e.g. \"BTCUSDT\"",
            ));
        }
        if sym.tick.0 <= 0 {
            return Err(ConfigError::invalid(
                file,
                format!("symbol[{i}].tick"),
                format!("= \"{}\" is not positive", sym.tick),
                "use the venue's price tick, e.g. \"0.01\"",
            ));
        }
        if !seen.insert((sym.market, sym.name.as_str())) {
            return Err(ConfigError::invalid(
                file,
                format!("symbol[{i}]"),
                format!("repeats {} {}", sym.market.name(), sym.name),
                "list each (market, name) once",
            ));
        }
    }
    Ok(())
}

fn non_negative(file: &Path, key: &str, q: Qty) -> Result<(), ConfigError> {
    non_negative_amount(file, key, q.0 < 0, &q, &Qty(q.0.saturating_abs()))
}

fn non_negative_money(file: &Path, key: &str, n: Notional) -> Result<(), ConfigError> {
    non_negative_amount(file, key, n.0 < 0, &n, &-n)
}

fn non_negative_amount(
    file: &Path,
    key: &str,
    negative: bool,
    q: &dyn std::fmt::Display,
    abs: &dyn std::fmt::Display,
) -> Result<(), ConfigError> {
    if negative {
        return Err(ConfigError::invalid(
            file,
            key,
            format!("= \"{q}\" is negative"),
            format!("use a value >= 0, e.g. \"{abs}\""),
        ));
    }
    Ok(())
}
