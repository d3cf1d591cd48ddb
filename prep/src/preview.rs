//! A contact as it will land in Freshsales: found by name or email among the prepared
//! contacts, with its fields under Freshsales' labels, its account, owner, notes, to-dos,
//! appointments and the review items about its rows. Read from the very records the
//! bundle carries.

use serde::{Deserialize, Serialize};

use crate::bundle::Notes;
use crate::fields::FieldValue;
use crate::model::{Appointment, Contact, Note, Owner, Task, Text};
use crate::prepare::Prepared;
use crate::review::ReviewItem;

/// How many matches a search lists.
pub const MATCHES: usize = 10;

/// A search's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    /// Contacts whose name or email contains the query (the first [`MATCHES`]).
    pub matches: Vec<Match>,
    /// How many contacts match in all.
    pub total: usize,
    /// The chosen contact (the `key` asked for, else the first match).
    pub record: Option<RecordPreview>,
}

/// One contact found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    /// The contact's key (as in the bundle).
    pub key: String,
    /// Its name, or its email when it has no name.
    pub name: String,
    #[allow(missing_docs)]
    pub email: Option<String>,
}

/// One contact and everything attached to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordPreview {
    /// Its fields as Freshsales shows them: (label, value), empty ones left out.
    pub fields: Vec<(String, String)>,
    /// The bundle's contact record itself.
    pub contact: Contact,
    /// Its owner (with the Freshsales user it goes to, when known).
    pub owner: Option<Owner>,
    #[allow(missing_docs)]
    pub notes: Vec<Note>,
    #[allow(missing_docs)]
    pub tasks: Vec<Task>,
    #[allow(missing_docs)]
    pub appointments: Vec<Appointment>,
    /// Review items about its rows.
    pub review: Vec<ReviewItem>,
}

/// What a contact is called where it is shown: its first and last name, else its email,
/// else its key.
pub fn name_of(c: &Contact) -> String {
    let name = [c.first_name.as_deref(), c.last_name.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        c.email.as_deref().unwrap_or(&c.key).to_string()
    } else {
        name
    }
}

/// Searches the contacts of `p` (its notes from `notes`) for `query` (case-insensitive,
/// in the name or any email) and previews `key`, or the first match.
pub fn find(p: &Prepared, notes: &dyn Notes, query: &str, key: Option<&str>) -> Preview {
    let q = query.trim().to_lowercase();
    let hits: Vec<&Contact> = p
        .contacts
        .iter()
        .filter(|c| {
            !q.is_empty()
                && (name_of(c).to_lowercase().contains(&q)
                    || c.email
                        .as_deref()
                        .into_iter()
                        .chain(c.other_emails.iter().map(String::as_str))
                        .any(|e| e.to_lowercase().contains(&q)))
        })
        .collect();
    let chosen = key
        .and_then(|k| p.contacts.iter().find(|c| c.key == k))
        .or(hits.first().copied());
    Preview {
        matches: hits
            .iter()
            .take(MATCHES)
            .map(|c| Match {
                key: c.key.clone(),
                name: name_of(c),
                email: c.email.as_deref().map(str::to_string),
            })
            .collect(),
        total: hits.len(),
        record: chosen.map(|c| record(p, notes, c)),
    }
}

fn record(p: &Prepared, notes: &dyn Notes, c: &Contact) -> RecordPreview {
    let owner = c
        .owner
        .as_deref()
        .and_then(|o| Owner::find(&p.owners, o))
        .cloned();
    let mut mine = Vec::new();
    let _ = notes.each_of(&c.key, &mut |n| {
        mine.push(n.clone().into_owned());
        Ok(())
    });
    let review = p
        .review
        .iter()
        .filter(|i| {
            c.sources
                .iter()
                .any(|s| s.file == i.file && Some(s.row) == i.row)
        })
        .cloned()
        .collect();
    RecordPreview {
        fields: fields(p, c, owner.as_ref()),
        contact: c.clone(),
        owner,
        notes: mine,
        tasks: p
            .tasks
            .iter()
            .filter(|t| t.contact == c.key)
            .cloned()
            .collect(),
        appointments: p
            .appointments
            .iter()
            .filter(|a| a.contact.as_deref() == Some(c.key.as_str()))
            .cloned()
            .collect(),
        review,
    }
}

fn fields(p: &Prepared, c: &Contact, owner: Option<&Owner>) -> Vec<(String, String)> {
    let account = c
        .account
        .as_ref()
        .and_then(|k| p.accounts.iter().find(|a| a.key == *k))
        .map(|a| a.name.clone());
    let owner = owner.map(|o| match o.user_email() {
        Some(e) => e.to_string(),
        None => format!("{} (no Freshsales user yet: the default owner)", o.source),
    });
    // As the loader sends it (`loader::payload::external_id`).
    let external = Some(
        c.allclients_ids
            .first()
            .map_or_else(|| c.key.clone(), |id| format!("allclients:{id}")),
    );
    let text = |v: &Option<Text>| v.as_deref().map(str::to_string);
    let mut out: Vec<(String, Option<String>)> = vec![
        ("First name".into(), text(&c.first_name)),
        ("Last name".into(), text(&c.last_name)),
        ("Email".into(), text(&c.email)),
        (
            "Other emails".into(),
            (!c.other_emails.is_empty()).then(|| c.other_emails.join(", ")),
        ),
        ("Job title".into(), text(&c.job_title)),
        ("Work".into(), text(&c.work_number)),
        ("Mobile".into(), text(&c.mobile_number)),
        ("Address".into(), text(&c.address)),
        ("City".into(), text(&c.city)),
        ("State".into(), text(&c.state)),
        ("Zipcode".into(), text(&c.zipcode)),
        ("Country".into(), text(&c.country)),
        ("Sales account".into(), account),
        ("Sales owner".into(), owner),
        (
            "Tags".into(),
            (!c.tags.is_empty()).then(|| c.tags.join(", ")),
        ),
        ("External ID".into(), external),
    ];
    for (label, value) in &c.custom_fields {
        out.push((label.to_string(), Some(shown(value))));
    }
    out.into_iter()
        .filter_map(|(l, v)| v.filter(|v| !v.is_empty()).map(|v| (l, v)))
        .collect()
}

/// A custom field's value in words (lists joined, yes/no for checkboxes).
pub fn shown(v: &FieldValue) -> String {
    match v {
        FieldValue::String(s) => s.clone(),
        FieldValue::Bool(b) => if *b { "Yes" } else { "No" }.into(),
        FieldValue::Array(a) => a
            .iter()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}
