//! The whole preparation on generated exports: every planted problem lands in its review
//! queue, the bundle is deterministic and tamper-evident, and a saved mapping re-applies.

use std::io::{Read, Write};

use exportgen::{Spec, generate};
use prep::bundle::{self, Record};
use prep::fields::FieldType;
use prep::kind::FileKind;
use prep::mapping::Target;
use prep::review::Reason;
use prep::{Confirmation, InputFile, Mapping, Options, Prepared, prepare};

fn inputs(spec: &Spec) -> (Vec<InputFile>, exportgen::Planted) {
    let (files, planted) = generate(spec);
    (
        files
            .into_iter()
            .map(|f| InputFile {
                name: f.name,
                bytes: f.bytes,
            })
            .collect(),
        planted,
    )
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

fn count(p: &Prepared, r: Reason) -> usize {
    p.review.iter().filter(|i| i.reason == r).count()
}

#[test]
fn planted_problems_land_in_their_queues() {
    let (files, planted) = inputs(&Spec::sample());
    let p = prepare(&files, &confirmed()).unwrap();
    assert!(p.balanced());
    let c = p.objects.contacts;
    assert_eq!(c.rows_in, 400);
    assert_eq!(c.merged as usize, planted.duplicate_rows);
    assert_eq!(c.held as usize, planted.invalid_emails);
    assert_eq!(count(&p, Reason::DuplicateEmail), planted.duplicate_rows);
    assert_eq!(count(&p, Reason::InvalidEmail), planted.invalid_emails);
    assert_eq!(count(&p, Reason::MissingEmail), planted.missing_emails);
    assert_eq!(count(&p, Reason::OrphanNote), planted.orphan_notes);
    assert_eq!(p.objects.notes.held as usize, planted.orphan_notes);
    assert_eq!(count(&p, Reason::OrphanTask), planted.orphan_tasks);
    assert_eq!(
        count(&p, Reason::UnknownOwner),
        1,
        "Jordan Unknown is not in Users.csv"
    );
    assert_eq!(
        count(&p, Reason::AmbiguousDate),
        1,
        "Anniversary's dates all read both ways"
    );
    assert!(
        count(&p, Reason::InvalidValue) >= 2,
        "13/45/2019 edit date and n/a referral counts"
    );
    assert!(count(&p, Reason::TemplateImage) >= 3);
    assert!(count(&p, Reason::TemplateMergeToken) >= 2);
    let kinds: Vec<(String, FileKind)> =
        p.inputs.iter().map(|i| (i.file.clone(), i.kind)).collect();
    assert!(kinds.contains(&("Contacts.csv".into(), FileKind::Contacts)));
    assert!(kinds.contains(&("Tasks.csv".into(), FileKind::Tasks)));
    let contacts = p.inputs.iter().find(|i| i.file == "Contacts.csv").unwrap();
    assert_eq!(contacts.encoding, "windows-1252");
    let tasks = p.inputs.iter().find(|i| i.file == "Tasks.csv").unwrap();
    assert_eq!(tasks.delimiter, ";");
    let notes = p.inputs.iter().find(|i| i.file == "Notes.csv").unwrap();
    assert!(notes.bom);
    // Non-ASCII names survive Windows-1252.
    assert!(
        p.contacts
            .iter()
            .any(|c| c.last_name.as_deref() == Some("Müller"))
    );
    // The groups field takes the default label; category and source are dropdowns.
    let def = |l: &str| {
        p.custom_fields
            .iter()
            .find(|d| d.label == l)
            .unwrap()
            .clone()
    };
    assert_eq!(def("AllClients Groups").field_type, FieldType::MultiSelect);
    assert_eq!(def("Category").field_type, FieldType::Dropdown);
    assert!(
        def("Source").choices.contains(&"Trade Show".to_string()),
        "choices from Flags.csv's Source list"
    );
    assert_eq!(def("Referral Count").field_type, FieldType::Number);
    assert!(
        p.tags.contains(&"Unused Flag".to_string()),
        "tags from the flags list"
    );
    // System notes are recognised; the XSS note is kept as text.
    assert!(
        p.notes
            .iter()
            .any(|n| n.system && n.icon.as_deref() == Some("Email"))
    );
    assert!(p.notes.iter().any(|n| n.text.contains("<script>")));
    // Completed tasks and priorities.
    assert!(
        p.tasks
            .iter()
            .any(|t| t.status == prep::model::TaskStatus::Completed)
    );
    assert!(
        p.tasks
            .iter()
            .all(|t| t.due_date.as_deref().is_some_and(|d| d.len() == 10))
    );
}

#[test]
fn merged_contact_keeps_the_most_recent_values_and_unites_tags() {
    let csv = "Email,First Name,City,Flags,Edit Date\r\n\
               ada@example.com,Ada,Old Town,VIP,1/1/2020 9:00 AM\r\n\
               ADA@example.com ,Ada B.,,Golf;vip,6/1/2021 9:00 AM\r\n";
    let notes = "Email,Note\r\nada@EXAMPLE.com,hello\r\n";
    let p = prepare(
        &[
            InputFile {
                name: "Contacts.csv".into(),
                bytes: csv.as_bytes().to_vec(),
            },
            InputFile {
                name: "Notes.csv".into(),
                bytes: notes.as_bytes().to_vec(),
            },
        ],
        &Options::default(),
    )
    .unwrap();
    assert_eq!(p.contacts.len(), 1);
    let c = &p.contacts[0];
    assert_eq!(
        c.first_name.as_deref(),
        Some("Ada B."),
        "the most recently edited row wins"
    );
    assert_eq!(
        c.city.as_deref(),
        Some("Old Town"),
        "blanks are filled from older rows"
    );
    assert_eq!(c.tags, ["Golf", "vip"]);
    assert_eq!(
        p.objects.contacts,
        prep::model::Counts {
            rows_in: 2,
            loaded: 1,
            merged: 1,
            held: 0
        }
    );
    let dup = p
        .review
        .iter()
        .find(|i| i.reason == Reason::DuplicateEmail)
        .unwrap();
    assert_eq!(dup.row, Some(2));
    assert!(
        !dup.record.is_empty(),
        "the merged row travels with its review item"
    );
    assert_eq!(p.notes[0].contact, c.key);
}

#[test]
fn bundle_is_deterministic_and_round_trips() {
    let (files, _) = inputs(&Spec {
        seed: 3,
        contacts: 120,
        notes: 300,
        tasks: 40,
        side_files: true,
        every_kind: false,
    });
    let a = bundle::to_bytes(&prepare(&files, &confirmed()).unwrap()).unwrap();
    let mut reversed = files.clone();
    reversed.reverse();
    let p = prepare(&reversed, &confirmed()).unwrap();
    let b = bundle::to_bytes(&p).unwrap();
    assert_eq!(
        a, b,
        "same inputs (in any order) + mapping + confirmation → same bytes"
    );
    let mut reader = bundle::Reader::open(&a[..]).unwrap();
    let mut contacts = Vec::new();
    let mut notes = Vec::new();
    let mut reviews = Vec::new();
    while let Some(r) = reader.next_record().unwrap() {
        match r {
            Record::Contact(c) => contacts.push(c),
            Record::Note(n) => notes.push(n),
            Record::Review(i) => reviews.push(i),
            _ => {}
        }
    }
    assert_eq!(contacts, p.contacts);
    assert_eq!(notes, p.notes);
    assert_eq!(reviews, p.review);
    assert_eq!(
        reader
            .manifest()
            .confirmation
            .as_ref()
            .unwrap()
            .confirmed_by,
        "Test Customer"
    );
}

fn gunzip(bytes: &[u8]) -> String {
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_string(&mut s)
        .unwrap();
    s
}

fn gzip(text: &str) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

#[test]
fn tampered_or_truncated_bundles_are_refused() {
    let (files, _) = inputs(&Spec {
        seed: 5,
        contacts: 60,
        notes: 100,
        tasks: 10,
        side_files: false,
        every_kind: false,
    });
    let good = bundle::to_bytes(&prepare(&files, &confirmed()).unwrap()).unwrap();
    assert!(bundle::verify(&good[..]).is_ok());
    let text = gunzip(&good);
    // One letter of one contact's name changed.
    let tampered = text.replacen("\"first_name\":\"", "\"first_name\":\"X", 1);
    let err = bundle::verify(&gzip(&tampered)[..])
        .unwrap_err()
        .to_string();
    assert!(err.contains("altered"), "{err}");
    // The manifest's counts edited.
    let tampered = text.replacen(
        "\"confirmed_by\":\"Test Customer\"",
        "\"confirmed_by\":\"Mallory\"",
        1,
    );
    assert!(bundle::verify(&gzip(&tampered)[..]).is_err());
    // A whole record line removed.
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(5);
    let shorter = lines.join("\n") + "\n";
    assert!(
        bundle::verify(&gzip(&shorter)[..])
            .unwrap_err()
            .to_string()
            .contains("records")
    );
    // The compressed file cut short.
    let cut = &good[..good.len() / 2];
    let err = bundle::verify(cut).unwrap_err().to_string();
    assert!(
        err.contains("truncated") || err.contains("cut short"),
        "{err}"
    );
    // Not a bundle at all.
    assert!(bundle::verify(&b"hello"[..]).is_err());
}

#[test]
fn saved_mapping_re_applies_and_overrides_the_proposal() {
    let (files, _) = inputs(&Spec::sample());
    let first = prepare(&files, &Options::default()).unwrap();
    let mut mapping: Mapping =
        Mapping::from_json(&serde_json::to_string(&first.mapping_file()).unwrap()).unwrap();
    // The customer maps Birthday to nothing, renames the groups field, and confirms the
    // Anniversary column as day-first.
    let cols = mapping.columns.get_mut(&FileKind::Contacts).unwrap();
    for c in cols.iter_mut() {
        if c.source == "Birthday" {
            c.target = Target::Ignore;
        }
        if c.source == "Groups" {
            c.target = Target::Custom("Client Groups".into());
        }
    }
    for d in mapping.custom_fields.iter_mut() {
        if d.label == "AllClients Groups" {
            d.label = "Client Groups".into();
        }
        if d.label == "Anniversary" {
            d.date_order = Some(prep::dates::DateOrder::Dmy);
        }
    }
    let second = prepare(
        &files,
        &Options {
            mapping: Some(mapping.clone()),
            ..confirmed()
        },
    )
    .unwrap();
    assert!(second.custom_fields.iter().all(|d| d.label != "Birthday"));
    assert!(
        second
            .custom_fields
            .iter()
            .any(|d| d.label == "Client Groups" && d.field_type == FieldType::MultiSelect)
    );
    assert!(
        second
            .contacts
            .iter()
            .all(|c| !c.custom_fields.contains_key("Birthday"))
    );
    assert!(
        second
            .contacts
            .iter()
            .any(|c| c.custom_fields.contains_key("Client Groups"))
    );
    assert_eq!(
        count(&second, Reason::AmbiguousDate),
        0,
        "the order was confirmed"
    );
    let col = second.mapping.columns[&FileKind::Contacts]
        .iter()
        .find(|c| c.source == "Birthday")
        .unwrap();
    assert_eq!(col.confidence, 1.0);
    // A later, different export with the same mapping: new values outside a confirmed
    // dropdown's choices are held as invalid values.
    let mut later = mapping.clone();
    for d in later.custom_fields.iter_mut() {
        if d.label == "Membership Level" {
            d.choices.retain(|c| c != "Bronze");
        }
    }
    let third = prepare(
        &files,
        &Options {
            mapping: Some(later),
            ..confirmed()
        },
    )
    .unwrap();
    let bad: Vec<_> = third
        .review
        .iter()
        .filter(|i| {
            i.reason == Reason::InvalidValue && i.column.as_deref() == Some("Membership Level")
        })
        .collect();
    assert!(!bad.is_empty());
    assert!(
        bad.iter()
            .all(|i| i.value.as_deref() == Some("Bronze") && i.row.is_some())
    );
}

#[test]
fn shipped_sample_matches_the_generator() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample/allclients-export");
    let (files, _) = generate(&Spec::sample());
    for f in files {
        let on_disk =
            std::fs::read(dir.join(&f.name)).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        assert!(
            on_disk == f.bytes,
            "sample/allclients-export/{} is out of date: cargo run -p exportgen -- sample/allclients-export",
            f.name
        );
    }
}

#[test]
fn no_contacts_file_is_a_clear_error() {
    let notes = InputFile {
        name: "Notes.csv".into(),
        bytes: b"Email,Note\nx@y.com,hi\n".to_vec(),
    };
    let err = prepare(&[notes], &Options::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no contacts file") && err.contains("Notes.csv: notes"),
        "{err}"
    );
}
