//! Wiring of the tamper-evident ledger into the data directory: where the logs and the signing key
//! live, how the event log catches up with the store after a crash, and how each committed ingest
//! batch becomes leaves and a signed checkpoint.
//!
//! Layout: `<data>/ledger/events` (one leaf per stored access event, leaf index = sequence number),
//! `<data>/ledger/audit` (one leaf per action of lekdicht's own users), `<data>/ledger/signing.key`
//! (Ed25519, mode 0600, created on first use) and `<data>/ledger/verifier.txt` (the public key in
//! the C2SP verifier-key form, for auditors). The ledger crate does the cryptography; this module
//! only decides what goes in and when.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use lekdicht_ledger::{Hash, Log, Signer, Verifier, VerifyReport, leaf_hash, verify_leaves};
use lekdicht_store::{Batch, BatchOutcome, EventOutcome, Store};

/// Settings key holding the ledger's key name.
const NAME_KEY: &str = "ledger_name";

pub fn ledger_dir(data: &Path) -> PathBuf {
    data.join("ledger")
}

fn key_path(data: &Path) -> PathBuf {
    ledger_dir(data).join("signing.key")
}

fn verifier_path(data: &Path) -> PathBuf {
    ledger_dir(data).join("verifier.txt")
}

/// The key name used when none was chosen with `lekdicht ledger keygen --name`.
fn default_name(data: &Path) -> String {
    let dir = std::fs::canonicalize(data)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "data".to_owned());
    let dir: String = dir
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("lekdicht.local/{dir}")
}

/// The origin line of one of the two logs.
pub fn origin(name: &str, log: &str) -> String {
    format!("{name}/{log}")
}

/// Creates the signing key (and the public verifier file). Fails if a key exists.
pub fn keygen(data: &Path, store: &mut dyn Store, name: Option<&str>) -> Result<Verifier> {
    let path = key_path(data);
    if path.exists() {
        bail!(
            "{} exists already; a ledger keeps its key for life (a new key would not verify the checkpoints already published)",
            path.display()
        );
    }
    std::fs::create_dir_all(ledger_dir(data))?;
    let name = name.map_or_else(|| default_name(data), str::to_owned);
    let signer = Signer::create_key_file(&path, &name)
        .with_context(|| format!("cannot create the signing key {}", path.display()))?;
    let verifier = signer.verifier();
    std::fs::write(verifier_path(data), format!("{verifier}\n"))?;
    store.set_setting(NAME_KEY, &name)?;
    tracing::info!(key = %verifier, "created the ledger signing key");
    Ok(verifier)
}

/// Loads the signing key, creating it on first use.
fn signer(data: &Path, store: &mut dyn Store) -> Result<Signer> {
    let path = key_path(data);
    if !path.exists() {
        keygen(data, store, None)?;
    }
    Signer::load_key_file(&path)
        .with_context(|| format!("cannot load the signing key {}", path.display()))
}

/// The verifier key: the one an auditor pinned (`--verifier`), or the data directory's own.
pub fn verifier(data: &Path, pinned: Option<&str>) -> Result<Verifier> {
    if let Some(pinned) = pinned {
        return pinned
            .parse()
            .map_err(|e| anyhow::anyhow!("--verifier is not a verifier key: {e:?}"));
    }
    let path = verifier_path(data);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {} (has anything been ingested?)",
            path.display()
        )
    })?;
    text.trim()
        .parse()
        .map_err(|e| anyhow::anyhow!("{} holds no verifier key: {e:?}", path.display()))
}

/// The key name recorded in the store (or the default).
pub fn name(data: &Path, store: &dyn Store) -> Result<String> {
    Ok(store
        .setting(NAME_KEY)?
        .unwrap_or_else(|| default_name(data)))
}

/// File of the ingest journal inside the event log's directory.
const JOURNAL_FILE: &str = "pending";

/// The ingest journal: before a batch is committed to the store, the leaf hashes of the events it
/// may store are written here and synced. A crash between the store's commit and the ledger's
/// append then leaves the ledger behind by a tail of events that the journal vouches for, and the
/// next open appends exactly those. Anything else the store holds beyond the ledger did not arrive
/// through ingest, and is refused, never signed.
///
/// One record per batch: the store's next sequence number before the batch (u64, little endian),
/// the number of candidate leaves (u32), the leaves (32 bytes each) and the leaf hash of all that
/// (a checksum, so that a record torn by a crash is recognised and ignored: its batch was never
/// committed, because the commit waits for the record to be synced).
pub struct Journal {
    file: std::fs::File,
}

/// One batch's record in the journal.
struct JournalRecord {
    first_seq: u64,
    leaves: Vec<Hash>,
}

impl Journal {
    fn path(data: &Path) -> PathBuf {
        ledger_dir(data).join("events").join(JOURNAL_FILE)
    }

    /// Opens the journal for appending (creating it).
    pub fn open(data: &Path) -> Result<Self> {
        let path = Self::path(data);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("cannot open the ingest journal {}", path.display()))?;
        Ok(Journal { file })
    }

    /// Records, durably, that a batch whose events have these `leaves` is about to be committed
    /// with sequence numbers from `first_seq`. Called before the store commits it.
    pub fn record(&mut self, first_seq: u64, leaves: &[Hash]) -> Result<()> {
        if leaves.is_empty() {
            return Ok(());
        }
        let mut bytes = Vec::with_capacity(12 + 32 * leaves.len() + 32);
        bytes.extend_from_slice(&first_seq.to_le_bytes());
        bytes.extend_from_slice(&u32::try_from(leaves.len())?.to_le_bytes());
        for leaf in leaves {
            bytes.extend_from_slice(&leaf.0);
        }
        let check = leaf_hash(&bytes);
        bytes.extend_from_slice(&check.0);
        self.file.write_all(&bytes)?;
        self.file.sync_data()?;
        Ok(())
    }

    /// The complete records of the journal, oldest first; a torn or damaged tail is left out.
    fn read(data: &Path) -> Result<Vec<JournalRecord>> {
        let bytes = match std::fs::read(Self::path(data)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let mut records = Vec::new();
        let mut rest = bytes.as_slice();
        while rest.len() >= 12 {
            let first_seq = u64::from_le_bytes(rest[..8].try_into()?);
            let count = u32::from_le_bytes(rest[8..12].try_into()?) as usize;
            let end = 12 + 32 * count;
            let Some(check) = rest.get(end..end + 32) else {
                break;
            };
            if leaf_hash(&rest[..end]).0 != check {
                break;
            }
            let leaves = rest[12..end]
                .chunks_exact(32)
                .filter_map(Hash::from_slice)
                .collect();
            records.push(JournalRecord { first_seq, leaves });
            rest = &rest[end + 32..];
        }
        Ok(records)
    }

    /// Empties the journal once the ledger holds every event the store holds.
    fn clear(data: &Path) -> Result<()> {
        let path = Self::path(data);
        if path.exists() {
            let file = std::fs::OpenOptions::new().write(true).open(&path)?;
            file.set_len(0)?;
            file.sync_all()?;
        }
        Ok(())
    }
}

/// The event log, open for appending, caught up with the store.
pub struct EventLedger {
    log: Log,
}

impl EventLedger {
    /// Opens the event log and appends the leaves of events that an interrupted ingest committed
    /// to the store but not to the log, when the ingest journal vouches for every one of them, then
    /// signs a checkpoint for them.
    ///
    /// Refuses, signing nothing, when the store and the log disagree in any other way: the log
    /// holds more leaves than the store has events (events were removed from the store), the
    /// store holds events that the log and the journal do not know (inserted behind lekdicht's
    /// back, or the log was deleted), or the log's files were damaged.
    pub fn open(data: &Path, store: &mut dyn Store) -> Result<Self> {
        let dir = ledger_dir(data).join("events");
        let stored = store.event_count()?;
        if stored > 0
            && (!key_path(data).exists() || !dir.join(lekdicht_ledger::LEAVES_FILE).exists())
        {
            bail!(
                "the store holds {stored} events but the event ledger in {} is missing: the ledger is the record of what was ingested, and it is not rebuilt from the store; nothing was signed. Restore the ledger directory from a backup, and run `lekdicht ledger verify` to compare it with the store",
                ledger_dir(data).display()
            );
        }
        let signer = signer(data, store)?;
        let name = name(data, store)?;
        std::fs::create_dir_all(&dir)?;
        let log = Log::open(&dir, &origin(&name, "events"), Some(signer))
            .map_err(|e| explain_open_error(&dir, e))?;
        if log.torn_bytes() > 0 {
            let signed = log.latest_checkpoint().map_or(0, |c| c.checkpoint().size.0);
            eprintln!(
                "warning: the event ledger ends in {} bytes of a partial leaf (a write cut off by a crash, or a damaged file); it lies beyond the last signed checkpoint (size {signed}; the ledger holds {} whole leaves), so nothing signed was lost; the partial leaf is cut off",
                log.torn_bytes(),
                log.size().0
            );
        }
        if log.torn_history_bytes() > 0 {
            eprintln!(
                "warning: the event ledger's checkpoint history ends in {} bytes of a partial line (a checkpoint write cut off by a crash, never returned to anyone); it is left out, and cut off when the next checkpoint is written",
                log.torn_history_bytes()
            );
        }
        let mut ledger = EventLedger { log };
        ledger.catch_up(data, store)?;
        Ok(ledger)
    }

    fn catch_up(&mut self, data: &Path, store: &dyn Store) -> Result<()> {
        let stored = store.event_count()?;
        let logged = self.log.size().0;
        if logged > stored {
            bail!(
                "the event ledger holds {logged} leaves but the store only {stored} events: events were removed from the store; nothing was signed. Run `lekdicht ledger verify` to see which"
            );
        }
        if logged < stored {
            let hashes = journaled_tail(data, store, logged, stored)?;
            tracing::warn!(
                logged,
                stored,
                "the ledger is behind the store by the events of an interrupted ingest, all in its journal; appending them"
            );
            for chunk in hashes.chunks(100_000) {
                self.log.append(chunk)?;
            }
        }
        self.log.checkpoint()?;
        Journal::clear(data)?;
        Ok(())
    }

    /// Appends the batch's newly stored events (in sequence order) and signs a checkpoint.
    /// Called only after the batch's transaction committed.
    pub fn after_commit(&mut self, batch: &Batch, outcome: &BatchOutcome) -> Result<()> {
        self.append_stored(batch, outcome, |i| leaf_hash(&batch.events[i].canonical))
    }

    /// [`EventLedger::after_commit`] with the leaf hash of every event of the batch already
    /// computed (`leaves[i]` is the leaf of `batch.events[i]`), so that the caller can hash on
    /// another thread while the store writes. Called only after the batch's transaction committed.
    pub fn after_commit_with_leaves(
        &mut self,
        batch: &Batch,
        outcome: &BatchOutcome,
        leaves: &[Hash],
    ) -> Result<()> {
        if leaves.len() != batch.events.len() {
            bail!(
                "{} leaf hashes for a batch of {} events",
                leaves.len(),
                batch.events.len()
            );
        }
        self.append_stored(batch, outcome, |i| leaves[i])
    }

    fn append_stored(
        &mut self,
        batch: &Batch,
        outcome: &BatchOutcome,
        leaf: impl Fn(usize) -> Hash,
    ) -> Result<()> {
        let mut hashes: Vec<Hash> = Vec::with_capacity(batch.events.len());
        for (i, result) in outcome.events.iter().enumerate().take(batch.events.len()) {
            if let EventOutcome::Stored(seq) = result {
                let expected = self.log.size().0 + hashes.len() as u64;
                if *seq != expected {
                    bail!(
                        "event sequence {seq} does not follow the ledger (expected {expected}); run `lekdicht ledger verify`"
                    );
                }
                hashes.push(leaf(i));
            }
        }
        if hashes.is_empty() {
            return Ok(());
        }
        self.log.append(&hashes)?;
        self.log.checkpoint()?;
        Ok(())
    }

    pub fn log(&self) -> &Log {
        &self.log
    }
}

/// The leaf hashes of stored events `logged..stored`, when the ingest journal vouches for each of
/// them: every stored event of a journaled batch is one of that batch's candidates, in order.
/// Otherwise the error names the first event that did not arrive through ingest.
pub fn journaled_tail(
    data: &Path,
    store: &dyn Store,
    logged: u64,
    stored: u64,
) -> Result<Vec<Hash>> {
    let records = Journal::read(data)?;
    let mut hashes = Vec::with_capacity((stored - logged) as usize);
    let mut first_unvouched: Option<(u64, String)> = None;
    // The record covering a sequence number is the last one starting at or before it; within it,
    // candidates are consumed in order.
    let mut at = (usize::MAX, 0usize);
    store.for_each_event_by_seq(logged, stored, &mut |e| {
        if first_unvouched.is_some() {
            return Ok(());
        }
        let leaf = leaf_hash(&e.canonical);
        let record = records.iter().rposition(|r| r.first_seq <= e.seq);
        let found = record.and_then(|r| {
            let start = if at.0 == r { at.1 } else { 0 };
            let offset = records[r].leaves[start..].iter().position(|h| *h == leaf)?;
            Some((r, start + offset + 1))
        });
        match found {
            Some(next) => {
                at = next;
                hashes.push(leaf);
            }
            None => {
                first_unvouched = Some((e.seq, format!("{} of {}", e.event.id, e.event.system)));
            }
        }
        Ok(())
    })?;
    if let Some((seq, event)) = first_unvouched {
        bail!(
            "the store holds {stored} events but the event ledger only {logged}, and event #{seq} (event {event}) did not arrive through ingest: it is in neither the ledger nor the journal of an interrupted ingest. The ledger is the record; nothing was appended or signed. Run `lekdicht ledger verify` to list every difference, compare the database with a backup or an earlier export, and remove what was inserted behind lekdicht's back"
        );
    }
    Ok(hashes)
}

/// An error of opening the event log in words an operator can act on.
fn explain_open_error(dir: &Path, error: lekdicht_ledger::OpenError) -> anyhow::Error {
    match error {
        lekdicht_ledger::OpenError::Tampered {
            size,
            recomputed: None,
            ..
        } => anyhow::anyhow!(
            "the event ledger in {} holds fewer leaves than its last signed checkpoint (size {}): signed leaves were lost (a truncated or torn file); nothing was signed, and the ledger is not shortened below a signed checkpoint. Restore {} from a backup and run `lekdicht ledger verify`",
            dir.display(),
            size.0,
            dir.display()
        ),
        other => anyhow::Error::new(other).context(format!(
            "cannot open the event ledger in {}; nothing was signed; run `lekdicht ledger verify`",
            dir.display()
        )),
    }
}

/// The outcome of checking every stored event against the event log.
pub struct EventVerification {
    pub log: Log,
    pub verifier: Verifier,
    pub report: VerifyReport,
    pub events: u64,
}

/// Opens the event log for inspection (it must exist) and recomputes every stored event's leaf
/// against it and against every signed checkpoint, with the pinned verifier key or the data
/// directory's own.
pub fn verify_events(
    data: &Path,
    store: &dyn Store,
    pinned: Option<&str>,
) -> Result<EventVerification> {
    let verifier = verifier(data, pinned)?;
    let name = name(data, store)?;
    let dir = ledger_dir(data).join("events");
    if !dir.join(lekdicht_ledger::LEAVES_FILE).exists() {
        let stored = store.event_count()?;
        if stored > 0 {
            bail!(
                "TAMPERED: the store holds {stored} events but the event ledger {} is missing; restore it from a backup",
                dir.display()
            );
        }
        bail!(
            "{} has no event ledger yet; ingest something first",
            data.display()
        );
    }
    let log = Log::open_for_audit(&dir, &origin(&name, "events"))
        .with_context(|| format!("cannot open the event ledger in {}", dir.display()))?;
    let mut leaves = Vec::new();
    store.for_each_event_by_seq(0, u64::MAX, &mut |e| {
        leaves.push((e.seq, e.canonical));
        Ok(())
    })?;
    let events = leaves.len() as u64;
    let report = verify_leaves(&log, leaves.into_iter(), &verifier)?;
    Ok(EventVerification {
        log,
        verifier,
        report,
        events,
    })
}

/// Appends one record of a user's action to the audit log and signs a checkpoint.
///
/// The record is the RFC 8785 form of `action` plus `at` (now) and `by` (the operating-system user
/// running the command, or `LEKDICHT_USER`).
pub fn record_action(
    data: &Path,
    store: &mut dyn Store,
    mut action: serde_json::Value,
) -> Result<()> {
    let by = std::env::var("LEKDICHT_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".to_owned());
    if let Some(obj) = action.as_object_mut() {
        obj.insert(
            "at".to_owned(),
            chrono::Utc::now()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                .into(),
        );
        obj.insert("by".to_owned(), by.into());
    }
    let bytes = lekdicht_ledger::canonical_json(&action);
    append_audit_records(data, store, &[bytes])?;
    Ok(())
}

/// Appends records to the audit log (`<data>/ledger/audit`), keeping each record's bytes in
/// `records.jsonl` beside the leaf hashes, and signs a checkpoint. Returns the leaf index of the
/// first record. The review web application calls this in batches for its audit trail.
pub fn append_audit_records(
    data: &Path,
    store: &mut dyn Store,
    records: &[Vec<u8>],
) -> Result<u64> {
    let signer = signer(data, store)?;
    let name = name(data, store)?;
    let dir = ledger_dir(data).join("audit");
    std::fs::create_dir_all(&dir)?;
    let mut log = Log::open(&dir, &origin(&name, "audit"), Some(signer))
        .with_context(|| format!("cannot open the audit ledger in {}", dir.display()))?;
    let first = log.size().0;
    if records.is_empty() {
        return Ok(first);
    }
    // The leaf data is kept beside the hashes (so that the log can be read and verified), and
    // written first: a crash in between leaves a record without a leaf, which verification shows,
    // never a leaf whose record is lost.
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("records.jsonl"))?;
    let mut hashes = Vec::with_capacity(records.len());
    for bytes in records {
        file.write_all(bytes)?;
        file.write_all(b"\n")?;
        hashes.push(leaf_hash(bytes));
    }
    file.sync_all()?;
    log.append(&hashes)?;
    log.checkpoint()?;
    Ok(first)
}
