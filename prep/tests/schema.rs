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

/// The shipped sample export, as prep's input files.
fn sample_inputs() -> Vec<InputFile> {
    let (files, _) = generate(&Spec::sample());
    files
        .into_iter()
        .map(|f| InputFile {
            name: f.name,
            bytes: f.bytes,
        })
        .collect()
}

#[test]
fn sample_bundle_validates_against_the_schema() {
    let inputs = sample_inputs();
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
    let seal = validator_for("seal");
    let mut kinds = std::collections::BTreeSet::new();
    let last = text.lines().count() - 1;
    for (i, line) in text.lines().enumerate() {
        let v: Value = serde_json::from_str(line).unwrap();
        let validator = match i {
            0 => &manifest,
            i if i == last => &seal,
            _ => &record,
        };
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
        "seal",
        "task",
        "template",
    ];
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), all);
    assert!(
        !record.is_valid(&json!({"kind": "contact", "key": "k", "sources": [], "shoe_size": 9}))
    );
}

/// A bundle of the previous format (a manifest carrying the hash, no seal), written by the
/// format-1 writer, still reads and still refuses a change.
#[test]
fn a_format_1_bundle_still_loads_and_still_refuses_tampering() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/format1.bundle.jsonl.gz");
    let bytes = std::fs::read(&path).unwrap();
    let (manifest, kinds) = bundle::verify(&bytes[..]).unwrap();
    assert_eq!(manifest.format_version, 1);
    assert_eq!(
        manifest.content_sha256,
        "6720391291db5024f30623c1767e05a4acacf74530db71a2efd7508fcdb96201"
    );
    assert_eq!(kinds["contact"], 2);
    assert_eq!(kinds["note"], 1);
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
        .unwrap();
    let tampered = text.replace("First note", "Forged note");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, tampered.as_bytes()).unwrap();
    let e = bundle::verify(&gz.finish().unwrap()[..])
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not match its SHA-256"), "{e}");
}

/// The seal closes a format-2 bundle: cut it off, change the count or add a line after it,
/// and the bundle is refused.
#[test]
fn a_format_2_bundle_without_its_seal_or_with_a_line_after_it_is_refused() {
    let inputs = sample_inputs();
    let bytes = bundle::to_bytes(&prepare(&inputs, &Options::default()).unwrap()).unwrap();
    let (m, _) = bundle::verify(&bytes[..]).unwrap();
    assert_eq!(m.format_version, 2);
    assert_eq!(
        m.content_sha256.len(),
        64,
        "the reader fills the hash in from the seal"
    );
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
        .unwrap();
    let gz = |t: &str| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, t.as_bytes()).unwrap();
        gz.finish().unwrap()
    };
    let lines: Vec<&str> = text.lines().collect();
    let unsealed = lines[..lines.len() - 1].join("\n") + "\n";
    let e = bundle::verify(&gz(&unsealed)[..]).unwrap_err().to_string();
    assert!(e.contains("without its closing seal"), "{e}");
    let after = format!("{text}{}\n", lines[1]);
    let e = bundle::verify(&gz(&after)[..]).unwrap_err().to_string();
    assert!(e.contains("beyond the seal"), "{e}");
    let recount = text.replace(
        &format!("\"records\":{}}}", m.records),
        &format!("\"records\":{}}}", m.records + 1),
    );
    let e = bundle::verify(&gz(&recount)[..]).unwrap_err().to_string();
    assert!(e.contains("altered"), "{e}");
}
