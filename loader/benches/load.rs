//! `cargo bench -p loader --bench load`: pushes a generated 10k-contact, 30k-note export into
//! the sandbox (Growth limits, 1000 calls an hour, on a clock running BENCH_TIME_SCALE
//! times faster) and prints calls per record, the share of the rate budget used (target
//! ≥ 95 %) and 429s (target 0). Sizes: BENCH_CONTACTS, BENCH_NOTES.

use std::time::Instant;

use exportgen::{Spec, generate};
use loader::api::{ApiKey, Client};
use loader::progress::Mode;
use loader::push::PushOptions;
use loader::ratelimit::RateLimiter;
use prep::{Confirmation, InputFile, Options, bundle, prepare};
use serde_json::Value;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn sum(v: &Value) -> u64 {
    v.as_object()
        .map_or(0, |m| m.values().filter_map(Value::as_u64).sum())
}

fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(()); // cargo test --benches asks for a listing; there is nothing to list
    }
    let spec = Spec {
        seed: 11,
        contacts: env("BENCH_CONTACTS", 10_000),
        notes: env("BENCH_NOTES", 30_000),
        tasks: 0,
        side_files: true,
        every_kind: false,
    };
    let scale: f64 = env("BENCH_TIME_SCALE", 3600.0);
    let (files, _) = generate(&spec);
    let inputs: Vec<InputFile> = files
        .into_iter()
        .map(|f| InputFile {
            name: f.name,
            bytes: f.bytes,
        })
        .collect();
    let prepared = prepare(
        &inputs,
        &Options {
            confirmation: Some(Confirmation {
                confirmed_by: "Bench".into(),
                confirmed_at: "2026-11-25T12:00:00Z".into(),
            }),
            settings: prep::Settings {
                time_zone: Some("America/Chicago".into()),
                ..prep::Settings::default()
            },
            ..Options::default()
        },
    )?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.bundle.jsonl.gz");
    bundle::write(&prepared, std::fs::File::create(&path)?)?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let (manifest, counts) = loader::account::open_bundle(&path)?;
        let sandbox = loader::rehearsal::start_sandbox(&manifest, scale).await?;
        let budget_per_hour = 800;
        let limiter = RateLimiter::new(budget_per_hour, 400).time_scale(scale);
        let budget_rate = limiter.rate();
        let client = Client::new(
            &sandbox.base_url(),
            ApiKey::new(loader::rehearsal::SANDBOX_KEY),
            limiter,
        )?;
        let owner = manifest
            .team_members
            .iter()
            .find_map(|m| m.email.clone())
            .unwrap_or_default();
        let pre = loader::account::preflight(&path, &client, Some(&owner)).await?;
        anyhow::ensure!(
            pre.plan.blocking.is_empty(),
            "preflight blocks: {:?}",
            pre.plan.blocking
        );
        let planned = pre.plan.calls.total();
        let eta = pre.plan.eta_seconds;
        let before = client.stats().await.sent;
        let started = Instant::now();
        let result = loader::push::push(
            &path,
            client.clone(),
            pre,
            &PushOptions {
                forms: Default::default(),
                concurrency: env("BENCH_CONCURRENCY", 4),
                since: None,
                mode: Mode::Quiet,
                fallback_due: None,
                phases: Vec::new(),
                leave_system_notes: false,
            },
        )
        .await?;
        let elapsed = started.elapsed().as_secs_f64();
        let stats = client.stats().await;
        let calls = stats.sent - before;
        let records: u64 = result
            .reports
            .values()
            .map(|p| p.created + p.updated + p.failed)
            .sum();
        let state = sandbox.state_snapshot();
        println!(
            "bundle: {} accounts, {} contacts ({} without email), {} notes",
            counts.accounts,
            counts.contacts_with_email + counts.contacts_without_email,
            counts.contacts_without_email,
            counts.notes
        );
        println!(
            "sandbox: 1000 calls/hour, 400/minute, clock x{scale} (an hour = {:.1}s); loader budget {budget_per_hour}/hour = {budget_rate:.0} calls/s",
            3600.0 / scale
        );
        println!("records pushed   : {records} in {elapsed:.1}s (plan ETA {eta:.1}s)");
        println!(
            "calls            : {calls} ({planned} planned incl. preflight) = {:.2} per record",
            calls as f64 / records.max(1) as f64
        );
        println!(
            "rate achieved    : {:.0} calls/s = {:.1}% of the budget (target ≥ 95%)",
            calls as f64 / elapsed,
            100.0 * calls as f64 / elapsed / budget_rate
        );
        println!(
            "429s             : {} seen by the loader, {} served by the sandbox (target 0)",
            stats.throttled,
            sum(&state["counters"]["rate_limited"])
        );
        println!("retries          : {}", stats.retries);
        println!("refused records  : {}", result.errors.len());
        sandbox.shutdown().await;
        Ok(())
    })
}
