//! Facade tests in a real browser: `wasm-pack test --headless --chrome prep-wasm`.
//! They check the JS boundary (serde in and out, `Uint8Array`s, JS `Error`s naming the
//! place); the preparation itself is tested natively in `prep`.
#![cfg(target_arch = "wasm32")]

use js_sys::{Error, Reflect};
use prep_wasm::wasm::{JsWorkspace, targets};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const CONTACTS: &[u8] = b"Email,First Name,Fax\r\nada@example.com,Ada,555\r\nbad@,Bo,\r\n";
const NOTES: &[u8] =
    b"Email,Note\r\nada@example.com,<img src=x onerror=alert(1)>\r\nzed@example.com,lost\r\n";

fn workspace() -> JsWorkspace {
    let mut ws = JsWorkspace::new(JsValue::UNDEFINED).expect("default settings");
    ws.add_file("Contacts.csv", CONTACTS.to_vec());
    ws.add_file("Notes.csv", NOTES.to_vec());
    ws
}

fn get(v: &JsValue, path: &[&str]) -> JsValue {
    path.iter().fold(v.clone(), |v, k| {
        Reflect::get(&v, &JsValue::from_str(k)).expect("property")
    })
}

#[wasm_bindgen_test]
fn analyse_returns_plain_objects() {
    let ws = workspace();
    let a = ws.analyse(JsValue::UNDEFINED).expect("analyse");
    assert_eq!(
        get(&a, &["summary", "objects", "contacts", "loaded"]).as_f64(),
        Some(1.0)
    );
    // json_compatible: maps are objects, so scripts read them like the CLI's JSON.
    assert_eq!(
        get(&a, &["summary", "review", "orphan_note"]).as_f64(),
        Some(1.0)
    );
    assert!(get(&a, &["mapping", "columns", "contacts"]).is_array());
    assert_eq!(ws.file_names(), vec!["Contacts.csv", "Notes.csv"]);
}

#[wasm_bindgen_test]
fn edited_mapping_goes_in_as_an_object_or_json() {
    let ws = workspace();
    let a = ws.analyse(JsValue::UNDEFINED).expect("analyse");
    let mapping = get(&a, &["mapping"]);
    let json = js_sys::JSON::stringify(&mapping)
        .expect("stringify")
        .as_string()
        .expect("string");
    let edited = json.replace(
        r#""source":"Fax","target":"custom:Fax""#,
        r#""source":"Fax","target":"ignore""#,
    );
    assert_ne!(edited, json, "the proposal maps Fax to a custom field");
    let b = ws
        .analyse(JsValue::from_str(&edited))
        .expect("analyse JSON");
    assert_eq!(
        js_sys::Array::from(&get(&b, &["summary", "custom_fields"])).length(),
        0
    );
    let c = ws
        .analyse(js_sys::JSON::parse(&edited).expect("parse"))
        .expect("analyse object");
    assert_eq!(
        js_sys::JSON::stringify(&get(&c, &["summary"])).ok(),
        js_sys::JSON::stringify(&get(&b, &["summary"])).ok()
    );
}

#[wasm_bindgen_test]
fn bundle_is_a_verified_uint8array() {
    let ws = workspace();
    let bytes = ws
        .bundle(JsValue::NULL, "Ada Lovelace", "2026-11-25T10:00:00Z")
        .expect("bundle");
    let (manifest, _) = prep::bundle::verify(&bytes[..]).expect("verifies");
    let confirmation = manifest.confirmation.expect("confirmed");
    assert_eq!(confirmation.confirmed_by, "Ada Lovelace");
    assert_eq!(confirmation.confirmed_at, "2026-11-25T10:00:00Z");
    let err = ws
        .bundle(JsValue::NULL, "  ", "2026-11-25T10:00:00Z")
        .expect_err("needs a name");
    assert!(String::from(err.message()).contains("name"));
}

#[wasm_bindgen_test]
fn confirm_gives_the_bundle_and_its_report() {
    let ws = workspace();
    let c = ws
        .confirm(JsValue::UNDEFINED, "Ada", "2026-11-25T10:00:00Z")
        .expect("confirm");
    let bundle = js_sys::Uint8Array::new(&get(&c, &["bundle"])).to_vec();
    assert_eq!(
        bundle,
        ws.bundle(JsValue::UNDEFINED, "Ada", "2026-11-25T10:00:00Z")
            .expect("bundle")
    );
    let (manifest, _) = prep::bundle::verify(&bundle[..]).expect("verifies");
    let report = get(&c, &["report"]).as_string().expect("report");
    assert!(report.contains("Confirmed by **Ada**"));
    assert!(report.contains(&manifest.content_sha256));
    assert!(ws.confirm(JsValue::UNDEFINED, "", "x").is_err());
}

#[wasm_bindgen_test]
fn report_and_queues() {
    let ws = workspace();
    let md = ws.report_markdown(JsValue::UNDEFINED).expect("report");
    assert!(md.starts_with("# Migration scope"));
    let csv = ws
        .review_csv(JsValue::UNDEFINED, "orphan_note")
        .expect("queue");
    assert!(csv.contains("zed@example.com"));
    assert!(ws.review_csv(JsValue::UNDEFINED, "nope").is_err());
}

#[wasm_bindgen_test]
fn errors_are_js_errors_naming_the_place() {
    let ws = workspace();
    let bad = r#"{"format_version":1,"files":{"Contacts.csv":{"delimiter":"x"}}}"#;
    let err = ws
        .analyse(JsValue::from_str(bad))
        .expect_err("bad delimiter");
    let err: JsValue = err.into();
    assert!(err.is_instance_of::<Error>());
    let err: Error = err.unchecked_into();
    let message = String::from(err.message());
    assert!(message.contains("Contacts.csv"), "{message}");
    assert_eq!(
        get(&err, &["file"]).as_string().as_deref(),
        Some("Contacts.csv")
    );
    let err = ws
        .analyse(JsValue::from_str("{not json"))
        .expect_err("bad JSON");
    assert!(String::from(err.message()).starts_with("mapping:"));

    let mut only_notes = JsWorkspace::new(JsValue::UNDEFINED).expect("workspace");
    only_notes.add_file("Notes.csv", NOTES.to_vec());
    let err = only_notes
        .analyse(JsValue::UNDEFINED)
        .expect_err("no contacts");
    assert!(String::from(err.message()).contains("Notes.csv"));
}

#[wasm_bindgen_test]
fn settings_and_targets() {
    let settings = js_sys::JSON::parse(
        r#"{"groups_field_label":"Client Groups","allclients_hosts":["allclients.com"]}"#,
    )
    .expect("parse");
    let mut ws = JsWorkspace::new(settings).expect("settings");
    ws.add_file(
        "Contacts.csv",
        b"Email,Groups\r\nada@example.com,Sphere\r\n".to_vec(),
    );
    let a = ws.analyse(JsValue::UNDEFINED).expect("analyse");
    let fields = js_sys::JSON::stringify(&get(&a, &["summary", "custom_fields"]))
        .expect("stringify")
        .as_string()
        .unwrap_or_default();
    assert!(fields.contains("Client Groups"), "{fields}");
    assert!(JsWorkspace::new(JsValue::from_str("nope")).is_err());
    assert!(
        targets("contacts")
            .expect("kind")
            .contains(&"email".to_string())
    );
    assert!(targets("spreadsheets").is_err());
    assert!(!JsWorkspace::version().is_empty());
}
