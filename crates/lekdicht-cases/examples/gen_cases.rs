//! Writes a CSV file of generated historic cases in the import layout, with a few deliberately bad
//! lines, for trying `lekdicht case import`.
//!
//! Usage: `cargo run -p lekdicht-cases --example gen_cases -- OUT.csv [N] [BAD_EVERY]`
//! (defaults: 10000 cases, a bad line every 997 lines). Prints the bad lines to stderr.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else {
        eprintln!("usage: gen_cases OUT.csv [N] [BAD_EVERY]");
        return ExitCode::from(2);
    };
    let n = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let bad_every = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(997);
    let generated = match lekdicht_cases::generate::historic_csv(n, 2016, bad_every) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let bad = &generated.bad_lines;
    if let Err(e) = std::fs::write(out, &generated.csv) {
        eprintln!("cannot write {out}: {e}");
        return ExitCode::FAILURE;
    }
    for (line, field) in bad {
        eprintln!("bad line {line}: {field}");
    }
    eprintln!("wrote {n} cases to {out} ({} bad lines)", bad.len());
    ExitCode::SUCCESS
}
