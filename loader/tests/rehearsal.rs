//! The loader over real HTTP against the sandbox, run as the engineer runs it (the `loader`
//! binary, the key in the environment): the whole journey and its undo, the preflight's
//! refusals, and the API key's absence from every file written.

mod common;

use std::path::Path;

use common::*;
use serde_json::{Value, json};

/// The sample's first contact with a company, already in the account with a tag and a job
/// title of its own; its company too; and a contact the load must not touch.
fn with_existing_records(mut seed: fs_sandbox::Seed) -> fs_sandbox::Seed {
    let existing = json!([
        {"first_name": "Manuel", "last_name": "Smith", "emails": "mauel.smith1@mail.example.org",
         "job_title": "Broker", "tags": ["VIP"]},
        {"first_name": "Keep", "last_name": "Me", "emails": "keep@other.example", "tags": ["Other"]}
    ]);
    seed.contacts = serde_json::from_value(existing).unwrap();
    seed.sales_accounts = serde_json::from_value(json!([{"name": "Blue Sky Insurance"}])).unwrap();
    seed
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn contact<'a>(state: &'a Value, email: &str) -> &'a Value {
    state["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["email"]
                .as_str()
                .is_some_and(|e| e.eq_ignore_ascii_case(email))
        })
        .unwrap_or_else(|| panic!("{email} is in the account"))
}

#[test]
fn push_verify_rollback_leaves_the_account_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = prepare(&sample(), dir.path());
    let sb = Sandbox::start(config(with_existing_records(ready_seed(&bundle)), FAST));
    let before = canonical(&sb.state());
    let t = target(&sb.url(), FAST);
    let b = bundle.to_str().unwrap();

    // The sample has an owner with no user: the plan blocks until the engineer decides.
    let o = loader(&args(&["plan", b], &t));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("owner 'Jordan Unknown' has no Freshsales user"),
        "{}",
        text(&o)
    );
    let o = push(&bundle, &sb, &[]);
    // Six contacts have neither email nor mobile: the sandbox refuses them, as the plan warned.
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let run = dir.path().join("sample.bundle.load");
    let errors = std::fs::read_to_string(run.join("errors.csv")).unwrap();
    assert_eq!(errors.lines().count(), 1 + 6, "{errors}");
    assert!(errors.contains("email or a mobile number"), "{errors}");

    let after = sb.state();
    let contacts = after["contacts"].as_array().unwrap().len();
    assert_eq!(
        contacts,
        2 + 370 - 1,
        "the existing contact was updated, not duplicated"
    );
    let manuel = contact(&after, "mauel.smith1@mail.example.org");
    let tags: Vec<&str> = manuel["tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        tags.contains(&"VIP"),
        "tags already on the contact are kept: {tags:?}"
    );
    assert!(tags.len() > 1, "and the export's are added: {tags:?}");
    assert_eq!(
        contact(&after, "keep@other.example")["tags"],
        json!(["Other"])
    );
    assert_eq!(after["sales_accounts"].as_array().unwrap().len(), 8);
    for phase in ["accounts", "contacts", "notes", "tasks"] {
        let r: Value = serde_json::from_slice(
            &std::fs::read(run.join(format!("report-{phase}.json"))).unwrap(),
        )
        .unwrap();
        let expected = r["expected"].as_u64().unwrap();
        let accounted = r["created"].as_u64().unwrap()
            + r["updated"].as_u64().unwrap()
            + r["failed"].as_u64().unwrap()
            + r["skipped"]
                .as_object()
                .map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
        assert_eq!(
            accounted, expected,
            "{phase}: every record accounted for: {r}"
        );
    }

    let o = loader(&args(
        &["verify", b, "--default-owner", "pat@agency.example"],
        &t,
    ));
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("0 missing, 0 field mismatches"),
        "{}",
        text(&o)
    );

    // The journal belongs to this account: resuming it against another would skip records
    // that are not there.
    let other = Sandbox::start(config(ready_seed(&bundle), FAST));
    let o = push(&bundle, &other, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("records a load into"));
    assert_eq!(other.state()["contacts"], json!([]));

    let journal = dir.path().join("sample.bundle.journal.jsonl");
    let j = journal.to_str().unwrap();
    let o = loader(&args(&["rollback", j, "--dry-run"], &t));
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        canonical(&sb.state()),
        canonical(&after),
        "a dry run changes nothing"
    );
    let o = loader(&args(&["rollback", j], &t));
    assert!(o.status.success(), "{}", text(&o));
    let restored = canonical(&sb.state());
    assert!(
        restored == before,
        "rollback restores the account: {}",
        first_difference(&before, &restored).unwrap_or_default()
    );
    // Rolling back again finds everything done.
    let o = loader(&args(&["rollback", j], &t));
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(canonical(&sb.state()), before);
    // A rolled-back journal cannot be resumed (it would skip every record as loaded).
    let o = push(&bundle, &sb, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("was rolled back"));
    assert_eq!(canonical(&sb.state()), before);

    for f in files_under(dir.path()) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
            "the API key was written to {}",
            f.display()
        );
    }
}

/// A small deterministic generator for kill delays (no RNG crate needed for a test).
fn delays(seed: u64, n: usize, lo_ms: u64, hi_ms: u64) -> Vec<u64> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            lo_ms + (x >> 33) % (hi_ms - lo_ms)
        })
        .collect()
}

#[test]
fn a_push_killed_anywhere_resumes_to_the_clean_result() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = prepare(&sample(), dir.path());
    let clean = clean_run(&bundle);
    let sb = Sandbox::start(config(ready_seed(&bundle), FAST));
    let t = target(&sb.url(), FAST);
    let b = bundle.to_str().unwrap();
    let push = args(&["push", b, "--default-owner", "pat@agency.example"], &t);
    let mut kills = 0;
    for ms in delays(20261125, 16, 30, 600) {
        let mut child = loader_cmd(&push)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(ms));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL: no chance to flush or clean up
            kills += 1;
        }
        child.wait().unwrap();
    }
    let o = loader(&push);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    println!("the push was killed {kills} times before it could finish");
    assert!(kills >= 10, "the push was interrupted {kills} times");
    let resumed = canonical(&sb.state());
    assert!(
        resumed == clean,
        "after {kills} kills: {}",
        first_difference(&clean, &resumed).unwrap_or_default()
    );
    let o = loader(&args(
        &["verify", b, "--default-owner", "pat@agency.example"],
        &t,
    ));
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn faults_429_storms_and_lost_answers_do_not_change_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = prepare(&sample(), dir.path());
    let clean = clean_run(&bundle);
    // An hour lasts ten seconds on both sides.
    let scale = 360.0;
    let mut cfg = config(ready_seed(&bundle), scale);
    // 10 % of requests fail: server errors, resets before the change, and answers lost
    // after the change was committed (the case that duplicates notes in naive loaders).
    cfg.faults.error_5xx = 0.04;
    cfg.faults.reset_before_apply = 0.03;
    cfg.faults.lost_after_commit = 0.03;
    cfg.random_seed = 7;
    // And 429 storms: the account allows 500 calls an hour where the loader was told 1000
    // (another integration shares it). The loader's own pace (800 an hour) reaches 500
    // within every hour window on any machine that can make 50 calls a second (at 700 it
    // took 70, which two cores running the other tests beside did not always make), so
    // Retry-After, not its pacing, sets the speed.
    cfg.hourly_limit = 500;
    // Without X-RateLimit-Remaining (upstream may not send it) the loader cannot see the
    // wall coming: it meets it as 429s and waits as Retry-After says.
    cfg.rate_limit_headers.x_ratelimit_limit = false;
    cfg.rate_limit_headers.x_ratelimit_remaining = false;
    cfg.rate_limit_headers.x_ratelimit_reset = false;
    let sb = Sandbox::start(cfg);
    let o = loader(&args(
        &[
            "push",
            bundle.to_str().unwrap(),
            "--default-owner",
            "pat@agency.example",
        ],
        &target(&sb.url(), scale),
    ));
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let errors = std::fs::read_to_string(dir.path().join("sample.bundle.load/errors.csv")).unwrap();
    assert_eq!(
        errors.lines().count(),
        1 + 6,
        "only the six contacts the account refuses: {errors}"
    );
    let state = sb.state();
    let faults = state["counters"]["faults"].clone();
    let after = canonical(&state);
    assert!(
        after == clean,
        "with faults {faults}: {}",
        first_difference(&clean, &after).unwrap_or_default()
    );
    let total: u64 = faults
        .as_object()
        .map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
    assert!(total > 100, "faults were injected: {faults}");
    let limited: u64 = state["counters"]["rate_limited"]
        .as_object()
        .map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
    assert!(limited > 0, "the server throttled too");
}

#[test]
fn the_plan_lists_what_to_fix_and_push_refuses_until_then() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = prepare(&sample(), dir.path());
    let mut seed = ready_seed(&bundle);
    // An account that is not ready: a field missing, one of the wrong type, a dropdown
    // lacking a choice, and a team member never invited.
    seed.fields.contacts.retain(|f| f.label != "Anniversary");
    for f in &mut seed.fields.contacts {
        if f.label == "Referral Count" {
            f.kind = fs_sandbox::FieldKind::Text;
        }
        if f.label == "Membership Level" {
            f.choices.retain(|c| c != "Gold");
        }
    }
    seed.users.retain(|u| u.email != "lee@agency.example");
    let sb = Sandbox::start(config(seed, FAST));
    let t = target(&sb.url(), FAST);
    let b = bundle.to_str().unwrap();
    let o = loader(&args(
        &["plan", b, "--default-owner", "pat@agency.example"],
        &t,
    ));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for line in [
        "[ ] create field *Anniversary*, type Date, in Admin Settings → Contacts",
        "[ ] field *Referral Count* is of type text in Freshsales but the bundle needs Number",
        "[ ] add choices Gold to field *Membership Level*",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    // lee has no user, but a default owner was given: lee's records go to it, and the
    // reconciliation file says so.
    let owners = std::fs::read_to_string(dir.path().join("sample.bundle.load/owners.csv")).unwrap();
    assert!(
        owners
            .lines()
            .any(|l| l.starts_with("lee@agency.example,") && l.contains(",default_owner,")),
        "{owners}"
    );
    let o = loader(&args(&["plan", b], &t));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("owner 'lee@agency.example' (lee@agency.example) has no Freshsales user"),
        "{}",
        text(&o)
    );
    let o = push(&bundle, &sb, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("the preflight blocks this push"));
    let state = sb.state();
    assert_eq!(state["contacts"], json!([]), "nothing was written");
    let writes: u64 = state["counters"]["requests"]
        .as_object()
        .unwrap()
        .iter()
        // Searches are reads, though sent as POST.
        .filter(|(route, _)| !route.starts_with("GET") && !route.contains("filtered_search"))
        .filter_map(|(_, n)| n.as_u64())
        .sum();
    assert_eq!(writes, 0, "{}", state["counters"]);
}

#[test]
fn a_tampered_bundle_is_refused_before_any_call() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let bundle = prepare(&sample(), dir.path());
    let mut text_ = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&bundle).unwrap())
        .read_to_string(&mut text_)
        .unwrap();
    // Someone "fixes" a city in the confirmed bundle by hand.
    let tampered = text_.replacen("\"city\":\"Boston\"", "\"city\":\"Bostan\"", 1);
    assert_ne!(tampered, text_);
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&bundle).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(tampered.as_bytes()).unwrap();
    gz.finish().unwrap();
    let sb = Sandbox::start(config(ready_seed_unchecked(), FAST));
    let o = push(&bundle, &sb, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("is not a valid bundle"), "{err}");
    assert!(err.contains("does not match its SHA-256"), "{err}");
    assert_eq!(
        sb.state()["counters"]["total"],
        json!(0),
        "no call was made"
    );
}

/// A seed with just the users (the tampered bundle cannot be read for its fields).
fn ready_seed_unchecked() -> fs_sandbox::Seed {
    serde_json::from_value(json!({"users": [
        {"email": "pat@agency.example", "display_name": "Pat Owner", "is_active": true}
    ]}))
    .unwrap()
}

#[test]
fn create_fields_makes_missing_fields_where_the_account_allows_it() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = prepare(&sample(), dir.path());
    let mut seed = ready_seed(&bundle);
    seed.fields
        .contacts
        .retain(|f| !matches!(f.label.as_str(), "Anniversary" | "Membership Level"));
    let b = bundle.to_str().unwrap();
    let push = |sb: &Sandbox| {
        let t = target(&sb.url(), FAST);
        loader(&args(
            &[
                "push",
                b,
                "--default-owner",
                "pat@agency.example",
                "--create-fields",
            ],
            &t,
        ))
    };
    // Where the route is not there (the default: unverified upstream), a clear refusal.
    let closed = Sandbox::start(config(seed.clone(), FAST));
    let o = push(&closed);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("create the fields in Admin Settings"),
        "{}",
        text(&o)
    );
    assert_eq!(closed.state()["contacts"], json!([]));

    let mut cfg = config(seed, FAST);
    cfg.custom_field_creation = true;
    let open = Sandbox::start(cfg);
    let o = push(&open);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("created fields: Anniversary, Membership Level")
    );
    let fields = open.state()["fields"]["contacts"].clone();
    let level = fields
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["label"] == "Membership Level")
        .expect("created");
    assert_eq!(level["type"], "dropdown");
    assert!(level["choices"].as_array().unwrap().len() >= 3, "{level}");
    let o = loader(&args(
        &["verify", b, "--default-owner", "pat@agency.example"],
        &target(&open.url(), FAST),
    ));
    assert!(o.status.success(), "{}", text(&o));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

fn replace_in(file: &Path, from: &[u8], to: &[u8]) {
    let bytes = std::fs::read(file).unwrap();
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("text to replace");
    let mut out = bytes[..at].to_vec();
    out.extend_from_slice(to);
    out.extend_from_slice(&bytes[at + from.len()..]);
    std::fs::write(file, out).unwrap();
}

#[test]
fn a_later_export_sends_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let first = prepare(&sample(), &dir.path().join("first"));
    let sb = Sandbox::start(config(ready_seed(&first), FAST));
    let t = target(&sb.url(), FAST);
    let o = push(&first, &sb, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));

    // At cutover the customer exports again: one contact moved, one note was added.
    let later = dir.path().join("later-export");
    copy_dir(&sample(), &later);
    replace_in(&later.join("Contacts.csv"), b"9326 Main St", b"12 New Road");
    // A new contact on top: every other row moves down one, which is not a change.
    replace_in(
        &later.join("Contacts.csv"),
        b"Add Date,Edit Date\r\n",
        b"Add Date,Edit Date\r\n19999,New,Person,new.person@example.com,,,,,,,,,,,,,,,,,,,,,,,\r\n",
    );
    // A contact without email moved house, and a to-do got a new summary: neither has an
    // upsert key, so they must be updated in place, not created a second time.
    replace_in(
        &later.join("Contacts.csv"),
        b"9755 Main St",
        b"1 Harbour View",
    );
    replace_in(
        &later.join("Tasks.csv"),
        b"50000;10321;mrten.garcia321@example.com;Send CMA;",
        b"50000;10321;mrten.garcia321@example.com;Send updated CMA;",
    );
    let mut notes = std::fs::read(later.join("Notes.csv")).unwrap();
    notes.extend_from_slice(
        b"10076,,11/20/2026 9:00 AM,Called after the export: wants a second viewing.\r\n",
    );
    std::fs::write(later.join("Notes.csv"), notes).unwrap();
    let second = prepare(&later, &dir.path().join("second"));
    let journal = dir.path().join("first/sample.bundle.journal.jsonl");
    let o = loader(&args(
        &[
            "push",
            second.to_str().unwrap(),
            "--default-owner",
            "pat@agency.example",
            "--since",
            journal.to_str().unwrap(),
        ],
        &t,
    ));
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let report = |phase: &str| -> Value {
        serde_json::from_slice(
            &std::fs::read(
                dir.path()
                    .join(format!("second/sample.bundle.load/report-{phase}.json")),
            )
            .unwrap(),
        )
        .unwrap()
    };
    let contacts = report("contacts");
    assert_eq!(contacts["updated"], json!(2), "{contacts}");
    assert_eq!(contacts["created"], json!(1), "{contacts}");
    assert_eq!(
        contacts["skipped"]["unchanged since previous load"],
        json!(368),
        "{contacts}"
    );
    let notes = report("notes");
    assert_eq!(notes["created"], json!(1), "{notes}");
    assert_eq!(
        notes["skipped"]["unchanged since previous load"],
        json!(871),
        "{notes}"
    );
    let tasks = report("tasks");
    assert_eq!(tasks["created"], json!(0), "{tasks}");
    assert_eq!(tasks["updated"], json!(1), "{tasks}");
    let state = sb.state();
    assert_eq!(state["notes"].as_array().unwrap().len(), 872);
    assert_eq!(
        state["contacts"].as_array().unwrap().len(),
        371,
        "no contact twice"
    );
    let list = |k: &str| state[k].as_array().unwrap().clone();
    assert!(
        list("contacts")
            .iter()
            .any(|c| c["address"] == "1 Harbour View")
    );
    assert!(
        list("tasks")
            .iter()
            .any(|t| t["title"] == "Send updated CMA")
    );
    assert_eq!(
        state["tasks"].as_array().unwrap().len(),
        145,
        "no task twice"
    );
    assert!(
        state["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["address"] == "12 New Road")
    );
}

#[test]
fn rollback_keeps_what_someone_edited_after_the_import() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = prepare(&sample(), dir.path());
    let sb = Sandbox::start(config(ready_seed(&bundle), FAST));
    let t = target(&sb.url(), FAST);
    let o = push(&bundle, &sb, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let journal = dir.path().join("sample.bundle.journal.jsonl");
    let o = loader(&["status", journal.to_str().unwrap()]);
    let status = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", text(&o));
    for phase in ["accounts", "contacts", "notes", "tasks"] {
        assert!(
            status.lines().any(|l| l.trim_start().starts_with(phase)
                && l.contains("finished")
                && !l.contains("not finished")),
            "{status}"
        );
    }
    // A salesperson works on one imported contact before the rollback.
    let edited = sb.state()["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["email"].as_str().is_some())
        .cloned()
        .unwrap();
    let id = edited["id"].as_i64().unwrap();
    let http = reqwest::Client::new();
    let answer = sb
        .rt
        .block_on(
            http.put(format!("{}/contacts/{id}", sb.url()))
                .header("Authorization", format!("Token token={KEY}"))
                .json(&json!({"contact": {"job_title": "Closed the deal"}}))
                .send(),
        )
        .unwrap();
    assert!(answer.status().is_success());
    let o = loader(&args(&["rollback", journal.to_str().unwrap()], &t));
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("kept (edited after import) 1"), "{out}");
    let state = sb.state();
    let left = state["contacts"].as_array().unwrap();
    assert_eq!(left.len(), 1, "only the edited contact stays");
    assert_eq!(left[0]["id"], json!(id));
    assert_eq!(left[0]["job_title"], "Closed the deal");
}

#[test]
fn a_target_that_is_not_the_api_is_a_configuration_error() {
    use std::io::{Read, Write};
    // What a wrong host answers: a login page.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let page = "<html><body>Log in to Freshworks</body></html>";
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let bundle = prepare(&sample(), dir.path());
    let o = loader(&[
        "plan",
        bundle.to_str().unwrap(),
        "--target",
        &format!("http://127.0.0.1:{port}/crm/sales/api"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("instead of JSON: check --target"), "{err}");
    assert!(!err.contains(KEY));
}
