//! `loader push`: the phased load. Every write is journalled (intent before, outcome after),
//! so a run killed at any point resumes without duplicates: contacts and accounts are
//! idempotent upserts; notes and tasks are not, so an ambiguous outcome is settled by reading
//! the contact's notes or tasks and matching a fingerprint before any retry.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use prep::bundle::Record;
use prep::model::{Account as BundleAccount, Contact, Note, Task, TaskStatus};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, mpsc};

use crate::account::{Preflight, each_record};
use crate::api::{CallError, Client, Idempotency};
use crate::journal::{self, Entry, Journal, Phase, PreImage, State};
use crate::payload::{self, Forms};
use crate::progress::{Mode, PhaseProgress, event};
use crate::report::{ErrorRow, PhaseReport, write_errors, write_phase};

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
}

enum Outcome {
    Created,
    Updated,
    Skipped(String),
    Failed,
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
            error: e.to_string(),
            record: serde_json::to_string(record).unwrap_or_default(),
        });
        self.count(phase, Outcome::Failed).await;
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

fn source_of(sources: &[prep::model::Source]) -> String {
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

async fn lookup_contact(ctx: &Ctx, email: &str) -> Result<PreImage, CallError> {
    let a = ctx
        .client
        .get(&query(
            "/lookup",
            &[("q", email.trim()), ("f", "email"), ("entities", "contact")],
        ))
        .await?;
    let found = a.body["contacts"]["contacts"].as_array().and_then(|list| {
        list.iter().find(|c| {
            let primary = c["email"]
                .as_str()
                .map(|e| e.eq_ignore_ascii_case(email.trim()))
                .unwrap_or(false);
            let any = c["emails"].as_array().is_some_and(|es| {
                es.iter().any(|e| {
                    e["value"]
                        .as_str()
                        .is_some_and(|v| v.eq_ignore_ascii_case(email.trim()))
                })
            });
            primary || any
        })
    });
    Ok(
        match found.and_then(|c| c["id"].as_i64().map(|id| (id, c.clone()))) {
            Some((id, record)) => PreImage::Present { id, record },
            None => PreImage::Absent,
        },
    )
}

async fn lookup_account(ctx: &Ctx, name: &str) -> Result<PreImage, CallError> {
    let a = ctx
        .client
        .get(&query(
            "/lookup",
            &[
                ("q", name.trim()),
                ("f", "name"),
                ("entities", "sales_account"),
            ],
        ))
        .await?;
    let found = a.body["sales_accounts"]["sales_accounts"]
        .as_array()
        .and_then(|list| {
            list.iter().find(|x| {
                x["name"]
                    .as_str()
                    .is_some_and(|n| n.trim().eq_ignore_ascii_case(name.trim()))
            })
        });
    Ok(
        match found.and_then(|x| x["id"].as_i64().map(|id| (id, x.clone()))) {
            Some((id, record)) => PreImage::Present { id, record },
            None => PreImage::Absent,
        },
    )
}

/// Finds a contact created without email by its `external_id` (the bundle key we set),
/// paging the All Contacts view: only needed when a create's outcome was lost.
async fn find_by_external_id(ctx: &Ctx, key: &str) -> Result<Option<i64>, CallError> {
    let filters = ctx.client.get("/contacts/filters").await?;
    let views = filters.body["filters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let Some(view) = views
        .iter()
        .find(|v| {
            v["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case("All Contacts"))
        })
        .or(views.first())
    else {
        return Ok(None);
    };
    let Some(view_id) = view["id"].as_i64() else {
        return Ok(None);
    };
    let mut page = 1;
    loop {
        let a = ctx
            .client
            .get(&format!(
                "/contacts/view/{view_id}?page={page}&per_page=100"
            ))
            .await?;
        if let Some(c) = a.body["contacts"]
            .as_array()
            .and_then(|l| l.iter().find(|c| c["external_id"].as_str() == Some(key)))
        {
            return Ok(c["id"].as_i64());
        }
        let total = a.body["meta"]["total_pages"].as_u64().unwrap_or(1);
        if page as u64 >= total {
            return Ok(None);
        }
        page += 1;
    }
}

fn tags_of(pre: &PreImage) -> Vec<String> {
    match pre {
        PreImage::Present { record, .. } => record["tags"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Handles a record this run need not send: already loaded by an interrupted run of the same
/// bundle, or unchanged since the previous load (`--since`). Its id is kept for the records
/// that link to it.
async fn skip_loaded(
    ctx: &Ctx,
    phase: Phase,
    key: &str,
    fp: &str,
    done: Option<i64>,
) -> Result<bool> {
    if let Some(id) = done {
        ctx.ids.lock().await.insert(key.to_string(), id);
        ctx.count(phase, Outcome::Skipped("already loaded (resumed)".into()))
            .await;
        return Ok(true);
    }
    if let Some(id) = ctx.unchanged(key, fp) {
        ctx.ids.lock().await.insert(key.to_string(), id);
        let reason = "unchanged since previous load".to_string();
        ctx.log(Entry::Skipped {
            phase,
            key: key.into(),
            reason: reason.clone(),
        })
        .await?;
        ctx.count(phase, Outcome::Skipped(reason)).await;
        return Ok(true);
    }
    Ok(false)
}

async fn push_account(ctx: &Ctx, a: BundleAccount) -> Result<()> {
    let fp = fingerprint(&a);
    let done = ctx.state.lock().await.id(&a.key);
    if skip_loaded(ctx, Phase::Accounts, &a.key, &fp, done).await? {
        return Ok(());
    }
    // As for contacts: the pre-image is read once and journalled, so after a crash the
    // journal, not the upsert's 200 (which would see our own first attempt), says whether
    // this load created the account.
    let pending = ctx.state.lock().await.pending.get(&a.key).cloned();
    let pre = match pending {
        Some(Entry::Intent { pre_image, .. }) => pre_image,
        _ => match lookup_account(ctx, &a.name).await {
            Ok(p) => p,
            Err(e) if is_fatal(&e) => return Err(e.into()),
            Err(e) => {
                return ctx
                    .reject(Phase::Accounts, &a.key, String::new(), &a, &e)
                    .await;
            }
        },
    };
    ctx.log(Entry::Intent {
        phase: Phase::Accounts,
        key: a.key.clone(),
        pre_image: pre.clone(),
    })
    .await?;
    match ctx
        .client
        .call(
            Method::POST,
            "/sales_accounts/upsert",
            Some(&payload::account(&a)),
            Idempotency::Safe,
        )
        .await
    {
        Ok(ans) => {
            let id = ans.body["sales_account"]["id"]
                .as_i64()
                .ok_or_else(|| anyhow!("sales account upsert answered without an id"))?;
            let created = matches!(pre, PreImage::Absent);
            ctx.log(Entry::Done {
                phase: Phase::Accounts,
                key: a.key.clone(),
                id,
                created,
                fingerprint: fp,
                updated_at: None,
            })
            .await?;
            ctx.ids.lock().await.insert(a.key.clone(), id);
            ctx.count(
                Phase::Accounts,
                if created {
                    Outcome::Created
                } else {
                    Outcome::Updated
                },
            )
            .await;
        }
        Err(e) if is_fatal(&e) => return Err(e.into()),
        Err(e) => {
            ctx.reject(Phase::Accounts, &a.key, String::new(), &a, &e)
                .await?
        }
    }
    Ok(())
}

/// A record's content without where it came from: a later export that only moved rows
/// around must not count as a change.
fn content_fingerprint(c: &Contact) -> String {
    let mut c = c.clone();
    c.sources.clear();
    fingerprint(&c)
}

async fn push_contact(ctx: &Ctx, c: Contact) -> Result<()> {
    let fp = content_fingerprint(&c);
    let (done, pending) = {
        let s = ctx.state.lock().await;
        (s.id(&c.key), s.pending.get(&c.key).cloned())
    };
    if skip_loaded(ctx, Phase::Contacts, &c.key, &fp, done).await? {
        return Ok(());
    }
    let account_id = match &c.account {
        Some(k) => ctx.ids.lock().await.get(k).copied(),
        None => None,
    };
    let result = match &c.email {
        Some(email) => {
            // The pre-image is read once, before the first attempt, and journalled: after a
            // crash the journal (not a second lookup, which would see our own write) says
            // whether this run created the contact.
            let pre = match pending {
                Some(Entry::Intent { pre_image, .. }) => pre_image,
                _ => match lookup_contact(ctx, email).await {
                    Ok(p) => p,
                    Err(e) if is_fatal(&e) => return Err(e.into()),
                    Err(e) => {
                        return ctx
                            .reject(Phase::Contacts, &c.key, source_of(&c.sources), &c, &e)
                            .await;
                    }
                },
            };
            ctx.log(Entry::Intent {
                phase: Phase::Contacts,
                key: c.key.clone(),
                pre_image: pre.clone(),
            })
            .await?;
            let body = json!({
                "unique_identifier": {"emails": email.trim()},
                "contact": payload::contact(&c, account_id, &tags_of(&pre), &ctx.pre.types, &ctx.pre.targets, &ctx.forms),
            });
            ctx.client
                .call(
                    Method::POST,
                    "/contacts/upsert",
                    Some(&body),
                    Idempotency::Safe,
                )
                .await
                .map(|a| (a, matches!(pre, PreImage::Absent)))
        }
        None => {
            if pending.is_some() {
                match find_by_external_id(ctx, &c.key).await {
                    Ok(Some(id)) => {
                        ctx.log(Entry::Done {
                            phase: Phase::Contacts,
                            key: c.key.clone(),
                            id,
                            created: true,
                            fingerprint: fp,
                            updated_at: None,
                        })
                        .await?;
                        ctx.ids.lock().await.insert(c.key.clone(), id);
                        ctx.count(Phase::Contacts, Outcome::Created).await;
                        return Ok(());
                    }
                    Ok(None) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            ctx.log(Entry::Intent {
                phase: Phase::Contacts,
                key: c.key.clone(),
                pre_image: PreImage::Absent,
            })
            .await?;
            let mut contact = payload::contact(
                &c,
                account_id,
                &[],
                &ctx.pre.types,
                &ctx.pre.targets,
                &ctx.forms,
            );
            contact["external_id"] = json!(c.key);
            let body = json!({ "contact": contact });
            let mut attempt = 0;
            loop {
                attempt += 1;
                match ctx
                    .client
                    .call(Method::POST, "/contacts", Some(&body), Idempotency::Create)
                    .await
                {
                    Err(CallError::Ambiguous(why)) if attempt < 6 => {
                        match find_by_external_id(ctx, &c.key).await? {
                            Some(id) => {
                                break Ok((
                                    crate::api::Answer {
                                        status: 201,
                                        body: json!({"contact": {"id": id}}),
                                    },
                                    true,
                                ));
                            }
                            None => {
                                let _ = why;
                                continue;
                            }
                        }
                    }
                    other => break other.map(|a| (a, true)),
                }
            }
        }
    };
    match result {
        Ok((ans, created)) => {
            let id = ans.body["contact"]["id"]
                .as_i64()
                .ok_or_else(|| anyhow!("contact write answered without an id"))?;
            let updated_at = ans.body["contact"]["updated_at"]
                .as_str()
                .map(str::to_string);
            ctx.log(Entry::Done {
                phase: Phase::Contacts,
                key: c.key.clone(),
                id,
                created,
                fingerprint: fp,
                updated_at,
            })
            .await?;
            ctx.ids.lock().await.insert(c.key.clone(), id);
            ctx.count(
                Phase::Contacts,
                if created {
                    Outcome::Created
                } else {
                    Outcome::Updated
                },
            )
            .await;
        }
        Err(e) if is_fatal(&e) => return Err(e.into()),
        Err(e) => {
            ctx.reject(Phase::Contacts, &c.key, source_of(&c.sources), &c, &e)
                .await?
        }
    }
    Ok(())
}

/// Ids of records on `contact_id` (read with `path`) whose fingerprint is `fp` and which no
/// journal entry claims yet.
async fn unclaimed(
    ctx: &Ctx,
    list: Vec<Value>,
    fp: &str,
    fp_of: impl Fn(&Value) -> String,
) -> Option<i64> {
    let claimed: HashSet<i64> = ctx
        .state
        .lock()
        .await
        .done
        .values()
        .filter_map(|e| match e {
            Entry::Done { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    list.iter()
        .filter(|v| fp_of(v) == fp)
        .filter_map(|v| v["id"].as_i64())
        .find(|id| !claimed.contains(id))
}

async fn landed_note(ctx: &Ctx, contact_id: i64, fp: &str) -> Result<Option<i64>, CallError> {
    let a = ctx
        .client
        .get(&format!("/contacts/{contact_id}/notes"))
        .await?;
    let list = a.body["notes"].as_array().cloned().unwrap_or_default();
    Ok(unclaimed(ctx, list, fp, |v| {
        text_fingerprint(v["description"].as_str().unwrap_or(""))
    })
    .await)
}

/// The instant a due date names, so `…Z` sent and `…+00:00` read back compare equal.
fn due_instant(due: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(due, &Rfc3339) {
        Ok(t) => t.unix_timestamp().to_string(),
        Err(_) => due.to_string(),
    }
}

fn task_fp(body: &Value) -> String {
    let t = &body["task"];
    text_fingerprint(&format!(
        "{}\u{0}{}\u{0}{}",
        t["title"].as_str().unwrap_or(""),
        t["description"].as_str().unwrap_or(""),
        due_instant(t["due_date"].as_str().unwrap_or(""))
    ))
}

/// Tasks have no per-contact list upstream, only `GET /tasks?filter=…` over the whole
/// account; a task whose create answer was lost is still open (completion comes after the
/// journal records its id), so the open list is searched, page by page, for one on this
/// contact. Costly, but only run for the rare ambiguous outcome.
async fn landed_task(ctx: &Ctx, contact_id: i64, fp: &str) -> Result<Option<i64>, CallError> {
    let mut page = 1u64;
    loop {
        let a = ctx
            .client
            .get(&format!(
                "/tasks?filter=open&include=targetable&page={page}&per_page=100"
            ))
            .await?;
        let list: Vec<Value> = a.body["tasks"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter(|t| t["targetable_id"].as_i64() == Some(contact_id))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if let Some(id) = unclaimed(ctx, list, fp, |v| task_fp(&json!({ "task": v }))).await {
            return Ok(Some(id));
        }
        let total = a.body["meta"]["total_pages"].as_u64().unwrap_or(1);
        if page >= total {
            return Ok(None);
        }
        page += 1;
    }
}

/// Creates a note or task, settling lost outcomes by reading before retrying.
async fn create_child<F, Fut>(
    ctx: &Ctx,
    phase: Phase,
    key: &str,
    path: &str,
    body: &Value,
    landed: F,
) -> Result<Result<i64, CallError>>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Option<i64>, CallError>>,
{
    let pending = ctx.state.lock().await.pending.contains_key(key);
    if pending && let Some(id) = landed().await? {
        return Ok(Ok(id));
    }
    ctx.log(Entry::Intent {
        phase,
        key: key.into(),
        pre_image: PreImage::NotApplicable,
    })
    .await?;
    for _ in 0..6 {
        match ctx
            .client
            .call(Method::POST, path, Some(body), Idempotency::Create)
            .await
        {
            Ok(a) => {
                let root = if phase == Phase::Notes {
                    "note"
                } else {
                    "task"
                };
                return Ok(a.body[root]["id"]
                    .as_i64()
                    .ok_or_else(|| CallError::Rejected {
                        status: a.status,
                        message: "answer without an id".into(),
                    }));
            }
            Err(CallError::Ambiguous(_)) => {
                if let Some(id) = landed().await? {
                    return Ok(Ok(id));
                }
            }
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Err(CallError::GaveUp {
        attempts: 6,
        last: "every attempt lost its answer".into(),
    }))
}

async fn contact_id_for(ctx: &Ctx, phase: Phase, key: &str, contact: &str) -> Result<Option<i64>> {
    let id = ctx.ids.lock().await.get(contact).copied();
    if id.is_none() {
        ctx.log(Entry::Skipped {
            phase,
            key: key.into(),
            reason: "its contact was not loaded".into(),
        })
        .await?;
        ctx.count(phase, Outcome::Skipped("its contact was not loaded".into()))
            .await;
    }
    Ok(id)
}

async fn push_note(ctx: &Ctx, n: Note) -> Result<()> {
    if ctx.state.lock().await.id(&n.key).is_some() {
        ctx.count(
            Phase::Notes,
            Outcome::Skipped("already loaded (resumed)".into()),
        )
        .await;
        return Ok(());
    }
    let body = payload::note(&n, 0);
    let fp = text_fingerprint(body["note"]["description"].as_str().unwrap_or(""));
    if ctx.unchanged(&n.key, &fp).is_some() {
        ctx.log(Entry::Skipped {
            phase: Phase::Notes,
            key: n.key.clone(),
            reason: "unchanged since previous load".into(),
        })
        .await?;
        ctx.count(
            Phase::Notes,
            Outcome::Skipped("unchanged since previous load".into()),
        )
        .await;
        return Ok(());
    }
    let Some(contact_id) = contact_id_for(ctx, Phase::Notes, &n.key, &n.contact).await? else {
        return Ok(());
    };
    let body = payload::note(&n, contact_id);
    match create_child(ctx, Phase::Notes, &n.key, "/notes", &body, || {
        landed_note(ctx, contact_id, &fp)
    })
    .await?
    {
        Ok(id) => {
            ctx.log(Entry::Done {
                phase: Phase::Notes,
                key: n.key.clone(),
                id,
                created: true,
                fingerprint: fp,
                updated_at: None,
            })
            .await?;
            ctx.count(Phase::Notes, Outcome::Created).await;
        }
        Err(e) if is_fatal(&e) => return Err(e.into()),
        Err(e) => {
            ctx.reject(
                Phase::Notes,
                &n.key,
                format!("{} row {}", n.source.file, n.source.row),
                &n,
                &e,
            )
            .await?
        }
    }
    Ok(())
}

async fn complete_task(ctx: &Ctx, t: &Task, id: i64) -> Result<()> {
    if t.status != TaskStatus::Completed || ctx.state.lock().await.completed.contains(&t.key) {
        return Ok(());
    }
    match ctx
        .client
        .call(
            Method::PUT,
            &format!("/tasks/{id}"),
            Some(&json!({"task": {"status": 1}})),
            Idempotency::Safe,
        )
        .await
    {
        Ok(_) => ctx.log(Entry::Completed { key: t.key.clone() }).await,
        Err(e) if is_fatal(&e) => Err(e.into()),
        Err(e) => {
            ctx.reject(
                Phase::Tasks,
                &t.key,
                format!("{} row {} (completing)", t.source.file, t.source.row),
                t,
                &e,
            )
            .await
        }
    }
}

async fn push_task(ctx: &Ctx, t: Task) -> Result<()> {
    // Bound first: a guard in the `if let` would live through the body, and
    // `complete_task` takes the same lock.
    let done = ctx.state.lock().await.id(&t.key);
    if let Some(id) = done {
        complete_task(ctx, &t, id).await?;
        ctx.count(
            Phase::Tasks,
            Outcome::Skipped("already loaded (resumed)".into()),
        )
        .await;
        return Ok(());
    }
    // What the task is, as exported: stable across exports (unlike the fallback due date,
    // which is the confirmation time), so a later bundle recognises it with `--since`.
    let identity = text_fingerprint(&format!(
        "{}\u{0}{}\u{0}{}\u{0}{}",
        t.contact,
        t.title,
        t.details.as_deref().unwrap_or(""),
        t.due_date.as_deref().unwrap_or("")
    ));
    if let Some(id) = ctx.unchanged(&t.key, &identity) {
        let reason = "unchanged since previous load".to_string();
        ctx.log(Entry::Skipped {
            phase: Phase::Tasks,
            key: t.key.clone(),
            reason: reason.clone(),
        })
        .await?;
        // Closed in AllClients since the previous export: close it here too.
        let closed_before = ctx
            .since
            .as_ref()
            .is_some_and(|s| s.completed.contains(&t.key));
        if !closed_before {
            complete_task(ctx, &t, id).await?;
        }
        ctx.count(Phase::Tasks, Outcome::Skipped(reason)).await;
        return Ok(());
    }
    let Some(contact_id) = contact_id_for(ctx, Phase::Tasks, &t.key, &t.contact).await? else {
        return Ok(());
    };
    let owner = ctx.pre.targets.owner(t.owner.as_deref());
    let body = payload::task(&t, contact_id, owner, &ctx.fallback_due);
    let fp = task_fp(&body);
    match create_child(ctx, Phase::Tasks, &t.key, "/tasks", &body, || {
        landed_task(ctx, contact_id, &fp)
    })
    .await?
    {
        Ok(id) => {
            ctx.log(Entry::Done {
                phase: Phase::Tasks,
                key: t.key.clone(),
                id,
                created: true,
                fingerprint: identity,
                updated_at: None,
            })
            .await?;
            complete_task(ctx, &t, id).await?;
            ctx.count(Phase::Tasks, Outcome::Created).await;
        }
        Err(e) if is_fatal(&e) => return Err(e.into()),
        Err(e) => {
            ctx.reject(
                Phase::Tasks,
                &t.key,
                format!("{} row {}", t.source.file, t.source.row),
                &t,
                &e,
            )
            .await?
        }
    }
    Ok(())
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
                    Record::Account(a) => push_account(&ctx, a).await,
                    Record::Contact(c) => push_contact(&ctx, c).await,
                    Record::Note(n) => push_note(&ctx, n).await,
                    Record::Task(t) => push_task(&ctx, t).await,
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
    let entries = journal::read(&journal_path)?;
    let state = State::replay(&entries);
    if let Some(h) = &state.bundle_sha256
        && h != &pre.manifest.content_sha256
    {
        anyhow::bail!(
            "{} belongs to another bundle ({h}); move it away to start a fresh load of this one",
            journal_path.display()
        );
    }
    let since = match &opts.since {
        Some(p) => Some(State::replay(&journal::read(p)?)),
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
    let mut journal = Journal::open(&journal_path)?;
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
    });
    for (phase, total) in [
        (Phase::Accounts, stats.accounts),
        (
            Phase::Contacts,
            stats.contacts_with_email + stats.contacts_without_email,
        ),
        (Phase::Notes, stats.notes),
        (Phase::Tasks, stats.tasks),
    ] {
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
    crate::manual::write_pack(bundle, &run_dir)?;
    ctx.log(Entry::PhaseDone {
        phase: Phase::Manual,
    })
    .await?;
    let reports = ctx.reports.lock().await.clone();
    let errors = ctx.errors.lock().await.clone();
    Ok(PushResult {
        reports,
        errors,
        journal: journal_path,
        run_dir,
    })
}
