//! Notes, tasks and appointments: plain creates under a contact, not idempotent, driven by
//! one driver. Every record carries its import ref, so an ambiguous outcome (reset, lost
//! answer, 5xx) is settled by reading the records under its contact and finding the ref
//! that no journal entry claims yet, before any retry; and a copy an earlier load left
//! (whose journal may be gone) is found the same way under contacts that existed before.

use std::collections::HashMap;

use anyhow::Result;
use reqwest::Method;
use serde_json::{Value, json};

use super::kinds::{Child, Index, account_index, under};
use super::{Ctx, Outcome, is_fatal};
use crate::api::{CallError, Idempotency};
use crate::journal::{Entry, Phase, PreImage};
use crate::payload;

/// What the account already holds, read once when first needed: notes by contact id, and
/// the account-wide indexes of tasks and appointments. A load into a fresh account (no
/// contact existed, no contact-less appointments) reads nothing.
#[derive(Default)]
pub(super) struct Found {
    notes: HashMap<i64, Vec<Value>>,
    indexes: HashMap<Phase, Index>,
}

const EARLIER_COPY: &str = "already in Freshsales (an earlier load's copy)";
const RESUMED: &str = "already loaded (resumed)";
const UNCHANGED: &str = "unchanged since previous load";

/// The id of the record in `list` that carries `key`'s import ref and that no journal in
/// play (this load's, or the previous one's with `--since`) answers for yet.
async fn unclaimed(ctx: &Ctx, list: &[Value], key: &str) -> Option<i64> {
    let wanted = payload::import_ref(key);
    let candidates: Vec<i64> = list
        .iter()
        .filter(|v| v["description"].as_str().and_then(payload::find_import_ref) == Some(&wanted))
        .filter_map(|v| v["id"].as_i64())
        .collect();
    if candidates.is_empty() {
        return None;
    }
    let state = ctx.state.lock().await;
    let since = ctx.since.as_ref();
    candidates
        .into_iter()
        .find(|id| !state.claimed.contains(id) && !since.is_some_and(|s| s.claimed.contains(id)))
}

/// A copy of this record that an earlier load left in the account: looked for under a
/// contact that existed before this load (its journalled pre-image says so), or among the
/// account's contact-less appointments.
async fn earlier_copy(
    ctx: &Ctx,
    c: &Child,
    contact: Option<i64>,
) -> Result<Option<i64>, CallError> {
    let phase = c.phase();
    if let Some(key) = c.contact() {
        // It existed before this load: its pre-image says so, or the previous load
        // (`--since`) already had it.
        let existed = matches!(
            ctx.state.lock().await.first_pre_image.get(key),
            Some(PreImage::Present { .. })
        ) || ctx.since.as_ref().is_some_and(|s| s.id(key).is_some());
        if !existed {
            return Ok(None);
        }
    }
    let list = {
        let mut found = ctx.found.lock().await;
        match (phase, contact) {
            (Phase::Notes, Some(id)) => {
                if let std::collections::hash_map::Entry::Vacant(slot) = found.notes.entry(id) {
                    slot.insert(under(ctx, phase, Some(id)).await?);
                }
                found.notes.get(&id).cloned().unwrap_or_default()
            }
            _ => {
                if let std::collections::hash_map::Entry::Vacant(slot) = found.indexes.entry(phase)
                {
                    slot.insert(account_index(ctx, phase).await?);
                }
                found
                    .indexes
                    .get(&phase)
                    .and_then(|i| i.get(&contact))
                    .cloned()
                    .unwrap_or_default()
            }
        }
    };
    Ok(unclaimed(ctx, &list, c.key()).await)
}

/// A failed read-back, as the outcome of the create it was settling: no status, so the
/// record stays in doubt.
fn not_settled(e: CallError) -> CallError {
    CallError::GaveUp {
        attempts: 1,
        last: format!("could not read back whether it landed ({e})"),
    }
}

/// Creates the record, settling lost outcomes by reading before retrying. A read that
/// fails leaves the record in doubt (never created blind), and the load goes on.
async fn create(
    ctx: &Ctx,
    c: &Child,
    contact: Option<i64>,
    body: &Value,
) -> Result<Result<i64, CallError>> {
    let (phase, key) = (c.phase(), c.key());
    let (path, root) = c.path_and_root();
    let landed = || under(ctx, phase, contact);
    let in_doubt = ctx.state.lock().await.in_doubt(key);
    if in_doubt {
        match landed().await {
            Ok(list) => {
                if let Some(id) = unclaimed(ctx, &list, key).await {
                    return Ok(Ok(id));
                }
            }
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
                return Ok(a.body[root]["id"]
                    .as_i64()
                    .ok_or_else(|| CallError::Rejected {
                        status: a.status,
                        message: "answer without an id".into(),
                    }));
            }
            Err(CallError::Ambiguous(_)) => match landed().await {
                Ok(list) => {
                    if let Some(id) = unclaimed(ctx, &list, key).await {
                        return Ok(Ok(id));
                    }
                }
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

/// Journals a landed record (`created`: by this load), or files its refusal; the id when it
/// landed.
async fn settle(
    ctx: &Ctx,
    c: &Child,
    identity: String,
    created: bool,
    outcome: Result<i64, CallError>,
) -> Result<Option<i64>> {
    match outcome {
        Ok(id) => {
            ctx.log(Entry::Done {
                phase: c.phase(),
                key: c.key().into(),
                id,
                created,
                fingerprint: identity,
                updated_at: None,
            })
            .await?;
            Ok(Some(id))
        }
        Err(e) if is_fatal(&e) => Err(e.into()),
        Err(e) => {
            ctx.reject(c.phase(), c.key(), c.source(), &c.record_json(), &e)
                .await?;
            Ok(None)
        }
    }
}

/// Completes a closed task. `Ok(false)` when Freshsales refused (reported as the task's
/// failure, so the caller counts nothing more for it).
async fn after(ctx: &Ctx, c: &Child, id: i64) -> Result<bool> {
    let Some(t) = c.completes() else {
        return Ok(true);
    };
    if ctx.state.lock().await.completed.contains(&t.key) {
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
            let source = format!("{} (completing)", c.source());
            ctx.reject(Phase::Tasks, &t.key, source, t, &e).await?;
            Ok(false)
        }
    }
}

/// `--since`: a record the previous load created and the export has changed since is
/// updated in place (no upsert; creating it again would leave two). `Ok(None)` when there
/// is no such record (or it was deleted since), so it is created.
async fn update_previous(ctx: &Ctx, c: &Child, body: &Value, identity: &str) -> Result<Option<()>> {
    if !c.updates_in_place() {
        return Ok(None);
    }
    let Some(id) = ctx.since.as_ref().and_then(|s| s.id(c.key())) else {
        return Ok(None);
    };
    ctx.log(Entry::Intent {
        phase: c.phase(),
        key: c.key().into(),
        pre_image: PreImage::NotApplicable,
    })
    .await?;
    let (path, root) = c.path_and_root();
    // Attendees are nested attributes: sent again on an update they would be added twice.
    let mut body = body.clone();
    if let Some(m) = body[root].as_object_mut() {
        m.remove("appointment_attendees_attributes");
    }
    match ctx
        .client
        .call(
            Method::PUT,
            &format!("{path}/{id}"),
            Some(&body),
            Idempotency::Safe,
        )
        .await
    {
        Ok(_) => {
            settle(ctx, c, identity.to_string(), false, Ok(id)).await?;
            if after(ctx, c, id).await? {
                ctx.count(c.phase(), Outcome::Updated).await;
            }
            Ok(Some(()))
        }
        Err(CallError::Rejected { status: 404, .. }) => Ok(None),
        Err(e) if is_fatal(&e) => Err(e.into()),
        Err(e) => {
            ctx.reject(c.phase(), c.key(), c.source(), &c.record_json(), &e)
                .await?;
            Ok(Some(()))
        }
    }
}

/// Why a system note was not sent (`push --leave-system-notes`).
const LEFT_BEHIND: &str = "system note left behind by choice (--leave-system-notes)";

/// Logs and counts a record not sent.
async fn skipped(ctx: &Ctx, c: &Child, reason: &str, journal: bool) -> Result<()> {
    if journal {
        ctx.log(Entry::Skipped {
            phase: c.phase(),
            key: c.key().into(),
            reason: reason.into(),
        })
        .await?;
    }
    ctx.count(c.phase(), Outcome::Skipped(reason.into())).await;
    Ok(())
}

/// Loads one note, task or appointment.
pub(super) async fn push_child(ctx: &Ctx, c: Child) -> Result<()> {
    let phase = c.phase();
    // Bound first: a guard in the `if let` would live through the body, and `after` takes
    // the same lock.
    let done = ctx.state.lock().await.id(c.key());
    if let Some(id) = done {
        if after(ctx, &c, id).await? {
            skipped(ctx, &c, RESUMED, false).await?;
        }
        return Ok(());
    }
    if ctx.leave_system_notes
        && let Child::Note(n) = &c
        && n.system
    {
        return skipped(ctx, &c, LEFT_BEHIND, true).await;
    }
    let identity = c.identity(ctx);
    // A note's key is its contact, date and text, so a note the previous load has is the
    // same note even if this version writes its import line differently.
    let unchanged = match &c {
        Child::Note(_) => ctx.since.as_ref().and_then(|s| s.id(c.key())),
        _ => ctx.unchanged(c.key(), &identity),
    };
    if let Some(id) = unchanged {
        // Closed in AllClients since the previous export: close it here too.
        let closed_before = ctx
            .since
            .as_ref()
            .is_some_and(|s| s.completed.contains(c.key()));
        if closed_before || after(ctx, &c, id).await? {
            skipped(ctx, &c, UNCHANGED, true).await?;
        }
        return Ok(());
    }
    let contact = match c.contact() {
        Some(key) => match ctx.ids.lock().await.get(key).copied() {
            Some(id) => Some(id),
            None => return skipped(ctx, &c, "its contact was not loaded", true).await,
        },
        None => None,
    };
    let body = match c.body(ctx, contact) {
        Ok(b) => b,
        Err(why) => return skipped(ctx, &c, &why, true).await,
    };
    if update_previous(ctx, &c, &body, &identity).await?.is_some() {
        return Ok(());
    }
    // A record in doubt is this load's own: `create` settles it (as created by this load).
    let in_doubt = ctx.state.lock().await.in_doubt(c.key());
    let earlier = if in_doubt {
        Ok(None)
    } else {
        earlier_copy(ctx, &c, contact).await
    };
    match earlier {
        Ok(Some(id)) => {
            settle(ctx, &c, identity, false, Ok(id)).await?;
            if after(ctx, &c, id).await? {
                skipped(ctx, &c, EARLIER_COPY, false).await?;
            }
            return Ok(());
        }
        Ok(None) => {}
        Err(e) if is_fatal(&e) => return Err(e.into()),
        Err(e) => {
            return ctx
                .reject(
                    phase,
                    c.key(),
                    c.source(),
                    &c.record_json(),
                    &not_settled(e),
                )
                .await;
        }
    }
    let outcome = create(ctx, &c, contact, &body).await?;
    if let Some(id) = settle(ctx, &c, identity, true, outcome).await?
        && after(ctx, &c, id).await?
    {
        ctx.count(phase, Outcome::Created).await;
    }
    Ok(())
}
