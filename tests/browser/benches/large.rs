//! `cargo bench -p browser-tests --bench large`: the page issue's large export, a 200 MB
//! Contacts.csv and a 600 MB Notes.csv (LARGE_CONTACTS_MB / LARGE_NOTES_MB), dropped on the
//! real page in headless Chromium. Prints how long the analysis and the confirmation took,
//! the peak memory of the browser's processes (sampled from /proc), and checks the
//! downloaded bundle. The export is generated once into target/browser-large/.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use browser_tests::{Driver, Env, StaticServer, browser, root, wait_for_download};
use exportgen::{Spec, generate};
use fantoccini::{Client, Locator};
use serde_json::Value;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn env_mb(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Bytes per row of each file, from a small export of the same generator.
fn bytes_per_row() -> (f64, f64) {
    let (files, _) = generate(&Spec {
        seed: 5,
        contacts: 5000,
        notes: 5000,
        tasks: 0,
        side_files: false,
        every_kind: false,
    });
    let size = |n: &str| {
        files
            .iter()
            .find(|f| f.name == n)
            .map_or(1.0, |f| f.bytes.len() as f64)
    };
    (size("Contacts.csv") / 5000.0, size("Notes.csv") / 5000.0)
}

/// The export, generated once per size.
fn export(contacts_mb: f64, notes_mb: f64) -> Result<Vec<PathBuf>> {
    let dir = root().join(format!("target/browser-large/{contacts_mb}-{notes_mb}"));
    let paths = vec![dir.join("Contacts.csv"), dir.join("Notes.csv")];
    if paths.iter().all(|p| p.exists()) {
        return Ok(paths);
    }
    let (per_contact, per_note) = bytes_per_row();
    let spec = Spec {
        seed: 8,
        contacts: (contacts_mb * 1e6 / per_contact) as usize,
        notes: (notes_mb * 1e6 / per_note) as usize,
        tasks: 0,
        side_files: false,
        every_kind: false,
    };
    let (files, _) = generate(&spec);
    std::fs::create_dir_all(&dir)?;
    for f in files {
        std::fs::write(dir.join(&f.name), &f.bytes)?;
    }
    Ok(paths)
}

/// Resident memory (MB) of every process whose command line mentions `marker`.
fn rss_mb(marker: &str) -> Vec<f64> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let p = e.path();
        let cmd = std::fs::read(p.join("cmdline")).unwrap_or_default();
        if !String::from_utf8_lossy(&cmd).contains(marker) {
            continue;
        }
        let status = std::fs::read_to_string(p.join("status")).unwrap_or_default();
        if let Some(kb) = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
        {
            out.push(kb / 1024.0);
        }
    }
    out
}

async fn js(c: &Client, script: &str) -> Result<Value> {
    Ok(c.execute(script, vec![]).await?)
}

async fn until(c: &Client, script: &str, what: &str, limit: Duration) -> Result {
    let deadline = Instant::now() + limit;
    loop {
        if js(c, script).await? == Value::Bool(true) {
            return Ok(());
        }
        let error = js(
            c,
            "return document.getElementById('error')?.textContent || ''",
        )
        .await?;
        if error.as_str().is_some_and(|e| !e.trim().is_empty()) {
            return Err(format!("the page reports, waiting for {what}: {error}").into());
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The worker's WASM memory so far (it only grows), as the page exposes it.
async fn wasm_bytes(c: &Client) -> Option<f64> {
    js(c, "return document.body.dataset.workerWasmMemory || null")
        .await
        .ok()
        .and_then(|v| v.as_str().and_then(|s| s.parse::<f64>().ok()))
}

/// [`wasm_bytes`] for a line of the report.
async fn wasm_mb(c: &Client) -> String {
    wasm_bytes(c)
        .await
        .map_or("unknown".into(), |b| format!("{:.0} MiB", b / 1048576.0))
}

#[tokio::main]
async fn main() -> Result {
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    let Some(env) = Env::detect("large") else {
        return Ok(());
    };
    let (contacts_mb, notes_mb) = (
        env_mb("LARGE_CONTACTS_MB", 200.0),
        env_mb("LARGE_NOTES_MB", 600.0),
    );
    let files = export(contacts_mb, notes_mb)?;
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    println!(
        "export: {} ({:.0} MB) + {} ({:.0} MB)",
        files[0].display(),
        std::fs::metadata(&files[0])?.len() as f64 / 1e6,
        files[1].display(),
        std::fs::metadata(&files[1])?.len() as f64 / 1e6
    );
    let server = StaticServer::start(&env.dist)?;
    let driver = Driver::start(&env.chromedriver)?;
    let tmp = tempfile::tempdir()?;
    let downloads = tmp.path().join("downloads");
    std::fs::create_dir_all(&downloads)?;
    let profile = tmp.path().join("profile");
    let c = browser(&env, &driver, &profile, &downloads).await?;

    // Sample the browser's memory while it works.
    let marker = profile.display().to_string();
    let stop = Arc::new(AtomicBool::new(false));
    let peaks = Arc::new(Mutex::new((0.0f64, 0.0f64)));
    let sampler = {
        let (stop, peaks, marker) = (stop.clone(), peaks.clone(), marker.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let rss = rss_mb(&marker);
                let largest = rss.iter().cloned().fold(0.0, f64::max);
                let sum: f64 = rss.iter().sum();
                if let Ok(mut p) = peaks.lock() {
                    p.0 = p.0.max(largest);
                    p.1 = p.1.max(sum);
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };

    let outcome: Result = async {
        c.goto(&format!("{}/index.html", server.origin)).await?;
        until(
            &c,
            "return !document.getElementById('app').hidden",
            "the page",
            Duration::from_secs(60),
        )
        .await?;
        let started = Instant::now();
        let keys: Vec<String> = files
            .iter()
            .map(|f| f.canonicalize().map(|p| p.display().to_string()))
            .collect::<std::io::Result<_>>()?;
        c.find(Locator::Css("[data-testid=file-input]"))
            .await?
            .send_keys(&keys.join("\n"))
            .await?;
        until(
            &c,
            "return document.getElementById('status').textContent.startsWith('Prepared')",
            "the analysis",
            Duration::from_secs(1800),
        )
        .await?;
        let analysed = started.elapsed().as_secs_f64();
        println!(
            "read + analysed in {analysed:.1}s (WASM memory {})",
            wasm_mb(&c).await
        );
        // A change the customer makes (here the time zone) prepares the export again, from
        // the tables read the first time: what every fix costs.
        let again = Instant::now();
        js(
            &c,
            "document.getElementById('status').textContent = ''; \
             const z = document.getElementById('time-zone'); \
             z.value = 'America/Chicago'; z.dispatchEvent(new Event('change')); return true",
        )
        .await?;
        until(
            &c,
            "return document.getElementById('status').textContent.startsWith('Prepared')",
            "the analysis after a change",
            Duration::from_secs(1800),
        )
        .await?;
        println!(
            "prepared again after a change in {:.1}s (WASM memory {})",
            again.elapsed().as_secs_f64(),
            wasm_mb(&c).await
        );
        let before_confirm = started.elapsed().as_secs_f64();
        c.find(Locator::Css("[data-testid=confirm-name]"))
            .await?
            .send_keys("Large Export")
            .await?;
        c.find(Locator::Css("[data-testid=confirm-check]"))
            .await?
            .click()
            .await?;
        c.find(Locator::Css("[data-testid=confirm-button]"))
            .await?
            .click()
            .await?;
        until(
            &c,
            "return document.body.dataset.state === 'confirmed'",
            "the confirmation",
            Duration::from_secs(1800),
        )
        .await?;
        println!(
            "confirmed (bundle built) in {:.1}s more (WASM memory {})",
            started.elapsed().as_secs_f64() - before_confirm,
            wasm_mb(&c).await
        );
        c.find(Locator::Css("[data-testid=download-bundle]"))
            .await?
            .click()
            .await?;
        let bundle = wait_for_download(
            &downloads,
            "allclients.bundle.jsonl.gz",
            Duration::from_secs(600),
        )?;
        let (manifest, _) = prep::bundle::verify(&bundle[..])?;
        println!(
            "bundle: {:.0} MB, {} records, contacts loaded {}, notes loaded {} (rows {})",
            bundle.len() as f64 / 1e6,
            manifest.records,
            manifest.objects.contacts.loaded,
            manifest.objects.notes.loaded,
            manifest.objects.notes.rows_in
        );
        println!(
            "throughput: {:.1} MB/s of export, end to end",
            total as f64 / 1e6 / started.elapsed().as_secs_f64()
        );
        Ok(())
    }
    .await;
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    if let Some(bytes) = wasm_bytes(&c).await {
        println!(
            "peak WASM memory of the worker: {:.0} MiB ({:.0} MB) of the 4096 MiB a wasm32 memory can have",
            bytes / 1048576.0,
            bytes / 1e6
        );
    }
    let (largest, sum) = *peaks.lock().map_err(|_| "sampler")?;
    println!(
        "peak memory: largest browser process {largest:.0} MB, all browser processes {sum:.0} MB (sampled every 200 ms)"
    );
    let _ = c.close().await;
    drop(driver);
    if let Err(e) = &outcome {
        println!("FAILED: {e}");
    }
    outcome
}
