//! The API budget (issue 13): a load into a fresh account finds what already exists in
//! batches, so a contact costs one call; where the account refuses the batched search, the
//! loader notices and looks each record up as before, with the same result.

mod common;

use common::*;
use serde_json::Value;

fn requests(state: &Value, route: &str) -> u64 {
    state["counters"]["requests"][route].as_u64().unwrap_or(0)
}

#[test]
fn a_fresh_account_costs_one_call_per_contact_and_the_fallback_gives_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = prepare(&sample(), dir.path());
    let (_, stats) = loader::account::open_bundle(&bundle).unwrap();
    let contacts = stats.contacts_with_email + stats.contacts_without_email;

    let sb = Sandbox::start(config(ready_seed(&bundle), FAST));
    let o = push(&bundle, &sb, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let batched = sb.state();
    let searches = requests(&batched, "POST /filtered_search/{entity}");
    let lookups = requests(&batched, "GET /lookup");
    let writes = requests(&batched, "POST /contacts/upsert") + requests(&batched, "POST /contacts");
    println!(
        "batched: {contacts} contacts, {writes} contact writes, {searches} searches, {lookups} lookups"
    );
    assert_eq!(writes, contacts, "one write per contact");
    assert_eq!(lookups, 0, "nothing looked up one by one");
    assert!(
        searches <= 1 + contacts.div_ceil(100) + stats.accounts.div_ceil(100) + 1,
        "{searches} searches"
    );

    // Verify reads in bulk: loaded contacts 100 at a time, tasks and appointments by page,
    // notes per contact.
    let before = batched["counters"]["total"].as_u64().unwrap();
    let o = verify(&bundle, &sb);
    assert!(o.status.success(), "{}", text(&o));
    let calls = sb.state()["counters"]["total"].as_u64().unwrap() - before;
    let records = stats.accounts + contacts + stats.notes + stats.tasks + stats.appointments;
    let per_record = calls as f64 / records as f64;
    println!("verify: {calls} calls for {records} bundle records = {per_record:.2} per record");
    assert!(per_record <= 0.3, "{per_record:.2} calls per record");

    let dir2 = tempfile::tempdir().unwrap();
    let bundle2 = dir2.path().join("sample.bundle.jsonl.gz");
    std::fs::copy(&bundle, &bundle2).unwrap();
    let mut cfg = config(ready_seed(&bundle2), FAST);
    cfg.filtered_search = false;
    let sb2 = Sandbox::start(cfg);
    let o = push(&bundle2, &sb2, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let one_by_one = sb2.state();
    assert!(
        requests(&one_by_one, "GET /lookup") >= contacts,
        "the fallback looks each contact up"
    );
    assert!(
        canonical(&one_by_one) == canonical(&batched),
        "{}",
        first_difference(&canonical(&batched), &canonical(&one_by_one)).unwrap_or_default()
    );
}

#[test]
fn contacts_first_then_their_children_equals_one_push_and_system_notes_can_stay_behind() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = prepare(&sample(), dir.path());
    let (_, stats) = loader::account::open_bundle(&bundle).unwrap();
    let sb = Sandbox::start(config(ready_seed(&bundle), FAST));
    // Children before their contacts are refused before any write.
    let o = push(&bundle, &sb, &["--phases", "notes"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("the accounts phase must be loaded first"),
        "{}",
        text(&o)
    );
    let o = push(&bundle, &sb, &["--phases", "accounts,contacts"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let half = sb.state();
    assert!(
        half["notes"].as_array().is_none_or(Vec::is_empty)
            && half["notes"].as_object().is_none_or(|n| n.is_empty()),
        "no note yet"
    );
    let o = push(&bundle, &sb, &["--phases", "notes,tasks,appointments"]);
    assert!(
        o.status.success(),
        "the refused contacts were this run's: {}",
        text(&o)
    );
    let both = canonical(&sb.state());
    let once = clean_run(&bundle);
    assert!(
        both == once,
        "{}",
        first_difference(&once, &both).unwrap_or_default()
    );

    // Leaving AllClients' own notes behind: never sent, counted as skipped by choice.
    let dir2 = tempfile::tempdir().unwrap();
    let bundle2 = dir2.path().join("sample.bundle.jsonl.gz");
    std::fs::copy(&bundle, &bundle2).unwrap();
    let sb2 = Sandbox::start(config(ready_seed(&bundle2), FAST));
    let o = push(&bundle2, &sb2, &["--leave-system-notes"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let count = |v: &Value| {
        v.as_array()
            .map(Vec::len)
            .or_else(|| v.as_object().map(|o| o.len()))
            .unwrap_or(0) as u64
    };
    let notes = count(&sb2.state()["notes"]);
    let loaded_all = count(&once["notes"]);
    assert!(stats.system_notes > 0);
    assert_eq!(
        notes + stats.system_notes,
        loaded_all,
        "{notes} + {} system",
        stats.system_notes
    );
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dir2.path().join("sample.bundle.load/report-notes.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        report["skipped"]["system note left behind by choice (--leave-system-notes)"],
        stats.system_notes,
        "{report}"
    );
}

#[test]
fn the_plan_counts_the_contacts_that_already_exist_and_its_calls_come_true() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = prepare(&sample(), dir.path());
    let mut seed = ready_seed(&bundle);
    let mut n = 0;
    loader::account::each_record(&bundle, |r| {
        if let prep::bundle::Record::Contact(c) = r
            && let Some(e) = c.email
        {
            n += 1;
            if n % 3 == 0 {
                let mut m = serde_json::Map::new();
                m.insert("first_name".into(), Value::String("Existing".into()));
                m.insert("emails".into(), Value::String(e.into()));
                seed.contacts.push(m);
            }
        }
        Ok(())
    })
    .unwrap();
    let seeded = seed.contacts.len() as u64;
    let sb = Sandbox::start(config(seed, FAST));
    let t = target(&sb.url(), FAST);
    let o = loader(&args(
        &[
            "plan",
            bundle.to_str().unwrap(),
            "--default-owner",
            "pat@agency.example",
            "--json",
        ],
        &t,
    ));
    assert!(o.status.success(), "{}", text(&o));
    let plan: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(plan["existing_contacts"], seeded, "{}", plan["calls"]);
    let planned: u64 = plan["calls"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_u64)
        .sum();
    let before = sb.state()["counters"]["total"].as_u64().unwrap();
    let o = push(&bundle, &sb, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let made = sb.state()["counters"]["total"].as_u64().unwrap() - before;
    let off = (made as f64 - planned as f64).abs() / planned as f64;
    println!("{seeded} contacts existed: planned {planned} calls, the push made {made}");
    assert!(off < 0.03, "planned {planned}, made {made}");
}
