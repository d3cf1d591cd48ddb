//! The preflight, as a pure function: the bundle's needs (custom fields, dropdown choices,
//! owners, record counts) against what the live account has (field definitions, users),
//! giving a checklist of what blocks, the owner reconciliation and the calls and time each
//! phase will take.

use serde::{Deserialize, Serialize};

use prep::bundle::Manifest;
use prep::fields::{CustomFieldDef, FieldType};

/// A field definition as `/settings/<entity>/fields` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteField {
    /// API name (`cf_anniversary`, or a built-in name).
    pub name: String,
    /// Label shown in the UI.
    #[serde(default)]
    pub label: String,
    /// Freshsales' type word.
    #[serde(rename = "type", default)]
    pub field_type: String,
    /// Choices of dropdowns and multi-selects.
    #[serde(default)]
    pub choices: Vec<RemoteChoice>,
    /// `true` for built-in fields.
    #[serde(default)]
    pub default: bool,
}

/// One choice of a remote dropdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteChoice {
    /// Choice id.
    #[serde(default)]
    pub id: Option<serde_json::Value>,
    /// Choice text.
    pub value: String,
}

/// A user as `/selector/owners` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemoteUser {
    /// User id (64-bit).
    pub id: i64,
    /// Login email.
    #[serde(default)]
    pub email: Option<String>,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Whether the user can own records.
    #[serde(default = "yes")]
    pub is_active: bool,
}

fn yes() -> bool {
    true
}

/// What the live account has.
#[derive(Debug, Clone, Default)]
pub struct Account {
    /// Contact field definitions.
    pub contact_fields: Vec<RemoteField>,
    /// Users.
    pub users: Vec<RemoteUser>,
    /// Whether the account answers `POST /filtered_search/contact` (many records found in
    /// one call; client-code evidence only upstream), detected by the preflight.
    pub batched_search: bool,
}

/// Record counts the plan needs (read from the bundle's records).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct BundleStats {
    #[allow(missing_docs)]
    pub accounts: u64,
    /// Contacts with an email (looked up, then upserted).
    pub contacts_with_email: u64,
    /// Contacts without one (created).
    pub contacts_without_email: u64,
    /// Of those, contacts with no mobile number either (Freshsales may refuse them).
    #[serde(default)]
    pub contacts_without_email_or_mobile: u64,
    #[allow(missing_docs)]
    pub notes: u64,
    #[allow(missing_docs)]
    pub tasks: u64,
    /// Tasks to complete after creating them.
    pub completed_tasks: u64,
    #[allow(missing_docs)]
    pub templates: u64,
    /// Appointments (created with their contact, or without one).
    #[serde(default)]
    pub appointments: u64,
    /// Of those, appointments with no contact.
    #[serde(default)]
    pub appointments_without_contact: u64,
    /// Notes AllClients wrote itself (email sent, status changed…), which
    /// `push --leave-system-notes` leaves behind.
    #[serde(default)]
    pub system_notes: u64,
}

/// How a bundle custom field matched the account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldMatch {
    /// The bundle's label.
    pub label: String,
    /// The bundle's type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// The matching `cf_` name, when found.
    pub name: Option<String>,
    /// `ok`, `missing`, `wrong_type`, `missing_choices`.
    pub status: String,
    /// Choices the account lacks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_choices: Vec<String>,
}

/// How a bundle owner matched a Freshsales user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnerMatch {
    /// The owner value in the export.
    pub source: String,
    /// Its email, when known.
    pub email: Option<String>,
    /// The Freshsales user id it maps to.
    pub user_id: Option<i64>,
    /// `matched`, `default_owner`, `unmatched`.
    pub status: String,
    /// Records that refer to it.
    pub references: u64,
}

/// API calls per phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Calls {
    /// Field and selector reads.
    pub preflight: u64,
    #[allow(missing_docs)]
    pub accounts: u64,
    #[allow(missing_docs)]
    pub contacts: u64,
    #[allow(missing_docs)]
    pub notes: u64,
    #[allow(missing_docs)]
    pub tasks: u64,
    #[allow(missing_docs)]
    #[serde(default)]
    pub appointments: u64,
}

impl Calls {
    /// All calls.
    pub fn total(&self) -> u64 {
        self.preflight + self.accounts + self.contacts + self.notes + self.tasks + self.appointments
    }
}

/// The preflight's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Per custom field.
    pub fields: Vec<FieldMatch>,
    /// Per owner.
    pub owners: Vec<OwnerMatch>,
    /// What must be done before a push, one line each.
    pub blocking: Vec<String>,
    /// What may go wrong without blocking the push, one line each.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Calls per phase.
    pub calls: Calls,
    /// Seconds the push will take at the budget's rate.
    pub eta_seconds: f64,
    /// What the time is made of, and the choices that shorten it.
    #[serde(default)]
    pub time: TimePlan,
    /// Of the bundle's contacts, how many the account already holds (`loader plan` finds
    /// out with the batched search; `None`: not looked up). Each costs one more read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_contacts: Option<u64>,
}

impl Plan {
    /// Counts `existing` contacts the account already holds and the `reads` they cost,
    /// in the calls, the ETA (at `calls_per_second`) and the hours (at `per_hour`).
    pub fn with_existing(
        &mut self,
        existing: u64,
        reads: u64,
        stats: &BundleStats,
        calls_per_second: f64,
        per_hour: f64,
    ) {
        self.existing_contacts = Some(existing);
        self.calls.contacts += reads;
        self.eta_seconds = self.calls.total() as f64 / calls_per_second;
        self.time = time_plan(&self.calls, stats, per_hour, 0.8);
    }
}

/// The truth about time: a load's wall time is its API calls at the budget.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimePlan {
    /// The loader's budget, calls per (real) hour.
    pub budget_per_hour: f64,
    /// Hours per phase at that budget, in phase order.
    pub hours: Vec<(String, f64)>,
    /// All of them.
    pub total_hours: f64,
    /// What would shorten it, one line each.
    pub choices: Vec<String>,
}

/// Freshsales plans' hourly API limits (Freshworks' API documentation; support can raise an
/// account's limit for a migration window).
pub const PLAN_LIMITS: [(&str, f64); 3] =
    [("Growth", 1000.0), ("Pro", 2000.0), ("Enterprise", 5000.0)];

fn hours(h: f64) -> String {
    if h < 1.0 {
        format!("{:.0} minutes", (h * 60.0).max(1.0))
    } else {
        format!("{h:.1} hours")
    }
}

/// Hours per phase at `per_hour`, and the choices that shorten the load. `share` is the
/// part of the plan limit the loader uses (0.8 by default: the budget is shared).
pub fn time_plan(calls: &Calls, stats: &BundleStats, per_hour: f64, share: f64) -> TimePlan {
    let at = |n: u64| n as f64 / per_hour.max(1.0);
    let phases = [
        ("preflight", calls.preflight),
        ("accounts", calls.accounts),
        ("contacts", calls.contacts),
        ("notes", calls.notes),
        ("tasks", calls.tasks),
        ("appointments", calls.appointments),
    ];
    let total = at(calls.total());
    let mut choices = Vec::new();
    for (name, limit) in PLAN_LIMITS {
        let faster = limit * share;
        if faster > per_hour * 1.01 {
            choices.push(format!(
                "at {name}'s {limit:.0} calls/hour (or a temporary raise Freshworks support can grant for the migration window) it takes {} instead of {}",
                hours(calls.total() as f64 / faster),
                hours(total)
            ));
        }
    }
    let parents = calls.preflight + calls.accounts + calls.contacts;
    if calls.notes + calls.tasks + calls.appointments > 0 {
        choices.push(format!(
            "`push --phases accounts,contacts` loads every contact first ({}); notes, to-dos and appointments follow in a later run (`--phases notes,tasks,appointments`, {})",
            hours(at(parents)),
            hours(at(calls.total() - parents))
        ));
    }
    if stats.system_notes > 0 {
        choices.push(format!(
            "`push --leave-system-notes` leaves behind the {} notes AllClients wrote itself (emails sent, status changes): {} less, counted as left behind in the report",
            stats.system_notes,
            hours(at(stats.system_notes))
        ));
    }
    TimePlan {
        budget_per_hour: per_hour,
        hours: phases
            .iter()
            .map(|(n, c)| (n.to_string(), at(*c)))
            .collect(),
        total_hours: total,
        choices,
    }
}

/// Calls the preflight itself makes: contact fields, account fields, owners.
pub const PREFLIGHT_CALLS: u64 = 4;

/// Freshsales type words that can hold a bundle type. The account's exact words are not
/// documented upstream, so every plausible spelling is accepted.
pub fn compatible(bundle: FieldType, remote: &str) -> bool {
    let r = remote.to_ascii_lowercase();
    let ok: &[&str] = match bundle {
        FieldType::Text => &["text", "textarea", "paragraph", "text_field", "string"],
        FieldType::Paragraph => &["textarea", "paragraph", "text_area"],
        FieldType::Number => &["number", "decimal", "integer", "currency"],
        FieldType::Date => &["date", "date_field"],
        FieldType::Checkbox => &["checkbox", "boolean"],
        FieldType::Dropdown => &["dropdown", "select", "radio"],
        FieldType::MultiSelect => &["multi_select_dropdown", "multi_select", "multiselect"],
    };
    ok.contains(&r.as_str())
}

/// The `cf_` name Freshsales derives from a label (only used to find a field whose label was
/// renamed since; names are always read from the account, never built for writing).
pub fn derived_name(label: &str) -> String {
    let mut s = String::from("cf_");
    for c in label.trim().chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else {
            s.push('_');
        }
    }
    s
}

fn match_field(def: &CustomFieldDef, remote: &[RemoteField]) -> FieldMatch {
    let label = def.label.trim().to_lowercase();
    let found = remote
        .iter()
        .filter(|f| !f.default)
        .find(|f| f.label.trim().to_lowercase() == label)
        .or_else(|| remote.iter().find(|f| f.name == derived_name(&def.label)));
    let mut m = FieldMatch {
        label: def.label.clone(),
        field_type: def.field_type,
        name: found.map(|f| f.name.clone()),
        status: "ok".into(),
        missing_choices: Vec::new(),
    };
    match found {
        None => m.status = "missing".into(),
        Some(f) if !compatible(def.field_type, &f.field_type) => m.status = "wrong_type".into(),
        Some(f) => {
            if matches!(def.field_type, FieldType::Dropdown | FieldType::MultiSelect) {
                m.missing_choices = def
                    .choices
                    .iter()
                    .filter(|c| {
                        !f.choices
                            .iter()
                            .any(|rc| rc.value.to_lowercase() == c.to_lowercase())
                    })
                    .cloned()
                    .collect();
                if !m.missing_choices.is_empty() {
                    m.status = "missing_choices".into();
                }
            }
        }
    }
    m
}

fn type_words(t: FieldType) -> &'static str {
    match t {
        FieldType::Text => "Text (single line)",
        FieldType::Paragraph => "Paragraph",
        FieldType::Number => "Number",
        FieldType::Date => "Date",
        FieldType::Checkbox => "Checkbox",
        FieldType::Dropdown => "Dropdown",
        FieldType::MultiSelect => "Multi-select",
    }
}

/// Calls each phase needs: a lookup (the rollback pre-image) and an upsert per account; a
/// lookup (tags, pre-image) and an upsert per contact with an email, a lookup by external id
/// and a create per contact without; a create per note; a create, and a completion for
/// closed ones, per task.
///
/// With batched search (`batched`) the lookups are one call per 100 records instead, plus a
/// read of each record that already exists (not known before the push: a fresh account has
/// none).
pub fn calls(stats: &BundleStats, batched: bool) -> Calls {
    let contacts = stats.contacts_with_email + stats.contacts_without_email;
    let lookups = |n: u64| if batched { n.div_ceil(100) } else { n };
    Calls {
        preflight: PREFLIGHT_CALLS,
        accounts: stats.accounts + lookups(stats.accounts),
        contacts: contacts + lookups(contacts),
        notes: stats.notes,
        tasks: stats.tasks + stats.completed_tasks,
        appointments: stats.appointments,
    }
}

/// Checks a bundle against an account.
pub fn plan(
    manifest: &Manifest,
    stats: &BundleStats,
    account: &Account,
    default_owner: Option<&str>,
    calls_per_second: f64,
) -> Plan {
    let mut blocking = Vec::new();
    if manifest.confirmation.is_none() {
        blocking.push("the bundle is a draft: the customer has not confirmed the mapping (prepare it with --confirmed-by)".into());
    }
    let dated = stats.notes + stats.tasks + stats.appointments > 0;
    match &manifest.settings.time_zone {
        None if dated => blocking.push(
            "the bundle does not say the AllClients account's time zone, so its times cannot \
             be placed: prepare it again with --time-zone (e.g. America/Chicago), or choose the \
             zone in the page"
                .into(),
        ),
        Some(name) => {
            if let Err(e) = crate::zone::Zone::named(name) {
                blocking.push(format!("the bundle's time zone: {e}; prepare it again"));
            }
        }
        None => {}
    }
    let fields: Vec<FieldMatch> = manifest
        .custom_fields
        .iter()
        .map(|d| match_field(d, &account.contact_fields))
        .collect();
    for (m, def) in fields.iter().zip(&manifest.custom_fields) {
        let choices = if def.choices.is_empty() {
            String::new()
        } else {
            format!(" with choices: {}", def.choices.join(", "))
        };
        match m.status.as_str() {
            "missing" => blocking.push(format!(
                "create field *{}*, type {}{choices}, in Admin Settings → Contacts",
                def.label,
                type_words(def.field_type)
            )),
            "wrong_type" => {
                let have = account
                    .contact_fields
                    .iter()
                    .find(|f| Some(&f.name) == m.name.as_ref())
                    .map(|f| f.field_type.clone())
                    .unwrap_or_default();
                blocking.push(format!(
                    "field *{}* is of type {have} in Freshsales but the bundle needs {}: change one of them",
                    def.label,
                    type_words(def.field_type)
                ))
            }
            "missing_choices" => blocking.push(format!(
                "add choices {} to field *{}* in Admin Settings → Contacts",
                m.missing_choices.join(", "),
                def.label
            )),
            _ => {}
        }
    }
    let user_by_email = |email: &str| {
        account.users.iter().find(|u| {
            u.is_active
                && u.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email.trim()))
        })
    };
    let default_user = default_owner.map(|d| (d, user_by_email(d)));
    if let Some((d, None)) = default_user {
        blocking.push(format!(
            "--default-owner {d} is not an active Freshsales user"
        ));
    }
    let mut owners = Vec::new();
    for o in &manifest.owners {
        let user = o.email.as_deref().and_then(user_by_email);
        let (user_id, status) = match (user, default_user) {
            (Some(u), _) => (Some(u.id), "matched"),
            (None, Some((_, Some(d)))) => (Some(d.id), "default_owner"),
            (None, _) => (None, "unmatched"),
        };
        if status == "unmatched" {
            blocking.push(format!(
                "owner '{}'{} has no Freshsales user: invite them, or pass --default-owner EMAIL",
                o.source,
                o.email
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ));
        }
        owners.push(OwnerMatch {
            source: o.source.clone(),
            email: o.email.clone(),
            user_id,
            status: status.into(),
            references: o.references,
        });
    }
    let mut warnings = Vec::new();
    if stats.contacts_without_email_or_mobile > 0 {
        // Unverified upstream (and the sandbox's default): a contact may need an email or a
        // mobile number. Such contacts are not held back; if refused they land in errors.csv.
        warnings.push(format!(
            "{} contacts have neither an email nor a mobile number: Freshsales may refuse them (they would be listed in errors.csv)",
            stats.contacts_without_email_or_mobile
        ));
    }
    let calls = calls(stats, account.batched_search);
    Plan {
        fields,
        owners,
        blocking,
        warnings,
        calls,
        eta_seconds: calls.total() as f64 / calls_per_second,
        time: time_plan(&calls, stats, calls_per_second * 3600.0, 0.8),
        existing_contacts: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prep::model::{Owner, OwnerStatus};

    fn manifest(fields: Vec<CustomFieldDef>, owners: Vec<Owner>) -> Manifest {
        let p = prep::Prepared {
            custom_fields: fields,
            owners,
            confirmation: Some(prep::Confirmation {
                confirmed_by: "x".into(),
                confirmed_at: "t".into(),
            }),
            ..prep::Prepared::default()
        };
        prep::bundle::manifest(&p)
    }

    fn def(label: &str, t: FieldType, choices: &[&str]) -> CustomFieldDef {
        CustomFieldDef {
            label: label.into(),
            field_type: t,
            choices: choices.iter().map(|s| s.to_string()).collect(),
            date_order: None,
        }
    }

    fn remote(name: &str, label: &str, t: &str, choices: &[&str]) -> RemoteField {
        RemoteField {
            name: name.into(),
            label: label.into(),
            field_type: t.into(),
            choices: choices
                .iter()
                .map(|c| RemoteChoice {
                    id: None,
                    value: c.to_string(),
                })
                .collect(),
            default: false,
        }
    }

    #[test]
    fn phases_run_in_order_and_children_wait_for_their_contacts() {
        use crate::journal::Phase::*;
        assert_eq!(
            crate::push::phases_to_run(&[], &[]).unwrap().len(),
            6,
            "all phases by default"
        );
        assert_eq!(
            crate::push::phases_to_run(&[Contacts, Accounts], &[]).unwrap(),
            [Accounts, Contacts]
        );
        let e = crate::push::phases_to_run(&[Notes], &[Accounts]).unwrap_err();
        assert!(e.contains("the contacts phase must be loaded first"), "{e}");
        assert_eq!(
            crate::push::phases_to_run(&[Notes, Tasks], &[Accounts, Contacts]).unwrap(),
            [Notes, Tasks]
        );
        assert_eq!(
            crate::push::phases_to_run(&[Manual], &[]).unwrap(),
            [Manual]
        );
    }

    #[test]
    fn each_problem_blocks_with_its_own_message() {
        let m = manifest(
            vec![
                def("Anniversary", FieldType::Date, &[]),
                def("Level", FieldType::Dropdown, &["Gold", "Silver"]),
                def("Score", FieldType::Number, &[]),
                def("Notes Long", FieldType::Paragraph, &[]),
            ],
            vec![
                Owner {
                    source: "pat@a.example".into(),
                    email: Some("pat@a.example".into()),
                    name: None,
                    status: OwnerStatus::InUsersFile,
                    references: 3,
                },
                Owner {
                    source: "Jordan".into(),
                    email: None,
                    name: None,
                    status: OwnerStatus::Unknown,
                    references: 1,
                },
            ],
        );
        let account = Account {
            contact_fields: vec![
                remote("cf_level", "Level", "dropdown", &["Gold"]),
                remote("cf_score", "Score", "text", &[]),
                remote("cf_notes_long", "Notes long", "textarea", &[]),
            ],
            users: vec![RemoteUser {
                id: 7,
                email: Some("PAT@a.example".into()),
                display_name: None,
                is_active: true,
            }],
            batched_search: false,
        };
        let stats = BundleStats {
            accounts: 2,
            contacts_with_email: 10,
            contacts_without_email: 1,
            contacts_without_email_or_mobile: 1,
            notes: 5,
            tasks: 3,
            completed_tasks: 1,
            templates: 0,
            appointments: 2,
            appointments_without_contact: 1,
            system_notes: 2,
        };
        let p = plan(&m, &stats, &account, None, 1.0);
        // The time: 1 call/s is 3600/h, which Enterprise at 80 % (4000/h) beats.
        assert_eq!(p.time.total_hours, p.calls.total() as f64 / 3600.0);
        let choices = p.time.choices.join("\n");
        assert!(
            choices.contains("at Enterprise's 5000 calls/hour"),
            "{choices}"
        );
        assert!(!choices.contains("Growth"), "{choices}");
        assert!(choices.contains("--phases accounts,contacts"), "{choices}");
        assert!(choices.contains("leaves behind the 2 notes"), "{choices}");
        let b = p.blocking.join("\n");
        assert!(
            b.contains("create field *Anniversary*, type Date, in Admin Settings → Contacts"),
            "{b}"
        );
        assert!(b.contains("add choices Silver to field *Level*"), "{b}");
        assert!(
            b.contains("field *Score* is of type text in Freshsales but the bundle needs Number"),
            "{b}"
        );
        assert!(b.contains("owner 'Jordan' has no Freshsales user"), "{b}");
        assert!(
            b.contains("does not say the AllClients account's time zone"),
            "{b}"
        );
        assert_eq!(
            p.blocking.len(),
            5,
            "the paragraph field matched by label, case-insensitively"
        );
        assert_eq!(p.owners[0].user_id, Some(7));
        assert!(p.warnings[0].starts_with("1 contacts have neither an email nor a mobile"));
        assert_eq!(p.calls.total(), 4 + 4 + 22 + 5 + 4 + 2);
        assert_eq!(p.eta_seconds, 41.0);
        // Found in batches: one call per 100 lookups instead of one each.
        let batched = Account {
            batched_search: true,
            ..account.clone()
        };
        let p = plan(&m, &stats, &batched, None, 1.0);
        assert_eq!((p.calls.accounts, p.calls.contacts), (2 + 1, 11 + 1));
        let with_default = plan(&m, &stats, &account, Some("pat@a.example"), 1.0);
        assert_eq!(with_default.owners[1].status, "default_owner");
        assert_eq!(with_default.blocking.len(), 4);
        let bad_default = plan(&m, &stats, &account, Some("nobody@a.example"), 1.0);
        assert!(
            bad_default
                .blocking
                .iter()
                .any(|l| l.contains("--default-owner nobody@a.example"))
        );
    }
}
