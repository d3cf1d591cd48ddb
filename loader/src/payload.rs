//! Bundle records → Freshsales request bodies, as pure functions. The choices Freshsales'
//! docs leave open (email form, dropdown text or id, multi-select form, how to link the
//! account) are options, so an engineer can match what the live account accepts.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use prep::fields::FieldType;
use prep::model::{Account, Appointment, Contact, Note, Task, Text};

use crate::plan::RemoteField;
use crate::zone::Zone;

/// How to send a contact's emails (sources disagree on the write form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum EmailForm {
    /// `"emails": "a@b.com"` for one address, the array form for several.
    #[default]
    Auto,
    /// Always `"emails": [{"value", "is_primary"}]`.
    Array,
}

/// How to send dropdown values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum DropdownForm {
    /// The choice's text.
    #[default]
    Text,
    /// The choice's id.
    Id,
}

/// How to send multi-select values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum MultiSelectForm {
    /// `"A;B"`, as Freshsales' CSV import does.
    #[default]
    Semicolon,
    /// `["A", "B"]`.
    Array,
}

/// Options of payload building.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forms {
    /// Emails.
    pub email: EmailForm,
    /// Dropdowns.
    pub dropdown: DropdownForm,
    /// Multi-selects.
    pub multi_select: MultiSelectForm,
    /// Whether appointments also carry `owner_id` (some clients send it; unverified). The
    /// owner is always an attendee.
    #[serde(default)]
    pub appointment_owner_id: bool,
}

/// What the payload builder needs to know about the account.
#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// Bundle custom field label → the account's field.
    pub fields: HashMap<String, RemoteField>,
    /// Bundle owner value (lower-cased, trimmed) → Freshsales user id.
    pub owners: HashMap<String, i64>,
    /// Owner for records whose owner is missing or unmatched.
    pub default_owner: Option<i64>,
}

impl Targets {
    /// The user id for an owner value as exported.
    pub fn owner(&self, source: Option<&str>) -> Option<i64> {
        source
            .and_then(|s| self.owners.get(&s.trim().to_lowercase()).copied())
            .or(self.default_owner)
    }
}

/// Upsert body of a sales account.
pub fn account(a: &Account) -> Value {
    json!({"unique_identifier": {"name": a.name}, "sales_account": {"name": a.name}})
}

fn put(map: &mut Map<String, Value>, key: &str, value: &Option<Text>) {
    if let Some(v) = value {
        map.insert(key.into(), Value::String(String::from(v.as_str())));
    }
}

fn custom_value(
    field: &RemoteField,
    bundle_type: Option<FieldType>,
    v: &Value,
    forms: &Forms,
) -> Value {
    let id_of = |text: &str| -> Value {
        field
            .choices
            .iter()
            .find(|c| c.value.eq_ignore_ascii_case(text))
            .and_then(|c| c.id.clone())
            .unwrap_or_else(|| Value::String(text.into()))
    };
    match (bundle_type, v) {
        (Some(FieldType::Dropdown), Value::String(s)) if forms.dropdown == DropdownForm::Id => {
            id_of(s)
        }
        (Some(FieldType::MultiSelect), Value::Array(items)) => {
            match (forms.multi_select, forms.dropdown) {
                (MultiSelectForm::Array, DropdownForm::Id) => Value::Array(
                    items
                        .iter()
                        .map(|i| id_of(i.as_str().unwrap_or("")))
                        .collect(),
                ),
                (MultiSelectForm::Array, DropdownForm::Text) => v.clone(),
                (MultiSelectForm::Semicolon, _) => Value::String(
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(";"),
                ),
            }
        }
        _ => v.clone(),
    }
}

/// The `external_id` every loaded contact carries: `allclients:<Contact ID>` (its first, when
/// rows were merged), else its bundle key. For a contact without email this is its bundle
/// key, which is how a later load finds it.
pub fn external_id(c: &Contact) -> String {
    match c.allclients_ids.first() {
        Some(id) => format!("allclients:{id}"),
        None => c.key.clone(),
    }
}

/// The `contact` object of an upsert or create. `existing_tags` are the tags already on the
/// contact in Freshsales (kept: tags on a write replace the list).
pub fn contact(
    c: &Contact,
    account_id: Option<i64>,
    existing_tags: &[String],
    types: &HashMap<String, FieldType>,
    targets: &Targets,
    forms: &Forms,
) -> Value {
    let mut m = Map::new();
    put(&mut m, "first_name", &c.first_name);
    put(&mut m, "last_name", &c.last_name);
    put(&mut m, "job_title", &c.job_title);
    put(&mut m, "work_number", &c.work_number);
    put(&mut m, "mobile_number", &c.mobile_number);
    put(&mut m, "address", &c.address);
    put(&mut m, "city", &c.city);
    put(&mut m, "state", &c.state);
    put(&mut m, "zipcode", &c.zipcode);
    put(&mut m, "country", &c.country);
    if let Some(email) = &c.email {
        let single = c.other_emails.is_empty() && forms.email == EmailForm::Auto;
        if single {
            m.insert("emails".into(), Value::String(email.trim().into()));
        } else {
            let mut list = vec![json!({"value": email.trim(), "is_primary": true})];
            list.extend(
                c.other_emails
                    .iter()
                    .map(|e| json!({"value": e, "is_primary": false})),
            );
            m.insert("emails".into(), Value::Array(list));
        }
    }
    m.insert("external_id".into(), json!(external_id(c)));
    if let Some(owner) = targets.owner(c.owner.as_deref()) {
        m.insert("owner_id".into(), json!(owner));
    }
    if let Some(id) = account_id {
        m.insert("sales_account_id".into(), json!(id));
    }
    if !c.tags.is_empty() || !existing_tags.is_empty() {
        let mut tags: Vec<String> = existing_tags.to_vec();
        prep::values::union_into(&mut tags, c.tags.iter().cloned());
        m.insert("tags".into(), json!(tags));
    }
    let mut custom = Map::new();
    for (label, value) in &c.custom_fields {
        if let Some(field) = targets.fields.get(&**label) {
            custom.insert(
                field.name.clone(),
                custom_value(field, types.get(&**label).copied(), value, forms),
            );
        }
    }
    if !custom.is_empty() {
        m.insert("custom_field".into(), Value::Object(custom));
    }
    Value::Object(m)
}

/// A note's text in Freshsales: the original text, headed by its AllClients date, author
/// and kind (Freshsales sets its own creation time and author).
pub fn note_description(n: &Note, zone: &Zone) -> String {
    let mut head = String::from("[Imported from AllClients");
    if let Some(d) = &n.date {
        head.push_str(", originally ");
        head.push_str(&shown(d, zone));
    }
    if let Some(a) = &n.author {
        head.push_str(&format!(" by {a}"));
    }
    if n.system {
        head.push_str(", activity");
    }
    if n.pinned {
        head.push_str(", pinned");
    }
    head.push_str("; ");
    head.push_str(&import_ref(&n.key));
    head.push(']');
    format!("{head}\n{}", n.text)
}

/// A source-local date or date-time as people read it, with the zone's offset when it has a
/// time: `2019-03-04 10:11:00 -06:00`, or `2019-03-04`.
fn shown(local: &str, zone: &Zone) -> String {
    match zone.with_offset(local) {
        Some(t) => format!("{} {}", t[..19].replace('T', " "), &t[19..]),
        None => local.replace('T', " "),
    }
}

/// The marker a created note, task or appointment carries in its text: `ref AC-` and 12
/// hex digits of the SHA-256 of its bundle key. It lets a load recognise its own records in
/// the account when the journal is gone (another machine, a deleted file), so pushing the
/// same bundle again never makes a second copy.
pub fn import_ref(key: &str) -> String {
    use sha2::Digest;
    let hash = sha2::Sha256::digest(key.as_bytes());
    let hex: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("ref AC-{hex}")
}

/// The import ref in a text written by [`import_ref`], if there is one.
pub fn find_import_ref(text: &str) -> Option<&str> {
    let at = text.find("ref AC-")?;
    let candidate = text.get(at..at + 19)?;
    candidate[7..]
        .bytes()
        .all(|b| b.is_ascii_hexdigit())
        .then_some(candidate)
}

/// Create body of a note.
pub fn note(n: &Note, contact_id: i64, zone: &Zone) -> Value {
    json!({"note": {"description": note_description(n, zone), "targetable_type": "Contact", "targetable_id": contact_id}})
}

/// A task's due date: midday of the calendar date in the account's zone, with its offset,
/// so it is the same calendar date wherever it is read (Freshsales wants a time; AllClients
/// has none).
pub fn due_date(t: &Task, fallback: &str, zone: &Zone) -> String {
    let date: String = t
        .due_date
        .clone()
        .or_else(|| {
            t.completed_date
                .as_ref()
                .map(|d| d.chars().take(10).collect::<String>())
        })
        .unwrap_or_else(|| fallback.chars().take(10).collect());
    zone.midday(&date)
        .unwrap_or_else(|| format!("{date}T12:00:00Z"))
}

/// A task's description: details, then what Freshsales has no field for, then the import
/// line with the task's [`import_ref`].
pub fn task_description(t: &Task, zone: &Zone) -> String {
    let mut extra = Vec::new();
    if let Some(p) = t.priority {
        extra.push(format!("Priority: {p:?}"));
    }
    if let Some(k) = &t.task_type {
        extra.push(format!("Type: {k}"));
    }
    // Freshsales sets its own completion time when the task is completed: the original
    // stays here.
    if let Some(done) = &t.completed_date {
        extra.push(format!("Completed in AllClients: {}", shown(done, zone)));
    }
    let todo = t
        .key
        .strip_prefix("task:allclients:")
        .map(|id| format!(", to-do {id}"))
        .unwrap_or_default();
    extra.push(format!(
        "[Imported from AllClients{todo}; {}]",
        import_ref(&t.key)
    ));
    match &t.details {
        Some(d) => format!("{d}\n\n{}", extra.join("\n")),
        None => extra.join("\n"),
    }
}

/// Create body of a task.
pub fn task(
    t: &Task,
    contact_id: i64,
    owner: Option<i64>,
    fallback_due: &str,
    zone: &Zone,
) -> Value {
    let mut m = Map::new();
    m.insert("title".into(), json!(t.title));
    m.insert("description".into(), json!(task_description(t, zone)));
    m.insert("due_date".into(), json!(due_date(t, fallback_due, zone)));
    m.insert("targetable_type".into(), json!("Contact"));
    m.insert("targetable_id".into(), json!(contact_id));
    if let Some(o) = owner {
        m.insert("owner_id".into(), json!(o));
    }
    json!({ "task": m })
}

/// An appointment's description: its details, then the import line with its
/// [`import_ref`].
pub fn appointment_description(a: &Appointment) -> String {
    let id = a
        .key
        .strip_prefix("appointment:allclients:")
        .map(|id| format!(", appointment {id}"))
        .unwrap_or_default();
    let line = format!("[Imported from AllClients{id}; {}]", import_ref(&a.key));
    match &a.details {
        Some(d) => format!("{d}\n\n{line}"),
        None => line,
    }
}

/// The start and end Freshsales gets: calendar dates for an all-day appointment, else the
/// wall-clock times with the zone's offset. A missing end is the start (AllClients may leave
/// it out; nothing is invented). `None` when the start cannot be read.
pub fn appointment_times(a: &Appointment, zone: &Zone) -> Option<(String, String)> {
    let start = a.start.as_deref()?;
    let end = a.end.as_deref().unwrap_or(start);
    if a.all_day {
        return Some((start.get(..10)?.to_string(), end.get(..10)?.to_string()));
    }
    // A date alone, on a timed appointment: the start of that day.
    let timed = |s: &str| {
        if s.len() == 10 {
            format!("{s}T00:00:00")
        } else {
            s.to_string()
        }
    };
    Some((
        zone.with_offset(&timed(start))?,
        zone.with_offset(&timed(end))?,
    ))
}

/// Create body of an appointment: the contact (when it has one) as target and attendee, the
/// owner as attendee (and `owner_id` when the form says so).
pub fn appointment(
    a: &Appointment,
    contact_id: Option<i64>,
    owner: Option<i64>,
    zone: &Zone,
    forms: &Forms,
) -> Option<Value> {
    let (from, end) = appointment_times(a, zone)?;
    let mut m = Map::new();
    m.insert("title".into(), json!(a.title));
    m.insert("description".into(), json!(appointment_description(a)));
    m.insert("from_date".into(), json!(from));
    m.insert("end_date".into(), json!(end));
    m.insert("is_allday".into(), json!(a.all_day));
    let mut attendees = Vec::new();
    if let Some(o) = owner {
        attendees.push(json!({"attendee_type": "FdMultitenant::User", "attendee_id": o}));
        if forms.appointment_owner_id {
            m.insert("owner_id".into(), json!(o));
        }
    }
    if let Some(c) = contact_id {
        m.insert("targetable_type".into(), json!("Contact"));
        m.insert("targetable_id".into(), json!(c));
        attendees.push(json!({"attendee_type": "Contact", "attendee_id": c}));
    }
    m.insert("appointment_attendees_attributes".into(), json!(attendees));
    Some(json!({ "appointment": m }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use prep::model::{JoinedBy, Source, TaskStatus};

    #[test]
    fn contact_payload_follows_the_forms() {
        let mut c = Contact {
            key: "email:a@b.co".into(),
            email: Some("a@b.co".into()),
            first_name: Some("Ada".into()),
            tags: vec!["VIP".into()],
            ..Contact::default()
        };
        c.custom_fields.insert("Level".into(), json!("Gold"));
        c.custom_fields
            .insert("Hobbies".into(), json!(["Golf", "Chess"]));
        c.owner = Some("Pat@A.example".into());
        let mut targets = Targets::default();
        let field = |name: &str, choices: &[(i64, &str)]| RemoteField {
            name: name.into(),
            label: String::new(),
            field_type: String::new(),
            choices: choices
                .iter()
                .map(|(id, v)| crate::plan::RemoteChoice {
                    id: Some(json!(id)),
                    value: v.to_string(),
                })
                .collect(),
            default: false,
        };
        targets
            .fields
            .insert("Level".into(), field("cf_level", &[(1, "Gold")]));
        targets.fields.insert(
            "Hobbies".into(),
            field("cf_hobbies", &[(5, "Golf"), (6, "Chess")]),
        );
        targets.owners.insert("pat@a.example".into(), 70000000009);
        let types = HashMap::from([
            ("Level".to_string(), FieldType::Dropdown),
            ("Hobbies".to_string(), FieldType::MultiSelect),
        ]);
        let v = contact(
            &c,
            Some(42),
            &["old".into(), "vip".into()],
            &types,
            &targets,
            &Forms::default(),
        );
        assert_eq!(v["emails"], "a@b.co");
        assert_eq!(v["owner_id"], 70000000009i64);
        assert_eq!(v["sales_account_id"], 42);
        assert_eq!(
            v["tags"],
            json!(["old", "vip"]),
            "existing tags kept, no case duplicates"
        );
        assert_eq!(v["custom_field"]["cf_level"], "Gold");
        assert_eq!(v["custom_field"]["cf_hobbies"], "Golf;Chess");
        let ids = Forms {
            dropdown: DropdownForm::Id,
            multi_select: MultiSelectForm::Array,
            email: EmailForm::Array,
            appointment_owner_id: false,
        };
        let v = contact(&c, None, &[], &types, &targets, &ids);
        assert_eq!(v["custom_field"]["cf_level"], 1);
        assert_eq!(v["custom_field"]["cf_hobbies"], json!([5, 6]));
        assert_eq!(
            v["emails"],
            json!([{"value": "a@b.co", "is_primary": true}])
        );
        assert!(v.get("sales_account_id").is_none());
    }

    #[test]
    fn notes_and_tasks_keep_their_history_in_the_text() {
        let n = Note {
            key: "note:1".into(),
            contact: "c".into(),
            joined_by: JoinedBy::Email,
            text: "[[System]] Email sent".into(),
            system: true,
            icon: None,
            date: Some("2019-03-04T10:11:00".into()),
            author: Some("J. Smith".into()),
            pinned: false,
            source: Source {
                file: "Notes.csv".into(),
                row: 2,
            },
        };
        let r = import_ref("note:1");
        let chicago = Zone::named("America/Chicago").unwrap();
        assert_eq!(
            note_description(&n, &chicago),
            format!(
                "[Imported from AllClients, originally 2019-03-04 10:11:00 -06:00 by J. Smith, activity; {r}]\n[[System]] Email sent"
            )
        );
        assert_eq!(
            find_import_ref(&note_description(&n, &chicago)),
            Some(r.as_str())
        );
        assert_ne!(import_ref("note:2"), r, "another key, another ref");
        assert_eq!(find_import_ref("ref AC-12 too short"), None);
        let t = Task {
            key: "task:1".into(),
            contact: "c".into(),
            joined_by: JoinedBy::ContactId,
            title: "Call".into(),
            details: None,
            due_date: None,
            status: TaskStatus::Completed,
            completed_date: Some("2020-01-02T09:00:00".into()),
            priority: Some(prep::model::Priority::High),
            task_type: None,
            owner: None,
            source: Source {
                file: "Tasks.csv".into(),
                row: 2,
            },
        };
        let v = task(&t, 7, Some(9), "2026-11-25T00:00:00Z", &chicago);
        assert_eq!(v["task"]["due_date"], "2020-01-02T12:00:00-06:00");
        assert_eq!(
            v["task"]["description"],
            format!(
                "Priority: High\nCompleted in AllClients: 2020-01-02 09:00:00 -06:00\n[Imported from AllClients; {}]",
                import_ref("task:1")
            )
        );
        assert_eq!(v["task"]["owner_id"], 9);
    }

    #[test]
    fn appointments_keep_their_times_with_the_zone_offset() {
        let chicago = Zone::named("America/Chicago").unwrap();
        let mut a = Appointment {
            key: "appointment:allclients:701".into(),
            contact: Some("email:a@b.co".into()),
            title: "Coffee".into(),
            details: Some("Bring the listing".into()),
            start: Some("2020-10-27T09:00:00".into()),
            end: Some("2020-10-27T10:30:00".into()),
            all_day: false,
            owner: Some("Pat".into()),
            source: Source {
                file: "Appointments.csv".into(),
                row: 3,
            },
        };
        let forms = Forms::default();
        let v = appointment(&a, Some(5), Some(9), &chicago, &forms).unwrap();
        let b = &v["appointment"];
        assert_eq!(b["from_date"], "2020-10-27T09:00:00-05:00");
        assert_eq!(b["end_date"], "2020-10-27T10:30:00-05:00");
        assert_eq!(b["targetable_id"], 5);
        assert_eq!(b["appointment_attendees_attributes"][0]["attendee_id"], 9);
        assert_eq!(
            b["appointment_attendees_attributes"][1]["attendee_type"],
            "Contact"
        );
        assert!(
            b.get("owner_id").is_none(),
            "owner_id only when the form says so"
        );
        assert!(b["description"].as_str().unwrap().starts_with(
            "Bring the listing\n\n[Imported from AllClients, appointment 701; ref AC-"
        ));
        // All day and multi-day: calendar dates; no contact: no target.
        a.all_day = true;
        a.start = Some("2021-05-01".into());
        a.end = Some("2021-05-02".into());
        a.contact = None;
        let v = appointment(&a, None, None, &chicago, &forms).unwrap();
        assert_eq!(v["appointment"]["from_date"], "2021-05-01");
        assert_eq!(v["appointment"]["end_date"], "2021-05-02");
        assert!(v["appointment"].get("targetable_id").is_none());
        a.start = None;
        assert!(appointment(&a, None, None, &chicago, &forms).is_none());
    }
}

/// A note's text as Freshsales may hand it back: tags dropped (it may add `<br>` or wrap
/// paragraphs), line endings and runs of white space made one space. Two texts equal here
/// are the same note.
pub fn comparable_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    let mut space = false;
    for ch in text.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                space = true;
            }
            _ if in_tag => {}
            c if c.is_whitespace() => space = true,
            c => {
                if space && !out.is_empty() {
                    out.push(' ');
                }
                space = false;
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod comparable_text_tests {
    use super::comparable_text;

    #[test]
    fn markup_and_line_endings_do_not_make_another_note() {
        let sent = "Called.\r\nWants a <b>second</b> viewing.\n\n(by Pat)";
        let back = "<p>Called.<br>Wants a second viewing.</p><p>(by Pat)</p>";
        assert_eq!(comparable_text(sent), comparable_text(back));
        assert_ne!(comparable_text("Called."), comparable_text("Called!"));
    }
}
