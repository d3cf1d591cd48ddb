//! Shared by the rehearsal tests: a sandbox in this process, the `loader` binary as a child
//! process (as an engineer runs it), and a canonical view of the sandbox's state that two
//! runs can be compared by (ids and timestamps differ between runs; content must not).

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fs_sandbox::{RunningSandbox, SandboxConfig, Seed};
use serde_json::{Map, Value, json};

/// A distinctive key, so a test can prove it was never written anywhere.
pub const KEY: &str = "sk-test-NEVER-WRITTEN-4f9a";

/// The budget's hour lasts one real second on both sides.
pub const FAST: f64 = 3600.0;

/// A sandbox in a runtime of its own; the test thread stays free to run child processes.
pub struct Sandbox {
    pub rt: tokio::runtime::Runtime,
    pub sb: Option<RunningSandbox>,
}

impl Sandbox {
    pub fn start(config: SandboxConfig) -> Sandbox {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let sb = rt
            .block_on(fs_sandbox::start(config, "127.0.0.1:0".parse().unwrap()))
            .expect("sandbox starts");
        Sandbox { rt, sb: Some(sb) }
    }

    pub fn url(&self) -> String {
        self.sb.as_ref().unwrap().base_url()
    }

    pub fn state(&self) -> Value {
        self.sb.as_ref().unwrap().state_snapshot()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(sb) = self.sb.take() {
            self.rt.block_on(sb.shutdown());
        }
    }
}

/// A sandbox config with the test key, the state API, and the given seed and clock.
pub fn config(seed: Seed, time_scale: f64) -> SandboxConfig {
    SandboxConfig {
        api_key: KEY.into(),
        state_api: true,
        time_scale,
        seed: Some(seed),
        ..SandboxConfig::default()
    }
}

pub fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample/allclients-export")
}

/// `loader ARGS` with the API key in the environment (and nowhere else).
pub fn loader(args: &[&str]) -> Output {
    loader_cmd(args).output().expect("loader runs")
}

pub fn loader_cmd(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_loader"));
    c.args(args).env("FRESHSALES_API_KEY", KEY);
    c
}

pub fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Prepares `input` into `dir/sample.bundle.jsonl.gz`, confirmed at a fixed time so every
/// test's bundle is the same bytes.
pub fn prepare(input: &Path, dir: &Path) -> PathBuf {
    let out = dir.join("sample.bundle.jsonl.gz");
    let o = loader(&[
        "prepare",
        "--input",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--confirmed-by",
        "Test Customer",
        "--confirmed-at",
        "2026-11-25T12:00:00Z",
        "--time-zone",
        "America/Chicago",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    out
}

/// The seed of a staging account ready for the sample bundle.
pub fn ready_seed(bundle: &Path) -> Seed {
    let (manifest, _) = loader::account::open_bundle(bundle).expect("bundle opens");
    loader::rehearsal::seed_for(&manifest).expect("seed")
}

/// Target options for a sandbox at `url` whose clock runs `scale` times faster.
pub fn target(url: &str, scale: f64) -> Vec<String> {
    vec![
        "--target".into(),
        url.into(),
        "--time-scale".into(),
        scale.to_string(),
    ]
}

pub fn args<'a>(head: &[&'a str], tail: &'a [String]) -> Vec<&'a str> {
    let mut v: Vec<&str> = head.to_vec();
    v.extend(tail.iter().map(String::as_str));
    v
}

const VOLATILE: [&str; 10] = [
    "links",
    "id",
    "created_at",
    "updated_at",
    "completed_date",
    "creater_id",
    "updater_id",
    "deleted_at",
    "last_contacted",
    "display_name",
];

fn strip(v: &Value) -> Map<String, Value> {
    let mut m = v.as_object().cloned().unwrap_or_default();
    for k in VOLATILE {
        m.remove(k);
    }
    m
}

fn sorted(mut v: Vec<Value>) -> Value {
    v.sort_by_key(|x| x.to_string());
    Value::Array(v)
}

/// The state with ids replaced by what identifies a record to a person (a contact's email,
/// else its external id or name; an account's name) and timestamps dropped, lists sorted:
/// equal for two loads that created the same records, in any order, with any ids.
pub fn canonical(state: &Value) -> Value {
    let list = |k: &str| state[k].as_array().cloned().unwrap_or_default();
    let mut who: HashMap<i64, String> = HashMap::new();
    for a in list("sales_accounts") {
        if let Some(id) = a["id"].as_i64() {
            who.insert(id, format!("account:{}", a["name"].as_str().unwrap_or("")));
        }
    }
    for c in list("contacts") {
        let name = c["email"]
            .as_str()
            .filter(|e| !e.is_empty())
            .map(|e| e.to_lowercase())
            .or_else(|| c["external_id"].as_str().map(str::to_string))
            .unwrap_or_else(|| {
                format!(
                    "{} {}",
                    c["first_name"].as_str().unwrap_or(""),
                    c["last_name"].as_str().unwrap_or("")
                )
            });
        if let Some(id) = c["id"].as_i64() {
            who.insert(id, format!("contact:{name}"));
        }
    }
    let name_of = |v: &Value| {
        v.as_i64()
            .and_then(|id| who.get(&id).cloned())
            .map(Value::String)
            .unwrap_or_else(|| v.clone())
    };
    let contacts = list("contacts")
        .iter()
        .map(|c| {
            let mut m = strip(c);
            if let Some(Value::Array(accounts)) = m.get("sales_accounts").cloned() {
                let names: Vec<Value> = accounts
                    .iter()
                    .map(|a| json!({"name": name_of(&a["id"]), "is_primary": a["is_primary"]}))
                    .collect();
                m.insert("sales_accounts".into(), sorted(names));
            }
            if let Some(id) = m.get("sales_account_id").cloned() {
                m.insert("sales_account_id".into(), name_of(&id));
            }
            if let Some(Value::Array(emails)) = m.get("emails").cloned() {
                let es = emails.iter().map(strip).map(Value::Object).collect();
                m.insert("emails".into(), sorted(es));
            }
            Value::Object(m)
        })
        .collect();
    let child = |k: &str| {
        sorted(
            list(k)
                .iter()
                .map(|n| {
                    let mut m = strip(n);
                    if let Some(t) = m.get("targetable_id").cloned() {
                        m.insert("targetable_id".into(), name_of(&t));
                    }
                    // An appointment's contact attendee is named like its target.
                    if let Some(Value::Array(people)) = m.get("appointment_attendees").cloned() {
                        let named = people
                            .iter()
                            .map(|p| match p["attendee_type"].as_str() {
                                Some("Contact") => json!({"attendee_type": "Contact",
                                                          "attendee_id": name_of(&p["attendee_id"])}),
                                _ => p.clone(),
                            })
                            .collect();
                        m.insert("appointment_attendees".into(), sorted(named));
                    }
                    Value::Object(m)
                })
                .collect(),
        )
    };
    json!({
        "contacts": sorted(contacts),
        "sales_accounts": sorted(list("sales_accounts").iter().map(|a| Value::Object(strip(a))).collect()),
        "notes": child("notes"),
        "tasks": child("tasks"),
        "appointments": child("appointments"),
        "recycle_bin": list("recycle_bin").len(),
    })
}

/// The first difference between two canonical states, for a readable failure.
pub fn first_difference(a: &Value, b: &Value) -> Option<String> {
    for k in [
        "contacts",
        "sales_accounts",
        "notes",
        "tasks",
        "appointments",
        "recycle_bin",
    ] {
        if a[k] != b[k] {
            let (x, y) = (a[k].as_array(), b[k].as_array());
            if let (Some(x), Some(y)) = (x, y) {
                let only_a: Vec<_> = x.iter().filter(|v| !y.contains(v)).take(2).collect();
                let only_b: Vec<_> = y.iter().filter(|v| !x.contains(v)).take(2).collect();
                return Some(format!(
                    "{k}: {} vs {} records; only in first: {only_a:?}; only in second: {only_b:?}",
                    x.len(),
                    y.len()
                ));
            }
            return Some(format!("{k}: {} vs {}", a[k], b[k]));
        }
    }
    None
}

/// `loader push BUNDLE --default-owner pat@agency.example EXTRA…` against `sb` on the fast
/// clock (the sample's unknown owner goes to Pat).
pub fn push(bundle: &Path, sb: &Sandbox, extra: &[&str]) -> Output {
    let t = target(&sb.url(), FAST);
    let mut a = vec![
        "push",
        bundle.to_str().unwrap(),
        "--default-owner",
        "pat@agency.example",
    ];
    a.extend_from_slice(extra);
    loader(&args(&a, &t))
}

/// The state a clean, uninterrupted push of the sample `bundle` leaves in a fresh ready
/// account (exit 3: the six contacts the sandbox refuses).
pub fn clean_run(bundle: &Path) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("sample.bundle.jsonl.gz");
    std::fs::copy(bundle, &copy).unwrap();
    let sb = Sandbox::start(config(ready_seed(bundle), FAST));
    let o = push(&copy, &sb, &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    canonical(&sb.state())
}

/// `loader verify BUNDLE --default-owner pat@agency.example` against `sb` on the fast clock.
pub fn verify(bundle: &Path, sb: &Sandbox) -> Output {
    let t = target(&sb.url(), FAST);
    let b = bundle.to_str().unwrap();
    loader(&args(
        &["verify", b, "--default-owner", "pat@agency.example"],
        &t,
    ))
}
