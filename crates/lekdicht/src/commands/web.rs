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
use lekdicht_review::Role;
use lekdicht_store::{NewAudit, NewUser, ReviewStore, SqliteStore};
use lekdicht_web::{AppState, AuditLedger, EventProofs, LedgerError, auth};
use rand::RngCore;

use crate::cli::{ServeArgs, TokenCommand, UserCommand};
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

pub(crate) fn serve(data: &Path, args: &ServeArgs) -> Result<ExitCode> {
    let key = pseudonym_key(data)?;
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
            .with_proofs(Arc::new(DataDirProofs {
                data: data.to_owned(),
            }));
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        eprintln!("lekdicht review application on http://{addr}/ (Ctrl-C stops)");
        lekdicht_web::spawn_ledger_worker(state.clone(), ledger);
        tokio::select! {
            result = lekdicht_web::serve(listener, state) => result.context("the web server stopped")?,
            _ = tokio::signal::ctrl_c() => {}
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn cli_audit(
    organisation: &str,
    action: &str,
    object: &str,
    details: serde_json::Value,
) -> NewAudit {
    let by = std::env::var("LEKDICHT_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".to_owned());
    NewAudit {
        organisation: organisation.to_owned(),
        actor: format!("cli:{by}"),
        action: action.to_owned(),
        object: object.to_owned(),
        details,
        at: chrono::Utc::now(),
    }
}

fn read_password() -> Result<String> {
    if let Ok(p) = std::env::var("LEKDICHT_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub(crate) fn user(data: &Path, cmd: UserCommand) -> Result<ExitCode> {
    let mut store = super::open_store(data)?;
    match cmd {
        UserCommand::Add {
            org,
            username,
            roles,
            display_name,
        } => {
            let mut parsed = Vec::new();
            for r in &roles {
                let role = Role::parse(r).with_context(|| {
                    format!(
                        "unknown role {r}; one of: {}",
                        Role::ALL.map(|r| r.as_str()).join(", ")
                    )
                })?;
                parsed.push(role.as_str().to_owned());
            }
            if username.trim().is_empty() || org.trim().is_empty() {
                bail!("--username and --org must not be empty");
            }
            let password = read_password()?;
            if password.chars().count() < auth::MIN_PASSWORD_LEN {
                bail!(
                    "the password must have at least {} characters",
                    auth::MIN_PASSWORD_LEN
                );
            }
            let hash = auth::hash_password(&password)
                .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?;
            let user = NewUser {
                organisation: org.clone(),
                display_name: display_name.unwrap_or_else(|| username.clone()),
                username: username.clone(),
                password_hash: hash,
                roles: parsed.clone(),
            };
            let audit = cli_audit(
                &org,
                "user_add",
                &format!("user:{username}"),
                serde_json::json!({ "roles": parsed }),
            );
            if store.create_user(&user, &audit)?.is_none() {
                bail!("a user named {username} exists already");
            }
            println!("created user {username} ({org}): {}", parsed.join(", "));
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
            let user = store
                .user_by_username(&username)?
                .with_context(|| format!("no user named {username}"))?;
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
