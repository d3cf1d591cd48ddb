//! The review queue: every problem the customer should see, each with its reason and the
//! place in the export it comes from. A held row is carried here whole, so nothing is lost.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::table::Row;

/// Why an item is in the review queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A note that matches no loaded contact (held).
    OrphanNote,
    /// A task that matches no loaded contact (held).
    OrphanTask,
    /// A contact row merged into another with the same email (the row is counted `merged`).
    DuplicateEmail,
    /// A contact row whose email is malformed (held).
    InvalidEmail,
    /// A contact without an email: loaded, but Freshsales cannot dedupe it.
    MissingEmail,
    /// A value that does not fit its field (the value is held, the row is loaded).
    InvalidValue,
    /// An owner not found in the users file.
    UnknownOwner,
    /// A date column whose day/month order is a guess.
    AmbiguousDate,
    /// A row with more or fewer cells than the header.
    RaggedRow,
    /// A template image that will break or cannot be imported (data: URI, AllClients-hosted,
    /// relative).
    TemplateImage,
    /// A template merge token to translate by hand.
    TemplateMergeToken,
    /// A note or task joined to its contact by name only (check it).
    NameJoin,
    /// A mobile number already used by another contact (Freshsales requires it unique):
    /// kept as another phone.
    DuplicateMobile,
    /// An appointment whose contact was not found: loaded without a contact.
    OrphanAppointment,
    /// An input file whose kind was not recognised (not loaded).
    UnrecognisedFile,
    /// A to-do without a due date: Freshsales needs one, so it gets the confirmation date.
    MissingDueDate,
    /// A row the customer chose to leave behind (a correction): held, not loaded.
    LeftBehind,
}

impl Reason {
    /// All reasons, in report order.
    pub const ALL: [Reason; 17] = [
        Reason::OrphanNote,
        Reason::OrphanTask,
        Reason::DuplicateEmail,
        Reason::InvalidEmail,
        Reason::MissingEmail,
        Reason::InvalidValue,
        Reason::UnknownOwner,
        Reason::AmbiguousDate,
        Reason::RaggedRow,
        Reason::TemplateImage,
        Reason::TemplateMergeToken,
        Reason::NameJoin,
        Reason::DuplicateMobile,
        Reason::OrphanAppointment,
        Reason::UnrecognisedFile,
        Reason::MissingDueDate,
        Reason::LeftBehind,
    ];

    /// The snake_case word used in reports and the bundle.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::OrphanNote => "orphan_note",
            Reason::OrphanTask => "orphan_task",
            Reason::DuplicateEmail => "duplicate_email",
            Reason::InvalidEmail => "invalid_email",
            Reason::MissingEmail => "missing_email",
            Reason::InvalidValue => "invalid_value",
            Reason::UnknownOwner => "unknown_owner",
            Reason::AmbiguousDate => "ambiguous_date",
            Reason::RaggedRow => "ragged_row",
            Reason::TemplateImage => "template_image",
            Reason::TemplateMergeToken => "template_merge_token",
            Reason::NameJoin => "name_join",
            Reason::DuplicateMobile => "duplicate_mobile",
            Reason::OrphanAppointment => "orphan_appointment",
            Reason::UnrecognisedFile => "unrecognised_file",
            Reason::MissingDueDate => "missing_due_date",
            Reason::LeftBehind => "left_behind",
        }
    }

    /// A short name in plain words (the review CSV's *Problem* column).
    pub fn label(self) -> &'static str {
        match self {
            Reason::OrphanNote => "Note without a contact",
            Reason::OrphanTask => "To-do without a contact",
            Reason::DuplicateEmail => "Same email as another contact",
            Reason::InvalidEmail => "Email address not valid",
            Reason::MissingEmail => "Contact without an email",
            Reason::InvalidValue => "Value that does not fit its field",
            Reason::UnknownOwner => "Owner not found",
            Reason::AmbiguousDate => "Unclear date order",
            Reason::RaggedRow => "Row with too many or too few cells",
            Reason::TemplateImage => "Template image to re-host",
            Reason::TemplateMergeToken => "Template merge field to translate",
            Reason::NameJoin => "Matched to its contact by name only",
            Reason::DuplicateMobile => "Mobile number shared with another contact",
            Reason::OrphanAppointment => "Appointment without a contact",
            Reason::UnrecognisedFile => "File that is not an AllClients export",
            Reason::MissingDueDate => "To-do without a due date",
            Reason::LeftBehind => "Left behind by your choice",
        }
    }

    /// A heading in plain words for `n` items ("29 notes belong to no contact").
    pub fn title(self, n: u64) -> String {
        let (one, many) = match self {
            Reason::OrphanNote => ("note belongs to no contact", "notes belong to no contact"),
            Reason::OrphanTask => ("to-do belongs to no contact", "to-dos belong to no contact"),
            Reason::DuplicateEmail => (
                "contact row has the same email as another and is merged into it",
                "contact rows have the same email as another and are merged into it",
            ),
            Reason::InvalidEmail => (
                "contact has an email address that is not valid",
                "contacts have an email address that is not valid",
            ),
            Reason::MissingEmail => ("contact has no email", "contacts have no email"),
            Reason::InvalidValue => (
                "value does not fit its Freshsales field",
                "values do not fit their Freshsales field",
            ),
            Reason::UnknownOwner => (
                "owner is not among your team members",
                "owners are not among your team members",
            ),
            Reason::AmbiguousDate => (
                "date column could be day/month or month/day",
                "date columns could be day/month or month/day",
            ),
            Reason::RaggedRow => (
                "row has more or fewer cells than the header",
                "rows have more or fewer cells than the header",
            ),
            Reason::TemplateImage => (
                "template image must be moved before AllClients closes",
                "template images must be moved before AllClients closes",
            ),
            Reason::TemplateMergeToken => (
                "template merge field needs translating by hand",
                "template merge fields need translating by hand",
            ),
            Reason::NameJoin => (
                "note or to-do was matched to its contact by name only",
                "notes or to-dos were matched to their contact by name only",
            ),
            Reason::DuplicateMobile => (
                "mobile number is also on another contact",
                "mobile numbers are also on another contact",
            ),
            Reason::OrphanAppointment => (
                "appointment belongs to no contact",
                "appointments belong to no contact",
            ),
            Reason::UnrecognisedFile => (
                "file is not an AllClients export we know",
                "files are not AllClients exports we know",
            ),
            Reason::MissingDueDate => ("to-do has no due date", "to-dos have no due date"),
            Reason::LeftBehind => (
                "row is left behind by your choice",
                "rows are left behind by your choice",
            ),
        };
        format!("{n} {}", if n == 1 { one } else { many })
    }

    /// What the customer should understand, in one sentence.
    pub fn explain(self) -> &'static str {
        match self {
            Reason::OrphanNote => {
                "Notes that match no contact (email changed since export, or contact beyond a plan cap). Held, not loaded."
            }
            Reason::OrphanTask => "To-dos that match no contact. Held, not loaded.",
            Reason::DuplicateEmail => {
                "Contact rows with the same email, merged into one (most recently edited values kept, tags united)."
            }
            Reason::InvalidEmail => {
                "Contacts whose email is malformed. Held, not loaded: fix the email and prepare again."
            }
            Reason::MissingEmail => {
                "Contacts without an email: loaded, but they cannot be matched on a later re-run."
            }
            Reason::InvalidValue => {
                "Values that do not fit their field. The row is loaded without the value."
            }
            Reason::UnknownOwner => {
                "Owners not found in the users file: map each to a Freshsales user by email."
            }
            Reason::AmbiguousDate => {
                "Date columns that read both as month/day and day/month: choose the order here."
            }
            Reason::RaggedRow => {
                "Rows with more or fewer cells than the header (rows with extra non-empty cells are held)."
            }
            Reason::TemplateImage => {
                "Template images that will break when AllClients closes or cannot be imported: re-host them."
            }
            Reason::TemplateMergeToken => {
                "Template merge fields to translate to Freshsales placeholders by hand."
            }
            Reason::NameJoin => "Notes or to-dos joined to their contact by name only: check them.",
            Reason::DuplicateMobile => {
                "Mobile numbers already on another contact (Freshsales needs them unique): kept as another phone."
            }
            Reason::OrphanAppointment => {
                "Appointments whose contact was not found: loaded without a contact."
            }
            Reason::UnrecognisedFile => {
                "Files whose kind was not recognised: not loaded (set their kind in the mapping)."
            }
            Reason::MissingDueDate => {
                "To-dos without a due date: Freshsales needs one, so they will be due on the day the mapping is confirmed."
            }
            Reason::LeftBehind => {
                "Rows you chose to leave behind: not loaded, kept here whole. Undo the correction to load them after all."
            }
        }
    }
}

/// One item of the review queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewItem {
    /// Why it is here.
    pub reason: Reason,
    /// The input file.
    pub file: String,
    /// 1-based record number (header = row 1), when the item is about a row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
    /// 1-based physical line where that row starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The column (header text), when the item is about a value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The offending value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// What happened, in plain words.
    pub message: String,
    /// True when the whole row was held back (not loaded).
    pub held: bool,
    /// The raw row as `[header, cell]` pairs, for held and merged rows.
    #[serde(default, skip_serializing_if = "Record::is_empty")]
    pub record: Record,
}

impl ReviewItem {
    /// A new item about a file (no row).
    pub fn new(reason: Reason, file: &str, message: impl Into<String>) -> ReviewItem {
        ReviewItem {
            reason,
            file: file.to_string(),
            row: None,
            line: None,
            column: None,
            value: None,
            message: message.into(),
            held: false,
            record: Record::default(),
        }
    }

    /// Sets the row and line of a table's row.
    pub fn at_row(self, row: &Row) -> Self {
        self.at(row.row.into(), row.line.into())
    }

    /// Sets the row and line.
    pub fn at(mut self, row: u64, line: u64) -> Self {
        self.row = Some(row);
        self.line = Some(line);
        self
    }

    /// Sets the column and value.
    pub fn value(mut self, column: &str, value: &str) -> Self {
        self.column = Some(column.to_string());
        self.value = Some(value.to_string());
        self
    }

    /// Marks the row held and carries it.
    pub fn hold(mut self, record: impl Into<Record>) -> Self {
        self.held = true;
        self.record = record.into();
        self
    }

    /// Carries the raw row without holding it (merged duplicates).
    pub fn with_record(mut self, record: impl Into<Record>) -> Self {
        self.record = record.into();
        self
    }

    /// `file row N, column 'X'`: where to look.
    pub fn location(&self) -> String {
        let mut s = self.file.clone();
        if let Some(r) = self.row {
            s.push_str(&format!(" row {r}"));
        }
        if let Some(c) = &self.column {
            s.push_str(&format!(", column '{c}'"));
        }
        s
    }
}

/// A row as `[header, cell]` pairs (cells past the header named `column N`), written as a
/// list of two-string lists. Taken from a table, it is the row itself, a view into the
/// table's text, and its pairs are only made as they are read: an export can hold hundreds
/// of thousands of rows back (notes whose contact is gone), and a copy of every cell and its
/// header took several hundred bytes a row. Read back (from a bundle, in the page), it is
/// the pairs.
#[derive(Clone, Default)]
pub struct Record(Repr);

#[derive(Clone, Default)]
enum Repr {
    #[default]
    Empty,
    Pairs(Vec<(String, String)>),
    Row(Box<(Arc<[String]>, Row)>),
}

impl Record {
    /// `row` of a table whose headers are `headers`.
    pub fn of_row(headers: &Arc<[String]>, row: &Row) -> Record {
        Record(Repr::Row(Box::new((Arc::clone(headers), row.clone()))))
    }

    /// How many pairs.
    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Empty => 0,
            Repr::Pairs(p) => p.len(),
            Repr::Row(r) => r.1.cells.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pair `i`: the header (or `column N`) and the cell.
    pub fn get(&self, i: usize) -> Option<(Cow<'_, str>, &str)> {
        match &self.0 {
            Repr::Empty => None,
            Repr::Pairs(p) => p
                .get(i)
                .map(|(h, c)| (Cow::Borrowed(h.as_str()), c.as_str())),
            Repr::Row(r) => {
                let (headers, row) = &**r;
                if i >= row.cells.len() {
                    return None;
                }
                // As `Cells::iter` reads a cell.
                let cell = row.cells.get(i).unwrap_or("");
                let header = match headers.get(i) {
                    Some(h) => Cow::Borrowed(h.as_str()),
                    None => Cow::Owned(format!("column {}", i + 1)),
                };
                Some((header, cell))
            }
        }
    }

    /// The pairs in order.
    pub fn pairs(&self) -> impl Iterator<Item = (Cow<'_, str>, &str)> {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

impl From<Vec<(String, String)>> for Record {
    fn from(pairs: Vec<(String, String)>) -> Record {
        Record(if pairs.is_empty() {
            Repr::Empty
        } else {
            Repr::Pairs(pairs)
        })
    }
}

impl PartialEq for Record {
    fn eq(&self, other: &Record) -> bool {
        self.len() == other.len() && self.pairs().eq(other.pairs())
    }
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.pairs()).finish()
    }
}

impl Serialize for Record {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.pairs())
    }
}

impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Record, D::Error> {
        Vec::<(String, String)>::deserialize(deserializer).map(Record::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Table;

    /// A record kept as its row reads, writes and compares as the pairs it stands for: the
    /// header of each cell, `column N` past the header, quotes undone; and written, it
    /// reads back as those pairs.
    #[test]
    fn a_record_kept_as_its_row_is_its_pairs() {
        let t = Table::parse(
            "Notes.csv",
            "Email,Note\n a@b.c ,\"say \"\"hi\"\"\",extra\n",
            Some(b','),
        )
        .unwrap();
        let headers: Arc<[String]> = Arc::from(t.headers.as_slice());
        let kept = Record::of_row(&headers, &t.rows[0]);
        let pairs: Vec<(String, String)> = [
            ("Email", " a@b.c "),
            ("Note", "say \"hi\""),
            ("column 3", "extra"),
        ]
        .iter()
        .map(|(h, c)| (h.to_string(), c.to_string()))
        .collect();
        let owned = Record::from(pairs.clone());
        assert_eq!(kept, owned);
        assert_eq!(kept.len(), 3);
        let json = serde_json::to_string(&kept).unwrap();
        assert_eq!(json, serde_json::to_string(&pairs).unwrap());
        let back: Record = serde_json::from_str(&json).unwrap();
        assert_eq!(back, kept);
        assert_ne!(Record::from(pairs[..2].to_vec()), kept);
        assert!(Record::from(Vec::new()).is_empty());
        assert_eq!(format!("{kept:?}"), format!("{:?}", owned));
    }
}
