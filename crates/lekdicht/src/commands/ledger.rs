//! `lekdicht ledger`: keys, checkpoints, proofs, verification and export of the event ledger.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use lekdicht_ledger::{
    Finding, LeafIdx, Log, SignedCheckpoint, TreeSize, leaf_hash, verify_consistency,
    verify_inclusion,
};
use lekdicht_store::Store;

use crate::cli::LedgerCommand;
use crate::ledger::{self, EventLedger};
use crate::terminal::clean;

fn b64(hashes: &[lekdicht_ledger::Hash]) -> Vec<String> {
    hashes.iter().map(|h| B64.encode(h.0)).collect()
}

/// The inclusion proof of a stored event against `checkpoint`, checked before it is returned: the
/// event's canonical record (the leaf data), its leaf hash, the audit path and the signed
/// checkpoint, so that anyone can verify it without lekdicht.
pub(crate) fn inclusion_proof(
    log: &Log,
    checkpoint: &SignedCheckpoint,
    stored: &lekdicht_store::StoredEvent,
) -> Result<serde_json::Value> {
    let size = checkpoint.checkpoint().size;
    if stored.seq >= size.0 {
        bail!(
            "event {} (leaf {}) is not yet covered by the checkpoint of size {}",
            stored.event.id,
            stored.seq,
            size.0
        );
    }
    let leaf = leaf_hash(&stored.canonical);
    let proof = log.inclusion_proof(LeafIdx(stored.seq), size)?;
    verify_inclusion(
        &leaf,
        LeafIdx(stored.seq),
        size,
        &proof,
        &checkpoint.checkpoint().root,
    )
    .map_err(|e| anyhow::anyhow!("the proof does not verify: {e:?}"))?;
    Ok(serde_json::json!({
        "event": stored.event.id,
        "system": stored.event.system,
        "leaf_index": stored.seq,
        "leaf_data": String::from_utf8_lossy(&stored.canonical),
        "leaf_hash": B64.encode(leaf.0),
        "tree_size": size.0,
        "inclusion_proof": b64(&proof),
        "checkpoint": checkpoint.note(),
    }))
}

pub(crate) fn run(data: &Path, cmd: LedgerCommand) -> Result<ExitCode> {
    let mut store = super::open_store(data)?;
    match cmd {
        LedgerCommand::Keygen { name } => {
            let verifier = ledger::keygen(data, &mut store, name.as_deref())?;
            println!("{verifier}");
            eprintln!(
                "the private key is in {}; give the line above to auditors and witnesses",
                ledger::ledger_dir(data).join("signing.key").display()
            );
        }
        LedgerCommand::Checkpoint => {
            let ledger = EventLedger::open(data, &mut store)?;
            match ledger.log().latest_checkpoint() {
                Some(c) => print!("{}", c.note()),
                None => bail!("no checkpoint yet: the ledger is empty"),
            }
        }
        LedgerCommand::Prove {
            event,
            system,
            size,
        } => {
            let ledger = EventLedger::open(data, &mut store)?;
            let log = ledger.log();
            let found = store.find_events(&event, system.as_deref())?;
            let stored = match found.as_slice() {
                [one] => one,
                [] => bail!("no event {event}"),
                _ => bail!(
                    "{} events have id {event}; name the system with --system",
                    found.len()
                ),
            };
            let checkpoint = pick_checkpoint(log, size)?;
            let out = inclusion_proof(log, checkpoint, stored)?;
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        LedgerCommand::Consistency { old, new } => {
            let ledger = EventLedger::open(data, &mut store)?;
            let log = ledger.log();
            let new = new.unwrap_or(log.size().0);
            if old > new || new > log.size().0 {
                bail!("need OLD <= NEW <= {} (the log size)", log.size().0);
            }
            let (old_root, new_root) = (log.root_at(TreeSize(old))?, log.root_at(TreeSize(new))?);
            let proof = log.consistency_proof(TreeSize(old), TreeSize(new))?;
            verify_consistency(TreeSize(old), TreeSize(new), &old_root, &new_root, &proof)
                .map_err(|e| anyhow::anyhow!("the proof does not verify: {e:?}"))?;
            let out = serde_json::json!({
                "old_size": old,
                "old_root": B64.encode(old_root.0),
                "new_size": new,
                "new_root": B64.encode(new_root.0),
                "consistency_proof": b64(&proof),
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        LedgerCommand::Verify { verifier } => return verify(data, &store, verifier.as_deref()),
        LedgerCommand::Export { dir } => export(data, &mut store, &dir)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn pick_checkpoint(log: &Log, size: Option<u64>) -> Result<&SignedCheckpoint> {
    match size {
        None => log
            .latest_checkpoint()
            .context("no checkpoint yet: the ledger is empty"),
        Some(size) => log
            .checkpoints()
            .iter()
            .find(|c| c.checkpoint().size.0 == size)
            .with_context(|| format!("no checkpoint was published for size {size}")),
    }
}

/// The event id stored at sequence number `seq`, for naming findings.
fn event_at(store: &dyn Store, seq: u64) -> String {
    let mut name = format!("#{seq}");
    let _ = store.for_each_event_by_seq(seq, seq + 1, &mut |e| {
        name = format!("#{seq} (event {} of {})", e.event.id, e.event.system);
        Ok(())
    });
    name
}

fn describe(store: &dyn Store, finding: &Finding) -> String {
    match finding {
        Finding::LeafMismatch { first, count } => format!(
            "{} differs from what the ledger recorded ({count} leaves differ in all): the event was altered after it was stored",
            event_at(store, first.0)
        ),
        Finding::LeafOutOfOrder { expected, found } => format!(
            "event #{} is missing from the store (deleted); the next stored event is {}",
            expected.0,
            event_at(store, found.0)
        ),
        Finding::ExtraStoredLeaves { stored, supplied } => format!(
            "the ledger records {} events but the store holds only {}: events #{}..#{} were deleted",
            stored.0,
            supplied.0,
            supplied.0,
            stored.0 - 1
        ),
        Finding::MissingStoredLeaves { stored, supplied } => format!(
            "the store holds {} events but the ledger only {}: {} was never recorded (inserted behind lekdicht's back)",
            supplied.0,
            stored.0,
            event_at(store, stored.0)
        ),
        Finding::CheckpointSignature { size } => {
            format!("the checkpoint for size {} has no valid signature", size.0)
        }
        Finding::CheckpointOrigin { size } => {
            format!("the checkpoint for size {} names another log", size.0)
        }
        Finding::CheckpointBeyondLog { size, stored } => format!(
            "a checkpoint covers {} leaves but the ledger holds only {}: the ledger was truncated",
            size.0, stored.0
        ),
        Finding::CheckpointRoot { size, .. } => format!(
            "the ledger's leaves no longer give the signed root for size {}: the ledger was rewritten",
            size.0
        ),
        Finding::CheckpointsOutOfOrder { older, newer } => format!(
            "checkpoints out of order: size {} after size {}",
            newer.0, older.0
        ),
        Finding::CheckpointsInconsistent { older, newer } => format!(
            "the checkpoints for sizes {} and {} are not consistent: history was rewritten",
            older.0, newer.0
        ),
    }
}

fn verify(data: &Path, store: &dyn Store, pinned: Option<&str>) -> Result<ExitCode> {
    let started = std::time::Instant::now();
    let ledger::EventVerification {
        log,
        verifier,
        report,
        events: n_events,
    } = ledger::verify_events(data, store, pinned)?;
    let mut problems = Vec::new();
    for p in store.check_projections()? {
        problems.push(format!(
            "event #{} ({}): the indexed column `{}` does not match the stored record: the database was edited",
            p.seq, p.id, p.field
        ));
    }
    let mut notes = Vec::new();
    for finding in &report.findings {
        // The tail of an interrupted ingest that its journal vouches for is not tampering: the
        // next command that opens the ledger appends it.
        if let Finding::MissingStoredLeaves { stored, supplied } = finding
            && ledger::journaled_tail(data, store, stored.0, supplied.0).is_ok()
        {
            notes.push(format!(
                "the store holds {} events beyond the ledger, all from an interrupted ingest whose journal vouches for them; the next ingest or `lekdicht ledger checkpoint` appends and signs them",
                supplied.0 - stored.0
            ));
            continue;
        }
        problems.push(describe(store, finding));
    }
    let signed = log.latest_checkpoint().map_or(0, |c| c.checkpoint().size.0);
    if log.torn_bytes() > 0 && log.size().0 < signed {
        problems.push(format!(
            "the ledger's leaves file ends in {} bytes of a partial leaf and holds only {} whole leaves of the {signed} signed: signed leaves were lost",
            log.torn_bytes(),
            log.size().0
        ));
    } else if log.torn_bytes() > 0 {
        notes.push(format!(
            "the ledger's leaves file ends in {} bytes of a partial leaf, beyond the last signed checkpoint (a write cut off by a crash); the next ingest cuts it off",
            log.torn_bytes()
        ));
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "checked {} events against {} ledger leaves and {} signed checkpoints (key {}) in {:.2} s",
        n_events,
        log.size().0,
        report.checkpoints_checked,
        verifier,
        started.elapsed().as_secs_f64()
    )?;
    for note in &notes {
        writeln!(out, "note: {note}")?;
    }
    if problems.is_empty() {
        writeln!(
            out,
            "the store and the ledger agree; every checkpoint verifies"
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    for p in &problems {
        writeln!(out, "TAMPERED: {}", clean(p))?;
    }
    Ok(ExitCode::from(4))
}

fn export(data: &Path, store: &mut dyn Store, dir: &Path) -> Result<()> {
    let ledger = EventLedger::open(data, store)?;
    let log = ledger.log();
    let Some(checkpoint) = log.latest_checkpoint() else {
        bail!("the ledger is empty");
    };
    let size = checkpoint.checkpoint().size.0;
    std::fs::create_dir_all(dir)?;
    // events.jsonl: line i+1 is leaf i, its record byte for byte as hashed.
    let mut events = std::io::BufWriter::new(std::fs::File::create(dir.join("events.jsonl"))?);
    let mut entries = Vec::with_capacity(size as usize);
    store.for_each_event_by_seq(0, size, &mut |e| {
        let line = format!(
            "{{\"leaf_index\":{},\"record\":{}}}\n",
            e.seq,
            String::from_utf8_lossy(&e.canonical)
        );
        events
            .write_all(line.as_bytes())
            .map_err(|err| lekdicht_store::StoreError::Callback(err.to_string()))?;
        entries.push(e.canonical);
        Ok(())
    })?;
    events.flush()?;
    let mut iter = entries.into_iter();
    let report = log.export_tiles(dir, Some(&mut iter))?;
    std::fs::write(
        dir.join("verifier.txt"),
        format!("{}\n", ledger::verifier(data, None)?),
    )?;
    println!(
        "exported {size} events (events.jsonl: leaf index and record), the checkpoint, verifier.txt and tlog-tiles to {}{}",
        dir.display(),
        report.map(|r| format!(" ({r:?})")).unwrap_or_default()
    );
    Ok(())
}
