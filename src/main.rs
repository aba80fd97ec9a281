//! The `tickwire` binary: parses the command line and calls the library.

use mimalloc::MiMalloc;

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

fn main() -> std::process::ExitCode {
    tickwire::cli::main()
}
