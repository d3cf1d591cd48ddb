//! The column ledger: for every column of every input file, where its values go in
//! Freshsales and what became of each non-empty value — loaded (exactly, or transformed in
//! a counted way), held (by reason, in the review queue), merged into another row (said so
//! there), or left behind by an explicit choice. Computed from the mapping, the tables and
//! the review queue, so it agrees with what the bundle holds.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::FastMap;

use serde::{Deserialize, Serialize};

use crate::fields::StdField as F;
use crate::kind::FileKind;
use crate::mapping::{ColumnMapping, Target};
use crate::review::{Reason, ReviewItem};
use crate::table::{Row, Table};
use crate::values::bump;

/// One input column's account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ColumnLedger {
    /// Input file.
    pub file: String,
    /// The column's header.
    pub column: String,
    /// Where its values go, in plain words.
    pub destination: String,
    /// Non-empty values.
    pub values: u64,
    /// Values that reach Freshsales (transformed ones included).
    pub loaded: u64,
    /// Values held in the review queue, by reason (their row, or the value alone).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub held: BTreeMap<String, u64>,
    /// Values of rows merged into another row with the same email.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub merged: u64,
    /// Values left behind by the mapping's explicit choice (`ignore`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub left_behind: u64,
    /// Loaded values changed on the way, by kind (`trimmed`, `date normalised`,
    /// `time of day dropped`, `split into tags`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub transformed: BTreeMap<String, u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ColumnLedger {
    /// Whether every value is accounted for: loaded + held + merged + left behind.
    pub fn balanced(&self) -> bool {
        self.values
            == self.loaded + self.held.values().sum::<u64>() + self.merged + self.left_behind
    }
}

/// Totals over a ledger.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Non-empty source values.
    pub values: u64,
    /// Loaded.
    pub loaded: u64,
    /// Held in the review queue.
    pub held: u64,
    /// Merged into another row.
    pub merged: u64,
    /// Left behind by choice.
    pub left_behind: u64,
}

/// Totals of `ledger`.
pub fn totals(ledger: &[ColumnLedger]) -> Totals {
    let mut t = Totals::default();
    for c in ledger {
        t.values += c.values;
        t.loaded += c.loaded;
        t.held += c.held.values().sum::<u64>();
        t.merged += c.merged;
        t.left_behind += c.left_behind;
    }
    t
}

/// Where a column's values go, in plain words.
fn destination(kind: FileKind, target: &Target) -> String {
    let field = |f: F| match (kind, f) {
        (FileKind::Contacts, F::ContactId) => "External ID (allclients:<Contact ID>)".into(),
        (FileKind::Contacts, F::Company) => "Sales account (by name)".into(),
        (FileKind::Contacts, F::Owner) => "Owner (a Freshsales user)".into(),
        (FileKind::Contacts, F::Phone | F::PhoneLabel) => {
            "Work or mobile number by its label, else a phone field named after it".into()
        }
        (FileKind::Contacts, F::CreatedAt) => "Custom field AllClients Created".into(),
        (FileKind::Contacts, F::UpdatedAt) => "Custom field AllClients Last Edited".into(),
        (
            FileKind::Notes | FileKind::Tasks | FileKind::Appointments,
            F::ContactId | F::Email | F::FirstName | F::LastName | F::ContactName,
        ) => "Links the record to its contact".into(),
        (FileKind::Notes, F::NoteText) => "Note text".into(),
        (FileKind::Notes, _) => "Note's import line".into(),
        (FileKind::Tasks, F::Title) => "Task title".into(),
        (FileKind::Tasks, F::DueDate) => "Task due date".into(),
        (FileKind::Tasks, F::Status) => "Task status".into(),
        (FileKind::Tasks, F::Owner) => "Task owner".into(),
        (FileKind::Tasks, _) => "Task description".into(),
        (FileKind::Appointments, F::Title) => "Appointment title".into(),
        (FileKind::Appointments, F::Date | F::Start | F::End | F::AllDay) => {
            "Appointment start and end".into()
        }
        (FileKind::Appointments, F::Owner) => "Appointment attendee (owner)".into(),
        (FileKind::Appointments, _) => "Appointment description".into(),
        (FileKind::Users, _) => "Freshsales users (owners are matched to them)".into(),
        (FileKind::Lists, _) => "Choices of the matching field, and tags".into(),
        (FileKind::Templates, _) => "Manual-step pack (email templates)".into(),
        _ => {
            let name = f.as_str().replace('_', " ");
            let mut c = name.chars();
            c.next()
                .map(|first| first.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        }
    };
    match target {
        Target::Field(f) => field(*f),
        Target::Tags => "Tags".into(),
        Target::TagIfTrue(t) => format!("Tag {t} (when yes)"),
        Target::Custom(l) => format!("Custom field {l}"),
        Target::Append => "Appended to the text as Header: value".into(),
        Target::Ignore => "Left behind (the mapping's choice)".into(),
    }
}

/// Columns of reference files that no Freshsales record keeps: a user's level or id, a
/// list's type, id and count, and the lists' names themselves (tags live only on the
/// contacts that carry them, which their own column accounts for).
fn reference_only(kind: FileKind, target: &Target) -> bool {
    match (kind, target) {
        (FileKind::Users, Target::Field(f)) => !matches!(f, F::Name | F::Email),
        (FileKind::Lists, _) => true,
        _ => false,
    }
}

/// What happened to one row, from the review queue.
#[derive(Clone, Copy, PartialEq)]
enum RowFate {
    Loaded,
    Held(Reason),
    Merged,
}

/// What happened to the rows and values of one file, from the review queue: indexed by row
/// number rather than hashed per cell, since the ledger asks once for every cell.
struct Fates<'a> {
    /// By row number: held (the first reason), merged, or loaded.
    rows: Vec<RowFate>,
    /// Column → row → the reason one value was held (by column first: most columns have
    /// none, and their values then need no lookup at all).
    held_values: FastMap<&'a str, FastMap<u64, Reason>>,
}

impl Fates<'_> {
    fn row(&self, row: u64) -> RowFate {
        self.rows
            .get(row as usize)
            .copied()
            .unwrap_or(RowFate::Loaded)
    }
}

fn fates<'a>(review: &'a [ReviewItem], file: &str, last_row: u64) -> Fates<'a> {
    let mut f = Fates {
        rows: vec![RowFate::Loaded; last_row as usize + 1],
        held_values: FastMap::default(),
    };
    for i in review.iter().filter(|i| i.file == file) {
        let Some(row) = i.row else { continue };
        let Some(slot) = f.rows.get_mut(row as usize) else {
            continue;
        };
        if i.held {
            if !matches!(slot, RowFate::Held(_)) {
                *slot = RowFate::Held(i.reason);
            }
        } else if i.reason == Reason::DuplicateEmail {
            if *slot == RowFate::Loaded {
                *slot = RowFate::Merged;
            }
        } else if i.reason == Reason::InvalidValue
            && let Some(col) = &i.column
        {
            f.held_values
                .entry(col.as_str())
                .or_default()
                .entry(row)
                .or_insert(i.reason);
        }
    }
    f
}

/// One input file as the ledger sees it: its kind, table and effective columns (`None` for
/// a file of unknown kind, none of whose values are read).
pub struct Input<'a> {
    /// File name.
    pub file: &'a str,
    /// Kind.
    pub kind: FileKind,
    /// The parsed table.
    pub table: &'a Table,
    /// Its columns' mapping (for the kind), when known.
    pub columns: Option<&'a [ColumnMapping]>,
}

/// The ledger of `inputs`, given the review queue of the preparation.
pub fn build(inputs: &[Input], review: &[ReviewItem]) -> Vec<ColumnLedger> {
    let mut out = Vec::new();
    for input in inputs {
        let last_row = input
            .table
            .rows
            .iter()
            .map(|r| u64::from(r.row))
            .max()
            .unwrap_or(0);
        let fates = fates(review, input.file, last_row);
        let plans: Vec<ColumnPlan> = input
            .table
            .headers
            .iter()
            .map(|header| ColumnPlan::new(input, &fates, header))
            .collect();
        // Counted a row at a time, each row's cells together (column by column, every
        // column's pass went through the whole text again), runs of rows side by side
        // where there are threads; the counts are sums, so the runs add up in any order.
        let parts: Vec<Vec<ColumnLedger>> = input
            .table
            .rows
            .par_chunks(LEDGER_ROWS)
            .map(|rows| {
                let mut counts = vec![ColumnLedger::default(); plans.len()];
                for row in rows {
                    let fate = fates.row(row.row.into());
                    for (i, (plan, l)) in plans.iter().zip(&mut counts).enumerate() {
                        plan.count(l, row, row.get(i), fate);
                    }
                }
                counts
            })
            .collect();
        let mut columns: Vec<ColumnLedger> = plans.iter().map(|p| p.ledger(input)).collect();
        for part in parts {
            for (l, counted) in columns.iter_mut().zip(part) {
                l.add(counted);
            }
        }
        out.extend(columns);
    }
    out
}

/// Rows counted together before their counts are added up.
const LEDGER_ROWS: usize = 16 * 1024;

/// What counting a column's values needs to know of it, worked out once.
struct ColumnPlan<'a> {
    header: &'a str,
    target: Option<Target>,
    is_date: bool,
    reference: bool,
    /// Its values held on their own (an invalid value), by row.
    held_here: Option<&'a FastMap<u64, Reason>>,
}

impl<'a> ColumnPlan<'a> {
    fn new(input: &Input, fates: &'a Fates, header: &'a str) -> ColumnPlan<'a> {
        let target = input
            .columns
            .and_then(|cols| cols.iter().find(|c| c.source == header))
            .map(|c| c.target.clone());
        ColumnPlan {
            header,
            is_date: matches!(target, Some(Target::Field(f)) if f.is_date()),
            reference: target
                .as_ref()
                .is_some_and(|t| reference_only(input.kind, t)),
            held_here: fates.held_values.get(header),
            target,
        }
    }

    /// The column's ledger without its counts: where its values go.
    fn ledger(&self, input: &Input) -> ColumnLedger {
        let destination = if self.reference {
            "Left behind: reference data Freshsales keeps no record of".into()
        } else {
            match &self.target {
                Some(t) => destination(input.kind, t),
                None => "Not read: the file's kind is not known (set it in the mapping)".into(),
            }
        };
        ColumnLedger {
            file: input.file.to_string(),
            column: self.header.to_string(),
            destination,
            ..ColumnLedger::default()
        }
    }

    /// Counts the column's `cell` of `row`, whose fate is `fate`, into `l`.
    fn count(&self, l: &mut ColumnLedger, row: &Row, cell: &str, fate: RowFate) {
        if crate::values::trim(cell).is_empty() {
            return;
        }
        l.values += 1;
        let target = &self.target;
        if target.is_none() {
            bump(&mut l.held, Reason::UnrecognisedFile.as_str());
        } else if *target == Some(Target::Ignore)
            || self.reference
            || fate == RowFate::Held(Reason::LeftBehind)
        {
            l.left_behind += 1;
        } else if let RowFate::Held(r) = fate {
            bump(&mut l.held, r.as_str());
        } else if fate == RowFate::Merged {
            l.merged += 1;
        } else if let Some(r) = self.held_here.and_then(|h| h.get(&u64::from(row.row))) {
            bump(&mut l.held, r.as_str());
        } else {
            l.loaded += 1;
            let mut t = |k: &str| bump(&mut l.transformed, k);
            if cell != crate::values::trim(cell) {
                t("trimmed");
            }
            if self.is_date {
                t("date normalised");
            }
            if matches!(target, Some(Target::Field(F::CreatedAt | F::UpdatedAt)))
                && cell.contains(':')
            {
                t("time of day dropped");
            }
            if *target == Some(Target::Tags) {
                t("split into tags");
            }
        }
    }
}

impl ColumnLedger {
    /// Adds the counts of `other` (of the same column) to these.
    fn add(&mut self, other: ColumnLedger) {
        self.values += other.values;
        self.loaded += other.loaded;
        self.merged += other.merged;
        self.left_behind += other.left_behind;
        for (into, from) in [
            (&mut self.held, other.held),
            (&mut self.transformed, other.transformed),
        ] {
            for (k, n) in from {
                *into.entry(k).or_default() += n;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contacts_ledger(
        t: &Table,
        cols: &[ColumnMapping],
        review: &[ReviewItem],
    ) -> Vec<ColumnLedger> {
        let input = Input {
            file: "Contacts.csv",
            kind: FileKind::Contacts,
            table: t,
            columns: Some(cols),
        };
        build(&[input], review)
    }

    #[test]
    fn every_value_is_loaded_held_merged_or_left_behind() {
        let t = Table::parse(
            "Contacts.csv",
            "Email,Nickname,Unused\n a@x.com,Al,1\nbad,Bo,2\na@x.com,,3\n",
            None,
        )
        .unwrap();
        let cols = vec![
            ColumnMapping {
                source: "Email".into(),
                target: Target::Field(F::Email),
                confidence: 1.0,
                reason: String::new(),
                date_order: None,
            },
            ColumnMapping {
                source: "Nickname".into(),
                target: Target::Custom("Nickname".into()),
                confidence: 1.0,
                reason: String::new(),
                date_order: None,
            },
            ColumnMapping {
                source: "Unused".into(),
                target: Target::Ignore,
                confidence: 1.0,
                reason: String::new(),
                date_order: None,
            },
        ];
        let review = vec![
            ReviewItem::new(Reason::InvalidEmail, "Contacts.csv", "held")
                .at(3, 3)
                .hold(vec![]),
            ReviewItem::new(Reason::DuplicateEmail, "Contacts.csv", "merged").at(4, 4),
        ];
        let l = contacts_ledger(&t, &cols, &review);
        assert!(l.iter().all(ColumnLedger::balanced));
        assert_eq!((l[0].values, l[0].loaded, l[0].merged), (3, 1, 1));
        assert_eq!(l[0].held.get("invalid_email"), Some(&1));
        assert_eq!(l[0].transformed.get("trimmed"), Some(&1));
        assert_eq!(l[2].left_behind, 3);
        assert_eq!(totals(&l).values, 3 + 2 + 3);
    }

    #[test]
    fn runs_of_rows_add_up_to_the_whole() {
        // More rows than one run counts, so the runs' counts are added up.
        let n = 2 * LEDGER_ROWS + 123;
        let mut csv = String::from("Email,Nickname\n");
        for r in 0..n {
            let nick = if r % 3 == 0 { "" } else { " Al" };
            csv.push_str(&format!("a{r}@x.com,{nick}\n"));
        }
        let t = Table::parse("Contacts.csv", &csv, None).unwrap();
        let cols: Vec<ColumnMapping> = [Target::Field(F::Email), Target::Custom("Nick".into())]
            .into_iter()
            .zip(["Email", "Nickname"])
            .map(|(target, source)| ColumnMapping {
                source: source.into(),
                target,
                confidence: 1.0,
                reason: String::new(),
                date_order: None,
            })
            .collect();
        // Every 7th row (header = row 1, so data row r is row r + 2) held, every 11th merged.
        let review: Vec<ReviewItem> = (0..n)
            .filter_map(|r| {
                let row = r as u64 + 2;
                if r % 7 == 0 {
                    Some(
                        ReviewItem::new(Reason::InvalidEmail, "Contacts.csv", "held")
                            .at(row, row)
                            .hold(vec![]),
                    )
                } else if r % 11 == 0 {
                    Some(
                        ReviewItem::new(Reason::DuplicateEmail, "Contacts.csv", "merged")
                            .at(row, row),
                    )
                } else {
                    None
                }
            })
            .collect();
        let l = contacts_ledger(&t, &cols, &review);
        let held = (0..n).filter(|r| r % 7 == 0).count() as u64;
        let merged = (0..n).filter(|r| r % 7 != 0 && r % 11 == 0).count() as u64;
        assert_eq!(
            (
                l[0].values,
                l[0].loaded,
                l[0].merged,
                l[0].held.get("invalid_email")
            ),
            (n as u64, n as u64 - held - merged, merged, Some(&held))
        );
        let nicks =
            |keep: &dyn Fn(usize) -> bool| (0..n).filter(|&r| r % 3 != 0 && keep(r)).count() as u64;
        let loaded_nicks = nicks(&|r| r % 7 != 0 && r % 11 != 0);
        assert_eq!(l[1].values, nicks(&|_| true));
        assert_eq!(l[1].loaded, loaded_nicks);
        assert_eq!(l[1].transformed.get("trimmed"), Some(&loaded_nicks));
        assert!(l.iter().all(ColumnLedger::balanced));
    }
}
