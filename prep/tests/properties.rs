//! Properties over arbitrary exports: every row is accounted for, bundles round-trip
//! losslessly, and the same input always gives the same bytes.

use proptest::prelude::*;

use prep::bundle::{self, Record};
use prep::{Confirmation, InputFile, Options, prepare};

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-zA-Z ]{1,12}",
        "[a-c]{1,3}@(example|test)\\.(com|org)",
        "[A-C]{1,3}@EXAMPLE\\.COM ",
        "[a-z]{1,5}@@x",
        "(1[0-2]|[1-9])/(1[0-9]|2[0-8]|[1-9])/(19|20)[0-9]{2}",
        "[0-9]{1,4}",
        "(Yes|No|X)",
        "[a-zé\"\n,;|]{0,20}",
        any::<String>().prop_map(|s| s.chars().filter(|c| *c != '\0').take(30).collect()),
    ]
}

fn rows(width: usize, max: usize) -> impl Strategy<Value = Vec<Vec<String>>> {
    prop::collection::vec(prop::collection::vec(cell(), width..=width), 0..max)
}

fn to_csv(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    w.write_record(header).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.into_inner().unwrap()
}

fn files(contacts: &[Vec<String>], notes: &[Vec<String>], tasks: &[Vec<String>]) -> Vec<InputFile> {
    vec![
        InputFile {
            name: "Contacts.csv".into(),
            bytes: to_csv(
                &[
                    "Contact ID",
                    "Email",
                    "First Name",
                    "Last Name",
                    "Flags",
                    "Edit Date",
                    "Score",
                    "Notes Col",
                ],
                contacts,
            ),
        },
        InputFile {
            name: "Notes.csv".into(),
            bytes: to_csv(&["Contact ID", "Email", "Date", "Note"], notes),
        },
        InputFile {
            name: "Tasks.csv".into(),
            bytes: to_csv(
                &["Email", "Summary", "Due Date", "Status", "Priority"],
                tasks,
            ),
        },
    ]
}

fn options() -> Options {
    Options {
        confirmation: Some(Confirmation {
            confirmed_by: "P".into(),
            confirmed_at: "2026-01-01T00:00:00Z".into(),
        }),
        ..Options::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_row_is_loaded_merged_or_held(c in rows(8, 25), n in rows(4, 25), t in rows(5, 10)) {
        let p = prepare(&files(&c, &n, &t), &options()).unwrap();
        for (name, counts) in [("contacts", p.objects.contacts), ("notes", p.objects.notes), ("tasks", p.objects.tasks)] {
            prop_assert_eq!(counts.rows_in, counts.loaded + counts.merged + counts.held, "{}", name);
        }
        // Held rows are in the review queue, one item each, with their cells.
        let held = p.review.iter().filter(|i| i.held).count() as u64;
        let o = p.objects;
        prop_assert_eq!(held, o.contacts.held + o.notes.held + o.tasks.held);
        prop_assert!(p.review.iter().filter(|i| i.held).all(|i| !i.record.is_empty()));
        prop_assert_eq!(p.contacts.len() as u64, o.contacts.loaded);
        prop_assert_eq!(p.notes.len() as u64, o.notes.loaded);
    }

    #[test]
    fn bundle_round_trip_is_lossless_and_deterministic(c in rows(8, 15), n in rows(4, 15), t in rows(5, 6)) {
        let input = files(&c, &n, &t);
        let p = prepare(&input, &options()).unwrap();
        let bytes = bundle::to_bytes(&p).unwrap();
        let again = bundle::to_bytes(&prepare(&input, &options()).unwrap()).unwrap();
        prop_assert_eq!(&bytes, &again);
        let mut reader = bundle::Reader::open(&bytes[..]).unwrap();
        prop_assert_eq!(reader.manifest(), &bundle::Manifest { content_sha256: reader.manifest().content_sha256.clone(), ..bundle::manifest(&p) });
        let (mut accounts, mut contacts, mut notes, mut tasks, mut review) = (vec![], vec![], vec![], vec![], vec![]);
        while let Some(r) = reader.next_record().unwrap() {
            match r {
                Record::Account(x) => accounts.push(x),
                Record::Contact(x) => contacts.push(x),
                Record::Note(x) => notes.push(x),
                Record::Task(x) => tasks.push(x),
                Record::Review(x) => review.push(x),
                Record::Appointment(_) | Record::Template(_) => {}
            }
        }
        prop_assert_eq!(accounts, p.accounts);
        prop_assert_eq!(contacts, p.contacts);
        prop_assert_eq!(notes, p.notes);
        prop_assert_eq!(tasks, p.tasks);
        prop_assert_eq!(review, p.review);
    }

    /// The streaming path (notes built one at a time, never held) writes the same bytes.
    #[test]
    fn streamed_notes_give_the_same_bundle(c in rows(8, 15), n in rows(4, 25), t in rows(5, 6)) {
        let input = files(&c, &n, &t);
        let held = bundle::to_bytes(&prepare(&input, &options()).unwrap()).unwrap();
        let streamed = prep::prepare::prepare_with(&input, &options(), |p, notes| {
            assert!(p.notes.is_empty(), "the streaming path holds no notes");
            let mut out = Vec::new();
            bundle::write_streaming(&p, notes, &mut out)?;
            // Compressed on a thread of its own (the CLI), the same bytes again.
            let mut threaded = Vec::new();
            bundle::write_streaming_threaded(&p, notes, &mut threaded)?;
            assert_eq!(out, threaded, "threaded writer");
            Ok(out)
        })
        .unwrap();
        prop_assert_eq!(held, streamed);
    }
}
