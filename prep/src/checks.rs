//! Checks of the mapping against the export's values, so a customer cannot confirm a
//! mapping that would load nonsense: two columns into one single-valued field, a column
//! whose values are not of its field's kind ("Company → Email: 0 of 400 values are email
//! addresses"), nothing to load at all. A *blocking* problem stops the confirmation (in the
//! page and in `loader prepare --confirmed-by`); the others are shown to the customer.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dates::parse_raw;
use crate::fields::{CustomFieldDef, FieldType, StdField};
use crate::kind::FileKind;
use crate::labels;
use crate::mapping::{ColumnMapping, Target, column_cells};
use crate::table::Table;
use crate::values::is_valid_email;

/// One problem of the mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The file kind whose mapping has it.
    pub kind: FileKind,
    /// The column, when it is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// In plain words, with what to do.
    pub message: String,
    /// Whether it stops the confirmation.
    pub blocking: bool,
}

/// Whether several columns may feed `target` (their values are added up, not overwritten).
fn multi_valued(target: &Target, defs: &BTreeMap<String, CustomFieldDef>) -> bool {
    match target {
        Target::Field(f) => matches!(
            f,
            StdField::Phone | StdField::PhoneLabel | StdField::OtherEmail | StdField::Address2
        ),
        Target::Custom(label) => defs
            .get(label)
            .is_some_and(|d| d.field_type == FieldType::MultiSelect),
        Target::Tags | Target::TagIfTrue(_) | Target::Append | Target::Ignore => true,
    }
}

/// A test of one value, and what the values should be in words.
type ValueTest = (fn(&str) -> bool, &'static str);

/// What a column's values must look like for its field.
fn value_test(target: &Target) -> Option<ValueTest> {
    let Target::Field(f) = target else {
        return None;
    };
    Some(match f {
        StdField::Email | StdField::OtherEmail => (
            |v| is_valid_email(crate::values::trim(v)),
            "email addresses",
        ),
        StdField::WorkNumber | StdField::MobileNumber | StdField::Phone => (
            |v| v.chars().filter(char::is_ascii_digit).count() >= 5,
            "phone numbers",
        ),
        // Start and End are often times of day alone ("2:30 PM"), read with the Date column.
        f if f.is_date() && !matches!(f, StdField::Start | StdField::End) => {
            (|v| parse_raw(v).is_some(), "dates")
        }
        _ => return None,
    })
}

/// The problems of one file kind's columns.
pub fn columns(
    kind: FileKind,
    columns: &[ColumnMapping],
    tables: &[&Table],
    defs: &BTreeMap<String, CustomFieldDef>,
) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut by_target: BTreeMap<&Target, Vec<&str>> = BTreeMap::new();
    for c in columns {
        by_target.entry(&c.target).or_default().push(&c.source);
    }
    for (target, sources) in &by_target {
        if sources.len() < 2 || multi_valued(target, defs) {
            continue;
        }
        let names = sources
            .iter()
            .map(|s| format!("“{s}”"))
            .collect::<Vec<_>>()
            .join(" and ");
        for s in sources {
            out.push(Problem {
                kind,
                column: Some(s.to_string()),
                message: format!(
                    "{names} {} go to {}, which holds one value: choose another field for {}",
                    if sources.len() == 2 { "both" } else { "all" },
                    labels::target(target),
                    if sources.len() == 2 {
                        "one of them"
                    } else {
                        "all but one of them"
                    }
                ),
                blocking: true,
            });
        }
    }
    // Each column's values are checked on their own, side by side where there are threads.
    let misfits: Vec<Problem> = columns
        .par_iter()
        .filter_map(|c| {
            let (test, what) = value_test(&c.target)?;
            let values =
                || column_cells(tables, &c.source).filter(|v| !crate::values::trim(v).is_empty());
            let n = values().count();
            // A column passes once half its values fit (most do, and tests are not cheap:
            // dates are parsed); only a failing one needs its exact count, for the message.
            let half = n.div_ceil(2);
            if n == 0 || values().filter(|v| test(v)).take(half).count() == half {
                return None;
            }
            let fit = values().filter(|v| test(v)).count();
            Some(Problem {
                kind,
                column: Some(c.source.clone()),
                message: format!(
                    "“{}” → {}: {fit} of {n} values are {what}. Choose the right field for this column",
                    c.source,
                    labels::target(&c.target),
                ),
                blocking: true,
            })
        })
        .collect();
    out.extend(misfits);
    out
}

/// Problems of the whole preparation: files with no rows, and no contact to load.
pub fn overall(inputs: &[crate::prepare::InputSummary], contacts_loaded: u64) -> Vec<Problem> {
    let mut out: Vec<Problem> = inputs
        .iter()
        .filter(|i| i.rows == 0 && i.kind != FileKind::Templates)
        .map(|i| Problem {
            kind: i.kind,
            column: None,
            message: if i.headers.iter().all(String::is_empty) {
                format!("{} is empty", i.file)
            } else {
                format!("{} has column headers but no rows", i.file)
            },
            blocking: false,
        })
        .collect();
    if contacts_loaded == 0 {
        out.push(Problem {
            kind: FileKind::Contacts,
            column: None,
            message: "No contact would be loaded: add the contacts export, or fix the problems that hold its rows back".into(),
            blocking: true,
        });
    }
    out
}

/// Refuses a confirmation while a blocking problem remains. The page and `loader prepare
/// --confirmed-by` both call it before writing a confirmed bundle (the core itself still
/// writes one, e.g. for tests of arbitrary data).
pub fn refuse_blocking(problems: &[Problem]) -> Result<(), crate::PrepError> {
    match problems.iter().find(|p| p.blocking) {
        Some(p) => Err(crate::PrepError::Mapping(format!(
            "cannot confirm while the mapping has a blocking problem: {}",
            p.message
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(source: &str, target: &str) -> ColumnMapping {
        ColumnMapping {
            source: source.into(),
            target: target.parse().unwrap(),
            confidence: 1.0,
            reason: String::new(),
            date_order: None,
        }
    }

    #[test]
    fn a_company_column_sent_to_email_is_blocking() {
        let t = Table::parse(
            "C.csv",
            "Email,Company\r\na@x.com,Acme\r\nb@x.com,Globex\r\n",
            None,
        )
        .unwrap();
        let cols = [col("Email", "other_email"), col("Company", "email")];
        let p = columns(FileKind::Contacts, &cols, &[&t], &BTreeMap::new());
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].blocking);
        assert_eq!(p[0].column.as_deref(), Some("Company"));
        assert!(
            p[0].message.contains("0 of 2 values are email addresses"),
            "{}",
            p[0].message
        );
    }

    #[test]
    fn two_columns_into_one_single_field_are_blocking_but_phones_add_up() {
        let t = Table::parse(
            "C.csv",
            "Phone 1,Phone 2,Work,Cell\r\n555-1234,555-9876,555-1111,555-2222\r\n",
            None,
        )
        .unwrap();
        let cols = [
            col("Phone 1", "phone"),
            col("Phone 2", "phone"),
            col("Work", "work_number"),
            col("Cell", "work_number"),
        ];
        let p = columns(FileKind::Contacts, &cols, &[&t], &BTreeMap::new());
        let named: Vec<&str> = p.iter().filter_map(|p| p.column.as_deref()).collect();
        assert_eq!(named, ["Work", "Cell"]);
        assert!(
            p.iter()
                .all(|p| p.blocking && p.message.contains("“Work” and “Cell”"))
        );
    }

    #[test]
    fn nothing_to_load_and_empty_files_are_said() {
        let input = crate::prepare::InputSummary {
            file: "Contacts.csv".into(),
            kind: FileKind::Contacts,
            sha256: String::new(),
            bytes: 10,
            encoding: "UTF-8".into(),
            bom: false,
            delimiter: ",".into(),
            rows: 0,
            headers: vec!["Email".into()],
        };
        let p = overall(&[input], 0);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].message, "Contacts.csv has column headers but no rows");
        assert!(!p[0].blocking && p[1].blocking);
    }
}
