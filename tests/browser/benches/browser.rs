//! `cargo bench -p browser-tests --bench browser`: the same prepare (+ bundle write) in
//! headless Chromium (the page's WASM) and natively, next to Papa Parse (npm) parsing the same
//! CSV files in the same browser. Prints MB/s, the ratios (targets: WASM ≥ 0.6 × native and
//! ≥ 2 × Papa Parse) and peak memory. Sizes: BENCH_CONTACTS / BENCH_NOTES / BENCH_TASKS.
//! Papa Parse comes from `npm install --prefix target/browser-bench papaparse@5.7.1`
//! (scripts/browser-tests.sh --bench does it); without it that column is skipped.

use std::time::{Duration, Instant};

use browser_tests::{Driver, Env, StaticServer, browser, root};
use exportgen::{Spec, generate};
use prep::{Confirmation, InputFile, Options, bundle, prepare};
use sha2::{Digest, Sha256};

const CONFIRMED_AT: &str = "2026-01-01T00:00:00Z";

/// The bench page: fetches the data first (the module locks `connect-src` once loaded),
/// then times the facade's `bundle` (prepare + write) and Papa Parse on the same files.
const BENCH_HTML: &str = r#"<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'">
<script src="papaparse.min.js"></script><script type="module" src="bench.js"></script></head>
<body>bench</body></html>"#;

const BENCH_JS: &str = r#"
import init, { Workspace } from './prep-wasm.js';
const runs = RUNS;
const names = NAMES;
const out = {};
try {
  const files = [];
  for (const n of names) files.push([n, new Uint8Array(await (await fetch('data/' + n)).arrayBuffer())]);
  const wasm = await init({ module_or_path: './prep-wasm_bg.wasm' });
  const ws = new Workspace(undefined);
  for (const [n, b] of files) ws.addFile(n, b);
  let best = Infinity, bundle;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    bundle = ws.bundle(null, 'Bench', 'CONFIRMED_AT');
    best = Math.min(best, performance.now() - t);
  }
  out.wasm_s = best / 1000;
  out.bundle_sha256 = [...new Uint8Array(await crypto.subtle.digest('SHA-256', bundle))]
    .map(b => b.toString(16).padStart(2, '0')).join('');
  out.wasm_memory = wasm.memory.buffer.byteLength;
  out.js_heap = performance.memory ? performance.memory.usedJSHeapSize : null;
  if (typeof Papa !== 'undefined') {
    const texts = files.filter(([n]) => n.toLowerCase().endsWith('.csv'))
      .map(([n, b]) => [n, new TextDecoder('windows-1252').decode(b), b.length]);
    let bestPapa = Infinity, rows = 0;
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      rows = 0;
      for (const [n, text] of texts) rows += Papa.parse(text, { delimiter: n.startsWith('Tasks') ? ';' : ',' }).data.length;
      bestPapa = Math.min(bestPapa, performance.now() - t);
    }
    out.papa_s = bestPapa / 1000;
    out.papa_rows = rows;
    out.papa_bytes = texts.reduce((s, [, , len]) => s + len, 0);
  }
} catch (e) { out.error = String(e && e.stack || e); }
window.__bench = out;
"#;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

#[tokio::main]
async fn main() -> Result {
    if std::env::args().any(|a| a == "--list") {
        return Ok(()); // `cargo test --benches` asks for a listing; there is nothing to list
    }
    let Some(env_) = Env::detect("browser benchmark") else {
        return Ok(());
    };
    let spec = Spec {
        seed: 42,
        contacts: env("BENCH_CONTACTS", 20_000),
        notes: env("BENCH_NOTES", 60_000),
        tasks: env("BENCH_TASKS", 4_000),
        side_files: false,
        every_kind: false,
    };
    let runs = env("BENCH_RUNS", 3);
    let (files, _) = generate(&spec);
    let inputs: Vec<InputFile> = files
        .into_iter()
        .map(|f| InputFile {
            name: f.name,
            bytes: f.bytes,
        })
        .collect();
    let mb = inputs.iter().map(|f| f.bytes.len()).sum::<usize>() as f64 / 1e6;
    println!(
        "export: {} contacts, {} notes, {} tasks = {mb:.1} MB",
        spec.contacts, spec.notes, spec.tasks
    );

    // Native: the same prepare + bundle write the facade's `bundle` runs.
    let options = Options {
        confirmation: Some(Confirmation {
            confirmed_by: "Bench".into(),
            confirmed_at: CONFIRMED_AT.into(),
        }),
        ..Options::default()
    };
    let mut native = f64::MAX;
    let mut native_bundle = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let p = prepare(&inputs, &options)?;
        native_bundle = bundle::to_bytes(&p)?;
        native = native.min(t.elapsed().as_secs_f64());
    }

    // The browser: dist/ plus the bench page, the data and Papa Parse, on 127.0.0.1.
    let site = tempfile::tempdir()?;
    for entry in std::fs::read_dir(&env_.dist)?.flatten() {
        std::fs::copy(entry.path(), site.path().join(entry.file_name()))?;
    }
    std::fs::create_dir_all(site.path().join("data"))?;
    let mut names = Vec::new();
    for f in &inputs {
        std::fs::write(site.path().join("data").join(&f.name), &f.bytes)?;
        names.push(f.name.clone());
    }
    let papa = std::env::var_os("PAPAPARSE").map_or_else(
        || root().join("target/browser-bench/node_modules/papaparse/papaparse.min.js"),
        Into::into,
    );
    if papa.exists() {
        std::fs::copy(&papa, site.path().join("papaparse.min.js"))?;
    } else {
        println!("Papa Parse not found at {} (skipped)", papa.display());
    }
    std::fs::write(site.path().join("bench.html"), BENCH_HTML)?;
    let js = BENCH_JS
        .replace("RUNS", &runs.to_string())
        .replace("NAMES", &serde_json::to_string(&names)?)
        .replace("CONFIRMED_AT", CONFIRMED_AT);
    std::fs::write(site.path().join("bench.js"), js)?;

    let server = StaticServer::start(site.path())?;
    let driver = Driver::start(&env_.chromedriver)?;
    let profile = tempfile::tempdir()?;
    let c = browser(&env_, &driver, profile.path(), profile.path()).await?;
    c.goto(&format!("{}/bench.html", server.origin)).await?;
    let deadline = Instant::now() + Duration::from_secs(600);
    let out = loop {
        let v = c.execute("return window.__bench ?? null", vec![]).await?;
        if !v.is_null() {
            break v;
        }
        if Instant::now() > deadline {
            return Err("the browser benchmark did not finish in 10 minutes".into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let _ = c.close().await;
    if let Some(e) = out.get("error") {
        return Err(format!("in the browser: {e}").into());
    }
    let get = |k: &str| out.get(k).and_then(|v| v.as_f64());
    let wasm = get("wasm_s").ok_or("no WASM timing")?;
    let same = out.get("bundle_sha256").and_then(|v| v.as_str())
        == Some(&format!("{:x}", Sha256::digest(&native_bundle))[..]);
    println!(
        "prepare + bundle, native   : {:>7.1} MB/s  ({native:.3}s)",
        mb / native
    );
    println!(
        "prepare + bundle, WASM     : {:>7.1} MB/s  ({wasm:.3}s, headless Chromium, main thread)",
        mb / wasm
    );
    println!(
        "ratio WASM / native        : {:.2}  (target ≥ 0.6)",
        native / wasm
    );
    if let (Some(papa_s), Some(papa_bytes)) = (get("papa_s"), get("papa_bytes")) {
        let papa_mb = papa_bytes / 1e6;
        println!(
            "Papa Parse 5.7.1 (CSV only): {:>7.1} MB/s  ({papa_s:.3}s, {} rows, strings decoded beforehand)",
            papa_mb / papa_s,
            out.get("papa_rows").unwrap_or(&serde_json::Value::Null)
        );
        println!(
            "ratio WASM / Papa Parse    : {:.2}  (target ≥ 2)",
            (mb / wasm) / (papa_mb / papa_s)
        );
    }
    println!(
        "same bundle bytes          : {}",
        if same { "yes" } else { "NO" }
    );
    if let Some(m) = get("wasm_memory") {
        println!(
            "peak WASM memory           : {:.0} MB (linear memory; it never shrinks)",
            m / 1e6
        );
    }
    if let Some(h) = get("js_heap") {
        println!("JS heap after the run      : {:.0} MB", h / 1e6);
    }
    if let Some(peak) = peak_rss_mb() {
        println!("peak RSS, native process   : {peak:.0} MB");
    }
    assert!(same, "the browser's bundle differs from the native one");
    Ok(())
}
