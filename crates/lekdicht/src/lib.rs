//! The `lekdicht` binary's library half: command-line definitions and the wiring of the library
//! crates into commands (ingest pipeline, queries, demo).
//!
//! It holds no domain logic: parsing lives in `lekdicht-ingest`, storage in `lekdicht-store`, the
//! synthetic world in `lekdicht-demo`. It is a library so that integration tests can drive the same
//! code paths.

pub mod cli;
mod commands;
pub mod detection;
pub mod intake;
pub mod ledger;
pub mod pipeline;
pub mod telemetry;
pub mod terminal;

use std::process::ExitCode;

use anyhow::Result;

/// Exit code when some lines were quarantined or a source could not be read.
pub const EXIT_QUARANTINED: u8 = 3;

/// Runs one parsed command line.
pub fn run(cli: cli::Cli) -> Result<ExitCode> {
    commands::run(cli)
}
