//! Every line of a real bundle validates against `docs/bundle.schema.json`, so the
//! documented format and the code cannot drift apart.

use exportgen::{Spec, generate};
use prep::{Confirmation, InputFile, Options, bundle, prepare};
use serde_json::{Value, json};

fn schema() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/bundle.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn validator_for(def: &str) -> jsonschema::Validator {
    let mut s = schema();
    s["$ref"] = json!(format!("#/$defs/{def}"));
    s.as_object_mut().unwrap().remove("oneOf");
    jsonschema::validator_for(&s).unwrap()
}

#[test]
fn sample_bundle_validates_against_the_schema() {
    let (files, _) = generate(&Spec::sample());
    let inputs: Vec<InputFile> = files
        .into_iter()
        .map(|f| InputFile {
            name: f.name,
            bytes: f.bytes,
        })
        .collect();
    let options = Options {
        confirmation: Some(Confirmation {
            confirmed_by: "S".into(),
            confirmed_at: "2026-01-01T00:00:00Z".into(),
        }),
        ..Options::default()
    };
    // With corrections (a fixed cell, an assigned owner), so those parts are checked too.
    let draft = prepare(&inputs, &Options::default()).unwrap();
    let bad = draft
        .review
        .iter()
        .find(|i| i.reason == prep::review::Reason::InvalidEmail)
        .unwrap();
    let mut options = options;
    options.corrections.set_cell(prep::corrections::CellFix {
        file: bad.file.clone(),
        row: bad.row.unwrap(),
        column: bad.column.clone().unwrap(),
        original: bad.value.clone().unwrap(),
        value: "fixed@example.com".into(),
    });
    options
        .corrections
        .set_owner("Jordan Unknown", "pat@agency.example");
    let bytes = bundle::to_bytes(&prepare(&inputs, &options).unwrap()).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::MultiGzDecoder::new(&bytes[..]),
        &mut text,
    )
    .unwrap();
    let manifest = validator_for("manifest");
    let record = validator_for("record");
    let mut kinds = std::collections::BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let v: Value = serde_json::from_str(line).unwrap();
        let validator = if i == 0 { &manifest } else { &record };
        let errors: Vec<String> = validator
            .iter_errors(&v)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "line {}: {errors:?}\n{line:.300}", i + 1);
        kinds.insert(v["kind"].as_str().unwrap().to_string());
    }
    let all = [
        "account",
        "appointment",
        "contact",
        "manifest",
        "note",
        "review",
        "task",
        "template",
    ];
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), all);
    assert!(
        !record.is_valid(&json!({"kind": "contact", "key": "k", "sources": [], "shoe_size": 9}))
    );
}
