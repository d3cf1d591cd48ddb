//! `loader rollback`: undoes a load from its journal, children first. Records the load
//! created are deleted; records it updated get their captured pre-image back; records
//! someone edited after the import are kept and reported. Rollback journals every step in
//! the same journal, so it can be resumed.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::{CallError, Client, Idempotency};
use crate::journal::{self, Entry, Journal, Phase, PreImage, State};

/// What rollback did, or would do with `--dry-run`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RollbackReport {
    /// Records deleted.
    pub deleted: u64,
    /// Records restored to their pre-image.
    pub restored: u64,
    /// Records kept because someone edited them after the import (keys).
    pub kept_edited: Vec<String>,
    /// Records kept because the journal cannot say what they looked like before (keys).
    #[serde(default)]
    pub kept_uncertain: Vec<String>,
    /// Writes whose outcome the journal never learned (keys): they may have landed and
    /// cannot be undone from the journal; check them by hand.
    #[serde(default)]
    pub in_doubt: Vec<String>,
    /// Records already gone.
    pub already_gone: u64,
    /// Records rolled back by an earlier, interrupted rollback.
    pub resumed: u64,
    /// Planned actions (`--dry-run`): key and action.
    pub planned: Vec<(String, String)>,
}

/// Fields restored on a contact the load updated: every field the loader may write.
const RESTORED: [&str; 13] = [
    "external_id",
    "first_name",
    "last_name",
    "job_title",
    "work_number",
    "mobile_number",
    "address",
    "city",
    "state",
    "zipcode",
    "country",
    "owner_id",
    "sales_account_id",
];

fn restore_body(pre: &Value) -> Value {
    let mut m = Map::new();
    // Only what the pre-image captured: a field it does not show is left alone rather
    // than blanked.
    for f in RESTORED {
        if let Some(v) = pre.get(f) {
            m.insert(f.into(), v.clone());
        }
    }
    if let Some(tags) = pre.get("tags") {
        m.insert("tags".into(), tags.clone());
    }
    if let Some(cf) = pre.get("custom_field") {
        m.insert("custom_field".into(), cf.clone());
    }
    // The upsert replaced the email list and may have linked another account: both go back
    // as they were, in the write shape.
    if let Some(emails) = pre.get("emails").and_then(Value::as_array) {
        let list: Vec<Value> = emails
            .iter()
            .filter_map(|e| {
                let value = e.get("value").and_then(Value::as_str).or(e.as_str())?;
                Some(serde_json::json!({
                    "value": value,
                    "is_primary": e.get("is_primary").and_then(Value::as_bool).unwrap_or(false),
                }))
            })
            .collect();
        if !list.is_empty() {
            m.insert("emails".into(), Value::Array(list));
        }
    }
    if let Some(accounts) = pre.get("sales_accounts").and_then(Value::as_array) {
        let list: Vec<Value> = accounts
            .iter()
            .filter_map(|a| {
                Some(serde_json::json!({
                    "id": a.get("id").and_then(Value::as_i64)?,
                    "is_primary": a.get("is_primary").and_then(Value::as_bool).unwrap_or(false),
                }))
            })
            .collect();
        m.remove("sales_account_id");
        m.insert("sales_accounts".into(), Value::Array(list));
    }
    serde_json::json!({ "contact": m })
}

async fn delete(client: &Client, paths: &[String]) -> Result<&'static str, CallError> {
    let mut last = None;
    for p in paths {
        match client
            .call(Method::DELETE, p, None, Idempotency::Safe)
            .await
        {
            Ok(_) => return Ok("deleted"),
            Err(CallError::Rejected { status: 404, .. }) => last = Some("already_gone"),
            // A `forget` route the account does not have may answer with an HTML 404: try
            // the plain delete next.
            Err(CallError::NotJson { status: 404, .. }) if p.ends_with("/forget") => {}
            Err(e) => return Err(e),
        }
    }
    Ok(last.unwrap_or("already_gone"))
}

/// Rolls back the load recorded in `journal_path`.
pub async fn rollback(
    journal_path: &Path,
    client: &Client,
    dry_run: bool,
    soft_delete: bool,
) -> Result<RollbackReport> {
    if !journal_path.is_file() {
        anyhow::bail!(
            "{} does not exist: nothing to roll back (a load's journal is \
             <bundle>.journal.jsonl, next to the bundle)",
            journal_path.display()
        );
    }
    // Locked before it is read, so a push still running cannot add records behind us.
    let mut journal = if dry_run {
        None
    } else {
        Some(Journal::open(journal_path)?)
    };
    let entries = journal::read(journal_path)?;
    let state = State::replay(&entries);
    // The pre-image journalled before each record's first write (the first intent is the
    // one read before anything of ours landed).
    let mut pre_images: HashMap<&str, &PreImage> = HashMap::new();
    for e in &entries {
        if let Entry::Intent { key, pre_image, .. } = e {
            pre_images.entry(key.as_str()).or_insert(pre_image);
        }
    }
    if let Some(t) = &state.target
        && t != client.base()
    {
        anyhow::bail!(
            "{} records a load into {t}, not {}: roll it back with --target {t}",
            journal_path.display(),
            client.base()
        );
    }
    let mut report = RollbackReport::default();
    let mut doubtful: Vec<String> = state
        .pending
        .keys()
        .chain(state.failed.keys())
        .filter(|k| state.in_doubt(k) && !state.done.contains_key(*k))
        .cloned()
        .collect();
    doubtful.sort();
    report.in_doubt = doubtful;
    for phase in [
        Phase::Appointments,
        Phase::Tasks,
        Phase::Notes,
        Phase::Contacts,
        Phase::Accounts,
    ] {
        // Journal order, reversed: the newest records first.
        let done: Vec<&Entry> = entries
            .iter()
            .rev()
            .filter(|e| matches!(e, Entry::Done { phase: p, .. } if *p == phase))
            .collect();
        for e in done {
            let Entry::Done {
                key,
                id,
                created,
                updated_at,
                ..
            } = e
            else {
                continue;
            };
            if state.rolled_back.contains_key(key) {
                report.resumed += 1;
                continue;
            }
            let resource = match phase {
                Phase::Appointments => "appointments",
                Phase::Tasks => "tasks",
                Phase::Notes => "notes",
                Phase::Contacts => "contacts",
                _ => "sales_accounts",
            };
            let edited_since = if phase == Phase::Contacts && updated_at.is_some() {
                match client.get(&format!("/contacts/{id}")).await {
                    Ok(a) => a.body["contact"]["updated_at"].as_str() != updated_at.as_deref(),
                    Err(CallError::Rejected { status: 404, .. }) => false,
                    Err(e) => return Err(e.into()),
                }
            } else {
                false
            };
            let action = if edited_since {
                "kept_edited"
            } else if *created {
                "delete"
            } else if phase != Phase::Contacts {
                // Updated accounts only had their own name written back: nothing to undo.
                "nothing"
            } else {
                match pre_images.get(key.as_str()) {
                    Some(PreImage::Present { id: before, .. }) if before == id => "restore",
                    // The pre-image is of another record than the one the load wrote to:
                    // restoring it there would overwrite a stranger. Left for a person.
                    Some(PreImage::Present { .. }) => "kept_uncertain",
                    _ => "nothing",
                }
            };
            if dry_run {
                report.planned.push((key.clone(), action.into()));
                continue;
            }
            let done_action = match action {
                "kept_edited" => {
                    report.kept_edited.push(key.clone());
                    "kept_edited"
                }
                "kept_uncertain" => {
                    report.kept_uncertain.push(key.clone());
                    "kept_uncertain"
                }
                "delete" => {
                    let mut paths = Vec::new();
                    if !soft_delete && matches!(phase, Phase::Contacts | Phase::Accounts) {
                        paths.push(format!("/{resource}/{id}/forget"));
                    }
                    paths.push(format!("/{resource}/{id}"));
                    let a = delete(client, &paths).await?;
                    if a == "deleted" {
                        report.deleted += 1;
                    } else {
                        report.already_gone += 1;
                    }
                    a
                }
                "restore" => {
                    if let Some(PreImage::Present { record: pre, .. }) =
                        pre_images.get(key.as_str())
                    {
                        client
                            .call(
                                Method::PUT,
                                &format!("/contacts/{id}"),
                                Some(&restore_body(pre)),
                                Idempotency::Safe,
                            )
                            .await?;
                        report.restored += 1;
                    }
                    "restored"
                }
                _ => "nothing",
            };
            if let Some(j) = journal.as_mut() {
                j.append(&Entry::RolledBack {
                    key: key.clone(),
                    action: done_action.into(),
                })?;
            }
        }
    }
    Ok(report)
}
