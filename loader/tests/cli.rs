//! The CLI contract other tools script against: `loader prepare` and `loader inspect`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn loader(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loader"))
        .args(args)
        .output()
        .expect("loader runs")
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample/allclients-export")
}

fn prepare(out: &Path, extra: &[&str]) -> Output {
    let input = sample();
    let mut args = vec![
        "prepare",
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    loader(&args)
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn prepare_then_inspect_json_follows_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b.jsonl.gz");
    ok(&prepare(
        &out,
        &[
            "--confirmed-by",
            "Pat Owner",
            "--confirmed-at",
            "2026-11-25T12:00:00Z",
        ],
    ));
    for side in [
        "b.scope.md",
        "b.scope.json",
        "b.mapping.json",
        "b.review/orphan_note.csv",
    ] {
        assert!(dir.path().join(side).exists(), "{side}");
    }
    let stdout = ok(&loader(&["inspect", out.to_str().unwrap(), "--json"]));
    assert_eq!(stdout.trim().lines().count(), 1, "exactly one JSON object");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["format_version"], 2);
    assert_eq!(v["content_sha256"].as_str().unwrap().len(), 64);
    let contacts = v["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["file"] == "Contacts.csv")
        .unwrap();
    assert_eq!(contacts["kind"], "contacts");
    assert_eq!(contacts["encoding"], "windows-1252");
    assert_eq!(contacts["rows"], 400);
    assert_eq!(contacts["sha256"].as_str().unwrap().len(), 64);
    for kind in ["contacts", "notes", "tasks", "templates"] {
        let o = &v["objects"][kind];
        let n = |k: &str| o[k].as_u64().unwrap();
        assert_eq!(
            n("rows_in"),
            n("loaded") + n("merged") + n("held"),
            "{kind}"
        );
    }
    assert!(v["objects"]["accounts"]["loaded"].as_u64().unwrap() > 0);
    assert!(v["tags"].as_array().unwrap().iter().any(|t| t == "VIP"));
    assert!(
        v["custom_fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["label"] == "Anniversary" && f["type"] == "date")
    );
    assert!(
        v["owners"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["source"] == "pat@agency.example" && o["status"] == "in_users_file")
    );
    for reason in [
        "orphan_note",
        "orphan_task",
        "duplicate_email",
        "invalid_email",
        "missing_email",
        "invalid_value",
        "unknown_owner",
        "ambiguous_date",
    ] {
        assert!(
            v["review"][reason].as_u64().unwrap() > 0,
            "{reason} is produced by the sample"
        );
    }
    assert_eq!(v["confirmation"]["confirmed_by"], "Pat Owner");
    let readable = ok(&loader(&["inspect", out.to_str().unwrap()]));
    assert!(readable.contains("(verified)") && readable.contains("orphan_note"));
}

#[test]
fn same_confirmation_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.jsonl.gz");
    let b = dir.path().join("b.jsonl.gz");
    let args = [
        "--confirmed-by",
        "X",
        "--confirmed-at",
        "2026-01-02T03:04:05Z",
    ];
    ok(&prepare(&a, &args));
    ok(&prepare(&b, &args));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    // The saved mapping re-applied changes nothing.
    let mapping = dir.path().join("a.mapping.json");
    let c = dir.path().join("c.jsonl.gz");
    let mut with_mapping = vec!["--mapping", mapping.to_str().unwrap()];
    with_mapping.extend_from_slice(&args);
    ok(&prepare(&c, &with_mapping));
    let inspect = |p: &Path| -> serde_json::Value {
        serde_json::from_str(&ok(&loader(&["inspect", p.to_str().unwrap(), "--json"]))).unwrap()
    };
    let (va, vc) = (inspect(&a), inspect(&c));
    assert_eq!(va["objects"], vc["objects"]);
    assert_eq!(va["custom_fields"], vc["custom_fields"]);
}

#[test]
fn tampered_and_truncated_bundles_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.jsonl.gz");
    ok(&prepare(&out, &[]));
    let bytes = std::fs::read(&out).unwrap();
    let cut = dir.path().join("cut.jsonl.gz");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let o = loader(&["inspect", cut.to_str().unwrap(), "--json"]);
    assert!(!o.status.success());
    assert!(o.stdout.is_empty(), "no JSON for a bad bundle");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cut.jsonl.gz") && (err.contains("truncated") || err.contains("cut short")),
        "{err}"
    );

    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::MultiGzDecoder::new(&bytes[..]),
        &mut text,
    )
    .unwrap();
    let edited = text.replacen("\"loaded\":", "\"loaded\":1", 1);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, edited.as_bytes()).unwrap();
    let tampered = dir.path().join("tampered.jsonl.gz");
    std::fs::write(&tampered, gz.finish().unwrap()).unwrap();
    let o = loader(&["inspect", tampered.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("altered"));
}

#[test]
fn bad_arguments_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.jsonl.gz");
    let o = loader(&[
        "prepare",
        "--input",
        "/nonexistent/folder",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/folder"));
    let bad_mapping = dir.path().join("m.json");
    std::fs::write(&bad_mapping, "{\"format_version\": 1, \"columns\": {\"contacts\": [{\"source\": \"Email\", \"target\": \"shoe_size\"}]}}").unwrap();
    let o = prepare(&out, &["--mapping", bad_mapping.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("m.json") && err.contains("shoe_size"), "{err}");
    let o = prepare(
        &out,
        &["--confirmed-by", "A", "--confirmed-at", "yesterday"],
    );
    assert!(!o.status.success());
}

#[test]
fn loader_sandbox_prints_its_url_and_serves_the_api() {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = Command::new(env!("CARGO_BIN_EXE_loader"))
        .args([
            "sandbox",
            "--port",
            "0",
            "--api-key",
            "k1",
            "--hourly-limit",
            "5",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("loader sandbox starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let hostport = url
        .strip_prefix("http://")
        .and_then(|u| u.strip_suffix("/crm/sales/api"))
        .unwrap_or_else(|| panic!("unexpected URL {url}"));
    let get = |key: &str| {
        let mut s = std::net::TcpStream::connect(hostport).unwrap();
        write!(
            s,
            "GET /crm/sales/api/selector/owners HTTP/1.1\r\nHost: {hostport}\r\nAuthorization: Token token={key}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        answer
    };
    let ok = get("k1");
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(ok.contains("\"users\""), "{ok}");
    assert!(get("wrong").starts_with("HTTP/1.1 401"));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_blocking_mapping_cannot_be_confirmed_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("m.json");
    std::fs::write(
        &mapping,
        r#"{"format_version":1,"columns":{"contacts":[
            {"source":"Company","target":"email"},{"source":"Email","target":"ignore"}]}}"#,
    )
    .unwrap();
    let out = dir.path().join("b.jsonl.gz");
    let m = mapping.to_str().unwrap();
    let run = prepare(&out, &["--mapping", m, "--confirmed-by", "Pat"]);
    assert_eq!(run.status.code(), Some(1));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("cannot confirm") && err.contains("“Company” → Email: 0 of"),
        "{err}"
    );
    assert!(!out.exists() && !dir.path().join("b.partial").exists());
    // As a draft it is written, and says what blocks.
    ok(&prepare(&out, &["--mapping", m]));
    assert!(out.exists());
}

#[test]
fn corrections_from_json_or_an_edited_review_csv_give_the_same_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let draft = dir.path().join("draft/b.jsonl.gz");
    ok(&prepare(&draft, &[]));
    // The customer fixes the first invalid email of the queue in a spreadsheet.
    let queue_path = dir.path().join("draft/b.review/invalid_email.csv");
    let queue = std::fs::read_to_string(&queue_path).unwrap();
    assert!(
        queue.starts_with('\u{feff}'),
        "the queue CSV has a BOM for Excel"
    );
    let mut r = csv::Reader::from_reader(queue.trim_start_matches('\u{feff}').as_bytes());
    let headers = r.headers().unwrap().clone();
    assert!(
        headers.iter().any(|h| h == "First Name"),
        "one column per source column: {headers:?}"
    );
    let first = r.records().next().unwrap().unwrap();
    let at = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (file, row, column, bad) = (
        first[at("File")].to_string(),
        first[at("Row")].parse::<u64>().unwrap(),
        first[at("Column")].to_string(),
        first[at("Value")].to_string(),
    );
    let edited = queue.replacen(&format!(",{bad},"), ",fixed.by.csv@example.com,", 2);
    let csv_fix = dir.path().join("fixed.csv");
    std::fs::write(&csv_fix, edited).unwrap();
    let json_fix = dir.path().join("fixes.json");
    std::fs::write(
        &json_fix,
        serde_json::json!({"format_version": 1, "cells": [{
            "file": file, "row": row, "column": column, "original": bad,
            "value": "fixed.by.csv@example.com"}]})
        .to_string(),
    )
    .unwrap();
    let confirm = [
        "--confirmed-by",
        "Pat",
        "--confirmed-at",
        "2026-11-25T12:00:00Z",
    ];
    let mut bundles = Vec::new();
    for (name, fix) in [("csv", &csv_fix), ("json", &json_fix)] {
        let out = dir.path().join(format!("{name}/b.jsonl.gz"));
        let mut args = vec!["--corrections", fix.to_str().unwrap()];
        args.extend(confirm);
        ok(&prepare(&out, &args));
        bundles.push(std::fs::read(&out).unwrap());
    }
    assert!(
        bundles[0] == bundles[1],
        "the CSV and the JSON make the same bundle"
    );
    let (manifest, _) = prep::bundle::verify(&bundles[0][..]).unwrap();
    assert_eq!(manifest.corrections.cells.len(), 1);
    assert_eq!(manifest.corrections.cells[0].original, bad);
    let draft = prep::bundle::verify(&std::fs::read(&draft).unwrap()[..])
        .unwrap()
        .0;
    assert_eq!(
        manifest.objects.contacts.held + 1,
        draft.objects.contacts.held
    );
    // A correction made for another export is refused by file, row and column.
    let stale = dir.path().join("stale.json");
    std::fs::write(
        &stale,
        serde_json::json!({"format_version": 1, "cells": [{
            "file": file, "row": row, "column": column, "original": "not what it says",
            "value": "x@example.com"}]})
        .to_string(),
    )
    .unwrap();
    let run = prepare(
        &dir.path().join("stale/b.jsonl.gz"),
        &["--corrections", stale.to_str().unwrap()],
    );
    assert_eq!(run.status.code(), Some(1));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains(&format!("{file}: row {row}, column '{column}'")),
        "{err}"
    );
}
