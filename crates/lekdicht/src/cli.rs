//! The command line: every subcommand, option and its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// lekdicht: a complete, tamper-evident record of who looked up whose data, every access explained
/// by its context or flagged with plain reasons.
#[derive(Debug, Parser)]
#[command(
    name = "lekdicht",
    version,
    about,
    long_about = None,
    propagate_version = true,
    after_help = "New here? `lekdicht demo` builds a synthetic police region, ingests a month of its access logs, scores them and shows what to look at first."
)]
pub struct Cli {
    /// Data directory (created if missing).
    #[arg(
        long,
        global = true,
        env = "LEKDICHT_DATA",
        default_value = "lekdicht-data"
    )]
    pub data: PathBuf,

    /// More log output on standard error (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Log format on standard error: text, or json (one object per line; a web request's lines
    /// carry its request id).
    #[arg(
        long,
        global = true,
        env = "LEKDICHT_LOG_FORMAT",
        value_enum,
        default_value_t
    )]
    pub log_format: crate::telemetry::LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a synthetic police region with a month of access logs, ingest it and show the
    /// first things to look at.
    Demo(DemoArgs),
    /// Read contract files (events and context; NDJSON, CSV, gzip; files, directories or - for
    /// standard input) into the store. Exits with 3 when any line was quarantined.
    Ingest(IngestArgs),
    /// Rejected lines: list them, export them for fixing, fix or resolve them.
    #[command(subcommand)]
    Quarantine(QuarantineCommand),
    /// What one employee looked at, in time order.
    Timeline(TimelineArgs),
    /// Who looked at one person's data (and vehicles they hold), when and why: the view an access
    /// request or a breach notification needs.
    Accessed(AccessedArgs),
    /// What the data directory holds.
    Status(JsonFlag),
    /// Score every event (or a time range): explanations, suspicion signals, a score in [0, 1];
    /// store the scores and alerts and print the score lines (NDJSON, contract section 3).
    Score(ScoreArgs),
    /// The alerts of the latest scoring run, highest score first.
    Alerts(AlertsArgs),
    /// Every explanation and signal that applied to one event, and why the others did not.
    Explain(ExplainArgs),
    /// The stable explanation and signal codes with their meaning.
    Codes,
    /// Measure the whole pipeline on a generated world (in a temporary directory): generate,
    /// ingest with the ledger on, score, verify.
    Bench(BenchArgs),
    /// The tamper-evident record: signed checkpoints, proofs, verification, export.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Run the review web application (alert queue, decisions, reveals, audit trail).
    Serve(ServeArgs),
    /// Accounts of the review web application.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens of the review web application.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The integrity-case registry: import historic cases from CSV, list, show, report, draft the
    /// data-breach notification, purge cases past their retention date.
    #[command(subcommand)]
    Case(crate::commands::case::CaseCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Address of a reverse proxy whose X-Forwarded-For header names the client, for login
    /// throttling per client (repeatable).
    #[arg(long = "trusted-proxy")]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// A file holding the bearer token that /metrics asks for (instead of
    /// LEKDICHT_METRICS_TOKEN); without either, /metrics answers only clients on this computer.
    #[arg(long, env = "LEKDICHT_METRICS_TOKEN_FILE")]
    pub metrics_token_file: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub sso: SsoArgs,
    /// How long an LDV span received over OTLP (`/v1/traces`) waits for the audit-log record with
    /// its trace id before it is stored with an unknown actor (`30s`, `2m`, `500ms`).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub otlp_join_wait: std::time::Duration,
    /// LDV spans that may wait for their audit records at once; beyond it `/v1/traces` answers
    /// 429 (too many requests).
    #[arg(long, default_value_t = 100_000)]
    pub otlp_max_pending: u64,
}

/// Single sign-on at the organisation's OpenID provider (authorisation-code flow with PKCE),
/// beside the local accounts. Off unless an issuer is given. The client secret is read from
/// LEKDICHT_OIDC_CLIENT_SECRET or the file named by --oidc-client-secret-file, never from the
/// command line.
#[derive(Debug, Args)]
pub struct SsoArgs {
    /// The provider's issuer URL.
    #[arg(long, env = "LEKDICHT_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// The client id registered at the provider.
    #[arg(long, env = "LEKDICHT_OIDC_CLIENT_ID", requires = "oidc_issuer")]
    pub oidc_client_id: Option<String>,
    /// A file holding the client secret (instead of LEKDICHT_OIDC_CLIENT_SECRET).
    #[arg(long, env = "LEKDICHT_OIDC_CLIENT_SECRET_FILE")]
    pub oidc_client_secret_file: Option<std::path::PathBuf>,
    /// lekdicht's callback as registered at the provider: https://HOST/login/sso/callback.
    #[arg(long, env = "LEKDICHT_OIDC_REDIRECT_URL", requires = "oidc_issuer")]
    pub oidc_redirect_url: Option<String>,
    /// The organisation every account of this provider belongs to.
    #[arg(long, env = "LEKDICHT_OIDC_ORGANISATION", requires = "oidc_issuer")]
    pub oidc_organisation: Option<String>,
    /// The claim (in the ID token or from the userinfo endpoint) that lists the person's roles.
    #[arg(long, env = "LEKDICHT_OIDC_ROLES_CLAIM", default_value = "roles")]
    pub oidc_roles_claim: String,
    /// VALUE=ROLE: a value of the roles claim that means a lekdicht role (repeatable). Without
    /// any, the claim's values are lekdicht's role codes.
    #[arg(long = "oidc-role", value_name = "VALUE=ROLE")]
    pub oidc_roles: Vec<String>,
    /// A scope to ask for beyond openid and profile (repeatable).
    #[arg(long = "oidc-scope")]
    pub oidc_scopes: Vec<String>,
    /// The provider's name on the login page.
    #[arg(long, env = "LEKDICHT_OIDC_LABEL", default_value = "single sign-on")]
    pub oidc_label: String,
}

/// A duration: a whole number followed by `ms`, `s`, `m` or `h`.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text}: give a unit (ms, s, m or h)"))?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text}: not a whole number followed by a unit"))?;
    let millis = match unit {
        "ms" => n,
        "s" => n.saturating_mul(1000),
        "m" => n.saturating_mul(60_000),
        "h" => n.saturating_mul(3_600_000),
        _ => return Err(format!("{text}: the unit is one of ms, s, m, h")),
    };
    Ok(std::time::Duration::from_millis(millis))
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password is read from LEKDICHT_PASSWORD or one line of standard
    /// input (at least 12 characters). The investigator, approver, privacy_officer and admin roles
    /// need `--as` (an administrator of the organisation, whose password is read from
    /// LEKDICHT_AS_PASSWORD or the next line of standard input) and take effect only once a second
    /// administrator or privacy officer confirms them (`user confirm`); only an organisation's
    /// first administrator and first privacy officer are created without.
    Add {
        /// The organisation (as in the contract's `organization` of employees and units).
        #[arg(long)]
        org: String,
        #[arg(long)]
        username: String,
        /// Role: reviewer, investigator, approver, privacy_officer, auditor, admin (repeatable).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        #[arg(long)]
        display_name: Option<String>,
        /// The administrator who creates the account.
        #[arg(long = "as")]
        acting: Option<String>,
    },
    /// Confirm a pending role grant, as a second administrator or privacy officer (`--as`, whose
    /// password is read from LEKDICHT_AS_PASSWORD or one line of standard input).
    Confirm {
        #[arg(long)]
        username: String,
        #[arg(long)]
        role: String,
        #[arg(long = "as")]
        acting: String,
    },
    /// List the accounts.
    List,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user and print it (once; only its hash is stored). The user's
    /// own password is read from LEKDICHT_PASSWORD or one line of standard input: nobody issues a
    /// token for someone else.
    Add {
        #[arg(long)]
        username: String,
        /// What the token is for.
        #[arg(long)]
        name: String,
    },
    /// List the API tokens (never the tokens themselves).
    List,
    /// Revoke an API token by its number (from `token list`).
    Revoke { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Create the Ed25519 signing key (done automatically on first ingest) and print the public
    /// verifier key (`name+keyid+base64`) for auditors and witnesses.
    Keygen {
        /// Key name, also the start of the logs' origin lines (e.g. `politie.example/lekdicht`).
        #[arg(long)]
        name: Option<String>,
    },
    /// Print the latest signed checkpoint (C2SP tlog-checkpoint in a signed note).
    Checkpoint,
    /// Inclusion proof of one event against the latest checkpoint (or the one of --size).
    Prove {
        event: String,
        /// The event's system, when two systems use the same id.
        #[arg(long)]
        system: Option<String>,
        /// Prove against the checkpoint published for this tree size.
        #[arg(long)]
        size: Option<u64>,
    },
    /// Consistency proof between two tree sizes (NEW defaults to the current size).
    Consistency { old: u64, new: Option<u64> },
    /// Recompute every leaf from the store and check it against the ledger and every signed
    /// checkpoint; name the first event that differs. Exits with 4 when anything was tampered with.
    Verify {
        /// The verifier key you trust (`name+keyid+base64`); default: the data directory's own.
        #[arg(long)]
        verifier: Option<String>,
    },
    /// Write events with their leaf index (events.jsonl), the checkpoint, the verifier key and
    /// the tree as C2SP tlog-tiles into DIR, for outside verifiers and witnesses.
    Export { dir: PathBuf },
}

#[derive(Debug, Args)]
pub struct DetectConfigArgs {
    /// Detection configuration (TOML); default: DATA/detect.toml if present, else built-in.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Directory of Sigma rules (*.yml) to run over the events as well.
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    #[command(flatten)]
    pub detect: DetectConfigArgs,
    /// From this time (RFC 3339 or YYYY-MM-DD), inclusive.
    #[arg(long)]
    pub from: Option<String>,
    /// Until this time (RFC 3339 or YYYY-MM-DD), exclusive.
    #[arg(long)]
    pub until: Option<String>,
    /// Write the score lines to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Do not print the score lines (they are stored either way).
    #[arg(long)]
    pub quiet: bool,
    /// Ignore what investigators decided on earlier alerts (by default each signal's weight in
    /// alerts follows how often alerts carrying it turned out real).
    #[arg(long)]
    pub no_feedback: bool,
}

#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// Only alerts with this status (open, dismissed, escalated, or ranked: findings kept outside
    /// the review queue).
    #[arg(long)]
    pub status: Option<String>,
    /// Also list the findings kept outside the review queue (below the budget or the minimum
    /// probability), with their rank.
    #[arg(long, conflicts_with = "status")]
    pub all: bool,
    /// One JSON object per alert (contract section 3).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub detect: DetectConfigArgs,
    /// Event id.
    pub event: String,
    /// The event's system, when two systems use the same id.
    #[arg(long)]
    pub system: Option<String>,
    /// JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum InputFormat {
    Ndjson,
    Csv,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files or directories to read; `-` reads standard input (then --kind is required).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The kind of record, when file names do not tell (events, employees, units, subjects,
    /// vehicles, relations, cases, shifts).
    #[arg(long, value_parser = parse_kind)]
    pub kind: Option<lekdicht_model::RecordKind>,
    /// Format of standard input.
    #[arg(long, value_enum, default_value = "ndjson")]
    pub format: InputFormat,
    /// Organisation of records that name none.
    #[arg(long, env = "LEKDICHT_ORGANIZATION")]
    pub organization: Option<String>,
    /// Records per transaction.
    #[arg(long, default_value_t = 20_000)]
    pub batch_size: usize,
    /// No progress indicator.
    #[arg(long)]
    pub quiet: bool,
    /// Print a line `committed STORED_SO_FAR` to standard output after each durable batch, for
    /// scripts that need to know what is safely stored.
    #[arg(long)]
    pub progress_lines: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Bounds on what one source may cost, and the plausible range of times.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Longest line (for CSV: record) accepted, in bytes after decompression; a longer one is
    /// quarantined and skipped.
    #[arg(long, default_value_t = lekdicht_ingest::DEFAULT_MAX_LINE_BYTES)]
    pub max_line_bytes: usize,
    /// Most times a gzip file may expand (checked once past 16 MiB); a file that expands more
    /// stops there, with an error naming the line.
    #[arg(long, default_value_t = lekdicht_ingest::DEFAULT_MAX_GZIP_RATIO)]
    pub max_gzip_ratio: u64,
    /// Most bytes a gzip file may decompress to (default: no limit besides the ratio).
    #[arg(long)]
    pub max_gzip_bytes: Option<u64>,
    /// Earliest year a time may lie in.
    #[arg(long, default_value_t = lekdicht_ingest::DEFAULT_MIN_YEAR)]
    pub min_year: i32,
    /// Latest year a time may lie in.
    #[arg(long, default_value_t = lekdicht_ingest::DEFAULT_MAX_YEAR)]
    pub max_year: i32,
}

impl Default for LimitArgs {
    fn default() -> Self {
        let limits = lekdicht_ingest::Limits::default();
        LimitArgs {
            max_line_bytes: limits.max_line_bytes,
            max_gzip_ratio: limits.max_gzip_ratio,
            max_gzip_bytes: limits.max_gzip_bytes,
            min_year: *limits.years.start(),
            max_year: *limits.years.end(),
        }
    }
}

impl LimitArgs {
    /// The reading limits these options set.
    pub fn limits(&self) -> lekdicht_ingest::Limits {
        lekdicht_ingest::Limits {
            max_line_bytes: self.max_line_bytes,
            max_gzip_ratio: self.max_gzip_ratio,
            max_gzip_bytes: self.max_gzip_bytes,
            years: self.min_year..=self.max_year,
        }
    }
}

fn parse_kind(s: &str) -> Result<lekdicht_model::RecordKind, String> {
    lekdicht_model::RecordKind::parse(s).ok_or_else(|| {
        "expected one of events, employees, units, subjects, vehicles, relations, cases, shifts"
            .to_owned()
    })
}

#[derive(Debug, Subcommand)]
pub enum QuarantineCommand {
    /// List open entries (with --all, resolved ones too).
    List {
        #[arg(long, value_parser = parse_kind)]
        kind: Option<lekdicht_model::RecordKind>,
        #[arg(long)]
        all: bool,
        /// One JSON object per entry, with the raw line.
        #[arg(long)]
        json: bool,
    },
    /// Write the raw lines of open entries to DIR, one file per kind (`events.ndjson`,
    /// `employees.csv`, ...), ready to be fixed and fed back with `lekdicht ingest DIR`; entries whose
    /// record id could be read are resolved when a valid version is stored.
    Export {
        dir: PathBuf,
        #[arg(long, value_parser = parse_kind)]
        kind: Option<lekdicht_model::RecordKind>,
    },
    /// Replace the line of entry ID by a corrected one (from --line, or standard input), validate
    /// and store it, and resolve the entry.
    Fix {
        id: i64,
        #[arg(long)]
        line: Option<String>,
    },
    /// Mark an entry resolved without storing anything (e.g. a line that should never have been
    /// sent), with a note saying why.
    Resolve {
        id: i64,
        #[arg(long)]
        note: String,
    },
}

#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// Employee id.
    pub actor: String,
    /// From this time (RFC 3339, or a date YYYY-MM-DD meaning 00:00 UTC), inclusive.
    #[arg(long)]
    pub from: Option<String>,
    /// Until this time (RFC 3339, or a date YYYY-MM-DD meaning 00:00 UTC), exclusive.
    #[arg(long)]
    pub until: Option<String>,
    /// One JSON object per event.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AccessedArgs {
    /// Data subject id (a person; their vehicles are included).
    pub subject: String,
    /// One JSON object per event.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[arg(long, default_value_t = 2000)]
    pub employees: usize,
    #[arg(long, default_value_t = 100_000)]
    pub persons: usize,
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Work in this directory instead of a temporary one (kept afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of employees.
    #[arg(long, default_value_t = 2000)]
    pub employees: usize,
    /// Number of persons (data subjects).
    #[arg(long, default_value_t = 100_000)]
    pub persons: usize,
    /// Number of vehicles.
    #[arg(long, default_value_t = 30_000)]
    pub vehicles: usize,
    /// Days of access logs.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Seed: the same seed gives the same world.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Only write the world as contract files into this directory (with its answer key), without
    /// ingesting it.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Empty the data directory first, if it holds another world.
    #[arg(long)]
    pub replace: bool,
    /// The kind of organisation: region (a police region with a municipal front office), police
    /// (police-heavy, high patrol volume) or front-office (a large municipal front office).
    #[arg(long, default_value = "region", value_parser = parse_profile)]
    pub profile: lekdicht_demo::Profile,
    /// Share of employees with planted violations (0 gives a world without any violation).
    #[arg(long, default_value_t = 0.01)]
    pub violators: f64,
    /// Skip the evaluation over every profile that follows the main world.
    #[arg(long, conflicts_with = "profiles_only")]
    pub no_profiles: bool,
    /// Only evaluate every profile in memory (no data directory is written).
    #[arg(long)]
    pub profiles_only: bool,
    /// Employees in the small worlds of the evaluation over every profile (the large ones have
    /// twice as many).
    #[arg(long, default_value_t = 1000)]
    pub profile_size: usize,
}

fn parse_profile(name: &str) -> Result<lekdicht_demo::Profile, String> {
    lekdicht_demo::Profile::parse(name).ok_or_else(|| {
        let names: Vec<&str> = lekdicht_demo::Profile::ALL
            .iter()
            .map(|p| p.as_str())
            .collect();
        format!("unknown profile {name:?}; one of {}", names.join(", "))
    })
}
