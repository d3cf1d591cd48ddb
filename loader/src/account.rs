//! Reading what the live account has (field definitions, users) and the bundle's record
//! counts: the inputs of the pure preflight in `plan`.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use anyhow::{Context, Result, bail};
use prep::bundle::{self, Manifest, Record};
use prep::fields::FieldType;
use prep::model::TaskStatus;
use serde_json::Value;

use crate::api::Client;
use crate::payload::Targets;
use crate::plan::{self, Account, BundleStats, Plan, RemoteField, RemoteUser};

/// Verifies a bundle's hash (reading it through) and counts its records.
pub fn open_bundle(path: &Path) -> Result<(Manifest, BundleStats)> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = bundle::Reader::open(BufReader::new(file))
        .with_context(|| format!("{} is not a valid bundle", path.display()))?;
    let mut s = BundleStats::default();
    while let Some(r) = reader
        .next_record()
        .with_context(|| format!("{} is not a valid bundle", path.display()))?
    {
        match r {
            Record::Account(_) => s.accounts += 1,
            Record::Contact(c) if c.email.is_some() => s.contacts_with_email += 1,
            Record::Contact(c) => {
                s.contacts_without_email += 1;
                s.contacts_without_email_or_mobile += u64::from(c.mobile_number.is_none());
            }
            Record::Note(n) => {
                s.notes += 1;
                s.system_notes += u64::from(n.system);
            }
            Record::Task(t) => {
                s.tasks += 1;
                s.completed_tasks += u64::from(t.status == TaskStatus::Completed);
            }
            Record::Template(_) => s.templates += 1,
            Record::Appointment(a) => {
                s.appointments += 1;
                s.appointments_without_contact += u64::from(a.contact.is_none());
            }
            Record::Review(_) => {}
        }
    }
    Ok((reader.manifest().clone(), s))
}

/// Streams a verified bundle's records to `f`, in file order.
pub fn each_record(path: &Path, mut f: impl FnMut(Record) -> Result<()>) -> Result<()> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = bundle::Reader::open(BufReader::new(file))?;
    while let Some(r) = reader.next_record()? {
        f(r)?;
    }
    Ok(())
}

fn list<T: serde::de::DeserializeOwned>(body: &Value, key: &str, what: &str) -> Result<Vec<T>> {
    let items = body.get(key).cloned().unwrap_or(Value::Null);
    if !items.is_array() {
        bail!("{what}: the answer has no '{key}' list; is --target a Freshsales API base URL?");
    }
    serde_json::from_value(items).with_context(|| format!("{what}: unexpected shape"))
}

/// Reads the account's contact fields and users (the preflight's three reads).
pub async fn read_account(client: &Client) -> Result<Account> {
    let fields = client
        .get("/settings/contacts/fields")
        .await
        .context("reading contact fields")?;
    let contact_fields: Vec<RemoteField> = list(&fields.body, "fields", "contact fields")?;
    client
        .get("/settings/sales_accounts/fields")
        .await
        .context("reading sales account fields")?;
    let owners = client
        .get("/selector/owners")
        .await
        .context("reading users (/selector/owners needs an admin's key)")?;
    let users: Vec<RemoteUser> = list(&owners.body, "users", "users")?;
    // Many records found in one call (§17.3, client-code evidence only): detected here, on
    // this account, with an address that cannot exist.
    let probe = serde_json::json!({"filter_rule": [{"attribute": "contact_email.email",
        "operator": "is_in", "value": ["zz-migration-probe@example.invalid"]}],
        "page": 1, "per_page": 1});
    let batched_search = match client
        .call(
            reqwest::Method::POST,
            "/filtered_search/contact",
            Some(&probe),
            crate::api::Idempotency::Safe,
        )
        .await
    {
        Ok(a) => a.body["contacts"].is_array(),
        Err(e @ crate::api::CallError::Auth { .. }) => return Err(e.into()),
        Err(_) => false,
    };
    Ok(Account {
        contact_fields,
        users,
        batched_search,
    })
}

/// The plan, and what payload building needs from it.
pub struct Preflight {
    /// The bundle's manifest.
    pub manifest: Manifest,
    /// Record counts.
    pub stats: BundleStats,
    /// The plan.
    pub plan: Plan,
    /// Field and owner targets.
    pub targets: Targets,
    /// Bundle custom field types by label.
    pub types: HashMap<String, FieldType>,
    /// The AllClients account's time zone, from the bundle (UTC when the bundle has none;
    /// the plan then blocks).
    pub zone: crate::zone::Zone,
    /// Whether the account finds many records in one call (see [`Account::batched_search`]).
    pub batched_search: bool,
}

/// What the account already holds of a bundle, and the extra reads it costs a push.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Existing {
    /// The bundle's contacts (with an email) the account already holds.
    pub contacts: u64,
    /// Extra reads the push makes for them: each one's pre-image; the notes already under
    /// each that has notes in the bundle; the account's tasks and appointments by page once
    /// when such a contact has any (so a copy an earlier load left is adopted, not doubled).
    pub reads: u64,
}

/// What of the bundle the account already holds, found 100 contacts at a time with the
/// batched search (`None` where the account does not answer it).
pub async fn existing_contacts(client: &Client, path: &Path) -> Result<Option<Existing>> {
    let mut emails = Vec::new();
    let (mut with_notes, mut with_tasks, mut with_appointments) = (
        std::collections::HashSet::new(),
        std::collections::HashSet::new(),
        std::collections::HashSet::new(),
    );
    let (mut tasks, mut appointments) = (0u64, 0u64);
    each_record(path, |r| {
        match r {
            Record::Contact(c) => {
                if let Some(e) = c.email {
                    emails.push(e.trim().to_lowercase());
                }
            }
            Record::Note(n) => {
                with_notes.insert(n.contact);
            }
            Record::Task(t) => {
                tasks += 1;
                with_tasks.insert(t.contact);
            }
            Record::Appointment(a) => {
                appointments += 1;
                with_appointments.extend(a.contact);
            }
            _ => {}
        }
        Ok(())
    })?;
    emails.sort();
    emails.dedup();
    let Some(hits) = crate::push::known::search(
        client,
        "contact",
        "contact_email.email",
        &emails,
        crate::push::known::emails_of,
    )
    .await?
    else {
        return Ok(None);
    };
    let found: std::collections::HashSet<String> = hits
        .into_iter()
        .filter(|(_, hit)| hit.is_some())
        .map(|(email, _)| format!("email:{email}"))
        .collect();
    let contacts = found.len() as u64;
    let notes = found.iter().filter(|k| with_notes.contains(*k)).count() as u64;
    let pages = |any: bool, n: u64| if any { n.div_ceil(100).max(1) } else { 0 };
    let reads = contacts
        + notes
        + pages(found.iter().any(|k| with_tasks.contains(k)), tasks)
        + pages(
            found.iter().any(|k| with_appointments.contains(k)),
            appointments,
        );
    Ok(Some(Existing { contacts, reads }))
}

/// Runs the whole preflight against the live account.
pub async fn preflight(
    path: &Path,
    client: &Client,
    default_owner: Option<&str>,
) -> Result<Preflight> {
    let (manifest, stats) = open_bundle(path)?;
    let account = read_account(client).await?;
    let mut plan = plan::plan(
        &manifest,
        &stats,
        &account,
        default_owner,
        client.rate().await,
    );
    // Hours on the live account's clock, whatever a rehearsal's time scale.
    plan.time = plan::time_plan(&plan.calls, &stats, client.budget_per_hour().await, 0.8);
    let mut targets = Targets::default();
    for m in &plan.fields {
        if let Some(name) = &m.name
            && let Some(f) = account.contact_fields.iter().find(|f| &f.name == name)
        {
            targets.fields.insert(m.label.clone(), f.clone());
        }
    }
    for o in &plan.owners {
        if let Some(id) = o.user_id {
            targets.owners.insert(o.source.trim().to_lowercase(), id);
        }
    }
    targets.default_owner = default_owner.and_then(|d| {
        account
            .users
            .iter()
            .find(|u| {
                u.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(d.trim()))
            })
            .map(|u| u.id)
    });
    let types = manifest
        .custom_fields
        .iter()
        .map(|d| (d.label.clone(), d.field_type))
        .collect();
    let zone = manifest
        .settings
        .time_zone
        .as_deref()
        .and_then(|z| crate::zone::Zone::named(z).ok())
        .unwrap_or_else(crate::zone::Zone::utc);
    Ok(Preflight {
        manifest,
        stats,
        plan,
        targets,
        types,
        zone,
        batched_search: account.batched_search,
    })
}

/// The Freshsales type word for a bundle type, as the fields endpoint shows it.
fn api_type(t: FieldType) -> &'static str {
    match t {
        FieldType::Text => "text",
        FieldType::Paragraph => "textarea",
        FieldType::Number => "number",
        FieldType::Date => "date",
        FieldType::Checkbox => "checkbox",
        FieldType::Dropdown => "dropdown",
        FieldType::MultiSelect => "multi_select_dropdown",
    }
}

/// `--create-fields`: creates the custom fields the plan found missing through
/// `POST /settings/contacts/forms/:form_id/fields`. Upstream documents that route only for
/// custom modules, and not its type codes, so this is opt-in; a refusal says to create the
/// fields by hand. Returns the labels created.
pub async fn create_missing_fields(client: &Client, pre: &Preflight) -> Result<Vec<String>> {
    let missing: Vec<_> = pre
        .plan
        .fields
        .iter()
        .filter(|m| m.status == "missing")
        .filter_map(|m| {
            pre.manifest
                .custom_fields
                .iter()
                .find(|d| d.label == m.label)
        })
        .collect();
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let by_hand = "create the fields in Admin Settings → Contacts instead (see `loader plan`)";
    let forms = client
        .get("/settings/contacts/forms")
        .await
        .with_context(|| format!("reading the contact form failed; {by_hand}"))?;
    let form_id = forms.body["forms"]
        .as_array()
        .and_then(|f| f.first())
        .and_then(|f| f["id"].as_i64())
        .with_context(|| format!("the account showed no contact form; {by_hand}"))?;
    let mut created = Vec::new();
    for d in missing {
        let body = serde_json::json!({"field": {
            "label": d.label,
            "type": api_type(d.field_type),
            "choices": d.choices.iter().map(|c| serde_json::json!({"value": c})).collect::<Vec<_>>(),
            "required": false,
        }});
        client
            .call(
                reqwest::Method::POST,
                &format!("/settings/contacts/forms/{form_id}/fields"),
                Some(&body),
                crate::api::Idempotency::Safe,
            )
            .await
            .with_context(|| {
                format!(
                    "creating field {} through the API failed (unverified upstream); {by_hand}",
                    d.label
                )
            })?;
        created.push(d.label.clone());
    }
    Ok(created)
}
