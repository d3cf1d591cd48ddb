//! Notes and tasks: plain creates, not idempotent. An ambiguous outcome (reset, lost
//! answer, 5xx) is settled by reading the contact's notes, or the open tasks, and matching a
//! content fingerprint that no journal entry claims yet, before any retry.

use std::collections::{HashMap, HashSet};

use anyhow::Result;
use prep::model::{Note, Task, TaskStatus};
use reqwest::Method;
use serde_json::{Value, json};

use super::{Ctx, Outcome, is_fatal, text_fingerprint};
use crate::api::{CallError, Idempotency};
use crate::journal::{Entry, Phase, PreImage};
use crate::payload;

/// Notes and tasks an earlier load left under contacts that existed before this one, by
/// contact id and import ref. Filled on first need, so a load into a fresh account (no
/// contact existed) reads nothing.
#[derive(Default)]
pub(super) struct Found {
    notes: HashMap<i64, HashMap<String, Vec<i64>>>,
    tasks: Option<HashMap<i64, HashMap<String, Vec<i64>>>>,
}

fn by_ref(list: &[Value], text_field: &str) -> HashMap<String, Vec<i64>> {
    let mut out: HashMap<String, Vec<i64>> = HashMap::new();
    for v in list {
        if let (Some(r), Some(id)) = (
            v[text_field].as_str().and_then(payload::find_import_ref),
            v["id"].as_i64(),
        ) {
            out.entry(r.to_string()).or_default().push(id);
        }
    }
    out
}

/// Every task of the account (open and completed), grouped by contact and import ref.
async fn task_index(ctx: &Ctx) -> Result<HashMap<i64, HashMap<String, Vec<i64>>>, CallError> {
    let mut by_contact: HashMap<i64, Vec<Value>> = HashMap::new();
    for filter in ["open", "completed"] {
        let mut page = 1u64;
        loop {
            let a = ctx
                .client
                .get(&format!(
                    "/tasks?filter={filter}&include=targetable&page={page}&per_page=100"
                ))
                .await?;
            for t in a.body["tasks"].as_array().into_iter().flatten() {
                if let Some(c) = t["targetable_id"].as_i64() {
                    by_contact.entry(c).or_default().push(t.clone());
                }
            }
            if page >= a.body["meta"]["total_pages"].as_u64().unwrap_or(1) {
                break;
            }
            page += 1;
        }
    }
    Ok(by_contact
        .into_iter()
        .map(|(c, list)| (c, by_ref(&list, "description")))
        .collect())
}

/// A copy of this record that an earlier load (whose journal may be gone) left in the
/// account: only looked for under a contact that existed before this load, by the record's
/// import ref, and never one this journal already answers for.
async fn earlier_copy(
    ctx: &Ctx,
    phase: Phase,
    key: &str,
    contact_key: &str,
    contact_id: i64,
) -> Result<Option<i64>, CallError> {
    let existed = matches!(
        ctx.state.lock().await.first_pre_image.get(contact_key),
        Some(PreImage::Present { .. })
    );
    if !existed {
        return Ok(None);
    }
    let wanted = payload::import_ref(key);
    let ids = {
        let mut found = ctx.found.lock().await;
        let refs = if phase == Phase::Notes {
            if let std::collections::hash_map::Entry::Vacant(slot) = found.notes.entry(contact_id) {
                let a = ctx
                    .client
                    .get(&format!("/contacts/{contact_id}/notes"))
                    .await?;
                let list = a.body["notes"].as_array().cloned().unwrap_or_default();
                slot.insert(by_ref(&list, "description"));
            }
            found.notes.get(&contact_id)
        } else {
            if found.tasks.is_none() {
                found.tasks = Some(task_index(ctx).await?);
            }
            found.tasks.as_ref().and_then(|t| t.get(&contact_id))
        };
        refs.and_then(|r| r.get(&wanted))
            .cloned()
            .unwrap_or_default()
    };
    let s = ctx.state.lock().await;
    let claimed: HashSet<i64> = s
        .done
        .values()
        .filter_map(|e| match e {
            Entry::Done { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    Ok(ids.into_iter().find(|id| !claimed.contains(id)))
}

/// Journals an earlier load's copy as this record (not created by this load, so rollback
/// leaves it, as it leaves the contact it is under). The caller counts it.
async fn adopt(ctx: &Ctx, phase: Phase, key: &str, id: i64, fingerprint: String) -> Result<()> {
    ctx.log(Entry::Done {
        phase,
        key: key.into(),
        id,
        created: false,
        fingerprint,
        updated_at: None,
    })
    .await
}

const EARLIER_COPY: &str = "already in Freshsales (an earlier load's copy)";

/// Ids of records on `contact_id` (read with `path`) whose fingerprint is `fp` and which no
/// journal entry claims yet.
async fn unclaimed(
    ctx: &Ctx,
    list: Vec<Value>,
    fp: &str,
    fp_of: impl Fn(&Value) -> String,
) -> Option<i64> {
    let ids_of = |s: &crate::journal::State| -> Vec<i64> {
        s.done
            .values()
            .filter_map(|e| match e {
                Entry::Done { id, .. } => Some(*id),
                _ => None,
            })
            .collect()
    };
    // Records this load or the previous one (`--since`) already answers for are not the
    // lost one, however alike.
    let mut claimed: HashSet<i64> = ids_of(&*ctx.state.lock().await).into_iter().collect();
    if let Some(since) = &ctx.since {
        claimed.extend(ids_of(since));
    }
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
        text_fingerprint(&payload::comparable_text(
            v["description"].as_str().unwrap_or(""),
        ))
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
    // An earlier attempt may have landed (crash, lost answers, retries given up): look
    // before creating again.
    // A read that fails here leaves the record in doubt (never created blind), and the
    // load goes on; the next push looks again.
    let in_doubt = ctx.state.lock().await.in_doubt(key);
    if in_doubt {
        match landed().await {
            Ok(Some(id)) => return Ok(Ok(id)),
            Ok(None) => {}
            Err(e) if is_fatal(&e) => return Err(e.into()),
            Err(e) => return Ok(Err(not_settled(e))),
        }
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
            Err(CallError::Ambiguous(_)) => match landed().await {
                Ok(Some(id)) => return Ok(Ok(id)),
                Ok(None) => {}
                Err(e) if is_fatal(&e) => return Err(e.into()),
                Err(e) => return Ok(Err(not_settled(e))),
            },
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Err(CallError::GaveUp {
        attempts: 6,
        last: "every attempt lost its answer".into(),
    }))
}

/// A failed read-back, as the outcome of the create it was settling: no status, so the
/// record stays in doubt.
fn not_settled(e: CallError) -> CallError {
    CallError::GaveUp {
        attempts: 1,
        last: format!("could not read back whether it landed ({e})"),
    }
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

pub(super) async fn push_note(ctx: &Ctx, n: Note) -> Result<()> {
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
    let comparable = text_fingerprint(&payload::comparable_text(
        body["note"]["description"].as_str().unwrap_or(""),
    ));
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
    match earlier_copy(ctx, Phase::Notes, &n.key, &n.contact, contact_id).await {
        Ok(Some(id)) => {
            adopt(ctx, Phase::Notes, &n.key, id, fp).await?;
            ctx.count(Phase::Notes, Outcome::Skipped(EARLIER_COPY.into()))
                .await;
            return Ok(());
        }
        Ok(None) => {}
        Err(e) if is_fatal(&e) => return Err(e.into()),
        Err(e) => {
            let source = format!("{} row {}", n.source.file, n.source.row);
            return ctx
                .reject(Phase::Notes, &n.key, source, &n, &not_settled(e))
                .await;
        }
    }
    let body = payload::note(&n, contact_id);
    let created = create_child(ctx, Phase::Notes, &n.key, "/notes", &body, || {
        landed_note(ctx, contact_id, &comparable)
    })
    .await?;
    let source = format!("{} row {}", n.source.file, n.source.row);
    if settle(ctx, Phase::Notes, &n.key, source, &n, fp, created)
        .await?
        .is_some()
    {
        ctx.count(Phase::Notes, Outcome::Created).await;
    }
    Ok(())
}

/// Journals a created note or task, or files its refusal in the error report; the id when
/// it was created.
async fn settle(
    ctx: &Ctx,
    phase: Phase,
    key: &str,
    source: String,
    record: &impl serde::Serialize,
    fingerprint: String,
    created: Result<i64, CallError>,
) -> Result<Option<i64>> {
    match created {
        Ok(id) => {
            ctx.log(Entry::Done {
                phase,
                key: key.into(),
                id,
                created: true,
                fingerprint,
                updated_at: None,
            })
            .await?;
            Ok(Some(id))
        }
        Err(e) if is_fatal(&e) => Err(e.into()),
        Err(e) => {
            ctx.reject(phase, key, source, record, &e).await?;
            Ok(None)
        }
    }
}

/// Completes a closed task. `Ok(false)` when Freshsales refused (reported as the task's
/// failure, so the caller counts nothing more for it).
async fn complete_task(ctx: &Ctx, t: &Task, id: i64) -> Result<bool> {
    if t.status != TaskStatus::Completed || ctx.state.lock().await.completed.contains(&t.key) {
        return Ok(true);
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
        Ok(_) => {
            ctx.log(Entry::Completed { key: t.key.clone() }).await?;
            Ok(true)
        }
        Err(e) if is_fatal(&e) => Err(e.into()),
        Err(e) => {
            ctx.reject(
                Phase::Tasks,
                &t.key,
                format!("{} row {} (completing)", t.source.file, t.source.row),
                t,
                &e,
            )
            .await?;
            Ok(false)
        }
    }
}

/// `--since`: a task the previous load created and the export has changed since is
/// updated in place (tasks have no upsert; creating it again would leave two). `Ok(None)`
/// when there is no such task (or it was deleted since), so it is created.
async fn update_previous_task(
    ctx: &Ctx,
    t: &Task,
    body: &Value,
    identity: &str,
) -> Result<Option<bool>> {
    let Some(id) = ctx.since.as_ref().and_then(|s| s.id(&t.key)) else {
        return Ok(None);
    };
    ctx.log(Entry::Intent {
        phase: Phase::Tasks,
        key: t.key.clone(),
        pre_image: PreImage::NotApplicable,
    })
    .await?;
    match ctx
        .client
        .call(
            Method::PUT,
            &format!("/tasks/{id}"),
            Some(body),
            Idempotency::Safe,
        )
        .await
    {
        Ok(_) => {
            ctx.log(Entry::Done {
                phase: Phase::Tasks,
                key: t.key.clone(),
                id,
                created: false,
                fingerprint: identity.to_string(),
                updated_at: None,
            })
            .await?;
            let completed = complete_task(ctx, t, id).await?;
            if completed {
                ctx.count(Phase::Tasks, Outcome::Updated).await;
            }
            Ok(Some(completed))
        }
        Err(CallError::Rejected { status: 404, .. }) => Ok(None),
        Err(e) if is_fatal(&e) => Err(e.into()),
        Err(e) => {
            let source = format!("{} row {}", t.source.file, t.source.row);
            ctx.reject(Phase::Tasks, &t.key, source, t, &e).await?;
            Ok(Some(false))
        }
    }
}

pub(super) async fn push_task(ctx: &Ctx, t: Task) -> Result<()> {
    // Bound first: a guard in the `if let` would live through the body, and
    // `complete_task` takes the same lock.
    let done = ctx.state.lock().await.id(&t.key);
    if let Some(id) = done {
        if complete_task(ctx, &t, id).await? {
            ctx.count(
                Phase::Tasks,
                Outcome::Skipped("already loaded (resumed)".into()),
            )
            .await;
        }
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
        if closed_before || complete_task(ctx, &t, id).await? {
            ctx.count(Phase::Tasks, Outcome::Skipped(reason)).await;
        }
        return Ok(());
    }
    let Some(contact_id) = contact_id_for(ctx, Phase::Tasks, &t.key, &t.contact).await? else {
        return Ok(());
    };
    let owner = ctx.pre.targets.owner(t.owner.as_deref());
    let body = payload::task(&t, contact_id, owner, &ctx.fallback_due);
    if update_previous_task(ctx, &t, &body, &identity)
        .await?
        .is_some()
    {
        return Ok(());
    }
    match earlier_copy(ctx, Phase::Tasks, &t.key, &t.contact, contact_id).await {
        Ok(Some(id)) => {
            adopt(ctx, Phase::Tasks, &t.key, id, identity).await?;
            if complete_task(ctx, &t, id).await? {
                ctx.count(Phase::Tasks, Outcome::Skipped(EARLIER_COPY.into()))
                    .await;
            }
            return Ok(());
        }
        Ok(None) => {}
        Err(e) if is_fatal(&e) => return Err(e.into()),
        Err(e) => {
            let source = format!("{} row {}", t.source.file, t.source.row);
            return ctx
                .reject(Phase::Tasks, &t.key, source, &t, &not_settled(e))
                .await;
        }
    }
    let fp = task_fp(&body);
    let created = create_child(ctx, Phase::Tasks, &t.key, "/tasks", &body, || {
        landed_task(ctx, contact_id, &fp)
    })
    .await?;
    let source = format!("{} row {}", t.source.file, t.source.row);
    if let Some(id) = settle(ctx, Phase::Tasks, &t.key, source, &t, identity, created).await?
        && complete_task(ctx, &t, id).await?
    {
        ctx.count(Phase::Tasks, Outcome::Created).await;
    }
    Ok(())
}
