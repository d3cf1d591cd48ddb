//! What the page builds on, natively: mapping checks, sample values, the record preview
//! and corrections (a fixed email, an assigned owner) on the generated sample export.

use exportgen::{Spec, generate};
use prep::bundle::{self, Record};
use prep::corrections::{CellFix, Corrections};
use prep::kind::FileKind;
use prep::mapping::{ColumnMapping, Mapping, Target};
use prep::review::Reason;
use prep::{Confirmation, InputFile, Options, Prepared, prepare};

fn sample() -> Vec<InputFile> {
    generate(&Spec::sample())
        .0
        .into_iter()
        .map(|f| InputFile {
            name: f.name,
            bytes: f.bytes,
        })
        .collect()
}

fn confirmed() -> Options {
    Options {
        confirmation: Some(Confirmation {
            confirmed_by: "Test Customer".into(),
            confirmed_at: "2026-11-25T10:00:00Z".into(),
        }),
        ..Options::default()
    }
}

fn samples<'p>(p: &'p Prepared, column: &str) -> &'p prep::samples::ColumnSamples {
    p.samples
        .iter()
        .find(|s| s.kind == FileKind::Contacts && s.column == column)
        .unwrap_or_else(|| panic!("no samples for {column}"))
}

#[test]
fn the_sample_proposal_has_no_blocking_problem_and_shows_real_values() {
    let p = prepare(&sample(), &confirmed()).unwrap();
    assert!(p.problems.iter().all(|x| !x.blocking), "{:#?}", p.problems);
    // Every mapping row of every kind has its samples entry.
    let rows: usize = p.mapping.columns.values().map(Vec::len).sum();
    assert_eq!(p.samples.len(), rows);
    let email = samples(&p, "Email");
    assert_eq!(email.samples.len(), 3);
    for s in &email.samples {
        assert!(
            s.becomes == s.value.trim()
                || s.becomes.starts_with("held back")
                || s.becomes.starts_with("merged"),
            "{s:?}"
        );
    }
    let phone = samples(&p, "Phone 1");
    assert!(
        phone.samples.iter().all(|s| s.becomes.starts_with("Work: ")
            || s.becomes.starts_with("Mobile: ")
            || s.becomes.contains("Phone: ")
            || s.becomes.starts_with("held")
            || s.becomes.starts_with("merged")),
        "{phone:?}"
    );
    let flags = samples(&p, "Flags");
    assert!(
        flags
            .samples
            .iter()
            .any(|s| s.becomes.starts_with("tags: ")),
        "{flags:?}"
    );
    let owner = samples(&p, "Team Member");
    assert!(
        owner
            .samples
            .iter()
            .any(|s| s.value == "Jordan Unknown" && s.becomes.starts_with("unknown user")),
        "{owner:?}"
    );
}

#[test]
fn company_sent_to_email_blocks_the_confirmation() {
    let files = sample();
    let mut mapping = Mapping::default();
    mapping.columns.insert(
        FileKind::Contacts,
        vec![
            ColumnMapping {
                source: "Company".into(),
                target: "email".parse().unwrap(),
                confidence: 1.0,
                reason: String::new(),
                date_order: None,
            },
            ColumnMapping {
                source: "Email".into(),
                target: Target::Ignore,
                confidence: 1.0,
                reason: String::new(),
                date_order: None,
            },
        ],
    );
    let draft = Options {
        mapping: Some(mapping.clone()),
        ..Options::default()
    };
    let p = prepare(&files, &draft).unwrap();
    let problem = p
        .problems
        .iter()
        .find(|x| x.column.as_deref() == Some("Company"))
        .expect("Company → Email is a problem");
    assert!(problem.blocking);
    assert!(problem.message.contains("0 of"), "{}", problem.message);
    let e = prep::checks::refuse_blocking(&p.problems)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot confirm") && e.contains("Company"), "{e}");
    let fine = prepare(&files, &confirmed()).unwrap();
    assert!(prep::checks::refuse_blocking(&fine.problems).is_ok());
}

#[test]
fn a_corrected_email_loads_its_row_and_the_bundle_records_the_fix() {
    let files = sample();
    let before = prepare(&files, &confirmed()).unwrap();
    let bad = before
        .review
        .iter()
        .find(|i| i.reason == Reason::InvalidEmail)
        .expect("the sample has invalid emails")
        .clone();
    let mut corrections = Corrections::default();
    corrections.set_cell(CellFix {
        file: bad.file.clone(),
        row: bad.row.unwrap(),
        column: bad.column.clone().unwrap(),
        original: bad.value.clone().unwrap(),
        value: "fixed.in.page@example.com".into(),
    });
    corrections.set_owner("Jordan Unknown", "pat@agency.example");
    let options = Options {
        corrections: corrections.clone(),
        ..confirmed()
    };
    let after = prepare(&files, &options).unwrap();
    assert_eq!(
        after.objects.contacts.held + 1,
        before.objects.contacts.held
    );
    assert!(
        !after
            .review
            .iter()
            .any(|i| i.reason == Reason::InvalidEmail && i.file == bad.file && i.row == bad.row)
    );
    assert!(
        !after
            .review
            .iter()
            .any(|i| i.reason == Reason::UnknownOwner),
        "the assigned owner is no longer unknown"
    );
    let fixed = after
        .contacts
        .iter()
        .find(|c| c.email.as_deref() == Some("fixed.in.page@example.com"))
        .expect("the fixed row is a contact");
    assert_eq!(fixed.sources[0].row, bad.row.unwrap());
    let bytes = bundle::to_bytes(&after).unwrap();
    let (manifest, _) = bundle::verify(&bytes[..]).unwrap();
    assert_eq!(manifest.corrections, corrections);
    let jordan = manifest
        .owners
        .iter()
        .find(|o| o.source == "Jordan Unknown")
        .unwrap();
    assert_eq!(jordan.email.as_deref(), Some("pat@agency.example"));
    // A bundle without corrections has no `corrections` key (older bundles stay identical).
    let plain = bundle::to_bytes(&before).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&plain[..]), &mut text)
        .unwrap();
    assert!(!text.lines().next().unwrap().contains("\"corrections\""));
    // The record preview finds the fixed contact with what the bundle carries.
    let mut contact = None;
    let mut r = bundle::Reader::open(&bytes[..]).unwrap();
    while let Some(rec) = r.next_record().unwrap() {
        if let Record::Contact(c) = rec
            && c.key == fixed.key
        {
            contact = Some(c);
        }
    }
    let preview = prep::preview::find(&after, &after.notes, "fixed.in.page", None);
    assert_eq!(preview.total, 1);
    let record = preview.record.unwrap();
    assert_eq!(Some(record.contact), contact);
    assert!(
        record
            .fields
            .contains(&("Email".into(), "fixed.in.page@example.com".into()))
    );
}

#[test]
fn a_preview_carries_the_contacts_notes_tasks_and_review_items() {
    let p = prepare(&sample(), &confirmed()).unwrap();
    let with_notes = p
        .contacts
        .iter()
        .find(|c| p.notes.iter().filter(|n| n.contact == c.key).count() >= 2)
        .expect("a contact with notes");
    let email = with_notes.email.clone().unwrap();
    let preview = prep::preview::find(&p, &p.notes, &email.to_uppercase(), None);
    let record = preview.record.unwrap();
    assert_eq!(record.contact.key, with_notes.key);
    let expected = p
        .notes
        .iter()
        .filter(|n| n.contact == with_notes.key)
        .count();
    assert_eq!(record.notes.len(), expected);
    assert_eq!(
        record.tasks.len(),
        p.tasks
            .iter()
            .filter(|t| t.contact == with_notes.key)
            .count()
    );
    assert!(
        prep::preview::find(&p, &p.notes, "  ", None)
            .matches
            .is_empty()
    );
    let merged = p
        .contacts
        .iter()
        .find(|c| c.sources.len() > 1)
        .expect("a merged contact");
    let preview = prep::preview::find(&p, &p.notes, "", Some(&merged.key));
    let review = preview.record.unwrap().review;
    assert!(
        review.iter().any(|i| i.reason == Reason::DuplicateEmail),
        "{review:?}"
    );
}

#[test]
fn an_orphan_note_fixed_in_place_joins_its_contact() {
    let files = sample();
    let before = prepare(&files, &confirmed()).unwrap();
    let orphan = before
        .review
        .iter()
        .find(|i| i.reason == Reason::OrphanNote && i.column.is_some())
        .expect("orphan notes name the cell that links them")
        .clone();
    assert!(prep::corrections::fixable(&orphan));
    let contact = before.contacts.iter().find(|c| c.email.is_some()).unwrap();
    let mut corrections = Corrections::default();
    corrections.set_cell(CellFix {
        file: orphan.file.clone(),
        row: orphan.row.unwrap(),
        column: orphan.column.clone().unwrap(),
        original: orphan.value.clone().unwrap(),
        value: contact.email.clone().unwrap().into(),
    });
    let after = prepare(
        &files,
        &Options {
            corrections,
            ..confirmed()
        },
    )
    .unwrap();
    assert_eq!(after.objects.notes.loaded, before.objects.notes.loaded + 1);
    assert!(
        after
            .notes
            .iter()
            .any(|n| n.contact == contact.key && n.source.row == orphan.row.unwrap())
    );
}

#[test]
fn a_row_left_behind_is_held_whole_and_every_value_still_accounted_for() {
    let files = sample();
    let before = prepare(&files, &confirmed()).unwrap();
    // A contact row that loads on its own (not merged, not held).
    let c = before
        .contacts
        .iter()
        .find(|c| c.sources.len() == 1 && c.email.is_some())
        .unwrap();
    let (file, row) = (c.sources[0].file.clone(), c.sources[0].row);
    let mut corrections = Corrections::default();
    corrections.leave_row(&file, row);
    let after = prepare(
        &files,
        &Options {
            corrections: corrections.clone(),
            ..confirmed()
        },
    )
    .unwrap();
    assert!(after.balanced());
    let (b, a) = (before.objects.contacts, after.objects.contacts);
    assert_eq!(
        (a.rows_in, a.loaded, a.held),
        (b.rows_in, b.loaded - 1, b.held + 1)
    );
    assert!(!after.contacts.iter().any(|x| x.key == c.key));
    let item = after
        .review
        .iter()
        .find(|i| i.reason == Reason::LeftBehind)
        .expect("a review item for the row");
    assert_eq!((item.file.as_str(), item.row), (file.as_str(), Some(row)));
    assert!(
        item.held
            && item
                .record
                .pairs()
                .any(|(_, v)| Some(v) == c.email.as_deref())
    );
    let (tb, ta) = (
        prep::ledger::totals(&before.ledger),
        prep::ledger::totals(&after.ledger),
    );
    assert_eq!(ta.values, tb.values, "the row's values are still counted");
    assert!(
        after
            .ledger
            .iter()
            .all(prep::ledger::ColumnLedger::balanced)
    );
    assert!(ta.left_behind > tb.left_behind);
    let bytes = bundle::to_bytes(&after).unwrap();
    assert_eq!(
        bundle::verify(&bytes[..]).unwrap().0.corrections,
        corrections
    );

    let mut stale = Corrections::default();
    stale.leave_row(&file, 99_999);
    let e = prepare(
        &files,
        &Options {
            corrections: stale,
            ..confirmed()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("row 99999") && e.contains("has none"), "{e}");
}
