//! Writes a generated world as contract files (NDJSON, one record per line) plus the answer key and
//! the employee groups used for evaluation.
//!
//! Files are written with buffered writers in the world's own order, so the same world always gives
//! byte-identical files. Nothing is compressed and nothing is read back here.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::World;

/// One written file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    /// File name, e.g. `events.ndjson`.
    pub name: &'static str,
    pub path: PathBuf,
    /// Number of lines (records) written.
    pub records: usize,
}

/// Everything `write_world` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorldFiles {
    pub dir: PathBuf,
    pub files: Vec<WrittenFile>,
}

impl WorldFiles {
    /// The file with this name, if written.
    pub fn get(&self, name: &str) -> Option<&WrittenFile> {
        self.files.iter().find(|f| f.name == name)
    }

    /// Paths of the contract files only (without answer key and groups), in ingest order.
    pub fn contract_paths(&self) -> Vec<&Path> {
        self.files
            .iter()
            .filter(|f| !matches!(f.name, ANSWER_KEY_FILE | GROUPS_FILE))
            .map(|f| f.path.as_path())
            .collect()
    }
}

/// Name of the answer-key file.
pub const ANSWER_KEY_FILE: &str = "answer-key.ndjson";
/// Name of the employee-groups file.
pub const GROUPS_FILE: &str = "groups.ndjson";

fn write_lines<'a, T: Serialize + 'a>(
    dir: &Path,
    name: &'static str,
    records: impl IntoIterator<Item = &'a T>,
) -> io::Result<WrittenFile> {
    let path = dir.join(name);
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&path)?);
    let mut count = 0;
    for record in records {
        serde_json::to_writer(&mut out, record).map_err(io::Error::other)?;
        out.write_all(b"\n")?;
        count += 1;
    }
    out.flush()?;
    Ok(WrittenFile {
        name,
        path,
        records: count,
    })
}

/// Writes the world into `dir` (created if missing): `units.ndjson`, `employees.ndjson`,
/// `subjects.ndjson`, `vehicles.ndjson`, `relations.ndjson`, `cases.ndjson`, `shifts.ndjson`,
/// `events.ndjson`, `answer-key.ndjson` and `groups.ndjson`. Existing files are replaced.
///
/// # Errors
/// Any error creating the directory or writing a file.
pub fn write_world(world: &World, dir: &Path) -> io::Result<WorldFiles> {
    std::fs::create_dir_all(dir)?;
    let files = vec![
        write_lines(dir, "units.ndjson", &world.units)?,
        write_lines(dir, "employees.ndjson", &world.employees)?,
        write_lines(dir, "subjects.ndjson", &world.subjects)?,
        write_lines(dir, "vehicles.ndjson", &world.vehicles)?,
        write_lines(dir, "relations.ndjson", &world.relations)?,
        write_lines(dir, "cases.ndjson", &world.cases)?,
        write_lines(dir, "shifts.ndjson", &world.shifts)?,
        write_lines(dir, "events.ndjson", &world.events)?,
        write_lines(dir, ANSWER_KEY_FILE, &world.answer_key.violations)?,
        write_lines(dir, GROUPS_FILE, &world.groups)?,
    ];
    Ok(WorldFiles {
        dir: dir.to_path_buf(),
        files,
    })
}
