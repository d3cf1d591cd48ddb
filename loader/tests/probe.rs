//! `loader plan --probe` (issue 13): on accounts set to accept only one form of each
//! unverified behaviour, the probe picks that form, records it in the journal, and leaves no
//! canary behind; a push then uses the probed forms and loads cleanly where the defaults
//! would have been refused.

mod common;

use common::*;
use fs_sandbox::config::{DropdownValueMode, MultiSelectMode};
use serde_json::{Value, json};

fn plan_probe(bundle: &std::path::Path, sb: &Sandbox) -> (Value, std::process::Output) {
    let t = target(&sb.url(), FAST);
    let b = bundle.to_str().unwrap();
    let o = loader(&args(
        &[
            "plan",
            b,
            "--default-owner",
            "pat@agency.example",
            "--probe",
            "--consent-canary",
            "--json",
        ],
        &t,
    ));
    let v = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    (v, o)
}

/// Nothing of the canary is left: no contact (live or in the recycle bin), note, task or
/// appointment mentions it.
fn no_canary(state: &Value) {
    let text = state.to_string();
    assert!(
        !text.contains("zz-migration-probe") && !text.contains("Migration probe"),
        "the canary is gone"
    );
}

#[test]
fn the_probe_picks_the_only_forms_an_account_accepts_and_push_uses_them() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = prepare(&sample(), dir.path());
    let strict = || {
        let mut cfg = config(ready_seed(&bundle), FAST);
        cfg.dropdown_value_mode = DropdownValueMode::Id;
        cfg.multi_select_form = MultiSelectMode::Array;
        cfg.email_string_form = false;
        cfg.appointment_owner_id = false;
        cfg
    };

    // Without a probe the defaults are refused record after record.
    let blind_dir = tempfile::tempdir().unwrap();
    let blind = blind_dir.path().join("sample.bundle.jsonl.gz");
    std::fs::copy(&bundle, &blind).unwrap();
    let sb0 = Sandbox::start(strict());
    let o = push(&blind, &sb0, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let refused_blind =
        std::fs::read_to_string(blind_dir.path().join("sample.bundle.load/errors.csv"))
            .unwrap()
            .lines()
            .count();

    let sb = Sandbox::start(strict());
    let (plan, o) = plan_probe(&bundle, &sb);
    assert!(o.status.success(), "{}", text(&o));
    let probe = &plan["probe"];
    assert_eq!(
        probe["forms"],
        json!({"email": "array", "dropdown": "id", "multi_select": "array", "appointment_owner_id": false}),
        "{probe:#}"
    );
    assert_eq!(probe["removed"], json!(true));
    assert_eq!(probe["tags_on_update"], json!("replace"));
    no_canary(&sb.state());
    let journal = std::fs::read_to_string(dir.path().join("sample.bundle.journal.jsonl")).unwrap();
    assert!(journal.contains("\"probe\""), "{journal}");

    let o = push(&bundle, &sb, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let refused = std::fs::read_to_string(dir.path().join("sample.bundle.load/errors.csv"))
        .unwrap()
        .lines()
        .count();
    println!("errors.csv lines: {refused_blind} without the probe, {refused} with it");
    assert_eq!(
        refused,
        1 + 6,
        "only the six contacts the sandbox always refuses (and the header)"
    );
    assert!(refused_blind > refused + 100, "{refused_blind}");
    let o = verify(&bundle, &sb);
    assert!(o.status.success(), "{}", text(&o));
    // The probe never runs without the owner's consent.
    let o = loader(&args(
        &["plan", bundle.to_str().unwrap(), "--probe"],
        &target(&sb.url(), FAST),
    ));
    assert_eq!(
        o.status.code(),
        Some(2),
        "--probe needs the owner's consent: {}",
        text(&o)
    );
}

#[test]
fn on_a_lenient_account_the_probe_keeps_the_documented_forms() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = prepare(&sample(), dir.path());
    let sb = Sandbox::start(config(ready_seed(&bundle), FAST));
    let (plan, o) = plan_probe(&bundle, &sb);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        plan["probe"]["forms"],
        json!({"email": "auto", "dropdown": "text", "multi_select": "semicolon", "appointment_owner_id": true}),
        "{:#}",
        plan["probe"]
    );
    let calls = plan["probe"]["calls"].as_u64().unwrap();
    println!("the probe made {calls} calls");
    assert!(calls <= 25, "{calls} calls");
    no_canary(&sb.state());
}
