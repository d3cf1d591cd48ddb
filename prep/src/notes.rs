//! Notes, the bulk of an export, planned once and built on demand. Planning reads every
//! notes row, checks it, joins it to its contact and keeps a few bytes per note (where it
//! is, which contact, how joined, which repeat it is); a [`NoteSource`] then builds the
//! `Note` records one at a time, as often as asked, from the notes tables. So writing a
//! bundle never holds all notes at once, which is what lets a browser tab prepare a large
//! export.

use std::borrow::Cow;

use rayon::prelude::*;

use crate::activities::{
    Fingerprint, FingerprintRepeats, Join, fingerprint_bytes, fingerprint_key, join,
    name_join_item, repeat_bytes, system_prefix,
};
use crate::contacts::ContactSet;
use crate::error::PrepError;
use crate::fields::StdField as F;
use crate::model::{Counts, JoinedBy, Note, NoteRef, Source};
use crate::review::{Reason, ReviewItem};
use crate::sheet::Sheet;
use crate::table::Row;
use crate::values::parse_checkbox;

/// One loaded note, as planned: enough to build its record again without re-joining.
/// Kept small (12 bytes; an export can have millions of notes): the date and the key's
/// fingerprint are worked out again from the row when the note is built, and the rare
/// note that repeats an earlier one is numbered in [`Plan::repeats`].
#[derive(Debug, Clone, Copy)]
pub struct NotePlan {
    /// Of at most [`MAX_SHEETS`].
    sheet: u16,
    joined_by: JoinedBy,
    row: u32,
    contact: u32,
}

/// The notes to build: one plan per note, in order.
#[derive(Debug, Default)]
pub struct Plan {
    notes: Vec<NotePlan>,
    /// (index in `notes`, n) for each note that is the n-th (n > 1) of identical ones (same
    /// contact, date and text), in order; every other note is the first.
    repeats: Vec<(u32, u32)>,
}

impl Plan {
    /// The number of note `i` among identical ones.
    fn repeat(&self, i: usize) -> u32 {
        self.repeats
            .binary_search_by_key(&(i as u32), |r| r.0)
            .map_or(1, |at| self.repeats[at].1)
    }
}

const _: () = assert!(std::mem::size_of::<NotePlan>() == 12);

/// The most notes files an export may have ([`plan`] refuses more): two bytes of each
/// note's plan say which file it is in.
pub const MAX_SHEETS: usize = u16::MAX as usize;

/// The note text of a row: its text cell, then the `Header: value` lines of appended
/// columns.
/// Borrowed from the row when it is the text cell alone (most notes).
fn text_of<'r>(sheet: &Sheet, row: &'r Row) -> Cow<'r, str> {
    // Exactly as exported (a blank one is no text): the note is the customer's words.
    let raw = sheet.std(F::NoteText).map_or("", |i| row.get(i));
    let raw = if crate::values::trim(raw).is_empty() {
        ""
    } else {
        raw
    };
    let extra = sheet.appended(row);
    if extra.is_empty() {
        return Cow::Borrowed(raw);
    }
    let mut text = raw.to_string();
    if !text.is_empty() {
        text.push_str("\n\n");
    }
    text.push_str(&extra.join("\n"));
    Cow::Owned(text)
}

/// What a note's key is made of: its contact, its date as written, and its text.
fn key_parts<'a>(sheet: &'a Sheet, row: &'a Row, contact: &'a str, text: &'a str) -> [&'a str; 3] {
    let date_text = sheet.cell(row, sheet.std(F::NoteDate)).unwrap_or("");
    [contact, date_text, text]
}

/// Rows planned side by side (where there are threads), then merged in file order.
const CHUNK_ROWS: usize = 16 * 1024;

/// A run of rows to plan: its sheet, and its first row.
type Run = (usize, usize);

/// What planning a run of rows of one sheet finds.
#[derive(Default)]
struct Chunk {
    /// Loaded rows: index in the sheet, contact, how joined, repeat fingerprint
    /// ([`repeat_bytes`]).
    planned: Vec<(u32, u32, JoinedBy, Fingerprint)>,
    counts: Counts,
    review: Vec<ReviewItem>,
}

/// Checks and joins every notes row: the plan of the loaded ones, the counts, and the
/// review items (rows held, name joins, bad dates).
/// A note longer than `max_chars` is held (Freshsales would refuse it, or the request).
/// More than [`MAX_SHEETS`] notes files are refused.
pub fn plan(
    sheets: &[Sheet],
    set: &ContactSet,
    max_chars: usize,
) -> Result<(Plan, Counts, Vec<ReviewItem>), PrepError> {
    if let Some(sheet) = sheets.get(MAX_SHEETS) {
        return Err(PrepError::Input {
            file: sheet.file.to_string(),
            message: format!(
                "the export has more than {MAX_SHEETS} notes files; join them into fewer files"
            ),
        });
    }
    let rows: usize = sheets.iter().map(|s| s.table.rows.len()).sum();
    if u32::try_from(rows).is_err() {
        return Err(PrepError::Input {
            file: sheets[0].file.to_string(),
            message: "the export has more than 4 billion notes; split it into parts".into(),
        });
    }
    let mut plans = Plan {
        notes: Vec::with_capacity(rows),
        repeats: Vec::new(),
    };
    let mut counts = Counts::default();
    let mut review = Vec::new();
    let mut repeats = FingerprintRepeats::new(rows);
    let runs: Vec<Run> = sheets
        .iter()
        .enumerate()
        .flat_map(|(s, sheet)| {
            (0..sheet.table.rows.len())
                .step_by(CHUNK_ROWS)
                .map(move |start| (s, start))
        })
        .collect();
    // A few runs at a time, so the runs' results never take more room than the plan: one
    // at a time on a single thread (a browser tab). Each batch is merged in file order
    // while the next is planned, so the merge (one thread: repeats are counted in order)
    // does not leave the other threads idle.
    let batch = rayon::current_num_threads() * 2;
    let mut pending: Option<(&[Run], Vec<Chunk>)> = None;
    for runs in runs.chunks(batch).map(Some).chain([None]) {
        let ((), next) = rayon::join(
            || {
                if let Some((runs, chunks)) = pending.take() {
                    for (&(s, _), chunk) in runs.iter().zip(chunks) {
                        merge_chunk(s, chunk, &mut plans, &mut counts, &mut review, &mut repeats);
                    }
                }
            },
            || {
                runs.map(|runs| {
                    let chunks: Vec<Chunk> = runs
                        .par_iter()
                        .map(|&(s, start)| plan_run(&sheets[s], start, set, max_chars))
                        .collect();
                    (runs, chunks)
                })
            },
        );
        pending = next;
    }
    Ok((plans, counts, review))
}

/// Adds a planned run of sheet `s` to the plan, in file order.
fn merge_chunk(
    s: usize,
    chunk: Chunk,
    plans: &mut Plan,
    counts: &mut Counts,
    review: &mut Vec<ReviewItem>,
    repeats: &mut FingerprintRepeats,
) {
    counts.rows_in += chunk.counts.rows_in;
    counts.held += chunk.counts.held;
    counts.loaded += chunk.counts.loaded;
    review.extend(chunk.review);
    // Repeats are counted in file order, so the n-th copy of a note is the n-th.
    for (row, contact, joined_by, fp) in chunk.planned {
        let repeat = repeats.repeat(fp);
        if repeat > 1 {
            // Fewer than 4 billion notes: `plan` refuses more.
            plans.repeats.push((plans.notes.len() as u32, repeat));
        }
        plans.notes.push(NotePlan {
            // `plan` refuses more sheets than fit.
            sheet: s as u16,
            row,
            contact,
            joined_by,
        });
    }
}

/// Plans up to [`CHUNK_ROWS`] rows of `sheet` from `start`.
fn plan_run(sheet: &Sheet, start: usize, set: &ContactSet, max_chars: usize) -> Chunk {
    let mut out = Chunk::default();
    let (counts, review) = (&mut out.counts, &mut out.review);
    let end = (start + CHUNK_ROWS).min(sheet.table.rows.len());
    for (r, row) in sheet.table.rows[start..end].iter().enumerate() {
        let r = start + r;
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
            review.push(sheet.hold_row(row, Reason::InvalidValue, "note has no text; row held"));
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
        sheet.date(row, sheet.std(F::NoteDate), review);
        // Repeats are found by a cheaper hash of what the key is made of.
        let fp = repeat_bytes(&key_parts(sheet, row, &set.contacts[i].key, &text));
        out.planned.push((r as u32, i as u32, joined_by, fp));
        counts.loaded += 1;
    }
    out
}

/// How many notes [`NoteSource::for_each`] builds before handing them on.
const BUILD_BATCH: usize = 4096;

/// Builds the notes of a plan, in order, as many times as asked.
pub struct NoteSource<'a> {
    sheets: &'a [Sheet<'a>],
    plans: Plan,
    contact_keys: Vec<String>,
}

impl<'a> NoteSource<'a> {
    /// The notes of `plans` over `sheets`, naming contacts by their keys (`key(i)` that of
    /// contact `i` of the `contacts` the plan was joined against). Only the keys of
    /// contacts with notes are copied: a contact-heavy export has many without any, and
    /// all its contacts are held beside.
    pub fn new<'k>(
        sheets: &'a [Sheet<'a>],
        mut plans: Plan,
        contacts: usize,
        key: impl Fn(usize) -> &'k str,
    ) -> NoteSource<'a> {
        let mut kept: Vec<String> = Vec::new();
        let mut at: Vec<u32> = vec![u32::MAX; contacts];
        for p in &mut plans.notes {
            let slot = &mut at[p.contact as usize];
            if *slot == u32::MAX {
                // Fewer contacts than 4 billion: notes name them in a u32.
                *slot = kept.len() as u32;
                kept.push(key(p.contact as usize).to_string());
            }
            p.contact = *slot;
        }
        NoteSource {
            sheets,
            plans,
            contact_keys: kept,
        }
    }

    /// How many notes there are.
    pub fn len(&self) -> usize {
        self.plans.notes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.plans.notes.is_empty()
    }

    /// Note `i`, its text borrowed from its row where it can be.
    fn build(&self, i: usize) -> NoteRef<'_> {
        let p = &self.plans.notes[i];
        let sheet: &'a Sheet<'a> = &self.sheets[p.sheet as usize];
        let row: &'a Row = &sheet.table.rows[p.row as usize];
        let text = text_of(sheet, row);
        let (system, icon) = system_prefix(&text);
        let contact = &self.contact_keys[p.contact as usize];
        let fingerprint = fingerprint_bytes(&key_parts(sheet, row, contact, &text));
        // A bad date was reported when planning; here it only comes out as no date.
        let date = sheet.date(row, sheet.std(F::NoteDate), &mut Vec::new());
        Note {
            key: Cow::Owned(fingerprint_key("note", &fingerprint, self.plans.repeat(i))),
            contact: Cow::Borrowed(contact),
            joined_by: p.joined_by,
            system,
            icon: icon.map(Cow::Owned),
            date: date.map(|d| Cow::Owned(d.to_iso())),
            author: sheet.cell(row, sheet.std(F::Author)).map(Cow::Borrowed),
            pinned: sheet
                .cell(row, sheet.std(F::Pinned))
                .and_then(parse_checkbox)
                == Some(true),
            source: Source {
                file: Cow::Borrowed(sheet.file),
                row: row.row.into(),
            },
            text,
        }
    }

    /// Hands every note to `f`, in order; stops at `f`'s first error. The notes are built
    /// a batch at a time side by side (where there are threads): building is most of the
    /// cost of writing them, and a batch of [`BUILD_BATCH`] takes little room.
    pub fn for_each(
        &self,
        mut f: impl FnMut(NoteRef<'_>) -> Result<(), PrepError>,
    ) -> Result<(), PrepError> {
        for start in (0..self.len()).step_by(BUILD_BATCH) {
            let end = (start + BUILD_BATCH).min(self.len());
            let built: Vec<NoteRef<'_>> = (start..end)
                .into_par_iter()
                .with_min_len(256)
                .map(|i| self.build(i))
                .collect();
            for note in built {
                f(note)?;
            }
        }
        Ok(())
    }

    /// Hands the notes of the contact keyed `contact` to `f`, in order. Only those are
    /// built: the record preview would otherwise build every note of the export (millions
    /// in a large one) to show a handful.
    pub fn for_each_of(
        &self,
        contact: &str,
        mut f: impl FnMut(NoteRef<'_>) -> Result<(), PrepError>,
    ) -> Result<(), PrepError> {
        let mine: Vec<u32> = (0..self.contact_keys.len() as u32)
            .filter(|&i| self.contact_keys[i as usize] == contact)
            .collect();
        let plans = self.plans.notes.iter().enumerate();
        for (i, _) in plans.filter(|(_, p)| mine.contains(&p.contact)) {
            f(self.build(i))?;
        }
        Ok(())
    }

    /// Every note, held at once (small exports, tests).
    pub fn collect(&self) -> Vec<Note> {
        (0..self.len())
            .into_par_iter()
            .with_min_len(256)
            .map(|i| self.build(i).into_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::review::Reason;
    use crate::{InputFile, prepare};

    /// Two bytes of a note's plan say which notes file it is in: an export of more files
    /// than that is refused by name, not planned into the wrong file.
    #[test]
    fn more_notes_files_than_a_plan_can_name_are_refused() {
        use crate::{contacts::ContactSet, sheet::Sheet, table::Table};
        let table =
            Table::parse("Notes.csv", "Contact ID,Note\r\n1,hello\r\n", Some(b',')).unwrap();
        let names: Vec<String> = (0..=super::MAX_SHEETS)
            .map(|i| format!("Notes {i:05}.csv"))
            .collect();
        let sheets: Vec<Sheet> = names.iter().map(|n| Sheet::new(n, &table, &[])).collect();
        let set = ContactSet::default();
        let err = super::plan(&sheets, &set, 100).unwrap_err().to_string();
        assert!(err.contains("more than 65535 notes files"), "{err}");
        assert!(err.contains("Notes 65535.csv"), "{err}");
        let (_, counts, _) = super::plan(&sheets[..super::MAX_SHEETS], &set, 100).unwrap();
        assert_eq!(counts.rows_in, super::MAX_SHEETS as u64);
    }

    /// The notes of one contact, built alone, are that contact's notes of the whole set in
    /// the same order, for every contact, from the tables as from notes held in memory.
    #[test]
    fn a_contacts_notes_built_alone_are_its_notes_of_the_whole_set() {
        use crate::bundle::Notes;
        let contacts = InputFile {
            name: "Contacts.csv".into(),
            bytes: b"Contact ID,Email,First Name,Last Name\r\n1,ada@example.com,Ada,Lovelace\r\n\
                     2,bo@example.com,Bo,Diddley\r\n3,,Cy,Young\r\n"
                .to_vec(),
        };
        let mut csv = String::from("Contact ID,Email,Note\r\n");
        for i in 0..60 {
            let (id, email) = [
                ("1", ""),
                ("", "bo@example.com"),
                ("3", ""),
                ("", "x@y.com"),
            ][i % 4];
            csv.push_str(&format!("{id},{email},note {i}\r\n"));
        }
        let inputs = [
            contacts,
            InputFile {
                name: "Notes.csv".into(),
                bytes: csv.into_bytes(),
            },
        ];
        crate::prepare::prepare_with(&inputs, &Default::default(), |p, source| {
            let all = source.collect();
            assert_eq!(all.len(), 45, "orphans held");
            let json = |n: &crate::model::NoteRef| serde_json::to_string(n).unwrap();
            for key in p.contacts.iter().map(|c| c.key.as_str()).chain(["nobody"]) {
                let want: Vec<String> = all
                    .iter()
                    .filter(|n| n.contact == key)
                    .map(|n| json(&n.borrowed()))
                    .collect();
                let mut alone = Vec::new();
                source.each_of(key, &mut |n| {
                    alone.push(json(n));
                    Ok(())
                })?;
                let mut held = Vec::new();
                all.each_of(key, &mut |n| {
                    held.push(json(n));
                    Ok(())
                })?;
                assert_eq!(alone, want, "{key}");
                assert_eq!(held, want, "{key}");
                assert_eq!(want.len(), if key == "nobody" { 0 } else { 15 }, "{key}");
            }
            Ok(())
        })
        .unwrap();
    }

    /// A note written from its row borrows the row's text unless columns are appended to
    /// it, and serialises exactly as the note it stands for, owned or borrowed back
    /// (authors, pins, dates, system and icon prefixes, appended columns).
    #[test]
    fn a_note_borrowed_from_its_row_writes_what_the_owned_note_writes() {
        let contacts = InputFile {
            name: "Contacts.csv".into(),
            bytes: b"Email,First Name\r\nada@example.com,Ada\r\n".to_vec(),
        };
        let notes = |extra: &str, row_extra: &str| InputFile {
            name: "Notes.csv".into(),
            bytes: format!(
                "Email,Note,Date,Author,Pinned{extra}\r\n\
                 ada@example.com,called back,1/2/2024 9:05 AM,Sam,Yes{row_extra}\r\n\
                 ada@example.com,[[System]][[Icon:phone]] Rang,,,{row_extra}\r\n\
                 ada@example.com,\"two\r\nlines \"\"quoted\"\"\",2024-02-03,,No{row_extra}\r\n"
            )
            .into_bytes(),
        };
        for (extra, row_extra, borrowed) in [("", "", true), (",Topic", ",Budget", false)] {
            let inputs = [contacts.clone(), notes(extra, row_extra)];
            let seen = crate::prepare::prepare_with(&inputs, &Default::default(), |_, source| {
                let mut seen = Vec::new();
                source.for_each(|n| {
                    assert_eq!(
                        matches!(n.text, std::borrow::Cow::Borrowed(_)),
                        borrowed,
                        "{n:?}"
                    );
                    assert!(matches!(n.contact, std::borrow::Cow::Borrowed(_)));
                    let json = serde_json::to_string(&n).unwrap();
                    let owned = n.into_owned();
                    assert_eq!(serde_json::to_string(&owned).unwrap(), json);
                    assert_eq!(serde_json::to_string(&owned.borrowed()).unwrap(), json);
                    assert_eq!(
                        serde_json::from_str::<crate::model::Note>(&json).unwrap(),
                        owned
                    );
                    seen.push(owned);
                    Ok(())
                })?;
                Ok(seen)
            })
            .unwrap();
            assert_eq!(seen.len(), 3);
            assert_eq!(seen[0].author.as_deref(), Some("Sam"));
            assert!(seen[0].pinned && !seen[2].pinned);
            assert_eq!(seen[0].date.as_deref(), Some("2024-01-02T09:05:00"));
            assert!(seen[1].system);
            assert_eq!(seen[1].icon.as_deref(), Some("phone"));
            assert!(seen[2].text.contains("\"quoted\""), "{:?}", seen[2].text);
            assert_eq!(seen[0].text.ends_with("Topic: Budget"), !borrowed);
        }
    }

    /// A note repeats an earlier one when its contact, date and text are all the same;
    /// any one of them different, it is a note of its own.
    #[test]
    fn a_note_repeats_only_when_contact_date_and_text_all_match() {
        let contacts = InputFile {
            name: "Contacts.csv".into(),
            bytes: b"Email,First Name\r\nada@example.com,Ada\r\nbo@example.com,Bo\r\n".to_vec(),
        };
        let notes = InputFile {
            name: "Notes.csv".into(),
            bytes: b"Email,Note,Date\r\n\
                     ada@example.com,called back,2024-01-02\r\n\
                     bo@example.com,called back,2024-01-02\r\n\
                     ada@example.com,called back,2024-01-03\r\n\
                     ada@example.com,called back!,2024-01-02\r\n\
                     ada@example.com,called back,2024-01-02\r\n\
                     bo@example.com,called back,2024-01-02\r\n"
                .to_vec(),
        };
        let p = prepare(&[contacts, notes], &Default::default()).unwrap();
        let keys: Vec<&str> = p.notes.iter().map(|n| n.key.as_str()).collect();
        assert_eq!(keys.len(), 6);
        let distinct: std::collections::HashSet<&str> = keys.iter().copied().collect();
        assert_eq!(distinct.len(), 6, "{keys:?}");
        assert!(keys[..4].iter().all(|k| !k.contains('#')), "{keys:?}");
        assert_eq!(keys[4], format!("{}#2", keys[0]));
        assert_eq!(keys[5], format!("{}#2", keys[1]));
    }

    /// Two notes files of the same note many times over, longer than a run of rows, with
    /// orphans along the way: planned in runs side by side, the result is what one pass in
    /// file order gives (repeats numbered across runs and files, the review in row order).
    #[test]
    fn notes_planned_in_runs_are_numbered_and_reviewed_in_file_order() {
        let contacts = InputFile {
            name: "Contacts.csv".into(),
            bytes: b"Email,First Name\r\nada@example.com,Ada\r\n".to_vec(),
        };
        let notes = |name: &str, rows: usize| {
            let mut csv = String::from("Email,Note,Date\r\n");
            for i in 0..rows {
                let email = if i % 1000 == 999 {
                    "nobody@example.com"
                } else {
                    "ada@example.com"
                };
                csv.push_str(&format!("{email},called back,2024-01-02\r\n"));
            }
            InputFile {
                name: name.into(),
                bytes: csv.into_bytes(),
            }
        };
        let rows = super::CHUNK_ROWS * 2 + 100;
        let inputs = [
            contacts,
            notes("Notes.csv", rows),
            notes("Notes 2.csv", 5000),
        ];
        let p = prepare(&inputs, &Default::default()).unwrap();
        let orphans: Vec<(&str, u64)> = p
            .review
            .iter()
            .filter(|i| i.reason == Reason::OrphanNote)
            .map(|i| (i.file.as_str(), i.row.unwrap_or(0)))
            .collect();
        let expected: Vec<(&str, u64)> = [("Notes 2.csv", 5000), ("Notes.csv", rows)]
            .into_iter()
            .flat_map(|(f, n)| {
                (0..n)
                    .filter(|i| i % 1000 == 999)
                    .map(move |i| (f, i as u64 + 2))
            })
            .collect();
        assert_eq!(orphans, expected, "orphans in file and row order");
        let loaded = rows + 5000 - expected.len();
        assert_eq!(p.notes.len(), loaded);
        assert_eq!(p.objects.notes.rows_in as usize, rows + 5000);
        assert_eq!(p.objects.notes.held as usize, expected.len());
        let sources: Vec<(&str, u64)> = p
            .notes
            .iter()
            .map(|n| (n.source.file.as_str(), n.source.row))
            .collect();
        let mut sorted = sources.clone();
        sorted.sort();
        assert_eq!(sources, sorted, "notes in file and row order");
        let first = p.notes[0].key.clone();
        for (n, note) in p.notes.iter().enumerate() {
            let want = if n == 0 {
                first.clone()
            } else {
                format!("{first}#{}", n + 1)
            };
            assert_eq!(note.key, want, "note {n}");
        }
    }
}
