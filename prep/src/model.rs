//! The records a preparation produces. They are what the bundle carries, line by line,
//! and what the loader pushes; field names follow Freshsales' where one exists.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::fields::FieldValue;

/// Where a record came from. `S` is the text type: owned (`String`, the default) where
/// records are held or read back, [`Text`] in a contact (held inline), borrowed
/// (`Cow<str>`) where a note is written straight from its row ([`NoteRef`]); all serialise
/// alike.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source<S = String> {
    /// Input file name.
    pub file: S,
    /// 1-based record number (header = row 1).
    pub row: u64,
}

/// A Freshsales sales account, made from contacts' company names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// Stable key: `account:` + the normalised name (the upsert key is the name).
    pub key: String,
    /// The name as first written in the export.
    pub name: String,
    /// How many contacts link to it.
    pub contacts: u64,
}

/// A phone that is neither the work nor the mobile number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherPhone {
    /// The number as written.
    pub number: Text,
    /// Its label in AllClients (home, fax, …), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Text>,
}

/// The text of one of a contact's values: held inline up to 24 bytes (12 in wasm32), on
/// the heap beyond; serialised as a plain string. Most of a contact's values are short, and
/// an export's contacts are all held at once.
pub type Text = compact_str::CompactString;

/// A contact to upsert (by email when it has one).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Contact {
    /// Stable key across exports: `email:<lower-case email>`, else `allclients:<id>`, else
    /// `row:<file>:<row>`.
    pub key: String,
    /// AllClients contact ids of every row merged into this contact.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allclients_ids: Vec<Text>,
    /// The rows this contact was made from, the surviving (most recently edited) one first.
    pub sources: Vec<Source<Text>>,
    #[allow(missing_docs)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<Text>,
    #[allow(missing_docs)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<Text>,
    /// Primary email (trimmed, case kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Text>,
    /// Further emails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_emails: Vec<String>,
    #[allow(missing_docs)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_title: Option<Text>,
    #[allow(missing_docs)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_number: Option<Text>,
    #[allow(missing_docs)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_number: Option<Text>,
    /// Phones beyond work and mobile, with their labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_phones: Vec<OtherPhone>,
    /// Street address (Address and Address 2 joined by a newline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Text>,
    #[allow(missing_docs)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<Text>,
    #[allow(missing_docs)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<Text>,
    #[allow(missing_docs)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zipcode: Option<Text>,
    #[allow(missing_docs)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Text>,
    /// The owner as written in the export (see the manifest's owners for its email).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Text>,
    /// The key of the linked [`Account`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<Text>,
    /// Tags (flags), deduplicated case-insensitively.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Custom field values by label: string, number, bool, `YYYY-MM-DD`, or a list of
    /// strings for multi-selects.
    #[serde(default, skip_serializing_if = "CustomValues::is_empty")]
    pub custom_fields: CustomValues,
    /// AllClients add date (ISO, source-local time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Text>,
    /// AllClients edit date (ISO, source-local time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Text>,
}

impl Contact {
    /// Gives back the room its growing lists and key kept spare (a list grown by doubling
    /// keeps room for four values or more): call once the contact is made, since an
    /// export's contacts are all held at once.
    pub fn fit(&mut self) {
        self.custom_fields.fit();
        self.tags.shrink_to_fit();
        self.other_emails.shrink_to_fit();
        self.key.shrink_to_fit();
    }
}

/// How a note, task or appointment found its contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinedBy {
    /// AllClients contact id.
    ContactId,
    /// Primary email.
    Email,
    /// The contact's other email.
    OtherEmail,
    /// First and last name (reviewed).
    Name,
}

/// A note on a contact. `S` is the text type, as for [`Source`]: a `Note` owns its text;
/// a [`NoteRef`] borrows what it can from its row (the bundle writer serialises notes
/// built that way, so their text is never copied).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note<S = String> {
    /// Stable key: a fingerprint of contact, date and text (with `#n` for repeats).
    pub key: S,
    /// The contact's key.
    pub contact: S,
    /// How it was joined.
    pub joined_by: JoinedBy,
    /// The text as exported (including any `[[System]]` prefix), plus appended columns.
    pub text: S,
    /// A `[[System]]` activity note.
    pub system: bool,
    /// The `[[Icon:…]]` name, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<S>,
    /// Original timestamp (ISO, source-local time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<S>,
    /// Original author, if the export has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<S>,
    /// Pinned in AllClients.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pinned: bool,
    /// Input row.
    pub source: Source<S>,
}

/// A note whose text is borrowed where it can be: from its row, or from a [`Note`].
pub type NoteRef<'a> = Note<Cow<'a, str>>;

impl Note {
    /// This note, borrowed.
    pub fn borrowed(&self) -> NoteRef<'_> {
        fn b(s: &str) -> Cow<'_, str> {
            Cow::Borrowed(s)
        }
        Note {
            key: b(&self.key),
            contact: b(&self.contact),
            joined_by: self.joined_by,
            text: b(&self.text),
            system: self.system,
            icon: self.icon.as_deref().map(b),
            date: self.date.as_deref().map(b),
            author: self.author.as_deref().map(b),
            pinned: self.pinned,
            source: Source {
                file: b(&self.source.file),
                row: self.source.row,
            },
        }
    }
}

impl NoteRef<'_> {
    /// This note, owning its text (what was borrowed is copied).
    pub fn into_owned(self) -> Note {
        Note {
            key: self.key.into_owned(),
            contact: self.contact.into_owned(),
            joined_by: self.joined_by,
            text: self.text.into_owned(),
            system: self.system,
            icon: self.icon.map(Cow::into_owned),
            date: self.date.map(Cow::into_owned),
            author: self.author.map(Cow::into_owned),
            pinned: self.pinned,
            source: Source {
                file: self.source.file.into_owned(),
                row: self.source.row,
            },
        }
    }
}

/// Task status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Not done.
    Open,
    /// Done (the loader creates it, then completes it).
    Completed,
}

/// Task priority, from High/Normal/Low or AllClients' 1/3/5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Priority {
    High,
    Normal,
    Low,
}

/// A to-do on a contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Stable key: `allclients:<todo id>` or a content fingerprint.
    pub key: String,
    /// The contact's key.
    pub contact: String,
    /// How it was joined.
    pub joined_by: JoinedBy,
    /// Title (AllClients summary).
    pub title: String,
    /// Details, plus appended columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Due date, `YYYY-MM-DD` (date only, never shifted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// Open or completed.
    pub status: TaskStatus,
    /// When it was completed, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_date: Option<String>,
    #[allow(missing_docs)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// AllClients category (Email, Letter, Phone Call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_type: Option<String>,
    /// Owner as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Input row.
    pub source: Source,
}

/// A calendar appointment (Freshsales has no phase for these yet; carried for the record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Appointment {
    /// Stable key.
    pub key: String,
    /// The contact's key, when linked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[allow(missing_docs)]
    pub title: String,
    #[allow(missing_docs)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// Start (ISO, source-local).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// End (ISO, source-local).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    #[allow(missing_docs)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all_day: bool,
    #[allow(missing_docs)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Input row.
    pub source: Source,
}

/// Something in a template that needs a person's attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateFlag {
    /// `data_image`, `hosted_image`, `relative_image` or `merge_token`.
    pub kind: String,
    /// The URL or token (data: URIs cut to their first 40 characters).
    pub value: String,
}

/// An email template, for the manual-step pack (Freshsales has no template API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// Stable key: `template:` + folder/name.
    pub key: String,
    #[allow(missing_docs)]
    pub name: String,
    #[allow(missing_docs)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    #[allow(missing_docs)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The HTML exactly as decoded from the export.
    pub html: String,
    /// What to re-host or translate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<TemplateFlag>,
    /// Input file (and row, for CSV templates).
    pub source: Source,
}

/// A team member from the users file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamMember {
    /// AllClients team member id (0 = account owner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[allow(missing_docs)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[allow(missing_docs)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Administrator / Power User / Standard User.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// Whether an owner was found in the users file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerStatus {
    /// Found.
    InUsersFile,
    /// Not found (or no users file): the engineer maps it by email.
    Unknown,
    /// Assigned to a Freshsales user by the customer (a correction).
    Assigned,
}

/// An owner referenced by contacts, tasks or appointments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Owner {
    /// The value as written in the export.
    pub source: String,
    /// The owner's email, when known (from the users file, or the value itself).
    pub email: Option<String>,
    /// Display name, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Found in the users file or not.
    pub status: OwnerStatus,
    /// How many records refer to it.
    pub references: u64,
}

impl Owner {
    /// The Freshsales user this owner's records go to, when one is known (found in the users
    /// file, or assigned by the customer); else the engineer's default owner takes them.
    pub fn user_email(&self) -> Option<&str> {
        match self.status {
            OwnerStatus::InUsersFile | OwnerStatus::Assigned => self.email.as_deref(),
            OwnerStatus::Unknown => None,
        }
    }

    /// The owner among `owners` that an exported owner `value` names (trimmed, any case).
    pub fn find<'o>(owners: &'o [Owner], value: &str) -> Option<&'o Owner> {
        let v = value.trim().to_lowercase();
        owners.iter().find(|o| o.source.to_lowercase() == v)
    }
}

/// Per-object counts. For every object `rows_in = loaded + merged + held`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Data rows read.
    pub rows_in: u64,
    /// Records the load will push.
    pub loaded: u64,
    /// Rows folded into another record.
    pub merged: u64,
    /// Rows held in the review queue.
    pub held: u64,
}

/// Account counts (accounts are derived, not read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AccountCounts {
    /// Distinct accounts.
    pub loaded: u64,
}

/// Counts for every object kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct Objects {
    pub contacts: Counts,
    pub notes: Counts,
    pub tasks: Counts,
    pub appointments: Counts,
    pub templates: Counts,
    pub accounts: AccountCounts,
}

/// A contact's custom field values by label, kept sorted by label: serialised as a JSON
/// object exactly as a `BTreeMap` would be, but held in one vector of the values' own size.
/// A contact has a handful of values (seven in the generated export), and a `BTreeMap`
/// node takes room for eleven; an export can have millions of contacts, all held at once.
/// The vector is sized to its values once a contact is made ([`CustomValues::fit`]): grown
/// by doubling, ten values would take room for sixteen, more than the node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomValues(Vec<(Arc<str>, FieldValue)>);

impl CustomValues {
    /// The values of `sorted`, which holds each label once, in label order (given back
    /// when it does not): for a caller that orders its values as it gathers them, so that
    /// the vector is not searched and shifted for every value.
    pub fn from_sorted(
        sorted: Vec<(Arc<str>, FieldValue)>,
    ) -> Result<CustomValues, Vec<(Arc<str>, FieldValue)>> {
        if sorted.windows(2).all(|w| w[0].0 < w[1].0) {
            Ok(CustomValues(sorted))
        } else {
            Err(sorted)
        }
    }

    fn position(&self, label: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(l, _)| (**l).cmp(label))
    }

    /// The value of `label`.
    pub fn get(&self, label: &str) -> Option<&FieldValue> {
        self.position(label).ok().map(|i| &self.0[i].1)
    }

    /// The value of `label`, to change it.
    pub fn get_mut(&mut self, label: &str) -> Option<&mut FieldValue> {
        self.position(label).ok().map(|i| &mut self.0[i].1)
    }

    /// Whether `label` has a value.
    pub fn contains_key(&self, label: &str) -> bool {
        self.position(label).is_ok()
    }

    /// Sets `label` to `value`; returns the value it replaces.
    pub fn insert(&mut self, label: Arc<str>, value: FieldValue) -> Option<FieldValue> {
        match self.position(&label) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (label, value));
                None
            }
        }
    }

    /// Takes `label`'s value out.
    pub fn remove(&mut self, label: &str) -> Option<FieldValue> {
        self.position(label).ok().map(|i| self.0.remove(i).1)
    }

    /// How many labels have a value.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none has.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Makes room for `more` values at once (a contact's values are added a few at a time,
    /// and growing by doubling then giving the rest back would move them twice).
    pub fn reserve_exact(&mut self, more: usize) {
        self.0.reserve_exact(more);
    }

    /// Gives back the room no value takes, the lists' (multi-select values) included:
    /// call once the values are all in.
    pub fn fit(&mut self) {
        self.0.shrink_to_fit();
        for (_, v) in &mut self.0 {
            if let FieldValue::Array(list) = v {
                list.shrink_to_fit();
            }
        }
    }

    /// Labels and values, sorted by label.
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &FieldValue)> {
        self.0.iter().map(|(l, v)| (l, v))
    }
}

impl IntoIterator for CustomValues {
    type Item = (Arc<str>, FieldValue);
    type IntoIter = std::vec::IntoIter<(Arc<str>, FieldValue)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a CustomValues {
    type Item = (&'a Arc<str>, &'a FieldValue);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Arc<str>, FieldValue)>,
        fn(&'a (Arc<str>, FieldValue)) -> (&'a Arc<str>, &'a FieldValue),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(l, v)| (l, v))
    }
}

impl Serialize for CustomValues {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for CustomValues {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<Arc<str>, FieldValue>::deserialize(d)?;
        Ok(CustomValues(map.into_iter().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Custom values are written and read as the `BTreeMap` they replace: one JSON object,
    /// labels sorted, whatever order they were set in; `fit` keeps every value.
    #[test]
    fn custom_values_serialise_as_a_sorted_map() {
        let mut values = CustomValues::default();
        let mut map: BTreeMap<Arc<str>, FieldValue> = BTreeMap::new();
        for (label, value) in [
            ("Tier", serde_json::json!("Gold")),
            ("Birthday", serde_json::json!("2020-01-02")),
            ("Hobbies", serde_json::json!(["Golf", "Chess"])),
            ("Tier", serde_json::json!("Silver")),
            ("Referrals", serde_json::json!(3)),
        ] {
            values.insert(Arc::from(label), value.clone());
            map.insert(Arc::from(label), value);
        }
        values.fit();
        assert_eq!(values.len(), 4);
        assert_eq!(values.get("Tier"), Some(&serde_json::json!("Silver")));
        let json = serde_json::to_string(&values).unwrap();
        assert_eq!(json, serde_json::to_string(&map).unwrap());
        let back: CustomValues = serde_json::from_str(&json).unwrap();
        assert_eq!(back, values);
        assert_eq!(
            values.iter().map(|(k, _)| &**k).collect::<Vec<_>>(),
            ["Birthday", "Hobbies", "Referrals", "Tier"]
        );
        assert_eq!(
            values.remove("Hobbies"),
            Some(serde_json::json!(["Golf", "Chess"]))
        );
        assert!(!values.contains_key("Hobbies"));
        // Values given in label order are those values; out of order or repeated, refused.
        let sorted: Vec<(Arc<str>, FieldValue)> = values.clone().into_iter().collect();
        assert_eq!(CustomValues::from_sorted(sorted.clone()), Ok(values));
        let mut reversed = sorted.clone();
        reversed.reverse();
        assert!(CustomValues::from_sorted(reversed).is_err());
        let repeated = [sorted.clone(), sorted[..1].to_vec()].concat();
        assert!(CustomValues::from_sorted(repeated).is_err());
    }
}
