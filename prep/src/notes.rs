//! Notes, the bulk of an export, planned once and built on demand. Planning reads every
//! notes row, checks it, joins it to its contact and keeps a few bytes per note (where it
//! is, which contact, its key's fingerprint); a [`NoteSource`] then builds the `Note`
//! records one at a time, as often as asked, from the notes tables. So writing a bundle
//! never holds all notes at once, which is what lets a browser tab prepare a large export.

use crate::activities::{
    Fingerprint, FingerprintRepeats, Join, fingerprint_bytes, fingerprint_key, join,
    name_join_item, system_prefix,
};
use crate::contacts::ContactSet;
use crate::error::PrepError;
use crate::fields::StdField as F;
use crate::model::{Counts, JoinedBy, Note, Source};
use crate::review::{Reason, ReviewItem};
use crate::sheet::Sheet;
use crate::table::Row;
use crate::values::parse_checkbox;

/// One loaded note, as planned: enough to build its record again without re-joining.
/// Kept small (20 bytes; an export can have millions of notes): the date and the key's
/// fingerprint are worked out again from the row when the note is built.
#[derive(Debug, Clone, Copy)]
pub struct NotePlan {
    sheet: u32,
    row: u32,
    contact: u32,
    repeat: u32,
    joined_by: JoinedBy,
}

/// The note text of a row: its text cell, then the `Header: value` lines of appended
/// columns.
fn text_of(sheet: &Sheet, row: &Row) -> String {
    // Exactly as exported (a blank one is no text): the note is the customer's words.
    let raw = sheet.std(F::NoteText).map_or("", |i| row.get(i));
    let mut text = if crate::values::trim(raw).is_empty() {
        String::new()
    } else {
        raw.to_string()
    };
    let extra = sheet.appended(row);
    if !extra.is_empty() {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&extra.join("\n"));
    }
    text
}

/// What a note's key is made of: its contact, its date as written, and its text.
fn key_fingerprint(sheet: &Sheet, row: &Row, contact: &str, text: &str) -> Fingerprint {
    let date_text = sheet.cell(row, sheet.std(F::NoteDate)).unwrap_or("");
    fingerprint_bytes(&[contact, date_text, text])
}

/// Checks and joins every notes row: the plan of the loaded ones, the counts, and the
/// review items (rows held, name joins, bad dates).
/// A note longer than `max_chars` is held (Freshsales would refuse it, or the request).
pub fn plan(
    sheets: &[Sheet],
    set: &ContactSet,
    max_chars: usize,
) -> (Vec<NotePlan>, Counts, Vec<ReviewItem>) {
    let rows: usize = sheets.iter().map(|s| s.table.rows.len()).sum();
    let mut plans = Vec::with_capacity(rows);
    let mut counts = Counts::default();
    let mut review = Vec::new();
    let mut repeats = FingerprintRepeats::new(rows);
    for (s, sheet) in sheets.iter().enumerate() {
        for (r, row) in sheet.table.rows.iter().enumerate() {
            counts.rows_in += 1;
            if let Some(item) = sheet.ragged(row) {
                let held = item.held;
                review.push(item);
                if held {
                    counts.held += 1;
                    continue;
                }
            }
            let text = text_of(sheet, row);
            if text.is_empty() {
                counts.held += 1;
                review.push(sheet.hold_row(
                    row,
                    Reason::InvalidValue,
                    "note has no text; row held",
                ));
                continue;
            }
            if crate::limits::too_long(&text, max_chars) {
                counts.held += 1;
                review.push(sheet.hold_row(
                    row,
                    Reason::InvalidValue,
                    crate::limits::message(&text, max_chars, "a note"),
                ));
                continue;
            }
            let (i, joined_by) = match join(sheet, row, set) {
                Join::Found(i, by) => (i, by),
                Join::Missing(why) => {
                    counts.held += 1;
                    review.push(sheet.orphan(row, Reason::OrphanNote, why));
                    continue;
                }
            };
            if joined_by == JoinedBy::Name {
                review.push(name_join_item(sheet, row, set, i));
            }
            // Checked here for the review queue; parsed again when the note is built.
            sheet.date(row, sheet.std(F::NoteDate), &mut review);
            plans.push(NotePlan {
                sheet: s as u32,
                row: r as u32,
                contact: i as u32,
                repeat: repeats.repeat(key_fingerprint(sheet, row, &set.contacts[i].key, &text)),
                joined_by,
            });
            counts.loaded += 1;
        }
    }
    (plans, counts, review)
}

/// Builds the notes of a plan, in order, as many times as asked.
pub struct NoteSource<'a> {
    sheets: &'a [Sheet<'a>],
    plans: Vec<NotePlan>,
    contact_keys: Vec<String>,
}

impl<'a> NoteSource<'a> {
    /// The notes of `plans` over `sheets`, naming contacts by `contact_keys` (indexed as in
    /// the contact set the plan was joined against).
    pub fn new(
        sheets: &'a [Sheet<'a>],
        plans: Vec<NotePlan>,
        contact_keys: Vec<String>,
    ) -> NoteSource<'a> {
        NoteSource {
            sheets,
            plans,
            contact_keys,
        }
    }

    /// How many notes there are.
    pub fn len(&self) -> usize {
        self.plans.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.plans.is_empty()
    }

    fn build(&self, p: &NotePlan) -> Note {
        let sheet = &self.sheets[p.sheet as usize];
        let row = &sheet.table.rows[p.row as usize];
        let text = text_of(sheet, row);
        let (system, icon) = system_prefix(&text);
        let contact = &self.contact_keys[p.contact as usize];
        let fingerprint = key_fingerprint(sheet, row, contact, &text);
        // A bad date was reported when planning; here it only comes out as no date.
        let date = sheet.date(row, sheet.std(F::NoteDate), &mut Vec::new());
        Note {
            key: fingerprint_key("note", &fingerprint, p.repeat),
            contact: contact.clone(),
            joined_by: p.joined_by,
            system,
            icon,
            date: date.map(|d| d.to_iso()),
            author: sheet.cell(row, sheet.std(F::Author)).map(str::to_string),
            pinned: sheet
                .cell(row, sheet.std(F::Pinned))
                .and_then(parse_checkbox)
                == Some(true),
            source: Source {
                file: sheet.file.to_string(),
                row: row.row,
            },
            text,
        }
    }

    /// Hands every note to `f`, in order; stops at `f`'s first error.
    pub fn for_each(
        &self,
        mut f: impl FnMut(Note) -> Result<(), PrepError>,
    ) -> Result<(), PrepError> {
        for p in &self.plans {
            f(self.build(p))?;
        }
        Ok(())
    }

    /// Every note, held at once (small exports, tests).
    pub fn collect(&self) -> Vec<Note> {
        self.plans.iter().map(|p| self.build(p)).collect()
    }
}
