//! Operator mistakes and hostile loads over real HTTP (issue 9): two pushes at once, a push
//! whose journal is gone, one oversize record, a long template name, and answers that never
//! come back. Each must leave the account as one clean push would, or fail only the record
//! concerned, saying why.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::{Value, json};

fn journal_of(bundle: &Path) -> PathBuf {
    bundle.with_file_name("sample.bundle.journal.jsonl")
}

#[test]
fn a_second_push_of_the_same_bundle_refuses_while_the_first_runs() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = prepare(&sample(), dir.path());
    let clean = clean_run(&bundle);
    let sb = Sandbox::start(config(ready_seed(&bundle), FAST));
    let t = target(&sb.url(), FAST);
    let b = bundle.to_str().unwrap();
    let push = args(&["push", b, "--default-owner", "pat@agency.example"], &t);
    let mut first = loader_cmd(&push)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let journal = journal_of(&bundle);
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&journal).map_or(0, |j| j.lines().count()) < 3 {
        assert!(started.elapsed().as_secs() < 30, "the first push started");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let second = loader(&push);
    let still_running = first.try_wait().unwrap().is_none();
    assert!(still_running, "the first push was still running");
    assert_eq!(second.status.code(), Some(1), "{}", text(&second));
    assert!(
        text(&second).contains("in use by another loader"),
        "{}",
        text(&second)
    );
    assert_eq!(first.wait().unwrap().code(), Some(3));
    let after = canonical(&sb.state());
    assert!(
        after == clean,
        "{}",
        first_difference(&clean, &after).unwrap_or_default()
    );
}

/// `POST` to the sandbox's API, as another integration (or a person) would.
fn post(sb: &Sandbox, path: &str, body: Value) -> Value {
    send(sb, reqwest::Method::POST, path, body)
}

fn send(sb: &Sandbox, method: reqwest::Method, path: &str, body: Value) -> Value {
    let url = format!("{}{path}", sb.url());
    sb.rt.block_on(async {
        reqwest::Client::new()
            .request(method, url)
            .header("Authorization", format!("Token token={KEY}"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    })
}

#[test]
fn a_push_whose_journal_is_gone_makes_no_second_copy_and_verify_finds_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = prepare(&sample(), dir.path());
    let clean = clean_run(&bundle);
    let sb = Sandbox::start(config(ready_seed(&bundle), FAST));
    let o = push(&bundle, &sb, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    // The journal is lost (deleted, or the push runs on another machine).
    std::fs::remove_file(journal_of(&bundle)).unwrap();
    let o = push(&bundle, &sb, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        text(&o).contains("already in Freshsales (an earlier load's copy)"),
        "{}",
        text(&o)
    );
    let after = canonical(&sb.state());
    assert!(
        after == clean,
        "{}",
        first_difference(&clean, &after).unwrap_or_default()
    );
    let o = verify(&bundle, &sb);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("0 duplicates"), "{}", text(&o));

    // A second copy of a loaded note and of a loaded task appears (someone re-imported by
    // hand): verify reports both as duplicates.
    let state = sb.state();
    let note = state["notes"][0].clone();
    post(
        &sb,
        "/notes",
        json!({"note": {"description": note["description"], "targetable_type": "Contact",
                        "targetable_id": note["targetable_id"]}}),
    );
    let task = state["tasks"][0].clone();
    post(
        &sb,
        "/tasks",
        json!({"task": {"title": task["title"], "description": task["description"],
                        "due_date": task["due_date"], "targetable_type": "Contact",
                        "targetable_id": task["targetable_id"]}}),
    );
    let o = verify(&bundle, &sb);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("2 duplicates"), "{}", text(&o));
    assert!(
        text(&o).contains("values read back match what was sent"),
        "{}",
        text(&o)
    );

    // Someone changes a loaded task's due date, description and owner: verify names each.
    let task = &state["tasks"][1];
    let other_user = state["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] != task["owner_id"])
        .unwrap()["id"]
        .clone();
    send(
        &sb,
        reqwest::Method::PUT,
        &format!("/tasks/{}", task["id"]),
        json!({"task": {"due_date": "2031-01-01T12:00:00Z", "description": "changed",
                        "owner_id": other_user}}),
    );
    let o = verify(&bundle, &sb);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    for field in ["due_date", "description", "owner_id"] {
        assert!(
            text(&o).contains(&format!(" {field}: expected")),
            "{field}: {}",
            text(&o)
        );
    }
}

#[test]
fn answers_that_never_come_back_stay_in_doubt_and_the_next_push_settles_them() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = prepare(&sample(), dir.path());
    let clean = clean_run(&bundle);
    let mut cfg = config(ready_seed(&bundle), FAST);
    // Every note create is cut off before it is applied; every other call is answered.
    cfg.faults.reset_before_apply = 1.0;
    cfg.faults.only = vec!["POST /notes".into()];
    let sb = Sandbox::start(cfg);
    let o = push(&bundle, &sb, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("records are in doubt"), "{}", text(&o));
    let run = dir.path().join("sample.bundle.load");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("report-notes.json")).unwrap())
            .unwrap();
    assert_eq!(report["failed"], 0, "nothing refused a note: {report}");
    assert!(report["in_doubt"].as_u64().unwrap() > 400, "{report}");
    let errors = std::fs::read_to_string(run.join("errors.csv")).unwrap();
    let notes: Vec<&str> = errors.lines().filter(|l| l.starts_with("notes,")).collect();
    assert!(
        notes.iter().all(|l| l.contains("in doubt, not refused")),
        "{errors}"
    );
    // The network heals: the next push settles every note, once.
    sb.sb.as_ref().unwrap().set_faults(Default::default());
    let o = push(&bundle, &sb, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let after = canonical(&sb.state());
    assert!(
        after == clean,
        "{}",
        first_difference(&clean, &after).unwrap_or_default()
    );
}

/// Writes `files` into a fresh folder and prepares it with `extra` arguments.
fn prepare_files(dir: &Path, files: &[(&str, String)], extra: &[&str]) -> PathBuf {
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    for (name, text) in files {
        std::fs::write(input.join(name), text).unwrap();
    }
    let out = dir.join("small.bundle.jsonl.gz");
    let mut a = vec![
        "prepare",
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--confirmed-by",
        "Test Customer",
        "--time-zone",
        "America/Chicago",
    ];
    a.extend_from_slice(extra);
    let o = loader(&a);
    assert!(o.status.success(), "{}", text(&o));
    out
}

const CONTACTS: &str =
    "Contact ID,First Name,Last Name,Email\n1,Ann,Lee,ann@example.com\n2,Bob,Ray,bob@example.com\n";

#[test]
fn an_oversize_note_is_held_at_prepare_and_a_413_fails_only_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "x".repeat(3 << 20);
    let notes = format!(
        "Contact ID,Email,Date,Note\n1,ann@example.com,2021-03-04,{huge}\n2,bob@example.com,2021-03-05,Called back\n"
    );
    let files = [("Contacts.csv", CONTACTS.to_string()), ("Notes.csv", notes)];
    // Held by default: longer than the note limit.
    let held = prepare_files(&dir.path().join("a"), &files, &[]);
    let o = loader(&["inspect", held.to_str().unwrap(), "--json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["objects"]["notes"]["held"], 1, "{v}");
    assert_eq!(v["objects"]["notes"]["loaded"], 1);
    assert_eq!(v["review"]["invalid_value"], 1);

    // With the limit raised past what the account takes, Freshsales answers 413 for that
    // one note, and the load goes on.
    let bundle = prepare_files(&dir.path().join("b"), &files, &["--limit", "note=9000000"]);
    let sb = Sandbox::start(config(ready_seed(&bundle), FAST));
    let t = target(&sb.url(), FAST);
    let o = loader(&args(&["push", bundle.to_str().unwrap()], &t));
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let errors =
        std::fs::read_to_string(dir.path().join("b/small.bundle.load/errors.csv")).unwrap();
    assert_eq!(errors.lines().count(), 2, "one failed record: {errors}");
    assert!(
        errors.contains("413") && errors.contains("too large"),
        "{}",
        &errors[..errors.len().min(400)]
    );
    let state = sb.state();
    assert_eq!(state["contacts"].as_array().unwrap().len(), 2);
    let notes = state["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "the other note loaded");
    assert!(
        notes[0]["description"]
            .as_str()
            .unwrap()
            .ends_with("Called back")
    );
}

#[test]
fn a_very_long_template_name_still_gets_its_file_in_the_manual_pack() {
    let dir = tempfile::tempdir().unwrap();
    let name = "Spring open house invitation ".repeat(14);
    let templates = format!(
        "Name,Folder,Subject,Body\n\"{}\",Events,Open house,\"<p>Hello</p>\"\n",
        name.trim()
    );
    let bundle = prepare_files(
        dir.path(),
        &[
            ("Contacts.csv", CONTACTS.to_string()),
            ("Templates.csv", templates),
        ],
        &[],
    );
    let sb = Sandbox::start(config(ready_seed(&bundle), FAST));
    let t = target(&sb.url(), FAST);
    let o = loader(&args(&["push", bundle.to_str().unwrap()], &t));
    assert!(o.status.success(), "{}", text(&o));
    let pack = dir.path().join("small.bundle.load/manual");
    let files: Vec<_> = std::fs::read_dir(pack.join("templates"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].starts_with("001 Spring open house") && files[0].len() < 100);
    let checklist = std::fs::read_to_string(pack.join("CHECKLIST.md")).unwrap();
    assert!(
        checklist.contains(name.trim()),
        "the full name is in the checklist"
    );
}
