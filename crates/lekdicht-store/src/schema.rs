//! The SQLite schema and its migrations, applied in order and recorded in `PRAGMA user_version`.
//!
//! A migration is never edited once released; a change is a new entry at the end.

/// Each entry moves the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    CORE,
    crate::review::SCHEMA,
    crate::cases::SCHEMA,
    crate::cases::REPORT_SCHEMA,
    crate::review::GRANTS_SCHEMA,
    crate::signin::SCHEMA,
    crate::intake::SCHEMA,
];

/// Events, context, quarantine, runs, scores and alerts.
const CORE: &str = r#"
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    totals      TEXT
);

-- Access events. seq is the 0-based position in the ledger; record holds the RFC 8785 bytes of the
-- stored event (the ledger's leaf data); the other columns are projections of it for queries.
CREATE TABLE events (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL,
    system       TEXT NOT NULL,
    time_ms      INTEGER NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    subject      TEXT,
    case_id      TEXT,
    unresolved   INTEGER NOT NULL,
    run          INTEGER NOT NULL,
    record       BLOB NOT NULL
);
-- Maintained on every insert: the (id, system) key (ids mostly arrive in order, so inserts land at
-- the right edge of the tree) and the few events with unknown references.
CREATE UNIQUE INDEX events_by_id ON events (id, system);
CREATE INDEX events_unresolved ON events (seq) WHERE unresolved != 0;

-- Access paths by actor, subject and time, built in bulk ("sealed") rather than row by row: they hold
-- exactly the events with seq < index_state.sealed_upto. Queries read them plus a bounded scan of
-- the unsealed tail (seq >= sealed_upto). A seal moves sealed_upto in the same transaction that
-- fills them, so a crash leaves a longer tail, never a gap or a double.
--
-- postings: per sealed segment (first_seq = its first sequence number) and per actor (kind 0) or
-- subject (kind 1), the segment's (seq, time_ms) pairs of that key, delta-encoded varints.
CREATE TABLE postings (
    kind      INTEGER NOT NULL,
    key       TEXT NOT NULL,
    first_seq INTEGER NOT NULL,
    entries   BLOB NOT NULL,
    PRIMARY KEY (kind, key, first_seq)
) WITHOUT ROWID;
-- events_by_time: (time_ms, seq) of every sealed event; filled in sequence order, which for events
-- that arrive roughly in time order appends at the right edge.
CREATE TABLE events_by_time (
    time_ms INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (time_ms, seq)
) WITHOUT ROWID;
CREATE TABLE index_state (
    id          INTEGER PRIMARY KEY CHECK (id = 0),
    sealed_upto INTEGER NOT NULL
);
INSERT INTO index_state (id, sealed_upto) VALUES (0, 0);


-- Current context records, one per (kind, key), and the versions they replaced.
CREATE TABLE context (
    kind        TEXT NOT NULL,
    key         TEXT NOT NULL,
    record      BLOB NOT NULL,
    run         INTEGER NOT NULL,
    first_seen  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE TABLE context_history (
    kind           TEXT NOT NULL,
    key            TEXT NOT NULL,
    record         BLOB NOT NULL,
    run            INTEGER NOT NULL,
    replaced_at    TEXT NOT NULL,
    replaced_by_run INTEGER NOT NULL
);
CREATE INDEX context_history_by_key ON context_history (kind, key);

CREATE TABLE quarantine (
    id          INTEGER PRIMARY KEY,
    run         INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    file        TEXT NOT NULL,
    line        INTEGER NOT NULL,
    field       TEXT,
    reason      TEXT NOT NULL,
    raw         BLOB NOT NULL,
    key         TEXT,
    csv_header  TEXT,
    created_at  TEXT NOT NULL,
    resolved_at TEXT,
    resolution  TEXT
);
CREATE INDEX quarantine_open ON quarantine (kind, key) WHERE resolved_at IS NULL;

-- The latest detection run's output: one score line (contract section 3) per event, and alerts.
-- Alert decisions (status) survive a new run when the alert keeps its id.
CREATE TABLE scores (
    seq    INTEGER PRIMARY KEY,
    score  REAL NOT NULL,
    line   TEXT NOT NULL
);
CREATE TABLE alerts (
    id         TEXT PRIMARY KEY,
    actor      TEXT NOT NULL,
    score      REAL NOT NULL,
    from_ms    INTEGER NOT NULL,
    until_ms   INTEGER NOT NULL,
    status     TEXT NOT NULL,
    line       TEXT NOT NULL,
    detected_at TEXT NOT NULL,
    current    INTEGER NOT NULL
);
CREATE INDEX alerts_by_score ON alerts (current, score DESC);
CREATE INDEX alerts_by_actor ON alerts (actor);
"#;
