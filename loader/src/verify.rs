//! `loader verify`: reads back every record the journal says landed and compares it with the
//! bundle, field by field (custom fields included).

use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;
use prep::bundle::Record;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::account::{Preflight, each_record};
use crate::api::{CallError, Client};
use crate::journal::{self, Entry, State};
use crate::payload::{self, Forms};
use crate::push::run_paths;

/// One difference between the bundle and Freshsales.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mismatch {
    /// Bundle key.
    pub key: String,
    /// Field name.
    pub field: String,
    /// What the bundle says.
    pub expected: Value,
    /// What Freshsales has.
    pub actual: Value,
}

/// The verification's result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Records read back.
    pub checked: u64,
    /// Records that no longer exist.
    pub missing: Vec<String>,
    /// Field differences.
    pub mismatches: Vec<Mismatch>,
    /// Records that could not be read back (key and the API's answer): neither confirmed
    /// nor missing.
    #[serde(default)]
    pub unreadable: Vec<(String, String)>,
    /// Notes and tasks on a loaded contact that carry the import ref of a bundle record but
    /// are not the one the journal recorded: duplicates (bundle key and the extra's id).
    #[serde(default)]
    pub extras: Vec<(String, i64)>,
    /// Field values read back and compared with what was sent (each custom field, the tags
    /// and the attendees counted as one).
    #[serde(default)]
    pub values: u64,
}

impl VerifyReport {
    /// Whether Freshsales holds exactly what the bundle says, as far as was read.
    pub fn clean(&self) -> bool {
        self.missing.is_empty()
            && self.mismatches.is_empty()
            && self.unreadable.is_empty()
            && self.extras.is_empty()
    }
}

/// Extras among `listed` (records under one contact, or the whole account's tasks): those
/// whose import ref belongs to a bundle record that the journal maps to another id.
fn extras_in(report: &mut VerifyReport, listed: &[Value], loaded: &HashMap<String, (String, i64)>) {
    for v in listed {
        let (Some(r), Some(id)) = (
            v["description"].as_str().and_then(payload::find_import_ref),
            v["id"].as_i64(),
        ) else {
            continue;
        };
        if let Some((key, ours)) = loaded.get(r)
            && *ours != id
        {
            report.extras.push((key.clone(), id));
        }
    }
}

/// Every record of the account's `lists` (one call per 100).
async fn all_of(client: &Client, lists: &[&str], root: &str) -> Result<Vec<Value>, CallError> {
    let mut out = Vec::new();
    for list in lists {
        let mut page = 1u64;
        loop {
            let a = client
                .get(&format!("{list}&page={page}&per_page=100"))
                .await?;
            out.extend(a.body[root].as_array().cloned().unwrap_or_default());
            if page >= a.body["meta"]["total_pages"].as_u64().unwrap_or(1) {
                break;
            }
            page += 1;
        }
    }
    Ok(out)
}

fn clone_error(e: &CallError) -> CallError {
    match e {
        CallError::Rejected { status, message } => CallError::Rejected {
            status: *status,
            message: message.clone(),
        },
        other => CallError::GaveUp {
            attempts: 0,
            last: other.to_string(),
        },
    }
}

/// Sorts a failed read into missing (404) or unreadable; a broken configuration stops.
fn not_read(report: &mut VerifyReport, key: &str, e: CallError) -> Result<()> {
    match e {
        CallError::Rejected { status: 404, .. } => report.missing.push(key.to_string()),
        CallError::Auth { .. } | CallError::NotJson { .. } => return Err(e.into()),
        other => report.unreadable.push((key.to_string(), other.to_string())),
    }
    Ok(())
}

fn norm(v: &Value) -> Value {
    match v {
        Value::String(s) if s.contains(';') => {
            let mut parts: Vec<String> = s.split(';').map(|p| p.trim().to_lowercase()).collect();
            parts.sort();
            Value::from(parts)
        }
        Value::String(s) => Value::String(s.trim().to_lowercase()),
        Value::Array(a) => {
            let mut parts: Vec<String> = a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(|s| s.trim().to_lowercase())
                        .unwrap_or_else(|| x.to_string())
                })
                .collect();
            parts.sort();
            Value::from(parts)
        }
        Value::Number(n) => n.as_f64().map(Value::from).unwrap_or(Value::Null),
        other => other.clone(),
    }
}

fn compare(report: &mut VerifyReport, key: &str, expected: &Value, actual: &Value) {
    let Some(obj) = expected.as_object() else {
        return;
    };
    for (field, want) in obj {
        report.values += match (field.as_str(), want.as_object()) {
            ("custom_field", Some(cf)) => cf.len() as u64,
            _ => 1,
        };
        match field.as_str() {
            "tags" => {
                let have: Vec<String> = actual["tags"]
                    .as_array()
                    .map(|t| {
                        t.iter()
                            .filter_map(|x| x.as_str().map(str::to_lowercase))
                            .collect()
                    })
                    .unwrap_or_default();
                let missing: Vec<&Value> = want
                    .as_array()
                    .map(|w| {
                        w.iter()
                            .filter(|t| !have.contains(&t.as_str().unwrap_or("").to_lowercase()))
                            .collect()
                    })
                    .unwrap_or_default();
                if !missing.is_empty() {
                    report.mismatches.push(Mismatch {
                        key: key.into(),
                        field: "tags".into(),
                        expected: want.clone(),
                        actual: actual["tags"].clone(),
                    });
                }
            }
            "emails" => {
                let want_primary = match want {
                    Value::String(s) => s.clone(),
                    Value::Array(a) => a
                        .first()
                        .and_then(|e| e["value"].as_str())
                        .unwrap_or("")
                        .to_string(),
                    _ => String::new(),
                };
                let have = actual["email"].as_str().unwrap_or("").to_string();
                if !have.eq_ignore_ascii_case(&want_primary) {
                    report.mismatches.push(Mismatch {
                        key: key.into(),
                        field: "email".into(),
                        expected: Value::String(want_primary),
                        actual: Value::String(have),
                    });
                }
            }
            "custom_field" => {
                if let Some(cf) = want.as_object() {
                    for (name, value) in cf {
                        let have = &actual["custom_field"][name];
                        // A list may read back as `a;b` text and a single choice as a bare
                        // value: the probe's notion of "read back as sent".
                        if norm(have) != norm(value) && !crate::probe::accepted(value, have) {
                            report.mismatches.push(Mismatch {
                                key: key.into(),
                                field: name.clone(),
                                expected: value.clone(),
                                actual: have.clone(),
                            });
                        }
                    }
                }
            }
            _ => {
                if norm(&actual[field]) != norm(want) {
                    report.mismatches.push(Mismatch {
                        key: key.into(),
                        field: field.clone(),
                        expected: want.clone(),
                        actual: actual[field].clone(),
                    });
                }
            }
        }
    }
}

/// Reads back everything the bundle's journal says was loaded.
pub async fn verify(
    bundle: &Path,
    client: &Client,
    pre: &Preflight,
    forms: &Forms,
) -> Result<VerifyReport> {
    let (journal_path, _) = run_paths(bundle);
    let state = State::replay(&journal::read(&journal_path)?);
    let mut records = Vec::new();
    each_record(bundle, |r| {
        records.push(r);
        Ok(())
    })?;
    let mut report = VerifyReport::default();
    let ids: HashMap<String, i64> = state
        .done
        .values()
        .filter_map(|e| match e {
            Entry::Done { key, id, .. } => Some((key.clone(), *id)),
            _ => None,
        })
        .collect();
    let mut notes_by_contact: HashMap<i64, Vec<(String, i64, String)>> = HashMap::new();
    let mut task_refs: HashMap<String, (String, i64)> = HashMap::new();
    let mut appointment_refs: HashMap<String, (String, i64)> = HashMap::new();
    let fallback_due = pre
        .manifest
        .confirmation
        .as_ref()
        .map(|c| c.confirmed_at.clone())
        .unwrap_or_else(|| "2000-01-01T00:00:00Z".into());
    let read = Batch::read(client, pre, &records, &ids).await;
    for r in &records {
        match r {
            Record::Account(a) => {
                let Some(id) = ids.get(&a.key) else { continue };
                report.checked += 1;
                match client.get(&format!("/sales_accounts/{id}")).await {
                    Ok(ans) => compare(
                        &mut report,
                        &a.key,
                        &serde_json::json!({"name": a.name}),
                        &ans.body["sales_account"],
                    ),
                    Err(e) => not_read(&mut report, &a.key, e)?,
                }
            }
            Record::Contact(c) => {
                let Some(id) = ids.get(&c.key) else { continue };
                report.checked += 1;
                let account_id = c.account.as_deref().and_then(|k| ids.get(k).copied());
                let mut expected =
                    payload::contact(c, account_id, &[], &pre.types, &pre.targets, forms);
                if let Some(t) = expected.get_mut("tags") {
                    *t = serde_json::json!(c.tags);
                }
                match read.record(client, "contact", *id, &expected).await {
                    Ok(have_contact) => {
                        // A contact that had an external id of its own kept it (push left it).
                        let have = &have_contact["external_id"];
                        if have.as_str().is_some_and(|x| !x.is_empty())
                            && *have != expected["external_id"]
                            && let Some(m) = expected.as_object_mut()
                        {
                            m.remove("external_id");
                        }
                        compare(&mut report, &c.key, &expected, &have_contact)
                    }
                    Err(e) => not_read(&mut report, &c.key, e)?,
                }
            }
            Record::Note(n) => {
                let (Some(id), Some(contact)) = (ids.get(&n.key), ids.get(&n.contact)) else {
                    continue;
                };
                notes_by_contact.entry(*contact).or_default().push((
                    n.key.clone(),
                    *id,
                    payload::note_description(n, &pre.zone),
                ));
            }
            Record::Task(t) => {
                let Some(id) = ids.get(&t.key) else { continue };
                task_refs.insert(payload::import_ref(&t.key), (t.key.clone(), *id));
                report.checked += 1;
                let contact = ids.get(&t.contact).copied().unwrap_or_default();
                let owner = pre.targets.owner(t.owner.as_deref());
                let mut sent = payload::task(t, contact, owner, &fallback_due, &pre.zone);
                let status = if t.status == prep::model::TaskStatus::Completed {
                    1
                } else {
                    0
                };
                sent["task"]["status"] = status.into();
                match read.record(client, "task", *id, &sent["task"]).await {
                    Ok(mut task) => {
                        // Compared as instants: `…Z` sent, `…+00:00` may come back.
                        for v in [&mut sent["task"]["due_date"], &mut task["due_date"]] {
                            if let Some(d) = v.as_str() {
                                *v = instant(d).into();
                            }
                        }
                        compare(&mut report, &t.key, &sent["task"], &task);
                    }
                    Err(e) => not_read(&mut report, &t.key, e)?,
                }
            }
            Record::Appointment(a) => {
                let Some(id) = ids.get(&a.key) else { continue };
                appointment_refs.insert(payload::import_ref(&a.key), (a.key.clone(), *id));
                report.checked += 1;
                let contact = a.contact.as_ref().and_then(|k| ids.get(k).copied());
                let owner = pre.targets.owner(a.owner.as_deref());
                let Some(sent) = payload::appointment(a, contact, owner, &pre.zone, forms) else {
                    continue;
                };
                let mut shown = sent["appointment"].clone();
                if let Some(m) = shown.as_object_mut() {
                    m.remove("appointment_attendees_attributes");
                    m.insert("appointment_attendees".into(), Value::Null);
                }
                match read.record(client, "appointment", *id, &shown).await {
                    Ok(mut have) => {
                        let mut want = sent["appointment"].clone();
                        // The original times, compared as instants; attendees as a set.
                        for v in [&mut want, &mut have] {
                            for k in ["from_date", "end_date"] {
                                if let Some(d) = v[k].as_str() {
                                    v[k] = instant(d).into();
                                }
                            }
                        }
                        let attendees = |v: &Value, key: &str| -> Vec<String> {
                            let mut l: Vec<String> = v[key]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .map(|x| {
                                    let id = x["attendee_id"]
                                        .as_i64()
                                        .or_else(|| x["attendee_id"].as_str()?.parse().ok());
                                    format!("{} {id:?}", x["attendee_type"])
                                })
                                .collect();
                            l.sort();
                            l
                        };
                        let (w, h) = (
                            attendees(&want, "appointment_attendees_attributes"),
                            attendees(&have, "appointment_attendees"),
                        );
                        report.values += 1;
                        if w != h {
                            report.mismatches.push(Mismatch {
                                key: a.key.clone(),
                                field: "attendees".into(),
                                expected: w.into(),
                                actual: h.into(),
                            });
                        }
                        if let Some(o) = want.as_object_mut() {
                            o.remove("appointment_attendees_attributes");
                        }
                        compare(&mut report, &a.key, &want, &have);
                    }
                    Err(e) => not_read(&mut report, &a.key, e)?,
                }
            }
            _ => {}
        }
    }
    for (contact, notes) in notes_by_contact {
        let listed = match client.get(&format!("/contacts/{contact}/notes")).await {
            Ok(a) => a.body["notes"].as_array().cloned().unwrap_or_default(),
            Err(e) => {
                for (key, _, _) in &notes {
                    not_read(&mut report, key, clone_error(&e))?;
                }
                continue;
            }
        };
        let refs: HashMap<String, (String, i64)> = notes
            .iter()
            .map(|(key, id, _)| (payload::import_ref(key), (key.clone(), *id)))
            .collect();
        extras_in(&mut report, &listed, &refs);
        for (key, id, description) in notes {
            report.checked += 1;
            report.values += 1;
            match listed.iter().find(|n| n["id"].as_i64() == Some(id)) {
                Some(n)
                    if payload::comparable_text(n["description"].as_str().unwrap_or(""))
                        == payload::comparable_text(&description) => {}
                Some(n) => report.mismatches.push(Mismatch {
                    key,
                    field: "description".into(),
                    expected: Value::String(description),
                    actual: n["description"].clone(),
                }),
                None => report.missing.push(key),
            }
        }
    }
    for (refs, listed, root) in [
        (&task_refs, &read.tasks, "tasks"),
        (&appointment_refs, &read.appointments, "appointments"),
    ] {
        if refs.is_empty() {
            continue;
        }
        match listed {
            Ok(listed) => extras_in(&mut report, listed, refs),
            Err(e) => report
                .unreadable
                .push((format!("{root} (looking for duplicates)"), e.clone())),
        }
    }
    Ok(report)
}

/// What verify reads in bulk before comparing: loaded contacts 100 at a time (where the
/// account answers the batched search), and the account's tasks and appointments by page.
/// A record is compared from there when it shows every field sent, else read on its own.
struct Batch {
    tasks: Result<Vec<Value>, String>,
    appointments: Result<Vec<Value>, String>,
    by_id: HashMap<(&'static str, i64), Value>,
}

impl Batch {
    async fn read(
        client: &Client,
        pre: &Preflight,
        records: &[Record],
        ids: &HashMap<String, i64>,
    ) -> Batch {
        let mut by_id = HashMap::new();
        let loaded: Vec<i64> = records
            .iter()
            .filter_map(|r| match r {
                Record::Contact(c) => ids.get(&c.key).copied(),
                _ => None,
            })
            .collect();
        if pre.batched_search {
            for chunk in loaded.chunks(100) {
                let body = serde_json::json!({"filter_rule": [{"attribute": "id",
                    "operator": "is_in", "value": chunk}], "page": 1, "per_page": 100});
                match client
                    .call(
                        reqwest::Method::POST,
                        "/filtered_search/contact",
                        Some(&body),
                        crate::api::Idempotency::Safe,
                    )
                    .await
                {
                    Ok(a) => {
                        for c in a.body["contacts"].as_array().into_iter().flatten() {
                            if let Some(id) = c["id"].as_i64() {
                                by_id.insert(("contact", id), c.clone());
                            }
                        }
                    }
                    // Read one by one instead.
                    Err(_) => break,
                }
            }
        }
        let has = |kind: fn(&Record) -> bool| records.iter().any(kind);
        let tasks = if has(|r| matches!(r, Record::Task(_))) {
            all_of(
                client,
                &["/tasks?filter=open", "/tasks?filter=completed"],
                "tasks",
            )
            .await
            .map_err(|e| e.to_string())
        } else {
            Ok(Vec::new())
        };
        let appointments = if has(|r| matches!(r, Record::Appointment(_))) {
            all_of(
                client,
                &["/appointments?filter=past", "/appointments?filter=upcoming"],
                "appointments",
            )
            .await
            .map_err(|e| e.to_string())
        } else {
            Ok(Vec::new())
        };
        for (kind, list) in [("task", &tasks), ("appointment", &appointments)] {
            for v in list.iter().flatten() {
                if let Some(id) = v["id"].as_i64() {
                    by_id.insert((kind, id), v.clone());
                }
            }
        }
        Batch {
            tasks,
            appointments,
            by_id,
        }
    }

    /// The record `id` of `kind` (`contact`, `task`, `appointment`): from the bulk read when
    /// it shows every field of `expected`, else `GET /<kind>s/:id`.
    async fn record(
        &self,
        client: &Client,
        kind: &'static str,
        id: i64,
        expected: &Value,
    ) -> Result<Value, CallError> {
        if let Some(v) = self.by_id.get(&(kind, id))
            && expected
                .as_object()
                .is_some_and(|o| o.keys().all(|k| v.get(k).is_some()))
        {
            return Ok(v.clone());
        }
        client
            .get(&format!("/{kind}s/{id}"))
            .await
            .map(|a| a.body[kind].clone())
    }
}

/// The instant an RFC 3339 time names, as seconds (the text itself when it is not one).
fn instant(t: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(t, &Rfc3339) {
        Ok(t) => t.unix_timestamp().to_string(),
        Err(_) => t.to_string(),
    }
}
