//! The `lekdicht` command: parses arguments, opens the data directory and hands over to a command.
//!
//! Everything else lives in the library crates; this file holds no logic of its own beyond
//! wiring, exit codes and error display.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of the system allocator: ingest and scoring allocate and free millions of small
/// strings, which glibc's allocator serves markedly slower.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = lekdicht::cli::Cli::parse();
    lekdicht::telemetry::init(cli.verbose, cli.log_format);
    match lekdicht::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(1)
        }
    }
}
