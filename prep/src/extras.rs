//! Values Freshsales has no standard field for, given custom fields so that none is left
//! behind: phones beyond work and mobile (one text field per label: "Home Phone", "Fax",
//! "Other Phone"), and the AllClients Add Date and Edit Date ("AllClients Created",
//! "AllClients Last Edited", date fields). Runs on the built contacts, so merged rows'
//! phones are placed too.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::fields::{CustomFieldDef, FieldType, FieldValue};
use crate::model::Contact;

/// The custom field of the AllClients Add Date.
pub const CREATED_LABEL: &str = "AllClients Created";
/// The custom field of the AllClients Edit Date.
pub const EDITED_LABEL: &str = "AllClients Last Edited";

/// The custom field for a phone with this label: "Home" → "Home Phone", "Fax" → "Fax",
/// none → "Other Phone".
pub fn phone_field_label(label: Option<&str>) -> String {
    let words: String = label
        .unwrap_or("")
        .split_whitespace()
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f
                    .to_uppercase()
                    .chain(c.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<String>>()
        .join(" ");
    let lower = words.to_lowercase();
    if words.is_empty() {
        "Other Phone".into()
    } else if lower.contains("fax") || lower.contains("phone") {
        words
    } else {
        format!("{words} Phone")
    }
}

/// Moves every contact's other phones into text custom fields (several numbers with one
/// label are joined with `; `) and copies its Add and Edit dates into date custom fields;
/// returns the definitions of the fields used, in a stable order, leaving out labels the
/// mapping already defines (`taken`).
pub fn place(contacts: &mut [Contact], taken: &[CustomFieldDef]) -> Vec<CustomFieldDef> {
    // The labels used, in label order (the order the definitions are listed in).
    let mut labels: BTreeSet<Arc<str>> = BTreeSet::new();
    let mut dates = [false, false];
    // Each label allocated once and shared by every contact that has the field, as the
    // mapped custom fields' labels are (`contacts::build`), and worked out once per phone
    // label as written: an export has a handful ("cell", "Home", none) over every contact.
    let unlabelled: Arc<str> = Arc::from(phone_field_label(None));
    let mut by_phone_label: crate::FastMap<String, Arc<str>> = crate::FastMap::default();
    let mut label_of_phone = |raw: Option<&str>| -> Arc<str> {
        let Some(raw) = raw else {
            return Arc::clone(&unlabelled);
        };
        if let Some(a) = by_phone_label.get(raw) {
            return Arc::clone(a);
        }
        let a: Arc<str> = Arc::from(phone_field_label(Some(raw)));
        by_phone_label.insert(raw.to_string(), Arc::clone(&a));
        a
    };
    let date_labels: [Arc<str>; 2] = [Arc::from(CREATED_LABEL), Arc::from(EDITED_LABEL)];
    for c in contacts.iter_mut() {
        let phones = std::mem::take(&mut c.other_phones);
        // At most one value a phone and one a date.
        c.custom_fields.reserve_exact(phones.len() + 2);
        for p in phones {
            let key = label_of_phone(p.label.as_deref());
            let value = match c.custom_fields.get(&key).and_then(FieldValue::as_str) {
                Some(have) if have.split("; ").any(|n| n == p.number) => continue,
                Some(have) => format!("{have}; {}", p.number),
                None => p.number.into(),
            };
            labels.insert(Arc::clone(&key));
            c.custom_fields.insert(key, FieldValue::String(value));
        }
        for (i, (label, when)) in date_labels
            .iter()
            .zip([&c.created_at, &c.updated_at])
            .enumerate()
        {
            // The date; a time of day has no place in a date field (counted as dropped).
            if let Some(day) = when.as_deref().and_then(|w| w.get(..10)) {
                c.custom_fields
                    .insert(Arc::clone(label), FieldValue::String(day.to_string()));
                dates[i] = true;
            }
        }
        // The room reserved and not taken given back.
        c.custom_fields.fit();
    }
    let mut defs: Vec<CustomFieldDef> = labels
        .into_iter()
        .map(|label| CustomFieldDef {
            label: label.to_string(),
            field_type: FieldType::Text,
            choices: Vec::new(),
            date_order: None,
        })
        .collect();
    for (used, label) in dates.iter().zip([CREATED_LABEL, EDITED_LABEL]) {
        if *used {
            defs.push(CustomFieldDef {
                label: label.into(),
                field_type: FieldType::Date,
                choices: Vec::new(),
                date_order: None,
            });
        }
    }
    defs.retain(|d| !taken.iter().any(|t| t.label == d.label));
    defs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OtherPhone;

    #[test]
    fn phones_get_fields_named_after_their_labels() {
        assert_eq!(phone_field_label(Some("Home")), "Home Phone");
        assert_eq!(phone_field_label(Some("FAX")), "Fax");
        assert_eq!(phone_field_label(Some("home phone")), "Home Phone");
        assert_eq!(phone_field_label(None), "Other Phone");
        let mut c = Contact {
            other_phones: vec![
                OtherPhone {
                    number: "(731) 304-9827".into(),
                    label: Some("Home".into()),
                },
                OtherPhone {
                    number: "555-0100".into(),
                    label: Some("home".into()),
                },
            ],
            created_at: Some("2020-02-06T12:15:32".into()),
            ..Contact::default()
        };
        let defs = place(std::slice::from_mut(&mut c), &[]);
        assert_eq!(
            c.custom_fields.get("Home Phone").and_then(|v| v.as_str()),
            Some("(731) 304-9827; 555-0100")
        );
        assert_eq!(
            c.custom_fields.get(CREATED_LABEL).and_then(|v| v.as_str()),
            Some("2020-02-06")
        );
        assert!(c.other_phones.is_empty());
        let labels: Vec<&str> = defs.iter().map(|d| d.label.as_str()).collect();
        assert_eq!(labels, ["Home Phone", CREATED_LABEL]);
    }
}
