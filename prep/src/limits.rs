//! What Freshsales accepts in one value, so that a value it would refuse (or a request too
//! large for it) is held in the review queue with its reason at preparation time instead of
//! stopping the load. Freshworks documents text fields at 256 characters and text areas at
//! 10,000 ("What are custom field limits?"); the note limit is not documented, so its
//! default is a conservative guess. All are settings the customer or engineer can change.

use std::collections::BTreeMap;

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
    header: &dyn Fn(&str, &str) -> Option<String>,
    review: &mut Vec<ReviewItem>,
) {
    for c in contacts {
        let (file, row) = c
            .sources
            .first()
            .map(|s| (s.file.clone(), s.row))
            .unwrap_or_default();
        let mut hold = |column: &str, value: String, max: usize, what: &str| {
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
            let column = header(&file, &key).unwrap_or_else(|| column.to_string());
            let mut item = ReviewItem::new(Reason::InvalidValue, &file, message(&value, max, what))
                .value(&column, &value);
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
                hold(label, slot.take().unwrap_or_default(), text, "a text field");
            }
        }
        if c.address
            .as_deref()
            .is_some_and(|v| too_long(v, limits.paragraph))
        {
            let v = c.address.take().unwrap_or_default();
            hold("Address", v, limits.paragraph, "the address");
        }
        let oversize: Vec<_> = c
            .custom_fields
            .iter()
            .filter_map(|(label, v)| {
                let s = v.as_str()?;
                let max = match defs.get(label.as_ref()).map(|d| d.field_type) {
                    Some(FieldType::Paragraph) => limits.paragraph,
                    _ => limits.text,
                };
                too_long(s, max).then(|| (label.clone(), max))
            })
            .collect();
        for (label, max) in oversize {
            if let Some(v) = c.custom_fields.remove(&label) {
                let s = v.as_str().unwrap_or_default().to_string();
                hold(&label, s, max, "this custom field");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_characters_not_bytes() {
        assert!(!too_long(&"é".repeat(255), 255));
        assert!(too_long(&"é".repeat(256), 255));
    }
}
