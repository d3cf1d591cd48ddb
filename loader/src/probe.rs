//! `loader plan --probe`: learns which of the request forms Freshsales' documentation leaves
//! open this very account accepts, before the real load relies on them. With the owner's
//! consent it creates one clearly named canary contact (`zz-migration-probe-…@example.invalid`)
//! with one note, one to-do and one appointment, tries each unverified form in turn (emails
//! as a string or a list, dropdowns as text or id, multi-selects as `A;B` or a list,
//! appointments with or without `owner_id`, tags replaced or merged on update), reads every
//! write back, and then deletes and forgets the canary and checks it is gone. The forms found
//! go into the plan's output and the journal, and `push` uses them unless told otherwise.
//!
//! The bodies are the ones a push sends (`payload`), so what the probe proves is what the
//! load will do. Which form is tried first, and what counts as accepted, are pure functions
//! ([`accepted`], [`candidates`]); this module's I/O is the calls themselves.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::account::Preflight;
use crate::api::{CallError, Client, Idempotency};
use crate::payload::{self, DropdownForm, EmailForm, Forms, MultiSelectForm};
use prep::fields::FieldType;

/// What the probe learnt.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// The canary's email (never a real address: `.invalid` cannot receive mail).
    pub canary: String,
    /// The forms this account accepted (the defaults where nothing could be tried).
    pub forms: Forms,
    /// What `tags` on an update does: `replace` or `merge` (`None`: not learnt).
    pub tags_on_update: Option<String>,
    /// One line per form tried, in plain words.
    pub findings: Vec<Finding>,
    /// Whether the canary and its note, to-do and appointment are gone (read back: 404).
    pub removed: bool,
    /// Calls the probe made.
    pub calls: u64,
}

/// One unverified behaviour and what the account did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// What was probed (`emails`, `dropdown "Membership Level"`, …).
    pub what: String,
    /// The forms tried, in order.
    pub tried: Vec<String>,
    /// The first one the account accepted and read back as sent; `None`: none was.
    pub accepted: Option<String>,
    /// Why a form was refused (the API's message), or a note.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// The canary's email for a run (`stamp`: anything unique, e.g. the start time).
pub fn canary_email(stamp: &str) -> String {
    let tail: String = stamp.chars().filter(char::is_ascii_alphanumeric).collect();
    format!("zz-migration-probe-{}@example.invalid", tail.to_lowercase())
}

/// Whether a custom field value read back is the one sent: the text or the id of the
/// choice, in the form written (a `;` list or an array), in any order.
pub fn accepted(sent: &Value, read: &Value) -> bool {
    fn items(v: &Value) -> Vec<String> {
        match v {
            Value::String(s) => s
                .split(';')
                .map(|p| p.trim().to_lowercase())
                .filter(|p| !p.is_empty())
                .collect(),
            Value::Array(a) => a.iter().flat_map(items).collect(),
            Value::Null => Vec::new(),
            other => vec![other.to_string().trim_matches('"').to_lowercase()],
        }
    }
    let (mut a, mut b) = (items(sent), items(read));
    a.sort();
    b.sort();
    !a.is_empty() && a == b
}

/// The forms to try for a field of type `t`, in order (the documented default first).
pub fn candidates(t: FieldType) -> Vec<Forms> {
    let base = Forms::default();
    match t {
        FieldType::Dropdown => vec![
            base.clone(),
            Forms {
                dropdown: DropdownForm::Id,
                ..base
            },
        ],
        FieldType::MultiSelect => vec![
            base.clone(),
            Forms {
                multi_select: MultiSelectForm::Array,
                ..base
            },
        ],
        _ => vec![base],
    }
}

/// Ids of what the probe created, so cleanup knows what to remove whatever failed.
#[derive(Default)]
struct Made {
    contact: Option<i64>,
    note: Option<i64>,
    task: Option<i64>,
    appointment: Option<i64>,
}

fn refused(e: &CallError) -> String {
    match e {
        CallError::Rejected { status, message } => format!("{status}: {message}"),
        other => other.to_string(),
    }
}

async fn send(client: &Client, method: Method, path: &str, body: &Value) -> Result<Value, String> {
    // A create is not retried blindly (a lost answer would leave a second copy cleanup
    // does not know about); updates are.
    let kind = if method == Method::POST {
        Idempotency::Create
    } else {
        Idempotency::Safe
    };
    client
        .call(method, path, Some(body), kind)
        .await
        .map(|a| a.body)
        .map_err(|e| refused(&e))
}

async fn read(client: &Client, path: &str) -> anyhow::Result<Value> {
    client
        .get(path)
        .await
        .map(|a| a.body)
        .map_err(|e| anyhow::anyhow!("reading back {path}: {e}"))
}

/// Runs the probe against the account `pre` describes. Cleanup runs whatever happens.
pub async fn probe(client: &Client, pre: &Preflight, stamp: &str) -> anyhow::Result<ProbeReport> {
    let before = client.stats().await.sent;
    let mut report = ProbeReport {
        canary: canary_email(stamp),
        ..ProbeReport::default()
    };
    let mut made = Made::default();
    let outcome = run(client, pre, &mut report, &mut made).await;
    if made.contact.is_none() {
        // The create may have landed with its answer lost: find the canary by its email.
        made.contact = find_canary(client, &report.canary).await;
    }
    report.removed = cleanup(client, &made).await;
    report.calls = client.stats().await.sent - before;
    if let Err(e) = outcome {
        anyhow::bail!(
            "{e}; the probe's canary {} {}",
            report.canary,
            if report.removed {
                "was removed again"
            } else {
                "may still be in the account: delete it in Freshsales"
            }
        );
    }
    Ok(report)
}

fn canary(email: &str, tags: &[&str]) -> prep::model::Contact {
    prep::model::Contact {
        key: format!("email:{email}"),
        first_name: Some("Migration".into()),
        last_name: Some("Probe (deleted automatically)".into()),
        email: Some(email.into()),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        ..Default::default()
    }
}

async fn run(
    client: &Client,
    pre: &Preflight,
    report: &mut ProbeReport,
    made: &mut Made,
) -> anyhow::Result<()> {
    let targets = &pre.targets;
    let types = &pre.types;
    // 1. Emails: the single-address string first, then the list.
    let c = canary(&report.canary, &["zz-migration-probe"]);
    let mut finding = Finding {
        what: "emails (one address)".into(),
        ..Finding::default()
    };
    for form in [EmailForm::Auto, EmailForm::Array] {
        let forms = Forms {
            email: form,
            ..Forms::default()
        };
        finding.tried.push(format!("{form:?}").to_lowercase());
        let body = json!({"contact": payload::contact(&c, None, &[], types, targets, &forms)});
        match send(client, Method::POST, "/contacts", &body).await {
            Ok(b) => {
                made.contact = b["contact"]["id"].as_i64();
                finding.accepted = Some(format!("{form:?}").to_lowercase());
                report.forms.email = form;
                break;
            }
            Err(m) => finding.note = m,
        }
    }
    report.findings.push(finding);
    let Some(id) = made.contact else {
        anyhow::bail!(
            "the account refused the canary contact in every email form: {}",
            report.findings[0].note
        );
    };
    let path = format!("/contacts/{id}");

    // 2. Dropdowns, then multi-selects: the bundle's first field of each kind the account has.
    for t in [FieldType::Dropdown, FieldType::MultiSelect] {
        let Some((label, field)) = targets
            .fields
            .iter()
            .filter(|(l, f)| types.get(*l) == Some(&t) && !f.choices.is_empty())
            .min_by(|a, b| a.0.cmp(b.0))
        else {
            continue;
        };
        let choice = field.choices[0].value.clone();
        let value = if t == FieldType::MultiSelect {
            let mut items = vec![json!(choice)];
            if let Some(second) = field.choices.get(1) {
                items.push(json!(second.value));
            }
            Value::Array(items)
        } else {
            json!(choice)
        };
        let mut finding = Finding {
            what: format!("{} “{label}”", t.as_str().replace('_', "-")),
            ..Finding::default()
        };
        for mut forms in candidates(t) {
            // A multi-select's items are written in the dropdown form found just before.
            if t == FieldType::MultiSelect {
                forms.dropdown = report.forms.dropdown;
            }
            forms.email = report.forms.email;
            let name = match t {
                FieldType::Dropdown => format!("{:?}", forms.dropdown),
                _ => format!("{:?}", forms.multi_select),
            }
            .to_lowercase();
            finding.tried.push(name.clone());
            let mut with = c.clone();
            with.custom_fields
                .insert(label.as_str().into(), value.clone());
            let body = payload::contact(&with, None, &[], types, targets, &forms);
            let sent = body["custom_field"][&field.name].clone();
            if let Err(m) = send(client, Method::PUT, &path, &json!({"contact": body})).await {
                finding.note = m;
                continue;
            }
            let back = read(client, &path).await?;
            if accepted(&sent, &back["contact"]["custom_field"][&field.name]) {
                finding.accepted = Some(name);
                report.forms.dropdown = forms.dropdown;
                report.forms.multi_select = forms.multi_select;
                break;
            }
            finding.note = format!(
                "accepted but read back as {}",
                back["contact"]["custom_field"][&field.name]
            );
        }
        report.findings.push(finding);
    }

    // 3. Tags on update: replaced or added to?
    let body = json!({"contact": {"tags": ["zz-migration-probe-2"]}});
    if send(client, Method::PUT, &path, &body).await.is_ok() {
        let back = read(client, &path).await?;
        let tags: Vec<&str> = back["contact"]["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        report.tags_on_update = Some(
            if tags.contains(&"zz-migration-probe") {
                "merge"
            } else {
                "replace"
            }
            .into(),
        );
    }

    // 4. A note, a to-do and an appointment on the canary, each read back.
    let zone = &pre.zone;
    let owner = targets
        .default_owner
        .or_else(|| targets.owners.values().min().copied());
    let note: prep::model::Note = serde_json::from_value(json!({
        "key": "probe-note", "contact": c.key, "joined_by": "email",
        "text": "Migration probe: deleted automatically.", "system": false,
        "source": {"file": "probe", "row": 2}}))?;
    let b = send(
        client,
        Method::POST,
        "/notes",
        &payload::note(&note, id, zone),
    )
    .await
    .map_err(|m| anyhow::anyhow!("the account refused the probe's note: {m}"))?;
    made.note = b["note"]["id"].as_i64();
    let task: prep::model::Task = serde_json::from_value(json!({
        "key": "probe-task", "contact": c.key, "joined_by": "email",
        "title": "Migration probe (deleted automatically)", "status": "open",
        "due_date": "2030-01-01", "source": {"file": "probe", "row": 2}}))?;
    let body = payload::task(&task, id, owner, "2030-01-01T12:00:00Z", zone);
    let b = send(client, Method::POST, "/tasks", &body)
        .await
        .map_err(|m| anyhow::anyhow!("the account refused the probe's to-do: {m}"))?;
    made.task = b["task"]["id"].as_i64();
    let appointment: prep::model::Appointment = serde_json::from_value(json!({
        "key": "probe-appointment", "contact": c.key,
        "title": "Migration probe (deleted automatically)",
        "start": "2030-01-01T10:00:00", "end": "2030-01-01T10:30:00", "all_day": false,
        "source": {"file": "probe", "row": 2}}))?;
    let mut finding = Finding {
        what: "appointment owner_id".into(),
        ..Finding::default()
    };
    let tries: &[bool] = if owner.is_some() {
        &[true, false]
    } else {
        &[false]
    };
    for &with_owner in tries {
        let forms = Forms {
            appointment_owner_id: with_owner,
            ..report.forms.clone()
        };
        let label = if with_owner {
            "with owner_id"
        } else {
            "without owner_id"
        };
        finding.tried.push(label.into());
        let Some(body) = payload::appointment(&appointment, Some(id), owner, zone, &forms) else {
            break;
        };
        match send(client, Method::POST, "/appointments", &body).await {
            Ok(b) => {
                made.appointment = b["appointment"]["id"].as_i64();
                finding.accepted = Some(label.into());
                report.forms.appointment_owner_id = with_owner;
                break;
            }
            Err(m) => finding.note = m,
        }
    }
    report.findings.push(finding);
    // Notes have no route of their own to read: they are read under their contact.
    let notes = read(client, &format!("{path}/notes")).await?;
    let listed = notes["notes"].as_array().into_iter().flatten();
    if made.note.is_some() && !listed.into_iter().any(|n| n["id"].as_i64() == made.note) {
        anyhow::bail!("the probe's note was accepted but is not listed under its contact");
    }
    for (kind, id) in [("tasks", made.task), ("appointments", made.appointment)] {
        if let Some(id) = id {
            read(client, &format!("/{kind}/{id}")).await?;
        }
    }
    Ok(())
}

/// The canary's id, looked up by its email (one call).
async fn find_canary(client: &Client, email: &str) -> Option<i64> {
    let path = format!("/lookup?q={email}&f=email&entities=contact");
    let found = client.get(&path).await.ok()?;
    found.body["contacts"]["contacts"]
        .as_array()?
        .iter()
        .find_map(|c| c["id"].as_i64())
}

/// Deletes what the probe made, children first, then forgets the canary; true when every
/// one of them reads back as gone.
async fn cleanup(client: &Client, made: &Made) -> bool {
    let mut paths = Vec::new();
    for (kind, id) in [("appointments", made.appointment), ("tasks", made.task)] {
        if let Some(id) = id {
            paths.push(format!("/{kind}/{id}"));
        }
    }
    if let Some(id) = made.note {
        let _ = client
            .call(
                Method::DELETE,
                &format!("/notes/{id}"),
                None,
                Idempotency::Safe,
            )
            .await;
    }
    for p in &paths {
        let _ = client
            .call(Method::DELETE, p, None, Idempotency::Safe)
            .await;
    }
    if let Some(id) = made.contact {
        let p = format!("/contacts/{id}");
        let _ = client
            .call(Method::DELETE, &p, None, Idempotency::Safe)
            .await;
        let _ = client
            .call(
                Method::DELETE,
                &format!("{p}/forget"),
                None,
                Idempotency::Safe,
            )
            .await;
        paths.push(p);
    }
    let mut gone = true;
    for p in &paths {
        gone &= matches!(
            client.get(p).await,
            Err(CallError::Rejected { status: 404, .. })
        );
    }
    gone
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_reads_back_as_sent_in_either_form() {
        assert!(accepted(&json!("Gold"), &json!("gold")));
        assert!(accepted(&json!("A;B"), &json!(["B", "A"])));
        assert!(accepted(&json!([1001, 1002]), &json!("1002;1001")));
        assert!(!accepted(&json!("Gold"), &json!("Silver")));
        assert!(!accepted(&json!("Gold"), &Value::Null));
    }

    #[test]
    fn the_canary_cannot_be_a_real_address() {
        let e = canary_email("2026-12-01T12:00:00Z");
        assert_eq!(e, "zz-migration-probe-20261201t120000z@example.invalid");
        assert!(prep::values::is_valid_email(&e));
        assert_eq!(candidates(FieldType::Dropdown).len(), 2);
        assert_eq!(candidates(FieldType::Text).len(), 1);
    }
}
