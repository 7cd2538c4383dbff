//! One module per command family; each takes parsed arguments and the data directory.

mod bench;
pub(crate) mod case;
mod demo;
mod detect;
mod ingest;
mod ledger;
mod profiles;
mod quarantine;
mod query;
pub(crate) mod web;

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use lekdicht_store::SqliteStore;

use crate::cli::{Cli, Command};

pub(crate) fn open_store(data: &Path) -> Result<SqliteStore> {
    SqliteStore::open(data).with_context(|| format!("cannot open the store in {}", data.display()))
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    let data = cli.data.as_path();
    match cli.command {
        Command::Demo(args) => demo::run(data, &args),
        Command::Ingest(args) => ingest::run(data, &args),
        Command::Quarantine(cmd) => quarantine::run(data, cmd),
        Command::Timeline(args) => query::timeline(data, &args),
        Command::Accessed(args) => query::accessed(data, &args),
        Command::Status(flag) => query::status(data, flag.json),
        Command::Ledger(cmd) => ledger::run(data, cmd),
        Command::Score(args) => detect::score(data, &args),
        Command::Alerts(args) => detect::alerts(data, &args),
        Command::Explain(args) => detect::explain(data, &args),
        Command::Codes => detect::codes(),
        Command::Bench(args) => bench::run(&args),
        Command::Serve(args) => web::serve(data, &args),
        Command::User(cmd) => web::user(data, cmd),
        Command::Token(cmd) => web::token(data, cmd),
        Command::Case(cmd) => Ok(ExitCode::from(case::run(data, &cmd)?.clamp(0, 255) as u8)),
    }
}
