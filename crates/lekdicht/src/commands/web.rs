//! `lekdicht serve`, `user` and `token`: the review web application and its accounts.
//!
//! This module wires things together: the pseudonym key file, the store pool, the audit ledger
//! (the web crate's `AuditLedger` seam implemented on `<data>/ledger/audit`), the event ledger's
//! inclusion proofs (`EventProofs`), the retention policies, the listener. Page
//! logic, password hashing and token generation live in `lekdicht-web`; roles in
//! `lekdicht-review`.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, Result, bail};
use lekdicht_review::{Account, Role, conflicting_roles, may_confirm, needs_confirmation};
use lekdicht_store::{NewAudit, NewUser, ReviewStore, SqliteStore, UserRow};
use lekdicht_web::ops::{Figures, LedgerFigures, Probe};
use lekdicht_web::sso::SsoConfig;
use lekdicht_web::{AppState, AuditLedger, EventProofs, LedgerError, auth};
use rand::RngCore;

use crate::cli::{ServeArgs, SsoArgs, TokenCommand, UserCommand};
use crate::terminal::clean;

/// File of the pseudonymisation key inside the data directory.
const PSEUDONYM_KEY: &str = "pseudonym.key";

/// Connections kept for the web application.
const POOL_SIZE: usize = 8;

/// Loads the 32-byte pseudonym key, creating it (mode 0600) on first use.
fn pseudonym_key(data: &Path) -> Result<[u8; 32]> {
    let path = data.join(PSEUDONYM_KEY);
    if !path.exists() {
        std::fs::create_dir_all(data)?;
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        std::io::Write::write_all(&mut file, &key)?;
        file.sync_all()?;
        tracing::info!(path = %path.display(), "created the pseudonymisation key");
    }
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("{} does not hold a 32-byte key", path.display()))
}

/// The audit ledger of the data directory, for the web application's audit trail.
struct DataDirLedger {
    data: PathBuf,
    store: Mutex<SqliteStore>,
}

impl AuditLedger for DataDirLedger {
    fn append(&self, records: &[Vec<u8>]) -> Result<u64, LedgerError> {
        let canonical: Vec<Vec<u8>> = records
            .iter()
            .map(|r| {
                serde_json::from_slice::<serde_json::Value>(r)
                    .map(|v| lekdicht_ledger::canonical_json(&v))
                    .map_err(|e| LedgerError(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let mut store = self
            .store
            .lock()
            .map_err(|_| LedgerError("the ledger lock is poisoned".into()))?;
        crate::ledger::append_audit_records(&self.data, &mut *store, &canonical)
            .map_err(|e| LedgerError(format!("{e:#}")))
    }
}

/// Inclusion proofs from the event ledger of the data directory, for the case pages. The ledger
/// is opened read-only for each proof, so the server never holds it while an ingest appends.
struct DataDirProofs {
    data: PathBuf,
}

impl DataDirProofs {
    fn proof(&self, seq: u64) -> Result<Option<String>> {
        let store = SqliteStore::open(&self.data)?;
        let mut found = None;
        lekdicht_store::Store::for_each_event_by_seq(&store, seq, seq + 1, &mut |e| {
            found = Some(e);
            Ok(())
        })?;
        let stored = found.with_context(|| format!("no access #{seq} in the store"))?;
        let name = crate::ledger::name(&self.data, &store)?;
        let dir = crate::ledger::ledger_dir(&self.data).join("events");
        let log =
            lekdicht_ledger::Log::open_for_audit(&dir, &crate::ledger::origin(&name, "events"))
                .with_context(|| format!("cannot open the event ledger in {}", dir.display()))?;
        let Some(checkpoint) = log.latest_checkpoint() else {
            return Ok(None);
        };
        if seq >= checkpoint.checkpoint().size.0 {
            return Ok(None);
        }
        let proof = super::ledger::inclusion_proof(&log, checkpoint, &stored)?;
        Ok(Some(serde_json::to_string_pretty(&proof)?))
    }
}

impl EventProofs for DataDirProofs {
    fn inclusion_proof(&self, seq: u64) -> Result<Option<String>, LedgerError> {
        self.proof(seq).map_err(|e| LedgerError(format!("{e:#}")))
    }
}

/// The figures and readiness of the data directory, for `/metrics` and `/readyz`.
struct DataDirProbe {
    data: PathBuf,
}

impl DataDirProbe {
    /// The leaves of one ledger log and the seconds since its checkpoint history was last
    /// written (a checkpoint carries no time of its own).
    fn ledger(&self, log: &'static str) -> LedgerFigures {
        let dir = crate::ledger::ledger_dir(&self.data).join(log);
        let leaves =
            std::fs::metadata(dir.join(lekdicht_ledger::LEAVES_FILE)).map_or(0, |m| m.len() / 32);
        let checkpoint_age_s = std::fs::metadata(dir.join(lekdicht_ledger::CHECKPOINTS_FILE))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .map(|d| d.as_secs_f64());
        LedgerFigures {
            log,
            leaves,
            checkpoint_age_s,
        }
    }

    fn figures(&self) -> Result<Figures> {
        let store = SqliteStore::open(&self.data)?;
        let counts = store.ops_counts(chrono::Utc::now().timestamp_millis())?;
        Ok(Figures {
            events_stored: counts.events,
            quarantined: counts.quarantined,
            quarantine_open: counts.quarantine_open,
            alerts_open: lekdicht_store::ALERT_AGE_BUCKETS
                .iter()
                .zip(counts.alerts_open)
                .map(|((label, _), n)| (*label, n))
                .collect(),
            reveals: counts.reveals,
            ledgers: vec![self.ledger("events"), self.ledger("audit")],
        })
    }

    fn ready(&self) -> Result<()> {
        let store = SqliteStore::open(&self.data)?;
        let name = crate::ledger::name(&self.data, &store)?;
        for log in ["events", "audit"] {
            let dir = crate::ledger::ledger_dir(&self.data).join(log);
            if dir.exists() {
                lekdicht_ledger::Log::open_for_audit(&dir, &crate::ledger::origin(&name, log))
                    .with_context(|| format!("cannot open the {log} ledger"))?;
            }
        }
        Ok(())
    }
}

impl Probe for DataDirProbe {
    fn figures(&self) -> Result<Figures, LedgerError> {
        DataDirProbe::figures(self).map_err(|e| LedgerError(format!("{e:#}")))
    }

    fn ready(&self) -> Result<(), LedgerError> {
        DataDirProbe::ready(self).map_err(|e| LedgerError(format!("{e:#}")))
    }
}

/// Completes on SIGTERM or Ctrl-C (SIGINT).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("stopping: answering the requests in flight");
}

/// The bearer token of `/metrics`, from LEKDICHT_METRICS_TOKEN or a file.
fn metrics_token(args: &ServeArgs) -> Result<Option<String>> {
    if let Some(path) = &args.metrics_token_file {
        let token = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the metrics token from {}", path.display()))?;
        return Ok(Some(token.trim().to_owned()));
    }
    Ok(std::env::var("LEKDICHT_METRICS_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty()))
}

pub(crate) fn serve(data: &Path, args: &ServeArgs) -> Result<ExitCode> {
    let key = pseudonym_key(data)?;
    let sso = sso_config(&args.sso)?;
    let metrics_token = metrics_token(args)?;
    let policies = super::case::load_policies(data, None)?;
    // Brings the schema up to date before the pool opens its connections.
    let store = super::open_store(data)?;
    let ledger: Arc<dyn AuditLedger> = Arc::new(DataDirLedger {
        data: data.to_owned(),
        store: Mutex::new(store),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let state = AppState::open(data, POOL_SIZE, key)
            .map_err(|e| anyhow::anyhow!("cannot start the web application: {e}"))?
            .with_retention(policies)
            .with_trusted_proxies(args.trusted_proxies.clone())
            .with_proofs(Arc::new(DataDirProofs {
                data: data.to_owned(),
            }))
            .with_operations(
                Arc::new(DataDirProbe {
                    data: data.to_owned(),
                }),
                metrics_token,
            )
            .with_otlp(lekdicht_web::otlp::Otlp::new(
                crate::intake::DataDirIntake::new(data),
                lekdicht_web::otlp::OtlpConfig {
                    join_wait: args.otlp_join_wait,
                    max_pending: args.otlp_max_pending,
                    ..Default::default()
                },
            ));
        let state = match sso {
            Some(config) => state.with_sso(
                lekdicht_web::sso::Sso::new(config)
                    .map_err(|e| anyhow::anyhow!("single sign-on: {e}"))?,
            ),
            None => state,
        };
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        eprintln!("lekdicht review application on http://{addr}/ (Ctrl-C stops)");
        lekdicht_web::spawn_ledger_worker(state.clone(), Arc::clone(&ledger));
        lekdicht_web::otlp::spawn_join_worker(state.clone());
        lekdicht_web::serve_until(listener, state.clone(), shutdown_signal())
            .await
            .context("the web server stopped")?;
        // Every request was answered; what they audited goes into the ledger before the end.
        let appended = lekdicht_web::audit::flush_audit(&state, ledger)
            .await
            .map_err(|e| anyhow::anyhow!("appending the audit trail to the ledger: {e}"))?;
        tracing::info!(appended, "stopped");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The single sign-on configuration of `serve`, when an issuer is given.
fn sso_config(args: &SsoArgs) -> Result<Option<SsoConfig>> {
    let Some(issuer) = args.oidc_issuer.clone() else {
        return Ok(None);
    };
    let need = |value: &Option<String>, flag: &str| {
        value
            .clone()
            .with_context(|| format!("single sign-on needs {flag}"))
    };
    let client_secret = match (
        &args.oidc_client_secret_file,
        std::env::var("LEKDICHT_OIDC_CLIENT_SECRET"),
    ) {
        (Some(path), _) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the client secret from {}", path.display()))?
            .trim()
            .to_owned(),
        (None, Ok(secret)) => secret,
        (None, Err(_)) => bail!(
            "single sign-on needs the client secret in LEKDICHT_OIDC_CLIENT_SECRET or --oidc-client-secret-file"
        ),
    };
    let role_map = args
        .oidc_roles
        .iter()
        .map(|pair| {
            let (value, role) = pair
                .split_once('=')
                .with_context(|| format!("--oidc-role {pair}: expected VALUE=ROLE"))?;
            Ok((value.to_owned(), parse_role(role)?))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(SsoConfig {
        issuer,
        client_id: need(&args.oidc_client_id, "--oidc-client-id")?,
        client_secret,
        redirect_url: need(&args.oidc_redirect_url, "--oidc-redirect-url")?,
        organisation: need(&args.oidc_organisation, "--oidc-organisation")?,
        roles_claim: args.oidc_roles_claim.clone(),
        role_map,
        scopes: args.oidc_scopes.clone(),
        label: args.oidc_label.clone(),
    }))
}

/// Who acts on the command line: `cli:` and the operating-system user.
fn cli_actor() -> String {
    let by = std::env::var("LEKDICHT_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".to_owned());
    format!("cli:{by}")
}

fn cli_audit(
    organisation: &str,
    action: &str,
    object: &str,
    details: serde_json::Value,
) -> NewAudit {
    NewAudit {
        organisation: organisation.to_owned(),
        actor: cli_actor(),
        action: action.to_owned(),
        object: object.to_owned(),
        details,
        at: chrono::Utc::now(),
    }
}

/// A secret from the environment variable `var`, or else the next line of standard input.
fn read_secret(var: &str) -> Result<String> {
    if let Ok(p) = std::env::var(var) {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read a password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn parse_role(code: &str) -> Result<Role> {
    Role::parse(code).with_context(|| {
        format!(
            "unknown role {code}; one of: {}",
            Role::ALL.map(|r| r.as_str()).join(", ")
        )
    })
}

fn user_roles(row: &UserRow) -> Vec<Role> {
    row.roles.iter().filter_map(|r| Role::parse(r)).collect()
}

/// The active account `username`, after checking its password (read from LEKDICHT_AS_PASSWORD
/// or standard input).
fn authenticated(store: &SqliteStore, username: &str) -> Result<UserRow> {
    authenticated_by(store, username, "LEKDICHT_AS_PASSWORD")
}

/// The active account `username`, after checking its password (from `var` or standard input).
fn authenticated_by(store: &SqliteStore, username: &str, var: &str) -> Result<UserRow> {
    let password = read_secret(var)?;
    let row = store
        .user_by_username(username)?
        .filter(|u| !u.disabled)
        .filter(|u| auth::verify_password(&password, &u.password_hash));
    row.with_context(|| format!("{username}: no such active account, or a wrong password"))
}

/// Whether the organisation has an active account holding `role`.
fn org_has(store: &SqliteStore, org: &str, role: Role) -> Result<bool> {
    Ok(store
        .users()?
        .iter()
        .any(|u| u.organisation == org && !u.disabled && user_roles(u).contains(&role)))
}

pub(crate) fn user(data: &Path, cmd: UserCommand) -> Result<ExitCode> {
    let mut store = super::open_store(data)?;
    match cmd {
        UserCommand::Add {
            org,
            username,
            roles,
            display_name,
            acting,
        } => {
            let parsed = roles
                .iter()
                .map(|r| parse_role(r))
                .collect::<Result<Vec<Role>>>()?;
            if username.trim().is_empty() || org.trim().is_empty() {
                bail!("--username and --org must not be empty");
            }
            if username.starts_with("sso:") {
                bail!("user names beginning with sso: belong to accounts of single sign-on");
            }
            if let Some((a, b)) = conflicting_roles(&parsed) {
                bail!(
                    "{} and {} never belong to one account: whoever asks for a reveal may not approve it",
                    a.as_str(),
                    b.as_str()
                );
            }
            let password = read_secret("LEKDICHT_PASSWORD")?;
            if password.chars().count() < auth::MIN_PASSWORD_LEN {
                bail!(
                    "the password must have at least {} characters",
                    auth::MIN_PASSWORD_LEN
                );
            }
            let (pending, at_once): (Vec<Role>, Vec<Role>) =
                parsed.into_iter().partition(|r| needs_confirmation(*r));
            let created_by = match &acting {
                Some(admin) => {
                    let row = authenticated(&store, admin)?;
                    if row.organisation != org || !user_roles(&row).contains(&Role::Admin) {
                        bail!("{admin} is no administrator of {org}");
                    }
                    row.username
                }
                None => {
                    // Only an organisation's first administrator and first privacy officer are
                    // set up without a second person: someone has to confirm the rest.
                    for role in &pending {
                        let first = matches!(role, Role::Admin | Role::PrivacyOfficer)
                            && !org_has(&store, &org, *role)?;
                        if !first {
                            bail!(
                                "the {} role needs --as an administrator of {org}, and a second administrator or privacy officer to confirm it (lekdicht user confirm)",
                                role.as_str()
                            );
                        }
                    }
                    cli_actor()
                }
            };
            // Set up without --as, the privileged roles of the first accounts take effect at once.
            let (at_once, pending) = if acting.is_none() {
                (at_once.into_iter().chain(pending).collect(), Vec::new())
            } else {
                (at_once, pending)
            };
            let hash = auth::hash_password(&password)
                .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?;
            let codes = |roles: &[Role]| -> Vec<String> {
                roles.iter().map(|r| r.as_str().to_owned()).collect()
            };
            let user = NewUser {
                organisation: org.clone(),
                display_name: display_name.unwrap_or_else(|| username.clone()),
                username: username.clone(),
                password_hash: hash,
                roles: codes(&at_once),
                pending_roles: codes(&pending),
                created_by: created_by.clone(),
            };
            let mut audit = cli_audit(
                &org,
                "user_add",
                &format!("user:{username}"),
                serde_json::json!({ "roles": user.roles, "pending_roles": user.pending_roles }),
            );
            if acting.is_some() {
                audit.actor = created_by;
            }
            if store.create_user(&user, &audit)?.is_none() {
                bail!("a user named {username} exists already");
            }
            println!("created user {username} ({org}): {}", user.roles.join(", "));
            if !pending.is_empty() {
                println!(
                    "awaiting confirmation by a second administrator or privacy officer: {}",
                    user.pending_roles.join(", ")
                );
            }
        }
        UserCommand::Confirm {
            username,
            role,
            acting,
        } => {
            let role = parse_role(&role)?;
            let confirmer = authenticated(&store, &acting)?;
            let target = store
                .user_by_username(&username)?
                .filter(|u| u.organisation == confirmer.organisation)
                .with_context(|| {
                    format!("no user named {username} in {}", confirmer.organisation)
                })?;
            let grant = store
                .grants(&confirmer.organisation)?
                .into_iter()
                .find(|g| g.user_id == target.id && g.role == role.as_str() && g.decision.is_none())
                .with_context(|| format!("no pending grant of {} to {username}", role.as_str()))?;
            let confirmer_roles = user_roles(&confirmer);
            let target_roles = user_roles(&target);
            let check = may_confirm(
                Account {
                    username: &confirmer.username,
                    created_by: &confirmer.created_by,
                    roles: &confirmer_roles,
                },
                &grant.requested_by,
                Account {
                    username: &target.username,
                    created_by: &target.created_by,
                    roles: &target_roles,
                },
                role,
            );
            if let Err(refusal) = check {
                bail!("{acting} cannot confirm this grant: {refusal:?}");
            }
            let mut audit = cli_audit(
                &confirmer.organisation,
                "grant_confirm",
                &format!("grant:{}", grant.id),
                serde_json::json!({ "user": username, "role": role.as_str(), "requested_by": grant.requested_by }),
            );
            audit.actor = confirmer.username.clone();
            if !store.decide_grant(grant.id, true, &confirmer.username, &audit)? {
                bail!("the grant was decided already");
            }
            println!("{username} now holds the {} role", role.as_str());
        }
        UserCommand::List => {
            for u in store.users()? {
                println!(
                    "{}\t{}\t{}\t{}{}",
                    clean(&u.organisation),
                    clean(&u.username),
                    clean(&u.display_name),
                    u.roles.join(","),
                    if u.disabled { "\tdisabled" } else { "" }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn token(data: &Path, cmd: TokenCommand) -> Result<ExitCode> {
    let mut store = super::open_store(data)?;
    match cmd {
        TokenCommand::Add { username, name } => {
            // The owner's own password: nobody issues a token for someone else.
            let user = authenticated_by(&store, &username, "LEKDICHT_PASSWORD")?;
            let (token, hash) = auth::new_token();
            let audit = cli_audit(
                &user.organisation,
                "token_add",
                &format!("user:{username}"),
                serde_json::json!({ "name": name }),
            );
            store.create_token(user.id, &name, &hash, &audit)?;
            println!("{token}");
            eprintln!("API token {name} for {username}; it is shown only once.");
        }
        TokenCommand::List => {
            for t in store.tokens()? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    t.id,
                    clean(&t.username),
                    clean(&t.name),
                    t.created_at,
                    t.revoked_at.as_deref().unwrap_or("active")
                );
            }
        }
        TokenCommand::Revoke { id } => {
            let token = store
                .tokens()?
                .into_iter()
                .find(|t| t.id == id)
                .with_context(|| format!("no API token {id}"))?;
            let organisation = store
                .user_by_username(&token.username)?
                .map(|u| u.organisation)
                .unwrap_or_default();
            let audit = cli_audit(
                &organisation,
                "token_revoke",
                &format!("user:{}", token.username),
                serde_json::json!({ "token": id, "name": token.name }),
            );
            if !store.revoke_token(id, &audit)? {
                bail!("API token {id} was revoked already");
            }
            println!(
                "revoked API token {id} ({}) of {}",
                token.name, token.username
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proofs_of_the_data_directory_cover_ingested_events() {
        let dir = tempfile::tempdir().unwrap();
        let world = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/example-world");
        let args = crate::cli::IngestArgs {
            paths: vec![world],
            kind: None,
            format: crate::cli::InputFormat::Ndjson,
            organization: None,
            batch_size: 3,
            quiet: true,
            progress_lines: false,
            json: false,
            limits: Default::default(),
        };
        super::super::ingest::run(dir.path(), &args).unwrap();
        let proofs = DataDirProofs {
            data: dir.path().to_owned(),
        };
        let proof = proofs.inclusion_proof(5).unwrap().expect("covered");
        let proof: serde_json::Value = serde_json::from_str(&proof).unwrap();
        assert_eq!(proof["leaf_index"], 5);
        assert_eq!(proof["tree_size"], 8);
        assert!(proof["checkpoint"].as_str().unwrap().contains("\n8\n"));
        let store = SqliteStore::open(dir.path()).unwrap();
        let mut canonical = Vec::new();
        lekdicht_store::Store::for_each_event_by_seq(&store, 5, 6, &mut |e| {
            canonical = e.canonical;
            Ok(())
        })
        .unwrap();
        assert_eq!(
            proof["leaf_data"].as_str().unwrap().as_bytes(),
            canonical.as_slice()
        );
        // An access that is not stored has no proof.
        assert!(proofs.inclusion_proof(8).is_err());
    }
}
