//! The ingest pipeline: sources → parsed batches → one transaction per batch → after-commit hook.
//!
//! Three threads: a reader parses and validates lines (the CPU-heavy part), sets each event's
//! unknown-reference flags against the ids known so far (context earlier in the same run included),
//! computes each event's ledger leaf hash when asked to ([`ingest_with_leaves`]) and hands batches
//! over a bounded channel to the writer, which owns the store and does nothing but call the
//! before-commit hook (the ledger's journal, [`ingest_with_leaves`] only) and commit. Each
//! committed batch then goes, in commit order, to a third thread that calls the after-commit hook
//! (the ledger) and frees the batch, so that nothing is reported or signed before it is durable
//! while the writer already commits the next batch. Memory is bounded by a few batches, never by
//! file size.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lekdicht_ingest::{
    Defaults, Format, Item, Limits, LineError, Parsed, RecordStream, SourceFile,
};
use lekdicht_ledger::{Hash, leaf_hash};
use lekdicht_model::RecordKind;
use lekdicht_store::{
    Batch, BatchOutcome, EventOutcome, KnownIds, NewContext, NewEvent, NewQuarantine, RunTotals,
    Store, Unresolved,
};

/// What to ingest and how.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub paths: Vec<PathBuf>,
    pub kind: Option<RecordKind>,
    pub stdin_format: Format,
    pub organization: Option<String>,
    /// Records per transaction.
    pub batch_size: usize,
    /// Show a progress indicator when standard error is a terminal.
    pub progress: bool,
    /// What the run is called in the store's list of runs.
    pub description: String,
    /// Bounds on lines, decompression and times.
    pub limits: Limits,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            paths: Vec::new(),
            kind: None,
            stdin_format: Format::Ndjson,
            organization: None,
            batch_size: 20_000,
            progress: true,
            description: "ingest".to_owned(),
            limits: Limits::default(),
        }
    }
}

/// Per-source counts.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SourceReport {
    pub name: String,
    pub kind: String,
    pub totals: RunTotals,
    /// Set when the source could not be read to its end.
    pub error: Option<String>,
}

/// What a run did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct IngestReport {
    pub run: i64,
    pub sources: Vec<SourceReport>,
    pub skipped: Vec<String>,
    pub totals: RunTotals,
    /// Stored events (of any run) that name an actor, subject or case not known after this run.
    pub unresolved: u64,
    /// Quarantine entries resolved because a valid version arrived.
    pub quarantine_resolved: u64,
    /// The first few rejected lines, for the summary.
    #[serde(skip)]
    pub first_errors: Vec<String>,
    pub seconds: f64,
}

impl IngestReport {
    /// Whether anything went wrong that the user must act on.
    pub fn has_problems(&self) -> bool {
        self.totals.quarantined > 0 || self.sources.iter().any(|s| s.error.is_some())
    }
}

/// Called after each batch is committed, with the batch and what happened to it, on a thread of
/// its own, in commit order.
pub type AfterCommit<'a> = dyn FnMut(&Batch, &BatchOutcome) -> Result<()> + Send + 'a;

/// Called after each batch is committed, with the batch, what happened to it and the ledger leaf
/// hash of each of its events (`leaves[i]` belongs to `batch.events[i]`), computed by the reader.
/// It runs on a thread of its own, in commit order, so that the writer goes on with the next batch
/// meanwhile.
pub type AfterCommitLeaves<'a> =
    dyn FnMut(&Batch, &BatchOutcome, &[Hash]) -> Result<()> + Send + 'a;

/// Called on the writer's thread before each batch with events is committed, with the store's
/// next sequence number and the leaf hash of each of the batch's events: the ingest journal, which
/// must be durable before the commit.
pub type BeforeCommit<'a> = dyn FnMut(u64, &[Hash]) -> Result<()> + 'a;

enum Message {
    Start(usize),
    /// A batch of a source and the leaf hashes of its events (empty when not asked for).
    Batch(usize, Batch, Vec<Hash>),
    Failed(usize, String),
}

fn quarantine_entry(error: LineError, csv_header: Option<String>) -> NewQuarantine {
    NewQuarantine {
        kind: error.kind,
        file: error.file,
        line: error.line,
        field: error.field,
        reason: error.reason,
        raw: error.raw,
        key: error.key,
        csv_header,
    }
}

/// What the reader does besides parsing.
#[derive(Clone, Copy)]
struct ReaderTasks {
    /// Compute each event's ledger leaf hash, so that the writer does not have to.
    leaves: bool,
}

/// Hands a full batch to the writer after flagging its events' unknown references against `known`
/// and then learning the batch's own context, the order in which the writer stores them.
fn send_batch(
    tx: &mpsc::SyncSender<Message>,
    source: usize,
    mut batch: Batch,
    known: &mut KnownIds,
    tasks: ReaderTasks,
) -> Result<(), mpsc::SendError<Message>> {
    mark_unresolved(&mut batch, known);
    learn_ids(&batch, known);
    let leaves = if tasks.leaves {
        batch
            .events
            .iter()
            .map(|e| leaf_hash(&e.canonical))
            .collect()
    } else {
        Vec::new()
    };
    tx.send(Message::Batch(source, batch, leaves))
}

/// An empty batch with room for a whole batch of `kind`'s records.
fn new_batch(kind: RecordKind, batch_size: usize) -> Batch {
    let mut batch = Batch::default();
    if kind == RecordKind::Events {
        batch.events.reserve_exact(batch_size);
    }
    batch
}

/// Reads every source in order and sends batches to the writer. `known` starts as the ids the store
/// knows.
fn read_sources(
    sources: &[SourceFile],
    defaults: &Defaults,
    limits: &Limits,
    batch_size: usize,
    mut known: KnownIds,
    tasks: ReaderTasks,
    tx: &mpsc::SyncSender<Message>,
) {
    for (i, source) in sources.iter().enumerate() {
        if tx.send(Message::Start(i)).is_err() {
            return;
        }
        let stream = match RecordStream::open(source.clone(), defaults.clone(), limits.clone()) {
            Ok(s) => s,
            Err(e) => {
                let _ = tx.send(Message::Failed(i, e.to_string()));
                continue;
            }
        };
        let header = stream.csv_header().map(|h| h.join(","));
        let file: std::sync::Arc<str> = source.name.as_str().into();
        let mut batch = new_batch(source.kind, batch_size);
        for item in stream {
            match item {
                Ok(Item::Record(line, Parsed::Event(rec))) => batch.events.push(NewEvent {
                    event: rec.event,
                    canonical: rec.canonical,
                    unresolved: Unresolved::default(),
                    file: file.clone(),
                    line,
                }),
                Ok(Item::Record(_, Parsed::Context(rec))) => batch.context.push(NewContext {
                    kind: rec.value.kind(),
                    key: rec.key,
                    canonical: rec.canonical,
                }),
                Ok(Item::Bad(error)) => {
                    batch
                        .quarantine
                        .push(quarantine_entry(error, header.clone()));
                }
                Err(e) => {
                    if !batch.is_empty() {
                        let _ = send_batch(tx, i, std::mem::take(&mut batch), &mut known, tasks);
                    }
                    let _ = tx.send(Message::Failed(i, e.to_string()));
                    break;
                }
            }
            if batch.len() >= batch_size {
                let full = std::mem::replace(&mut batch, new_batch(source.kind, batch_size));
                if send_batch(tx, i, full, &mut known, tasks).is_err() {
                    return;
                }
            }
        }
        if !batch.is_empty() && send_batch(tx, i, batch, &mut known, tasks).is_err() {
            return;
        }
    }
}

fn mark_unresolved(batch: &mut Batch, known: &KnownIds) {
    for new in &mut batch.events {
        let e = &new.event;
        new.unresolved = Unresolved {
            actor: !known.employees.contains(e.actor.as_str()),
            subject: e
                .subject
                .as_ref()
                .is_some_and(|s| !known.subjects.contains(s.as_str())),
            case: e
                .case
                .as_ref()
                .is_some_and(|c| !known.cases.contains(c.as_str())),
        };
    }
}

fn learn_ids(batch: &Batch, known: &mut KnownIds) {
    for c in &batch.context {
        let set = match c.kind {
            RecordKind::Employees => &mut known.employees,
            RecordKind::Subjects | RecordKind::Vehicles => &mut known.subjects,
            RecordKind::Cases => &mut known.cases,
            _ => continue,
        };
        set.insert(c.key.clone());
    }
}

fn progress_bar(enabled: bool) -> ProgressBar {
    if !enabled || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Runs one ingest: every source, in order, into `store`; `after_commit` runs after each batch.
pub fn ingest(
    store: &mut dyn Store,
    options: &IngestOptions,
    after_commit: &mut AfterCommit<'_>,
) -> Result<IngestReport> {
    let tasks = ReaderTasks { leaves: false };
    ingest_run(
        store,
        options,
        tasks,
        &mut |_, _| Ok(()),
        &mut |batch, outcome, _| after_commit(batch, outcome),
    )
}

/// [`ingest`], with the reader also computing every event's ledger leaf hash, handed to
/// `before_commit` (the journal) before the batch is committed and to `after_commit` beside the
/// batch after.
pub fn ingest_with_leaves(
    store: &mut dyn Store,
    options: &IngestOptions,
    before_commit: &mut BeforeCommit<'_>,
    after_commit: &mut AfterCommitLeaves<'_>,
) -> Result<IngestReport> {
    let tasks = ReaderTasks { leaves: true };
    ingest_run(store, options, tasks, before_commit, after_commit)
}

fn ingest_run(
    store: &mut dyn Store,
    options: &IngestOptions,
    tasks: ReaderTasks,
    before_commit: &mut BeforeCommit<'_>,
    after_commit: &mut AfterCommitLeaves<'_>,
) -> Result<IngestReport> {
    let found = lekdicht_ingest::discover(&options.paths, options.kind, options.stdin_format)?;
    let defaults = Defaults {
        organization: options.organization.clone(),
    };
    let names: Vec<(String, String)> = found
        .sources
        .iter()
        .map(|s| (s.name.clone(), s.kind.to_string()))
        .collect();
    let skipped: Vec<String> = found.skipped.iter().map(ToString::to_string).collect();
    let sources = found.sources;
    let batch_size = options.batch_size.max(1);
    let limits = &options.limits;
    let read = move |known: KnownIds, tx: &mpsc::SyncSender<Message>| {
        read_sources(&sources, &defaults, limits, batch_size, known, tasks, tx);
    };
    let run = RunSpec {
        description: &options.description,
        progress: options.progress,
        names,
        skipped,
    };
    write_run(store, run, read, before_commit, after_commit)
}

/// Stores events that did not come from a file (the OTLP intake) through the same steps as a
/// file's: unknown references flagged, leaf hashes journaled before the commit, one transaction,
/// then the ledger. `batch` is written as one source called `name`; its records were validated by
/// the caller (`lekdicht_ingest::parse_object`), its quarantine entries are kept as they are.
pub fn ingest_batch(
    store: &mut dyn Store,
    description: &str,
    name: &str,
    batch: Batch,
    before_commit: &mut BeforeCommit<'_>,
    after_commit: &mut AfterCommitLeaves<'_>,
) -> Result<IngestReport> {
    let tasks = ReaderTasks { leaves: true };
    let read = move |mut known: KnownIds, tx: &mpsc::SyncSender<Message>| {
        if tx.send(Message::Start(0)).is_ok() && !batch.is_empty() {
            let _ = send_batch(tx, 0, batch, &mut known, tasks);
        }
    };
    let run = RunSpec {
        description,
        progress: false,
        names: vec![(name.to_owned(), RecordKind::Events.to_string())],
        skipped: Vec::new(),
    };
    write_run(store, run, read, before_commit, after_commit)
}

/// What a run is called and which sources it reads.
struct RunSpec<'a> {
    description: &'a str,
    progress: bool,
    /// Name and kind of each source, in the order the reader sends them.
    names: Vec<(String, String)>,
    skipped: Vec<String>,
}

/// The writer's side of a run: `read` runs on a thread of its own and sends batches; each is
/// journaled (`before_commit`), committed and handed to `after_commit` in commit order.
fn write_run(
    store: &mut dyn Store,
    spec: RunSpec<'_>,
    read: impl FnOnce(KnownIds, &mpsc::SyncSender<Message>) + Send,
    before_commit: &mut BeforeCommit<'_>,
    after_commit: &mut AfterCommitLeaves<'_>,
) -> Result<IngestReport> {
    let started = Instant::now();
    let run = store
        .begin_run(spec.description)
        .context("cannot record the ingest run")?;
    let mut report = IngestReport {
        run: run.0,
        skipped: spec.skipped,
        sources: spec
            .names
            .into_iter()
            .map(|(name, kind)| SourceReport {
                name,
                kind,
                ..SourceReport::default()
            })
            .collect(),
        ..IngestReport::default()
    };
    let known = store.known_ids()?;
    let bar = progress_bar(spec.progress);
    let (tx, rx) = mpsc::sync_channel::<Message>(4);
    let result: Result<()> = std::thread::scope(|scope| {
        scope.spawn(move || read(known, &tx));
        // The after-commit hook (the ledger: hashing, fsync, signing) and freeing a batch's many
        // small allocations run on their own thread, in commit order, so that the writer does
        // nothing but write. A hook that fails stops the run; what was committed stays stored
        // (the ledger catches up with the store when it is next opened).
        let (done_tx, done_rx) = mpsc::sync_channel::<(Batch, BatchOutcome, Vec<Hash>)>(2);
        let hook = scope.spawn(move || -> Result<()> {
            for (batch, outcome, leaves) in done_rx {
                after_commit(&batch, &outcome, &leaves)?;
            }
            Ok(())
        });
        let written = (|| -> Result<()> {
            for message in rx {
                match message {
                    Message::Start(i) => {
                        bar.set_message(format!("reading {}", report.sources[i].name));
                    }
                    Message::Failed(i, error) => report.sources[i].error = Some(error),
                    Message::Batch(i, batch, leaves) => {
                        if !leaves.is_empty() {
                            before_commit(store.event_count()?, &leaves)?;
                        }
                        let outcome = store.write_batch(run, &batch)?;
                        report.quarantine_resolved += outcome.quarantine_resolved;
                        for q in &batch.quarantine {
                            if report.first_errors.len() < 10 {
                                let field = q
                                    .field
                                    .as_deref()
                                    .map(|f| format!(": field `{f}`"))
                                    .unwrap_or_default();
                                report
                                    .first_errors
                                    .push(format!("{}:{}{field}: {}", q.file, q.line, q.reason));
                            }
                        }
                        let source = &mut report.sources[i];
                        let t = &mut source.totals;
                        t.read += batch.len() as u64;
                        for o in &outcome.events {
                            match o {
                                EventOutcome::Stored(_) => t.stored += 1,
                                EventOutcome::Duplicate => t.duplicates += 1,
                                EventOutcome::Conflict => {}
                            }
                        }
                        t.stored += outcome.context_inserted + outcome.context_updated;
                        t.duplicates += outcome.context_unchanged;
                        t.context_inserted += outcome.context_inserted;
                        t.context_updated += outcome.context_updated;
                        t.context_unchanged += outcome.context_unchanged;
                        t.quarantined += outcome.quarantined;
                        let name = &source.name;
                        bar.set_message(format!(
                            "{name}: {} read, {} stored, {} duplicates, {} quarantined",
                            t.read, t.stored, t.duplicates, t.quarantined
                        ));
                        if done_tx.send((batch, outcome, leaves)).is_err() {
                            // The hook failed; its error is reported below.
                            break;
                        }
                    }
                }
            }
            Ok(())
        })();
        drop(done_tx);
        let hooked = hook
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the after-commit thread panicked")));
        written.and(hooked)
    });
    bar.finish_and_clear();
    result?;
    for s in &report.sources {
        let t = &mut report.totals;
        t.read += s.totals.read;
        t.stored += s.totals.stored;
        t.duplicates += s.totals.duplicates;
        t.quarantined += s.totals.quarantined;
        t.context_inserted += s.totals.context_inserted;
        t.context_updated += s.totals.context_updated;
        t.context_unchanged += s.totals.context_unchanged;
    }
    report.unresolved = if report.totals.context_inserted + report.totals.context_updated > 0 {
        store.refresh_unresolved()?
    } else {
        store.status()?.events_unresolved
    };
    store.finish_run(run, &report.totals)?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
