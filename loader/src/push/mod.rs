//! `loader push`: the phased load. Every write is journalled (intent before, outcome after),
//! so a run killed at any point resumes without duplicates: contacts and accounts are
//! idempotent upserts; notes and tasks are not, so an ambiguous outcome is settled by reading
//! the contact's notes or tasks and matching a fingerprint before any retry.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use prep::bundle::Record;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, mpsc};

use crate::account::{Preflight, each_record};
use crate::api::{CallError, Client};
use crate::journal::{self, Entry, Journal, Phase, State};
use crate::payload::Forms;
use crate::progress::{Mode, PhaseProgress, event};
use crate::report::{ErrorRow, PhaseReport, write_errors, write_phase};
use kinds::Child;

mod children;
mod kinds;
pub(crate) mod known;
mod parents;

/// How a push runs.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Payload forms for the account's unverified behaviours.
    pub forms: Forms,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// A previous run's journal: records unchanged since then are not sent again (delta).
    pub since: Option<PathBuf>,
    /// Progress display.
    pub mode: Mode,
    /// Due date for tasks that have none (RFC 3339; the confirmation time by default).
    pub fallback_due: Option<String>,
    /// The phases to run (empty: all). A phase runs only once every earlier one is done,
    /// in this run or a previous one of the same journal (children need their contacts).
    pub phases: Vec<Phase>,
    /// Leave the notes AllClients wrote itself behind: journalled and reported as skipped
    /// by choice, never sent.
    pub leave_system_notes: bool,
}

/// The phases of `wanted` (all when empty) in load order, once every earlier phase is done
/// or wanted too; else what to run first.
pub fn phases_to_run(wanted: &[Phase], done: &[Phase]) -> std::result::Result<Vec<Phase>, String> {
    let order = Phase::ALL;
    if wanted.is_empty() {
        return Ok(order.to_vec());
    }
    let mut out = Vec::new();
    for (i, p) in order.iter().enumerate() {
        if !wanted.contains(p) {
            continue;
        }
        // Children need their contacts and contacts their accounts; the manual pack needs
        // nothing loaded.
        let needs: &[Phase] = match p {
            Phase::Accounts | Phase::Manual => &[],
            Phase::Contacts => &order[..1],
            _ => &order[..2],
        };
        if let Some(missing) = needs
            .iter()
            .find(|n| !wanted.contains(n) && !done.contains(n))
        {
            return Err(format!(
                "--phases {}: the {} phase must be loaded first (run `push --phases {}` before, or leave --phases out)",
                p.as_str(),
                missing.as_str(),
                order[..i]
                    .iter()
                    .filter(|q| needs.contains(q))
                    .map(|q| q.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        out.push(*p);
    }
    Ok(out)
}

/// Where a bundle's run files go: `<stem>.journal.jsonl` and `<stem>.load/`.
pub fn run_paths(bundle: &Path) -> (PathBuf, PathBuf) {
    (
        crate::sibling(bundle, ".journal.jsonl"),
        crate::sibling(bundle, ".load"),
    )
}

/// SHA-256 of a value's JSON, hex.
pub fn fingerprint(v: &impl serde::Serialize) -> String {
    let bytes = serde_json::to_vec(v).unwrap_or_default();
    format!("{:x}", Sha256::digest(&bytes))
}

fn text_fingerprint(s: &str) -> String {
    format!("{:x}", Sha256::digest(s.as_bytes()))
}

struct Ctx {
    client: Client,
    pre: Preflight,
    forms: Forms,
    fallback_due: String,
    journal: Mutex<Journal>,
    state: Mutex<State>,
    since: Option<State>,
    ids: Mutex<HashMap<String, i64>>,
    reports: Mutex<BTreeMap<Phase, PhaseReport>>,
    errors: Mutex<Vec<ErrorRow>>,
    fatal: Mutex<Option<String>>,
    /// What the account already holds under contacts that existed before this load, read
    /// once when first needed: import refs of notes by contact id, and of tasks by contact
    /// id (tasks can only be listed account-wide).
    found: Mutex<children::Found>,
    /// The bundle's accounts and contacts the account already holds, learned in batches
    /// before their phases (`None`: not learned; each is looked up on its own).
    known: Mutex<Option<known::Known>>,
    /// [`PushOptions::leave_system_notes`].
    leave_system_notes: bool,
}

enum Outcome {
    Created,
    Updated,
    Skipped(String),
    Failed,
    InDoubt,
}

impl Ctx {
    async fn log(&self, e: Entry) -> Result<()> {
        self.journal.lock().await.append(&e)?;
        self.state.lock().await.apply(&e);
        Ok(())
    }

    async fn count(&self, phase: Phase, o: Outcome) {
        let mut r = self.reports.lock().await;
        let r = r.entry(phase).or_default();
        match o {
            Outcome::Created => r.created += 1,
            Outcome::Updated => r.updated += 1,
            Outcome::Skipped(why) => *r.skipped.entry(why).or_default() += 1,
            Outcome::Failed => r.failed += 1,
            Outcome::InDoubt => r.in_doubt += 1,
        }
    }

    async fn reject(
        &self,
        phase: Phase,
        key: &str,
        source: String,
        record: &impl serde::Serialize,
        e: &CallError,
    ) -> Result<()> {
        let status = match e {
            CallError::Rejected { status, .. } => Some(*status),
            _ => None,
        };
        // Without a status nothing refused the record: the journal keeps it in doubt
        // (`State::in_doubt`), and the report says so instead of "refused".
        let error = match status {
            Some(_) => e.to_string(),
            None => format!(
                "in doubt, not refused: {e}. Run push again: it reads back before sending again"
            ),
        };
        self.log(Entry::Failed {
            phase,
            key: key.into(),
            status,
            error: e.to_string(),
        })
        .await?;
        self.errors.lock().await.push(ErrorRow {
            phase: phase.as_str().into(),
            key: key.into(),
            source,
            status,
            error,
            record: serde_json::to_string(record).unwrap_or_default(),
        });
        let outcome = if status.is_some() {
            Outcome::Failed
        } else {
            Outcome::InDoubt
        };
        self.count(phase, outcome).await;
        Ok(())
    }

    /// Whether a previous run's journal already holds this exact record.
    fn unchanged(&self, key: &str, fp: &str) -> Option<i64> {
        match self.since.as_ref()?.done.get(key)? {
            Entry::Done {
                id, fingerprint, ..
            } if fingerprint == fp => Some(*id),
            _ => None,
        }
    }
}

fn is_fatal(e: &CallError) -> bool {
    matches!(e, CallError::Auth { .. } | CallError::NotJson { .. })
}

fn source_of<S: std::fmt::Display>(sources: &[prep::model::Source<S>]) -> String {
    sources
        .first()
        .map(|s| format!("{} row {}", s.file, s.row))
        .unwrap_or_default()
}

fn query(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut u = reqwest::Url::parse("http://x/").expect("static URL parses");
    {
        let mut q = u.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    format!("{path}?{}", u.query().unwrap_or(""))
}

fn partition(key: &str, n: usize) -> usize {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    (h.finish() % n as u64) as usize
}

/// Runs one phase: a reader thread streams the bundle's records of the phase to workers;
/// records of one contact always go to the same worker, so they are handled in order.
async fn run_phase(
    ctx: Arc<Ctx>,
    bundle: &Path,
    phase: Phase,
    total: u64,
    concurrency: usize,
    mode: Mode,
) -> Result<()> {
    let progress = Arc::new(PhaseProgress::start(mode, phase.as_str(), total));
    ctx.reports.lock().await.entry(phase).or_default().expected = total;
    let n = concurrency.max(1);
    let mut senders = Vec::new();
    let mut workers = Vec::new();
    for _ in 0..n {
        let (tx, mut rx) = mpsc::channel::<Record>(32);
        senders.push(tx);
        let ctx = ctx.clone();
        let progress = progress.clone();
        workers.push(tokio::spawn(async move {
            while let Some(r) = rx.recv().await {
                if ctx.fatal.lock().await.is_some() {
                    continue;
                }
                let result = match r {
                    Record::Account(a) => parents::push_account(&ctx, a).await,
                    Record::Contact(c) => parents::push_contact(&ctx, c).await,
                    Record::Note(n) => children::push_child(&ctx, Child::Note(n)).await,
                    Record::Task(t) => children::push_child(&ctx, Child::Task(t)).await,
                    Record::Appointment(a) => {
                        children::push_child(&ctx, Child::Appointment(a)).await
                    }
                    _ => Ok(()),
                };
                if let Err(e) = result {
                    ctx.fatal.lock().await.get_or_insert(format!("{e:#}"));
                }
                progress.inc();
            }
        }));
    }
    let path = bundle.to_path_buf();
    let reader = tokio::task::spawn_blocking(move || {
        each_record(&path, |r| {
            let key = match (&r, phase) {
                (Record::Account(a), Phase::Accounts) => a.key.clone(),
                (Record::Contact(c), Phase::Contacts) => c.key.clone(),
                (Record::Note(x), Phase::Notes) => x.contact.clone(),
                (Record::Task(x), Phase::Tasks) => x.contact.clone(),
                (Record::Appointment(x), Phase::Appointments) => {
                    x.contact.clone().unwrap_or_else(|| x.key.clone())
                }
                _ => return Ok(()),
            };
            senders[partition(&key, n)]
                .blocking_send(r)
                .map_err(|_| anyhow!("the load stopped"))
        })
    });
    let read = reader.await.context("bundle reader")?;
    for w in workers {
        w.await.context("worker")?;
    }
    progress.finish();
    let fatal = ctx.fatal.lock().await.clone();
    if let Some(e) = fatal {
        return Err(anyhow!(e));
    }
    read?;
    ctx.log(Entry::PhaseDone { phase }).await?;
    Ok(())
}

/// What a finished push reports.
#[derive(Debug, Clone)]
pub struct PushResult {
    /// Per phase.
    pub reports: BTreeMap<Phase, PhaseReport>,
    /// Rejected records.
    pub errors: Vec<ErrorRow>,
    /// The journal.
    pub journal: PathBuf,
    /// The reports folder.
    pub run_dir: PathBuf,
}

/// Pushes a bundle whose preflight passed.
pub async fn push(
    bundle: &Path,
    client: Client,
    pre: Preflight,
    opts: &PushOptions,
) -> Result<PushResult> {
    let (journal_path, run_dir) = run_paths(bundle);
    // Locked before it is read: a second push of this bundle stops here.
    let mut journal = Journal::open(&journal_path)?;
    let entries = journal::read(&journal_path)?;
    let state = State::replay(&entries);
    let run = phases_to_run(&opts.phases, &state.phases_done).map_err(anyhow::Error::msg)?;
    if let Some(h) = &state.bundle_sha256
        && h != &pre.manifest.content_sha256
    {
        anyhow::bail!(
            "{} belongs to another bundle ({h}); move it away to start a fresh load of this one",
            journal_path.display()
        );
    }
    if let Some(t) = &state.target
        && t != client.base()
    {
        anyhow::bail!(
            "{} records a load into {t}, not {}: resuming it there would skip records that \
             are not in that account. Use the same target, or move the journal away to load \
             this bundle into another account",
            journal_path.display(),
            client.base()
        );
    }
    if !state.rolled_back.is_empty() {
        anyhow::bail!(
            "{} records a load that was rolled back; move it away to load this bundle again",
            journal_path.display()
        );
    }
    let since = match &opts.since {
        Some(p) => {
            let s = State::replay(&journal::read(p)?);
            if !s.rolled_back.is_empty() {
                anyhow::bail!(
                    "{} records a load that was rolled back: its records are gone, so it \
                     cannot say what is unchanged",
                    p.display()
                );
            }
            Some(s)
        }
        None => None,
    };
    let mut ids = HashMap::new();
    for e in state.done.values() {
        if let Entry::Done { key, id, .. } = e {
            ids.insert(key.clone(), *id);
        }
    }
    let fallback_due = opts
        .fallback_due
        .clone()
        .or_else(|| {
            pre.manifest
                .confirmation
                .as_ref()
                .map(|c| c.confirmed_at.clone())
        })
        .unwrap_or_else(|| "2000-01-01T00:00:00Z".into());
    journal.append(&Entry::Start {
        bundle_sha256: pre.manifest.content_sha256.clone(),
        target: client.base().to_string(),
        at: crate::now_rfc3339(),
    })?;
    let stats = pre.stats;
    let ctx = Arc::new(Ctx {
        client,
        pre,
        forms: opts.forms.clone(),
        fallback_due,
        journal: Mutex::new(journal),
        state: Mutex::new(state),
        since,
        ids: Mutex::new(ids),
        reports: Mutex::new(BTreeMap::new()),
        errors: Mutex::new(Vec::new()),
        fatal: Mutex::new(None),
        found: Mutex::new(children::Found::default()),
        known: Mutex::new(None),
        leave_system_notes: opts.leave_system_notes,
    });
    known::learn(&ctx, bundle).await?;
    for (phase, total) in [
        (Phase::Accounts, stats.accounts),
        (
            Phase::Contacts,
            stats.contacts_with_email + stats.contacts_without_email,
        ),
        (Phase::Notes, stats.notes),
        (Phase::Tasks, stats.tasks),
        (Phase::Appointments, stats.appointments),
    ] {
        if !run.contains(&phase) {
            continue;
        }
        ctx.reports.lock().await.entry(phase).or_default().phase = phase.as_str().into();
        let result = run_phase(
            ctx.clone(),
            bundle,
            phase,
            total,
            opts.concurrency,
            opts.mode,
        )
        .await;
        let report = ctx
            .reports
            .lock()
            .await
            .get(&phase)
            .cloned()
            .unwrap_or_default();
        write_phase(&run_dir, phase, &report)?;
        write_errors(&run_dir, &ctx.errors.lock().await)?;
        if opts.mode == Mode::Json {
            event(json!({"event": "phase_done", "report": report}));
        }
        result?;
    }
    if run.contains(&Phase::Manual) {
        crate::manual::write_pack(bundle, &run_dir)?;
        ctx.log(Entry::PhaseDone {
            phase: Phase::Manual,
        })
        .await?;
    }
    let reports = ctx.reports.lock().await.clone();
    let errors = ctx.errors.lock().await.clone();
    Ok(PushResult {
        reports,
        errors,
        journal: journal_path,
        run_dir,
    })
}
