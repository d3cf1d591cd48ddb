//! What Freshsales accepts in one value, so that a value it would refuse (or a request too
//! large for it) is held in the review queue with its reason at preparation time instead of
//! stopping the load. Freshworks documents text fields at 256 characters and text areas at
//! 10,000 ("What are custom field limits?"); the note limit is not documented, so its
//! default is a conservative guess. All are settings the customer or engineer can change.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::fields::{CustomFieldDef, FieldType};
use crate::model::Contact;
use crate::review::{Reason, ReviewItem};

/// Largest values, in characters, per kind of destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Single-line fields: standard contact fields and custom text fields.
    pub text: usize,
    /// Custom paragraph (text area) fields and the street address.
    pub paragraph: usize,
    /// A note's text, and a task's description (unverified upstream).
    pub note: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            text: 255,
            paragraph: 10_000,
            note: 65_535,
        }
    }
}

/// Whether `s` is longer than `max` characters (counting only when the bytes say it may be).
pub fn too_long(s: &str, max: usize) -> bool {
    s.len() > max && s.chars().count() > max
}

/// The message of a held oversize value.
pub fn message(s: &str, max: usize, what: &str) -> String {
    format!(
        "{} characters: longer than Freshsales takes in {what} (at most {max}); held here, \
         not loaded",
        s.chars().count()
    )
}

/// Takes every value longer than its field allows out of the contacts, each into an
/// `invalid_value` review item that carries it whole (the contact loads without it).
///
/// `header` names the source column of a destination in a file (`first_name`, or
/// `custom:<label>`), so the item points at the cell the customer sees, and the ledger
/// counts the value as held; the destination's own name stands in when there is none.
pub fn enforce_contacts(
    contacts: &mut [Contact],
    defs: &BTreeMap<String, CustomFieldDef>,
    limits: &Limits,
    header: &(dyn Fn(&str, &str) -> Option<String> + Sync),
    review: &mut Vec<ReviewItem>,
) {
    // Each contact on its own, so side by side in runs (where there are threads), the
    // runs' items kept in contact order: the result is the sequential one.
    let runs: Vec<Vec<ReviewItem>> = contacts
        .par_chunks_mut(4096)
        .map(|run| {
            let mut items = Vec::new();
            for c in run {
                enforce_contact(c, defs, limits, header, &mut items);
            }
            items
        })
        .collect();
    review.extend(runs.into_iter().flatten());
}

fn enforce_contact(
    c: &mut Contact,
    defs: &BTreeMap<String, CustomFieldDef>,
    limits: &Limits,
    header: &dyn Fn(&str, &str) -> Option<String>,
    review: &mut Vec<ReviewItem>,
) {
    let (file, row) = c
        .sources
        .first()
        .map_or(("", 0), |s| (s.file.as_str(), s.row));
    let mut hold = |column: &str, value: &str, max: usize, what: &str| {
        let key = match column {
            "First name" => "first_name".to_string(),
            "Last name" => "last_name".into(),
            "Job title" => "job_title".into(),
            "City" => "city".into(),
            "State" => "state".into(),
            "Zipcode" => "zipcode".into(),
            "Country" => "country".into(),
            "Address" => "address".into(),
            label => format!("custom:{label}"),
        };
        let column = header(file, &key).unwrap_or_else(|| column.to_string());
        let mut item = ReviewItem::new(Reason::InvalidValue, file, message(value, max, what))
            .value(&column, value);
        item.row = Some(row);
        review.push(item);
    };
    let text = limits.text;
    for (label, slot) in [
        ("First name", &mut c.first_name),
        ("Last name", &mut c.last_name),
        ("Job title", &mut c.job_title),
        ("City", &mut c.city),
        ("State", &mut c.state),
        ("Zipcode", &mut c.zipcode),
        ("Country", &mut c.country),
    ] {
        if slot.as_deref().is_some_and(|v| too_long(v, text)) {
            hold(
                label,
                &slot.take().unwrap_or_default(),
                text,
                "a text field",
            );
        }
    }
    if c.address
        .as_deref()
        .is_some_and(|v| too_long(v, limits.paragraph))
    {
        let v = c.address.take().unwrap_or_default();
        hold("Address", &v, limits.paragraph, "the address");
    }
    // A value no longer than the smaller limit fits either field: the field's type is
    // looked up only for a longer one.
    let shorter = limits.text.min(limits.paragraph);
    let oversize: Vec<_> = c
        .custom_fields
        .iter()
        .filter_map(|(label, v)| {
            let s = v.as_str()?;
            if !too_long(s, shorter) {
                return None;
            }
            let max = match defs.get(label.as_ref()).map(|d| d.field_type) {
                Some(FieldType::Paragraph) => limits.paragraph,
                _ => limits.text,
            };
            too_long(s, max).then(|| (label.clone(), max))
        })
        .collect();
    for (label, max) in oversize {
        if let Some(v) = c.custom_fields.remove(&label) {
            hold(
                &label,
                v.as_str().unwrap_or_default(),
                max,
                "this custom field",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversize_values_are_held_by_their_fields_limit_in_contact_order() {
        use std::sync::Arc;

        use crate::fields::FieldValue;
        use crate::model::Source;

        let defs: BTreeMap<String, CustomFieldDef> =
            [("Bio", FieldType::Paragraph), ("Code", FieldType::Text)]
                .into_iter()
                .map(|(label, field_type)| {
                    let def = CustomFieldDef {
                        label: label.into(),
                        field_type,
                        choices: Vec::new(),
                        date_order: None,
                    };
                    (label.to_string(), def)
                })
                .collect();
        let long = "x".repeat(300);
        // More contacts than one run takes, the long ones spread over the runs.
        let mut contacts: Vec<Contact> = (0..10_000u64)
            .map(|i| {
                let mut c = Contact {
                    sources: vec![Source {
                        file: "Contacts.csv".into(),
                        row: i + 2,
                    }],
                    first_name: Some("Ann".into()),
                    ..Contact::default()
                };
                if i % 1000 == 7 {
                    c.first_name = Some(long.as_str().into());
                    for label in ["Bio", "Code"] {
                        c.custom_fields
                            .insert(Arc::from(label), FieldValue::String(long.clone()));
                    }
                }
                c
            })
            .collect();
        let mut review = Vec::new();
        let header = |file: &str, key: &str| Some(format!("{file}/{key}"));
        enforce_contacts(
            &mut contacts,
            &defs,
            &Limits::default(),
            &header,
            &mut review,
        );
        // Each long contact: its first name and its text field; the paragraph fits.
        let held: Vec<(Option<u64>, Option<&str>)> = review
            .iter()
            .map(|i| (i.row, i.column.as_deref()))
            .collect();
        let expected: Vec<(Option<u64>, Option<&str>)> = (0..10u64)
            .flat_map(|k| {
                let row = Some(k * 1000 + 9);
                [
                    (row, Some("Contacts.csv/first_name")),
                    (row, Some("Contacts.csv/custom:Code")),
                ]
            })
            .collect();
        assert_eq!(held, expected);
        assert!(
            review
                .iter()
                .all(|i| i.value.as_deref() == Some(long.as_str()))
        );
        let c = &contacts[7];
        assert_eq!(c.first_name, None);
        assert!(c.custom_fields.get("Code").is_none());
        assert_eq!(
            c.custom_fields.get("Bio").and_then(FieldValue::as_str),
            Some(long.as_str())
        );
        assert_eq!(contacts[8].first_name.as_deref(), Some("Ann"));
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert!(!too_long(&"é".repeat(255), 255));
        assert!(too_long(&"é".repeat(256), 255));
    }
}
