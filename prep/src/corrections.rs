//! The customer's corrections of their export: a value fixed in place (an invalid email, a
//! bad date, a value outside a dropdown) and an unknown owner assigned to a Freshsales
//! user. They are data, not edits of the files: the page records them, `loader prepare
//! --corrections FILE` reads the same file, the preparation applies them to the parsed
//! cells before anything else looks at them, and the bundle carries them (file, row,
//! column, original value, new value) so the loaded data can be traced to the export.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::PrepError;
use crate::report::neutralise;
use crate::review::{Reason, ReviewItem};
use crate::table::Table;

/// Version of the corrections file format.
pub const CORRECTIONS_FORMAT_VERSION: u32 = 1;

/// Every correction of one export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Corrections {
    /// [`CORRECTIONS_FORMAT_VERSION`].
    pub format_version: u32,
    /// Cells replaced, in the order they were made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cells: Vec<CellFix>,
    /// Owners assigned to a Freshsales user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<OwnerFix>,
    /// Rows left behind by the customer's choice: held whole, not loaded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows_left: Vec<RowLeft>,
}

impl Default for Corrections {
    fn default() -> Self {
        Corrections {
            format_version: CORRECTIONS_FORMAT_VERSION,
            cells: Vec::new(),
            owners: Vec::new(),
            rows_left: Vec::new(),
        }
    }
}

/// A row of the export the customer chose not to migrate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowLeft {
    /// The input file.
    pub file: String,
    /// 1-based record number (the header is row 1).
    pub row: u64,
}

/// One cell of the export, replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellFix {
    /// The input file (as named in the bundle's inputs).
    pub file: String,
    /// 1-based record number (the header is row 1).
    pub row: u64,
    /// The column's header.
    pub column: String,
    /// The value the export has: a correction applies only while the file still says this,
    /// so one made for an older export never changes the wrong value.
    pub original: String,
    /// The value to use instead (empty: leave the cell empty).
    pub value: String,
}

/// An owner value of the export assigned to a Freshsales user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerFix {
    /// The owner as written in the export.
    pub owner: String,
    /// The Freshsales user's email.
    pub email: String,
}

impl Corrections {
    /// Reads a corrections file's JSON.
    pub fn from_json(json: &str) -> Result<Corrections, String> {
        let c: Corrections = serde_json::from_str(json).map_err(|e| e.to_string())?;
        if c.format_version != CORRECTIONS_FORMAT_VERSION {
            return Err(format!(
                "corrections format {} is not supported (expected {CORRECTIONS_FORMAT_VERSION})",
                c.format_version
            ));
        }
        for o in &c.owners {
            if !crate::values::is_valid_email(o.email.trim()) {
                return Err(format!(
                    "owner '{}': '{}' is not an email address",
                    o.owner, o.email
                ));
            }
        }
        Ok(c)
    }

    /// Whether there is nothing to correct.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many corrections there are: cells, owners and rows left behind.
    pub fn len(&self) -> usize {
        self.cells.len() + self.owners.len() + self.rows_left.len()
    }

    /// Adds `other`'s corrections (a later fix of the same cell wins, as [`Self::set_cell`]).
    pub fn add(&mut self, other: Corrections) {
        for c in other.cells {
            self.set_cell(c);
        }
        for o in other.owners {
            self.set_owner(&o.owner, &o.email);
        }
        for r in other.rows_left {
            self.leave_row(&r.file, r.row);
        }
    }

    /// Adds the corrections read from an edited review CSV ([`Self::from_queue_csv`]). A
    /// value that merely repeats the export's original of a cell already fixed is an older
    /// download, not a wish to undo that fix: it is skipped (undo is explicit).
    pub fn add_from_queue(&mut self, found: Corrections) {
        for c in found.cells {
            let stale = self.cells.iter().any(|x| {
                x.file == c.file && x.row == c.row && x.column == c.column && x.original == c.value
            });
            if !stale {
                self.set_cell(c);
            }
        }
    }

    /// Leaves a row behind (once).
    pub fn leave_row(&mut self, file: &str, row: u64) {
        if !self
            .rows_left
            .iter()
            .any(|r| r.file == file && r.row == row)
        {
            self.rows_left.push(RowLeft {
                file: file.to_string(),
                row,
            });
        }
    }

    /// Records a cell's new value; a second fix of the same cell replaces the first (and
    /// keeps the export's original). Setting the original back removes the fix.
    pub fn set_cell(&mut self, fix: CellFix) {
        let same = |c: &CellFix| c.file == fix.file && c.row == fix.row && c.column == fix.column;
        let original = match self.cells.iter().position(same) {
            Some(i) => self.cells.remove(i).original,
            None => fix.original.clone(),
        };
        if fix.value != original {
            self.cells.push(CellFix { original, ..fix });
        }
    }

    /// Assigns `owner` to the user `email` (a blank email removes the assignment).
    pub fn set_owner(&mut self, owner: &str, email: &str) {
        self.owners.retain(|o| o.owner != owner);
        if !email.trim().is_empty() {
            self.owners.push(OwnerFix {
                owner: owner.to_string(),
                email: email.trim().to_string(),
            });
        }
    }

    /// The owner assignments by the owner value, trimmed and lower-cased (how owners are
    /// matched).
    pub fn owner_map(&self) -> BTreeMap<String, String> {
        self.owners
            .iter()
            .map(|o| (o.owner.trim().to_lowercase(), o.email.clone()))
            .collect()
    }

    /// Checks that every cell fix names a file among `files`.
    pub fn check_files(&self, files: &[&str]) -> Result<(), PrepError> {
        let cells = self.cells.iter().map(|c| (&c.file, c.row));
        let rows = self.rows_left.iter().map(|r| (&r.file, r.row));
        match cells
            .chain(rows)
            .find(|(f, _)| !files.contains(&f.as_str()))
        {
            Some((file, row)) => Err(PrepError::Input {
                file: file.clone(),
                message: format!(
                    "the corrections name this file (row {row}), but it is not among the inputs"
                ),
            }),
            None => Ok(()),
        }
    }

    /// Reads a review queue's CSV (as [`crate::report::queue_csv`] writes it) that the
    /// customer edited in a spreadsheet: every cell that differs from what the queue held
    /// becomes a cell fix. `items` are the review items of the preparation the CSV came
    /// from (they hold the original values).
    pub fn from_queue_csv(csv: &str, items: &[ReviewItem]) -> Result<Corrections, String> {
        if csv.contains('\u{fffd}') {
            return Err(
                "this file is not UTF-8 text (an accent shows as �): save it from the \
                        spreadsheet as “CSV UTF-8” and load it again"
                    .into(),
            );
        }
        let csv = csv.strip_prefix('\u{feff}').unwrap_or(csv);
        let mut r = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(csv.as_bytes());
        let headers = r.headers().map_err(|e| e.to_string())?.clone();
        let col = |name: &str| headers.iter().position(|h| h == name);
        let (Some(problem_at), Some(file_at), Some(row_at), Some(column_at), Some(value_at)) = (
            col("Problem"),
            col("File"),
            col("Row"),
            col("Column"),
            col("Value"),
        ) else {
            return Err(
                "not a review queue file: it needs the columns Problem, File, Row, Column and Value"
                    .into(),
            );
        };
        let mut out = Corrections::default();
        for (n, record) in r.records().enumerate() {
            let record = record.map_err(|e| format!("line {}: {e}", n + 2))?;
            let get = |i: usize| unneutralise(record.get(i).unwrap_or(""));
            let (file, column, problem) = (get(file_at), get(column_at), get(problem_at));
            let Ok(row) = get(row_at).parse::<u64>() else {
                continue; // a file-level item: nothing to correct
            };
            // Only the Value column is read back: a spreadsheet reformats other cells on its
            // own (02134 → 2134, dates, long numbers), which must not become corrections.
            let Some(item) = items.iter().find(|i| {
                i.file == file
                    && i.row == Some(row)
                    && i.column.as_deref() == Some(column.as_str())
                    && i.reason.label() == problem
                    && fixable(i)
            }) else {
                continue;
            };
            let (Some(column), Some(original)) = (&item.column, &item.value) else {
                continue;
            };
            let value = get(value_at);
            if value.trim() != original.trim() {
                out.set_cell(CellFix {
                    file: file.clone(),
                    row,
                    column: column.clone(),
                    original: original.clone(),
                    value,
                });
            }
        }
        Ok(out)
    }
}

/// The fixed columns of a review queue CSV; the held row's own columns follow.
pub const QUEUE_COLUMNS: [&str; 8] = [
    "Problem",
    "File",
    "Row",
    "Line",
    "Column",
    "Value",
    "What happened",
    "Held back",
];

/// A cell read back from a spreadsheet: the apostrophe [`neutralise`] added is taken off.
fn unneutralise(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if neutralise(rest) == cell => rest.to_string(),
        _ => cell.to_string(),
    }
}

/// Whether the customer can fix this item by changing its value in place.
pub fn fixable(item: &ReviewItem) -> bool {
    // A value made of several cells (an address and its second line) cannot be put back
    // into one cell.
    item.row.is_some()
        && item.column.is_some()
        && !item.value.as_deref().unwrap_or("").contains('\n')
        && matches!(
            item.reason,
            Reason::InvalidEmail
                | Reason::InvalidValue
                | Reason::MissingDueDate
                | Reason::OrphanNote
                | Reason::OrphanTask
                | Reason::OrphanAppointment
        )
}

/// Whether the item's row can be left behind: a row of data, not a file, a template, an
/// owner or a column (which are decided elsewhere), nor a row already left behind.
pub fn leavable(item: &ReviewItem) -> bool {
    item.row.is_some()
        && !matches!(
            item.reason,
            Reason::LeftBehind
                | Reason::UnknownOwner
                | Reason::AmbiguousDate
                | Reason::TemplateImage
                | Reason::TemplateMergeToken
                | Reason::UnrecognisedFile
        )
}

/// Applies the fixes of `file` to its table. A fix whose row or column the file does not
/// have, or whose original is not what the file holds, is refused by file, row and column.
pub fn apply_cells(file: &str, table: &mut Table, fixes: &[CellFix]) -> Result<(), PrepError> {
    let mine: Vec<&CellFix> = fixes.iter().filter(|f| f.file == file).collect();
    if mine.is_empty() {
        return Ok(());
    }
    let mut changes = Vec::with_capacity(mine.len());
    for fix in mine {
        let refuse = |message: String| PrepError::Input {
            file: file.to_string(),
            message: format!("row {}, column '{}': {message}", fix.row, fix.column),
        };
        let Some(column) = table.column(&fix.column) else {
            return Err(refuse(
                "the corrections name this column, but the file has none".into(),
            ));
        };
        let Some(index) = table.row_index(fix.row) else {
            return Err(refuse(
                "the corrections name this row, but the file has none".into(),
            ));
        };
        let now = table.rows[index].get(column);
        // Review items carry values trimmed, as they were read.
        if now.trim() != fix.original.trim() {
            return Err(refuse(format!(
                "the correction expects '{}' but the file has '{now}': the export changed since \
                 the correction was made; make it again",
                fix.original
            )));
        }
        changes.push((index, column, fix.value.as_str()));
    }
    table
        .replace_cells(&changes)
        .map_err(|row| PrepError::Input {
            file: file.to_string(),
            message: format!("row {row}: with its corrections, the row is larger than 4 GiB"),
        })
}

/// Takes the rows of `file` the customer left behind out of its table (so nothing builds a
/// record from them) and returns them, each as a held review item carrying the whole row.
/// A row the file does not have is refused by file and row.
pub fn take_rows_left(
    file: &str,
    table: &mut Table,
    left: &[RowLeft],
) -> Result<Vec<ReviewItem>, PrepError> {
    let mine: Vec<u64> = left
        .iter()
        .filter(|r| r.file == file)
        .map(|r| r.row)
        .collect();
    let mut out = Vec::new();
    for row in &mine {
        let Some(i) = table.row_index(*row) else {
            return Err(PrepError::Input {
                file: file.to_string(),
                message: format!(
                    "row {row}: the corrections leave this row behind, but the file has none"
                ),
            });
        };
        let r = table.rows.remove(i);
        let record: Vec<(String, String)> = table
            .headers
            .iter()
            .enumerate()
            .map(|(c, h)| (h.clone(), r.get(c).to_string()))
            .collect();
        out.push(
            ReviewItem::new(
                Reason::LeftBehind,
                file,
                "left behind by your choice (a correction)",
            )
            .at_row(&r)
            .hold(record),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table::parse("C.csv", "Email,Name\r\nbad@,Ada\r\nbo@x.com,Bo\r\n", None).unwrap()
    }

    #[test]
    fn a_fix_replaces_the_cell_and_nothing_else() {
        let mut t = table();
        let fix = CellFix {
            file: "C.csv".into(),
            row: 2,
            column: "Email".into(),
            original: "bad@".into(),
            value: "ada@x.com".into(),
        };
        apply_cells("C.csv", &mut t, std::slice::from_ref(&fix)).unwrap();
        assert_eq!(t.rows[0].get(0), "ada@x.com");
        assert_eq!(t.rows[0].get(1), "Ada");
        assert_eq!(t.rows[1].get(0), "bo@x.com");
        assert_eq!(t.rows[0].row, 2);
        // A second application finds the new value, not the original: refused by name.
        let e = apply_cells("C.csv", &mut t, &[fix])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("C.csv: row 2, column 'Email': the correction expects 'bad@'"),
            "{e}"
        );
    }

    #[test]
    fn unknown_rows_and_columns_are_refused() {
        let mut t = table();
        let mut fix = CellFix {
            file: "C.csv".into(),
            row: 9,
            column: "Email".into(),
            original: "x".into(),
            value: "y".into(),
        };
        let e = apply_cells("C.csv", &mut t, std::slice::from_ref(&fix)).unwrap_err();
        assert!(e.to_string().contains("name this row"), "{e}");
        fix.row = 2;
        fix.column = "Fax".into();
        let e = apply_cells("C.csv", &mut t, &[fix]).unwrap_err();
        assert!(e.to_string().contains("name this column"), "{e}");
    }

    #[test]
    fn setting_a_cell_twice_keeps_the_original_and_back_removes_it() {
        let mut c = Corrections::default();
        let fix = |v: &str, original: &str| CellFix {
            file: "C.csv".into(),
            row: 2,
            column: "Email".into(),
            original: original.into(),
            value: v.into(),
        };
        c.set_cell(fix("a@x.com", "bad@"));
        c.set_cell(fix("b@x.com", "a@x.com"));
        assert_eq!(c.cells, vec![fix("b@x.com", "bad@")]);
        c.set_cell(fix("bad@", "b@x.com"));
        assert!(c.is_empty());
        c.set_owner("Jordan", "pat@agency.example");
        c.set_owner("Jordan", "sam@agency.example");
        assert_eq!(c.owner_map()["jordan"], "sam@agency.example");
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(Corrections::from_json(&json).unwrap(), c);
        c.set_owner("Jordan", "not an email");
        let json = serde_json::to_string(&c).unwrap();
        assert!(Corrections::from_json(&json).is_err());
    }

    #[test]
    fn an_edited_queue_csv_becomes_corrections() {
        let item = ReviewItem::new(Reason::InvalidEmail, "C.csv", "malformed")
            .at(2, 2)
            .value("Email", "bad@")
            .hold(vec![
                ("Email".into(), "bad@".into()),
                ("Name".into(), "=Ada".into()),
            ]);
        let items = vec![item];
        let csv = crate::report::queue_csv(&items, Reason::InvalidEmail);
        assert!(csv.starts_with('\u{feff}'), "Excel reads UTF-8 with a BOM");
        assert_eq!(
            Corrections::from_queue_csv(&csv, &items).unwrap(),
            Corrections::default(),
            "an unedited queue corrects nothing (the apostrophe before =Ada included)"
        );
        let edited = csv.replace(",bad@,", ",ada@x.com,");
        let c = Corrections::from_queue_csv(&edited, &items).unwrap();
        assert_eq!(
            c.cells,
            vec![CellFix {
                file: "C.csv".into(),
                row: 2,
                column: "Email".into(),
                original: "bad@".into(),
                value: "ada@x.com".into(),
            }]
        );
        assert!(Corrections::from_queue_csv("a,b\r\n1,2\r\n", &items).is_err());
        // An older download that still says "bad@" does not undo a fix made since.
        let mut mine = Corrections::default();
        mine.set_cell(CellFix {
            file: "C.csv".into(),
            row: 2,
            column: "Email".into(),
            original: "bad@".into(),
            value: "still bad".into(),
        });
        let mut item_now = items[0].clone();
        item_now.value = Some("still bad".into());
        let old_csv = Corrections::from_queue_csv(&csv, &[item_now]).unwrap();
        assert_eq!(
            old_csv.cells.len(),
            1,
            "the CSV differs from the current value"
        );
        let before = mine.clone();
        mine.add_from_queue(old_csv);
        assert_eq!(mine, before);
        // A cell the spreadsheet reformatted in the row's own columns is not a correction.
        let reformatted = csv.replace(",'=Ada", ",Ada Lovelace");
        assert!(reformatted != csv);
        assert!(
            Corrections::from_queue_csv(&reformatted, &items)
                .unwrap()
                .is_empty()
        );
        let ansi = csv.replace("bad@", "bad\u{fffd}");
        assert!(
            Corrections::from_queue_csv(&ansi, &items)
                .unwrap_err()
                .contains("UTF-8")
        );
    }
}
