//! Bundle records → Freshsales request bodies, as pure functions. The choices Freshsales'
//! docs leave open (email form, dropdown text or id, multi-select form, how to link the
//! account) are options, so an engineer can match what the live account accepts.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use prep::fields::FieldType;
use prep::model::{Account, Contact, Note, Task};

use crate::plan::RemoteField;

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
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Forms {
    /// Emails.
    pub email: EmailForm,
    /// Dropdowns.
    pub dropdown: DropdownForm,
    /// Multi-selects.
    pub multi_select: MultiSelectForm,
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

fn put(map: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        map.insert(key.into(), Value::String(v.clone()));
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
pub fn note_description(n: &Note) -> String {
    let mut head = String::from("[Imported from AllClients");
    if let Some(d) = &n.date {
        head.push_str(&format!(", originally {}", d.replace('T', " ")));
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
pub fn note(n: &Note, contact_id: i64) -> Value {
    json!({"note": {"description": note_description(n), "targetable_type": "Contact", "targetable_id": contact_id}})
}

/// A task's due date: the calendar date at noon UTC, which is the same calendar date in every
/// time zone from UTC−11 to UTC+11 (Freshsales wants a time; AllClients has none).
pub fn due_date(t: &Task, fallback: &str) -> String {
    let date = t
        .due_date
        .clone()
        .or_else(|| {
            t.completed_date
                .as_ref()
                .map(|d| d.chars().take(10).collect::<String>())
        })
        .unwrap_or_else(|| fallback.chars().take(10).collect());
    format!("{date}T12:00:00Z")
}

/// A task's description: details, then what Freshsales has no field for, then the import
/// line with the task's [`import_ref`].
pub fn task_description(t: &Task) -> String {
    let mut extra = Vec::new();
    if let Some(p) = t.priority {
        extra.push(format!("Priority: {p:?}"));
    }
    if let Some(k) = &t.task_type {
        extra.push(format!("Type: {k}"));
    }
    extra.push(format!(
        "[Imported from AllClients; {}]",
        import_ref(&t.key)
    ));
    match &t.details {
        Some(d) => format!("{d}\n\n{}", extra.join("\n")),
        None => extra.join("\n"),
    }
}

/// Create body of a task.
pub fn task(t: &Task, contact_id: i64, owner: Option<i64>, fallback_due: &str) -> Value {
    let mut m = Map::new();
    m.insert("title".into(), json!(t.title));
    m.insert("description".into(), json!(task_description(t)));
    m.insert("due_date".into(), json!(due_date(t, fallback_due)));
    m.insert("targetable_type".into(), json!("Contact"));
    m.insert("targetable_id".into(), json!(contact_id));
    if let Some(o) = owner {
        m.insert("owner_id".into(), json!(o));
    }
    json!({ "task": m })
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
        assert_eq!(
            note_description(&n),
            format!(
                "[Imported from AllClients, originally 2019-03-04 10:11:00 by J. Smith, activity; {r}]\n[[System]] Email sent"
            )
        );
        assert_eq!(find_import_ref(&note_description(&n)), Some(r.as_str()));
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
        let v = task(&t, 7, Some(9), "2026-11-25T00:00:00Z");
        assert_eq!(v["task"]["due_date"], "2020-01-02T12:00:00Z");
        assert_eq!(
            v["task"]["description"],
            format!(
                "Priority: High\n[Imported from AllClients; {}]",
                import_ref("task:1")
            )
        );
        assert_eq!(v["task"]["owner_id"], 9);
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
