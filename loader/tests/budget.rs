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
