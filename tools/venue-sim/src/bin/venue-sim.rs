//! Standalone Binance venue simulator: `venue-sim [FLAGS] CAPTURE...`.

use std::process::ExitCode;

use clap::Parser;

/// Serves Binance-shaped REST and WebSocket endpoints replaying captures.
#[derive(Parser)]
#[command(name = "venue-sim", version, about)]
struct Cmd {
    #[command(flatten)]
    args: venue_sim::VenueSimArgs,
}

fn main() -> ExitCode {
    match venue_sim::run_cli(Cmd::parse().args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("venue-sim: {e}");
            ExitCode::from(2)
        }
    }
}
