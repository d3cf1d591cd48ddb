//! The customer flow in real headless Chromium, driven over WebDriver: upload the sample
//! export, change one mapping, confirm, download; then check the bundle against the native
//! CLI byte for byte, that hostile text renders inert, and that the page fetched nothing but
//! its own assets. Skips (with a message) when chromium, chromedriver or `dist/` is missing.

use std::ffi::OsStr;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use browser_tests::{Driver, Env, StaticServer, browser, loader, root, wait_for_download};
use fantoccini::{Client, Locator};
use prep::bundle::Manifest;
use serde_json::{Value, json};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const WAIT: Duration = Duration::from_secs(60);

/// The page's own assets: the only paths the static server may see.
const ASSETS: [&str; 8] = [
    "/",
    "/index.html",
    "/boot.js",
    "/prep-wasm.js",
    "/prep-wasm_bg.wasm",
    "/style.css",
    "/favicon.svg",
    "/worker.js",
];

async fn js(c: &Client, script: &str) -> Result<Value> {
    Ok(c.execute(script, vec![]).await?)
}

/// Polls `script` (returning a boolean) until it is true.
async fn until(c: &Client, script: &str, what: &str) -> Result {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if js(c, script).await? == Value::Bool(true) {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            let status = js(c, "return document.getElementById('status')?.textContent + ' / ' + document.getElementById('error')?.textContent").await?;
            return Err(format!("timed out waiting for {what} (page says: {status})").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `flow` against a fresh browser and server; on failure saves a screenshot and the
/// page's text for whoever reads the CI log.
async fn session<F, Fut>(test: &str, failure_png: &str, flow: F) -> Result
where
    F: FnOnce(Client, StaticServer, PathBuf, PathBuf) -> Fut,
    Fut: Future<Output = (Client, StaticServer, Result)>,
{
    let Some(env) = Env::detect(test) else {
        return Ok(());
    };
    // One browser at a time: the machines have two cores, and each session starts its own
    // chromedriver on a port picked just before.
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = ONE_AT_A_TIME.lock().await;
    let server = StaticServer::start(&env.dist)?;
    let driver = Driver::start(&env.chromedriver)?;
    let tmp = tempfile::tempdir()?;
    let downloads = tmp.path().join("downloads");
    std::fs::create_dir_all(&downloads)?;
    let c = browser(&env, &driver, &tmp.path().join("profile"), &downloads).await?;
    let (c, server, outcome) = flow(c, server, downloads, tmp.path().to_path_buf()).await;
    if outcome.is_err() {
        let dir = root().join("target/browser-artifacts");
        if let (Ok(()), Ok(png)) = (std::fs::create_dir_all(&dir), c.screenshot().await) {
            let _ = std::fs::write(dir.join(failure_png), png);
        }
        if let Ok(text) = js(&c, "return document.body.innerText").await {
            eprintln!(
                "page text at failure:\n{}",
                text.as_str().unwrap_or_default()
            );
        }
        eprintln!("requests: {:?}", server.requests());
    }
    let _ = c.close().await;
    drop(driver);
    outcome
}

async fn open_page(c: &Client, server: &StaticServer) -> Result {
    c.goto(&format!("{}/index.html", server.origin)).await?;
    until(
        c,
        "return !document.getElementById('app').hidden",
        "the page to start",
    )
    .await?;
    // The preparation runs in a Web Worker (the page's fallback would say "in this page").
    let status = js(c, "return document.getElementById('status').textContent").await?;
    assert!(
        status
            .as_str()
            .is_some_and(|s| s.contains("background worker")),
        "status: {status}"
    );
    Ok(())
}

async fn wait_for_mapping(c: &Client) -> Result {
    until(
        c,
        "return document.querySelectorAll('[data-testid=mapping-table] select').length > 10 \
         && document.getElementById('status').textContent.startsWith('Prepared')",
        "the mapping table",
    )
    .await
}

/// What the customer takes away: the saved mapping, the bundle and the scope report.
struct Downloads {
    mapping: Vec<u8>,
    bundle: Vec<u8>,
    report: Vec<u8>,
}

/// WebDriver's code for the Enter key.
const ENTER: &str = "\u{E007}";

/// Saves the mapping, confirms as `name` (trying once without the checkbox, which must be
/// refused) and downloads the bundle and the report, with the mouse or the keyboard only.
async fn confirm_and_download(
    c: &Client,
    downloads: &Path,
    name: &str,
    keyboard: bool,
) -> Result<Downloads> {
    let press = |id: &'static str| async move {
        let e = c.find(Locator::Css(id)).await?;
        if keyboard {
            // Space toggles a checkbox; Enter activates buttons and links.
            let key = if id.contains("check") { " " } else { ENTER };
            e.send_keys(key).await
        } else {
            e.click().await
        }
    };
    press("#save-mapping").await?;
    let mapping = wait_for_download(downloads, "allclients.mapping.json", WAIT)?;
    c.find(Locator::Css("[data-testid=confirm-name]"))
        .await?
        .send_keys(name)
        .await?;
    press("[data-testid=confirm-button]").await?;
    until(
        c,
        "return document.getElementById('error').textContent.includes('Tick the box')",
        "the refusal without the checkbox",
    )
    .await?;
    assert_ne!(
        js(c, "return document.body.dataset.state ?? null").await?,
        json!("confirmed"),
        "confirmed without the checkbox"
    );
    press("[data-testid=confirm-check]").await?;
    press("[data-testid=confirm-button]").await?;
    until(
        c,
        "return document.body.dataset.state === 'confirmed'",
        "the confirmation",
    )
    .await?;
    press("[data-testid=download-bundle]").await?;
    let bundle = wait_for_download(downloads, "allclients.bundle.jsonl.gz", WAIT)?;
    press("[data-testid=download-report]").await?;
    let report = wait_for_download(downloads, "allclients.bundle.scope.md", WAIT)?;
    Ok(Downloads {
        mapping,
        bundle,
        report,
    })
}

/// Checks the page's downloads against `loader prepare --input INPUTS… --mapping M
/// --confirmed-by NAME --confirmed-at T` (T taken from the page's bundle): the same bundle
/// bytes and the same scope report.
fn same_as_cli(got: &Downloads, inputs: &[&Path], name: &str, tmp: &Path) -> Result<Manifest> {
    let (manifest, _) = prep::bundle::verify(&got.bundle[..])?;
    let confirmation = manifest
        .confirmation
        .clone()
        .ok_or("the page's bundle is not confirmed")?;
    assert_eq!(confirmation.confirmed_by, name);
    let at = confirmation.confirmed_at;
    assert!(
        at.len() == 20 && at.ends_with('Z'),
        "RFC 3339 whole seconds: {at}"
    );
    let m = tmp.join("page.mapping.json");
    std::fs::write(&m, &got.mapping)?;
    let out = tmp.join("cli/sample.bundle.jsonl.gz");
    let mut args: Vec<&OsStr> = vec![OsStr::new("prepare")];
    for input in inputs {
        args.extend([OsStr::new("--input"), input.as_os_str()]);
    }
    args.extend([
        OsStr::new("--out"),
        out.as_os_str(),
        OsStr::new("--mapping"),
        m.as_os_str(),
        OsStr::new("--confirmed-by"),
        OsStr::new(name),
        OsStr::new("--confirmed-at"),
        OsStr::new(&at),
    ]);
    // The page proposes the browser's own time zone; the CLI is told the same.
    let zone = manifest
        .settings
        .time_zone
        .clone()
        .ok_or("the page's bundle states no time zone")?;
    args.extend([OsStr::new("--time-zone"), OsStr::new(&zone)]);
    let run = loader(&args)?;
    assert!(
        run.status.success(),
        "loader prepare failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let cli = std::fs::read(&out)?;
    assert!(
        cli == got.bundle,
        "the page's bundle ({} bytes) differs from the CLI's ({} bytes)",
        got.bundle.len(),
        cli.len()
    );
    let cli_report = std::fs::read(tmp.join("cli/sample.bundle.scope.md"))?;
    assert_eq!(
        String::from_utf8_lossy(&got.report),
        String::from_utf8_lossy(&cli_report),
        "the page's scope report is the CLI's"
    );
    Ok(manifest)
}

#[tokio::test]
async fn customer_flow_matches_the_cli_and_stays_offline() -> Result {
    session(
        "customer_flow_matches_the_cli_and_stays_offline",
        "failure.png",
        |c, server, downloads, tmp| async move {
            let r = flow(&c, &server, &downloads, &tmp).await;
            (c, server, r)
        },
    )
    .await
}

/// The `file-input` path (several files picked at once, the template by its file name)
/// gives the bundle `loader prepare` gives for the same files named one by one; this run
/// confirms and downloads with the keyboard only.
#[tokio::test]
async fn picked_files_match_the_cli_file_by_file() -> Result {
    session(
        "picked_files_match_the_cli_file_by_file",
        "failure-picked.png",
        |c, server, downloads, tmp| async move {
            let r = picked_flow(&c, &server, &downloads, &tmp).await;
            (c, server, r)
        },
    )
    .await
}

/// Files dropped on the page are read like picked ones (a scripted drop: WebDriver cannot
/// drag from the desktop, so this covers the page's side of a drop, not the browser's).
#[tokio::test]
async fn dropped_files_are_prepared() -> Result {
    session(
        "dropped_files_are_prepared",
        "failure-dropped.png",
        |c, server, _downloads, _tmp| async move {
            let r = async {
                open_page(&c, &server).await?;
                js(
                    &c,
                    "const dt = new DataTransfer(); \
                     dt.items.add(new File(['Email,First Name\\r\\nada@example.com,Ada\\r\\n'], 'Contacts.csv')); \
                     dt.items.add(new File(['Email,Note\\r\\nada@example.com,hello\\r\\n'], 'Notes.csv')); \
                     document.getElementById('drop-zone').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true})); \
                     return true",
                )
                .await?;
                until(
                    &c,
                    "return document.querySelectorAll('[data-testid=mapping-table] select').length === 4 \
                     && document.getElementById('status').textContent.startsWith('Prepared')",
                    "the dropped files",
                )
                .await?;
                let files = js(
                    &c,
                    "return [...document.querySelectorAll('#files-table tbody th')].map(e => e.textContent)",
                )
                .await?;
                assert_eq!(files, json!(["Contacts.csv", "Notes.csv"]));
                Ok(())
            }
            .await;
            (c, server, r)
        },
    )
    .await
}

async fn picked_flow(c: &Client, server: &StaticServer, downloads: &Path, tmp: &Path) -> Result {
    open_page(c, server).await?;
    let sample = root().join("sample/allclients-export").canonicalize()?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&sample)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.push(sample.join("templates/Welcome.html"));
    files.sort();
    let keys: Vec<String> = files
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    // WebDriver takes several files for one input as newline-separated paths.
    c.find(Locator::Css("[data-testid=file-input]"))
        .await?
        .send_keys(&keys.join("\n"))
        .await?;
    wait_for_mapping(c).await?;
    let got = confirm_and_download(c, downloads, "Sam Picker", true).await?;
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let manifest = same_as_cli(&got, &inputs, "Sam Picker", tmp)?;
    assert!(manifest.inputs.iter().any(|i| i.file == "Welcome.html"));

    // Loading the saved mapping applies it whole (every column is now the customer's) and
    // withdraws the confirmation, since what is shown changed.
    c.find(Locator::Id("load-mapping"))
        .await?
        .send_keys(&tmp.join("page.mapping.json").to_string_lossy())
        .await?;
    until(
        c,
        "return document.getElementById('status').textContent.startsWith('Prepared') \
         && [...document.querySelectorAll('[data-testid=mapping-table] tbody tr')] \
              .every(tr => tr.textContent.includes('100 %'))",
        "the loaded mapping",
    )
    .await?;
    assert_ne!(
        js(c, "return document.body.dataset.state ?? null").await?,
        json!("confirmed")
    );
    Ok(())
}

async fn flow(c: &Client, server: &StaticServer, downloads: &Path, tmp: &Path) -> Result {
    open_page(c, server).await?;

    // 1. Upload the whole sample export as a folder (named like `loader prepare --input DIR`).
    let sample = root().join("sample/allclients-export").canonicalize()?;
    let folder = c.find(Locator::Id("folder-input")).await?;
    folder.send_keys(&sample.to_string_lossy()).await?;
    wait_for_mapping(c).await?;
    let files = js(
        c,
        "return [...document.querySelectorAll('#files-table tbody th')].map(e => e.textContent)",
    )
    .await?;
    assert!(
        files
            .as_array()
            .is_some_and(|f| f.contains(&json!("templates/Welcome.html"))),
        "files shown: {files}"
    );

    let artifacts = root().join("target/browser-artifacts");
    std::fs::create_dir_all(&artifacts)?;
    std::fs::write(artifacts.join("files.png"), c.screenshot().await?)?;

    // 2. Change one mapping: the Birthday column is not migrated.
    let birthday = c
        .find(Locator::Css(
            "[data-testid=mapping-table] select[data-kind=contacts][data-source=Birthday]",
        ))
        .await?;
    birthday.select_by_value("ignore").await?;
    until(
        c,
        "const s = document.querySelector('select[data-kind=contacts][data-source=Birthday]'); \
         return !!s && s.value === 'ignore' && document.getElementById('status').textContent.startsWith('Prepared');",
        "the edited mapping to be prepared",
    )
    .await?;
    assert!(
        js(c, "return document.querySelector('select[data-source=Birthday]').closest('tr').textContent").await?
            .as_str()
            .is_some_and(|t| t.contains("100 %")),
        "an edited column shows the customer's choice"
    );

    // The mapping screen, for people to look at.
    js(
        c,
        "document.getElementById('step-mapping').scrollIntoView(); return true",
    )
    .await?;
    std::fs::write(artifacts.join("mapping.png"), c.screenshot().await?)?;

    // 3. Save the mapping, confirm, download; (a) byte-identical to the native CLI.
    let got = confirm_and_download(c, downloads, "Pat Owner", false).await?;
    let manifest = same_as_cli(&got, &[sample.as_path()], "Pat Owner", tmp)?;

    // The other screens, for people to look at.
    for (section, png) in [
        ("step-review", "review.png"),
        ("step-confirm", "confirm.png"),
    ] {
        js(
            c,
            &format!("document.getElementById('{section}').scrollIntoView(); return true"),
        )
        .await?;
        std::fs::write(artifacts.join(png), c.screenshot().await?)?;
    }

    // A review queue downloads as the CLI's spreadsheet-safe CSV of the same queue.
    c.find(Locator::Css("button[data-reason=orphan_note]"))
        .await?
        .click()
        .await?;
    let queue = wait_for_download(downloads, "review-orphan_note.csv", WAIT)?;
    let cli_queue = std::fs::read(tmp.join("cli/sample.bundle.review/orphan_note.csv"))?;
    assert!(
        queue == cli_queue,
        "the orphan-note queue differs from the CLI's"
    );
    assert!(
        !manifest.custom_fields.iter().any(|d| d.label == "Birthday"),
        "the edit is in the bundle"
    );

    // (b) Hostile text renders inert. The sample's XSS note loads as a note (not shown on
    // the page), so an orphan note and a column header carrying the same payloads are added:
    // both are drawn (review queue, mapping table).
    let hostile = tmp.join("0-hostile-notes.csv");
    std::fs::write(
        &hostile,
        "Email,Date,Note,<img src=x onerror=alert('header')>\r\n\
         nobody@xss.invalid,1/2/2020,\"<img src=x onerror=alert('xss')><script>window.__xss=1</script> pasted\",<b>bold</b>\r\n",
    )?;
    c.find(Locator::Css("[data-testid=file-input]"))
        .await?
        .send_keys(&hostile.to_string_lossy())
        .await?;
    until(
        c,
        "return document.querySelector('[data-testid=review-queues]').textContent.includes('<script>window.__xss=1</script>')",
        "the hostile note in the review queue",
    )
    .await?;
    assert_ne!(
        js(c, "return document.body.dataset.state ?? null").await?,
        json!("confirmed"),
        "a change withdraws the confirmation"
    );
    let dom = js(
        c,
        "return {imgs: document.querySelectorAll('img').length, \
                 bolds: document.querySelectorAll('main b').length, \
                 scripts: [...document.scripts].map(s => s.getAttribute('src')), \
                 xss: window.__xss ?? null, \
                 header: document.getElementById('mapping-table').textContent.includes(\"<img src=x onerror=alert('header')>\")}",
    )
    .await?;
    assert_eq!(
        dom,
        json!({"imgs": 0, "bolds": 0, "scripts": ["./boot.js"], "xss": null, "header": true}),
        "hostile text is shown as text and nothing ran"
    );
    match c.get_alert_text().await {
        Err(e) if e.is_no_such_alert() => {}
        other => panic!("an alert is open or the check failed: {other:?}"),
    }

    // (c) Nothing but the page's own assets was requested, and the page cannot connect
    // anywhere any more (connect-src 'none' after start-up).
    let blocked = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch('/probe').then(() => done('fetched'), e => done('blocked: ' + e));",
            vec![],
        )
        .await?;
    assert!(
        blocked.as_str().is_some_and(|s| s.starts_with("blocked")),
        "fetch after start-up: {blocked}"
    );
    let origin = &server.origin;
    let entries = js(
        c,
        "return performance.getEntriesByType('resource').map(e => e.name)",
    )
    .await?;
    for name in entries.as_array().into_iter().flatten() {
        let name = name.as_str().unwrap_or_default();
        assert!(name.starts_with(origin.as_str()), "the page loaded {name}");
    }
    let requests = server.requests();
    assert!(
        requests.iter().all(|p| ASSETS.contains(&p.as_str())),
        "requests beyond the page's assets: {requests:?}"
    );
    assert!(requests.iter().any(|p| p == "/prep-wasm_bg.wasm"));
    println!("requests: {requests:?}");
    Ok(())
}
