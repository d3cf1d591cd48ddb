//! Real values next to each mapping row: up to three values of the column and what
//! Freshsales will receive for each, read from the records the preparation actually built
//! (after date parsing, phone placement, tag splitting, owner matching), so the page never
//! shows a guess of its own.

use std::collections::BTreeMap;

use crate::{FastMap, FastSet};

use serde::{Deserialize, Serialize};

use crate::dates::DateOrder;
use crate::fields::StdField;
use crate::kind::FileKind;
use crate::mapping::{ColumnMapping, Target};
use crate::model::{Account, Appointment, Contact, Owner, Task};
use crate::review::ReviewItem;
use crate::sheet::Sheet;
use crate::values::split_list;

/// How many values a mapping row shows.
pub const PER_COLUMN: usize = 3;

/// The sample values of one column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnSamples {
    /// The file kind.
    pub kind: FileKind,
    /// The column's header.
    pub column: String,
    /// Up to [`PER_COLUMN`] distinct non-empty values, in file order.
    pub samples: Vec<Sample>,
}

/// One value and its fate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// As in the export.
    pub value: String,
    /// What Freshsales receives, in words ("Work: 555-0100", "held back: …").
    pub becomes: String,
}

/// Everything the samples are read from.
pub struct Built<'a> {
    /// The sheets by kind, with their effective columns.
    pub sheets: &'a BTreeMap<FileKind, Vec<Sheet<'a>>>,
    #[allow(missing_docs)]
    pub contacts: &'a [Contact],
    #[allow(missing_docs)]
    pub accounts: &'a [Account],
    #[allow(missing_docs)]
    pub owners: &'a [Owner],
    #[allow(missing_docs)]
    pub tasks: &'a [Task],
    #[allow(missing_docs)]
    pub appointments: &'a [Appointment],
    #[allow(missing_docs)]
    pub review: &'a [ReviewItem],
}

/// A value picked to be shown: its file, row and text.
type Picked<'a> = (&'a str, u64, &'a str);

/// The samples of every column of every sheet.
pub fn build(b: &Built) -> Vec<ColumnSamples> {
    // First the rows shown: each column's first distinct non-empty values, read from the
    // tables alone. Then only the records of those rows are looked up: a map of every
    // contact, task and review item by row took room for each at the moment an export's
    // records are all held, to show a few dozen.
    let mut chosen: Vec<(FileKind, &ColumnMapping, Vec<Picked>)> = Vec::new();
    for (kind, sheets) in b.sheets {
        let Some(first) = sheets.first() else {
            continue;
        };
        for col in &first.columns {
            let mut picked: Vec<Picked> = Vec::new();
            'sheets: for sheet in sheets {
                let Some(index) = sheet.table.column(&col.source) else {
                    continue;
                };
                for row in &sheet.table.rows {
                    let value = row.get(index);
                    if value.trim().is_empty() || picked.iter().any(|p| p.2 == value) {
                        continue;
                    }
                    picked.push((sheet.file, u64::from(row.row), value));
                    if picked.len() == PER_COLUMN {
                        break 'sheets;
                    }
                }
            }
            chosen.push((*kind, col, picked));
        }
    }
    let wanted: FastSet<(&str, u64)> = chosen
        .iter()
        .flat_map(|(_, _, picked)| picked.iter().map(|&(file, row, _)| (file, row)))
        .collect();
    let mut contact_of: FastMap<(&str, u64), &Contact> = FastMap::default();
    for c in b.contacts {
        for s in &c.sources {
            let at = (s.file.as_str(), s.row);
            if wanted.contains(&at) {
                contact_of.insert(at, c);
            }
        }
    }
    let task_of: FastMap<(&str, u64), &Task> = b
        .tasks
        .iter()
        .map(|t| ((t.source.file.as_str(), t.source.row), t))
        .filter(|(at, _)| wanted.contains(at))
        .collect();
    let appt_of: FastMap<(&str, u64), &Appointment> = b
        .appointments
        .iter()
        .map(|a| ((a.source.file.as_str(), a.source.row), a))
        .filter(|(at, _)| wanted.contains(at))
        .collect();
    let mut review_of: FastMap<(&str, u64), Vec<&ReviewItem>> = FastMap::default();
    for i in b.review {
        if let Some(row) = i.row
            && wanted.contains(&(i.file.as_str(), row))
        {
            review_of.entry((i.file.as_str(), row)).or_default().push(i);
        }
    }
    let mut out = Vec::new();
    for (kind, col, picked) in chosen {
        let order = col.date_order.unwrap_or_default();
        let samples = picked
            .into_iter()
            .map(|(file, row, value)| {
                let at = (file, row);
                let items = review_of.get(&at).map(Vec::as_slice).unwrap_or_default();
                let becomes = match held(items, &col.source) {
                    Some(why) => why,
                    None => match kind {
                        FileKind::Contacts => match contact_of.get(&at) {
                            Some(c) if c.sources[0].file != at.0 || c.sources[0].row != at.1 => {
                                format!(
                                    "merged into the contact of {} row {}",
                                    c.sources[0].file, c.sources[0].row
                                )
                            }
                            Some(c) => contact_value(b, c, &col.target, value),
                            None => "not loaded".into(),
                        },
                        FileKind::Tasks => match task_of.get(&at) {
                            Some(t) => task_value(b, t, &col.target, value, order),
                            None => "not loaded".into(),
                        },
                        FileKind::Appointments => match appt_of.get(&at) {
                            Some(a) => appointment_value(a, &col.target, value, order),
                            None => "not loaded".into(),
                        },
                        _ => generic(&col.target, value, order),
                    },
                };
                Sample {
                    value: value.to_string(),
                    becomes,
                }
            })
            .collect();
        out.push(ColumnSamples {
            kind,
            column: col.source.clone(),
            samples,
        });
    }
    out
}

/// Why a value does not arrive, when one of its row's review items holds it or the row.
fn held(items: &[&ReviewItem], column: &str) -> Option<String> {
    for i in items {
        if i.held {
            return Some(format!("held back: {}", i.reason.label().to_lowercase()));
        }
        if i.column.as_deref() == Some(column) && i.reason == crate::review::Reason::InvalidValue {
            return Some(format!("held for review: {}", i.message));
        }
    }
    None
}

fn text(v: Option<&str>) -> String {
    v.map_or_else(|| "(empty)".into(), str::to_string)
}

fn owner_value(b: &Built, value: &str) -> String {
    match Owner::find(b.owners, value).and_then(Owner::user_email) {
        Some(e) => format!("the user {e}"),
        None => "unknown user: choose one in the review below".into(),
    }
}

fn contact_value(b: &Built, c: &Contact, target: &Target, value: &str) -> String {
    let v = value.trim();
    // A plain text field holds one value: when it shows another column's, this one is not
    // what Freshsales receives.
    if let Target::Field(f) = target
        && matches!(
            f,
            StdField::FirstName
                | StdField::LastName
                | StdField::Email
                | StdField::JobTitle
                | StdField::City
                | StdField::State
                | StdField::Zipcode
                | StdField::Country
        )
    {
        let shown = contact_value_of(b, c, target, v);
        return if shown.eq_ignore_ascii_case(v) || shown == "(empty)" && v.is_empty() {
            shown
        } else {
            format!(
                "not used: {} is “{shown}” from another column",
                crate::labels::field(*f)
            )
        };
    }
    contact_value_of(b, c, target, v)
}

fn contact_value_of(b: &Built, c: &Contact, target: &Target, v: &str) -> String {
    match target {
        Target::Field(f) => match f {
            StdField::FirstName => text(c.first_name.as_deref()),
            StdField::LastName => text(c.last_name.as_deref()),
            StdField::Email => text(c.email.as_deref()),
            StdField::OtherEmail => c.other_emails.join(", "),
            StdField::Company => c
                .account
                .as_ref()
                .and_then(|k| b.accounts.iter().find(|a| a.key == *k))
                .map_or_else(|| "(no account)".into(), |a| a.name.clone()),
            StdField::JobTitle => text(c.job_title.as_deref()),
            StdField::WorkNumber | StdField::MobileNumber | StdField::Phone => phone(c, v),
            StdField::Address | StdField::Address2 => text(c.address.as_deref()),
            StdField::City => text(c.city.as_deref()),
            StdField::State => text(c.state.as_deref()),
            StdField::Zipcode => text(c.zipcode.as_deref()),
            StdField::Country => text(c.country.as_deref()),
            StdField::Owner => owner_value(b, v),
            StdField::CreatedAt => text(c.created_at.as_deref()),
            StdField::UpdatedAt => text(c.updated_at.as_deref()),
            StdField::ContactId => format!("External ID allclients:{v}"),
            _ => v.to_string(),
        },
        Target::Tags => {
            let wanted: Vec<String> = split_list(v).iter().map(|t| t.to_lowercase()).collect();
            let tags: Vec<&str> = c
                .tags
                .iter()
                .filter(|t| wanted.contains(&t.to_lowercase()))
                .map(String::as_str)
                .collect();
            format!("tags: {}", tags.join(", "))
        }
        Target::TagIfTrue(tag) if c.tags.contains(tag) => format!("tag “{tag}”"),
        Target::TagIfTrue(_) => "no tag".into(),
        Target::Custom(label) => c
            .custom_fields
            .get(label.as_str())
            .map_or_else(|| "(empty)".into(), crate::preview::shown),
        Target::Append => v.to_string(),
        Target::Ignore => "left behind".into(),
    }
}

/// Where a phone went: Work, Mobile, or the text field named after its label.
fn phone(c: &Contact, v: &str) -> String {
    if c.work_number.as_deref() == Some(v) {
        return format!("Work: {v}");
    }
    if c.mobile_number.as_deref() == Some(v) {
        return format!("Mobile: {v}");
    }
    for (label, value) in &c.custom_fields {
        if value.as_str() == Some(v) {
            return format!("{label}: {v}");
        }
    }
    v.to_string()
}

fn task_value(b: &Built, t: &Task, target: &Target, value: &str, order: DateOrder) -> String {
    match target {
        Target::Field(StdField::Title) => t.title.clone(),
        Target::Field(StdField::DueDate) => text(t.due_date.as_deref()),
        Target::Field(StdField::Owner) => owner_value(b, value),
        Target::Field(StdField::Status) => format!("{:?}", t.status).to_lowercase(),
        Target::Ignore => "left behind".into(),
        _ => generic(target, value, order),
    }
}

fn appointment_value(a: &Appointment, target: &Target, value: &str, order: DateOrder) -> String {
    match target {
        Target::Field(StdField::Title) => a.title.clone(),
        Target::Field(StdField::Date | StdField::Start) => text(a.start.as_deref()),
        Target::Field(StdField::End) => text(a.end.as_deref()),
        Target::Ignore => "left behind".into(),
        _ => generic(target, value, order),
    }
}

/// For rows whose record is not kept at hand (notes are built one at a time): the field,
/// and dates as read.
fn generic(target: &Target, value: &str, order: DateOrder) -> String {
    match target {
        Target::Ignore => "left behind".into(),
        Target::Field(f) if f.is_date() => {
            match crate::dates::parse_raw(value).and_then(|d| d.settle(order)) {
                Some(d) => d.to_iso(),
                None => "not a date".into(),
            }
        }
        t => crate::labels::target(t),
    }
}
