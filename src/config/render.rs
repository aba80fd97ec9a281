//! The text `tickwire check-conf` prints for a valid configuration.

use std::fmt::Write;

use super::loaded::Config;
use super::schema::{IdlePolicy, StrategyKind};

/// Files used, resolved placement table, ring capacities, symbols,
/// strategy, risk limits, paper venue and report settings.
pub fn render_check(cfg: &Config) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = write_check(&mut out, cfg);
    out
}

fn write_check(o: &mut String, cfg: &Config) -> std::fmt::Result {
    writeln!(o, "configuration OK")?;
    if cfg.is_embedded() {
        writeln!(
            o,
            "  source      built-in copies of the shipped conf/ files"
        )?;
    }
    writeln!(o, "  affinity    {}", cfg.affinity_path.display())?;
    writeln!(o, "  app         {}", cfg.app_path.display())?;

    writeln!(o, "\nplacement")?;
    writeln!(o, "  {:<6}{:<24}idle", "core", "stages")?;
    for ex in &cfg.placement().executors {
        let stages: Vec<&str> = ex.stages.iter().map(|s| s.name()).collect();
        let idle = match ex.idle {
            IdlePolicy::BusySpin => "busy-spin".to_string(),
            IdlePolicy::Park => format!("park {} us", ex.park_us),
        };
        writeln!(o, "  {:<6}{:<24}{}", ex.core, stages.join(", "), idle)?;
    }

    writeln!(o, "\nrings (slots)")?;
    for (name, cap) in cfg.affinity.rings.all() {
        writeln!(o, "  {name:<16}{cap:>10}")?;
    }

    writeln!(o, "\nsymbols")?;
    if cfg.app.symbol.is_empty() {
        writeln!(o, "  none listed: ticks are inferred from the data")?;
    }
    for s in &cfg.app.symbol {
        writeln!(o, "  {:<6}{:<16}tick {}", s.market.name(), s.name, s.tick)?;
    }

    let s = &cfg.app.strategy;
    writeln!(o, "\nstrategy")?;
    match s.kind {
        StrategyKind::Off => writeln!(o, "  kind off (never trades)")?,
        StrategyKind::Imbalance => {
            writeln!(o, "  kind            imbalance")?;
            writeln!(o, "  imbalance_pct   {} %", s.imbalance_pct)?;
            writeln!(o, "  clip_qty        {}", s.clip_qty)?;
            writeln!(o, "  cooldown_ms     {} ms", s.cooldown_ms)?;
            writeln!(o, "  max_position    {}", s.max_position)?;
        }
    }

    let k = &cfg.app.risk;
    writeln!(o, "\nrisk limits")?;
    writeln!(o, "  max_order_qty       {}", k.max_order_qty)?;
    writeln!(o, "  max_order_notional  {}", k.max_order_notional)?;
    writeln!(o, "  max_position        {}", k.max_position)?;
    writeln!(o, "  max_open_orders     {}", k.max_open_orders)?;
    writeln!(o, "  price_collar_bps    {} bps", k.price_collar_bps)?;
    writeln!(
        o,
        "  orders_per_sec      {} /s (burst {})",
        k.orders_per_sec, k.burst
    )?;
    writeln!(o, "  daily_loss_limit    {}", k.daily_loss_limit)?;
    writeln!(
        o,
        "  kill_switch         {}",
        if k.kill_switch {
            "ON: every order refused"
        } else {
            "off"
        }
    )?;

    writeln!(o, "\npaper venue")?;
    writeln!(o, "  max_take_pct        {} %", cfg.app.paper.max_take_pct)?;

    let p = &cfg.app.report;
    writeln!(o, "\nreports")?;
    writeln!(o, "  depth               {} levels", p.depth)?;
    if p.snapshot_interval_s == 0 {
        writeln!(
            o,
            "  snapshots           at shutdown only, into {}",
            p.snapshot_dir
        )?;
    } else {
        writeln!(
            o,
            "  snapshots           every {} s, into {}",
            p.snapshot_interval_s, p.snapshot_dir
        )?;
    }
    Ok(())
}
