//! Hostile inputs and operator mistakes (issue 9): each case failed, lost data or corrupted
//! it silently before, and must now be refused with a message that names the place, or be
//! read correctly.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};

fn loader(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_loader"))
        .args(args)
        .output()
        .expect("loader runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn prepare_dir(input: &Path, out: &Path) -> Output {
    loader(&[
        "prepare",
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
}

/// Every JSON line of a bundle.
fn bundle_lines(path: &Path) -> Vec<serde_json::Value> {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn contacts(path: &Path) -> Vec<serde_json::Value> {
    bundle_lines(path)
        .into_iter()
        .filter(|l| l["kind"] == "contact")
        .collect()
}

#[test]
fn an_unterminated_quote_refuses_the_file_at_the_line_where_it_opened() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(
        input.join("Contacts.csv"),
        "Contact ID,First Name,Email,Team Member\r\n1,\"Ann,ann@example.com,Pat Owner\r\n\
         2,Bob,bob@example.com,Pat Owner\r\n3,Cy,cy@example.com,Pat Owner\r\n",
    )
    .unwrap();
    let out = dir.path().join("b.jsonl.gz");
    let o = prepare_dir(&input, &out);
    assert!(!o.status.success(), "refused");
    let err = stderr(&o);
    assert!(
        err.contains("Contacts.csv") && err.contains("line 2") && err.contains("First Name"),
        "{err}"
    );
    assert!(!out.exists(), "no bundle for a refused export");
}

#[test]
fn utf16_without_bom_is_read_and_binary_content_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Contact ID,First Name,Email\r\n1,Zoë,zoe@example.com\r\n2,Bob,bob@example.com\r\n";
    for (name, bytes) in [
        (
            "le",
            text.encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>(),
        ),
        (
            "be",
            text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        ),
    ] {
        let input = dir.path().join(name);
        std::fs::create_dir(&input).unwrap();
        std::fs::write(input.join("Contacts.csv"), bytes).unwrap();
        let out = dir.path().join(format!("{name}.jsonl.gz"));
        let o = prepare_dir(&input, &out);
        assert!(o.status.success(), "{}", stderr(&o));
        let mut emails: Vec<String> = contacts(&out)
            .iter()
            .map(|c| c["email"].as_str().unwrap_or("").to_string())
            .collect();
        emails.sort();
        assert_eq!(emails, ["bob@example.com", "zoe@example.com"], "{name}");
    }

    let input = dir.path().join("binary");
    std::fs::create_dir(&input).unwrap();
    let mut bytes = b"Contact ID,First Name,Email\n1,Ann,ann@example.com\n".to_vec();
    bytes.extend((0..4000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    std::fs::write(input.join("Contacts.csv"), bytes).unwrap();
    let out = dir.path().join("binary.jsonl.gz");
    let o = prepare_dir(&input, &out);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("Contacts.csv") && err.contains("line 3") && err.contains("binary"),
        "{err}"
    );
}

#[test]
fn an_output_that_would_overwrite_or_sit_inside_the_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let export = "Contact ID,First Name,Email\n1,Ann,ann@example.com\n";
    let contacts_csv = input.join("Contacts.csv");
    std::fs::write(&contacts_csv, export).unwrap();
    for out in [contacts_csv.clone(), input.join("bundle.jsonl.gz")] {
        let o = prepare_dir(&input, &out);
        assert!(!o.status.success(), "{}", out.display());
        assert!(stderr(&o).contains("--out"), "{}", stderr(&o));
    }
    // The file itself as input, and the output named like it.
    let o = loader(&[
        "prepare",
        "--input",
        contacts_csv.to_str().unwrap(),
        "--out",
        contacts_csv.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert_eq!(std::fs::read_to_string(&contacts_csv).unwrap(), export);
    assert_eq!(
        std::fs::read_dir(&input).unwrap().count(),
        1,
        "nothing written"
    );
}

#[test]
fn unrelated_files_are_not_read_as_to_dos() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(
        input.join("Contacts.csv"),
        "Contact ID,First Name,Email\n1,Ann,ann@example.com\n",
    )
    .unwrap();
    std::fs::write(
        input.join("prices.csv"),
        "Date,Open,High,Low,Close,Volume\n2024-01-02,10,11,9,10.5,1000\n2024-01-03,10.5,12,10,11,900\n",
    )
    .unwrap();
    let out = dir.path().join("b.jsonl.gz");
    let o = prepare_dir(&input, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = loader(&["inspect", out.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let prices = v["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["file"] == "prices.csv")
        .unwrap();
    assert_eq!(prices["kind"], "unknown");
    assert_eq!(v["objects"]["tasks"]["rows_in"], 0);
    assert_eq!(v["review"]["orphan_task"], 0);
    assert_eq!(v["review"]["unrecognised_file"], 1);
}

#[test]
fn thousands_of_columns_warn_about_the_custom_field_limit() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let extra: Vec<String> = (1..=300).map(|i| format!("Extra {i}")).collect();
    let values: Vec<String> = (1..=300).map(|i| format!("v{i}")).collect();
    std::fs::write(
        input.join("Contacts.csv"),
        format!(
            "Contact ID,First Name,Email,{}\n1,Ann,ann@example.com,{}\n",
            extra.join(","),
            values.join(",")
        ),
    )
    .unwrap();
    let out = dir.path().join("b.jsonl.gz");
    let o = prepare_dir(&input, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("300 contact custom fields") && stdout.contains("150 on Growth"),
        "{stdout}"
    );
    let scope = std::fs::read_to_string(dir.path().join("b.scope.md")).unwrap();
    assert!(scope.contains("300 contact custom fields"));
}

#[test]
fn journal_mistakes_are_errors_that_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.jsonl");
    let o = loader(&["status", missing.to_str().unwrap()]);
    assert!(!o.status.success(), "a missing journal is an error");
    assert!(stderr(&o).contains("nope.jsonl"));

    let damaged = dir.path().join("damaged.journal.jsonl");
    let mut bytes = b"{\"event\":\"phase_done\",\"phase\":\"accounts\"}\n".to_vec();
    bytes.extend_from_slice(b"\xff\xfe\x00binary\x9c\n");
    std::fs::write(&damaged, bytes).unwrap();
    let o = loader(&["status", damaged.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("damaged.journal.jsonl line 2") && err.contains("not text"),
        "{err}"
    );
}

#[test]
fn out_of_range_numbers_are_refused() {
    for (flag, value) in [
        ("--time-scale", "0"),
        ("--time-scale", "NaN"),
        ("--time-scale", "inf"),
        ("--time-scale", "0.5"),
        ("--budget-per-hour", "0"),
        ("--plan-limit", "0"),
        ("--per-minute", "0"),
    ] {
        let o = loader(&[
            "plan",
            "x.jsonl.gz",
            "--target",
            "http://127.0.0.1:9/crm/sales/api",
            flag,
            value,
        ]);
        assert!(!o.status.success(), "{flag} {value}");
        let err = stderr(&o);
        assert!(
            err.contains(flag) && err.contains(value),
            "{flag} {value}: {err}"
        );
    }
    for (flag, value, named) in [
        ("--time-scale", "0", "time_scale"),
        ("--time-scale", "NaN", "time_scale"),
        ("--fault-rate", "1.5", "fault"),
    ] {
        let o = loader(&["sandbox", "--port", "0", flag, value]);
        assert!(!o.status.success(), "sandbox {flag} {value}");
        assert!(stderr(&o).contains(named), "{flag} {value}: {}", stderr(&o));
    }
}

/// A real bundle's lines, from `loader prepare` of a tiny export.
fn small_bundle(dir: &Path) -> (std::path::PathBuf, Vec<String>) {
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(
        input.join("Contacts.csv"),
        "Contact ID,First Name,Email\n1,Ann,ann@example.com\n2,Bob,bob@example.com\n",
    )
    .unwrap();
    let out = dir.join("b.jsonl.gz");
    let o = prepare_dir(&input, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&out).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    (out, text.lines().map(str::to_string).collect())
}

fn gzip_to(path: &Path, write: impl FnOnce(&mut dyn std::io::Write)) {
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::fast(),
    );
    write(&mut gz);
    gz.finish().unwrap();
}

#[test]
fn a_huge_line_or_an_extra_record_is_refused_without_reading_on() {
    let dir = tempfile::tempdir().unwrap();
    let (_, lines) = small_bundle(dir.path());
    // The manifest, then one line of 200 MiB: refused at the cap, not buffered whole.
    let huge = dir.path().join("huge.jsonl.gz");
    gzip_to(&huge, |w| {
        w.write_all(lines[0].as_bytes()).unwrap();
        w.write_all(b"\n").unwrap();
        let chunk = vec![b'a'; 1 << 20];
        for _ in 0..200 {
            w.write_all(&chunk).unwrap();
        }
    });
    let o = loader(&["inspect", huge.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("line 2") && err.contains("longer than 64 MiB"),
        "{err}"
    );

    // Records beyond the manifest's count: refused at the first extra one.
    let extra = dir.path().join("extra.jsonl.gz");
    gzip_to(&extra, |w| {
        for l in &lines {
            writeln!(w, "{l}").unwrap();
        }
        for _ in 0..1000 {
            writeln!(w, "{}", lines[1]).unwrap();
        }
    });
    let o = loader(&["inspect", extra.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = stderr(&o);
    let first_extra = format!("line {}", lines.len() + 1);
    assert!(
        err.contains(&first_extra) && err.contains("beyond"),
        "{first_extra}: {err}"
    );
}

#[test]
fn a_value_longer_than_freshsales_takes_is_held_and_counted_as_held() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let long = "A".repeat(300);
    std::fs::write(
        input.join("Contacts.csv"),
        format!("Contact ID,First Name,Email\n1,{long},ann@example.com\n2,Bob,bob@example.com\n"),
    )
    .unwrap();
    let out = dir.path().join("b.jsonl.gz");
    let o = prepare_dir(&input, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let first = contacts(&out)
        .into_iter()
        .find(|c| c["email"] == "ann@example.com")
        .unwrap();
    assert!(first.get("first_name").is_none(), "not sent: {first}");
    let scope: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("b.scope.json")).unwrap())
            .unwrap();
    let column = scope["ledger"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["column"] == "First Name")
        .unwrap();
    assert_eq!(column["held"]["invalid_value"], 1, "{column}");
    assert_eq!(column["loaded"], 1);
    let held = bundle_lines(&out)
        .into_iter()
        .find(|l| l["kind"] == "review" && l["reason"] == "invalid_value")
        .unwrap();
    assert_eq!(held["column"], "First Name");
    assert_eq!(
        held["value"],
        long.as_str(),
        "the whole value is kept for review"
    );
}
