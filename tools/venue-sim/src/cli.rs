//! Command-line front end: `tickwire venue-sim` (through [`run_cli`]) and
//! the standalone `venue-sim` binary.

use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use crate::{DepthFault, Faults, MemorySource, Pace, SimConfig, SimError, UsdmRoute, VenueSim};

/// Arguments of `venue-sim`.
#[derive(Clone, Debug, clap::Args)]
pub struct VenueSimArgs {
    /// Capture files: `FILE` or `FILE@spot|usdm|coinm` (market inferred when omitted).
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
    /// Percent of a book level one marketable order may take.
    #[arg(long, default_value_t = 100)]
    pub max_take_pct: u32,
    /// Order answers never show fills; only the user-data stream tells them.
    #[arg(long)]
    pub fills_only_on_stream: bool,
    /// USD-M path that carries raw `@trade`: `market` (default) or `public`.
    #[arg(long, default_value = "market")]
    pub usdm_trade_route: String,
    /// listenKey validity in minutes.
    #[arg(long, default_value_t = 60)]
    pub listen_key_minutes: u64,
    /// Seconds between the server's WebSocket pings.
    #[arg(long, default_value_t = 20)]
    pub ping_interval_s: u64,
    /// Seconds a client may leave a ping unanswered before it is dropped.
    #[arg(long, default_value_t = 60)]
    pub pong_timeout_s: u64,
    /// Starting balance of every asset / margin wallet.
    #[arg(long, default_value = "1000000")]
    pub initial_balance: String,
    /// Fault switches.
    #[command(flatten)]
    pub faults: FaultArgs,
}

/// The simulator's fault switches as flags.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct FaultArgs {
    /// Close the first feed connection after N frames.
    #[arg(long)]
    pub drop_feed_after: Option<u64>,
    /// Never send the Nth depth diff.
    #[arg(long)]
    pub skip_diff: Option<u64>,
    /// Stop sending (and answering pings) on the first feed connection after N frames.
    #[arg(long)]
    pub stall_after: Option<u64>,
    /// Stop sending data on the first feed connection after N frames, still answering pings.
    #[arg(long)]
    pub stall_keep_pings_after: Option<u64>,
    /// Drop the first USD-M connection of a route after N frames: `public:N`, `market:N`, `private:N`.
    #[arg(long)]
    pub usdm_drop: Option<String>,
    /// Stall the first USD-M connection of a route after N frames: `public:N`, `market:N`, `private:N`.
    #[arg(long)]
    pub usdm_stall: Option<String>,
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
    /// From the Nth new order on, answer every new order 503.
    #[arg(long)]
    pub order_5xx_from: Option<u64>,
    /// From the Nth new order on, answer every new order with an HTML page (status 200).
    #[arg(long)]
    pub order_html_from: Option<u64>,
    /// New orders allowed per 10 s before 429 -1015 (default: the documented limit).
    #[arg(long)]
    pub max_orders_10s: Option<u32>,
    /// Fail the first depth requests: `COUNT:STATUS[:RETRY_AFTER_S]`, status 500, 503, 418 or 429.
    #[arg(long)]
    pub depth_fail: Option<String>,
    /// Answer depth requests with this many levels per side.
    #[arg(long)]
    pub depth_huge_levels: Option<usize>,
    /// Close the first user-data connection after N events.
    #[arg(long)]
    pub user_stream_drop_after: Option<u64>,
    /// Expire every listenKey this many seconds after creation, keep-alives or not.
    #[arg(long)]
    pub listen_key_expire_after_s: Option<u64>,
    /// Seed of the fault dice.
    #[arg(long, default_value_t = 1)]
    pub fault_seed: u64,
}

/// Why the command could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimCliError {
    /// A flag has a bad value.
    #[error("{0}")]
    Args(String),
    /// The key pair is missing from the environment.
    #[error("{0}")]
    Env(String),
    /// The simulator could not start.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// The Ctrl-C / SIGTERM handler could not be installed.
    #[error("cannot install the Ctrl-C handler: {0}")]
    Signal(String),
}

fn route_count(flag: &str, v: &str) -> Result<(UsdmRoute, u64), SimCliError> {
    let bad = || {
        SimCliError::Args(format!(
            "--{flag} {v:?}: use public:N, market:N or private:N"
        ))
    };
    let (r, n) = v.split_once(':').ok_or_else(bad)?;
    Ok((
        UsdmRoute::parse(r).ok_or_else(bad)?,
        n.parse().map_err(|_| bad())?,
    ))
}

impl FaultArgs {
    /// The switches, refused when a value is out of range.
    pub fn faults(&self) -> Result<Faults, SimCliError> {
        let pct = u16::from(self.order_5xx_pct)
            + u16::from(self.order_429_pct)
            + u16::from(self.order_no_answer_pct);
        if pct > 100 {
            return Err(SimCliError::Args(
                "the order fault percentages add up to more than 100".into(),
            ));
        }
        let depth_fail = match &self.depth_fail {
            None => None,
            Some(s) => {
                let bad = || {
                    SimCliError::Args(format!(
                        "--depth-fail {s:?}: use COUNT:STATUS[:RETRY_AFTER_S] with status 500, 503, 418 or 429"
                    ))
                };
                let mut it = s.split(':');
                let count = it.next().and_then(|c| c.parse().ok()).ok_or_else(bad)?;
                let status = it
                    .next()
                    .and_then(|c| c.parse().ok())
                    .filter(|s| matches!(s, 500 | 503 | 418 | 429))
                    .ok_or_else(bad)?;
                let retry_after_s = match it.next() {
                    None => 1,
                    Some(r) => r.parse().map_err(|_| bad())?,
                };
                Some(DepthFault {
                    count,
                    status,
                    retry_after_s,
                })
            }
        };
        Ok(Faults {
            drop_feed_after: self.drop_feed_after,
            skip_diff: self.skip_diff,
            stall_after: self.stall_after,
            stall_keep_pings_after: self.stall_keep_pings_after,
            usdm_drop: self
                .usdm_drop
                .as_deref()
                .map(|v| route_count("usdm-drop", v))
                .transpose()?,
            usdm_stall: self
                .usdm_stall
                .as_deref()
                .map(|v| route_count("usdm-stall", v))
                .transpose()?,
            order_5xx_pct: self.order_5xx_pct,
            order_429_pct: self.order_429_pct,
            order_no_answer_pct: self.order_no_answer_pct,
            ban_after_orders: self.ban_after_orders,
            order_5xx_from: self.order_5xx_from,
            order_html_from: self.order_html_from,
            max_orders_10s: self.max_orders_10s,
            depth_fail,
            depth_huge_levels: self.depth_huge_levels,
            user_stream_drop_after: self.user_stream_drop_after,
            listen_key_expire_early: self.listen_key_expire_after_s.map(Duration::from_secs),
            seed: self.fault_seed,
        })
    }
}

impl VenueSimArgs {
    /// The configuration these flags describe, with the key pair given and
    /// extra in-memory sources.
    pub fn config(
        &self,
        api_key: &str,
        api_secret: &str,
        memory: Vec<MemorySource>,
    ) -> Result<SimConfig, SimCliError> {
        let pace = match self.pace.as_str() {
            "max" => Pace::Max,
            "recorded" if self.speed > 0.0 && self.speed.is_finite() => {
                Pace::Recorded { speed: self.speed }
            }
            "recorded" => return Err(SimCliError::Args("--speed must be greater than 0".into())),
            p => {
                return Err(SimCliError::Args(format!(
                    "unknown --pace {p:?}; use max or recorded"
                )));
            }
        };
        let route = match self.usdm_trade_route.as_str() {
            "market" => UsdmRoute::Market,
            "public" => UsdmRoute::Public,
            r => {
                return Err(SimCliError::Args(format!(
                    "unknown --usdm-trade-route {r:?}; use market or public"
                )));
            }
        };
        let mut cfg = SimConfig::synthetic(memory, api_key, api_secret);
        cfg.sources = self.captures.clone();
        cfg.pace = pace;
        cfg.faults = self.faults.faults()?;
        cfg.bind = self.bind;
        cfg.http_port = self.http_port;
        cfg.ws_port = self.ws_port;
        cfg.max_take_pct = self.max_take_pct;
        cfg.fills_only_on_stream = self.fills_only_on_stream;
        cfg.usdm_trade_route = route;
        cfg.listen_key_validity = Duration::from_secs(self.listen_key_minutes.saturating_mul(60));
        cfg.ping_interval = Duration::from_secs(self.ping_interval_s.max(1));
        cfg.pong_timeout = Duration::from_secs(self.pong_timeout_s.max(1));
        cfg.initial_balance = self.initial_balance.clone();
        Ok(cfg)
    }
}

/// Runs the simulator until Ctrl-C or SIGTERM. The API key and secret come
/// from `TICKWIRE_API_KEY` / `TICKWIRE_API_SECRET` and are never printed.
pub fn run_cli(args: VenueSimArgs) -> Result<ExitCode, SimCliError> {
    run_cli_with_sources(args, Vec::new())
}

/// [`run_cli`] with in-memory sources in addition to the capture files
/// (the appliance's `demo` hands its synthetic session this way).
pub fn run_cli_with_sources(
    args: VenueSimArgs,
    memory: Vec<MemorySource>,
) -> Result<ExitCode, SimCliError> {
    // Flags are checked before the environment so mistakes show first.
    args.config("", "", Vec::new())?;
    let api_key = std::env::var("TICKWIRE_API_KEY").map_err(|_| {
        SimCliError::Env(
            "set TICKWIRE_API_KEY and TICKWIRE_API_SECRET to the key pair clients will use".into(),
        )
    })?;
    let api_secret = std::env::var("TICKWIRE_API_SECRET").map_err(|_| {
        SimCliError::Env("set TICKWIRE_API_SECRET to the secret clients will sign with".into())
    })?;
    let cfg = args.config(&api_key, &api_secret, memory)?;
    let (tx, rx) = std::sync::mpsc::channel();
    ctrlc::set_handler(move || {
        // A second signal after the receiver is gone changes nothing.
        let _ = tx.send(());
    })
    .map_err(|e| SimCliError::Signal(e.to_string()))?;
    let sim = VenueSim::start(cfg)?;
    println!("venue-sim REST      http://{}", sim.http_addr());
    println!("venue-sim WebSocket ws://{}", sim.ws_addr());
    println!("Ctrl-C to stop");
    // Either a signal or a dropped handler ends the wait.
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
    fn flags_parse_into_a_config() {
        let a = parse(&[
            "--pace",
            "max",
            "--skip-diff",
            "7",
            "--order-429-pct",
            "5",
            "--usdm-stall",
            "market:10",
            "--depth-fail",
            "2:429:3",
            "--max-orders-10s",
            "4",
            "x.gz@spot",
        ]);
        let c = a.config("k", "s", Vec::new()).expect("valid");
        assert_eq!(c.faults.skip_diff, Some(7));
        assert_eq!(c.faults.order_429_pct, 5);
        assert_eq!(c.faults.usdm_stall, Some((UsdmRoute::Market, 10)));
        assert_eq!(
            c.faults.depth_fail,
            Some(DepthFault {
                count: 2,
                status: 429,
                retry_after_s: 3
            })
        );
        assert_eq!(c.faults.max_orders_10s, Some(4));
        assert_eq!(c.sources, ["x.gz@spot"]);
        assert_eq!(c.pace, Pace::Max);
        assert!(!format!("{c:?}").contains("\"s\""), "secret printed");
    }

    #[test]
    fn bad_flags_are_refused_before_starting() {
        let e = run_cli(parse(&["--pace", "warp"])).unwrap_err();
        assert!(e.to_string().contains("max or recorded"), "{e}");
        let e = run_cli(parse(&["--order-5xx-pct", "60", "--order-429-pct", "50"])).unwrap_err();
        assert!(e.to_string().contains("more than 100"), "{e}");
        let e = run_cli(parse(&["--depth-fail", "1:404"])).unwrap_err();
        assert!(e.to_string().contains("500, 503, 418 or 429"), "{e}");
        let e = run_cli(parse(&["--usdm-drop", "pub:3"])).unwrap_err();
        assert!(e.to_string().contains("public:N"), "{e}");
    }
}
