use super::*;

#[test]
fn an_export_too_large_for_a_tab_is_refused_with_the_way_out() {
    let mut ws = Workspace::new(None).unwrap();
    ws.add_file(
        "Contacts.csv",
        b"Email,First Name\r\nada@example.com,Ada\r\n".to_vec(),
    );
    ws.add_file("Notes.csv", vec![b'x'; 3 * 1024 * 1024]);
    ws.set_capacity(2 * 1024 * 1024);
    let e = ws.analyse(None).unwrap_err().to_string();
    assert!(
        e.starts_with("Notes.csv: this export is 4 MB in all"),
        "{e}"
    );
    assert!(e.contains("loader prepare"), "{e}");
    ws.remove_file("Notes.csv");
    assert!(ws.analyse(None).is_ok(), "within the limit it prepares");
}

#[test]
fn contacts_weigh_more_than_notes_in_a_tab() {
    let rows = |header: &str, row: &str| {
        let mut b = header.as_bytes().to_vec();
        while b.len() < 1_000_000 {
            b.extend_from_slice(row.as_bytes());
        }
        b
    };
    let mut ws = Workspace::new(None).unwrap();
    ws.set_memory(5 * 1024 * 1024);
    ws.add_file(
        "Contacts.csv",
        b"Email,First Name\r\nada@example.com,Ada\r\n".to_vec(),
    );
    // A megabyte of notes fits the 5 MB this tab is given (2 bytes a byte)…
    ws.add_file(
        "Notes.csv",
        rows("Email,Note\r\n", "ada@example.com,called back\r\n"),
    );
    assert!(ws.analyse(None).is_ok(), "notes fit");
    // …a megabyte of contacts (6.5 bytes a byte) does not: refused before anything is
    // built, naming the file and the way out.
    ws.add_file(
        "Contacts.csv",
        rows("Email,First Name\r\n", "ada@example.com,Ada\r\n"),
    );
    let e = ws.analyse(None).unwrap_err().to_string();
    assert!(
        e.starts_with("Contacts.csv: this export would need about 8 MB of memory"),
        "{e}"
    );
    assert!(e.contains("loader prepare"), "{e}");
    ws.remove_file("Contacts.csv");
    ws.add_file(
        "Contacts.csv",
        b"Email,First Name\r\nada@example.com,Ada\r\n".to_vec(),
    );
    assert!(
        ws.analyse(None).is_ok(),
        "the estimate follows the files held"
    );
}

#[test]
fn analyse_edit_and_bundle() {
    let mut ws = Workspace::new(None).unwrap();
    ws.add_file(
        "Contacts.csv",
        b"Email,First Name,Fax\r\nada@example.com,Ada,555\r\nbad@,Bo,\r\n".to_vec(),
    );
    ws.add_file(
        "Notes.csv",
        b"Email,Note\r\nada@example.com,<b>hi</b>\r\nzed@example.com,lost\r\n".to_vec(),
    );
    let a = ws.analyse(None).unwrap();
    assert_eq!(a.summary.objects.contacts.loaded, 1);
    assert_eq!(a.summary.review["orphan_note"], 1);
    let mut m = a.mapping.clone();
    for c in m.columns.get_mut(&prep::kind::FileKind::Contacts).unwrap() {
        if c.source == "Fax" {
            c.target = prep::mapping::Target::Ignore;
        }
    }
    let json = serde_json::to_string(&m).unwrap();
    let b = ws.analyse(Some(&json)).unwrap();
    assert!(b.summary.custom_fields.is_empty());
    let bytes = ws
        .bundle(Some(&json), "Ada", "2026-01-01T00:00:00Z")
        .unwrap();
    let (manifest, _) = bundle::verify(&bytes[..]).unwrap();
    assert_eq!(manifest.confirmation.unwrap().confirmed_by, "Ada");
    assert!(ws.bundle(None, " ", "x").is_err());
    let c = ws
        .confirm(Some(&json), "Ada", "2026-01-01T00:00:00Z")
        .unwrap();
    assert_eq!(c.bundle, bytes);
    let (manifest, _) = bundle::verify(&bytes[..]).unwrap();
    assert!(c.report.contains("Confirmed by **Ada**"));
    assert!(c.report.contains(&manifest.content_sha256));
    assert!(ws.confirm(None, "", "x").is_err());
    assert!(
        ws.review_csv(None, "orphan_note")
            .unwrap()
            .contains("zed@example.com")
    );
    assert!(ws.review_csv(None, "nope").is_err());
    ws.remove_file("Contacts.csv");
    assert!(ws.analyse(None).is_err());
}

#[test]
fn requests_dispatch_to_the_workspace() {
    let mut ws = Workspace::new(None).unwrap();
    let add = serde_json::from_str(r#"{"op":"add","name":"Contacts.csv"}"#).unwrap();
    let bytes = b"Email,Groups\r\nada@example.com,Sphere\r\n".to_vec();
    assert_eq!(ws.handle(add, Some(bytes)).unwrap(), Answer::default());
    let label = Request::GroupsField {
        label: "Circles".into(),
    };
    ws.handle(label, None).unwrap();
    let mapping = serde_json::to_string(&Mapping::default()).unwrap();
    let a = ws
        .handle(
            Request::Analyse {
                mapping: mapping.clone(),
            },
            None,
        )
        .unwrap();
    let a: Analysis = serde_json::from_str(&a.text.unwrap()).unwrap();
    assert!(a.summary.custom_fields.iter().any(|d| d.label == "Circles"));
    let c = ws
        .handle(
            Request::Confirm {
                mapping: mapping.clone(),
                confirmed_by: "Ada".into(),
                confirmed_at: "2026-01-01T00:00:00Z".into(),
            },
            None,
        )
        .unwrap();
    assert_eq!(
        c.bytes.unwrap(),
        ws.bundle(Some(&mapping), "Ada", "2026-01-01T00:00:00Z")
            .unwrap()
    );
    let q = Request::Queue {
        mapping,
        reason: "nope".into(),
    };
    assert!(ws.handle(q, None).is_err());
    ws.handle(
        Request::Remove {
            name: "Contacts.csv".into(),
        },
        None,
    )
    .unwrap();
    assert!(ws.file_names().is_empty());
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in files {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Refused in plain words and not counted, whether the files are kept or read as they
/// are added (the worker's way): binary data, alone or in a zip, and a zip that does
/// not open. A refused file leaves the one of its name as it was. A CSV with a broken
/// quote is an export all the same: added, and named by the preparation.
#[test]
fn a_file_that_is_not_an_export_is_refused_and_not_counted() {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend((0..2000u32).map(|i| (i % 7) as u8));
    let contacts = b"Email\r\na@x.com\r\n".to_vec();
    for read_when_added in [false, true] {
        let mut ws = Workspace::new(None).unwrap();
        let given: std::rc::Rc<std::cell::RefCell<std::collections::BTreeMap<String, Vec<u8>>>> =
            std::rc::Rc::default();
        let add = |ws: &mut Workspace, name: &str, bytes: &[u8]| {
            given.borrow_mut().insert(name.into(), bytes.to_vec());
            ws.add_export_file(name, bytes.to_vec())
                .map_err(|e| e.to_string())
        };
        if read_when_added {
            let from = std::rc::Rc::clone(&given);
            ws.set_reread(Box::new(move |name: &str| {
                from.borrow()
                    .get(name)
                    .cloned()
                    .ok_or_else(|| "gone".into())
            }));
        }
        let e = add(&mut ws, "photo.png", &png).unwrap_err();
        assert!(
            e.starts_with("photo.png: not added: it is not a CSV"),
            "{e}"
        );
        let zipped = zip_of(&[("Contacts.csv", &contacts), ("logo.csv", &png)]);
        let e = add(&mut ws, "export.zip", &zipped).unwrap_err();
        assert!(
            e.starts_with("export.zip: not added: it is not a CSV"),
            "{e}"
        );
        // Binary data after a file that cannot be read (its broken quote found first).
        let broken: &[u8] = b"Email,Note\r\na@x.com,\"never closed\r\n";
        let zipped = zip_of(&[("A notes.csv", broken), ("logo.csv", &png)]);
        let e = add(&mut ws, "export.zip", &zipped).unwrap_err();
        assert!(
            e.starts_with("export.zip: not added: it is not a CSV"),
            "{e}"
        );
        let e = add(&mut ws, "broken.zip", b"PK\x03\x04 not a zip").unwrap_err();
        assert!(e.starts_with("broken.zip: not added: "), "{e}");
        assert!(
            !e.contains("it is not a CSV"),
            "a zip that does not open says so: {e}"
        );
        assert!(ws.file_names().is_empty());

        add(&mut ws, "Contacts.csv", &contacts).unwrap();
        let before = ws.bundle(None, "Ada", "2026-01-01T00:00:00Z").unwrap();
        let e = add(&mut ws, "Contacts.csv", &png).unwrap_err();
        assert!(e.starts_with("Contacts.csv: not added"), "{e}");
        given
            .borrow_mut()
            .insert("Contacts.csv".into(), contacts.clone());
        assert_eq!(ws.file_names(), ["Contacts.csv"]);
        assert_eq!(ws.total_bytes(), contacts.len() as u64);
        assert_eq!(
            ws.bundle(None, "Ada", "2026-01-01T00:00:00Z").unwrap(),
            before,
            "the file refused left the one added before as it was"
        );

        add(
            &mut ws,
            "Notes.csv",
            b"Email,Note\r\na@x.com,\"never closed\r\n",
        )
        .unwrap();
        assert_eq!(ws.file_names(), ["Contacts.csv", "Notes.csv"]);
        let e = ws
            .bundle(None, "Ada", "2026-01-01T00:00:00Z")
            .unwrap_err()
            .to_string();
        assert!(e.contains("Notes.csv") && e.contains("never closed"), "{e}");
    }
}

#[test]
fn folder_entries_are_named_like_the_cli() {
    assert_eq!(
        folder_entry_name("export/templates/Welcome.html").as_deref(),
        Some("templates/Welcome.html")
    );
    assert_eq!(
        folder_entry_name("export/Contacts.CSV").as_deref(),
        Some("Contacts.CSV")
    );
    assert_eq!(folder_entry_name("export/.hidden/x.csv"), None);
    assert_eq!(folder_entry_name("export/.DS_Store"), None);
    assert_eq!(folder_entry_name("export/images/banner.jpg"), None);
    assert_eq!(folder_entry_name("Contacts.csv"), None);
}

#[test]
fn groups_field_label_feeds_the_proposal() {
    let mut ws = Workspace::new(None).unwrap();
    ws.add_file(
        "Contacts.csv",
        b"Email,Groups\r\nada@example.com,Sphere\r\n".to_vec(),
    );
    ws.set_groups_field_label("  ");
    assert_eq!(ws.settings().groups_field_label, "AllClients Groups");
    ws.set_groups_field_label("Client Groups");
    let a = ws.analyse(None).unwrap();
    assert!(
        a.summary
            .custom_fields
            .iter()
            .any(|d| d.label == "Client Groups")
    );
    assert_eq!(ws.file_names(), vec!["Contacts.csv".to_string()]);
    assert!(ws.total_bytes() > 0);
}
