//! `tickwire venue-sim`: runs the simulator until Ctrl-C.

use std::net::IpAddr;
use std::process::ExitCode;

use super::{Faults, SimConfig, VenueSim};
use tickwire_core::source::Pace;

/// Arguments of `tickwire venue-sim`.
#[derive(Clone, Debug, clap::Args)]
pub struct VenueSimArgs {
    /// Capture files (`FILE` or `FILE@spot|usdm|coinm`); none = synthetic spot session.
    pub captures: Vec<String>,
    /// Address to bind (keep it on loopback).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Replay pace: `max` or `recorded`.
    #[arg(long, default_value = "recorded")]
    pub pace: String,
    /// Speed-up factor for `--pace recorded`.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// REST port (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub http_port: u16,
    /// WebSocket port (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub ws_port: u16,
    /// Frames of the synthetic session.
    #[arg(long, default_value_t = 20_000)]
    pub synthetic_frames: usize,
    /// Seed of the synthetic session.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Fault switches.
    #[command(flatten)]
    pub faults: FaultArgs,
    /// New orders allowed per 10 s (0 = no limit).
    #[arg(long, default_value_t = 0)]
    pub max_orders_10s: u32,
}

/// The simulator's fault switches as flags (`venue-sim`, `demo`).
#[derive(Clone, Debug, clap::Args)]
pub struct FaultArgs {
    /// Close the first feed connection after N frames.
    #[arg(long)]
    pub drop_feed_after: Option<u64>,
    /// Never send the Nth depth diff.
    #[arg(long)]
    pub skip_diff: Option<u64>,
    /// Stop sending on the first feed connection after N frames.
    #[arg(long)]
    pub stall_after: Option<u64>,
    /// Percent of new orders answered 503.
    #[arg(long, default_value_t = 0)]
    pub order_5xx_pct: u8,
    /// Percent of new orders answered 429.
    #[arg(long, default_value_t = 0)]
    pub order_429_pct: u8,
    /// Percent of new orders placed but never answered.
    #[arg(long, default_value_t = 0)]
    pub order_no_answer_pct: u8,
    /// Answer the Nth new order 418 (IP ban, Retry-After 2 s), once.
    #[arg(long)]
    pub ban_after_orders: Option<u64>,
    /// Seed of the order fault dice.
    #[arg(long, default_value_t = 1)]
    pub fault_seed: u64,
}

impl FaultArgs {
    /// The switches, refused when the order fault shares exceed 100 %.
    pub fn faults(&self) -> Result<Faults, String> {
        let pct = u16::from(self.order_5xx_pct)
            + u16::from(self.order_429_pct)
            + u16::from(self.order_no_answer_pct);
        if pct > 100 {
            return Err("the order fault percentages add up to more than 100".into());
        }
        Ok(Faults {
            drop_feed_after: self.drop_feed_after,
            skip_diff: self.skip_diff,
            stall_after: self.stall_after,
            order_5xx_pct: self.order_5xx_pct,
            order_429_pct: self.order_429_pct,
            order_no_answer_pct: self.order_no_answer_pct,
            ban_after_orders: self.ban_after_orders,
            seed: self.fault_seed,
        })
    }
}

/// Runs the simulator until Ctrl-C. The API key and secret come from
/// `TICKWIRE_API_KEY` / `TICKWIRE_API_SECRET` and are never printed.
pub fn run_cli(args: VenueSimArgs) -> Result<ExitCode, String> {
    let pace = match args.pace.as_str() {
        "max" => Pace::Max,
        "recorded" if args.speed > 0.0 => Pace::Recorded { speed: args.speed },
        "recorded" => return Err("--speed must be greater than 0".into()),
        p => return Err(format!("unknown --pace {p:?}; use max or recorded")),
    };
    let faults = args.faults.faults()?;
    let api_key = std::env::var("TICKWIRE_API_KEY").map_err(|_| {
        "set TICKWIRE_API_KEY and TICKWIRE_API_SECRET to the key pair clients will use".to_string()
    })?;
    let api_secret = std::env::var("TICKWIRE_API_SECRET")
        .map_err(|_| "set TICKWIRE_API_SECRET to the secret clients will sign with".to_string())?;
    let cfg = SimConfig {
        sources: args.captures,
        pace,
        api_key,
        api_secret,
        faults,
        bind: args.bind,
        http_port: args.http_port,
        ws_port: args.ws_port,
        synthetic_frames: args.synthetic_frames,
        synthetic_seed: args.seed,
        max_orders_10s: args.max_orders_10s,
        max_take_pct: 100,
    };
    let (tx, rx) = std::sync::mpsc::channel();
    ctrlc::set_handler(move || {
        // A second Ctrl-C after the receiver is gone changes nothing.
        let _ = tx.send(());
    })
    .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))?;
    let sim = VenueSim::start(cfg).map_err(|e| e.to_string())?;
    println!("venue-sim REST      http://{}", sim.http_addr());
    println!("venue-sim WebSocket ws://{}", sim.ws_addr());
    println!("Ctrl-C to stop");
    // Either Ctrl-C or a dropped handler ends the wait.
    let _ = rx.recv();
    let stats = sim.stats();
    sim.stop();
    println!("{stats:?}");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        args: VenueSimArgs,
    }

    fn parse(argv: &[&str]) -> VenueSimArgs {
        let mut v = vec!["venue-sim"];
        v.extend_from_slice(argv);
        Cmd::try_parse_from(v).expect("arguments parse").args
    }

    #[test]
    fn fault_flags_and_captures_parse() {
        let a = parse(&[
            "--pace",
            "max",
            "--skip-diff",
            "7",
            "--order-429-pct",
            "5",
            "x.gz@spot",
        ]);
        assert_eq!(a.faults.skip_diff, Some(7));
        assert_eq!(a.faults.order_429_pct, 5);
        assert_eq!(a.captures, ["x.gz@spot"]);
        assert_eq!(a.bind, IpAddr::from([127, 0, 0, 1]));
    }

    #[test]
    fn unknown_pace_and_excess_fault_shares_are_refused_before_starting() {
        let e = run_cli(parse(&["--pace", "warp"])).unwrap_err();
        assert!(e.contains("max or recorded"), "{e}");
        let e = run_cli(parse(&["--order-5xx-pct", "60", "--order-429-pct", "50"])).unwrap_err();
        assert!(e.contains("more than 100"), "{e}");
    }
}
