//! The command-line contract: the listening line, and config file + flag merging.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use clap::Parser;
use fs_sandbox::{SandboxArgs, UnknownCfPolicy, resolve_args};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: SandboxArgs,
}

fn parse(argv: &[&str]) -> SandboxArgs {
    Cli::try_parse_from(std::iter::once("fs-sandbox").chain(argv.iter().copied()))
        .expect("arguments parse")
        .args
}

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_prints_the_listening_line_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.json");
    std::fs::write(
        &seed,
        r#"{"users": [{"email": "pat@agency.example", "display_name": "Pat Owner", "is_active": true}],
            "fields": {"contacts": [{"label": "Anniversary", "type": "date", "choices": []},
                                    {"label": "Preferred Contact", "type": "dropdown", "choices": ["Email", "Phone"]}],
                       "sales_accounts": []},
            "contacts": [], "sales_accounts": []}"#,
    )
    .unwrap();
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_fs-sandbox"))
            .args([
                "--port",
                "0",
                "--api-key",
                "k1",
                "--state-api",
                "--time-scale",
                "60",
                "--seed",
            ])
            .arg(&seed)
            .stdout(Stdio::piped())
            .spawn()
            .expect("binary starts"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .unwrap()
    .unwrap();
    let url = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected line {line:?}"))
        .to_string();
    let port: u16 = url
        .strip_prefix("http://127.0.0.1:")
        .and_then(|r| r.strip_suffix("/crm/sales/api"))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected url {url}"));
    assert_ne!(port, 0, "the real port is printed");

    let http = reqwest::Client::new();
    let fields: serde_json::Value = http
        .get(format!("{url}/settings/contacts/fields"))
        .header("Authorization", "Token token=k1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        fields["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "cf_preferred_contact")
    );
    let state = http
        .get(format!("http://127.0.0.1:{port}/__sandbox/state"))
        .send()
        .await
        .unwrap();
    assert_eq!(state.status().as_u16(), 200);
}

#[test]
fn config_file_gives_defaults_and_flags_override() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("seed.json"),
        r#"{"fields": {"contacts": [{"label": "Region", "type": "text"}]}}"#,
    )
    .unwrap();
    let cfg = dir.path().join("sandbox.toml");
    std::fs::write(
        &cfg,
        r#"
port = 18080
api_key = "from-file"
hourly_limit = 500
per_minute_limit = 50
time_scale = 10.0
random_seed = 3
unknown_cf_policy = "drop"
seed_file = "seed.json"

[faults]
error_5xx = 0.1

[faults.latency]
probability = 0.5
ms = 20

[rate_limit_headers]
retry_after = false
"#,
    )
    .unwrap();
    let path = cfg.to_str().unwrap();
    let (c, addr) = resolve_args(&parse(&["--config", path])).unwrap();
    assert_eq!(addr.to_string(), "127.0.0.1:18080");
    assert_eq!(c.api_key, "from-file");
    assert_eq!(
        (c.hourly_limit, c.per_minute_limit, c.random_seed),
        (500, 50, 3)
    );
    assert_eq!(c.time_scale, 10.0);
    assert_eq!(c.unknown_cf_policy, UnknownCfPolicy::Drop);
    assert_eq!(c.faults.error_5xx, 0.1);
    assert_eq!(c.faults.latency.ms, 20);
    assert!(!c.rate_limit_headers.retry_after && c.rate_limit_headers.x_ratelimit_limit);
    assert_eq!(c.seed.unwrap().fields.contacts[0].label, "Region");
    assert!(!c.state_api);

    let (c, addr) = resolve_args(&parse(&[
        "--config",
        path,
        "--port",
        "9",
        "--api-key",
        "cli",
        "--hourly-limit",
        "7",
        "--per-minute-limit",
        "0",
        "--time-scale",
        "3600",
        "--fault-rate",
        "0.3",
        "--random-seed",
        "11",
        "--state-api",
    ]))
    .unwrap();
    assert_eq!(addr.port(), 9);
    assert_eq!(c.api_key, "cli");
    assert_eq!(
        (c.hourly_limit, c.per_minute_limit, c.random_seed),
        (7, 0, 11)
    );
    assert_eq!(c.time_scale, 3600.0);
    assert!(
        (c.faults.error_5xx - 0.1).abs() < 1e-9 && (c.faults.lost_after_commit - 0.1).abs() < 1e-9
    );
    assert!(c.state_api);

    assert!(resolve_args(&parse(&["--fault-rate", "1.5"])).is_err());
    assert!(resolve_args(&parse(&["--time-scale", "0"])).is_err());
    std::fs::write(&cfg, "hourly_limt = 3\n").unwrap();
    let err = resolve_args(&parse(&["--config", path]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("hourly_limt"), "{err}");

    let json_cfg = dir.path().join("sandbox.json");
    std::fs::write(
        &json_cfg,
        r#"{"state_api": true, "dropdown_value_mode": "either"}"#,
    )
    .unwrap();
    let (c, addr) = resolve_args(&parse(&["--config", json_cfg.to_str().unwrap()])).unwrap();
    assert!(c.state_api);
    assert_eq!(addr.port(), 0);
}
