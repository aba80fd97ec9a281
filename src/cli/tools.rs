//! The small subcommands: import, compare, check-conf, snapshot.

use super::error::{CliError, CliResult};
use std::path::Path;
use std::process::ExitCode;

use tickwire_book::{MappedSnapshot, print_top};
use tickwire_telemetry::compare;

/// Arguments of `tickwire record`.
#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// WebSocket base, e.g. `wss://stream.binance.com:9443` or the simulator's `ws://127.0.0.1:PORT`.
    #[arg(long)]
    pub ws: String,
    /// REST base for depth snapshots, e.g. `https://api.binance.com`.
    #[arg(long)]
    pub rest: String,
    /// Market of the symbol.
    #[arg(long, value_enum, default_value_t = MarketArg::Spot)]
    pub market: MarketArg,
    /// Venue symbol, e.g. BTCUSDT.
    #[arg(long)]
    pub symbol: String,
    /// Output file (binary capture).
    #[arg(long)]
    pub out: std::path::PathBuf,
    /// Stop after this many frames.
    #[arg(long)]
    pub frames: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long)]
    pub duration: Option<u64>,
    /// Pin the feed executor to this core.
    #[arg(long)]
    pub core: Option<usize>,
}

/// Market names on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MarketArg {
    /// Spot.
    Spot,
    /// USD-M futures.
    Usdm,
    /// COIN-M futures.
    Coinm,
}

/// `tickwire record`.
pub(super) fn record(args: RecordArgs) -> CliResult {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use tickwire_core::types::{Market, SymbolName};
    let symbol = SymbolName::new(args.symbol.to_uppercase().as_bytes()).ok_or_else(|| {
        CliError::Usage(format!(
            "--symbol {:?}: empty or longer than 23 bytes",
            args.symbol
        ))
    })?;
    let market = match args.market {
        MarketArg::Spot => Market::Spot,
        MarketArg::Usdm => Market::Usdm,
        MarketArg::Coinm => Market::Coinm,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed));
    let stats = crate::app::record::record(
        crate::app::record::RecordOptions {
            ws_base: args.ws,
            rest_base: args.rest,
            market,
            symbol,
            out: args.out.clone(),
            max_frames: args.frames,
            duration: args.duration.map(std::time::Duration::from_secs),
            core: args.core,
        },
        stop,
    )?;
    println!("{}: {stats}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

/// `tickwire import TEXT OUT`.
pub(super) fn import(input: &Path, output: &Path) -> CliResult {
    let stats = tickwire_capture::import(input, output)?;
    println!("{stats}");
    Ok(ExitCode::SUCCESS)
}

/// `tickwire compare BASE NEW`.
pub(super) fn compare(base: &Path, new: &Path, max_regress: &str) -> CliResult {
    let thresholds = compare::parse_thresholds(max_regress)?;
    let read = |p: &Path| -> Result<serde_json::Value, CliError> {
        let path = p.to_path_buf();
        let text = std::fs::read_to_string(p).map_err(|source| CliError::Io {
            path: path.clone(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| CliError::NotJson { path, source })
    };
    let (b, n) = (read(base)?, read(new)?);
    let names = (base.display().to_string(), new.display().to_string());
    let c = compare::compare(&b, &n, &thresholds, (&names.0, &names.1))?;
    print!("{}", c.table);
    if c.regressions.is_empty() {
        println!("no regression beyond {max_regress}");
        Ok(ExitCode::SUCCESS)
    } else {
        for r in &c.regressions {
            println!("regression: {r}");
        }
        Ok(ExitCode::from(1))
    }
}

/// `tickwire check-conf [--conf DIR]`.
pub(super) fn check_conf(dir: Option<&Path>) -> CliResult {
    let cfg = super::conf::load(dir)?;
    print!("{}", tickwire_config::render_check(&cfg));
    println!("configuration OK");
    Ok(ExitCode::SUCCESS)
}

/// `tickwire snapshot FILE`.
pub(super) fn snapshot(file: &Path, depth: usize) -> CliResult {
    let snap = MappedSnapshot::open(file)?;
    let mut out = std::io::stdout().lock();
    print_top(snap.archived(), depth, &mut out).map_err(CliError::Stdout)?;
    Ok(ExitCode::SUCCESS)
}

/// `tickwire venue-sim`: the simulator's own flags plus the synthetic
/// session it serves when no capture is named.
#[derive(Clone, Debug, clap::Args)]
pub struct VenueSimCmd {
    /// The simulator's flags and captures.
    #[command(flatten)]
    pub sim: venue_sim::VenueSimArgs,
    /// Frames of the synthetic spot BTCUSDT session served without captures.
    #[arg(long, default_value_t = 20_000)]
    pub synthetic_frames: usize,
    /// Seed of the synthetic session.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

/// Runs the simulator until Ctrl-C or SIGTERM.
pub(super) fn venue_sim(cmd: VenueSimCmd) -> CliResult {
    let memory = if cmd.sim.captures.is_empty() {
        let bytes = tickwire_capture::synth::synthetic_session(
            cmd.seed,
            tickwire_core::types::Market::Spot,
            cmd.synthetic_frames,
        );
        vec![(
            "synthetic-spot-btcusdt".to_string(),
            bytes,
            Some(venue_sim::Market::Spot),
        )]
    } else {
        Vec::new()
    };
    Ok(venue_sim::run_cli_with_sources(cmd.sim, memory)?)
}
