//! Command-line interface. `main.rs` calls [`main`]; each subcommand lives
//! in its own module.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod conf;
mod error;
mod host;
mod replay;
mod session;
mod tools;

/// Thread-per-core tick-to-trade appliance.
#[derive(Debug, Parser)]
#[command(name = "tickwire", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Replay pace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PaceArg {
    /// As fast as the pipeline takes frames.
    Max,
    /// At the recorded inter-arrival times (divided by --speed).
    Recorded,
}

/// What md does when the md -> book ring is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnFullArg {
    /// Hold frames until the book catches up (lossless; replay default).
    Wait,
    /// Drop events, mark the book stale and resync (live behaviour).
    Drop,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the venue simulator and the appliance together on loopback
    /// (no account, no internet), run for a bounded time, then print the
    /// replay report plus feed, order-router and wire-to-wire figures and
    /// check risk's positions against the simulator's account (exit 1 if
    /// they differ).
    Demo(session::DemoArgs),
    /// Trade live against the venue in `[venue]` of conf/tickwire.toml
    /// (default: Binance spot testnet) until Ctrl-C or --duration; keys
    /// from TICKWIRE_API_KEY / TICKWIRE_API_SECRET or `venue.key_file`.
    Run(session::RunArgs),
    /// Replay recorded feeds through the whole pipeline and print a report.
    ///
    /// CAPTURE is an hftbacktest collector text file (`<rx_ns> <json>` lines,
    /// gzip or plain) or a tickwire binary capture; append `@spot`, `@usdm` or
    /// `@coinm` to override the market inferred from the data. Several files
    /// replay together (merged by receive time), one instrument each. With no
    /// CAPTURE, a built-in deterministic synthetic Binance session (spot +
    /// USD-M BTCUSDT) is replayed.
    Replay(replay::ReplayArgs),
    /// Record a live feed (one symbol: depth diffs, bookTicker, trades, plus a
    /// REST depth snapshot on every (re)connect) into a binary capture that
    /// `replay` reads. Stops at --frames, --duration or Ctrl-C.
    Record(tools::RecordArgs),
    /// Convert a text capture to the binary capture format.
    Import {
        /// Text capture (gzip or plain).
        input: PathBuf,
        /// Binary capture to write.
        output: PathBuf,
    },
    /// Compare two `replay --json` reports; exit 1 when a percentile
    /// regressed beyond its threshold.
    Compare {
        /// Baseline report (JSON).
        baseline: PathBuf,
        /// New report (JSON).
        new: PathBuf,
        /// Allowed growth per percentile, e.g. `p99=10%,p999=20%`.
        #[arg(long, default_value = "p99=10%,p999=20%")]
        max_regress: String,
    },
    /// Validate conf/affinity.toml and conf/tickwire.toml and print the
    /// resolved placement.
    CheckConf {
        /// Directory holding affinity.toml and tickwire.toml (default: the
        /// built-in configuration).
        #[arg(long)]
        conf: Option<PathBuf>,
    },
    /// Audit this machine for the placement: isolcpus / nohz_full /
    /// rcu_nocbs, SMT siblings, governor and boost, C-states, IRQ affinity,
    /// transparent huge pages, swap, memlock, invariant TSC and clocksource,
    /// NUMA. Each finding OK / WARN / FAIL with its exact fix; exit 1 on FAIL.
    CheckHost {
        /// Directory holding affinity.toml and tickwire.toml (default: the
        /// built-in configuration).
        #[arg(long)]
        conf: Option<PathBuf>,
        /// Print the findings as one JSON object.
        #[arg(long)]
        json: bool,
        /// Check as for `mlockall` (memlock limit below the need is a FAIL).
        #[arg(long)]
        mlockall: bool,
    },
    /// Run the independent Binance venue simulator on loopback (its own
    /// book, matching and wire types; tools/venue-sim/PROTOCOL.md): market
    /// streams served from a capture (or the synthetic session), REST depth
    /// snapshots, signed order entry, user-data streams and fault switches.
    /// Needs TICKWIRE_API_KEY and TICKWIRE_API_SECRET (the credentials
    /// clients must sign with).
    VenueSim(tools::VenueSimCmd),
    /// Print the top levels of every book in an rkyv snapshot file
    /// (zero-copy: mmap + validated access, no deserialization).
    Snapshot {
        /// Snapshot file written by a run.
        file: PathBuf,
        /// Levels per side.
        #[arg(long, default_value_t = 10)]
        depth: usize,
    },
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Replay(args) => replay::run(args),
        Command::Demo(args) => session::demo(args),
        Command::Run(args) => session::run(args),
        Command::Import { input, output } => tools::import(&input, &output),
        Command::Record(args) => tools::record(args),
        Command::Compare {
            baseline,
            new,
            max_regress,
        } => tools::compare(&baseline, &new, &max_regress),
        Command::CheckConf { conf } => tools::check_conf(conf.as_deref()),
        Command::CheckHost {
            conf,
            json,
            mlockall,
        } => host::check_host(conf.as_deref(), json, mlockall),
        Command::Snapshot { file, depth } => tools::snapshot(&file, depth),
        Command::VenueSim(args) => tools::venue_sim(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("tickwire: {e}");
            ExitCode::from(2)
        }
    }
}
